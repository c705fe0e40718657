/*
 * k_einsum.h: Einsum as one loop over the index space.
 *
 * The compiler numbers the equation's labels: the NOUT output labels first
 * (in output order), then the summed ones; DIMS[l] is label l's extent.
 * ST[k * nlab + l] is input k's element stride for label l (the sum of the
 * strides of every axis of input k carrying l: repeated labels read
 * diagonals; 0 where input k lacks l or broadcasts it).  Then
 *   y[output index] = sum over the summed labels of prod_k in_k[offset_k].
 * One function per dtype: f32 (accumulates in double), f64, i32, i64.
 * At most 16 labels and 8 inputs.
 */
#ifndef MRTC_K_EINSUM_H
#define MRTC_K_EINSUM_H
#include "k_common.h"

#define K_EINSUM_DEF(SUF, T, ACC)                                                                                      \
  MRTC_FN void k_einsum_##SUF(int nlab, int nout, const int64_t *dims, int nin, const int64_t *st, const T *const *in,   \
                              T *y) {                                                                                   \
    int64_t idx[16] = {0}, ridx[16], base[8], off[8], total = 1, o, i, n, s0 = 0, s1 = 0;                               \
    int l, k, nred = nlab - nout, last = nlab - 1;                                                                      \
    for (l = 0; l < nout; l++) total *= dims[l];                                                                        \
    for (l = nout; l < nlab; l++)                                                                                       \
      if (dims[l] == 0) nred = -1; /* empty sum */                                                                      \
    for (o = 0; o < total; o++) {                                                                                       \
      ACC acc = 0;                                                                                                      \
      for (k = 0; k < nin; k++) {                                                                                       \
        base[k] = 0;                                                                                                    \
        for (l = 0; l < nout; l++) base[k] += idx[l] * st[k * nlab + l];                                                \
      }                                                                                                                 \
      if (nred == 0) {                                                                                                  \
        ACC p = 1;                                                                                                      \
        for (k = 0; k < nin; k++) p *= (ACC)in[k][base[k]];                                                             \
        acc = p;                                                                                                        \
      } else if (nred > 0) {                                                                                            \
        n = dims[last];                                                                                                 \
        if (nin >= 1) s0 = st[last];                                                                                    \
        if (nin >= 2) s1 = st[nlab + last];                                                                             \
        for (l = nout; l < nlab; l++) ridx[l] = 0;                                                                      \
        for (;;) {                                                                                                      \
          for (k = 0; k < nin; k++) {                                                                                   \
            off[k] = base[k];                                                                                           \
            for (l = nout; l < last; l++) off[k] += ridx[l] * st[k * nlab + l];                                         \
          }                                                                                                             \
          if (nin == 1) {                                                                                               \
            const T *a = in[0] + off[0];                                                                                \
            for (i = 0; i < n; i++) acc += (ACC)a[i * s0];                                                              \
          } else if (nin == 2) {                                                                                        \
            const T *a = in[0] + off[0], *b = in[1] + off[1];                                                           \
            for (i = 0; i < n; i++) acc += (ACC)a[i * s0] * (ACC)b[i * s1];                                             \
          } else {                                                                                                      \
            for (i = 0; i < n; i++) {                                                                                   \
              ACC p = 1;                                                                                                \
              for (k = 0; k < nin; k++) p *= (ACC)in[k][off[k] + i * st[k * nlab + last]];                              \
              acc += p;                                                                                                 \
            }                                                                                                           \
          }                                                                                                             \
          for (l = last - 1; l >= nout; l--) {                                                                          \
            if (++ridx[l] < dims[l]) break;                                                                             \
            ridx[l] = 0;                                                                                                \
          }                                                                                                             \
          if (l < nout) break;                                                                                          \
        }                                                                                                               \
      }                                                                                                                 \
      y[o] = (T)acc;                                                                                                    \
      for (l = nout - 1; l >= 0; l--) {                                                                                 \
        if (++idx[l] < dims[l]) break;                                                                                  \
        idx[l] = 0;                                                                                                     \
      }                                                                                                                 \
    }                                                                                                                   \
  }

K_EINSUM_DEF(f32, float, double)
K_EINSUM_DEF(f64, double, double)
K_EINSUM_DEF(i32, int32_t, int64_t)
K_EINSUM_DEF(i64, int64_t, int64_t)

#endif
