/*
 * k_cconv.h: CausalConvWithState, the stateful causal depthwise 1-D
 * convolution (Mamba, Gated DeltaNet).
 *
 * k_cconv(t, B, C, L, K, x, w, bias, past, act, y, present): per batch b
 * and channel c, the sequence p = past[b, c, :] (K - 1 values; zeros when
 * past is NULL) followed by x[b, c, :] (L values);
 *   y[b, c, i] = act(bias[c] + sum_j w[c, j] * p[i + j]), i < L,
 *   present[b, c, :] = the last K - 1 values of p;
 * act 0: none, 1: SiLU (v * sigmoid(v)).  Element type t (ONNX number):
 * float 1, float16 10, bfloat16 16; arithmetic in double, rounded once.
 * present may be NULL (output not requested).
 */
#ifndef MRTC_K_CCONV_H
#define MRTC_K_CCONV_H
#include "k_common.h"
#include "k_cast.h"

MRTC_FN double kcc_rd(const void *p, int t, int64_t i) {
  if (t == 1) return ((const float *)p)[i];
  if (t == 10) return k_h2f(((const uint16_t *)p)[i]);
  return k_bf2f(((const uint16_t *)p)[i]);
}

MRTC_FN void kcc_wr(void *p, int t, int64_t i, double v) {
  if (t == 1) ((float *)p)[i] = (float)v;
  else if (t == 10) ((uint16_t *)p)[i] = k_d2h(v);
  else ((uint16_t *)p)[i] = k_f2bf((float)v);
}

MRTC_FN void k_cconv(int t, int64_t B, int64_t C, int64_t L, int64_t K, const void *x, const void *w, const void *bias,
                     const void *past, int act, void *y, void *present) {
  int64_t b, c, i, j, S = K - 1;
  for (b = 0; b < B; b++)
    for (c = 0; c < C; c++) {
      int64_t xo = (b * C + c) * L, so = (b * C + c) * S;
      for (i = 0; i < L; i++) {
        double acc = bias ? kcc_rd(bias, t, c) : 0.0;
        for (j = 0; j < K; j++) {
          int64_t q = i + j; /* position in p */
          double v = q < S ? (past ? kcc_rd(past, t, so + q) : 0.0) : kcc_rd(x, t, xo + q - S);
          acc += kcc_rd(w, t, c * K + j) * v;
        }
        if (act) acc = acc / (1.0 + exp(-acc));
        kcc_wr(y, t, xo + i, acc);
      }
      if (present)
        for (j = 0; j < S; j++) {
          int64_t q = L + j; /* the last S positions of p, which has S + L */
          double v = q < S ? (past ? kcc_rd(past, t, so + q) : 0.0) : kcc_rd(x, t, xo + q - S);
          kcc_wr(present, t, so + j, v);
        }
    }
}

#endif
