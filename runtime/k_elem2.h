/*
 * k_elem2.h: elementwise ops over every numeric type (the float-only
 * k_unary.h and the f32/f64/i32/i64 k_binary.h cover the common cases).
 *
 * Types (kernel tags): i8 u8 i16 u16 i32 u32 i64 u64 f32 f64, and f16 /
 * bf16 (uint16_t bits, computed in float and rounded back to nearest even).
 *
 * k_e2_bcast_<T>(op, rank, dims, sa, sb, a, b, y): broadcasting binary op
 *   y = a OP b over the collapsed output shape DIMS, with element strides
 *   SA/SB (0 along broadcast dims), as k_bcast_* in k_binary.h.  OP is an
 *   E2_* code: arithmetic, Mod (Python's sign rule: the divisor's), fmod
 *   (C's: the dividend's), shifts (a shift >= the width gives 0), bitwise.
 *   Integer arithmetic wraps; division and Mod by 0 give 0; division
 *   truncates toward zero.
 * k_e2_bcmp_<T>(op, ...): the same for comparisons, writing bool (uint8_t).
 * k_e2_unary_<T>(op, n, x, y, lo, hi): y = OP(x); LO/HI are Clip's bounds.
 *   The float math of k_unary.h (Exp, Log, ...) is here too for double
 *   (computed in double) and float16/bfloat16 (computed in float).
 * k_e2_test_<T>(op, n, x, y, pos, neg): IsNaN / IsInf (POS, NEG: which
 *   infinities count) into bool.
 */
#ifndef MRTC_K_ELEM2_H
#define MRTC_K_ELEM2_H
#include "k_common.h"

#define E2_ADD 0
#define E2_SUB 1
#define E2_MUL 2
#define E2_DIV 3
#define E2_MAX 4
#define E2_MIN 5
#define E2_MOD 6
#define E2_FMOD 7
#define E2_SHL 8
#define E2_SHR 9
#define E2_AND 10
#define E2_OR 11
#define E2_XOR 12
#define E2_EQ 20
#define E2_LT 21
#define E2_GT 22
#define E2_LE 23
#define E2_GE 24

#define E2_ABS 0
#define E2_NEG 1
#define E2_SIGN 2
#define E2_RELU 3
#define E2_CLIP 4
#define E2_CEIL 5
#define E2_FLOOR 6
#define E2_ROUND 7
#define E2_NOT 8
#define E2_BITNOT 9
#define E2_ISNAN 10
#define E2_ISINF 11
/* float math (the op_unary.c table, for double / float16 / bfloat16) */
#define E2_EXP 12
#define E2_LOG 13
#define E2_SQRT 14
#define E2_RECIP 15
#define E2_TANH 16
#define E2_SIGMOID 17
#define E2_ERF 18
#define E2_SIN 19
#define E2_COS 20
#define E2_TAN 21
#define E2_ASIN 22
#define E2_ACOS 23
#define E2_ATAN 24
#define E2_SINH 25
#define E2_COSH 26
#define E2_ASINH 27
#define E2_ACOSH 28
#define E2_ATANH 29
#define E2_SOFTPLUS 30
#define E2_SOFTSIGN 31

/* float16 / bfloat16 <-> float (round to nearest even) */
MRTC_FN float e2_h2f(uint16_t h) {
  uint32_t s = (uint32_t)(h >> 15) & 1u, e = (uint32_t)(h >> 10) & 31u, m = (uint32_t)h & 1023u;
  float v;
  if (e == 0) v = ldexpf((float)m, -24);
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = ldexpf((float)(m | 1024u), (int)e - 25);
  return s ? -v : v;
}
MRTC_FN uint16_t e2_f2h(float f) {
  uint32_t x, s, m, hm, rem, half, r;
  int e, he, shift;
  memcpy(&x, &f, 4);
  s = (x >> 16) & 0x8000u;
  e = (int)((x >> 23) & 255u);
  m = x & 0x7fffffu;
  if (e == 255) return (uint16_t)(s | 0x7c00u | (m ? 0x200u : 0u));
  he = e - 127 + 15;
  if (he >= 31) return (uint16_t)(s | 0x7c00u);
  if (he <= 0) {
    if (he < -10) return (uint16_t)s;
    m |= 0x800000u;
    shift = 14 - he;
    hm = m >> shift;
    rem = m & ((1u << shift) - 1u);
    half = 1u << (shift - 1);
    if (rem > half || (rem == half && (hm & 1u))) hm++;
    return (uint16_t)(s | hm);
  }
  hm = m >> 13;
  rem = m & 0x1fffu;
  r = s | ((uint32_t)he << 10) | hm;
  if (rem > 0x1000u || (rem == 0x1000u && (hm & 1u))) r++;
  return (uint16_t)r;
}
MRTC_FN float e2_b2f(uint16_t h) {
  uint32_t x = (uint32_t)h << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}
