/*
 * k_misc.h: kernels of compiler/ops/op_misc.c.
 *
 * k_swish_*: y = x * sigmoid(alpha * x); k_swiglu_*: y = swish(a) * b
 *   (f32, f64, and f16 computed in float).
 * k_revseq: ReverseSequence, any dtype (ESZ bytes): the first lens[b]
 *   steps of batch row b reversed along the time axis (0 or 1), the rest
 *   copied.
 * k_copy_region: an N-D box copy with source and destination element
 *   strides (CenterCropPad after a zero fill).
 * k_take: y[o][j] = x[o][idx[j]] over slabs of INNER bytes (Compress).
 * k_det_*: determinants of NMAT M x M matrices by LU with partial pivoting
 *   in double; scratch: M * M doubles.
 */
#ifndef MRTC_K_MISC_H
#define MRTC_K_MISC_H
#include "k_common.h"
#include "k_cast.h"

MRTC_FN void k_swish_f32(int64_t n, const float *x, float alpha, float *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-alpha * x[i]));
}
MRTC_FN void k_swish_f64(int64_t n, const double *x, double alpha, double *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = x[i] / (1.0 + exp(-alpha * x[i]));
}
MRTC_FN void k_swish_f16(int64_t n, const uint16_t *x, float alpha, uint16_t *y) {
  int64_t i;
  for (i = 0; i < n; i++) {
    float v = k_h2f(x[i]);
    y[i] = k_d2h((double)(v / (1.0f + expf(-alpha * v))));
  }
}
MRTC_FN void k_swiglu_f32(int64_t n, const float *a, const float *b, float alpha, float *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = a[i] / (1.0f + expf(-alpha * a[i])) * b[i];
}
MRTC_FN void k_swiglu_f64(int64_t n, const double *a, const double *b, double alpha, double *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = a[i] / (1.0 + exp(-alpha * a[i])) * b[i];
}
MRTC_FN void k_swiglu_f16(int64_t n, const uint16_t *a, const uint16_t *b, float alpha, uint16_t *y) {
  int64_t i;
  for (i = 0; i < n; i++) {
    float v = k_h2f(a[i]);
    y[i] = k_d2h((double)(v / (1.0f + expf(-alpha * v)) * k_h2f(b[i])));
  }
}

MRTC_FN void k_revseq(int64_t T, int64_t B, int64_t inner, int time_axis, const int64_t *lens, const void *xv, void *yv,
                      int esz) {
  const unsigned char *x = (const unsigned char *)xv;
  unsigned char *y = (unsigned char *)yv;
  int64_t b, t, bytes = inner * esz;
  for (b = 0; b < B; b++) {
    int64_t len = lens[b];
    if (len < 0) len = 0;
    if (len > T) len = T;
    for (t = 0; t < T; t++) {
      int64_t src = t < len ? len - 1 - t : t;
      int64_t od = time_axis == 0 ? t * B + b : b * T + t, os = time_axis == 0 ? src * B + b : b * T + src;
      memcpy(y + od * bytes, x + os * bytes, (size_t)bytes);
    }
  }
}

MRTC_FN void k_copy_region(int rank, const int64_t *dims, const int64_t *sst, const int64_t *dst, void *dv, const void *sv,
                           int esz) {
  int64_t idx[16] = {0}, i;
  unsigned char *d = (unsigned char *)dv;
  const unsigned char *s = (const unsigned char *)sv;
  int k;
  for (k = 0; k < rank; k++)
    if (dims[k] <= 0) return;
  for (;;) {
    int64_t so = 0, doff = 0;
    for (k = 0; k < rank - 1; k++) {
      so += idx[k] * sst[k];
      doff += idx[k] * dst[k];
    }
    for (i = 0; i < dims[rank - 1]; i++)
      memcpy(d + (doff + i * dst[rank - 1]) * esz, s + (so + i * sst[rank - 1]) * esz, (size_t)esz);
    if (rank == 1 || !k_next_index(rank - 1, dims, idx)) break;
  }
}

MRTC_FN void k_take(int64_t outer, int64_t len, int64_t nsel, const int64_t *sel, int64_t inner, const void *xv, void *yv) {
  const unsigned char *x = (const unsigned char *)xv;
  unsigned char *y = (unsigned char *)yv;
  int64_t o, j;
  for (o = 0; o < outer; o++)
    for (j = 0; j < nsel; j++) memcpy(y + (o * nsel + j) * inner, x + (o * len + sel[j]) * inner, (size_t)inner);
}

#define K_DET_DEF(SUF, T)                                                                                               \
  MRTC_FN void k_det_##SUF(int64_t nmat, int64_t m, const T *x, T *y, double *a) {                                     \
    int64_t q, i, j, k;                                                                                                \
    for (q = 0; q < nmat; q++) {                                                                                       \
      double det = 1.0;                                                                                                \
      for (i = 0; i < m * m; i++) a[i] = (double)x[q * m * m + i];                                                     \
      for (k = 0; k < m; k++) {                                                                                        \
        int64_t p = k;                                                                                                 \
        for (i = k + 1; i < m; i++)                                                                                    \
          if (fabs(a[i * m + k]) > fabs(a[p * m + k])) p = i;                                                          \
        if (a[p * m + k] == 0.0) {                                                                                     \
          det = 0.0;                                                                                                   \
          break;                                                                                                       \
        }                                                                                                              \
        if (p != k) {                                                                                                  \
          for (j = 0; j < m; j++) {                                                                                    \
            double t = a[k * m + j];                                                                                   \
            a[k * m + j] = a[p * m + j];                                                                               \
            a[p * m + j] = t;                                                                                          \
          }                                                                                                            \
          det = -det;                                                                                                  \
        }                                                                                                              \
        det *= a[k * m + k];                                                                                           \
        for (i = k + 1; i < m; i++) {                                                                                  \
          double f = a[i * m + k] / a[k * m + k];                                                                      \
          for (j = k + 1; j < m; j++) a[i * m + j] -= f * a[k * m + j];                                                \
        }                                                                                                              \
      }                                                                                                                \
      y[q] = (T)det;                                                                                                   \
    }                                                                                                                  \
  }
K_DET_DEF(f32, float)
K_DET_DEF(f64, double)

#endif
