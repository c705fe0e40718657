/*
 * k_qlinear.h: linear quantization (QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear) and the integer ops (MatMulInteger, ConvInteger,
 * QLinearMatMul, QLinearConv).
 *
 * Element types travel as ONNX TensorProto numbers (KQ_F32 = 1, ...), so
 * one kernel serves every combination of input, scale and zero-point types
 * the ops allow; the per-element switch is cheap next to the arithmetic.
 *
 * Rounding follows the ONNX reference (numpy):
 *   QuantizeLinear: q = x / scale computed in the promoted precision of x
 *     and scale (float32 / float16 / bfloat16; float64 for int32 x; or the
 *     'precision' attribute), then rint (half to even), + zero point,
 *     saturated to the output type.
 *   DequantizeLinear: (x - zero point) * scale in float32 (float64 when x
 *     and the zero point are int32), then cast to the output type.
 *   Narrow types (stored one element per byte, see k_cast.h): int4 / uint4
 *     / int2 / uint2 quantize like int8 with their own ranges; the float8
 *     and float4e2m1 outputs skip the rint: x / scale + zero point is
 *     converted with k_f8_enc (nearest even; saturate attribute for
 *     float8, float4e2m1 always saturates).  Dequantization reads them by
 *     value.
 *   Integer ops: exact int32 accumulation of (x - x_zp) * (w - w_zp);
 *   QLinear*: acc * M with M = x_scale * w_scale / y_scale computed in the
 *     scales' type, the product in float64, + y_zp, rint, saturate.
 */
#ifndef MRTC_K_QLINEAR_H
#define MRTC_K_QLINEAR_H
#include "k_common.h"
#include "k_cast.h"

enum { KQ_F32 = 1, KQ_U8 = 2, KQ_I8 = 3, KQ_U16 = 4, KQ_I16 = 5, KQ_I32 = 6, KQ_F16 = 10, KQ_F64 = 11, KQ_BF16 = 16 };
/* narrow types (ONNX numbers): float8 e4m3fn 17, e4m3fnuz 18, e5m2 19, e5m2fnuz 20, uint4 21, int4 22, float4e2m1 23,
 * uint2 25, int2 26 */
enum { KQ_U4 = 21, KQ_I4 = 22, KQ_U2 = 25, KQ_I2 = 26 };
MRTC_FN int kq_is_f8(int t) { return (t >= 17 && t <= 20) || t == 23; }

/* element i of p (type t) as double */
MRTC_FN double kq_rd(const void *p, int t, int64_t i) {
  switch (t) {
  case KQ_F32: return ((const float *)p)[i];
  case KQ_U8: return ((const uint8_t *)p)[i];
  case KQ_I8: return ((const int8_t *)p)[i];
  case KQ_U16: return ((const uint16_t *)p)[i];
  case KQ_I16: return ((const int16_t *)p)[i];
  case KQ_I32: return ((const int32_t *)p)[i];
  case KQ_F16: return k_h2f(((const uint16_t *)p)[i]);
  case KQ_BF16: return k_bf2f(((const uint16_t *)p)[i]);
  case KQ_F64: return ((const double *)p)[i];
  case KQ_U4: case KQ_U2: return ((const uint8_t *)p)[i];
  case KQ_I4: case KQ_I2: return ((const int8_t *)p)[i];
  default: return kq_is_f8(t) ? k_f8_dec(((const uint8_t *)p)[i], t) : 0;
  }
}

/* element i of an integer tensor as int32 */
MRTC_FN int32_t kq_rdi(const void *p, int t, int64_t i) {
  switch (t) {
  case KQ_U4: case KQ_U2: return ((const uint8_t *)p)[i];
  case KQ_I4: case KQ_I2: return ((const int8_t *)p)[i];
  case KQ_U8: return ((const uint8_t *)p)[i];
  case KQ_I8: return ((const int8_t *)p)[i];
  case KQ_U16: return ((const uint16_t *)p)[i];
  case KQ_I16: return ((const int16_t *)p)[i];
  case KQ_I32: return ((const int32_t *)p)[i];
  default: return 0;
  }
}

