/*
 * k_int8.h: the integer-only kernels of mrtc's int8 layers (quantize.c
 * lowers Conv, Gemm, MatMul, Add, Sub, Mul, Concat, AveragePool,
 * GlobalAveragePool and unary activations onto them).
 *
 * Number format: a real value r is stored as int8 q with r = scale * (q - zp).
 * Weights are symmetric (zp 0) per output channel; activations per tensor,
 * asymmetric by default.  Layers accumulate in int32 (bias pre-scaled to
 * int32 by the compiler, the input zero point folded into it) and requantize
 * with a fixed-point multiplier: y = zy + round(acc * mult / 2^shift), the
 * multiplier and shift computed by the compiler from the real factor
 * scale_x * scale_w / scale_y.  Rounding is half away from zero, written
 * with non-negative shifts only, so it is the same on every C compiler.
 * Activations Relu and Clip are the output clamp [lo, hi]; any other unary
 * function is a 256-entry table.  No float arithmetic anywhere except in
 * k_quantize_f32_i8 / k_dequantize_i8_f32, the conversions at the borders
 * of the int8 region.
 */
#ifndef MRTC_K_INT8_H
#define MRTC_K_INT8_H
#include "k_common.h"

/* round(p / 2^shift), halves away from zero; 1 <= shift <= 62 */
MRTC_FN int64_t k_q_rshift(int64_t p, int32_t shift) {
  int64_t a = p < 0 ? -p : p, r = (a + ((int64_t)1 << (shift - 1))) >> shift; /* selects, not branches */
  return p < 0 ? -r : r;
}

MRTC_FN int8_t k_q_clamp(int64_t v, int32_t lo, int32_t hi) { return (int8_t)(v < lo ? lo : v > hi ? hi : v); }

/* ------------------------------------------------------------ borders */

/* q = saturate(rint(x / scale) + zp) (round half to even, as QuantizeLinear) */
MRTC_FN void k_quantize_f32_i8(int64_t n, const float *x, float scale, int32_t zp, int8_t *y) {
  int64_t i;
  for (i = 0; i < n; i++) {
    float t = x[i] / scale;
    int32_t v;
    if (!(t > -1e6f)) t = -1e6f; /* NaN too */
    if (t > 1e6f) t = 1e6f;
    v = (int32_t)rintf(t) + zp;
    y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
}

MRTC_FN void k_dequantize_i8_f32(int64_t n, const int8_t *x, float scale, int32_t zp, float *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - zp) * scale;
}

/* y = clamp(zy + round((x - zx) * mult / 2^shift)) over OUTER blocks of INNER
 * elements, x rows INNER apart, y rows LDY apart (a Concat's slice); a plain
 * copy when the scales and zero points agree (mult = 0). */
MRTC_FN void k_qrequant_i8(int64_t outer, int64_t inner, int64_t ldy, const int8_t *x, int8_t *y, int32_t zx, int32_t zy,
                           int32_t mult, int32_t shift, int32_t lo, int32_t hi) {
  int64_t o, i;
  for (o = 0; o < outer; o++) {
    const int8_t *xo = x + o * inner;
    int8_t *yo = y + o * ldy;
    if (!mult) {
      for (i = 0; i < inner; i++) yo[i] = k_q_clamp(xo[i], lo, hi);
      continue;
    }
    for (i = 0; i < inner; i++) yo[i] = k_q_clamp(zy + k_q_rshift((int64_t)(xo[i] - zx) * mult, shift), lo, hi);
  }
}

/* y = table[x + 128]: any unary function of one int8 tensor */
MRTC_FN void k_qlut_i8(int64_t n, const int8_t *x, const int8_t *table, int8_t *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = table[(int32_t)x[i] + 128];
}

/* ------------------------------------------------ int8 dot products */

