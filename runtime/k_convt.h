/*
 * k_convt.h: ConvTranspose (1-D, 2-D, 3-D; groups, strides, dilations,
 * pads of any sign) in float.
 *
 * Per image and group: col = W_g^T * X_g ((M/G * K) x P, P the input
 * positions, a block of whole input rows at a time; k_gemm_packed_f32 with
 * W_g^T packed by k_convt_pack_f32, at compile time when W is constant),
 * then col2im
 * scatter-adds col into Y at o = i * stride - pad_begin + k * dilation,
 * skipping positions outside the output.  Y starts as the bias (or zero).
 * Spatial shapes are padded to 3-D with ones.  Scratch: k_convt_scratch()
 * floats.
 */
#ifndef MRTC_K_CONVT_H
#define MRTC_K_CONVT_H
#include "k_common.h"
#include "k_gemm.h"

typedef struct KConvTShape {
  int64_t N, C, M, G;
  int64_t in[3], out[3], k[3], st[3], pb[3], dil[3];
} KConvTShape;

/* input planes (whole first-spatial-dim slabs) per GEMM block */
MRTC_FN int64_t k_convt_rows(const KConvTShape *s) {
  int64_t kk = s->k[0] * s->k[1] * s->k[2], slab = s->M / s->G * kk * s->in[1] * s->in[2], r;
  r = slab > 0 ? ((int64_t)1 << 20) / slab : s->in[0];
  if (r < 1) r = 1;
  if (r > s->in[0]) r = s->in[0];
  return r;
}

MRTC_FN int64_t k_convt_scratch(const KConvTShape *s) {
  return s->M / s->G * s->k[0] * s->k[1] * s->k[2] * k_convt_rows(s) * s->in[1] * s->in[2];
}

/* floats of the packed weights (all groups) */
MRTC_FN int64_t k_convt_packed_size(const KConvTShape *s) {
  int64_t rows = s->M / s->G * s->k[0] * s->k[1] * s->k[2];
  return s->G * ((rows + MRTC_MR - 1) / MRTC_MR * MRTC_MR) * (s->C / s->G);
}

MRTC_FN void k_convt_pack_f32(const KConvTShape *s, const float *w, float *wp) {
  int64_t rows = s->M / s->G * s->k[0] * s->k[1] * s->k[2], Cg = s->C / s->G, g;
  for (g = 0; g < s->G; g++)
    k_pack_a_f32(rows, Cg, w + g * Cg * rows, 1, rows, wp + g * ((rows + MRTC_MR - 1) / MRTC_MR * MRTC_MR) * Cg);
}

MRTC_FN void k_convt_f32(const KConvTShape *s, const float *x, const float *wp, const float *bias, float *y, float *col) {
  int64_t Mg = s->M / s->G, Cg = s->C / s->G, kk = s->k[0] * s->k[1] * s->k[2];
  int64_t P = s->in[0] * s->in[1] * s->in[2], OP = s->out[0] * s->out[1] * s->out[2], plane = s->in[1] * s->in[2];
  int64_t rows = k_convt_rows(s), n, g, m, i, a0, r;
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      float *yg = y + (n * s->M + g * Mg) * OP;
      const float *xg = x + (n * s->C + g * Cg) * P, *wg = wp + g * ((Mg * kk + MRTC_MR - 1) / MRTC_MR * MRTC_MR) * Cg;
      for (m = 0; m < Mg; m++) {
        float b0 = bias ? bias[g * Mg + m] : 0.0f;
        for (i = 0; i < OP; i++) yg[m * OP + i] = b0;
      }
      for (a0 = 0; a0 < s->in[0]; a0 += rows) {
        int64_t na = s->in[0] - a0 < rows ? s->in[0] - a0 : rows, nc = na * plane;
        KEpi ep;
        memset(&ep, 0, sizeof ep);
        ep.alpha = 1.0f;
        k_gemm_packed_f32(Mg * kk, nc, Cg, wg, xg + a0 * plane, P, col, nc, &ep);
        for (r = 0; r < Mg * kk; r++) {
          int64_t mm = r / kk, kr = r % kk, ka = kr / (s->k[1] * s->k[2]), kb = kr / s->k[2] % s->k[1], kc = kr % s->k[2];
          const float *c = col + r * nc;
          float *ym = yg + mm * OP;
          int64_t ia, ib, ic;
          for (ia = 0; ia < na; ia++) {
            int64_t oa = (a0 + ia) * s->st[0] - s->pb[0] + ka * s->dil[0];
            if (oa < 0 || oa >= s->out[0]) continue;
            for (ib = 0; ib < s->in[1]; ib++) {
              int64_t ob = ib * s->st[1] - s->pb[1] + kb * s->dil[1];
              const float *cr = c + (ia * s->in[1] + ib) * s->in[2];
              float *yr = ym + (oa * s->out[1] + ob) * s->out[2];
              int64_t oc = -s->pb[2] + kc * s->dil[2];
              if (ob < 0 || ob >= s->out[1]) continue;
              for (ic = 0; ic < s->in[2]; ic++, oc += s->st[2])
                if (oc >= 0 && oc < s->out[2]) yr[oc] += cr[ic];
            }
          }
        }
      }
    }
}

#endif
