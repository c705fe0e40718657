/*
 * k_fp16.h: mrtc's fp16 layers (quantize.c lowers Conv, Gemm and MatMul
 * with constant weights onto them).  Weights and activations are stored as
 * IEEE half-precision bit patterns (uint16_t, so the code is C99 on every
 * target); arithmetic is float: each product is accumulated in float and
 * the result rounded to half (nearest even) once per output element.
 * Bias stays float; a fused activation (the numbers are runtime/k_gemm.h's
 * MRTC_ACT_*, as in Node.fuse_act) and a fused residual (half) are applied
 * in float before the rounding.
 */
#ifndef MRTC_K_FP16_H
#define MRTC_K_FP16_H
#include "k_common.h"

MRTC_FN float k_half_to_f32(uint16_t h) {
  uint32_t s = (uint32_t)(h >> 15) & 1u, e = (uint32_t)(h >> 10) & 31u, m = (uint32_t)h & 1023u, x;
  float f;
  if (e == 0) {
    f = (float)m * (1.0f / 16777216.0f); /* subnormal: m * 2^-24, exact */
    return s ? -f : f;
  }
  if (e == 31) x = (s << 31) | 0x7f800000u | (m << 13);
  else x = (s << 31) | ((e + 112u) << 23) | (m << 13);
  memcpy(&f, &x, 4);
  return f;
}

/* round to nearest even; overflow to infinity; NaN stays NaN */
MRTC_FN uint16_t k_f32_to_half(float f) {
  uint32_t x, s, m, hm, rem, r;
  int e, he;
  memcpy(&x, &f, 4);
  s = (x >> 16) & 0x8000u;
  e = (int)((x >> 23) & 255u);
  m = x & 0x7fffffu;
  if (e == 255) return (uint16_t)(s | 0x7c00u | (m ? 0x200u : 0u));
  he = e - 127 + 15;
  if (he >= 31) return (uint16_t)(s | 0x7c00u);
  if (he <= 0) {
    uint32_t half;
    int shift;
    if (he < -10) return (uint16_t)s;
    m |= 0x800000u;
    shift = 14 - he;
    hm = m >> shift;
    rem = m & ((1u << shift) - 1u);
    half = 1u << (shift - 1);
    if (rem > half || (rem == half && (hm & 1u))) hm++;
    return (uint16_t)(s | hm);
  }
  hm = m >> 13;
  rem = m & 0x1fffu;
  r = s | ((uint32_t)he << 10) | hm;
  if (rem > 0x1000u || (rem == 0x1000u && (hm & 1u))) r++;
  return (uint16_t)r;
}

MRTC_FN void k_f32_to_f16(int64_t n, const float *x, uint16_t *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = k_f32_to_half(x[i]);
}

MRTC_FN void k_f16_to_f32(int64_t n, const uint16_t *x, float *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = k_half_to_f32(x[i]);
}

/* the fused activations of Node.fuse_act */
MRTC_FN float k_h_act(float v, int act, float p0, float p1) {
  switch (act) {
  case 1: return v > 0.0f ? v : 0.0f;
  case 2: return v < p0 ? p0 : v > p1 ? p1 : v;
  case 3: return v >= 0.0f ? v : v * p0;
  case 4: v = v * p0 + p1; return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
  case 5: {
    float t = v / 6.0f + 0.5f;
    return v * (t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t);
  }
  case 6: return 1.0f / (1.0f + expf(-v));
  case 7: return tanhf(v);
  default: return v;
  }
}

typedef struct {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G;
  int act;
  float p0, p1;
} KHConv;

#define MRTC_HTILE 64

/* scratch floats: accumulators and one tile of gathered input */
MRTC_FN int64_t k_hconv_scratch(const KHConv *s) { return MRTC_HTILE + s->C / s->G * s->KH * s->KW * MRTC_HTILE; }

MRTC_FN void k_hconv(const KHConv *s, const uint16_t *x, const uint16_t *w, const float *bias, const uint16_t *res, uint16_t *y,
                     float *scratch) {
  int64_t cg = s->C / s->G, mg = s->M / s->G, K = cg * s->KH * s->KW, P = s->OH * s->OW;
  float *acc = scratch, *col = scratch + MRTC_HTILE;
  int64_t n, g, p0, m, k, t, c, kh, kw;
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      const uint16_t *xg = x + (n * s->C + g * cg) * s->H * s->W;
      for (p0 = 0; p0 < P; p0 += MRTC_HTILE) {
        int64_t T = P - p0 < MRTC_HTILE ? P - p0 : MRTC_HTILE;
        for (c = 0; c < cg; c++)
          for (kh = 0; kh < s->KH; kh++)
            for (kw = 0; kw < s->KW; kw++) {
              float *cr = col + ((c * s->KH + kh) * s->KW + kw) * T;
              const uint16_t *xc = xg + c * s->H * s->W;
              int64_t oh = p0 / s->OW, ow = p0 % s->OW;
              for (t = 0; t < T; t++) {
                int64_t ih = oh * s->SH - s->PT + kh * s->DH, iw = ow * s->SW - s->PL + kw * s->DW;
                cr[t] = (ih >= 0 && ih < s->H && iw >= 0 && iw < s->W) ? k_half_to_f32(xc[ih * s->W + iw]) : 0.0f;
                if (++ow == s->OW) {
                  ow = 0;
                  oh++;
                }
              }
            }
        for (m = 0; m < mg; m++) {
          int64_t mm = g * mg + m;
          const uint16_t *wm = w + mm * K;
          uint16_t *yo = y + (n * s->M + mm) * P + p0;
          const uint16_t *ro = res ? res + (n * s->M + mm) * P + p0 : 0;
          float b = bias ? bias[mm] : 0.0f;
          for (t = 0; t < T; t++) acc[t] = b;
          for (k = 0; k < K; k++) {
            float wv = k_half_to_f32(wm[k]);
            const float *cr = col + k * T;
            for (t = 0; t < T; t++) acc[t] += wv * cr[t];
          }
          for (t = 0; t < T; t++) {
            float v = acc[t];
            if (ro) v += k_half_to_f32(ro[t]);
            yo[t] = k_f32_to_half(k_h_act(v, s->act, s->p0, s->p1));
          }
        }
      }
    }
}

typedef struct {
  int64_t rows, K, N; /* X rows x K, W N x K, Y rows x N */
  int act;
  float p0, p1;
} KHGemm;

/* scratch floats: one row of X */
MRTC_FN void k_hgemm(const KHGemm *s, const uint16_t *x, const uint16_t *w, const float *bias, const uint16_t *res, uint16_t *y,
                     float *scratch) {
  int64_t r, n, k;
  for (r = 0; r < s->rows; r++) {
    for (k = 0; k < s->K; k++) scratch[k] = k_half_to_f32(x[r * s->K + k]);
    for (n = 0; n < s->N; n++) {
      const uint16_t *wn = w + n * s->K;
      float acc = bias ? bias[n] : 0.0f;
      for (k = 0; k < s->K; k++) acc += k_half_to_f32(wn[k]) * scratch[k];
      if (res) acc += k_half_to_f32(res[r * s->N + n]);
      y[r * s->N + n] = k_f32_to_half(k_h_act(acc, s->act, s->p0, s->p1));
    }
  }
}

#endif
