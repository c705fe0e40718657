/*
 * k_dft.h: discrete Fourier transforms (DFT, STFT) and the spectral helper
 * ops (Hann/Hamming/Blackman windows, MelWeightMatrix).
 *
 * A transform of length N works in double on one signal at a time: the
 * signal is gathered into a complex buffer (zero-padded or truncated to N;
 * for the inverse real transform, IRFFT, the one-sided spectrum is
 * extended by conjugate symmetry), transformed by an iterative radix-2 FFT
 * when N is a power of two and by the direct sum otherwise, and written
 * back (scaled by 1/N when inverse).  Scratch: k_dft_scratch(N) doubles.
 * Signals are strided: element n of signal (o, i) of a tensor viewed as
 * [outer, L, inner, c] (c = 1 real, 2 complex) is at ((o*L + n)*inner + i)*c.
 */
#ifndef MRTC_K_DFT_H
#define MRTC_K_DFT_H
#include "k_common.h"

#define MRTC_PI 3.14159265358979323846

MRTC_FN int64_t k_dft_scratch(int64_t N) { return 6 * N + 2; }

/* cos / sin of 2*pi*j/N for j < N */
MRTC_FN void k_dft_twiddles(int64_t N, double *tw) {
  int64_t j;
  for (j = 0; j < N; j++) {
    double a = 2.0 * MRTC_PI * (double)j / (double)N;
    tw[2 * j] = cos(a);
    tw[2 * j + 1] = sin(a);
  }
}

/* out[k] = sum_n in[n] * exp(sign * 2*pi*i*k*n/N) for k < K (complex, interleaved) */
MRTC_FN void k_dft_core(int64_t N, int64_t K, int sign, const double *tw, const double *in, double *out) {
  int64_t k, n;
  if (N > 1 && (N & (N - 1)) == 0) { /* radix 2 */
    int64_t i, j = 0, len;
    for (i = 0; i < N; i++) {
      out[2 * i] = in[2 * j];
      out[2 * i + 1] = in[2 * j + 1];
      {
        int64_t bit = N >> 1;
        while (bit && (j & bit)) {
          j ^= bit;
          bit >>= 1;
        }
        j |= bit;
      }
    }
    for (len = 2; len <= N; len <<= 1) {
      int64_t half = len >> 1, step = N / len;
      for (i = 0; i < N; i += len)
        for (k = 0; k < half; k++) {
          double wr = tw[2 * (k * step)], wi = sign * tw[2 * (k * step) + 1];
          double *a = out + 2 * (i + k), *b = out + 2 * (i + k + half);
          double tr = b[0] * wr - b[1] * wi, ti = b[0] * wi + b[1] * wr;
          b[0] = a[0] - tr;
          b[1] = a[1] - ti;
          a[0] += tr;
          a[1] += ti;
        }
    }
    return;
  }
  for (k = 0; k < K; k++) {
    double sr = 0, si = 0;
    int64_t idx = 0;
    for (n = 0; n < N; n++) {
      double wr = tw[2 * idx], wi = sign * tw[2 * idx + 1];
      sr += in[2 * n] * wr - in[2 * n + 1] * wi;
      si += in[2 * n] * wi + in[2 * n + 1] * wr;
      idx += k;
      if (idx >= N) idx %= N;
    }
    out[2 * k] = sr;
    out[2 * k + 1] = si;
  }
}

/* One DFT node.  x: [outer, Lin, inner, cin]; y: [outer, Lout, inner, cout].
 * mode 0: forward (Lout = N, or N/2+1 one-sided); 1: inverse complex;
 * 2: inverse real (IRFFT: Lout = N, cout = 1). */
