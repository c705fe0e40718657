/*
 * k_dwconv.h: depthwise convolution (groups == input channels, any channel
 * multiplier), NCHW, with the fused epilogue of k_gemm.h.
 *
 * AVX-512: per image and input channel, the input is copied once into the
 * zero-padded phase planes of k_conv.h (k_conv_phase_f32 with one
 * channel), so tap (kh, kw) of output pixel q = oh * WQ + ow is
 * plane[q + koff[tap]]: the whole channel is ONE contiguous loop over q,
 * four vectors of 16 outputs at a time, each tap a load and a multiply-add
 * (a 7x7 map costs 4 vectors, not 7 rows).  The WQ - OW junk columns of
 * each row are squeezed out in the store: per vector, a lane mask and a
 * destination (the same for every channel, computed once) drive a register
 * compress and a masked store; a residual comes in by the inverse expand.
 *
 * 3x3 with unit dilation, stride 1 (pads 1) or 2, skips all that: taps are
 * masked loads straight from X (see k_dw3s1_512 and k_dw3s2_512 below).
 *
 * Other targets: per channel one padded plane (columns split into SW
 * phases), then per output row every tap is a contiguous run of one padded
 * row.  Scratch: k_dwconv_scratch(s) floats.
 */
#ifndef MRTC_K_DWCONV_H
#define MRTC_K_DWCONV_H
#include "k_conv.h"

/* padded plane geometry: rows, phase-plane width */
MRTC_FN void k_dwconv_geom(const KConvShape *s, int64_t *hp, int64_t *wq) {
  int64_t h = (s->OH - 1) * s->SH + (s->KH - 1) * s->DH + 1, w = (s->OW - 1) * s->SW + (s->KW - 1) * s->DW + 1;
  if (h < s->H + s->PT) h = s->H + s->PT;
  if (w < s->W + s->PL) w = s->W + s->PL;
  *hp = h;
  *wq = (w + s->SW - 1) / s->SW;
}

/* floats: AVX-512 needs phase planes (+ slack: the loop reads up to 63 past the last pixel), tap offsets and
 * lane tables; other targets one padded plane.  The larger, so model.c builds for any target. */
MRTC_FN int64_t k_dwconv_scratch(const KConvShape *s) {
  int64_t hp, wq, hq, wq2, a, b;
  k_dwconv_geom(s, &hp, &wq);
  k_conv_planes(s, &hq, &wq2);
  a = s->SH * s->SW * hq * wq2 + wq2 + 128 + 16 + 2 * s->KH * s->KW + 16 + (s->OH * wq2 + 15) / 16 * 2 + 16;
  b = hp * s->SW * wq;
  if (a < b) a = b;
  b = (s->OH * s->OW + 15) / 16 * 9 / 2 + (s->OH * ((s->OW + 14) / 15)) * 12 + 64; /* the 3x3 paths' tables */
  return a > b ? a : b;
}

MRTC_FN void k_dwconv_plane_f32(const KConvShape *s, const float *xc, float *pl, int64_t hp, int64_t wq) {
  int64_t S = s->SW, ih;
  memset(pl, 0, sizeof(float) * (size_t)(hp * S * wq));
  for (ih = 0; ih < s->H; ih++) k_phase_row_f32(xc + ih * s->W, s->W, s->PL, S, wq, ~0u, pl + (ih + s->PT) * S * wq);
}

/* one output row of one channel: y[ow] = epi(sum_taps w * row) for ow in [0, OW) */
MRTC_FN void k_dwconv_row_f32(const KConvShape *s, const float *pl, int64_t wq, int64_t oh, const float *wm, float bm,
                              const float *res, float *yr, const KEpi *e) {
  int64_t KW = s->KW, S = s->SW, ow0, kh, kw;
#if defined(__AVX512F__)
  for (ow0 = 0; ow0 < s->OW; ow0 += 64) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t rem = s->OW - ow0;
    __mmask16 m0 = k_mask16(rem), m1 = k_mask16(rem - 16), m2 = k_mask16(rem - 32), m3 = k_mask16(rem - 48);
    for (kh = 0; kh < s->KH; kh++) {
      const float *row = pl + (oh * s->SH + kh * s->DH) * S * wq + ow0;
      for (kw = 0; kw < KW; kw++) {
        int64_t j = kw * s->DW;
        const float *p = row + (j % S) * wq + j / S;
        __m512 wv = _mm512_set1_ps(wm[kh * KW + kw]);
        a0 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m0, p), a0);
        if (rem > 16) a1 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m1, p + 16), a1);
        if (rem > 32) a2 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m2, p + 32), a2);
        if (rem > 48) a3 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m3, p + 48), a3);
      }
    }
    k_epi512(a0, yr + ow0, m0, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 : 0, k_epiv(e));
    if (rem > 16) k_epi512(a1, yr + ow0 + 16, m1, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 + 16 : 0, k_epiv(e));
    if (rem > 32) k_epi512(a2, yr + ow0 + 32, m2, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 + 32 : 0, k_epiv(e));
    if (rem > 48) k_epi512(a3, yr + ow0 + 48, m3, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 + 48 : 0, k_epiv(e));
  }
