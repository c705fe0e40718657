/*
 * k_softmax.h: Softmax, LogSoftmax and Hardmax along the middle axis of x
 * viewed as OUTER x N x INNER (the compiler folds the ONNX axis rules,
 * including the pre-opset-13 "coerce to 2-D" form, into these three sizes).
 * Numerically stable: the row maximum is subtracted before exp, and the
 * sum is accumulated in double.  Hardmax marks the first maximum with 1.
 */
#ifndef MRTC_K_SOFTMAX_H
#define MRTC_K_SOFTMAX_H
#include "k_common.h"

enum { K_SOFTMAX = 0, K_LOGSOFTMAX = 1, K_HARDMAX = 2 };

#define MRTC_SOFTMAX(T, tag, EXP, LOG)                                                                   \
  MRTC_FN void k_softmax_##tag(int64_t outer, int64_t N, int64_t inner, int mode, const T *x, T *y) { \
    int64_t o, i, j;                                                                                  \
    for (o = 0; o < outer; o++)                                                                       \
      for (i = 0; i < inner; i++) {                                                                   \
        const T *xp = x + o * N * inner + i;                                                          \
        T *yp = y + o * N * inner + i, m = xp[0];                                                     \
        int64_t am = 0;                                                                               \
        double sum = 0;                                                                               \
        for (j = 1; j < N; j++)                                                                       \
          if (xp[j * inner] > m) m = xp[j * inner], am = j;                                           \
        if (mode == K_HARDMAX) {                                                                      \
          for (j = 0; j < N; j++) yp[j * inner] = (T)(j == am);                                       \
        } else if (mode == K_LOGSOFTMAX) {                                                            \
          T ls;                                                                                       \
          for (j = 0; j < N; j++) sum += EXP(xp[j * inner] - m);                                      \
          ls = (T)LOG(sum);                                                                           \
          for (j = 0; j < N; j++) yp[j * inner] = xp[j * inner] - m - ls;                             \
        } else {                                                                                      \
          T r;                                                                                        \
          for (j = 0; j < N; j++) sum += yp[j * inner] = EXP(xp[j * inner] - m);                      \
          r = (T)(1.0 / sum);                                                                         \
          for (j = 0; j < N; j++) yp[j * inner] *= r;                                                 \
        }                                                                                             \
      }                                                                                               \
  }

MRTC_SOFTMAX(float, f32, expf, log)
MRTC_SOFTMAX(double, f64, exp, log)

#endif