#define MRTC_DFT(T, tag)                                                                                           \
  MRTC_FN void k_dft_##tag(int64_t outer, int64_t inner, int64_t Lin, int cin, int64_t N, int64_t Lout, int cout,  \
                           int mode, const T *x, T *y, double *scratch) {                                          \
    double *tw = scratch, *buf = scratch + 2 * N, *res = scratch + 4 * N;                                          \
    int64_t o, i, n, k;                                                                                            \
    k_dft_twiddles(N, tw);                                                                                         \
    for (o = 0; o < outer; o++)                                                                                    \
      for (i = 0; i < inner; i++) {                                                                                \
        const T *xs = x + (o * Lin * inner + i) * cin;                                                             \
        T *ys = y + (o * Lout * inner + i) * cout;                                                                 \
        for (n = 0; n < N; n++) buf[2 * n] = buf[2 * n + 1] = 0;                                                   \
        if (mode == 2) {                                                                                           \
          for (k = 0; k <= N / 2 && k < Lin; k++) {                                                                \
            double re = (double)xs[k * inner * cin], im = cin == 2 ? (double)xs[k * inner * cin + 1] : 0;          \
            buf[2 * k] = re;                                                                                       \
            buf[2 * k + 1] = im;                                                                                   \
            if (k > 0 && N - k > N / 2) {                                                                          \
              buf[2 * (N - k)] = re;                                                                               \
              buf[2 * (N - k) + 1] = -im;                                                                          \
            }                                                                                                      \
          }                                                                                                        \
        } else                                                                                                     \
          for (n = 0; n < N && n < Lin; n++) {                                                                     \
            buf[2 * n] = (double)xs[n * inner * cin];                                                              \
            if (cin == 2) buf[2 * n + 1] = (double)xs[n * inner * cin + 1];                                        \
          }                                                                                                        \
        k_dft_core(N, Lout < N ? Lout : N, mode ? 1 : -1, tw, buf, res);                                           \
        for (k = 0; k < Lout; k++) {                                                                               \
          double re = res[2 * k], im = res[2 * k + 1];                                                             \
          if (mode) {                                                                                              \
            re /= (double)N;                                                                                       \
            im /= (double)N;                                                                                       \
          }                                                                                                        \
          ys[k * inner * cout] = (T)re;                                                                            \
          if (cout == 2) ys[k * inner * cout + 1] = (T)im;                                                         \
        }                                                                                                          \
      }                                                                                                            \
  }                                                                                                                \
  /* STFT: x [B, L, cin], window w [FL] (NULL: ones), y [B, F, bins, 2] */                                       \
  MRTC_FN void k_stft_##tag(int64_t B, int64_t L, int cin, int64_t step, int64_t F, int64_t FL, int64_t bins,      \
                            const T *x, const T *w, T *y, double *scratch) {                                       \
    double *tw = scratch, *buf = scratch + 2 * FL, *res = scratch + 4 * FL;                                        \
    int64_t b, f, n, k;                                                                                            \
    k_dft_twiddles(FL, tw);                                                                                        \
    for (b = 0; b < B; b++)                                                                                        \
      for (f = 0; f < F; f++) {                                                                                    \
        T *ys = y + (b * F + f) * bins * 2;                                                                        \
        for (n = 0; n < FL; n++) {                                                                                 \
          int64_t t = f * step + n;                                                                                \
          double wv = w ? (double)w[n] : 1.0;                                                                      \
          buf[2 * n] = t < L ? (double)x[(b * L + t) * cin] * wv : 0;                                              \
          buf[2 * n + 1] = t < L && cin == 2 ? (double)x[(b * L + t) * cin + 1] * wv : 0;                          \
        }                                                                                                          \
        k_dft_core(FL, bins, -1, tw, buf, res);                                                                    \
        for (k = 0; k < bins; k++) {                                                                               \
          ys[2 * k] = (T)res[2 * k];                                                                               \
          ys[2 * k + 1] = (T)res[2 * k + 1];                                                                       \
        }                                                                                                          \
      }                                                                                                            \
  }
MRTC_DFT(float, f32)
MRTC_DFT(double, f64)

/* window w[n], n < size: kind 0 Hann, 1 Hamming, 2 Blackman; periodic or symmetric */
MRTC_FN double k_window_at(int kind, int64_t size, int periodic, int64_t n) {
  double N = (double)(periodic ? size : size - 1), a = 2.0 * MRTC_PI * (double)n / N;
  if (!periodic && size == 1) return 1.0;
  switch (kind) {
  case 0: return 0.5 - 0.5 * cos(a);
  case 1: return 25.0 / 46.0 - (1.0 - 25.0 / 46.0) * cos(a);
  default: return 0.42 - 0.5 * cos(a) + 0.08 * cos(2.0 * a);
  }
}

#endif
