/*
 * k_cast.h: element conversions for Cast/CastLike, between every numeric
 * type (bool, [u]int8..64, float16, bfloat16, float, double) and the narrow
 * types float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz,
 * float8e8m0, float4e2m1, int4, uint4, int2, uint2.
 *
 * Narrow types are stored unpacked, one element per byte: the float8 and
 * float4 types as their bit pattern (uint8_t; float4e2m1 in the low four
 * bits), int4/int2 as int8_t and uint4/uint2 as uint8_t holding the value.
 *
 * A value is read into one of three carriers, k_rd_<src>(x): double for the
 * float types (exact), int64_t for bool and the integer types up to int64,
 * uint64_t for uint64.  k_cv_<dst>_<carrier>(v) then converts to the
 * destination:
 *   float -> float: IEEE rounding to nearest even (+-inf when out of range);
 *     float16 and bfloat16 round to nearest even from the exact value.
 *   float -> integer: truncation toward zero; NaN gives 0 and values outside
 *     int64 saturate (ONNX leaves both undefined), then the result wraps to
 *     the destination width like an integer cast (int4 and int2 included:
 *     -9 -> int4 7, as the ONNX reference does).
 *   integer -> integer: the low bits, two's complement (200 -> int8 -56).
 *   anything -> bool: nonzero (NaN included) is 1.
 *   -> float8 (k_cv_<f8>_<c>(v, mode), mode bit 0 = saturate): round to
 *     nearest even from the exact value; out of range (and +-inf) gives
 *     +-max when saturating, else NaN (e4m3fn: signed NaN; the fnuz types:
 *     0x80) or +-inf (e5m2), per the tables of Cast-19; -0 gives 0 in the
 *     fnuz types, which have no negative zero.
 *   -> float4e2m1: round to nearest even, always saturating to +-6; NaN
 *     gives 0x8 (as the reference's test data has it).
 *   -> float8e8m0 (mode: bit 0 saturate, bits 1-2 round_mode 0 up, 1 down,
 *     2 nearest): the exponent of the float32 value, rounded per round_mode
 *     on the mantissa bits; NaN gives 0xff, +-inf and overflow 0xfe
 *     (saturate) or 0xff; the sign is ignored (negative input is undefined).
 * The generated code is one loop y[i] = k_cv_<dst>_<c>(k_rd_<src>(x[i]))
 * (with ", mode" for the float8/float4 destinations); the interpreter calls
 * the same functions.
 */
#ifndef MRTC_K_CAST_H
#define MRTC_K_CAST_H
#include "k_common.h"

MRTC_FN float k_h2f(uint16_t h) {
  uint32_t s = (uint32_t)(h >> 15) & 1u, e = (uint32_t)(h >> 10) & 31u, m = (uint32_t)h & 1023u;
  float v;
  if (e == 0) v = ldexpf((float)m, -24);
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = ldexpf((float)(m | 1024u), (int)e - 25);
  return s ? -v : v;
}

/* double -> float16, round to nearest even */
MRTC_FN uint16_t k_d2h(double d) {
  uint64_t x, m, hm, rem, half;
  uint32_t s, r;
  int e, he, shift;
  memcpy(&x, &d, 8);
  s = (uint32_t)(x >> 48) & 0x8000u;
  e = (int)((x >> 52) & 0x7ff);
  m = x & 0xfffffffffffffULL;
  if (e == 0x7ff) return (uint16_t)(s | 0x7c00u | (m ? 0x200u : 0u));
  he = e - 1023 + 15;
  if (he >= 31) return (uint16_t)(s | 0x7c00u);
  if (he <= 0) {
    if (he < -10) return (uint16_t)s;
    m |= 1ULL << 52;
    shift = 43 - he;
    hm = m >> shift;
    rem = m & ((1ULL << shift) - 1);
    half = 1ULL << (shift - 1);
    if (rem > half || (rem == half && (hm & 1))) hm++;
    return (uint16_t)(s | (uint32_t)hm);
  }
  hm = m >> 42;
  rem = m & ((1ULL << 42) - 1);
  r = s | ((uint32_t)he << 10) | (uint32_t)hm;
  if (rem > (1ULL << 41) || (rem == (1ULL << 41) && (hm & 1))) r++;
  return (uint16_t)r;
}

MRTC_FN float k_bf2f(uint16_t h) {
  uint32_t x = (uint32_t)h << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}

