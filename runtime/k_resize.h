/*
 * k_resize.h: Resize / Upsample as separable tap tables.
 *
 * The compiler turns every coordinate-transformation, interpolation,
 * antialias and exclude_outside rule into per-dimension tables: output
 * index o of dimension d reads NTAP[d] input indices TIDX with weights TW
 * (tables of the dimensions one after another: dimension d starts at
 * sum over d' < d of odims[d'] * ntap[d']).  An index of -1 in a tap list's
 * first entry means "outside the crop": the output is EXTRAP
 * (tf_crop_and_resize).  Unused taps have weight 0.
 *
 * k_resize_f32: y = sum over the tap product of weights * x.  Per output
 * row (all dims but the last) the taps of the outer dims are multiplied
 * out once into RI/RW (scratch: prod of ntap[0..rank-2] entries each).
 * k_resize_nearest: one tap of weight 1 per output index, any dtype (ESZ
 * bytes per element), no extrapolation.
 */
#ifndef MRTC_K_RESIZE_H
#define MRTC_K_RESIZE_H
#include "k_common.h"

MRTC_FN void k_resize_f32(int rank, const int64_t *idims, const int64_t *odims, const int64_t *ntap, const int64_t *tidx,
                          const float *tw, float extrap, const float *x, float *y, int64_t *ri, float *rw) {
  int64_t istr[8], toff[8], idx[8] = {0}, t = 0, s = 1, ow;
  int d, last = rank - 1;
  for (d = rank - 1; d >= 0; d--) {
    istr[d] = s;
    s *= idims[d];
  }
  for (d = 0; d < rank; d++) {
    toff[d] = t;
    t += odims[d] * ntap[d];
  }
  for (;;) {
    int64_t nr = 1, j, k;
    int out = 0;
    ri[0] = 0;
    rw[0] = 1.0f;
    for (d = 0; d < last && !out; d++) {
      const int64_t *ti = tidx + toff[d] + idx[d] * ntap[d];
      const float *tv = tw + toff[d] + idx[d] * ntap[d];
      int64_t m = 0;
      if (ti[0] < 0) {
        out = 1;
        break;
      }
      /* multiply out in place, from the back */
      for (j = nr - 1; j >= 0; j--)
        for (k = ntap[d] - 1; k >= 0; k--) {
          ri[j * ntap[d] + k] = ri[j] + ti[k] * istr[d];
          rw[j * ntap[d] + k] = rw[j] * tv[k];
        }
      nr *= ntap[d];
      for (j = 0; j < nr; j++) /* drop zero weights */
        if (rw[j] != 0.0f) {
          ri[m] = ri[j];
          rw[m] = rw[j];
          m++;
        }
      nr = m;
    }
    {
      const int64_t *li = tidx + toff[last];
      const float *lw = tw + toff[last];
      int64_t nt = ntap[last];
      if (out) {
        for (ow = 0; ow < odims[last]; ow++) y[ow] = extrap;
      } else if (nt == 1) {
        for (ow = 0; ow < odims[last]; ow++) {
          float acc = 0.0f;
          if (li[ow] < 0) {
            y[ow] = extrap;
            continue;
          }
          for (j = 0; j < nr; j++) acc += rw[j] * x[ri[j] + li[ow]];
          y[ow] = acc * lw[ow];
        }
      } else {
        for (ow = 0; ow < odims[last]; ow++) {
          const int64_t *ti = li + ow * nt;
          const float *tv = lw + ow * nt;
          float acc = 0.0f;
          if (ti[0] < 0) {
            y[ow] = extrap;
            continue;
          }
          for (j = 0; j < nr; j++) {
            const float *xr = x + ri[j];
            float a = 0.0f;
            for (k = 0; k < nt; k++) a += tv[k] * xr[ti[k]];
            acc += rw[j] * a;
          }
          y[ow] = acc;
        }
      }
    }
    y += odims[last];
    if (last == 0 || !k_next_index(last, odims, idx)) break;
  }
}

MRTC_FN void k_resize_nearest(int rank, const int64_t *idims, const int64_t *odims, const int64_t *tidx, const void *xv,
                              void *yv, int esz) {
  int64_t istr[8], toff[8], idx[8] = {0}, t = 0, s = 1, ow;
  int d, last = rank - 1;
  const unsigned char *x = (const unsigned char *)xv;
  unsigned char *y = (unsigned char *)yv;
  for (d = rank - 1; d >= 0; d--) {
    istr[d] = s;
    s *= idims[d];
  }
  for (d = 0; d < rank; d++) {
    toff[d] = t;
    t += odims[d];
  }
  for (;;) {
    int64_t off = 0;
    const int64_t *li = tidx + toff[last];
    const unsigned char *xr;
    for (d = 0; d < last; d++) off += tidx[toff[d] + idx[d]] * istr[d];
    xr = x + off * esz;
    switch (esz) {
    case 1: for (ow = 0; ow < odims[last]; ow++) y[ow] = xr[li[ow]]; break;
    case 4: for (ow = 0; ow < odims[last]; ow++) memcpy(y + 4 * ow, xr + 4 * li[ow], 4); break;
    default: for (ow = 0; ow < odims[last]; ow++) memcpy(y + esz * ow, xr + esz * li[ow], (size_t)esz); break;
    }
    y += odims[last] * esz;
    if (last == 0 || !k_next_index(last, odims, idx)) break;
  }
}

#endif