#elif defined(__AVX2__) && defined(__FMA__)
  for (ow0 = 0; ow0 < s->OW; ow0 += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t rem = s->OW - ow0;
    __m256i m0 = k_mask8(rem), m1 = k_mask8(rem - 8), m2 = k_mask8(rem - 16), m3 = k_mask8(rem - 24);
    for (kh = 0; kh < s->KH; kh++) {
      const float *row = pl + (oh * s->SH + kh * s->DH) * S * wq + ow0;
      for (kw = 0; kw < KW; kw++) {
        int64_t j = kw * s->DW;
        const float *p = row + (j % S) * wq + j / S;
        __m256 wv = _mm256_set1_ps(wm[kh * KW + kw]);
        a0 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(p, m0), a0);
        if (rem > 8) a1 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(p + 8, m1), a1);
        if (rem > 16) a2 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(p + 16, m2), a2);
        if (rem > 24) a3 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(p + 24, m3), a3);
      }
    }
    k_epi256(a0, yr + ow0, m0, rem >= 8, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 : 0, k_epiv(e));
    if (rem > 8) k_epi256(a1, yr + ow0 + 8, m1, rem >= 16, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 + 8 : 0, k_epiv(e));
    if (rem > 16) k_epi256(a2, yr + ow0 + 16, m2, rem >= 24, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 + 16 : 0, k_epiv(e));
    if (rem > 24) k_epi256(a3, yr + ow0 + 24, m3, rem >= 32, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, res ? res + ow0 + 24 : 0, k_epiv(e));
  }
  if (e->act >= MRTC_ACT_SIGMOID)
    for (ow0 = 0; ow0 < s->OW; ow0++) yr[ow0] = k_act_f32(yr[ow0], e->act, e->p0, e->p1);
#else
  for (ow0 = 0; ow0 < s->OW; ow0++) yr[ow0] = 0.0f;
  for (kh = 0; kh < s->KH; kh++) {
    const float *row = pl + (oh * s->SH + kh * s->DH) * S * wq;
    for (kw = 0; kw < KW; kw++) {
      int64_t j = kw * s->DW, ow;
      const float *p = row + (j % S) * wq + j / S;
      float wv = wm[kh * KW + kw];
      for (ow = 0; ow < s->OW; ow++) yr[ow] += wv * p[ow];
    }
  }
  for (ow0 = 0; ow0 < s->OW; ow0++) {
    float v = e->alpha * yr[ow0] + bm;
    if (res) v += res[ow0];
    yr[ow0] = k_act_f32(v, e->act, e->p0, e->p1);
  }
#endif
#if defined(__AVX512F__)
  if (e->act >= MRTC_ACT_SIGMOID)
    for (ow0 = 0; ow0 < s->OW; ow0++) yr[ow0] = k_act_f32(yr[ow0], e->act, e->p0, e->p1);
#endif
}

#if defined(__AVX512F__)
/* per vector of the wide loop: valid-lane mask (ow < OW) and the index in Y of its first valid lane */
MRTC_FN void k_dw_lanes512(const KConvShape *s, int64_t wq, __mmask16 *mk, int32_t *dst) {
  int64_t Q = s->OH * wq, v, l;
  for (v = 0; v * 16 < Q; v++) {
    unsigned m = 0;
    int64_t q0 = v * 16, ow0 = q0 % wq;
    for (l = 0; l < 16 && q0 + l < Q; l++) m |= (unsigned)((q0 + l) % wq < s->OW) << l;
    mk[v] = (__mmask16)m;
    dst[v] = (int32_t)(q0 / wq * s->OW + (ow0 < s->OW ? ow0 : s->OW));
  }
}

