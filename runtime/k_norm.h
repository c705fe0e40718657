/*
 * k_norm.h: normalization kernels.  Statistics are accumulated in double
 * with two passes (mean, then the mean of squared deviations), which is
 * exact enough that float and double inputs share one code path.
 *
 *   k_batchnorm:       y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c]
 *                      over x as N x C x S (inference; running statistics)
 *   k_batchnorm_train: the same with the batch's own statistics over N and S,
 *                      and the updated running mean / variance
 *   k_groupnorm:       statistics per (n, group) over CG channels x S;
 *                      scale/bias per channel or per group.  Instance
 *                      normalization is the case CG = 1.
 *   k_layernorm:       x as OUTER x INNER, statistics per row; scale/bias of
 *                      INNER elements (stride 1) or one (stride 0); optional
 *                      Mean / InvStdDev outputs.  RMS = 1 takes the mean as
 *                      zero (RMSNormalization).
 *   k_lpnorm:          y = x / ||x||_p along the middle axis of OUTER x N x
 *                      INNER (p = 1 or 2); a zero norm gives zero.
 *   k_mvn:             y = (x - mean) / (std + 1e-9) over an arbitrary axis set:
 *                      the kept and the reduced dims are given separately
 *                      with their strides.
 *   k_lrn:             y = x / (bias + alpha / size * sum of x^2 over the
 *                      neighbouring channels) ^ beta.
 */
#ifndef MRTC_K_NORM_H
#define MRTC_K_NORM_H
#include "k_common.h"

