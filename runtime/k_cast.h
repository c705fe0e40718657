/*
 * k_cast.h: element conversions for Cast/CastLike, between every numeric
 * type (bool, [u]int8..64, float16, bfloat16, float, double).
 *
 * A value is read into one of three carriers, k_rd_<src>(x): double for the
 * float types (exact), int64_t for bool and the integer types up to int64,
 * uint64_t for uint64.  k_cv_<dst>_<carrier>(v) then converts to the
 * destination:
 *   float -> float: IEEE rounding to nearest even (+-inf when out of range);
 *     float16 and bfloat16 round to nearest even from the exact value.
 *   float -> integer: truncation toward zero; NaN gives 0 and values outside
 *     int64 saturate (ONNX leaves both undefined), then the result wraps to
 *     the destination width like an integer cast.
 *   integer -> integer: the low bits, two's complement (200 -> int8 -56).
 *   anything -> bool: nonzero (NaN included) is 1.
 * The generated code is one loop y[i] = k_cv_<dst>_<c>(k_rd_<src>(x[i]));
 * the interpreter calls the same functions.
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

#endif
