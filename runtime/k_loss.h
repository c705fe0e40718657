/*
 * k_loss.h: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
 *
 * The scores x are viewed as [N, C, D] (D: the trailing dims flattened, 1
 * for a 2-D input), the targets t as [N, D].  Element types travel as ONNX
 * TensorProto numbers (x, weight, outputs: float 1, float16 10, double 11,
 * bfloat16 16; targets: int32 6, int64 7); arithmetic is in double.
 *
 * k_loss(sce, N, C, D, x, xt, t, tt, w, has_ii, ii, red, y, logp):
 *   lp[n,c,d] = x (NLL) or the log-softmax of x over c (SCE, rounded to the
 *     element type as the reference computes it); logp, when not NULL, gets
 *     every lp (SCE only);
 *   loss[n,d] = -lp[n,t,d] * w[t] (w = 1 without weights), 0 where t is the
 *     ignore index (has_ii), NaN where t is outside [0, C) otherwise;
 *   red 0 (none): y = loss; 1 (sum): y = sum(loss); 2 (mean): sum(loss) /
 *     sum(gw), where gw[n,d] = w[t] (0 for ignored targets) when there are
 *     weights or an ignore index, else sum(loss) / (N * D).
 */
#ifndef MRTC_K_LOSS_H
#define MRTC_K_LOSS_H
#include "k_common.h"
#include "k_cast.h"

MRTC_FN double kl_rd(const void *p, int t, int64_t i) {
  switch (t) {
  case 1: return ((const float *)p)[i];
  case 10: return k_h2f(((const uint16_t *)p)[i]);
  case 16: return k_bf2f(((const uint16_t *)p)[i]);
  default: return ((const double *)p)[i];
  }
}

MRTC_FN void kl_wr(void *p, int t, int64_t i, double v) {
  switch (t) {
  case 1: ((float *)p)[i] = (float)v; break;
  case 10: ((uint16_t *)p)[i] = k_d2h(v); break;
  case 16: ((uint16_t *)p)[i] = k_f2bf((float)v); break;
  default: ((double *)p)[i] = v; break;
  }
}

/* v rounded to element type t */
MRTC_FN double kl_round(double v, int t) {
  switch (t) {
  case 1: return (double)(float)v;
  case 10: return (double)k_h2f(k_d2h(v));
  case 16: return (double)k_bf2f(k_f2bf((float)v));
  default: return v;
  }
}

MRTC_FN void k_loss(int sce, int64_t N, int64_t C, int64_t D, const void *x, int xt, const void *t, int tt,
                    const void *w, int has_ii, int64_t ii, int red, void *y, void *logp) {
  int64_t n, c, d;
  double sum = 0, wsum = 0;
  for (n = 0; n < N; n++)
    for (d = 0; d < D; d++) {
      int64_t base = n * C * D + d, tg = tt == 6 ? ((const int32_t *)t)[n * D + d] : ((const int64_t *)t)[n * D + d];
      double mx = 0, lse = 0, loss = 0, gw = 1;
      if (sce && C > 0) {
        mx = kl_rd(x, xt, base);
        for (c = 1; c < C; c++) {
          double v = kl_rd(x, xt, base + c * D);
          if (v > mx || v != v) mx = v;
        }
        for (c = 0; c < C; c++) lse += exp(kl_rd(x, xt, base + c * D) - mx);
        lse = log(lse);
        if (logp)
          for (c = 0; c < C; c++) kl_wr(logp, xt, base + c * D, kl_rd(x, xt, base + c * D) - mx - lse);
      }
      if (w) gw = kl_rd(w, xt, tg < 0 ? 0 : tg >= C ? C - 1 : tg);
      if (has_ii && tg == ii) {
        gw = 0;
        loss = 0;
      } else if (tg < 0 || tg >= C) {
        loss = NAN;
      } else {
        double v = kl_rd(x, xt, base + tg * D);
        if (sce) v = kl_round(v - mx - lse, xt);
        loss = kl_round(-v, xt) * gw;
      }
      if (red == 0) kl_wr(y, xt, n * D + d, loss);
      sum += loss;
      wsum += gw;
    }
  if (red == 1) kl_wr(y, xt, 0, sum);
  else if (red == 2) kl_wr(y, xt, 0, (w || has_ii) ? sum / wsum : sum / (double)(N * D));
}

#endif
