/*
 * k_rnn.h: the ONNX recurrent layers RNN, GRU and LSTM in float.
 *
 * One call runs every direction and batch row: per (direction, row) the
 * time steps run in order (reversed for the backward direction) up to the
 * row's sequence length (SEQLENS, int32, or all of T when NULL); Y rows
 * past the length are zero and Y_h / Y_c hold the state after the last
 * step.  Gate order as in ONNX: GRU z r h, LSTM i o f c; B holds the W
 * biases then the R biases; P the peepholes i o f.  clip (> 0) bounds
 * every activation's input.  layout 1 puts the batch first in X, Y, the
 * initial states and Y_h / Y_c.  Any of Y, Y_h, Y_c may be NULL, as may
 * B, SEQLENS, H0, C0 and P.  Scratch: k_rnn_scratch() floats.
 */
#ifndef MRTC_K_RNN_H
#define MRTC_K_RNN_H
#include "k_common.h"

enum { K_RNN_SIGMOID, K_RNN_TANH, K_RNN_RELU, K_RNN_AFFINE, K_RNN_LEAKYRELU, K_RNN_THRESHOLDEDRELU, K_RNN_SCALEDTANH,
       K_RNN_HARDSIGMOID, K_RNN_ELU, K_RNN_SOFTSIGN, K_RNN_SOFTPLUS };

typedef struct KRnnShape {
  int cell;     /* 0 RNN, 1 GRU, 2 LSTM */
  int64_t T, B, I, H;
  int dirs;     /* 1 or 2 */
  int reverse;  /* one direction: backward */
  int layout;
  int lbr;      /* GRU linear_before_reset */
  int input_forget;
  float clip;   /* <= 0: none */
  int act[2][3];
  float alpha[2][3], beta[2][3];
} KRnnShape;

MRTC_FN int64_t k_rnn_scratch(const KRnnShape *s) { return 8 * s->H; }

MRTC_FN float k_rnn_act(float x, int kind, float a, float b) {
  switch (kind) {
  case K_RNN_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case K_RNN_TANH: return tanhf(x);
  case K_RNN_RELU: return x > 0.0f ? x : 0.0f;
  case K_RNN_AFFINE: return a * x + b;
  case K_RNN_LEAKYRELU: return x >= 0.0f ? x : a * x;
  case K_RNN_THRESHOLDEDRELU: return x >= a ? x : 0.0f;
  case K_RNN_SCALEDTANH: return a * tanhf(b * x);
  case K_RNN_HARDSIGMOID: {
    float v = a * x + b;
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
  }
  case K_RNN_ELU: return x >= 0.0f ? x : a * (expf(x) - 1.0f);
  case K_RNN_SOFTSIGN: return x / (1.0f + fabsf(x));
  default: return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
  }
}

