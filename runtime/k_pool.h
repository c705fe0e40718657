/*
 * k_pool.h: max, average and Lp pooling over 1 to 3 spatial dims (NC D H W),
 * with strides, dilations and asymmetric pads; global pooling is the case
 * kernel = input.
 *
 * The compiler right-aligns the spatial dims into three (missing leading
 * ones have size 1, kernel 1, stride 1, no pads), so one loop nest serves
 * 1-D, 2-D and 3-D pooling.  Padding is never read: for each output the
 * kernel taps that land inside the input are found per dim (k_pool_taps),
 * and the window only visits those.  Average pooling divides by the taps
 * inside the input (count_include_pad = 0) or inside the padded input
 * [-pb, in + pe) (count_include_pad = 1; windows that ceil_mode lets run
 * past the end padding do not count the overhang).  MaxPool can also write
 * the flat index of each maximum (ONNX Indices: over N C D H W, row-major,
 * or with the spatial part column-major when storage_order = 1), and
 * k_maxunpool scatters such values back.
 */
#ifndef MRTC_K_POOL_H
#define MRTC_K_POOL_H
#include "k_common.h"
#if defined(__AVX512F__) || defined(__AVX__) || defined(__AVX512BW__)
#include <immintrin.h>
#endif

typedef struct {
  int64_t NC;                  /* batch * channels: independent planes */
  int64_t in[3], out[3], k[3]; /* input size, output size, kernel size */
  int64_t st[3], dil[3], pb[3], pe[3];
} KPoolShape;

/* Kernel taps k in [*lo, return) of a window starting at START (stride
 * DIL) that fall inside [0, n). */
MRTC_FN int64_t k_pool_taps(int64_t start, int64_t dil, int64_t K, int64_t n, int64_t *lo) {
  int64_t l = start < 0 ? (-start + dil - 1) / dil : 0, h = start < n ? (n - start + dil - 1) / dil : 0;
  *lo = l;
  return h < K ? h : K;
}

/* Loops over every output of plane c: defines s0..s2 (window starts),
 * l0..l2 / h0..h2 (tap ranges); the body (macro arguments) visits the
 * window. */
#define MRTC_POOL_LOOP(s, ...)                                                    \
  {                                                                              \
    int64_t o0, o1, o2;                                                          \
    for (o0 = 0; o0 < s->out[0]; o0++) {                                         \
      int64_t s0 = o0 * s->st[0] - s->pb[0], l0, h0 = k_pool_taps(s0, s->dil[0], s->k[0], s->in[0], &l0); \
      for (o1 = 0; o1 < s->out[1]; o1++) {                                       \
        int64_t s1 = o1 * s->st[1] - s->pb[1], l1, h1 = k_pool_taps(s1, s->dil[1], s->k[1], s->in[1], &l1); \
        for (o2 = 0; o2 < s->out[2]; o2++) {                                     \
          int64_t s2 = o2 * s->st[2] - s->pb[2], l2, h2 = k_pool_taps(s2, s->dil[2], s->k[2], s->in[2], &l2); \
          __VA_ARGS__                                                            \
        }                                                                        \
      }                                                                          \
    }                                                                            \
  }

