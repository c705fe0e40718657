/*
 * test_int8.c: the arithmetic of runtime/k_int8.h and runtime/k_fp16.h,
 * checked against double-precision references (built and run by
 * tests/quant/run_quant.sh with -std=c99 -Wall -Wextra -pedantic -Werror).
 * Prints PASS/FAIL lines; exits 1 on any failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "k_fp16.h"
#include "k_int8.h"

static int fails, passes;

static void check(int ok, const char *what) {
  if (ok) passes++;
  else {
    fails++;
    printf("FAIL quant-unit: %s\n", what);
  }
}

static uint32_t rng = 12345u;
static int rnd(int lo, int hi) {
  rng = rng * 1103515245u + 12345u;
  return lo + (int)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

/* round(x), halves away from zero, of an exact rational p / 2^s */
static int64_t ref_rshift(int64_t p, int s) {
  long double v = (long double)p / (long double)((int64_t)1 << s);
  return (int64_t)(v >= 0 ? floorl(v + 0.5L) : -floorl(-v + 0.5L));
}

/* the compiler's quantize_multiplier (quantize.c fixed_mults), one factor */
static void qmult(double r, int32_t *m, int32_t *s) {
  int e;
  frexp(r, &e);
  *s = 31 - e;
  if (llround(ldexp(r, *s)) >= (1LL << 31)) (*s)--;
  *m = (int32_t)llround(ldexp(r, *s));
}

/* GEMM against the integer reference: bias, zero points, residual, clamp */
static int gemm_case(int R, int K, int N) {
  int8_t *x = malloc((size_t)(R * K)), *w = malloc((size_t)(N * K)), *y = malloc((size_t)(R * N)), *res = malloc((size_t)(R * N));
  int32_t *bias = malloc(sizeof(int32_t) * N), *mult = malloc(sizeof(int32_t) * N);
  KQGemm s = {0, 0, 0, -7, 4, -128, 127, 0, 2, 0, 1};
  int32_t sh = 0, m1;
  int i, n, k, r, ok = 1;
  s.rows = R, s.K = K, s.N = N;
  for (i = 0; i < R * K; i++) x[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < N * K; i++) w[i] = (int8_t)rnd(-127, 127);
  for (i = 0; i < R * N; i++) res[i] = (int8_t)rnd(-128, 127);
  qmult(ldexp(1.0, -12 - (K > 100 ? 3 : 0)), &m1, &sh);
  for (n = 0; n < N; n++) mult[n] = (int32_t)llround(ldexp(ldexp(1.0 + n * 0.1, -12 - (K > 100 ? 3 : 0)), sh));
  s.shift = sh;
  qmult(0.75, &s.rmul, &s.rshift);
  for (n = 0; n < N; n++) {
    int32_t sw = 0;
    for (k = 0; k < K; k++) sw += w[n * K + k];
    bias[n] = rnd(-5000, 5000) - s.zx * sw;
  }
  k_qgemm_i8(&s, x, w, bias, mult, res, y);
  for (r = 0; r < R; r++)
    for (n = 0; n < N; n++) {
      int64_t acc = bias[n], v;
      for (k = 0; k < K; k++) acc += (int64_t)x[r * K + k] * w[n * K + k];
      v = s.zy + k_q_rshift(acc * mult[n], sh) + k_q_rshift((int64_t)(res[r * N + n] - s.zr) * s.rmul, s.rshift);
      v = v < -128 ? -128 : v > 127 ? 127 : v;
      ok &= y[r * N + n] == v;
    }
  free(x), free(w), free(y), free(res), free(bias), free(mult);
  return ok;
}