/* float -> bfloat16, round to nearest even; NaN stays NaN */
MRTC_FN uint16_t k_f2bf(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

/* double -> int64: truncate; NaN -> 0; saturate outside the range */
MRTC_FN int64_t k_d2i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

MRTC_FN uint64_t k_d2u64(double v) {
  if (v != v) return 0;
  if (v < 0) return (uint64_t)k_d2i64(v);
  if (v >= 18446744073709551615.0) return UINT64_MAX;
  return (uint64_t)v;
}

/* readers: value -> carrier */
MRTC_FN double k_rd_f32(float x) { return (double)x; }
MRTC_FN double k_rd_f64(double x) { return x; }
MRTC_FN double k_rd_f16(uint16_t x) { return (double)k_h2f(x); }
MRTC_FN double k_rd_bf16(uint16_t x) { return (double)k_bf2f(x); }
MRTC_FN int64_t k_rd_b(uint8_t x) { return x ? 1 : 0; }
MRTC_FN int64_t k_rd_i8(int8_t x) { return x; }
MRTC_FN int64_t k_rd_u8(uint8_t x) { return x; }
MRTC_FN int64_t k_rd_i16(int16_t x) { return x; }
MRTC_FN int64_t k_rd_u16(uint16_t x) { return x; }
MRTC_FN int64_t k_rd_i32(int32_t x) { return x; }
MRTC_FN int64_t k_rd_u32(uint32_t x) { return x; }
MRTC_FN int64_t k_rd_i64(int64_t x) { return x; }
MRTC_FN uint64_t k_rd_u64(uint64_t x) { return x; }

/* converters: carrier (f: double, i: int64_t, u: uint64_t) -> destination */
#define MRTC_CV_INT(T, tag)                                                   \
  MRTC_FN T k_cv_##tag##_f(double v) { return (T)k_d2i64(v); }                \
  MRTC_FN T k_cv_##tag##_i(int64_t v) { return (T)v; }                        \
  MRTC_FN T k_cv_##tag##_u(uint64_t v) { return (T)v; }
MRTC_CV_INT(int8_t, i8)
MRTC_CV_INT(uint8_t, u8)
MRTC_CV_INT(int16_t, i16)
MRTC_CV_INT(uint16_t, u16)
MRTC_CV_INT(int32_t, i32)
MRTC_CV_INT(uint32_t, u32)
MRTC_CV_INT(int64_t, i64)
MRTC_FN uint64_t k_cv_u64_f(double v) { return k_d2u64(v); }
MRTC_FN uint64_t k_cv_u64_i(int64_t v) { return (uint64_t)v; }
MRTC_FN uint64_t k_cv_u64_u(uint64_t v) { return v; }
MRTC_FN uint8_t k_cv_b_f(double v) { return v != 0; }
MRTC_FN uint8_t k_cv_b_i(int64_t v) { return v != 0; }
MRTC_FN uint8_t k_cv_b_u(uint64_t v) { return v != 0; }
MRTC_FN float k_cv_f32_f(double v) { return (float)v; }
MRTC_FN float k_cv_f32_i(int64_t v) { return (float)v; }
MRTC_FN float k_cv_f32_u(uint64_t v) { return (float)v; }
MRTC_FN double k_cv_f64_f(double v) { return v; }
MRTC_FN double k_cv_f64_i(int64_t v) { return (double)v; }
MRTC_FN double k_cv_f64_u(uint64_t v) { return (double)v; }
MRTC_FN uint16_t k_cv_f16_f(double v) { return k_d2h(v); }
MRTC_FN uint16_t k_cv_f16_i(int64_t v) { return k_d2h((double)v); }
MRTC_FN uint16_t k_cv_f16_u(uint64_t v) { return k_d2h((double)v); }
MRTC_FN uint16_t k_cv_bf16_f(double v) { return k_f2bf((float)v); }
MRTC_FN uint16_t k_cv_bf16_i(int64_t v) { return k_f2bf((float)v); }
MRTC_FN uint16_t k_cv_bf16_u(uint64_t v) { return k_f2bf((float)v); }

/* ------------------------------------------------------- narrow types */

/* value of bit pattern b of float type t (ONNX numbers 17-20, 23, 24) */
MRTC_FN double k_f8_dec(unsigned b, int t) {
  unsigned s, e, m;
  double v;
  b &= 255u;
  switch (t) {
  case 17: /* float8e4m3fn: bias 7, NaN S.1111.111, no inf */
    s = b >> 7, e = (b >> 3) & 15u, m = b & 7u;
    if (e == 15u && m == 7u) return NAN;
    v = e ? ldexp((double)(8u + m), (int)e - 10) : ldexp((double)m, -9);
    break;
  case 18: /* float8e4m3fnuz: bias 8, NaN 0x80, no inf, no -0 */
    if (b == 0x80u) return NAN;
    s = b >> 7, e = (b >> 3) & 15u, m = b & 7u;
    v = e ? ldexp((double)(8u + m), (int)e - 11) : ldexp((double)m, -10);
    break;
  case 19: /* float8e5m2: bias 15, IEEE-like inf and NaN */
    s = b >> 7, e = (b >> 2) & 31u, m = b & 3u;
    if (e == 31u) return m ? NAN : s ? -INFINITY : INFINITY;
    v = e ? ldexp((double)(4u + m), (int)e - 17) : ldexp((double)m, -16);
    break;
  case 20: /* float8e5m2fnuz: bias 16, NaN 0x80, no inf, no -0 */
    if (b == 0x80u) return NAN;
    s = b >> 7, e = (b >> 2) & 31u, m = b & 3u;
    v = e ? ldexp((double)(4u + m), (int)e - 18) : ldexp((double)m, -17);
    break;
  case 23: /* float4e2m1: bias 1, no inf or NaN */
    s = (b >> 3) & 1u, e = (b >> 1) & 3u, m = b & 1u;
    v = e ? ldexp((double)(2u + m), (int)e - 2) : 0.5 * (double)m;
    break;
  default: /* 24, float8e8m0: 2^(b - 127), NaN 0xff */
    if (b == 0xffu) return NAN;
    return ldexp(1.0, (int)b - 127);
  }
  return s ? -v : v;
}

/* v to float type t (17-20, 23) rounding to nearest even; sat: saturate */
MRTC_FN uint8_t k_f8_enc(double v, int t, int sat) {
  int mb, bias, e, k;
  unsigned s, maxb, bits;
  double mx, a, n;
  switch (t) {
  case 17: mb = 3, bias = 7, mx = 448.0, maxb = 0x7eu; break;
  case 18: mb = 3, bias = 8, mx = 240.0, maxb = 0x7fu; break;
  case 19: mb = 2, bias = 15, mx = 57344.0, maxb = 0x7bu; break;
  case 20: mb = 2, bias = 16, mx = 57344.0, maxb = 0x7fu; break;
  default: mb = 1, bias = 1, mx = 6.0, maxb = 0x7u, sat = 1; break; /* 23 */
  }
  s = signbit(v) ? (t == 23 ? 0x8u : 0x80u) : 0u;
  if (v != v) return (uint8_t)(t == 17 ? 0x7fu | s : t == 19 ? 0x7fu | s : t == 23 ? 0x8u : 0x80u);
  a = fabs(v);
  if (a == INFINITY) return (uint8_t)(sat ? maxb | s : t == 19 ? 0x7cu | s : t == 17 ? 0x7fu | s : 0x80u);
  if (a == 0) return (uint8_t)(t == 18 || t == 20 ? 0u : s);
  (void)frexp(a, &k);
  e = k - 1;
  if (e < 1 - bias) e = 1 - bias;
  n = rint(ldexp(a, mb - e));
  if (n == 0) return (uint8_t)(t == 18 || t == 20 ? 0u : s);
  if (n >= ldexp(1.0, mb + 1)) {
    n = ldexp(n, -1);
    e++;
  }
  if (ldexp(n, e - mb) > mx) return (uint8_t)(sat ? maxb | s : t == 19 ? 0x7cu | s : t == 17 ? 0x7fu | s : 0x80u);
  if (n < ldexp(1.0, mb)) bits = (unsigned)n; /* subnormal */
  else bits = ((unsigned)(e + bias) << mb) | ((unsigned)n - (1u << mb));
  return (uint8_t)(bits | s);
}

/* v to float8e8m0; mode: bit 0 saturate, bits 1-2 round_mode (0 up, 1 down, 2 nearest) */
MRTC_FN uint8_t k_e8m0_enc(double v, int mode) {
  float f = (float)v;
  uint32_t x, e, m;
  int sat = mode & 1, rm = (mode >> 1) & 3;
  if (f != f) return 0xffu;
  memcpy(&x, &f, 4);
  e = (x >> 23) & 255u;
  m = x & 0x7fffffu;
  if (e == 255u) return (uint8_t)(sat ? 0xfeu : 0xffu);
  if (!sat && e == 0 && m == 0) return 0xffu; /* below the smallest value */
  if ((rm == 0 && m) || (rm == 2 && m >= 0x400000u)) e++;
  if (e > 254u) return (uint8_t)(sat ? 0xfeu : 0xffu);
  return (uint8_t)e;
}

MRTC_FN double k_rd_f8e4m3fn(uint8_t x) { return k_f8_dec(x, 17); }
MRTC_FN double k_rd_f8e4m3fnuz(uint8_t x) { return k_f8_dec(x, 18); }
MRTC_FN double k_rd_f8e5m2(uint8_t x) { return k_f8_dec(x, 19); }
MRTC_FN double k_rd_f8e5m2fnuz(uint8_t x) { return k_f8_dec(x, 20); }
MRTC_FN double k_rd_f4e2m1(uint8_t x) { return k_f8_dec(x, 23); }
MRTC_FN double k_rd_f8e8m0(uint8_t x) { return k_f8_dec(x, 24); }
MRTC_FN int64_t k_rd_i4(int8_t x) { return x; }
MRTC_FN int64_t k_rd_u4(uint8_t x) { return x; }
MRTC_FN int64_t k_rd_i2(int8_t x) { return x; }
MRTC_FN int64_t k_rd_u2(uint8_t x) { return x; }

#define MRTC_CV_F8(tag, t)                                                                     \
  MRTC_FN uint8_t k_cv_##tag##_f(double v, int mode) { return k_f8_enc(v, t, mode & 1); }      \
  MRTC_FN uint8_t k_cv_##tag##_i(int64_t v, int mode) { return k_f8_enc((double)v, t, mode & 1); } \
  MRTC_FN uint8_t k_cv_##tag##_u(uint64_t v, int mode) { return k_f8_enc((double)v, t, mode & 1); }
MRTC_CV_F8(f8e4m3fn, 17)
MRTC_CV_F8(f8e4m3fnuz, 18)
MRTC_CV_F8(f8e5m2, 19)
MRTC_CV_F8(f8e5m2fnuz, 20)
MRTC_CV_F8(f4e2m1, 23)
MRTC_FN uint8_t k_cv_f8e8m0_f(double v, int mode) { return k_e8m0_enc(v, mode); }
MRTC_FN uint8_t k_cv_f8e8m0_i(int64_t v, int mode) { return k_e8m0_enc((double)v, mode); }
MRTC_FN uint8_t k_cv_f8e8m0_u(uint64_t v, int mode) { return k_e8m0_enc((double)v, mode); }

/* two's complement wrap of the low bits: int4 -8..7, uint4 0..15, int2 -2..1, uint2 0..3 */
MRTC_FN int8_t k_wrap_i4(uint64_t v) { return (int8_t)((int)((v & 15u) ^ 8u) - 8); }
MRTC_FN int8_t k_wrap_i2(uint64_t v) { return (int8_t)((int)((v & 3u) ^ 2u) - 2); }
MRTC_FN int8_t k_cv_i4_f(double v) { return k_wrap_i4((uint64_t)k_d2i64(v)); }
MRTC_FN int8_t k_cv_i4_i(int64_t v) { return k_wrap_i4((uint64_t)v); }
MRTC_FN int8_t k_cv_i4_u(uint64_t v) { return k_wrap_i4(v); }
MRTC_FN uint8_t k_cv_u4_f(double v) { return (uint8_t)((uint64_t)k_d2i64(v) & 15u); }
MRTC_FN uint8_t k_cv_u4_i(int64_t v) { return (uint8_t)((uint64_t)v & 15u); }
MRTC_FN uint8_t k_cv_u4_u(uint64_t v) { return (uint8_t)(v & 15u); }
MRTC_FN int8_t k_cv_i2_f(double v) { return k_wrap_i2((uint64_t)k_d2i64(v)); }
MRTC_FN int8_t k_cv_i2_i(int64_t v) { return k_wrap_i2((uint64_t)v); }
MRTC_FN int8_t k_cv_i2_u(uint64_t v) { return k_wrap_i2(v); }
MRTC_FN uint8_t k_cv_u2_f(double v) { return (uint8_t)((uint64_t)k_d2i64(v) & 3u); }
MRTC_FN uint8_t k_cv_u2_i(int64_t v) { return (uint8_t)((uint64_t)v & 3u); }
MRTC_FN uint8_t k_cv_u2_u(uint64_t v) { return (uint8_t)(v & 3u); }

#endif
