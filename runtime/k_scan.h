/*
 * k_scan.h: ArgMax/ArgMin, CumSum and CumProd, kernels that walk one axis.
 *
 * The compiler views the input as [outer, n, inner] (n: the axis).
 *
 * k_argmax_<T>(is_min, last, outer, n, inner, x, y): y[o, i] (int64) is the
 * index along the axis of the largest (is_min: smallest) element; ties go to
 * the first index, or the last with LAST (select_last_index).  NaN counts
 * as the extreme, as numpy's argmax/argmin (the reference) has it.
 *
 * k_cumsum_<T> / k_cumprod_<T>(exclusive, reverse, outer, n, inner, x, y):
 * running sums / products along the axis (exclusive: of the elements before
 * j; reverse: from the end), accumulated in T in order as numpy's cumsum and
 * cumprod: integer products wrap (formed in uint64_t, so no signed
 * overflow), float16 and bfloat16 round after every step.  x and y may be
 * the same buffer.
 */
#ifndef MRTC_K_SCAN_H
#define MRTC_K_SCAN_H
#include "k_common.h"
#include "k_cast.h"

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

/* NAME: y = the running STEP(acc, x) along the axis, starting from ONE */
#define MRTC_CUMULATE(T, NAME, ONE, STEP)                                                           \
  MRTC_FN void NAME(int exclusive, int reverse, int64_t outer, int64_t n, int64_t inner, const T *x, T *y) { \
    int64_t o, i, k;                                                                              \
    for (o = 0; o < outer; o++)                                                                   \
      for (i = 0; i < inner; i++) {                                                               \
        const T *p = x + o * n * inner + i;                                                       \
        T *q = y + o * n * inner + i, acc = ONE;                                                  \
        for (k = 0; k < n; k++) {                                                                 \
          int64_t j = (reverse ? n - 1 - k : k) * inner;                                          \
          T nx = STEP(acc, p[j]);                                                                 \
          q[j] = exclusive ? acc : nx;                                                            \
          acc = nx;                                                                               \
        }                                                                                         \
      }                                                                                           \
  }
#define MRTC_CUMSUM(T, tag) MRTC_CUMULATE(T, k_cumsum_##tag, 0, MRTC_CS_ADD)

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

#define MRTC_CS_ADD(a, b) ((a) + (b)) /* converted to T by the assignment */
MRTC_CUMSUM(float, f32)
MRTC_CUMSUM(double, f64)
MRTC_CUMSUM(int32_t, i32)
MRTC_CUMSUM(uint32_t, u32)
MRTC_CUMSUM(int64_t, i64)
MRTC_CUMSUM(uint64_t, u64)

#define MRTC_CP_FMUL(a, b) ((a) * (b))
#define MRTC_CP_I32(a, b) ((int32_t)(uint32_t)((uint64_t)(uint32_t)(a) * (uint64_t)(uint32_t)(b)))
#define MRTC_CP_U32(a, b) ((uint32_t)((uint64_t)(a) * (uint64_t)(b)))
#define MRTC_CP_I64(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define MRTC_CP_U64(a, b) ((a) * (b))
#define MRTC_CP_F16(a, b) k_d2h((double)k_h2f(a) * (double)k_h2f(b))
#define MRTC_CP_BF16(a, b) k_f2bf((float)((double)k_bf2f(a) * (double)k_bf2f(b)))
MRTC_CUMULATE(float, k_cumprod_f32, 1.0f, MRTC_CP_FMUL)
MRTC_CUMULATE(double, k_cumprod_f64, 1.0, MRTC_CP_FMUL)
MRTC_CUMULATE(int32_t, k_cumprod_i32, 1, MRTC_CP_I32)
MRTC_CUMULATE(uint32_t, k_cumprod_u32, 1u, MRTC_CP_U32)
MRTC_CUMULATE(int64_t, k_cumprod_i64, 1, MRTC_CP_I64)
MRTC_CUMULATE(uint64_t, k_cumprod_u64, 1u, MRTC_CP_U64)
/* float16 / bfloat16 live as their bit patterns: the 1 is 0x3c00 / 0x3f80 */
MRTC_CUMULATE(uint16_t, k_cumprod_f16, 0x3c00u, MRTC_CP_F16)
MRTC_CUMULATE(uint16_t, k_cumprod_bf16, 0x3f80u, MRTC_CP_BF16)

#endif
