/*
 * k_conv.h: 2-D convolution (NCHW, OIHW weights, groups, dilations,
 * asymmetric pads), as GEMM over tiles of output pixels.
 *
 * For each image and group, output pixels are taken TILE at a time; the
 * receptive fields of a tile are gathered into COL (K x TILE, K =
 * Cin/group * kh * kw; padding reads as zero) and Y[m, tile] = bias[m] +
 * sum_k W[m, k] * COL[k, tile] is one k_gemm_f32 call.  COL lives in
 * scratch space of K * TILE floats that the memory planner reserves for
 * this node only.  A 1x1 convolution with stride 1 and no padding reads
 * its input directly (no gather).  1-D convolutions are the H = 1 case.
 */
#ifndef MRTC_K_CONV_H
#define MRTC_K_CONV_H
#include "k_gemm.h"

#define MRTC_CONV_TILE 256

typedef struct {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G;
} KConvShape;

MRTC_FN void k_conv2d_f32(const KConvShape *s, const float *x, const float *w, const float *bias, float *y, float *col) {
  int64_t cg = s->C / s->G, mg = s->M / s->G, K = cg * s->KH * s->KW, P = s->OH * s->OW;
  int64_t n, g, m, p0;
  int direct = s->KH == 1 && s->KW == 1 && s->SH == 1 && s->SW == 1 && s->PT == 0 && s->PL == 0 && s->OH == s->H &&
               s->OW == s->W;
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      const float *xg = x + (n * s->C + g * cg) * s->H * s->W;
      const float *wg = w + g * mg * K;
      float *yg = y + (n * s->M + g * mg) * P;
      for (m = 0; m < mg; m++) {
        float b = bias ? bias[g * mg + m] : 0.0f;
        int64_t p;
        for (p = 0; p < P; p++) yg[m * P + p] = b;
      }
      if (direct) {
        k_gemm_f32(mg, P, K, 1.0f, wg, K, 1, xg, P, 1, yg, P);
        continue;
      }
      for (p0 = 0; p0 < P; p0 += MRTC_CONV_TILE) {
        int64_t T = P - p0 < MRTC_CONV_TILE ? P - p0 : MRTC_CONV_TILE, c, kh, kw, t;
        for (c = 0; c < cg; c++)
          for (kh = 0; kh < s->KH; kh++)
            for (kw = 0; kw < s->KW; kw++) {
              float *cr = col + ((c * s->KH + kh) * s->KW + kw) * T;
              const float *xc = xg + c * s->H * s->W;
              int64_t oh = (p0) / s->OW, ow = (p0) % s->OW;
              for (t = 0; t < T; t++) {
                int64_t ih = oh * s->SH - s->PT + kh * s->DH, iw = ow * s->SW - s->PL + kw * s->DW;
                cr[t] = (ih >= 0 && ih < s->H && iw >= 0 && iw < s->W) ? xc[ih * s->W + iw] : 0.0f;
                if (++ow == s->OW) {
                  ow = 0;
                  oh++;
                }
              }
            }
        k_gemm_f32(mg, T, K, 1.0f, wg, K, 1, col, T, 1, yg + p0, P);
      }
    }
}

#endif