/* convolution against a direct loop */
static int conv_case(KQConv s) {
  int64_t cg = s.C / s.G, mg = s.M / s.G, i;
  int64_t nx = s.N * s.C * s.H * s.W, nw = s.M * cg * s.KH * s.KW, ny = s.N * s.M * s.OH * s.OW;
  int8_t *x = malloc((size_t)nx), *w = malloc((size_t)nw), *y = malloc((size_t)ny), *res = malloc((size_t)ny);
  int32_t *bias = malloc(sizeof(int32_t) * s.M), *mult = malloc(sizeof(int32_t) * s.M), m0, sh;
  void *scratch = malloc((size_t)k_qconv_scratch(&s));
  int64_t n, m, oh, ow, c, kh, kw;
  int ok = 1;
  qmult(ldexp(1.3, -12), &m0, &sh);
  s.shift = sh;
  for (i = 0; i < nx; i++) x[i] = (int8_t)rnd(-128, 127);
  for (i = 0; i < nw; i++) w[i] = (int8_t)rnd(-127, 127);
  for (i = 0; i < ny; i++) res[i] = (int8_t)rnd(-128, 127);
  for (m = 0; m < s.M; m++) {
    bias[m] = rnd(-3000, 3000);
    mult[m] = (int32_t)llround(ldexp(1.0 + 0.05 * (double)m, sh - 12));
  }
  k_qconv_i8(&s, x, w, bias, mult, s.rmul ? res : 0, y, scratch);
  for (n = 0; n < s.N; n++)
    for (m = 0; m < s.M; m++)
      for (oh = 0; oh < s.OH; oh++)
        for (ow = 0; ow < s.OW; ow++) {
          int64_t g = m / mg, acc = bias[m], v, o = ((n * s.M + m) * s.OH + oh) * s.OW + ow;
          for (c = 0; c < cg; c++)
            for (kh = 0; kh < s.KH; kh++)
              for (kw = 0; kw < s.KW; kw++) {
                int64_t ih = oh * s.SH - s.PT + kh * s.DH, iw = ow * s.SW - s.PL + kw * s.DW;
                int xv = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W ? x[((n * s.C + g * cg + c) * s.H + ih) * s.W + iw] : s.zx;
                acc += (int64_t)xv * w[((m * cg + c) * s.KH + kh) * s.KW + kw];
              }
          v = s.zy + k_q_rshift(acc * mult[m], sh);
          if (s.rmul) v += k_q_rshift((int64_t)(res[o] - s.zr) * s.rmul, s.rshift);
          v = v < s.lo ? s.lo : v > s.hi ? s.hi : v;
          ok &= y[o] == v;
        }
  free(x), free(w), free(y), free(res), free(bias), free(mult), free(scratch);
  return ok;
}