MRTC_FN void k_dw_store512(__m512 acc, __mmask16 m, float *y, float bm, const float *r, KEpiV e) {
  __mmask16 lo = (__mmask16)((1u << _mm_popcnt_u32(m)) - 1u);
  if (!m) return;
  if (e.alpha != 1.0f) acc = _mm512_mul_ps(acc, _mm512_set1_ps(e.alpha));
  if (e.bias) acc = _mm512_add_ps(acc, _mm512_set1_ps(bm));
  if (r) acc = _mm512_add_ps(acc, _mm512_maskz_expand_ps(m, _mm512_maskz_loadu_ps(lo, r)));
  acc = k_act512(acc, e.act, e.p0, e.p1);
  _mm512_mask_storeu_ps(y, lo, _mm512_maskz_compress_ps(m, acc));
}

/* one channel over the wide index q: planes pl, tap offsets koff, weights wm */
/* 3x3 stride 1 with unit dilation (pads other than 1), every tap unrolled,
 * nine weight registers set once per channel, 36 multiply-adds per 64
 * outputs.  Taps are addressed from one base pointer and the row offsets
 * wq and 2 wq, so that nothing spills from the registers. */
#define K_DW9(A, T0, T1, T2, T3, T4, T5, T6, T7, T8)                                                              \
  A = _mm512_mul_ps(w0, _mm512_loadu_ps(T0));                                                                     \
  A = _mm512_fmadd_ps(w1, _mm512_loadu_ps(T1), A);                                                                \
  A = _mm512_fmadd_ps(w2, _mm512_loadu_ps(T2), A);                                                                \
  A = _mm512_fmadd_ps(w3, _mm512_loadu_ps(T3), A);                                                                \
  A = _mm512_fmadd_ps(w4, _mm512_loadu_ps(T4), A);                                                                \
  A = _mm512_fmadd_ps(w5, _mm512_loadu_ps(T5), A);                                                                \
  A = _mm512_fmadd_ps(w6, _mm512_loadu_ps(T6), A);                                                                \
  A = _mm512_fmadd_ps(w7, _mm512_loadu_ps(T7), A);                                                                \
  A = _mm512_fmadd_ps(w8, _mm512_loadu_ps(T8), A);
/* the store of one vector: squeeze out junk lanes (compress), masked store */
#define K_DW_PUT(A, V)                                                                                            \
  {                                                                                                               \
    __mmask16 m_ = mk[V];                                                                                         \
    _mm512_mask_storeu_ps(y + dst[V], (__mmask16)((1u << _mm_popcnt_u32(m_)) - 1u), _mm512_maskz_compress_ps(m_, A)); \
  }
/* the loop over q; EPI maps an accumulator to its output (bias, activation) */
#define K_DW3X3_LOOP(PTRS, TAPS, EPI)                                                                             \
  for (q = 0; q < nv * 16; q += 32) {                                                                             \
    int64_t v = q / 16;                                                                                           \
    __m512 a0, a1;                                                                                                \
    PTRS()                                                                                                        \
    TAPS(a0, 0)                                                                                                   \
    TAPS(a1, 16)                                                                                                  \
    K_DW_PUT(EPI(a0), v)                                                                                          \
    if (v + 1 < nv) K_DW_PUT(EPI(a1), v + 1)                                                                      \
  }
#define K_EPI_NONE(A) _mm512_add_ps(A, bv)
#define K_EPI_RELU(A) _mm512_max_ps(_mm512_add_ps(A, bv), _mm512_setzero_ps())
#define K_EPI_CLIP(A) _mm512_min_ps(hv, _mm512_max_ps(lv, _mm512_add_ps(A, bv)))
/* One channel.  The common epilogues (bias, then nothing, Relu or Clip) get
 * loops of their own; anything else (alpha, residual, other activations)
 * goes through k_dw_store512. */