MRTC_FN uint16_t e2_f2b(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

/* ---- scalar functions: e2_bin_<T>(op, a, b), e2_cmp_<T>, e2_un_<T> */

MRTC_FN float e2_math_f(int op, float x) {
  switch (op) {
  case E2_EXP: return expf(x);
  case E2_LOG: return logf(x);
  case E2_SQRT: return sqrtf(x);
  case E2_RECIP: return 1.0f / x;
  case E2_TANH: return tanhf(x);
  case E2_SIGMOID: return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
  case E2_ERF: return erff(x);
  case E2_SIN: return sinf(x);
  case E2_COS: return cosf(x);
  case E2_TAN: return tanf(x);
  case E2_ASIN: return asinf(x);
  case E2_ACOS: return acosf(x);
  case E2_ATAN: return atanf(x);
  case E2_SINH: return sinhf(x);
  case E2_COSH: return coshf(x);
  case E2_ASINH: return asinhf(x);
  case E2_ACOSH: return acoshf(x);
  case E2_ATANH: return atanhf(x);
  case E2_SOFTPLUS: return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
  case E2_SOFTSIGN: return x / (1.0f + fabsf(x));
  default: return x;
  }
}

MRTC_FN double e2_math_d(int op, double x) {
  switch (op) {
  case E2_EXP: return exp(x);
  case E2_LOG: return log(x);
  case E2_SQRT: return sqrt(x);
  case E2_RECIP: return 1.0 / x;
  case E2_TANH: return tanh(x);
  case E2_SIGMOID: return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
  case E2_ERF: return erf(x);
  case E2_SIN: return sin(x);
  case E2_COS: return cos(x);
  case E2_TAN: return tan(x);
  case E2_ASIN: return asin(x);
  case E2_ACOS: return acos(x);
  case E2_ATAN: return atan(x);
  case E2_SINH: return sinh(x);
  case E2_COSH: return cosh(x);
  case E2_ASINH: return asinh(x);
  case E2_ACOSH: return acosh(x);
  case E2_ATANH: return atanh(x);
  case E2_SOFTPLUS: return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
  case E2_SOFTSIGN: return x / (1.0 + fabs(x));
  default: return x;
  }
}

/* integers; U: the unsigned type of the same width (wrapping arithmetic),
 * NEG(x): x < 0 (0 for unsigned types) */
#define MRTC_E2_INT(T, U, tag, BITS, NEG)                                                  \
  MRTC_FN T e2_bin_##tag(int op, T a, T b) {                                                     \
    T r;                                                                                         \
    switch (op) {                                                                                \
    case E2_ADD: return (T)((U)a + (U)b);                                                        \
    case E2_SUB: return (T)((U)a - (U)b);                                                        \
    case E2_MUL: return (T)((U)a * (U)b);                                                        \
    case E2_DIV:                                                                                 \
      if (!b) return 0;                                                                          \
      if (NEG(b) && b == (T)-1) return (T)((U)0 - (U)a); /* SMIN / -1 wraps */                 \
      return (T)(a / b);                                                                         \
    case E2_MAX: return a > b ? a : b;                                                           \
    case E2_MIN: return a < b ? a : b;                                                           \
    case E2_MOD:                                                                                 \
      if (!b || (NEG(b) && b == (T)-1)) return 0;                                                \
      r = (T)(a % b);                                                                            \
      if (r && NEG(r) != NEG(b)) r = (T)(r + b);                                                 \
      return r;                                                                                  \
    case E2_FMOD:                                                                                \
      if (!b || (NEG(b) && b == (T)-1)) return 0;                                                \
      return (T)(a % b);                                                                         \
    case E2_SHL: return (U)b >= BITS ? 0 : (T)((U)a << (U)b);                                    \
    case E2_SHR: return (U)b >= BITS ? 0 : (T)((U)a >> (U)b);                                    \
    case E2_AND: return (T)(a & b);                                                              \
    case E2_OR: return (T)(a | b);                                                               \
    default: return (T)(a ^ b);                                                                  \
    }                                                                                            \
  }                                                                                              \
  MRTC_FN uint8_t e2_cmp_##tag(int op, T a, T b) {                                               \
    switch (op) {                                                                                \
    case E2_EQ: return a == b;                                                                   \
    case E2_LT: return a < b;                                                                    \
    case E2_GT: return a > b;                                                                    \
    case E2_LE: return a <= b;                                                                   \
    default: return a >= b;                                                                      \
    }                                                                                            \
  }                                                                                              \
  MRTC_FN T e2_un_##tag(int op, T x, T lo, T hi) {                                               \
    switch (op) {                                                                                \
    case E2_ABS: return NEG(x) ? (T)((U)0 - (U)x) : x;                                           \
    case E2_NEG: return (T)((U)0 - (U)x);                                                        \
    case E2_SIGN: return (T)((x > 0) - NEG(x));                                                  \
    case E2_RELU: return NEG(x) ? 0 : x;                                                         \
    case E2_CLIP:                                                                                \
      x = x < lo ? lo : x;                                                                       \
      return x > hi ? hi : x;                                                                    \
    case E2_NOT: return !x;                                                                      \
    case E2_BITNOT: return (T)~(U)x;                                                             \
    default: return x; /* Ceil, Floor, Round */                                                  \
    }                                                                                            \
  }

