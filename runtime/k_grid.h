/*
 * k_grid.h: sampling ops on spatial grids, float32: GridSample (N-D,
 * linear / nearest / cubic, zeros / border / reflection padding),
 * AffineGrid, RoiAlign (avg / max), Col2Im (N-D) and DeformConv (2-D).
 * The arithmetic follows the ONNX reference implementations (which follow
 * PyTorch / torchvision): see each kernel.
 */
#ifndef MRTC_K_GRID_H
#define MRTC_K_GRID_H
#include "k_common.h"

#define MRTC_GRID_MAXR 6

typedef struct KGrid {
  int64_t N, C, r, P;            /* r spatial dims, P output points per image */
  int64_t dims[MRTC_GRID_MAXR];  /* input spatial dims */
  int mode, pad, align;          /* mode 0 linear 1 nearest 2 cubic; pad 0 zeros 1 border 2 reflection */
} KGrid;

/* reflect x into [lo, hi] by the nearer border, repeatedly (the reference's _gs_reflect) */
MRTC_FN float k_gs_reflect(float x, float lo, float hi) {
  float rng = hi - lo, d, r;
  long long n;
  if (x < lo) {
    d = lo - x;
    n = (long long)(d / rng);
    r = d - (float)n * rng;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    d = x - hi;
    n = (long long)(d / rng);
    r = d - (float)n * rng;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

/* the input index a tap reads, or -1 for a zero */
MRTC_FN int64_t k_gs_tap(int64_t i, int64_t d, int pad, float lo, float hi) {
  if (pad == 0) return i >= 0 && i < d ? i : -1;
  if (pad == 1) return i < 0 ? 0 : i >= d ? d - 1 : i;
  i = (int64_t)k_gs_reflect((float)i, lo, hi);
  return i < 0 ? 0 : i >= d ? d - 1 : i;
}

MRTC_FN void k_gs_cubic(float x, float *c) {
  const float a = -0.75f;
  x = fabsf(x);
  c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

/* x [N, C, dims...], grid [N, P, r] (coordinates in reverse dim order), y [N, C, P] */
MRTC_FN void k_gridsample_f32(const KGrid *g, const float *x, const float *grid, float *y) {
  int64_t n, p, c, d, k, nt = g->mode == 0 ? 2 : g->mode == 1 ? 1 : 4, plane = 1, combos = 1;
  int64_t tap[MRTC_GRID_MAXR][4], cnt[MRTC_GRID_MAXR];
  float w[MRTC_GRID_MAXR][4];
  for (d = 0; d < g->r; d++) {
    plane *= g->dims[d];
    combos *= nt;
  }
  for (n = 0; n < g->N; n++)
    for (p = 0; p < g->P; p++) {
      const float *gp = grid + (n * g->P + p) * g->r;
      for (d = 0; d < g->r; d++) {
        int64_t len = g->dims[d];
        float v = gp[g->r - 1 - d], lo = g->align ? 0.0f : -0.5f, hi = g->align ? (float)len - 1.0f : (float)len - 0.5f;
        float xf = g->align ? (v + 1) / 2.0f * (float)(len - 1) : ((v + 1) * (float)len - 1) / 2.0f, x0;
        if (g->mode == 1) {
          xf = rintf(xf);
        }
        if (xf < lo || xf > hi) {
          if (g->pad == 1) xf = xf < 0 ? 0.0f : xf > (float)(len - 1) ? (float)(len - 1) : xf;
          else if (g->pad == 2) xf = k_gs_reflect(xf, lo, hi);
        }
        if (g->mode == 1) {
          tap[d][0] = k_gs_tap((int64_t)xf, len, g->pad, lo, hi);
          w[d][0] = 1.0f;
          continue;
        }
        x0 = floorf(xf);
        if (g->mode == 0) {
          w[d][0] = 1.0f - (xf - x0);
          w[d][1] = xf - x0;
          for (k = 0; k < 2; k++) tap[d][k] = k_gs_tap((int64_t)x0 + k, len, g->pad, lo, hi);
        } else {
          k_gs_cubic(xf - x0, w[d]);
          for (k = 0; k < 4; k++) tap[d][k] = k_gs_tap((int64_t)x0 - 1 + k, len, g->pad, lo, hi);
        }
      }
      for (c = 0; c < g->C; c++) {
        const float *xp = x + (n * g->C + c) * plane;
        float acc = 0.0f;
        int64_t m;
        for (d = 0; d < g->r; d++) cnt[d] = 0;
        for (m = 0; m < combos; m++) {
          int64_t off = 0;
          float wt = 1.0f;
          for (d = 0; d < g->r; d++) {
            int64_t t = tap[d][cnt[d]];
            if (t < 0) break;
            off = off * g->dims[d] + t;
            wt *= w[d][cnt[d]];
          }
          if (d == g->r) acc += wt * xp[off];
          for (d = g->r - 1; d >= 0; d--) {
            if (++cnt[d] < nt) break;
            cnt[d] = 0;
          }
        }
        y[(n * g->C + c) * g->P + p] = acc;
      }
    }
}

/* AffineGrid: theta [N, r, r+1], y [N, dims..., r]; r = 2 (H, W) or 3 (D, H, W) */
MRTC_FN void k_affine_grid_f32(int64_t N, int r, const int64_t *dims, int align, const float *theta, float *y) {
  int64_t n, i, P = 1, idx[3] = {0, 0, 0};
  int a, b;
  for (a = 0; a < r; a++) P *= dims[a];
  for (n = 0; n < N; n++) {
    const float *t = theta + n * r * (r + 1);
    for (a = 0; a < r; a++) idx[a] = 0;
    for (i = 0; i < P; i++) {
      double base[4];
      /* base point (x, y[, z], 1): x along the last dim */
      for (a = 0; a < r; a++) {
        int64_t L = dims[r - 1 - a], j = idx[r - 1 - a];
        double step = align ? 2.0 / (double)(L - 1) : 2.0 / (double)L, start = align ? -1.0 : -1.0 + step / 2;
        base[a] = L == 1 && align ? -1.0 : start + (double)j * step;
      }
      base[r] = 1.0;
      for (a = 0; a < r; a++) {
        double s = 0;
        for (b = 0; b <= r; b++) s += (double)t[a * (r + 1) + b] * base[b];
        y[(n * P + i) * r + a] = (float)s;
      }
      for (a = r - 1; a >= 0; a--) {
        if (++idx[a] < dims[a]) break;
        idx[a] = 0;
      }
    }
  }
}

/* RoiAlign: x [N, C, H, W], rois [R, 4], bidx [R], y [R, C, OH, OW] */
MRTC_FN void k_roialign_f32(int64_t N, int64_t C, int64_t H, int64_t W, int64_t R, int64_t OH, int64_t OW,
                            int64_t sampling, double scale, int half_pixel, int maxmode, const float *x,
                            const float *rois, const int64_t *bidx, float *y) {
  int64_t r, c, ph, pw, iy, ix;
  for (r = 0; r < R; r++) {
    double off = half_pixel ? 0.5 : 0.0;
    double sw = rois[r * 4 + 0] * scale - off, sh = rois[r * 4 + 1] * scale - off;
    double ew = rois[r * 4 + 2] * scale - off, eh = rois[r * 4 + 3] * scale - off;
    double rw = ew - sw, rh = eh - sh, bh, bw;
    int64_t gh, gw, count, b = bidx[r];
    if (!half_pixel) {
      if (rw < 1.0) rw = 1.0;
      if (rh < 1.0) rh = 1.0;
    }
    bh = rh / (double)OH;
    bw = rw / (double)OW;
    gh = sampling > 0 ? sampling : (int64_t)ceil(rh / (double)OH);
    gw = sampling > 0 ? sampling : (int64_t)ceil(rw / (double)OW);
    count = gh * gw > 1 ? gh * gw : 1;
    for (c = 0; c < C; c++) {
      const float *xp = x + (b * C + c) * H * W;
      for (ph = 0; ph < OH; ph++)
        for (pw = 0; pw < OW; pw++) {
          double out = 0;
          int first = 1;
          if (b < 0 || b >= N) { /* invalid batch index: zeros */
            y[((r * C + c) * OH + ph) * OW + pw] = 0.0f;
            continue;
          }
          for (iy = 0; iy < gh; iy++) {
            double yy = sh + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
            for (ix = 0; ix < gw; ix++) {
              double xx = sw + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
              double v1 = 0, v2 = 0, v3 = 0, v4 = 0, yv = yy, xv = xx, ly, lx, hy, hx, val;
              if (!(yv < -1.0 || yv > (double)H || xv < -1.0 || xv > (double)W)) {
                int64_t yl, xl, yh, xh;
                if (yv < 0) yv = 0;
                if (xv < 0) xv = 0;
                yl = (int64_t)yv;
                xl = (int64_t)xv;
                if (yl >= H - 1) yh = yl = H - 1, yv = (double)yl;
                else yh = yl + 1;
                if (xl >= W - 1) xh = xl = W - 1, xv = (double)xl;
                else xh = xl + 1;
                ly = yv - (double)yl, lx = xv - (double)xl, hy = 1.0 - ly, hx = 1.0 - lx;
                v1 = hy * hx * xp[yl * W + xl];
                v2 = hy * lx * xp[yl * W + xh];
                v3 = ly * hx * xp[yh * W + xl];
                v4 = ly * lx * xp[yh * W + xh];
              }
              if (maxmode) {
                val = v1 > v2 ? v1 : v2;
                if (v3 > val) val = v3;
                if (v4 > val) val = v4;
                if (first || val > out) out = val;
                first = 0;
              } else
                out += v1 + v2 + v3 + v4;
            }
          }
          if (!maxmode) out /= (double)count;
          y[((r * C + c) * OH + ph) * OW + pw] = (float)out;
        }
    }
  }
}

/* Col2Im: x [N, C*K, L] (K = prod(block), L = prod(blocks)), y [N, C, img...], r spatial dims */
MRTC_FN void k_col2im_f32(int64_t N, int64_t C, int r, const int64_t *img, const int64_t *blk, const int64_t *nb,
                          const int64_t *dil, const int64_t *padb, const int64_t *str, const float *x, float *y) {
  int64_t K = 1, L = 1, I = 1, n, c, k, l;
  int d;
  for (d = 0; d < r; d++) K *= blk[d], L *= nb[d], I *= img[d];
  memset(y, 0, sizeof(float) * (size_t)(N * C * I));
  for (n = 0; n < N; n++)
    for (c = 0; c < C; c++) {
      float *yp = y + (n * C + c) * I;
      for (k = 0; k < K; k++) {
        const float *xp = x + ((n * C + c) * K + k) * L;
        for (l = 0; l < L; l++) {
          int64_t kr = k, lr = l, off = 0, stride = 1;
          for (d = r - 1; d >= 0; d--) {
            int64_t ko = kr % blk[d], lo = lr % nb[d], pos = lo * str[d] - padb[d] + ko * dil[d];
            kr /= blk[d];
            lr /= nb[d];
            if (pos < 0 || pos >= img[d]) break;
            off += pos * stride;
            stride *= img[d];
          }
          if (d < 0) yp[off] += xp[l];
        }
      }
    }
}

/* DeformConv 2-D.  x [N, C, H, W], w [M, C/G, KH, KW], off [N, OG*KH*KW*2, OH, OW],
 * mask [N, OG*KH*KW, OH, OW] or NULL, bias [M] or NULL, y [N, M, OH, OW].
 * scratch: C*KH*KW*OH*OW floats. */
typedef struct KDeform {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G, OG;
} KDeform;

MRTC_FN float k_deform_sample(const float *xp, int64_t H, int64_t W, double h, double w) {
  double h0 = floor(h), w0 = floor(w), lh = h - h0, lw = w - w0, v = 0;
  int64_t y0 = (int64_t)h0, x0 = (int64_t)w0;
  if (y0 >= 0 && y0 < H && x0 >= 0 && x0 < W) v += (1 - lh) * (1 - lw) * xp[y0 * W + x0];
  if (y0 >= 0 && y0 < H && x0 + 1 >= 0 && x0 + 1 < W) v += (1 - lh) * lw * xp[y0 * W + x0 + 1];
  if (y0 + 1 >= 0 && y0 + 1 < H && x0 >= 0 && x0 < W) v += lh * (1 - lw) * xp[(y0 + 1) * W + x0];
  if (y0 + 1 >= 0 && y0 + 1 < H && x0 + 1 >= 0 && x0 + 1 < W) v += lh * lw * xp[(y0 + 1) * W + x0 + 1];
  return (float)v;
}

MRTC_FN void k_deform_conv_f32(const KDeform *s, const float *x, const float *w, const float *off, const float *mask,
                               const float *bias, float *y, float *col) {
  int64_t n, c, i, j, oh, ow, m, k, P = s->OH * s->OW, KK = s->KH * s->KW, Cg = s->C / s->G, Mg = s->M / s->G;
  int64_t Cog = s->C / s->OG;
  for (n = 0; n < s->N; n++) {
    for (c = 0; c < s->C; c++) {
      const float *xp = x + (n * s->C + c) * s->H * s->W;
      int64_t og = c / Cog;
      for (i = 0; i < s->KH; i++)
        for (j = 0; j < s->KW; j++) {
          int64_t kk = (og * s->KH + i) * s->KW + j;
          const float *oh_p = off + ((n * s->OG * KK * 2) + kk * 2) * P, *ow_p = oh_p + P;
          const float *mp = mask ? mask + (n * s->OG * KK + kk) * P : 0;
          float *cp = col + (c * KK + i * s->KW + j) * P;
          for (oh = 0; oh < s->OH; oh++)
            for (ow = 0; ow < s->OW; ow++) {
              int64_t p = oh * s->OW + ow;
              double hh = (double)(oh * s->SH - s->PT + i * s->DH) + oh_p[p];
              double ww = (double)(ow * s->SW - s->PL + j * s->DW) + ow_p[p];
              float v = k_deform_sample(xp, s->H, s->W, hh, ww);
              cp[p] = mp ? v * mp[p] : v;
            }
        }
    }
    for (m = 0; m < s->M; m++) {
      int64_t g = m / Mg, p;
      float *yp = y + (n * s->M + m) * P;
      const float *wp = w + m * Cg * KK, *cg = col + g * Cg * KK * P;
      for (p = 0; p < P; p++) yp[p] = bias ? bias[m] : 0.0f;
      for (k = 0; k < Cg * KK; k++) {
        float wv = wp[k];
        const float *cp = cg + k * P;
        for (p = 0; p < P; p++) yp[p] += wv * cp[p];
      }
    }
  }
}

#endif