#define K_DW3X3(NAME, PTRS, TAPS)                                                                                 \
  MRTC_NOINLINE void NAME(int64_t Q, int64_t plane, int64_t wq, const float *pl, const float *wm, const __mmask16 *mk, \
                          const int32_t *dst, float *y, float bm, const float *r, const KEpi *e) {                    \
    const __m512 w0 = _mm512_set1_ps(wm[0]), w1 = _mm512_set1_ps(wm[1]), w2 = _mm512_set1_ps(wm[2]);                 \
    const __m512 w3 = _mm512_set1_ps(wm[3]), w4 = _mm512_set1_ps(wm[4]), w5 = _mm512_set1_ps(wm[5]);                 \
    const __m512 w6 = _mm512_set1_ps(wm[6]), w7 = _mm512_set1_ps(wm[7]), w8 = _mm512_set1_ps(wm[8]);                 \
    const KEpiV ev = k_epiv(e);                                                                                       \
    const __m512 bv = _mm512_set1_ps(ev.bias ? bm : 0.0f), lv = _mm512_set1_ps(ev.p0), hv = _mm512_set1_ps(ev.p1);    \
    int64_t q, nv = (Q + 15) / 16, w2q = 2 * wq;                                                                      \
    (void)plane;                                                                                                      \
    (void)w2q;                                                                                                        \
    if (ev.alpha != 1.0f || r || (ev.act != MRTC_ACT_NONE && ev.act != MRTC_ACT_RELU && ev.act != MRTC_ACT_CLIP)) {   \
      for (q = 0; q < nv * 16; q += 64) {                                                                             \
        int64_t v = q / 16;                                                                                           \
        __m512 a0, a1, a2, a3;                                                                                        \
        PTRS()                                                                                                        \
        TAPS(a0, 0)                                                                                                   \
        TAPS(a1, 16)                                                                                                  \
        TAPS(a2, 32)                                                                                                  \
        TAPS(a3, 48)                                                                                                  \
        k_dw_store512(a0, mk[v], y + dst[v], bm, r ? r + dst[v] : 0, ev);                                             \
        if (v + 1 < nv) k_dw_store512(a1, mk[v + 1], y + dst[v + 1], bm, r ? r + dst[v + 1] : 0, ev);                 \
        if (v + 2 < nv) k_dw_store512(a2, mk[v + 2], y + dst[v + 2], bm, r ? r + dst[v + 2] : 0, ev);                 \
        if (v + 3 < nv) k_dw_store512(a3, mk[v + 3], y + dst[v + 3], bm, r ? r + dst[v + 3] : 0, ev);                 \
      }                                                                                                               \
    } else if (ev.act == MRTC_ACT_CLIP) {                                                                             \
      K_DW3X3_LOOP(PTRS, TAPS, K_EPI_CLIP)                                                                            \
    } else if (ev.act == MRTC_ACT_RELU) {                                                                             \
      K_DW3X3_LOOP(PTRS, TAPS, K_EPI_RELU)                                                                            \
    } else {                                                                                                          \
      K_DW3X3_LOOP(PTRS, TAPS, K_EPI_NONE)                                                                            \
    }                                                                                                                 \
  }
/* stride 1: three row pointers, taps at constant displacements */
#define K_S1_PTRS() const float *r0 = pl + q, *r1 = r0 + wq, *r2 = r0 + w2q;
#define K_S1(A, O) K_DW9(A, r0 + O, r0 + O + 1, r0 + O + 2, r1 + O, r1 + O + 1, r1 + O + 2, r2 + O, r2 + O + 1, r2 + O + 2)
K_DW3X3(k_dwconv3x3s1_wide512, K_S1_PTRS, K_S1)
#undef K_DW9

MRTC_FN void k_dwconv_wide512(int64_t Q, int64_t taps, const float *pl, const int64_t *koff, const float *wm,
                              const __mmask16 *mk, const int32_t *dst, float *y, float bm, const float *r, const KEpi *e) {
  int64_t q, t, nv = (Q + 15) / 16;
  const KEpiV ev = k_epiv(e);
  for (q = 0; q < nv * 16; q += 64) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t v = q / 16;
    for (t = 0; t < taps; t++) {
      const float *p = pl + koff[t] + q;
      __m512 wv = _mm512_set1_ps(wm[t]);
      a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p), a0);
      a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 16), a1);
      a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 32), a2);
      a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 48), a3);
    }
    k_dw_store512(a0, mk[v], y + dst[v], bm, r ? r + dst[v] : 0, ev);
    if (v + 1 < nv) k_dw_store512(a1, mk[v + 1], y + dst[v + 1], bm, r ? r + dst[v + 1] : 0, ev);
    if (v + 2 < nv) k_dw_store512(a2, mk[v + 2], y + dst[v + 2], bm, r ? r + dst[v + 2] : 0, ev);
    if (v + 3 < nv) k_dw_store512(a3, mk[v + 3], y + dst[v + 3], bm, r ? r + dst[v + 3] : 0, ev);
  }
}