/* y = max over the window; ind (may be NULL) = flat index of the first max */
#define MRTC_MAXPOOL(T, tag, LOWEST)                                                                    \
  MRTC_FN void k_maxpool_##tag(const KPoolShape *s, const T *x, T *y, int64_t *ind, int colmajor) {     \
    int64_t c, isz = s->in[0] * s->in[1] * s->in[2];                                                    \
    for (c = 0; c < s->NC; c++) {                                                                       \
      const T *xc = x + c * isz;                                                                        \
      MRTC_POOL_LOOP(s, {                                                                               \
        T m = LOWEST;                                                                                   \
        int64_t b0 = -1, b1 = 0, b2 = 0, k0, k1, k2;                                                    \
        for (k0 = l0; k0 < h0; k0++) {                                                                  \
          int64_t i0 = s0 + k0 * s->dil[0];                                                             \
          for (k1 = l1; k1 < h1; k1++) {                                                                \
            int64_t i1 = s1 + k1 * s->dil[1];                                                           \
            const T *xr = xc + (i0 * s->in[1] + i1) * s->in[2];                                         \
            for (k2 = l2; k2 < h2; k2++) {                                                              \
              int64_t i2 = s2 + k2 * s->dil[2];                                                         \
              if (b0 < 0 || xr[i2] > m) {                                                               \
                m = xr[i2];                                                                             \
                b0 = i0, b1 = i1, b2 = i2;                                                              \
              }                                                                                         \
            }                                                                                           \
          }                                                                                             \
        }                                                                                               \
        *y++ = m;                                                                                       \
        if (ind) {                                                                                      \
          if (b0 < 0) b0 = 0;                                                                           \
          *ind++ = c * isz + (colmajor ? (b2 * s->in[1] + b1) * s->in[0] + b0                           \
                                       : (b0 * s->in[1] + b1) * s->in[2] + b2);                         \
        }                                                                                               \
      })                                                                                                \
    }                                                                                                   \
  }

/* y = average over the window (see the header comment for the divisor) */
#define MRTC_AVGPOOL(T, tag)                                                                         \
  MRTC_FN void k_avgpool_##tag(const KPoolShape *s, const T *x, T *y, int count_include_pad) {      \
    int64_t c, isz = s->in[0] * s->in[1] * s->in[2];                                                 \
    for (c = 0; c < s->NC; c++) {                                                                    \
      const T *xc = x + c * isz;                                                                     \
      MRTC_POOL_LOOP(s, {                                                                            \
        double acc = 0;                                                                              \
        int64_t cnt, k0, k1, k2;                                                                     \
        for (k0 = l0; k0 < h0; k0++)                                                                 \
          for (k1 = l1; k1 < h1; k1++) {                                                             \
            const T *xr = xc + ((s0 + k0 * s->dil[0]) * s->in[1] + s1 + k1 * s->dil[1]) * s->in[2]; \
            for (k2 = l2; k2 < h2; k2++) acc += xr[s2 + k2 * s->dil[2]];                             \
          }                                                                                          \
        if (count_include_pad) {                                                                     \
          int64_t q0, q1, q2, r0, r1, r2;                                                            \
          r0 = k_pool_taps(s0 + s->pb[0], s->dil[0], s->k[0], s->in[0] + s->pb[0] + s->pe[0], &q0);  \
          r1 = k_pool_taps(s1 + s->pb[1], s->dil[1], s->k[1], s->in[1] + s->pb[1] + s->pe[1], &q1);  \
          r2 = k_pool_taps(s2 + s->pb[2], s->dil[2], s->k[2], s->in[2] + s->pb[2] + s->pe[2], &q2);  \
          cnt = (r0 - q0) * (r1 - q1) * (r2 - q2);                                                   \
        } else                                                                                       \
          cnt = (h0 - l0) * (h1 - l1) * (h2 - l2);                                                   \
        *y++ = (T)(cnt > 0 ? acc / (double)cnt : 0.0);                                               \
      })                                                                                             \
    }                                                                                                \
  }

/* y = (sum over the window of |x|^p)^(1/p); padding adds nothing */
#define MRTC_LPPOOL(T, tag)                                                                          \
  MRTC_FN void k_lppool_##tag(const KPoolShape *s, const T *x, T *y, double p) {                    \
    int64_t c, isz = s->in[0] * s->in[1] * s->in[2];                                                 \
    for (c = 0; c < s->NC; c++) {                                                                    \
      const T *xc = x + c * isz;                                                                     \
      MRTC_POOL_LOOP(s, {                                                                            \
        double acc = 0;                                                                              \
        int64_t k0, k1, k2;                                                                          \
        for (k0 = l0; k0 < h0; k0++)                                                                 \
          for (k1 = l1; k1 < h1; k1++) {                                                             \
            const T *xr = xc + ((s0 + k0 * s->dil[0]) * s->in[1] + s1 + k1 * s->dil[1]) * s->in[2]; \
            for (k2 = l2; k2 < h2; k2++) {                                                           \
              double v = fabs((double)xr[s2 + k2 * s->dil[2]]);                                      \
              acc += p == 2.0 ? v * v : p == 1.0 ? v : pow(v, p);                                    \
            }                                                                                        \
          }                                                                                          \
        *y++ = (T)(p == 2.0 ? sqrt(acc) : p == 1.0 ? acc : pow(acc, 1.0 / p));                       \
      })                                                                                             \
    }                                                                                                \
  }