/* v rounded to the precision of float type t (nearest even) */
MRTC_FN double kq_prec(double v, int t) {
  switch (t) {
  case KQ_F32: return (double)(float)v;
  case KQ_F16: return (double)k_h2f(k_d2h(v));
  case KQ_BF16: return (double)k_bf2f(k_f2bf((float)v));
  default: return v;
  }
}

MRTC_FN void kq_range(int t, double *lo, double *hi) {
  switch (t) {
  case KQ_U8: *lo = 0, *hi = 255; break;
  case KQ_I8: *lo = -128, *hi = 127; break;
  case KQ_U16: *lo = 0, *hi = 65535; break;
  case KQ_I16: *lo = -32768, *hi = 32767; break;
  case KQ_U4: *lo = 0, *hi = 15; break;
  case KQ_I4: *lo = -8, *hi = 7; break;
  case KQ_U2: *lo = 0, *hi = 3; break;
  case KQ_I2: *lo = -2, *hi = 1; break;
  default: *lo = -2147483648.0, *hi = 2147483647.0; break;
  }
}

/* stores an integral double, saturated to integer type t */
MRTC_FN void kq_wr_sat(void *p, int t, int64_t i, double v) {
  double lo, hi;
  kq_range(t, &lo, &hi);
  if (v != v) v = lo; /* NaN: numpy's int32 cast gives INT_MIN, clipped to the low end */
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  switch (t) {
  case KQ_U8: case KQ_U4: case KQ_U2: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case KQ_I8: case KQ_I4: case KQ_I2: ((int8_t *)p)[i] = (int8_t)v; break;
  case KQ_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case KQ_I16: ((int16_t *)p)[i] = (int16_t)v; break;
  default: ((int32_t *)p)[i] = (int32_t)v; break;
  }
}

/* stores v converted to float type t */
MRTC_FN void kq_wr_flt(void *p, int t, int64_t i, double v) {
  switch (t) {
  case KQ_F32: ((float *)p)[i] = (float)v; break;
  case KQ_F16: ((uint16_t *)p)[i] = k_d2h(v); break;
  case KQ_BF16: ((uint16_t *)p)[i] = k_f2bf((float)v); break;
  default: ((double *)p)[i] = v; break;
  }
}

/* Geometry shared by (de)quantization: x viewed as [outer, alen, inner];
 * the scale / zero point of element (o, a, i) is at o*so + (a/block)*sa + i*si
 * (per-tensor: all strides 0; per-axis: sa = 1; blocked: so = ceil(alen/block)
 * * inner, sa = inner, si = 1). */
typedef struct KQGeo {
  int64_t outer, alen, inner, block, so, sa, si;
} KQGeo;

/* y = saturate(rint(x / scale) + zp); prec: the float type of the division;
 * float8 / float4 y: k_f8_enc(x / scale + zp, sat) */
MRTC_FN void k_quantize(const KQGeo *g, const void *x, int xt, const void *s, int st, const void *zp, int zt, int prec,
                        void *y, int yt, int sat) {
  int64_t o, a, i, e = 0;
  for (o = 0; o < g->outer; o++)
    for (a = 0; a < g->alen; a++) {
      int64_t sb = o * g->so + (a / g->block) * g->sa;
      for (i = 0; i < g->inner; i++, e++) {
        int64_t si = sb + i * g->si;
        double xv = kq_prec(kq_rd(x, xt, e), prec), sv = kq_prec(kq_rd(s, st, si), prec);
        double q;
        if (kq_is_f8(yt)) {
          q = kq_prec(xv / sv, prec);
          if (zp) q = kq_prec(q + kq_rd(zp, zt, si), prec);
          ((uint8_t *)y)[e] = k_f8_enc(q, yt, sat);
          continue;
        }
        q = rint(kq_prec(xv / sv, prec));
        if (zp) q += kq_rdi(zp, zt, si);
        kq_wr_sat(y, yt, e, q);
      }
    }
}