/* ---- 3x3, unit dilation, stride 1 or 2: no plane copy ----
 * Stride 1 with pads 1 (OH == H, OW == W): output vector v holds pixels
 * q = 16 v .. 16 v + 15 of the contiguous output, and tap (kh, kw) is the
 * input at q + (kh - 1) W + kw - 1: one masked load straight from X, the
 * mask clearing the lanes whose tap falls in the padding (first or last
 * column, row above or below, past the map).  The nine masks of a vector
 * depend on the shape only: a table built once per call; the vectors away
 * from the top and bottom rows (the body) need only the two column masks.
 * Stride 2: per output row and chunk of 15 outputs (or, when OW <= 7, per
 * pair of output rows, 2 OW lanes), each kernel row is 32 input floats
 * (one row's columns c0 .. c0 + 31, or 16 columns of each of two rows),
 * two masked loads, and its three column taps are three two-source
 * permutes (lane l <- input 2 l + kw).  Stores are plain or masked, the
 * outputs being contiguous; no junk columns, no scratch planes. */
#define K_EPI_GEN(A, YP, MK, RP) k_epi512(A, YP, MK, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, RP, ev)
/* the nine taps of the vector at XP (X + q), three accumulator chains; LDt(t, ptr) loads tap t */
#define K_DS1_TAPS(A, XP, LD0, LD1, LD2, LD3, LD4, LD5, LD6, LD7, LD8)                                         \
  {                                                                                                            \
    __m512 b_ = _mm512_mul_ps(w3, LD3(3, XP - 1)), c_ = _mm512_mul_ps(w6, LD6(6, XP + W - 1));                 \
    A = _mm512_mul_ps(w0, LD0(0, XP - W - 1));                                                                 \
    A = _mm512_fmadd_ps(w1, LD1(1, XP - W), A);                                                                \
    b_ = _mm512_fmadd_ps(w4, LD4(4, XP), b_);                                                                  \
    c_ = _mm512_fmadd_ps(w7, LD7(7, XP + W), c_);                                                              \
    A = _mm512_fmadd_ps(w2, LD2(2, XP - W + 1), A);                                                            \
    b_ = _mm512_fmadd_ps(w5, LD5(5, XP + 1), b_);                                                              \
    c_ = _mm512_fmadd_ps(w8, LD8(8, XP + W + 1), c_);                                                          \
    A = _mm512_add_ps(_mm512_add_ps(A, b_), c_);                                                               \
  }
#define K_LDT(T, P) _mm512_maskz_loadu_ps(mt[v * 9 + (T)], P) /* edge vector: the table's mask */
#define K_LDC0(T, P) _mm512_maskz_loadu_ps(c0m, P)            /* body: first-column mask */
#define K_LDC2(T, P) _mm512_maskz_loadu_ps(c2m, P)            /* body: last-column mask */
#define K_LDU(T, P) _mm512_loadu_ps(P)                        /* body, middle column */
#define K_DS1_EDGE(EPI, V0, V1)                                                                                \
  for (v = V0; v < V1; v++) {                                                                                  \
    __m512 a;                                                                                                  \
    __mmask16 mo = mt[v * 9 + 4];                                                                              \
    K_DS1_TAPS(a, xc + v * 16, K_LDT, K_LDT, K_LDT, K_LDT, K_LDT, K_LDT, K_LDT, K_LDT, K_LDT)                \
    EPI(a, yc + v * 16, mo, rc ? rc + v * 16 : 0)                                                              \
  }
#define K_DS1_LOOP(EPI)                                                                                        \
  K_DS1_EDGE(EPI, 0, vb)                                                                                       \
  for (v = vb; v < ve; v++) {                                                                                  \
    __m512 a;                                                                                                  \
    const __mmask16 c0m = mt[v * 9 + 3], c2m = mt[v * 9 + 5];                                                  \
    K_DS1_TAPS(a, xc + v * 16, K_LDC0, K_LDU, K_LDC2, K_LDC0, K_LDU, K_LDC2, K_LDC0, K_LDU, K_LDC2)          \
    EPI(a, yc + v * 16, (__mmask16)0xFFFF, rc ? rc + v * 16 : 0)                                               \
  }                                                                                                            \
  K_DS1_EDGE(EPI, ve, nv)