#if defined(__AVX512BW__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#if defined(__AVX512BW__)
/* acc[i] += the sum of the 16 lanes of s_i, for 8 vectors at once (a transpose-add tree) */
MRTC_FN void k_q_hsum8(__m512i s0, __m512i s1, __m512i s2, __m512i s3, __m512i s4, __m512i s5, __m512i s6, __m512i s7,
                       int32_t *acc) {
  __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(s0, s1), _mm512_unpackhi_epi32(s0, s1));
  __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(s2, s3), _mm512_unpackhi_epi32(s2, s3));
  __m512i t45 = _mm512_add_epi32(_mm512_unpacklo_epi32(s4, s5), _mm512_unpackhi_epi32(s4, s5));
  __m512i t67 = _mm512_add_epi32(_mm512_unpacklo_epi32(s6, s7), _mm512_unpackhi_epi32(s6, s7));
  __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
  __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t45, t67), _mm512_unpackhi_epi64(t45, t67));
  __m512i w = _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, 0x44), _mm512_shuffle_i32x4(u0, u1, 0xee));
  __m512i x = _mm512_add_epi32(_mm512_shuffle_i32x4(w, w, 0x88), _mm512_shuffle_i32x4(w, w, 0xdd));
  __m256i r = _mm256_add_epi32(_mm512_castsi512_si256(x), _mm256_loadu_si256((const __m256i *)acc));
  _mm256_storeu_si256((__m256i *)acc, r);
}
#endif

/* acc[2 * i + j] = sum_k w_i[k] * c_j[k] for four weight rows and two columns:
 * the inner kernel of convolution and GEMM.  Sign-extended to int16 and
 * multiplied pairwise into int32 (pmaddwd) where the target has SIMD; the sum
 * is exact in every path, so all give the same bits. */
MRTC_FN void k_qdot42(int64_t K, const int8_t *w0, const int8_t *w1, const int8_t *w2, const int8_t *w3, const int8_t *c0,
                      const int8_t *c1, const int32_t *wsum, int32_t *acc) {
  int64_t k = 0;
  int i;
  for (i = 0; i < 8; i++) acc[i] = 0;
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  /* vpdpbusd multiplies unsigned by signed bytes: x + 128 (x ^ 0x80) times w,
   * then 128 * sum(w) over the same K & ~63 bytes (WSUM, from the caller) is taken off */
  if (wsum && K >= 64) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    __m512i flip = _mm512_set1_epi8((char)0x80), x0, x1, v;
    for (; k + 64 <= K; k += 64) {
      x0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)(c0 + k)), flip);
      x1 = _mm512_xor_si512(_mm512_loadu_si512((const void *)(c1 + k)), flip);
      v = _mm512_loadu_si512((const void *)(w0 + k));
      s0 = _mm512_dpbusd_epi32(s0, x0, v), s1 = _mm512_dpbusd_epi32(s1, x1, v);
      v = _mm512_loadu_si512((const void *)(w1 + k));
      s2 = _mm512_dpbusd_epi32(s2, x0, v), s3 = _mm512_dpbusd_epi32(s3, x1, v);
      v = _mm512_loadu_si512((const void *)(w2 + k));
      s4 = _mm512_dpbusd_epi32(s4, x0, v), s5 = _mm512_dpbusd_epi32(s5, x1, v);
      v = _mm512_loadu_si512((const void *)(w3 + k));
      s6 = _mm512_dpbusd_epi32(s6, x0, v), s7 = _mm512_dpbusd_epi32(s7, x1, v);
    }
    k_q_hsum8(s0, s1, s2, s3, s4, s5, s6, s7, acc);
    for (i = 0; i < 8; i++) acc[i] -= 128 * wsum[i / 2];
  }
#else
  (void)wsum;