int main(void) {
  int i, ok;
  /* rounding shift: halves away from zero, both signs */
  {
    int64_t cases[][3] = {{5, 1, 3}, {-5, 1, -3}, {3, 1, 2}, {-3, 1, -2}, {1, 1, 1}, {-1, 1, -1}, {6, 2, 2}, {-6, 2, -2},
                          {7, 2, 2}, {-7, 2, -2}, {0, 5, 0}, {(int64_t)1 << 61, 62, 1}, {-((int64_t)1 << 61), 62, -1}};
    ok = 1;
    for (i = 0; i < (int)(sizeof cases / sizeof *cases); i++) ok &= k_q_rshift(cases[i][0], (int32_t)cases[i][1]) == cases[i][2];
    for (i = 0; i < 100000; i++) {
      int64_t p = (int64_t)rnd(-1000000, 1000000) * rnd(-30000, 30000);
      int s = rnd(1, 40);
      ok &= k_q_rshift(p, s) == ref_rshift(p, s);
    }
    check(ok, "k_q_rshift rounds half away from zero");
  }
  /* fixed-point requantization error <= 0.5 LSB + the multiplier's 2^-31 relative error */
  {
    double worst = 0;
    for (i = 0; i < 20000; i++) {
      double r = ldexp(0.5 + rnd(0, 1000000) / 2e6, -rnd(0, 20));
      int32_t m, s;
      int32_t acc = rnd(-2000000, 2000000);
      qmult(r, &m, &s);
      {
        double want = acc * r, got = (double)k_q_rshift((int64_t)acc * m, s);
        double err = fabs(got - want) - 0.5;
        if (err > worst) worst = err;
      }
    }
    check(worst < 1e-3, "requantization within half an LSB");
  }
  /* quantize: rint(x / s) + zp saturated; dequantize inverts on the grid */
  {
    float x[8] = {0.f, 0.5f, 1.5f, -0.5f, 1000.f, -1000.f, 0.26f, NAN}, s = 0.5f;
    int8_t q[8];
    float back[8];
    k_quantize_f32_i8(8, x, s, 3, q);
    ok = q[0] == 3 && q[1] == 4 && q[2] == 6 && q[3] == 2 && q[4] == 127 && q[5] == -128 && q[6] == 4 && q[7] == -128;
    check(ok, "k_quantize_f32_i8 (round half even, saturate, NaN low)");
    k_dequantize_i8_f32(4, q, s, 3, back);
    check(back[0] == 0.f && back[1] == 0.5f && back[2] == 1.5f && back[3] == -0.5f, "k_dequantize_i8_f32");
  }
  check(gemm_case(3, 37, 5), "k_qgemm_i8 equals the integer reference (3 x 37 x 5)");
  check(gemm_case(5, 300, 7), "k_qgemm_i8 equals the integer reference (5 x 300 x 7: SIMD and tail)");
  check(gemm_case(2, 1024, 9), "k_qgemm_i8 equals the integer reference (2 x 1024 x 9)");
  /* convolution: k_qconv_i8 against a direct loop */
  {
    /* N C H W M OH OW KH KW SH SW PT PL DH DW G, zx zy lo hi shift zr rmul rshift */
    KQConv a = {1, 4, 7, 6, 6, 4, 3, 3, 2, 2, 2, 1, 0, 1, 1, 2, 5, -3, -20, 100, 0, 0, 0, 1};
    KQConv b = {2, 32, 9, 9, 20, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, -128, 7, -128, 127, 0, -5, 1 << 29, 30};
    KQConv c = {1, 40, 6, 6, 8, 3, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1, 3, 0, -128, 127, 0, 0, 0, 1};
    KQConv d = {1, 70, 5, 5, 70, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 70, -10, 2, -128, 127, 0, 0, 0, 1};
    KQConv e = {1, 8, 10, 10, 4, 4, 4, 3, 3, 2, 2, 0, 0, 2, 2, 1, 0, 0, -128, 127, 0, 0, 0, 1};
    check(conv_case(a), "k_qconv_i8: pads, stride, groups, clamp");
    check(conv_case(b), "k_qconv_i8: 3x3 over 32 channels, batch 2, residual");
    check(conv_case(c), "k_qconv_i8: 1x1 stride 2 over 40 channels");
    check(conv_case(d), "k_qconv_i8: depthwise 3x3");
    check(conv_case(e), "k_qconv_i8: dilation 2, stride 2");
  }
  /* fp16: conversion round trip and nearest-even rounding */
  {
    uint16_t h;
    ok = 1;
    for (h = 0; h < 0x7c00; h++) ok &= k_f32_to_half(k_half_to_f32(h)) == h;
    ok &= k_f32_to_half(1.0f + 1.0f / 2048) == 0x3c00;        /* tie -> even */
    ok &= k_f32_to_half(1.0f + 3.0f / 2048) == 0x3c02;        /* tie -> even (up) */
    ok &= k_f32_to_half(65520.0f) == 0x7c00;                  /* overflow */
    ok &= k_half_to_f32(0x0001) == ldexpf(1.0f, -24);         /* subnormal */
    check(ok, "fp16 conversions (round trip, ties to even, overflow, subnormals)");
  }
  printf("%d passed, %d failed\n", passes, fails);
  return fails ? 1 : 0;
}
