/*
 * k_convpool.h: a convolution and the MaxPool after it, in one kernel (the
 * CNN stem: Conv 7x7/2 or 3x3/2 with its activation, then MaxPool 3x3/2).
 *
 * The convolution's output never exists whole.  Its rows are computed a
 * band at a time into scratch (M channels x band rows x OW), with the
 * row GEMM of k_conv_gemm_f32's one-K-block path; every pooled row whose
 * window rows are all in the band is pooled at once into Y with
 * k_maxpool2d_f32; the rows the next band's windows still read move to the
 * front of the band, so no row is computed twice.  The map (3 MB for
 * resnet's stem, more than L2) is neither written to memory nor read back;
 * a band (about 250 KB) stays in L2.  Same results, bit for bit, as the
 * convolution followed by the MaxPool: every output element goes through
 * the same instructions.
 *
 * For convolutions of one K block (Cin * KH * KW <= MRTC_KC), ungrouped,
 * not 1x1/1 (the compiler checks: conv_pool_fusable in op_conv.c).
 */
#ifndef MRTC_K_CONVPOOL_H
#define MRTC_K_CONVPOOL_H
#include "k_conv.h"
#include "k_pool.h"

#ifndef MRTC_CONVPOOL_ROWS
#define MRTC_CONVPOOL_ROWS 8 /* pooled rows per band */
#endif

/* the MaxPool: pooled output size, kernel, strides, begin pads (no dilation) */
typedef struct {
  int64_t OH, OW, KH, KW, SH, SW, PT, PL;
} KPoolGeom;

/* convolution rows a band holds at most */
MRTC_FN int64_t k_convpool_band_rows(const KConvShape *s, const KPoolGeom *p) {
  int64_t r = (MRTC_CONVPOOL_ROWS - 1) * p->SH + p->KH;
  return r < s->OH ? r : s->OH;
}

/* floats of scratch: the convolution's (tap offsets, phase planes), the band, one pooling row buffer */
MRTC_FN int64_t k_convpool_scratch(const KConvShape *s, const KPoolGeom *p) {
  return k_conv_gemm_scratch(s) + 16 + s->M * k_convpool_band_rows(s, p) * s->OW + s->OW + 64;
}

MRTC_FN void k_convpool_f32(const KConvShape *s, const KPoolGeom *pg, const float *x, const float *wp, const KEpi *e, float *y,
                            float *scratch) {
  const int64_t K = s->C * s->KH * s->KW, M = s->M, OW = s->OW, BR = k_convpool_band_rows(s, pg);
  const int64_t plane = BR * OW, base = (k_conv_gemm_scratch(s) + 15) / 16 * 16;
  int64_t *koff = (int64_t *)scratch;
  float *pl = scratch + 2 * K + 16, *band = scratch + base, *tmp = band + M * plane;
  int64_t hq, wq, n, m, p0, r;
  KEpi er = *e;
  er.res = 0;
  k_conv_planes(s, &hq, &wq);
  k_conv_koff(s, hq, wq, koff);
  for (n = 0; n < s->N; n++) {
    int64_t have_lo = 0, have_hi = 0; /* convolution rows [have_lo, have_hi) are in the band, from its first row */
    k_conv_phase_f32(s, x + n * s->C * s->H * s->W, pl, hq, wq);
    for (p0 = 0; p0 < pg->OH; p0 += MRTC_CONVPOOL_ROWS) {
      const int64_t p1 = pg->OH - p0 < MRTC_CONVPOOL_ROWS ? pg->OH : p0 + MRTC_CONVPOOL_ROWS;
      int64_t lo = p0 * pg->SH - pg->PT, hi = (p1 - 1) * pg->SH - pg->PT + pg->KH, keep;
      if (lo < 0) lo = 0;
      if (hi > s->OH) hi = s->OH;
      if (hi < lo) hi = lo;
      keep = have_hi > lo ? have_hi - lo : 0;
      if (keep && lo > have_lo)
        for (m = 0; m < M; m++) memmove(band + m * plane, band + m * plane + (lo - have_lo) * OW, sizeof(float) * (size_t)(keep * OW));
      for (r = lo + keep; r < hi; r++)
        k_gemm_block_f32(M, OW, K, wp, MRTC_MR * K, pl + r * wq, 0, koff, band + (r - lo) * OW, plane,
                         MRTC_GEMM_FIRST | MRTC_GEMM_LAST, &er);
      have_lo = lo;
      have_hi = hi;
      {
        /* pooled rows [p0, p1) over band rows [0, hi - lo): the window of row p starts at band row p * SH - PT - lo */
        KPoolShape ps;
        int d;
        for (d = 0; d < 3; d++) ps.in[d] = ps.out[d] = ps.k[d] = ps.st[d] = ps.dil[d] = 1, ps.pb[d] = ps.pe[d] = 0;
        ps.NC = 1;
        ps.in[1] = hi - lo, ps.in[2] = OW, ps.out[1] = p1 - p0, ps.out[2] = pg->OW;
        ps.k[1] = pg->KH, ps.k[2] = pg->KW, ps.st[1] = pg->SH, ps.st[2] = pg->SW;
        ps.pb[1] = pg->PT - p0 * pg->SH + lo, ps.pb[2] = pg->PL;
        for (m = 0; m < M; m++) k_maxpool2d_f32(&ps, band + m * plane, y + ((n * M + m) * pg->OH + p0) * pg->OW, tmp);
      }
    }
  }
}

#endif