#endif
#if defined(__AVX512BW__)
#define MRTC_QLD(p) _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)((p) + k)))
#define MRTC_QMAC(s, a, b) s = _mm512_add_epi32(s, _mm512_madd_epi16(a, b))
  {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, x0, x1, v;
    for (; k + 32 <= K; k += 32) {
      x0 = MRTC_QLD(c0);
      x1 = MRTC_QLD(c1);
      v = MRTC_QLD(w0);
      MRTC_QMAC(s0, v, x0);
      MRTC_QMAC(s1, v, x1);
      v = MRTC_QLD(w1);
      MRTC_QMAC(s2, v, x0);
      MRTC_QMAC(s3, v, x1);
      v = MRTC_QLD(w2);
      MRTC_QMAC(s4, v, x0);
      MRTC_QMAC(s5, v, x1);
      v = MRTC_QLD(w3);
      MRTC_QMAC(s6, v, x0);
      MRTC_QMAC(s7, v, x1);
    }
    k_q_hsum8(s0, s1, s2, s3, s4, s5, s6, s7, acc);
  }
#undef MRTC_QLD
#undef MRTC_QMAC
#elif defined(__AVX2__)
#define MRTC_QLD(p) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)((p) + k)))
#define MRTC_QMAC(s, a, b) s = _mm256_add_epi32(s, _mm256_madd_epi16(a, b))
  {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, x0, x1, v;
    __m256i t[8];
    for (; k + 16 <= K; k += 16) {
      x0 = MRTC_QLD(c0);
      x1 = MRTC_QLD(c1);
      v = MRTC_QLD(w0);
      MRTC_QMAC(s0, v, x0);
      MRTC_QMAC(s1, v, x1);
      v = MRTC_QLD(w1);
      MRTC_QMAC(s2, v, x0);
      MRTC_QMAC(s3, v, x1);
      v = MRTC_QLD(w2);
      MRTC_QMAC(s4, v, x0);
      MRTC_QMAC(s5, v, x1);
      v = MRTC_QLD(w3);
      MRTC_QMAC(s6, v, x0);
      MRTC_QMAC(s7, v, x1);
    }
    t[0] = s0, t[1] = s1, t[2] = s2, t[3] = s3, t[4] = s4, t[5] = s5, t[6] = s6, t[7] = s7;
    for (i = 0; i < 8; i++) {
      __m128i h = _mm_add_epi32(_mm256_castsi256_si128(t[i]), _mm256_extracti128_si256(t[i], 1));
      h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
      h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
      acc[i] = _mm_cvtsi128_si32(h);
    }
  }
#undef MRTC_QLD
#undef MRTC_QMAC
#elif defined(__SSE2__)
#define MRTC_QLD(p) (v = _mm_loadl_epi64((const __m128i *)((p) + k)), _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8))
#define MRTC_QMAC(s, a, b) s = _mm_add_epi32(s, _mm_madd_epi16(a, b))
  {
    __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, x0, x1, v, u;
    __m128i t[8];
    for (; k + 8 <= K; k += 8) {
      x0 = MRTC_QLD(c0);
      x1 = MRTC_QLD(c1);
      u = MRTC_QLD(w0);
      MRTC_QMAC(s0, u, x0);
      MRTC_QMAC(s1, u, x1);
      u = MRTC_QLD(w1);
      MRTC_QMAC(s2, u, x0);
      MRTC_QMAC(s3, u, x1);
      u = MRTC_QLD(w2);
      MRTC_QMAC(s4, u, x0);
      MRTC_QMAC(s5, u, x1);
      u = MRTC_QLD(w3);
      MRTC_QMAC(s6, u, x0);
      MRTC_QMAC(s7, u, x1);
    }
    t[0] = s0, t[1] = s1, t[2] = s2, t[3] = s3, t[4] = s4, t[5] = s5, t[6] = s6, t[7] = s7;
    for (i = 0; i < 8; i++) {
      __m128i h = _mm_add_epi32(t[i], _mm_shuffle_epi32(t[i], 0x4e));
      h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
      acc[i] = _mm_cvtsi128_si32(h);
    }
  }
#undef MRTC_QLD
#undef MRTC_QMAC
#endif
  for (; k < K; k++) {
    int32_t a = c0[k], b = c1[k];
    acc[0] += w0[k] * a, acc[1] += w0[k] * b;
    acc[2] += w1[k] * a, acc[3] += w1[k] * b;
    acc[4] += w2[k] * a, acc[5] += w2[k] * b;
    acc[6] += w3[k] * a, acc[7] += w3[k] * b;
  }
}