#define MRTC_E2_SNEG(x) ((x) < 0)
#define MRTC_E2_UNEG(x) 0
MRTC_E2_INT(int8_t, uint8_t, i8, 8, MRTC_E2_SNEG)
MRTC_E2_INT(uint8_t, uint8_t, u8, 8, MRTC_E2_UNEG)
MRTC_E2_INT(int16_t, uint16_t, i16, 16, MRTC_E2_SNEG)
MRTC_E2_INT(uint16_t, uint16_t, u16, 16, MRTC_E2_UNEG)
MRTC_E2_INT(int32_t, uint32_t, i32, 32, MRTC_E2_SNEG)
MRTC_E2_INT(uint32_t, uint32_t, u32, 32, MRTC_E2_UNEG)
MRTC_E2_INT(int64_t, uint64_t, i64, 64, MRTC_E2_SNEG)
MRTC_E2_INT(uint64_t, uint64_t, u64, 64, MRTC_E2_UNEG)

/* floats: F computes, TO/FROM convert from/to the storage type S */
#define MRTC_E2_FLT(S, F, tag, TO, FROM, FMODF, FABSF, CEILF, FLOORF, RINTF, MATH)                   \
  MRTC_FN S e2_bin_##tag(int op, S sa, S sb) {                                                   \
    F a = TO(sa), b = TO(sb), r;                                                                 \
    switch (op) {                                                                                \
    case E2_ADD: r = a + b; break;                                                               \
    case E2_SUB: r = a - b; break;                                                               \
    case E2_MUL: r = a * b; break;                                                               \
    case E2_DIV: r = a / b; break;                                                               \
    case E2_MAX: r = a > b || a != a ? a : b; break;                                             \
    case E2_MIN: r = a < b || a != a ? a : b; break;                                             \
    case E2_MOD:                                                                                 \
      r = FMODF(a, b);                                                                           \
      if (r != 0 && (r < 0) != (b < 0)) r += b;                                                  \
      break;                                                                                     \
    case E2_FMOD: r = FMODF(a, b); break;                                                        \
    default: r = 0; /* bit ops: not for floats */                                                \
    }                                                                                            \
    return FROM(r);                                                                              \
  }                                                                                              \
  MRTC_FN uint8_t e2_cmp_##tag(int op, S sa, S sb) {                                             \
    F a = TO(sa), b = TO(sb);                                                                    \
    switch (op) {                                                                                \
    case E2_EQ: return a == b;                                                                   \
    case E2_LT: return a < b;                                                                    \
    case E2_GT: return a > b;                                                                    \
    case E2_LE: return a <= b;                                                                   \
    default: return a >= b;                                                                      \
    }                                                                                            \
  }                                                                                              \
  MRTC_FN S e2_un_##tag(int op, S sx, S slo, S shi) {                                            \
    F x = TO(sx), lo = TO(slo), hi = TO(shi);                                                    \
    switch (op) {                                                                                \
    case E2_ABS: x = FABSF(x); break;                                                            \
    case E2_NEG: x = -x; break;                                                                  \
    case E2_SIGN: x = x > 0 ? (F)1 : x < 0 ? (F)-1 : x; break;                                   \
    case E2_RELU: x = x < 0 ? (F)0 : x; break;                                                   \
    case E2_CLIP:                                                                                \
      x = x < lo ? lo : x;                                                                       \
      x = x > hi ? hi : x;                                                                       \
      break;                                                                                     \
    case E2_CEIL: x = CEILF(x); break;                                                           \
    case E2_FLOOR: x = FLOORF(x); break;                                                         \
    case E2_ROUND: x = RINTF(x); break;                                                          \
    case E2_NOT: x = (F)(x == 0); break;                                                         \
    default: x = MATH(op, x); break;                                                             \
    }                                                                                            \
    return FROM(x);                                                                              \
  }                                                                                              \
  MRTC_FN uint8_t e2_tst_##tag(int op, S sx, int pos, int neg) {                                 \
    F x = TO(sx);                                                                                \
    if (op == E2_ISNAN) return x != x;                                                           \
    return (pos && x == (F)INFINITY) || (neg && x == -(F)INFINITY);                              \
  }

