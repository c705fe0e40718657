/*
 * k_unary.h: elementwise float functions.  The generated code calls them
 * in a loop (y[i] = u_relu(x[i])); the interpreter calls the same function,
 * so both round identically.  Parameters (alpha, min/max) are arguments.
 */
#ifndef MRTC_K_UNARY_H
#define MRTC_K_UNARY_H
#include "k_common.h"

MRTC_FN float u_relu(float x) { return x > 0.0f ? x : 0.0f; }
MRTC_FN float u_leaky_relu(float x, float a) { return x >= 0.0f ? x : a * x; }
/* min(max(x, lo), hi): when lo > hi every value becomes hi, as ONNX says */
MRTC_FN float u_clip(float x, float lo, float hi) { float v = x < lo ? lo : x; return v > hi ? hi : v; }
MRTC_FN float u_sigmoid(float x) { return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x)); }
MRTC_FN float u_hard_sigmoid(float x, float a, float b) { float v = a * x + b; return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }
MRTC_FN float u_hard_swish(float x) { return x * u_hard_sigmoid(x, 1.0f / 6.0f, 0.5f); }
MRTC_FN float u_tanh(float x) { return tanhf(x); }
MRTC_FN float u_exp(float x) { return expf(x); }
MRTC_FN float u_log(float x) { return logf(x); }
MRTC_FN float u_sqrt(float x) { return sqrtf(x); }
MRTC_FN float u_erf(float x) { return erff(x); }
MRTC_FN float u_abs(float x) { return fabsf(x); }
MRTC_FN float u_neg(float x) { return -x; }
MRTC_FN float u_reciprocal(float x) { return 1.0f / x; }
MRTC_FN float u_floor(float x) { return floorf(x); }
MRTC_FN float u_ceil(float x) { return ceilf(x); }
MRTC_FN float u_round(float x) { return nearbyintf(x); } /* half to even (default rounding mode) */
MRTC_FN float u_sign(float x) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x == x ? 0.0f : x; }
MRTC_FN float u_sin(float x) { return sinf(x); }
MRTC_FN float u_cos(float x) { return cosf(x); }
MRTC_FN float u_tan(float x) { return tanf(x); }
MRTC_FN float u_asin(float x) { return asinf(x); }
MRTC_FN float u_acos(float x) { return acosf(x); }
MRTC_FN float u_atan(float x) { return atanf(x); }
MRTC_FN float u_sinh(float x) { return sinhf(x); }
MRTC_FN float u_cosh(float x) { return coshf(x); }
MRTC_FN float u_asinh(float x) { return asinhf(x); }
MRTC_FN float u_acosh(float x) { return acoshf(x); }
MRTC_FN float u_atanh(float x) { return atanhf(x); }
MRTC_FN float u_softplus(float x) { return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
MRTC_FN float u_softsign(float x) { return x / (1.0f + fabsf(x)); }
MRTC_FN float u_elu(float x, float a) { return x >= 0.0f ? x : a * (expf(x) - 1.0f); }
MRTC_FN float u_selu(float x, float a, float g) { return x > 0.0f ? g * x : g * (a * expf(x) - a); }
MRTC_FN float u_celu(float x, float a) { float e = a * (expf(x / a) - 1.0f); return (x > 0.0f ? x : 0.0f) + (e < 0.0f ? e : 0.0f); }
MRTC_FN float u_thresholded_relu(float x, float a) { return x > a ? x : 0.0f; }
MRTC_FN float u_mish(float x) { return x * tanhf(u_softplus(x)); }
MRTC_FN float u_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
MRTC_FN float u_gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}
MRTC_FN float u_shrink(float x, float bias, float lambd) { return x < -lambd ? x + bias : x > lambd ? x - bias : 0.0f; }
MRTC_FN float u_identity(float x) { return x; }

#endif
