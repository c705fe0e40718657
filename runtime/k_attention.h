/*
 * k_attention.h: scaled dot-product attention (ONNX Attention 23/24/25)
 * and rotary position embedding (RotaryEmbedding 23).
 *
 * Attention works one query row at a time: scores against every key (past
 * keys first, then the new ones), softcap, the additive bias (float mask,
 * boolean mask, causal frontier, sliding window, non-padding length: a
 * disallowed key scores -inf), softmax, and the weighted sum of values.  A
 * row whose keys are all disallowed gives zeros (not NaN), in Y and in the
 * mode-3 qk output.  Arithmetic is float (double for float64 tensors);
 * float16 tensors are converted on load and rounded to nearest even on
 * store.  Q/K/V/Y are addressed with (batch, head, position) strides so
 * that the 3-D [batch, seq, heads*size] and 4-D [batch, heads, seq, size]
 * layouts share one kernel; past and present key/value caches are 4-D.
 */
#ifndef MRTC_K_ATTENTION_H
#define MRTC_K_ATTENTION_H
#include "k_common.h"
#include "k_cast.h"

typedef struct KAttn {
  int64_t B, Hq, Hkv, Sq, Skv, P, Tot, D, Dv;
  int64_t qs[3], ys[3];               /* Q / Y strides of batch, head, position */
  int64_t ms[4], Tm;                  /* mask strides (b, h, i, j); keys >= Tm are masked */
  float scale, softcap;
  int causal, mode;                   /* mode: what qk output holds (0..3) */
  int64_t lwin, rwin;                 /* sliding window, -1 = unbounded */
} KAttn;

MRTC_FN float k_attn_h2f(uint16_t h) { return k_h2f(h); }
MRTC_FN uint16_t k_attn_f2h(float f) { return k_d2h((double)f); }

/* mask value: bool (ONNX 9): 1 allowed / 0 disallowed -> 0 / -inf; float types added */
MRTC_FN double k_attn_mask(const void *m, int mt, int64_t i) {
  switch (mt) {
  case 9: return ((const uint8_t *)m)[i] ? 0.0 : -INFINITY;
  case 1: return ((const float *)m)[i];
  case 10: return k_h2f(((const uint16_t *)m)[i]);
  case 11: return ((const double *)m)[i];
  default: return 0.0;
  }
}

