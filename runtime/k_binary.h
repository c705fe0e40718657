/*
 * k_binary.h: broadcasting binary elementwise kernels.
 *
 * k_bcast_<T>(rank, dims, sa, sb, a, b, y, f) computes y = f(a, b) over the
 * output shape DIMS (already collapsed by the compiler: adjacent dims that
 * broadcast alike are merged), reading a and b with element strides SA and
 * SB (0 along broadcast dims).  The scalar functions b_<op>_<T> are the
 * arithmetic; the compiler passes them as literal function pointers, which
 * an optimizing C compiler inlines.
 */
#ifndef MRTC_K_BINARY_H
#define MRTC_K_BINARY_H
#include "k_common.h"

#define MRTC_BCAST(T, OT, tag)                                                                    \
  MRTC_FN void k_bcast_##tag(int rank, const int64_t *dims, const int64_t *sa, const int64_t *sb, \
                             const T *a, const T *b, OT *y, OT (*f)(T, T)) {                      \
    int64_t idx[8] = {0}, n = dims[rank - 1], asn = sa[rank - 1], bsn = sb[rank - 1], i;         \
    for (;;) {                                                                                    \
      int64_t oa = 0, ob = 0;                                                                     \
      int d;                                                                                      \
      for (d = 0; d < rank - 1; d++) {                                                            \
        oa += idx[d] * sa[d];                                                                     \
        ob += idx[d] * sb[d];                                                                     \
      }                                                                                           \
      if (asn == 1 && bsn == 1)                                                                   \
        for (i = 0; i < n; i++) y[i] = f(a[oa + i], b[ob + i]);                                   \
      else if (asn == 1 && bsn == 0)                                                              \
        for (i = 0; i < n; i++) y[i] = f(a[oa + i], b[ob]);                                       \
      else if (asn == 0 && bsn == 1)                                                              \
        for (i = 0; i < n; i++) y[i] = f(a[oa], b[ob + i]);                                       \
      else                                                                                        \
        for (i = 0; i < n; i++) y[i] = f(a[oa + i * asn], b[ob + i * bsn]);                       \
      y += n;                                                                                     \
      if (rank == 1 || !k_next_index(rank - 1, dims, idx)) break;                                 \
    }                                                                                             \
  }

MRTC_BCAST(float, float, f32)
MRTC_BCAST(double, double, f64)
MRTC_BCAST(int32_t, int32_t, i32)
MRTC_BCAST(int64_t, int64_t, i64)
MRTC_BCAST(float, uint8_t, cmp_f32)
MRTC_BCAST(double, uint8_t, cmp_f64)
MRTC_BCAST(int32_t, uint8_t, cmp_i32)
MRTC_BCAST(int64_t, uint8_t, cmp_i64)
MRTC_BCAST(uint8_t, uint8_t, u8)

/* arithmetic, per type */
#define MRTC_ARITH(T, tag)                                                      \
  MRTC_FN T b_add_##tag(T a, T b) { return a + b; }                             \
  MRTC_FN T b_sub_##tag(T a, T b) { return a - b; }                             \
  MRTC_FN T b_mul_##tag(T a, T b) { return a * b; }                             \
  MRTC_FN T b_max_##tag(T a, T b) { return a > b || a != a ? a : b; }           \
  MRTC_FN T b_min_##tag(T a, T b) { return a < b || a != a ? a : b; }           \
  MRTC_FN uint8_t b_eq_##tag(T a, T b) { return a == b; }                       \
  MRTC_FN uint8_t b_lt_##tag(T a, T b) { return a < b; }                        \
  MRTC_FN uint8_t b_gt_##tag(T a, T b) { return a > b; }                        \
  MRTC_FN uint8_t b_le_##tag(T a, T b) { return a <= b; }                       \
  MRTC_FN uint8_t b_ge_##tag(T a, T b) { return a >= b; }
MRTC_ARITH(float, f32)
MRTC_ARITH(double, f64)
MRTC_ARITH(int32_t, i32)
MRTC_ARITH(int64_t, i64)

MRTC_FN float b_div_f32(float a, float b) { return a / b; }
MRTC_FN double b_div_f64(double a, double b) { return a / b; }
/* integer division truncates toward zero (as numpy's C division and ONNX Runtime) */
MRTC_FN int32_t b_div_i32(int32_t a, int32_t b) { return b ? a / b : 0; }
MRTC_FN int64_t b_div_i64(int64_t a, int64_t b) { return b ? a / b : 0; }
MRTC_FN float b_pow_f32(float a, float b) { return b == 2.0f ? a * a : powf(a, b); }
MRTC_FN double b_pow_f64(double a, double b) { return pow(a, b); }
MRTC_FN int32_t b_pow_i32(int32_t a, int32_t b) { return (int32_t)pow((double)a, (double)b); }
MRTC_FN int64_t b_pow_i64(int64_t a, int64_t b) { return (int64_t)pow((double)a, (double)b); }
MRTC_FN float b_prelu_f32(float x, float s) { return x < 0.0f ? x * s : x; }
MRTC_FN uint8_t b_and_u8(uint8_t a, uint8_t b) { return a && b; }
MRTC_FN uint8_t b_or_u8(uint8_t a, uint8_t b) { return a || b; }
MRTC_FN uint8_t b_xor_u8(uint8_t a, uint8_t b) { return (a != 0) != (b != 0); }
MRTC_FN uint8_t b_eq_u8(uint8_t a, uint8_t b) { return a == b; }

#endif