#define K_PUT_NONE(A, YP, MK, RP) _mm512_mask_storeu_ps(YP, MK, K_EPI_NONE(A));
#define K_PUT_RELU(A, YP, MK, RP) _mm512_mask_storeu_ps(YP, MK, K_EPI_RELU(A));
#define K_PUT_CLIP(A, YP, MK, RP) _mm512_mask_storeu_ps(YP, MK, K_EPI_CLIP(A));
#define K_PUT_GEN(A, YP, MK, RP) K_EPI_GEN(A, YP, MK, RP);
/* per channel: the weights and epilogue constants, then BODY with EPI chosen by the epilogue */
#define K_DW_CHANNELS(BODY)                                                                                    \
  for (n = 0; n < s->N; n++)                                                                                   \
    for (m = 0; m < s->M; m++) {                                                                               \
      const float *xc = x + (n * s->C + m / mg) * s->H * s->W, *wm = w + m * 9;                               \
      float *yc = y + (n * s->M + m) * P;                                                                      \
      const float *rc = e->res ? e->res + (n * s->M + m) * P : 0;                                              \
      const float bm = e->bias_m ? e->bias_m[m] : 0.0f;                                                        \
      const __m512 w0 = _mm512_set1_ps(wm[0]), w1 = _mm512_set1_ps(wm[1]), w2 = _mm512_set1_ps(wm[2]);          \
      const __m512 w3 = _mm512_set1_ps(wm[3]), w4 = _mm512_set1_ps(wm[4]), w5 = _mm512_set1_ps(wm[5]);          \
      const __m512 w6 = _mm512_set1_ps(wm[6]), w7 = _mm512_set1_ps(wm[7]), w8 = _mm512_set1_ps(wm[8]);          \
      const __m512 bv = _mm512_set1_ps(bm);                                                                    \
      if (gen) {                                                                                               \
        BODY(K_PUT_GEN)                                                                                        \
      } else if (ev.act == MRTC_ACT_CLIP) {                                                                    \
        BODY(K_PUT_CLIP)                                                                                       \
      } else if (ev.act == MRTC_ACT_RELU) {                                                                    \
        BODY(K_PUT_RELU)                                                                                       \
      } else {                                                                                                 \
        BODY(K_PUT_NONE)                                                                                       \
      }                                                                                                        \
    }

MRTC_FN void k_dw3s1_512(const KConvShape *s, const float *x, const float *w, const KEpi *e, float *y, uint16_t *mt) {
  const int64_t W = s->W, P = s->OH * s->OW, nv = (P + 15) / 16, mg = s->M / s->C;
  const KEpiV ev = k_epiv(e);
  const __m512 lv = _mm512_set1_ps(ev.p0), hv = _mm512_set1_ps(ev.p1);
  const int gen = ev.alpha != 1.0f || e->res || (ev.act != MRTC_ACT_NONE && ev.act != MRTC_ACT_RELU && ev.act != MRTC_ACT_CLIP);
  int64_t v, q, t, n, m, vb = (W + 15) / 16, ve = (P - W) / 16;
  if (ve < vb) ve = vb;
  if (vb > nv) vb = ve = nv;
  /* the masks: lanes in the map, less the taps in the padding */
  for (v = 0; v < nv; v++)
    for (t = 0; t < 9; t++) mt[v * 9 + t] = k_mask16(P - v * 16);
  for (q = 0; q < W; q++) {
    for (t = 0; t < 3; t++) mt[(q >> 4) * 9 + t] &= (uint16_t) ~(1u << (q & 15));
    for (t = 6; t < 9; t++) mt[((P - W + q) >> 4) * 9 + t] &= (uint16_t) ~(1u << ((P - W + q) & 15));
  }
  for (q = 0; q < P; q += W)
    for (t = 0; t < 9; t += 3) {
      mt[(q >> 4) * 9 + t] &= (uint16_t) ~(1u << (q & 15));
      mt[((q + W - 1) >> 4) * 9 + t + 2] &= (uint16_t) ~(1u << ((q + W - 1) & 15));
    }
  K_DW_CHANNELS(K_DS1_LOOP)
}

/* stride 2: one unit = up to 15 outputs of a row (R = 1) or two rows of OW <= 7 (R = 2); per kernel row, the
 * offsets in the channel of its A and B loads and their masks (zero where the row is padding) */