/* y = (x - zp) * scale, computed as numpy does: x to float32, the zero point
 * subtracted in float32 (float64 for an int32 zero point), the product in
 * the wider of that and the scale's type; then cast to yt */
MRTC_FN void k_dequantize(const KQGeo *g, const void *x, int xt, const void *s, int st, const void *zp, int zt, void *y,
                          int yt) {
  int64_t o, a, i, e = 0;
  for (o = 0; o < g->outer; o++)
    for (a = 0; a < g->alen; a++) {
      int64_t sb = o * g->so + (a / g->block) * g->sa;
      for (i = 0; i < g->inner; i++, e++) {
        int64_t si = sb + i * g->si;
        double dx = (double)(float)kq_rd(x, xt, e), v;
        int wide = 0;
        if (zp) {
          dx -= kq_rd(zp, zt, si);
          if (zt == KQ_I32) wide = 1;
          else dx = (double)(float)dx;
        }
        v = dx * kq_rd(s, st, si);
        if (!wide && st != KQ_F64) v = (double)(float)v;
        kq_wr_flt(y, yt, e, v);
      }
    }
}

/* DynamicQuantizeLinear (float32 -> uint8): scale and zero point from the
 * range of x extended to include 0 */
MRTC_FN void k_dynquant_f32(int64_t n, const float *x, uint8_t *y, float *yscale, uint8_t *yzp) {
  float mx = 0.0f, mn = 0.0f, sc, zp0, zp;
  int64_t i;
  for (i = 0; i < n; i++) {
    if (x[i] > mx) mx = x[i];
    if (x[i] < mn) mn = x[i];
  }
  sc = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  zp0 = 0.0f - mn / sc;
  zp = zp0 < 0.0f ? 0.0f : zp0 > 255.0f ? 255.0f : zp0;
  zp = rintf(zp);
  for (i = 0; i < n; i++) {
    float q = rintf(x[i] / sc) + zp;
    y[i] = (uint8_t)(q < 0.0f ? 0.0f : q > 255.0f ? 255.0f : q);
  }
  *yscale = sc;
  *yzp = (uint8_t)zp;
}

/* out[r][c] = x[r][c] - zp[(r % zmod)*zr + c*zc] as int32 (zp NULL: 0) */
MRTC_FN void k_q_widen(int64_t rows, int64_t cols, const void *x, int xt, const void *zp, int zt, int64_t zmod, int64_t zr,
                       int64_t zc, int32_t *out) {
  int64_t r, c;
  for (r = 0; r < rows; r++)
    for (c = 0; c < cols; c++)
      out[r * cols + c] = kq_rdi(x, xt, r * cols + c) - (zp ? kq_rdi(zp, zt, (r % zmod) * zr + c * zc) : 0);
}

/* C[M][N] = A[M][K] * B[K][N], int32, exact (wrapping like int32) */
MRTC_FN void k_qgemm_i32(int64_t M, int64_t N, int64_t K, const int32_t *A, const int32_t *B, int32_t *C) {
  int64_t i, j, k;
  for (i = 0; i < M; i++) {
    uint32_t *c = (uint32_t *)(C + i * N);
    for (j = 0; j < N; j++) c[j] = 0;
    for (k = 0; k < K; k++) {
      uint32_t a = (uint32_t)A[i * K + k];
      const uint32_t *b = (const uint32_t *)(B + k * N);
      if (!a) continue;
      for (j = 0; j < N; j++) c[j] += a * b[j];
    }
  }
}

/* y[i] = saturate(rint(acc[i] * m[(i / mdiv) % mmod] + yzp)) for n elements */
MRTC_FN void k_q_requant(int64_t n, const int32_t *acc, const double *m, int64_t mdiv, int64_t mmod, double yzp, void *y,
                         int yt, int64_t yoff) {
  int64_t i;
  for (i = 0; i < n; i++) kq_wr_sat(y, yt, yoff + i, rint((double)acc[i] * m[(i / mdiv) % mmod] + yzp));
}