/* eight partial sums: independent chains the compiler can keep in one vector */
MRTC_FN float k_rnn_dot(const float *a, const float *b, int64_t n) {
  float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, t = 0.0f;
  int64_t i = 0;
  int k;
  for (; i + 8 <= n; i += 8)
    for (k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
  for (; i < n; i++) t += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + t;
}

MRTC_FN void k_rnn_f32(const KRnnShape *s, const float *x, const float *w, const float *r, const float *bias,
                       const int32_t *seqlens, const float *h0, const float *c0, const float *p, float *y, float *yh,
                       float *yc, float *scratch) {
  int64_t T = s->T, B = s->B, I = s->I, H = s->H, G = s->cell == 0 ? 1 : s->cell == 1 ? 3 : 4, D = s->dirs;
  float *h = scratch, *c = h + H, *hn = c + H, *g = hn + H; /* g: 4H floats, then one more H */
  float *tmp = g + 4 * H;
  int64_t dir, b, step, j;
  for (dir = 0; dir < D; dir++) {
    int rev = D == 2 ? dir == 1 : s->reverse;
    const float *wd = w + dir * G * H * I, *rd = r + dir * G * H * H;
    const float *bd = bias ? bias + dir * 2 * G * H : 0, *pd = p ? p + dir * 3 * H : 0;
    const int *act = s->act[dir];
    const float *al = s->alpha[dir], *be = s->beta[dir];
    float clip = s->clip;
    for (b = 0; b < B; b++) {
      int64_t len = T, so = s->layout ? (b * D + dir) * H : (dir * B + b) * H;
      if (seqlens) {
        len = seqlens[b];
        if (len < 0) len = 0;
        if (len > T) len = T;
      }
      for (j = 0; j < H; j++) {
        h[j] = h0 ? h0[so + j] : 0.0f;
        c[j] = c0 ? c0[so + j] : 0.0f;
      }
      for (step = 0; step < len; step++) {
        int64_t t = rev ? len - 1 - step : step;
        const float *xt = x + (s->layout ? b * T + t : t * B + b) * I;
        for (j = 0; j < G * H; j++) g[j] = k_rnn_dot(wd + j * I, xt, I) + (bd ? bd[j] : 0.0f);
#define K_RNN_CLIP(v) (clip > 0.0f ? ((v) < -clip ? -clip : (v) > clip ? clip : (v)) : (v))
        if (s->cell == 0) {
          for (j = 0; j < H; j++) {
            float v = g[j] + k_rnn_dot(rd + j * H, h, H) + (bd ? bd[H + j] : 0.0f);
            hn[j] = k_rnn_act(K_RNN_CLIP(v), act[0], al[0], be[0]);
          }
        } else if (s->cell == 1) {
          /* z, r */
          for (j = 0; j < 2 * H; j++) {
            float v = g[j] + k_rnn_dot(rd + j * H, h, H) + (bd ? bd[3 * H + j] : 0.0f);
            g[j] = k_rnn_act(K_RNN_CLIP(v), act[0], al[0], be[0]);
          }
          if (s->lbr) {
            for (j = 0; j < H; j++) {
              float rh = k_rnn_dot(rd + (2 * H + j) * H, h, H) + (bd ? bd[5 * H + j] : 0.0f);
              float v = g[2 * H + j] + g[H + j] * rh;
              tmp[j] = k_rnn_act(K_RNN_CLIP(v), act[1], al[1], be[1]);
            }
          } else {
            for (j = 0; j < H; j++) hn[j] = g[H + j] * h[j];
            for (j = 0; j < H; j++) {
              float v = g[2 * H + j] + k_rnn_dot(rd + (2 * H + j) * H, hn, H) + (bd ? bd[5 * H + j] : 0.0f);
              tmp[j] = k_rnn_act(K_RNN_CLIP(v), act[1], al[1], be[1]);
            }
          }
          for (j = 0; j < H; j++) hn[j] = (1.0f - g[j]) * tmp[j] + g[j] * h[j];
        } else {
          for (j = 0; j < 4 * H; j++) g[j] += k_rnn_dot(rd + j * H, h, H) + (bd ? bd[4 * H + j] : 0.0f);
          for (j = 0; j < H; j++) {
            float vi = g[j] + (pd ? pd[j] * c[j] : 0.0f), it, ft, ct, ot, vo;
            it = k_rnn_act(K_RNN_CLIP(vi), act[0], al[0], be[0]);
            if (s->input_forget) ft = 1.0f - it;
            else {
              float vf = g[2 * H + j] + (pd ? pd[2 * H + j] * c[j] : 0.0f);
              ft = k_rnn_act(K_RNN_CLIP(vf), act[0], al[0], be[0]);
            }
            ct = k_rnn_act(K_RNN_CLIP(g[3 * H + j]), act[1], al[1], be[1]);
            c[j] = ft * c[j] + it * ct;
            vo = g[H + j] + (pd ? pd[H + j] * c[j] : 0.0f);
            ot = k_rnn_act(K_RNN_CLIP(vo), act[0], al[0], be[0]);
            hn[j] = ot * k_rnn_act(c[j], act[2], al[2], be[2]);
          }
        }
#undef K_RNN_CLIP
        memcpy(h, hn, sizeof(float) * (size_t)H);
        if (y) memcpy(y + (s->layout ? (b * T + t) * D + dir : (t * D + dir) * B + b) * H, h, sizeof(float) * (size_t)H);
      }
      if (y)
        for (step = len; step < T; step++)
          memset(y + (s->layout ? (b * T + step) * D + dir : (step * D + dir) * B + b) * H, 0, sizeof(float) * (size_t)H);
      if (yh) memcpy(yh + so, h, sizeof(float) * (size_t)H);
      if (yc) memcpy(yc + so, c, sizeof(float) * (size_t)H);
    }
  }
}

#endif