typedef struct {
  int32_t oa[3], ob[3], oy;
  uint16_t ma[3], mb[3], mo;
} KDwUnit;
#define K_DS2_ROW(A, KH, WA, WB, WC)                                                                           \
  {                                                                                                            \
    const __m512 xa = _mm512_maskz_loadu_ps(u->ma[KH], xc + u->oa[KH]);                                        \
    const __m512 xb = _mm512_maskz_loadu_ps(u->mb[KH], xc + u->ob[KH]);                                        \
    A = _mm512_mul_ps(WA, _mm512_permutex2var_ps(xa, i0, xb));                                                  \
    A = _mm512_fmadd_ps(WB, _mm512_permutex2var_ps(xa, i1, xb), A);                                             \
    A = _mm512_fmadd_ps(WC, _mm512_permutex2var_ps(xa, i2, xb), A);                                             \
  }
#define K_DS2_LOOP(EPI)                                                                                        \
  for (j = 0; j < nu; j++) {                                                                                   \
    const KDwUnit *u = tab + j;                                                                                \
    __m512 a0, a1, a2;                                                                                         \
    K_DS2_ROW(a0, 0, w0, w1, w2)                                                                               \
    K_DS2_ROW(a1, 1, w3, w4, w5)                                                                               \
    K_DS2_ROW(a2, 2, w6, w7, w8)                                                                               \
    a0 = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);                                                             \
    EPI(a0, yc + u->oy, (__mmask16)u->mo, rc ? rc + u->oy : 0)                                                 \
  }

MRTC_FN void k_dw3s2_512(const KConvShape *s, const float *x, const float *w, const KEpi *e, float *y, KDwUnit *tab) {
  const int64_t P = s->OH * s->OW, mg = s->M / s->C, R = s->OW <= 7 ? 2 : 1, nch = R == 2 ? 1 : (s->OW + 14) / 15;
  const KEpiV ev = k_epiv(e);
  const __m512 lv = _mm512_set1_ps(ev.p0), hv = _mm512_set1_ps(ev.p1);
  const int gen = ev.alpha != 1.0f || e->res || (ev.act != MRTC_ACT_NONE && ev.act != MRTC_ACT_RELU && ev.act != MRTC_ACT_CLIP);
  int32_t ix[48];
  __m512i i0, i1, i2;
  int64_t k, l, n, m, oh, j, nu = 0;
  for (oh = 0; oh < s->OH; oh += R)
    for (k = 0; k < nch; k++, nu++) {
      KDwUnit *u = tab + nu;
      int64_t c = 2 * k * 15 - s->PL, cb = R == 2 ? c : c + 16, kh;
      __mmask16 ca = (__mmask16)(k_mask16(s->W - c) & ~k_mask16(-c)), cm = (__mmask16)(k_mask16(s->W - cb) & ~k_mask16(-cb));
      int two = R == 2 && oh + 1 < s->OH;
      for (kh = 0; kh < 3; kh++) {
        int64_t ih = 2 * oh + kh - s->PT, ih2 = R == 2 ? ih + 2 : ih;
        int va = ih >= 0 && ih < s->H, vb = ih2 >= 0 && ih2 < s->H && (R == 1 || two);
        u->oa[kh] = (int32_t)(va ? ih * s->W + c : 0);
        u->ma[kh] = va ? ca : 0;
        u->ob[kh] = (int32_t)(vb ? ih2 * s->W + cb : 0);
        u->mb[kh] = vb ? cm : 0;
      }
      u->oy = (int32_t)(oh * s->OW + k * 15);
      u->mo = (uint16_t)(R == 2 ? k_mask16((1 + two) * s->OW) : k_mask16(s->OW - k * 15 < 15 ? s->OW - k * 15 : 15));
    }
  /* lane l of tap kw: input 2 l + kw of A:B (R = 1); of A for the first row, of B (16 +) for the second (R = 2) */
  for (k = 0; k < 3; k++)
    for (l = 0; l < 16; l++)
      ix[k * 16 + l] = (int32_t)(R == 1 ? (2 * l + k) & 31 : l < s->OW ? 2 * l + k : l < 2 * s->OW ? 16 + 2 * (l - s->OW) + k : 0);
  i0 = _mm512_loadu_si512(ix);
  i1 = _mm512_loadu_si512(ix + 16);
  i2 = _mm512_loadu_si512(ix + 32);
  K_DW_CHANNELS(K_DS2_LOOP)
}

