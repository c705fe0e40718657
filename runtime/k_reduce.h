/*
 * k_reduce.h: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare.
 *
 * k_reduce_<T>(op, orank, odims, ostr, rrank, rdims, rstr, x, y): the
 * compiler splits the input's dims into kept dims (ODIMS, element strides
 * OSTR into x) and reduced dims (RDIMS, strides RSTR), merging neighbours
 * of the same kind and dropping size-1 dims; both lists have at least one
 * entry (a {1} placeholder when empty).  For every output element, in
 * row-major order of the kept dims, the reduced elements are folded with
 * OP (MRTC_RED_*).  An empty reduced set (a 0 in RDIMS) gives the spec's
 * identity: 0 for sums, 1 for Prod, -inf / the type's minimum for Max,
 * +inf / maximum for Min, -inf for LogSum and LogSumExp, NaN for Mean.
 * Floats accumulate in double, integers in 64 bits.
 */
#ifndef MRTC_K_REDUCE_H
#define MRTC_K_REDUCE_H
#include "k_common.h"

#define MRTC_RED_SUM 0
#define MRTC_RED_MEAN 1
#define MRTC_RED_MAX 2
#define MRTC_RED_MIN 3
#define MRTC_RED_PROD 4
#define MRTC_RED_L1 5
#define MRTC_RED_L2 6
#define MRTC_RED_LOGSUM 7
#define MRTC_RED_LOGSUMEXP 8
#define MRTC_RED_SUMSQUARE 9

/* runs STMT with v = each reduced element of the output element at base */
#define MRTC_RED_LOOP(T, ...)                                                     \
  if (cnt)                                                                        \
    for (;;) {                                                                    \
      const T *p = x;                                                             \
      int64_t k;                                                                  \
      for (d = 0; d < rrank - 1; d++) p += ri[d] * rstr[d];                       \
      for (k = 0; k < rn; k++) {                                                  \
        T v = p[k * rs];                                                          \
        __VA_ARGS__;                                                              \
      }                                                                           \
      if (rrank <= 1 || !k_next_index(rrank - 1, rdims, ri)) break;               \
    }

/* T: element, A: accumulator, LO/HI: Max/Min identities, ISNAN(v), ABS(a),
 * NANV: Mean of nothing */
#define MRTC_REDUCE(T, A, tag, LO, HI, ISNAN, ABS, NANV)                                            \
  MRTC_FN T k_reduce1_##tag(int op, const T *x, int rrank, const int64_t *rdims, const int64_t *rstr, \
                            int64_t cnt) {                                                          \
    int64_t ri[8] = {0}, rn = rdims[rrank - 1], rs = rstr[rrank - 1];                               \
    int d;                                                                                          \
    A acc = 0;                                                                                      \
    switch (op) {                                                                                   \
    case MRTC_RED_MAX: {                                                                            \
      T m = LO;                                                                                     \
      MRTC_RED_LOOP(T, if (v > m || ISNAN(v)) m = v)                                                \
      return m;                                                                                     \
    }                                                                                               \
    case MRTC_RED_MIN: {                                                                            \
      T m = HI;                                                                                     \
      MRTC_RED_LOOP(T, if (v < m || ISNAN(v)) m = v)                                                \
      return m;                                                                                     \
    }                                                                                               \
    case MRTC_RED_PROD:                                                                             \
      acc = 1;                                                                                      \
      MRTC_RED_LOOP(T, acc *= (A)v)                                                                 \
      return (T)acc;                                                                                \
    case MRTC_RED_L1:                                                                               \
      MRTC_RED_LOOP(T, acc += ABS((A)v))                                                            \
      return (T)acc;                                                                                \
    case MRTC_RED_L2:                                                                               \
      MRTC_RED_LOOP(T, acc += (A)v * (A)v)                                                          \
      return (T)sqrt((double)acc);                                                                  \
    case MRTC_RED_SUMSQUARE:                                                                        \
      MRTC_RED_LOOP(T, acc += (A)v * (A)v)                                                          \
      return (T)acc;                                                                                \
    case MRTC_RED_LOGSUMEXP: {                                                                      \
      double m = -INFINITY, s = 0.0;                                                                \
      MRTC_RED_LOOP(T, if ((double)v > m || ISNAN(v)) m = (double)v)                                \
      if (m != m || m == INFINITY || m == -INFINITY) return (T)m;                                   \
      MRTC_RED_LOOP(T, s += exp((double)v - m))                                                     \
      return (T)(m + log(s));                                                                       \
    }                                                                                               \
    default:                                                                                        \
      MRTC_RED_LOOP(T, acc += (A)v)                                                                 \
      if (op == MRTC_RED_MEAN) return cnt ? (T)(acc / (A)cnt) : NANV;                               \
      if (op == MRTC_RED_LOGSUM) return (T)log((double)acc);                                        \
      return (T)acc;                                                                                \
    }                                                                                               \
  }                                                                                                 \
  MRTC_FN void k_reduce_##tag(int op, int orank, const int64_t *odims, const int64_t *ostr, int rrank, \
                              const int64_t *rdims, const int64_t *rstr, const T *x, T *y) {        \
    int64_t oi[8] = {0}, cnt = 1;                                                                   \
    int d;                                                                                          \
    for (d = 0; d < rrank; d++) cnt *= rdims[d];                                                    \
    for (;;) {                                                                                      \
      int64_t base = 0;                                                                             \
      for (d = 0; d < orank; d++) base += oi[d] * ostr[d];                                          \
      *y++ = k_reduce1_##tag(op, x + base, rrank, rdims, rstr, cnt);                                \
      if (!k_next_index(orank, odims, oi)) break;                                                   \
    }                                                                                               \
  }

#define MRTC_RED_FNAN(v) ((v) != (v))
#define MRTC_RED_INAN(v) 0
#define MRTC_RED_FABS(a) fabs(a)
#define MRTC_RED_IABS(a) ((a) < 0 ? -(a) : (a))
#define MRTC_RED_UABS(a) (a)
MRTC_REDUCE(float, double, f32, -INFINITY, INFINITY, MRTC_RED_FNAN, MRTC_RED_FABS, NAN)
MRTC_REDUCE(double, double, f64, -INFINITY, INFINITY, MRTC_RED_FNAN, MRTC_RED_FABS, NAN)
MRTC_REDUCE(int8_t, int64_t, i8, INT8_MIN, INT8_MAX, MRTC_RED_INAN, MRTC_RED_IABS, 0)
MRTC_REDUCE(uint8_t, int64_t, u8, 0, UINT8_MAX, MRTC_RED_INAN, MRTC_RED_UABS, 0)
MRTC_REDUCE(int32_t, int64_t, i32, INT32_MIN, INT32_MAX, MRTC_RED_INAN, MRTC_RED_IABS, 0)
MRTC_REDUCE(uint32_t, int64_t, u32, 0, UINT32_MAX, MRTC_RED_INAN, MRTC_RED_UABS, 0)
MRTC_REDUCE(int64_t, int64_t, i64, INT64_MIN, INT64_MAX, MRTC_RED_INAN, MRTC_RED_IABS, 0)
MRTC_REDUCE(uint64_t, uint64_t, u64, 0, UINT64_MAX, MRTC_RED_INAN, MRTC_RED_UABS, 0)

#endif