/* MaxUnpool: Y is zero except at the positions of ind, which hold X.  The
 * indices are flat over IDIMS (the shape MaxUnpool infers from the pooling
 * geometry); Y has shape ODIMS (output_shape, which may be larger: the
 * extra space is at the end of each dim).  Positions outside Y are skipped. */
MRTC_FN void k_maxunpool(int64_t n, int64_t esize, const void *x, const int64_t *ind, void *y, int rank,
                         const int64_t *idims, const int64_t *odims) {
  int64_t i, ni = 1, no = 1;
  int d;
  for (d = 0; d < rank; d++) ni *= idims[d], no *= odims[d];
  memset(y, 0, (size_t)(no * esize));
  for (i = 0; i < n; i++) {
    int64_t r = ind[i], o = 0, mul = 1;
    if (r < 0 || r >= ni) continue;
    for (d = rank - 1; d >= 0; d--) {
      int64_t c = r % idims[d];
      r /= idims[d];
      if (c >= odims[d]) break;
      o += c * mul;
      mul *= odims[d];
    }
    if (d < 0) memcpy((char *)y + o * esize, (const char *)x + i * esize, (size_t)esize);
  }
}

MRTC_MAXPOOL(float, f32, -INFINITY)

/* GlobalAveragePool of float planes of N elements: eight partial sums per
 * plane (they vectorize), then their total / N */
MRTC_FN void k_gavgpool_f32(int64_t planes, int64_t n, const float *x, float *y) {
  int64_t c, j;
  for (c = 0; c < planes; c++, x += n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t;
    int i;
    for (j = 0; j + 8 <= n; j += 8)
      for (i = 0; i < 8; i++) a[i] += x[j + i];
    t = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; j < n; j++) t += x[j];
    y[c] = t / (float)n;
  }
}

/* The CNN case of k_maxpool_<T> for float, int8 and uint8: 2-D (or 1-D),
 * no dilation, no indices.  Per output row, the max over the window's rows
 * of every input column first (contiguous vector loops) into TMP (W
 * elements, + 48 for the vector loads' overhang), then the max over the
 * window's columns (3 wide: unrolled; float 3x3 stride 2 on AVX-512 takes
 * k_maxpool3s2_f32 above instead).  The first tap of a window starts the max and later taps replace it only when
 * greater, as in k_maxpool_<T>, so NaN handling and results are the same. */

/* TMP[j] = max(XR[j], TMP[j]) over the row: maxps/pmaxsb return the first operand where greater */
#if defined(__AVX512F__)
#define MRTC_VMAXROW_f32                                                                                       \
  for (j = 0; j < W / 16 * 16; j += 16)                                                                         \
    _mm512_storeu_ps(tmp + j, _mm512_max_ps(_mm512_loadu_ps(xr + j), _mm512_loadu_ps(tmp + j)));               \
  for (j = W / 16 * 16; j < W; j++) tmp[j] = xr[j] > tmp[j] ? xr[j] : tmp[j];
#elif defined(__AVX__)
#define MRTC_VMAXROW_f32                                                                                       \
  for (j = 0; j < W / 8 * 8; j += 8)                                                                            \
    _mm256_storeu_ps(tmp + j, _mm256_max_ps(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(tmp + j)));               \
  for (j = W / 8 * 8; j < W; j++) tmp[j] = xr[j] > tmp[j] ? xr[j] : tmp[j];
#else
#define MRTC_VMAXROW_f32 for (j = 0; j < W; j++) tmp[j] = xr[j] > tmp[j] ? xr[j] : tmp[j];
#endif
#if defined(__AVX512BW__)
#define MRTC_VMAXROW8(VMAX)                                                                                    \
  for (j = 0; j < W / 64 * 64; j += 64)                                                                         \
    _mm512_storeu_si512((void *)(tmp + j),                                                                      \
                        VMAX(_mm512_loadu_si512((const void *)(xr + j)), _mm512_loadu_si512((const void *)(tmp + j)))); \
  for (j = W / 64 * 64; j < W; j++) tmp[j] = xr[j] > tmp[j] ? xr[j] : tmp[j];
