/*
 * k_linattn.h: LinearAttention, the recurrent linear attention of opset 27
 * (linear, gated, delta and gated_delta update rules, grouped-query heads).
 *
 * Per batch b the state S[h] (d_k x d_v, one per KV head, starting from
 * past or zeros) runs over the T tokens; for token t and KV head h:
 *   gated: S = diag(exp(g)) S, g = decay[b, t, h*dk + i] (per key dim) or
 *          decay[b, t, h] (per head);
 *   delta: S += k (x) beta * (v - S^T k), beta = beta[b, t, h] or [b, t, 0];
 *   else:  S += k (x) v;
 * then every query head hq of the group (h = hq / (Hq / Hkv)) reads
 *   y[b, t, hq*dv + j] = scale * sum_i q[b, t, hq*dk + i] * S[h][i][j].
 * present[b] = the final S.  Element types (ONNX numbers): t for q, k, v,
 * decay, beta, y and present; pt for past (float 1, float16 10, bfloat16
 * 16).  Arithmetic in double; scratch W holds Hkv*dk*dv + dv doubles.
 */
#ifndef MRTC_K_LINATTN_H
#define MRTC_K_LINATTN_H
#include "k_common.h"
#include "k_cast.h"

MRTC_FN double kla_rd(const void *p, int t, int64_t i) {
  if (t == 1) return ((const float *)p)[i];
  if (t == 10) return k_h2f(((const uint16_t *)p)[i]);
  return k_bf2f(((const uint16_t *)p)[i]);
}

MRTC_FN void kla_wr(void *p, int t, int64_t i, double v) {
  if (t == 1) ((float *)p)[i] = (float)v;
  else if (t == 10) ((uint16_t *)p)[i] = k_d2h(v);
  else ((uint16_t *)p)[i] = k_f2bf((float)v);
}

/* gated: 1 for the gated rules; delta: 1 for the delta rules; dec_key: decay per key dim (else per head);
 * beta_head: beta per KV head (else one per token) */
MRTC_FN void k_linattn(int t, int pt, int64_t B, int64_t T, int64_t Hq, int64_t Hkv, int64_t dk, int64_t dv,
                       const void *q, const void *k, const void *v, const void *past, const void *decay,
                       const void *beta, int gated, int delta, int dec_key, int beta_head, double scale, void *y,
                       void *present, double *W) {
  int64_t b, s, h, g, i, j, G = Hq / Hkv, ssz = dk * dv;
  double *r = W + Hkv * ssz;
  for (b = 0; b < B; b++) {
    for (i = 0; i < Hkv * ssz; i++) W[i] = past ? kla_rd(past, pt, b * Hkv * ssz + i) : 0.0;
    for (s = 0; s < T; s++) {
      int64_t bt = b * T + s;
      for (h = 0; h < Hkv; h++) {
        double *S = W + h * ssz;
        int64_t ko = bt * Hkv * dk + h * dk, vo = bt * Hkv * dv + h * dv;
        if (gated)
          for (i = 0; i < dk; i++) {
            double e = exp(kla_rd(decay, t, dec_key ? ko + i : bt * Hkv + h));
            for (j = 0; j < dv; j++) S[i * dv + j] *= e;
          }
        if (delta) {
          double be = kla_rd(beta, t, beta_head ? bt * Hkv + h : bt);
          for (j = 0; j < dv; j++) {
            double acc = 0;
            for (i = 0; i < dk; i++) acc += S[i * dv + j] * kla_rd(k, t, ko + i);
            r[j] = be * (kla_rd(v, t, vo + j) - acc);
          }
        } else
          for (j = 0; j < dv; j++) r[j] = kla_rd(v, t, vo + j);
        for (i = 0; i < dk; i++) {
          double ki = kla_rd(k, t, ko + i);
          for (j = 0; j < dv; j++) S[i * dv + j] += ki * r[j];
        }
        for (g = 0; g < G; g++) {
          int64_t hq = h * G + g, qo = bt * Hq * dk + hq * dk, yo = bt * Hq * dv + hq * dv;
          for (j = 0; j < dv; j++) {
            double acc = 0;
            for (i = 0; i < dk; i++) acc += kla_rd(q, t, qo + i) * S[i * dv + j];
            kla_wr(y, t, yo + j, scale * acc);
          }
        }
      }
    }
    if (present)
      for (i = 0; i < Hkv * ssz; i++) kla_wr(present, t, b * Hkv * ssz + i, W[i]);
  }
}

#endif