/* Y[r, n] = requant(bias[n] + sum_k W[n, k] * X[r, k]) for ROWS rows of X
 * (K apart) and the output channels [n0, n1) of W; output element (r, n) at
 * y[r * ldyr + n * ldyn], residual likewise. */
MRTC_FN void k_qrows_i8(int64_t rows, int64_t K, int64_t n0, int64_t n1, const int8_t *x, const int8_t *w, const int32_t *bias,
                        const int32_t *mult, int32_t shift, int32_t zy, int32_t lo, int32_t hi, const int8_t *res, int32_t zr,
                        int32_t rmul, int32_t rshift, int8_t *y, int64_t ldyr, int64_t ldyn) {
  int64_t r, n;
  int32_t acc[8];
  for (n = n0; n < n1; n += 4) {
    int64_t nn[4], i, j;
    const int32_t *wsp = 0;
    for (i = 0; i < 4; i++) nn[i] = n + i < n1 ? n + i : n1 - 1;
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    {
      int32_t wsum[4] = {0, 0, 0, 0};
      int64_t k, K64 = K & ~(int64_t)63;
      __m512i one = _mm512_set1_epi8(1), q0 = _mm512_setzero_si512(), q1 = q0, q2 = q0, q3 = q0, z = q0;
      int32_t t8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (k = 0; k < K64; k += 64) {
        q0 = _mm512_dpbusd_epi32(q0, one, _mm512_loadu_si512((const void *)(w + nn[0] * K + k)));
        q1 = _mm512_dpbusd_epi32(q1, one, _mm512_loadu_si512((const void *)(w + nn[1] * K + k)));
        q2 = _mm512_dpbusd_epi32(q2, one, _mm512_loadu_si512((const void *)(w + nn[2] * K + k)));
        q3 = _mm512_dpbusd_epi32(q3, one, _mm512_loadu_si512((const void *)(w + nn[3] * K + k)));
      }
      k_q_hsum8(q0, z, q1, z, q2, z, q3, z, t8);
      for (i = 0; i < 4; i++) wsum[i] = t8[2 * i];
      wsp = wsum;
#endif
    for (r = 0; r < rows; r += 2) {
      int64_t r1 = r + 1 < rows ? r + 1 : r;
      k_qdot42(K, w + nn[0] * K, w + nn[1] * K, w + nn[2] * K, w + nn[3] * K, x + r * K, x + r1 * K, wsp, acc);
      for (i = 0; i < 4 && n + i < n1; i++)
        for (j = 0; j < 2 && r + j < rows; j++) {
          int64_t o = (r + j) * ldyr + nn[i] * ldyn, v = zy + k_q_rshift(((int64_t)acc[2 * i + j] + bias[nn[i]]) * mult[nn[i]], shift);
          if (res) v += k_q_rshift((int64_t)(res[o] - zr) * rmul, rshift);
          y[o] = k_q_clamp(v, lo, hi);
        }
    }
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    }
#endif
  }
}

/* ------------------------------------------------------- convolution */

typedef struct {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G;
  int32_t zx, zy, lo, hi; /* input / output zero points, output clamp (folded Relu / Clip) */
  int32_t shift;          /* of the per-channel multipliers */
  int32_t zr, rmul, rshift; /* fused residual input: zero point, multiplier, shift (rmul 0: none) */
} KQConv;

#define MRTC_QTILE 64

/* scratch bytes: one tile of gathered input */
MRTC_FN int64_t k_qconv_scratch(const KQConv *s) { return s->C / s->G * s->KH * s->KW * MRTC_QTILE + 64; }

/* Y[m, p] = requant(bias[m] + sum_k W[m, k] * X[k, p]) over tiles of
 * MRTC_QTILE output pixels: the tile's receptive fields are gathered into
 * scratch, one row of K per pixel (padding reads as the input zero point,
 * i.e. real 0; bias already holds -zx * sum_k W[m, k]), then each pixel
 * row is a dot product with each weight row (k_qrows_i8). */