#define MRTC_VMAXROW_i8 MRTC_VMAXROW8(_mm512_max_epi8)
#define MRTC_VMAXROW_u8 MRTC_VMAXROW8(_mm512_max_epu8)
#else
#define MRTC_VMAXROW_i8 for (j = 0; j < W; j++) tmp[j] = xr[j] > tmp[j] ? xr[j] : tmp[j];
#define MRTC_VMAXROW_u8 MRTC_VMAXROW_i8
#endif

/* output OW from the window's columns that fall inside the row */
#define MRTC_HMAX1(T, LOWEST)                                                                                  \
  {                                                                                                            \
    int64_t cw = ow * SW - PL, l, h = k_pool_taps(cw, 1, KW, W, &l);                                           \
    T m = h > l ? tmp[cw + l] : LOWEST;                                                                        \
    for (k = l + 1; k < h; k++) m = tmp[cw + k] > m ? tmp[cw + k] : m;                                         \
    *y++ = m;                                                                                                  \
  }


#if defined(__AVX512F__)
/* float, 3x3, stride 2 (the CNN MaxPool) on AVX-512: per output row, 16
 * outputs at a time from registers: the window rows' maximum over 33
 * input columns (masked loads, lanes outside the row read -inf), then the
 * even, odd and next-even columns (permutes).  No row buffer, so no loads
 * of freshly stored data.  Interior windows take their taps in the order
 * of k_maxpool_f32 (first tap, then replace when greater), so results are
 * the same bit for bit, NaN included; the at most two border windows of a
 * row (left pad, right end) are redone in that order over their inside
 * taps only. */
MRTC_FN __m512 k_mp_rows512(const float *r0, int64_t nr, int64_t W, int64_t col) {
  int64_t a = col < 0 ? -col : 0, b = W - col, l; /* lanes [a, b) lie inside the row */
  __mmask16 m = (__mmask16)(b <= a ? 0u : ((b >= 16 ? 0xFFFFu : (1u << b) - 1u) & ~((1u << (a < 16 ? a : 16)) - 1u)));
  __m512 v;
  v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, r0 + col);
  for (l = 1; l < nr; l++) v = _mm512_max_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, r0 + l * W + col), v);
  return v;
}
MRTC_FN int k_maxpool3s2_f32(const KPoolShape *s, const float *x, float *y) {
  const int64_t H = s->in[1], W = s->in[2], OH = s->out[1], OW = s->out[2], PT = s->pb[1], PL = s->pb[2];
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  int64_t c, oh, g, ow, k, j;
  if (s->k[1] != 3 || s->k[2] != 3 || s->st[1] != 2 || s->st[2] != 2 || PL > 2 || PT > 2) return 0;
  for (c = 0; c < s->NC; c++)
    for (oh = 0; oh < OH; oh++, y += OW) {
      int64_t r = oh * 2 - PT, lo, hi = k_pool_taps(r, 1, 3, H, &lo);
      const float *r0 = x + (c * H + r + lo) * W;
      if (hi <= lo) {
        for (ow = 0; ow < OW; ow++) y[ow] = -INFINITY;
        continue;
      }
      for (g = 0; g < OW; g += 16) {
        int64_t col = 2 * g - PL;
        __m512 a = k_mp_rows512(r0, hi - lo, W, col), b = k_mp_rows512(r0, hi - lo, W, col + 16);
        __m512 n = k_mp_rows512(r0, hi - lo, W, col + 32);
        __m512 e0 = _mm512_permutex2var_ps(a, ie, b), o0 = _mm512_permutex2var_ps(a, io, b);
        __m512 e1 = _mm512_permutex2var_ps(_mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 2)), ie,
                                           _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(n), _mm512_castps_si512(b), 2)));
        _mm512_mask_storeu_ps(y + g, (__mmask16)(OW - g >= 16 ? 0xFFFF : (1u << (OW - g)) - 1u), _mm512_max_ps(e1, _mm512_max_ps(o0, e0)));
      }
      for (ow = 0; ow < OW; ow = ow == 0 && OW > 1 ? OW - 1 : OW) { /* border windows (first, last): scalar order */
        int64_t c0 = ow * 2 - PL, l, h;
        float m = -INFINITY;
        if (c0 >= 0 && c0 + 2 < W) continue;
        h = k_pool_taps(c0, 1, 3, W, &l);
        for (k = l; k < h; k++) {
          float v = r0[c0 + k];
          for (j = 1; j < hi - lo; j++) v = r0[j * W + c0 + k] > v ? r0[j * W + c0 + k] : v;
          m = k == l || v > m ? v : m;
        }
        y[ow] = m;
      }
    }
  return 1;
}
#define MRTC_MAXPOOL_FAST_f32 if (k_maxpool3s2_f32(s, x, y)) return;
#else
#define MRTC_MAXPOOL_FAST_f32
#endif
#define MRTC_MAXPOOL_FAST_i8
#define MRTC_MAXPOOL_FAST_u8

