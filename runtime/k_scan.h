/*
 * k_scan.h: ArgMax/ArgMin and CumSum, kernels that walk one axis.
 *
 * The compiler views the input as [outer, n, inner] (n: the axis).
 *
 * k_argmax_<T>(is_min, last, outer, n, inner, x, y): y[o, i] (int64) is the
 * index along the axis of the largest (is_min: smallest) element; ties go to
 * the first index, or the last with LAST (select_last_index).  NaN counts
 * as the extreme, as numpy's argmax/argmin (the reference) has it.
 *
 * k_cumsum_<T>(exclusive, reverse, outer, n, inner, x, y): running sums
 * along the axis, accumulated in T in order (as numpy's cumsum); x and y may
 * be the same buffer.
 */
#ifndef MRTC_K_SCAN_H
#define MRTC_K_SCAN_H
#include "k_common.h"

#define MRTC_ARGMAX(T, tag, ISNAN)                                                                  \
  MRTC_FN void k_argmax_##tag(int is_min, int last, int64_t outer, int64_t n, int64_t inner,      \
                              const T *x, int64_t *y) {                                           \
    int64_t o, i, k;                                                                              \
    for (o = 0; o < outer; o++)                                                                   \
      for (i = 0; i < inner; i++) {                                                               \
        const T *p = x + o * n * inner + i;                                                       \
        T b = p[0];                                                                               \
        int64_t bi = 0;                                                                           \
        for (k = 1; k < n; k++) {                                                                 \
          T v = p[k * inner];                                                                     \
          int take;                                                                               \
          if (ISNAN(b)) take = last && ISNAN(v);                                                  \
          else if (ISNAN(v)) take = 1;                                                            \
          else take = is_min ? (v < b || (last && v == b)) : (v > b || (last && v == b));         \
          if (take) {                                                                             \
            b = v;                                                                                \
            bi = k;                                                                               \
          }                                                                                       \
        }                                                                                         \
        y[o * inner + i] = bi;                                                                    \
      }                                                                                           \
  }

#define MRTC_CUMSUM(T, tag)                                                                         \
  MRTC_FN void k_cumsum_##tag(int exclusive, int reverse, int64_t outer, int64_t n, int64_t inner, \
                              const T *x, T *y) {                                                 \
    int64_t o, i, k;                                                                              \
    for (o = 0; o < outer; o++)                                                                   \
      for (i = 0; i < inner; i++) {                                                               \
        const T *p = x + o * n * inner + i;                                                       \
        T *q = y + o * n * inner + i, acc = 0;                                                    \
        for (k = 0; k < n; k++) {                                                                 \
          int64_t j = (reverse ? n - 1 - k : k) * inner;                                          \
          T v = p[j];                                                                             \
          q[j] = exclusive ? acc : (T)(acc + v);                                                  \
          acc = (T)(acc + v);                                                                     \
        }                                                                                         \
      }                                                                                           \
  }

#define MRTC_SCAN_FNAN(v) ((v) != (v))
#define MRTC_SCAN_INAN(v) 0
MRTC_ARGMAX(float, f32, MRTC_SCAN_FNAN)
MRTC_ARGMAX(double, f64, MRTC_SCAN_FNAN)
MRTC_ARGMAX(int8_t, i8, MRTC_SCAN_INAN)
MRTC_ARGMAX(uint8_t, u8, MRTC_SCAN_INAN)
MRTC_ARGMAX(int16_t, i16, MRTC_SCAN_INAN)
MRTC_ARGMAX(uint16_t, u16, MRTC_SCAN_INAN)
MRTC_ARGMAX(int32_t, i32, MRTC_SCAN_INAN)
MRTC_ARGMAX(uint32_t, u32, MRTC_SCAN_INAN)
MRTC_ARGMAX(int64_t, i64, MRTC_SCAN_INAN)
MRTC_ARGMAX(uint64_t, u64, MRTC_SCAN_INAN)

MRTC_CUMSUM(float, f32)
MRTC_CUMSUM(double, f64)
MRTC_CUMSUM(int32_t, i32)
MRTC_CUMSUM(uint32_t, u32)
MRTC_CUMSUM(int64_t, i64)
MRTC_CUMSUM(uint64_t, u64)

#endif