MRTC_FN void k_qconv_i8(const KQConv *s, const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int8_t *res, int8_t *y, void *scratch) {
  /* locals: int8 stores may alias *s, which would force reloads in the gather */
  const int64_t H = s->H, W = s->W, KH = s->KH, KW = s->KW, SH = s->SH, SW = s->SW, PT = s->PT, PL = s->PL;
  const int64_t DH = s->DH, DW = s->DW, OW = s->OW, M = s->M, HW = H * W, rs = DH * W;
  const int64_t cg = s->C / s->G, mg = M / s->G, K = cg * KH * KW, P = s->OH * OW;
  const int8_t zx = (int8_t)s->zx;
  int8_t *col = (int8_t *)scratch;
  int64_t n, g, p0, t, c, kh, kw;
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      const int8_t *xg = x + (n * s->C + g * cg) * HW;
      for (p0 = 0; p0 < P; p0 += MRTC_QTILE) {
        int64_t T = P - p0 < MRTC_QTILE ? P - p0 : MRTC_QTILE, o = (n * M + g * mg) * P + p0;
        int64_t oh = p0 / OW, ow = p0 % OW;
        if (KH == 1 && KW == 1) { /* 1x1: a transpose of the tile's pixels */
          for (t = 0; t < T; t++) {
            int64_t ih = oh * SH - PT, iw = ow * SW - PL;
            int8_t *cr = col + t * K;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
              const int8_t *xp = xg + ih * W + iw;
              for (c = 0; c < cg; c++) cr[c] = xp[c * HW];
            } else
              for (c = 0; c < cg; c++) cr[c] = zx;
            if (++ow == OW) ow = 0, oh++;
          }
        } else
          for (t = 0; t < T; t++) {
            int64_t ih0 = oh * SH - PT, iw0 = ow * SW - PL;
            int8_t *cr = col + t * K;
            if (ih0 >= 0 && ih0 + (KH - 1) * DH < H && iw0 >= 0 && iw0 + (KW - 1) * DW < W) {
              const int8_t *xb = xg + ih0 * W + iw0;
              if (DW == 1 && KW == 3)
                for (c = 0; c < cg; c++, xb += HW) {
                  const int8_t *xr = xb;
                  for (kh = 0; kh < KH; kh++, xr += rs, cr += 3) cr[0] = xr[0], cr[1] = xr[1], cr[2] = xr[2];
                }
              else if (DW == 1)
                for (c = 0; c < cg; c++, xb += HW) {
                  const int8_t *xr = xb;
                  for (kh = 0; kh < KH; kh++, xr += rs)
                    for (kw = 0; kw < KW; kw++) *cr++ = xr[kw];
                }
              else
                for (c = 0; c < cg; c++, xb += HW) {
                  const int8_t *xr = xb;
                  for (kh = 0; kh < KH; kh++, xr += rs)
                    for (kw = 0; kw < KW; kw++) *cr++ = xr[kw * DW];
                }
            } else
              for (c = 0; c < cg; c++) {
                const int8_t *xc = xg + c * HW;
                for (kh = 0; kh < KH; kh++) {
                  int64_t ih = ih0 + kh * DH;
                  int in_h = ih >= 0 && ih < H;
                  for (kw = 0; kw < KW; kw++) {
                    int64_t iw = iw0 + kw * DW;
                    *cr++ = (in_h && iw >= 0 && iw < W) ? xc[ih * W + iw] : zx;
                  }
                }
              }
            if (++ow == OW) ow = 0, oh++;
          }
        k_qrows_i8(T, K, 0, mg, col, w + g * mg * K, bias + g * mg, mult + g * mg, s->shift, s->zy, s->lo, s->hi,
                   res ? res + o : 0, s->zr, s->rmul, s->rshift, y + o, 1, P);
      }
    }
}

/* ------------------------------------------------------------- GEMM */

typedef struct {
  int64_t rows, K, N;     /* X is rows x K, W is N x K (one row per output channel), Y rows x N */
  int32_t zx, zy, lo, hi, shift;
  int32_t zr, rmul, rshift; /* fused residual (rows x N) */
} KQGemm;