#define MRTC_MAXPOOL2D(T, tag, LOWEST)                                                                         \
  MRTC_FN void k_maxpool2d_##tag(const KPoolShape *s, const T *x, T *y, T *tmp) {                              \
    const int64_t H = s->in[1], W = s->in[2], OH = s->out[1], OW = s->out[2], KH = s->k[1], KW = s->k[2];      \
    const int64_t SH = s->st[1], SW = s->st[2], PT = s->pb[1], PL = s->pb[2];                                  \
    int64_t c, oh, ow, j, k;                                                                                   \
    MRTC_MAXPOOL_FAST_##tag                                                                                    \
    for (c = 0; c < s->NC; c++) {                                                                              \
      const T *xc = x + c * H * W;                                                                             \
      for (oh = 0; oh < OH; oh++) {                                                                            \
        int64_t r0 = oh * SH - PT, lo, hi = k_pool_taps(r0, 1, KH, H, &lo);                                    \
        const T *xr;                                                                                           \
        if (hi <= lo) { /* the window lies in the padding */                                                   \
          for (ow = 0; ow < OW; ow++) *y++ = LOWEST;                                                           \
          continue;                                                                                            \
        }                                                                                                      \
        xr = xc + (r0 + lo) * W;                                                                               \
        memcpy(tmp, xr, (size_t)W * sizeof(T));                                                                \
        for (k = lo + 1; k < hi; k++) {                                                                        \
          xr += W;                                                                                             \
          MRTC_VMAXROW_##tag                                                                                   \
        }                                                                                                      \
        ow = 0;                                                                                                \
        if (KW == 3) {                                                                                         \
          for (; ow < OW; ow++) {                                                                              \
            int64_t c0 = ow * SW - PL;                                                                         \
            if (c0 >= 0 && c0 + 2 < W) { /* interior window, unrolled */                                       \
              const T *t = tmp + c0;                                                                           \
              T m = t[0];                                                                                      \
              m = t[1] > m ? t[1] : m;                                                                         \
              *y++ = t[2] > m ? t[2] : m;                                                                      \
            } else                                                                                             \
              MRTC_HMAX1(T, LOWEST)                                                                            \
          }                                                                                                    \
        } else                                                                                                 \
          for (; ow < OW; ow++) MRTC_HMAX1(T, LOWEST)                                                          \
      }                                                                                                        \
    }                                                                                                          \
  }
MRTC_MAXPOOL2D(float, f32, -INFINITY)
MRTC_MAXPOOL2D(int8_t, i8, -128)
MRTC_MAXPOOL2D(uint8_t, u8, 0)
MRTC_MAXPOOL(double, f64, -INFINITY)
MRTC_MAXPOOL(uint8_t, u8, 0)
MRTC_MAXPOOL(int8_t, i8, -128)

MRTC_AVGPOOL(float, f32)
MRTC_AVGPOOL(double, f64)
MRTC_LPPOOL(float, f32)
MRTC_LPPOOL(double, f64)

#endif