#define MRTC_E2_ID(x) (x)
MRTC_E2_FLT(float, float, f32, MRTC_E2_ID, MRTC_E2_ID, fmodf, fabsf, ceilf, floorf, nearbyintf, e2_math_f)
MRTC_E2_FLT(double, double, f64, MRTC_E2_ID, MRTC_E2_ID, fmod, fabs, ceil, floor, nearbyint, e2_math_d)
MRTC_E2_FLT(uint16_t, float, f16, e2_h2f, e2_f2h, fmodf, fabsf, ceilf, floorf, nearbyintf, e2_math_f)
MRTC_E2_FLT(uint16_t, float, bf16, e2_b2f, e2_f2b, fmodf, fabsf, ceilf, floorf, nearbyintf, e2_math_f)

/* ---- array kernels */

#define MRTC_E2_BCAST(name, T, OT, fn)                                                            \
  MRTC_FN void name(int op, int rank, const int64_t *dims, const int64_t *sa, const int64_t *sb,  \
                    const T *a, const T *b, OT *y) {                                              \
    int64_t idx[8] = {0}, n = dims[rank - 1], asn = sa[rank - 1], bsn = sb[rank - 1], i;         \
    for (;;) {                                                                                    \
      int64_t oa = 0, ob = 0;                                                                     \
      int d;                                                                                      \
      for (d = 0; d < rank - 1; d++) {                                                            \
        oa += idx[d] * sa[d];                                                                     \
        ob += idx[d] * sb[d];                                                                     \
      }                                                                                           \
      for (i = 0; i < n; i++) y[i] = fn(op, a[oa + i * asn], b[ob + i * bsn]);                    \
      y += n;                                                                                     \
      if (rank == 1 || !k_next_index(rank - 1, dims, idx)) break;                                 \
    }                                                                                             \
  }

#define MRTC_E2_ARRAYS(T, tag)                                                                    \
  MRTC_E2_BCAST(k_e2_bcast_##tag, T, T, e2_bin_##tag)                                             \
  MRTC_E2_BCAST(k_e2_bcmp_##tag, T, uint8_t, e2_cmp_##tag)                                        \
  MRTC_FN void k_e2_unary_##tag(int op, int64_t n, const T *x, T *y, T lo, T hi) {                \
    int64_t i;                                                                                    \
    for (i = 0; i < n; i++) y[i] = e2_un_##tag(op, x[i], lo, hi);                                 \
  }
MRTC_E2_ARRAYS(int8_t, i8)
MRTC_E2_ARRAYS(uint8_t, u8)
MRTC_E2_ARRAYS(int16_t, i16)
MRTC_E2_ARRAYS(uint16_t, u16)
MRTC_E2_ARRAYS(int32_t, i32)
MRTC_E2_ARRAYS(uint32_t, u32)
MRTC_E2_ARRAYS(int64_t, i64)
MRTC_E2_ARRAYS(uint64_t, u64)
MRTC_E2_ARRAYS(float, f32)
MRTC_E2_ARRAYS(double, f64)
MRTC_E2_ARRAYS(uint16_t, f16)
MRTC_E2_ARRAYS(uint16_t, bf16)

#define MRTC_E2_TEST(T, tag)                                                                      \
  MRTC_FN void k_e2_test_##tag(int op, int64_t n, const T *x, uint8_t *y, int pos, int neg) {    \
    int64_t i;                                                                                    \
    for (i = 0; i < n; i++) y[i] = e2_tst_##tag(op, x[i], pos, neg);                              \
  }
MRTC_E2_TEST(float, f32)
MRTC_E2_TEST(double, f64)
MRTC_E2_TEST(uint16_t, f16)
MRTC_E2_TEST(uint16_t, bf16)

#endif
