/*
 * k_cumprod.h: CumProd, running products along one axis.
 *
 * The compiler views the input as [outer, n, inner] (n: the axis).
 * k_cumprod_<T>(exclusive, reverse, outer, n, inner, x, y): y[j] is the
 * product of x along the axis up to j (exclusive: before j; reverse: from
 * the end), accumulated in T in order as numpy's cumprod does: integers wrap
 * (the product is formed in uint64_t, so no signed overflow), float16 and
 * bfloat16 round after every step.  x and y may be the same buffer.
 */
#ifndef MRTC_K_CUMPROD_H
#define MRTC_K_CUMPROD_H
#include "k_common.h"
#include "k_cast.h"

#define MRTC_CUMPROD(T, tag, MUL)                                                                  \
  MRTC_FN void k_cumprod_##tag(int exclusive, int reverse, int64_t outer, int64_t n, int64_t inner, \
                               const T *x, T *y) {                                                 \
    int64_t o, i, k;                                                                               \
    for (o = 0; o < outer; o++)                                                                    \
      for (i = 0; i < inner; i++) {                                                                \
        const T *p = x + o * n * inner + i;                                                        \
        T *q = y + o * n * inner + i;                                                              \
        T acc = (T)1;                                                                              \
        for (k = 0; k < n; k++) {                                                                  \
          int64_t j = (reverse ? n - 1 - k : k) * inner;                                           \
          T nx = MUL(acc, p[j]);                                                                   \
          q[j] = exclusive ? acc : nx;                                                             \
          acc = nx;                                                                                \
        }                                                                                          \
      }                                                                                            \
  }

#define MRTC_CP_FMUL(a, b) ((a) * (b))
#define MRTC_CP_I32(a, b) ((int32_t)(uint32_t)((uint64_t)(uint32_t)(a) * (uint64_t)(uint32_t)(b)))
#define MRTC_CP_U32(a, b) ((uint32_t)((uint64_t)(a) * (uint64_t)(b)))
#define MRTC_CP_I64(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define MRTC_CP_U64(a, b) ((a) * (b))
#define MRTC_CP_F16(a, b) k_d2h((double)k_h2f(a) * (double)k_h2f(b))
#define MRTC_CP_BF16(a, b) k_f2bf((float)((double)k_bf2f(a) * (double)k_bf2f(b)))

MRTC_CUMPROD(float, f32, MRTC_CP_FMUL)
MRTC_CUMPROD(double, f64, MRTC_CP_FMUL)
MRTC_CUMPROD(int32_t, i32, MRTC_CP_I32)
MRTC_CUMPROD(uint32_t, u32, MRTC_CP_U32)
MRTC_CUMPROD(int64_t, i64, MRTC_CP_I64)
MRTC_CUMPROD(uint64_t, u64, MRTC_CP_U64)

/* float16 / bfloat16: the 1 of the exclusive start is their bit pattern */
#define MRTC_CUMPROD_H(tag, ONE, MUL)                                                              \
  MRTC_FN void k_cumprod_##tag(int exclusive, int reverse, int64_t outer, int64_t n, int64_t inner, \
                               const uint16_t *x, uint16_t *y) {                                   \
    int64_t o, i, k;                                                                               \
    for (o = 0; o < outer; o++)                                                                    \
      for (i = 0; i < inner; i++) {                                                                \
        const uint16_t *p = x + o * n * inner + i;                                                 \
        uint16_t *q = y + o * n * inner + i, acc = ONE;                                            \
        for (k = 0; k < n; k++) {                                                                  \
          int64_t j = (reverse ? n - 1 - k : k) * inner;                                           \
          uint16_t nx = MUL(acc, p[j]);                                                            \
          q[j] = exclusive ? acc : nx;                                                             \
          acc = nx;                                                                                \
        }                                                                                          \
      }                                                                                            \
  }
MRTC_CUMPROD_H(f16, 0x3c00u, MRTC_CP_F16)
MRTC_CUMPROD_H(bf16, 0x3f80u, MRTC_CP_BF16)

#endif