MRTC_FN void k_qgemm_i8(const KQGemm *s, const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int8_t *res, int8_t *y) {
  k_qrows_i8(s->rows, s->K, 0, s->N, x, w, bias, mult, s->shift, s->zy, s->lo, s->hi, res, s->zr, s->rmul, s->rshift, y, s->N, 1);
}

/* ------------------------------------------------------ Add, Sub, Mul */

typedef struct {
  int rank;
  int64_t dims[8], sa[8], sb[8]; /* output dims (collapsed); input strides, 0 = broadcast */
  int32_t mul;                   /* 0: y = zy + round(((a - za) * ma + (b - zb) * mb) / 2^shift)
                                    1: y = zy + round((a - za) * (b - zb) * ma / 2^shift) */
  int32_t za, zb, zy, ma, mb, shift, lo, hi;
} KQBin;

MRTC_FN void k_qbin_i8(const KQBin *s, const int8_t *a, const int8_t *b, int8_t *y) {
  int64_t idx[8] = {0}, last = s->dims[s->rank - 1], sa = s->sa[s->rank - 1], sb = s->sb[s->rank - 1], i;
  do {
    int64_t oa = 0, ob = 0;
    int d;
    for (d = 0; d < s->rank - 1; d++) {
      oa += idx[d] * s->sa[d];
      ob += idx[d] * s->sb[d];
    }
    if (s->mul)
      for (i = 0; i < last; i++)
        y[i] = k_q_clamp(s->zy + k_q_rshift((int64_t)((a[oa + i * sa] - s->za) * (b[ob + i * sb] - s->zb)) * s->ma, s->shift),
                         s->lo, s->hi);
    else
      for (i = 0; i < last; i++)
        y[i] = k_q_clamp(s->zy + k_q_rshift((int64_t)(a[oa + i * sa] - s->za) * s->ma + (int64_t)(b[ob + i * sb] - s->zb) * s->mb,
                                            s->shift),
                         s->lo, s->hi);
    y += last;
  } while (k_next_index(s->rank - 1, s->dims, idx));
}

/* ---------------------------------------------------- average pooling */

typedef struct {
  int64_t NC, H, W, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR; /* PB, PR: end pads */
  int32_t count_pad;      /* count_include_pad */
  int32_t zx, zy, shift;  /* mult[c]: the multiplier for a window of c taps */
} KQPool;

MRTC_FN void k_qavgpool_i8(const KQPool *s, const int8_t *x, const int32_t *mult, int8_t *y) {
  int64_t c, oh, ow, ih, iw;
  for (c = 0; c < s->NC; c++) {
    const int8_t *xc = x + c * s->H * s->W;
    for (oh = 0; oh < s->OH; oh++)
      for (ow = 0; ow < s->OW; ow++) {
        int64_t h0 = oh * s->SH - s->PT, w0 = ow * s->SW - s->PL, h1 = h0 + s->KH, w1 = w0 + s->KW, cnt;
        int64_t hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0, he = h1 > s->H ? s->H : h1, we = w1 > s->W ? s->W : w1;
        int32_t sum = 0;
        for (ih = hs; ih < he; ih++)
          for (iw = ws; iw < we; iw++) sum += xc[ih * s->W + iw] - s->zx;
        if (s->count_pad) {
          int64_t ph0 = h0 < -s->PT ? -s->PT : h0, pw0 = w0 < -s->PL ? -s->PL : w0;
          int64_t ph1 = h1 > s->H + s->PB ? s->H + s->PB : h1, pw1 = w1 > s->W + s->PR ? s->W + s->PR : w1;
          cnt = (ph1 - ph0) * (pw1 - pw0);
        } else
          cnt = (he - hs) * (we - ws);
        if (cnt < 1) cnt = 1;
        y[(c * s->OH + oh) * s->OW + ow] = k_q_clamp(s->zy + k_q_rshift((int64_t)sum * mult[cnt], s->shift), -128, 127);
      }
  }
}

#endif