MRTC_FN void k_dwconv512(const KConvShape *s, const float *x, const float *w, const KEpi *e, float *y, float *scratch) {
  int64_t mg = s->M / s->G, P = s->OH * s->OW, taps = s->KH * s->KW, hq, wq, Q, k, n, c, j;
  KConvShape one = *s;
  float *pl = scratch;
  int64_t *koff;
  int32_t *dst;
  __mmask16 *mk;
  int d3x3;
  if (s->KH == 3 && s->KW == 3 && s->DH == 1 && s->DW == 1 && s->G == s->C &&
      ((s->SH == 1 && s->SW == 1 && s->PT == 1 && s->PL == 1 && s->OH == s->H && s->OW == s->W) || (s->SH == 2 && s->SW == 2))) {
    if (s->SH == 1) k_dw3s1_512(s, x, w, e, y, (uint16_t *)scratch);
    else k_dw3s2_512(s, x, w, e, y, (KDwUnit *)scratch);
    if (e->act >= MRTC_ACT_SIGMOID)
      for (k = 0; k < s->N * s->M * P; k++) y[k] = k_act_f32(y[k], e->act, e->p0, e->p1);
    return;
  }
  one.C = one.G = one.M = 1;
  k_conv_planes(s, &hq, &wq);
  Q = s->OH * wq;
  koff = (int64_t *)(pl + (s->SH * s->SW * hq * wq + wq + 128 + 15) / 16 * 16); /* 64-byte aligned */
  dst = (int32_t *)(koff + taps + 8);
  mk = (__mmask16 *)(dst + (Q + 15) / 16 + 8);
  for (k = 0; k < taps; k++) {
    int64_t dh = k / s->KW * s->DH, dw = k % s->KW * s->DW;
    koff[k] = (dh % s->SH * s->SW + dw % s->SW) * hq * wq + dh / s->SH * wq + dw / s->SW;
  }
  k_dw_lanes512(s, wq, mk, dst);
  /* 3x3, unit dilation, stride 1 (pads other than 1; stride 2 took k_dw3s2_512 above): the unrolled loop */
  d3x3 = s->KH == 3 && s->KW == 3 && s->DH == 1 && s->DW == 1 && s->SH == 1 && s->SW == 1;
  for (n = 0; n < s->N; n++)
    for (c = 0; c < s->C; c++) {
      k_conv_phase_f32(&one, x + (n * s->C + c) * s->H * s->W, pl, hq, wq);
      for (j = 0; j < mg; j++) {
        int64_t m = c * mg + j;
        if (d3x3)
          k_dwconv3x3s1_wide512(Q, hq * wq, wq, pl, w + m * taps, mk, dst,
                                                                     y + (n * s->M + m) * P, e->bias_m ? e->bias_m[m] : 0.0f,
                                                                     e->res ? e->res + (n * s->M + m) * P : 0, e);
        else
          k_dwconv_wide512(Q, taps, pl, koff, w + m * taps, mk, dst, y + (n * s->M + m) * P, e->bias_m ? e->bias_m[m] : 0.0f,
                           e->res ? e->res + (n * s->M + m) * P : 0, e);
      }
    }
  if (e->act >= MRTC_ACT_SIGMOID) /* the vector epilogue leaves these to us */
    for (k = 0; k < s->N * s->M * P; k++) y[k] = k_act_f32(y[k], e->act, e->p0, e->p1);
}
#endif

/* x: N x C x H x W, w: M x 1 x KH x KW (M = C * multiplier), y: N x M x OH x OW */
MRTC_FN void k_dwconv_f32(const KConvShape *s, const float *x, const float *w, const KEpi *e, float *y, float *scratch) {
  int64_t mg = s->M / s->G, P = s->OH * s->OW, taps = s->KH * s->KW, hp, wq, n, c, j, oh;
#if defined(__AVX512F__)
  k_dwconv512(s, x, w, e, y, scratch);
  return;
#endif
  k_dwconv_geom(s, &hp, &wq);
  for (n = 0; n < s->N; n++)
    for (c = 0; c < s->C; c++) {
      k_dwconv_plane_f32(s, x + (n * s->C + c) * s->H * s->W, scratch, hp, wq);
      for (j = 0; j < mg; j++) {
        int64_t m = c * mg + j;
        float bm = e->bias_m ? e->bias_m[m] : 0.0f;
        float *ym = y + (n * s->M + m) * P;
        const float *rm = e->res ? e->res + (n * s->M + m) * P : 0;
        for (oh = 0; oh < s->OH; oh++)
          k_dwconv_row_f32(s, scratch, wq, oh, w + m * taps, bm, rm ? rm + oh * s->OW : 0, ym + oh * s->OW, e);
      }
    }
}

#endif