#define MRTC_ATTN(T, A, tag, LD, ST)                                                                                  \
  /* present[b][h][t] = t < P ? past[b][h][t] : cur[b][h][t - P] (cur strided), rows of n elements */                 \
  MRTC_FN void k_attn_concat_##tag(const KAttn *s, const T *past, const T *cur, const int64_t *cs, int64_t n,         \
                                   T *pres) {                                                                         \
    int64_t b, h, t;                                                                                                  \
    for (b = 0; b < s->B; b++)                                                                                        \
      for (h = 0; h < s->Hkv; h++)                                                                                    \
        for (t = 0; t < s->Tot; t++) {                                                                                \
          T *dst = pres + ((b * s->Hkv + h) * s->Tot + t) * n;                                                        \
          const T *src = t < s->P ? past + ((b * s->Hkv + h) * s->P + t) * n : cur + b * cs[0] + h * cs[1] +          \
                                                                                  (t - s->P) * cs[2];                 \
          memcpy(dst, src, sizeof(T) * (size_t)n);                                                                    \
        }                                                                                                             \
  }                                                                                                                   \
  /* k, v: the full key/value sequences (length T) with strides ks/vs (4-D present when P > 0) */                     \
  MRTC_FN void k_attention_##tag(const KAttn *s, const T *q, const T *k, const int64_t *ks, const T *v,               \
                                 const int64_t *vs, const void *mask, int mt, const int64_t *nonpad, T *y, T *qk,     \
                                 A *sc) {                                                                             \
    int64_t b, h, i, j, d, grp = s->Hq / s->Hkv, D8 = s->D / 8 * 8;                                                   \
    A *acc = sc + s->Tot;                                                                                             \
    for (b = 0; b < s->B; b++)                                                                                        \
      for (h = 0; h < s->Hq; h++) {                                                                                   \
        int64_t hk = h / grp;                                                                                         \
        const T *kb = k + b * ks[0] + hk * ks[1], *vb = v + b * vs[0] + hk * vs[1];                                   \
        for (i = 0; i < s->Sq; i++) {                                                                                 \
          const T *qr = q + b * s->qs[0] + h * s->qs[1] + i * s->qs[2];                                               \
          T *yr = y + b * s->ys[0] + h * s->ys[1] + i * s->ys[2];                                                     \
          T *qo = qk ? qk + ((b * s->Hq + h) * s->Sq + i) * s->Tot : 0;                                               \
          int64_t off = nonpad && !s->P ? nonpad[b] - s->Sq : s->P, pos = off + i;                                    \
          int64_t lim = nonpad ? nonpad[b] : s->Tot;                                                                  \
          A mx = -(A)INFINITY, sum = 0;                                                                               \
          for (j = 0; j < s->Tot; j++) {                                                                              \
            const T *kr = kb + j * ks[2];                                                                             \
            A dot, x, part[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                             \
            double bias = 0;                                                                                          \
            int l;                                                                                                    \
            if (mask) {                                                                                               \
              if (j < s->Tm)                                                                                          \
                bias += k_attn_mask(mask, mt, b * s->ms[0] + h * s->ms[1] + i * s->ms[2] + j * s->ms[3]);             \
              else                                                                                                    \
                bias = -INFINITY;                                                                                     \
            }                                                                                                         \
            if (s->causal && j > pos) bias = -INFINITY;                                                               \
            if (s->lwin >= 0 && j < pos - s->lwin) bias = -INFINITY;                                                  \
            if (s->rwin >= 0 && j > pos + s->rwin) bias = -INFINITY;                                                  \
            if (j >= lim) bias = -INFINITY;                                                                           \
            if (bias == -INFINITY && (!qo || s->mode >= 2)) { /* disallowed: the score is not needed */               \
              if (qo) qo[j] = ST(-(A)INFINITY);                                                                       \
              sc[j] = -(A)INFINITY;                                                                                   \
              continue;                                                                                               \
            }                                                                                                         \
            for (d = 0; d < D8; d += 8) /* 8 partial sums: vectorizable */                                            \
              for (l = 0; l < 8; l++) part[l] += (A)LD(qr[d + l]) * (A)LD(kr[d + l]);                                 \
            for (d = D8; d < s->D; d++) part[0] += (A)LD(qr[d]) * (A)LD(kr[d]);                                       \
            dot = ((part[0] + part[4]) + (part[2] + part[6])) + ((part[1] + part[5]) + (part[3] + part[7]));          \
            x = dot * (A)s->scale;                                                                                    \
            if (qo && s->mode == 0) qo[j] = ST(x);                                                                    \
            if (s->softcap > 0) x = (A)s->softcap * (A)tanh((double)(x / (A)s->softcap));                             \
            if (qo && s->mode == 1) qo[j] = ST(x);                                                                    \
            x = (A)((double)x + bias);                                                                                \
            if (qo && s->mode == 2) qo[j] = ST(x);                                                                    \
            sc[j] = x;                                                                                                \
            if (x > mx) mx = x;                                                                                       \
          }                                                                                                           \
          for (d = 0; d < s->Dv; d++) acc[d] = 0;                                                                     \
          if (mx == -(A)INFINITY) { /* every key disallowed: a zero row */                                            \
            for (j = 0; j < s->Tot; j++) sc[j] = 0;                                                                   \
          } else {                                                                                                    \
            for (j = 0; j < s->Tot; j++) {                                                                            \
              sc[j] = (A)exp((double)(sc[j] - mx));                                                                   \
              sum += sc[j];                                                                                           \
            }                                                                                                         \
            for (j = 0; j < s->Tot; j++) sc[j] /= sum;                                                                \
          }                                                                                                           \
          for (j = 0; j < s->Tot; j++) {                                                                              \
            const T *vr = vb + j * vs[2];                                                                             \
            A p = sc[j];                                                                                              \
            if (qo && s->mode == 3) qo[j] = ST(p);                                                                    \
            if (p == 0) continue;                                                                                     \
            for (d = 0; d < s->Dv; d++) acc[d] += p * (A)LD(vr[d]);                                                   \
          }                                                                                                           \
          for (d = 0; d < s->Dv; d++) yr[d] = ST(acc[d]);                                                             \
        }                                                                                                             \
      }                                                                                                               \
  }

#define MRTC_ID(x) (x)
#define MRTC_TOF32(x) ((float)(x))
MRTC_ATTN(float, float, f32, MRTC_ID, MRTC_TOF32)
MRTC_ATTN(double, double, f64, MRTC_ID, MRTC_ID)
MRTC_ATTN(uint16_t, float, f16, k_attn_h2f, k_attn_f2h)

/* RotaryEmbedding.  x: [B, S, H, D] addressed with strides xs (b, s, h) and
 * written to y with the same layout; cos/sin caches [max_pos, R/2] (or
 * [B, S, R/2] when pos is NULL: row b*S + s); pos [B, S] int64 or NULL.
 * The first R = rot dims rotate (pairs (k, k + R/2), or (2k, 2k+1) when
 * interleaved); the rest are copied.  npos: rows of the caches. */
#define MRTC_ROPE(T, tag, LD, ST)                                                                                     \
  MRTC_FN void k_rope_##tag(int64_t B, int64_t S, int64_t H, int64_t D, int64_t R, const int64_t *xs, const T *x,     \
                            const T *cosc, const T *sinc, const int64_t *pos, int64_t npos, int interleaved, T *y) {  \
    int64_t b, t, h, k, half = R / 2;                                                                                 \
    for (b = 0; b < B; b++)                                                                                           \
      for (t = 0; t < S; t++) {                                                                                       \
        int64_t row = pos ? pos[b * S + t] : b * S + t;                                                               \
        if (row < 0) row = 0; /* out-of-range positions are clamped (the reference raises) */                         \
        if (pos && row >= npos) row = npos - 1;                                                                       \
        const T *cr = cosc + row * half, *sr = sinc + row * half;                                                     \
        for (h = 0; h < H; h++) {                                                                                     \
          const T *xr = x + b * xs[0] + t * xs[1] + h * xs[2];                                                        \
          T *yr = y + b * xs[0] + t * xs[1] + h * xs[2];                                                              \
          for (k = 0; k < half; k++) {                                                                                \
            int64_t i1 = interleaved ? 2 * k : k, i2 = interleaved ? 2 * k + 1 : k + half;                            \
            float c = (float)LD(cr[k]), sn = (float)LD(sr[k]), x1 = (float)LD(xr[i1]), x2 = (float)LD(xr[i2]);        \
            yr[i1] = ST(x1 * c - x2 * sn);                                                                            \
            yr[i2] = ST(x2 * c + x1 * sn);                                                                            \
          }                                                                                                           \
          for (k = R; k < D; k++) yr[k] = xr[k];                                                                      \
        }                                                                                                             \
      }                                                                                                               \
  }
MRTC_ROPE(float, f32, MRTC_ID, MRTC_TOF32)
MRTC_ROPE(uint16_t, f16, k_attn_h2f, k_attn_f2h)

#endif