/* multiplier x_scale * w_scale / y_scale in the scales' float type st */
MRTC_FN double kq_mult(double xs, double ws, double ys, int st) {
  return kq_prec(kq_prec(xs * ws, st) / ys, st);
}

/* integer convolution geometry (1-D: H = KH = OH = 1) */
typedef struct KQConv {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G;
} KQConv;

MRTC_FN int64_t k_qconv_scratch(const KQConv *s) { /* int32 elements */
  return s->M * (s->C / s->G) * s->KH * s->KW + (s->C / s->G) * s->KH * s->KW * s->OH * s->OW + s->OH * s->OW;
}

/* Integer convolution, int32 accumulation.  x (type xt) minus x_zp (scalar),
 * w (type wt) minus w_zp (scalar or per output channel: wzn elements),
 * padding contributes 0.  bias (int32, may be NULL).  Per output channel
 * row, emit(): raw int32 to y (yt = KQ_I32, mult NULL), or requantized with
 * mult[m] and yzp into y of type yt. */
MRTC_FN void k_qconv(const KQConv *s, const void *x, int xt, const void *xzp, int xzt, const void *w, int wt,
                     const void *wzp, int wzt, int64_t wzn, const int32_t *bias, const double *mult, double yzp, void *y,
                     int yt, int32_t *scratch) {
  int64_t Cg = s->C / s->G, Mg = s->M / s->G, K = Cg * s->KH * s->KW, P = s->OH * s->OW;
  int32_t *wq = scratch, *col = scratch + s->M * K, *acc = col + K * P;
  int32_t xz = xzp ? kq_rdi(xzp, xzt, 0) : 0;
  int64_t n, g, m, k, p, c, kh, kw, oh, ow;
  for (m = 0; m < s->M; m++) {
    int32_t wz = wzp ? kq_rdi(wzp, wzt, wzn > 1 ? m : 0) : 0;
    for (k = 0; k < K; k++) wq[m * K + k] = kq_rdi(w, wt, m * K + k) - wz;
  }
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      int64_t xb = (n * s->C + g * Cg) * s->H * s->W;
      for (c = 0; c < Cg; c++)
        for (kh = 0; kh < s->KH; kh++)
          for (kw = 0; kw < s->KW; kw++) {
            int32_t *cr = col + ((c * s->KH + kh) * s->KW + kw) * P;
            for (oh = 0; oh < s->OH; oh++) {
              int64_t ih = oh * s->SH - s->PT + kh * s->DH;
              for (ow = 0; ow < s->OW; ow++) {
                int64_t iw = ow * s->SW - s->PL + kw * s->DW;
                cr[oh * s->OW + ow] = ih < 0 || ih >= s->H || iw < 0 || iw >= s->W
                                          ? 0
                                          : kq_rdi(x, xt, xb + (c * s->H + ih) * s->W + iw) - xz;
              }
            }
          }
      for (m = g * Mg; m < (g + 1) * Mg; m++) {
        uint32_t *a = (uint32_t *)acc;
        int64_t yo = (n * s->M + m) * P;
        uint32_t b0 = bias ? (uint32_t)bias[m] : 0u;
        for (p = 0; p < P; p++) a[p] = b0;
        for (k = 0; k < K; k++) {
          uint32_t wv = (uint32_t)wq[m * K + k];
          const uint32_t *cr = (const uint32_t *)(col + k * P);
          if (!wv) continue;
          for (p = 0; p < P; p++) a[p] += wv * cr[p];
        }
        if (mult) k_q_requant(P, acc, mult + m, 1, 1, yzp, y, yt, yo);
        else memcpy((int32_t *)y + yo, acc, sizeof(int32_t) * (size_t)P);
      }
    }
}

#endif