#define MRTC_NORM(T, tag)                                                                                     \
  MRTC_FN void k_batchnorm_##tag(int64_t N, int64_t C, int64_t S, const T *x, const T *scale, const T *bias,  \
                                 const T *mean, const T *var, double eps, T *y) {                             \
    int64_t n, c, i;                                                                                          \
    for (c = 0; c < C; c++) {                                                                                 \
      T a = (T)(scale[c] / sqrt((double)var[c] + eps)), b = (T)(bias[c] - mean[c] * (double)a);               \
      for (n = 0; n < N; n++) {                                                                               \
        const T *xp = x + (n * C + c) * S;                                                                    \
        T *yp = y + (n * C + c) * S;                                                                          \
        for (i = 0; i < S; i++) yp[i] = xp[i] * a + b;                                                        \
      }                                                                                                       \
    }                                                                                                         \
  }                                                                                                           \
                                                                                                              \
  MRTC_FN void k_batchnorm_train_##tag(int64_t N, int64_t C, int64_t S, const T *x, const T *scale,           \
                                       const T *bias, const T *mean, const T *var, double eps,                \
                                       double momentum, T *y, T *run_mean, T *run_var) {                      \
    int64_t n, c, i;                                                                                          \
    for (c = 0; c < C; c++) {                                                                                 \
      double m = 0, v = 0, cnt = (double)(N * S), a;                                                          \
      for (n = 0; n < N; n++)                                                                                 \
        for (i = 0; i < S; i++) m += x[(n * C + c) * S + i];                                                  \
      m /= cnt;                                                                                               \
      for (n = 0; n < N; n++)                                                                                 \
        for (i = 0; i < S; i++) {                                                                             \
          double d = x[(n * C + c) * S + i] - m;                                                              \
          v += d * d;                                                                                         \
        }                                                                                                     \
      v /= cnt;                                                                                               \
      a = scale[c] / sqrt(v + eps);                                                                           \
      for (n = 0; n < N; n++)                                                                                 \
        for (i = 0; i < S; i++) y[(n * C + c) * S + i] = (T)((x[(n * C + c) * S + i] - m) * a + bias[c]);    \
      if (run_mean) run_mean[c] = (T)(mean[c] * momentum + m * (1 - momentum));                               \
      if (run_var) run_var[c] = (T)(var[c] * momentum + v * (1 - momentum));                                  \
    }                                                                                                         \
  }                                                                                                           \
                                                                                                              \
  MRTC_FN void k_groupnorm_##tag(int64_t N, int64_t G, int64_t CG, int64_t S, const T *x, const T *scale,    \
                                 const T *bias, int per_channel, double eps, T *y) {                          \
    int64_t n, g, c, i, L = CG * S;                                                                           \
    for (n = 0; n < N; n++)                                                                                   \
      for (g = 0; g < G; g++) {                                                                               \
        const T *xp = x + (n * G + g) * L;                                                                    \
        T *yp = y + (n * G + g) * L;                                                                          \
        double m = 0, v = 0, inv;                                                                             \
        for (i = 0; i < L; i++) m += xp[i];                                                                   \
        m /= (double)L;                                                                                       \
        for (i = 0; i < L; i++) v += (xp[i] - m) * (xp[i] - m);                                               \
        inv = 1.0 / sqrt(v / (double)L + eps);                                                                \
        for (c = 0; c < CG; c++) {                                                                            \
          int64_t k = per_channel ? g * CG + c : g;                                                           \
          double a = inv * scale[k], b = bias[k] - m * a;                                                     \
          for (i = 0; i < S; i++) yp[c * S + i] = (T)(xp[c * S + i] * a + b);                                 \
        }                                                                                                     \
      }                                                                                                       \
  }                                                                                                           \
                                                                                                              \
  MRTC_FN void k_layernorm_##tag(int64_t outer, int64_t inner, const T *x, const T *scale, int64_t ss,        \
                                 const T *bias, int64_t bs, double eps, int rms, T *y, T *mean_out,           \
                                 T *invstd_out) {                                                             \
    int64_t o, i;                                                                                             \
    for (o = 0; o < outer; o++) {                                                                             \
      const T *xp = x + o * inner;                                                                            \
      T *yp = y + o * inner;                                                                                  \
      double m = 0, v = 0, inv;                                                                               \
      if (!rms) {                                                                                             \
        for (i = 0; i < inner; i++) m += xp[i];                                                               \
        m /= (double)inner;                                                                                   \
      }                                                                                                       \
      for (i = 0; i < inner; i++) v += (xp[i] - m) * (xp[i] - m);                                             \
      inv = 1.0 / sqrt(v / (double)inner + eps);                                                              \
      for (i = 0; i < inner; i++)                                                                             \
        yp[i] = (T)((xp[i] - m) * inv * scale[i * ss] + (bias ? bias[i * bs] : 0));                           \
      if (mean_out) mean_out[o] = (T)m;                                                                       \
      if (invstd_out) invstd_out[o] = (T)inv;                                                                 \
    }                                                                                                         \
  }                                                                                                           \
                                                                                                              \
  MRTC_FN void k_lpnorm_##tag(int64_t outer, int64_t N, int64_t inner, int p, const T *x, T *y) {            \
    int64_t o, j, i;                                                                                          \
    for (o = 0; o < outer; o++)                                                                               \
      for (i = 0; i < inner; i++) {                                                                           \
        const T *xp = x + o * N * inner + i;                                                                  \
        T *yp = y + o * N * inner + i;                                                                        \
        double s = 0, r;                                                                                      \
        for (j = 0; j < N; j++) s += p == 1 ? fabs((double)xp[j * inner]) : (double)xp[j * inner] * xp[j * inner]; \
        if (p != 1) s = sqrt(s);                                                                              \
        r = s > 0 ? 1.0 / s : 0.0;                                                                            \
        for (j = 0; j < N; j++) yp[j * inner] = (T)(xp[j * inner] * r);                                       \
      }                                                                                                       \
  }                                                                                                           \
                                                                                                              \
  MRTC_FN void k_mvn_##tag(int nk, const int64_t *kdims, const int64_t *kstr, int nr, const int64_t *rdims,   \
                           const int64_t *rstr, const T *x, T *y) {                                           \
    int64_t ki[8] = {0}, cnt = 1;                                                                             \
    int d;                                                                                                    \
    for (d = 0; d < nr; d++) cnt *= rdims[d];                                                                 \
    for (;;) {                                                                                                \
      int64_t base = 0, ri[8] = {0}, off, pass;                                                               \
      double m = 0, v = 0, inv = 0;                                                                           \
      for (d = 0; d < nk; d++) base += ki[d] * kstr[d];                                                       \
      for (pass = 0; pass < 3; pass++) {                                                                      \
        for (;;) {                                                                                            \
          off = base;                                                                                         \
          for (d = 0; d < nr; d++) off += ri[d] * rstr[d];                                                    \
          if (pass == 0) m += x[off];                                                                         \
          else if (pass == 1) v += (x[off] - m) * (x[off] - m);                                               \
          else y[off] = (T)((x[off] - m) * inv);                                                              \
          if (!nr || !k_next_index(nr, rdims, ri)) break;                                                     \
        }                                                                                                     \
        if (pass == 0) m /= (double)cnt;                                                                      \
        if (pass == 1) inv = 1.0 / (sqrt(v / (double)cnt) + 1e-9);                                            \
      }                                                                                                       \
      if (!nk || !k_next_index(nk, kdims, ki)) break;                                                         \
    }                                                                                                         \
  }                                                                                                           \
                                                                                                              \
  MRTC_FN void k_lrn_##tag(int64_t N, int64_t C, int64_t S, int64_t size, double alpha, double beta,          \
                           double bias, const T *x, T *y) {                                                   \
    int64_t n, c, i, j, lo_off = (size - 1) / 2, hi_off = size / 2;                                           \
    for (n = 0; n < N; n++)                                                                                   \
      for (c = 0; c < C; c++) {                                                                               \
        int64_t lo = c - lo_off < 0 ? 0 : c - lo_off, hi = c + hi_off > C - 1 ? C - 1 : c + hi_off;           \
        const T *xp = x + n * C * S;                                                                          \
        T *yp = y + (n * C + c) * S;                                                                          \
        for (i = 0; i < S; i++) {                                                                             \
          double sq = 0;                                                                                      \
          for (j = lo; j <= hi; j++) sq += (double)xp[j * S + i] * xp[j * S + i];                             \
          yp[i] = (T)(xp[c * S + i] / pow(bias + alpha / (double)size * sq, beta));                           \
        }                                                                                                     \
      }                                                                                                       \
  }

MRTC_NORM(float, f32)
MRTC_NORM(double, f64)

#endif
