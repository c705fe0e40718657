/*
 * test_kernels.c: runtime kernels against naive loops, on random shapes:
 * k_gemm_f32 (strided, transposed, accumulating), k_conv2d_f32 (groups,
 * strides, dilations, asymmetric pads, the 1x1 direct path, tiles), and
 * k_bcast_f32 (broadcasting with element strides).
 */
#include "unit.h"

#include <math.h>
#include <stdlib.h>

#include "k_binary.h"
#include "k_conv.h"
#include "k_gemm.h"

static float *randv(int64_t n) {
  float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = u_randf();
  return v;
}

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol * (1.0 + fabs(want)); }

void test_gemm_vs_naive(void) {
  for (int it = 0; it < 400; it++) {
    int64_t M = u_randint(0, 19), N = u_randint(1, 23), K = u_randint(0, 17);
    int ta = u_randint(0, 1), tb = u_randint(0, 2), padc = u_randint(0, 3);
    float alpha = it % 5 ? u_randf() * 2 : 1.0f;
    /* A stored M x K (or K x M when transposed); B K x N (or N x K); tb == 2:
     * B rows padded, a wider leading stride */
    int64_t ldb = tb == 1 ? K + 1 : N + (tb == 2 ? 3 : 0);
    float *A = randv(M * K), *B = randv((tb == 1 ? N : K) * ldb), *C = randv(M * (N + padc)), *R = malloc(sizeof(float) * (size_t)(M * (N + padc) + 1));
    for (int64_t i = 0; i < M * (N + padc); i++) R[i] = C[i];
    int64_t sam = ta ? 1 : K, sak = ta ? M : 1;
    int64_t sbk = tb == 1 ? 1 : ldb, sbn = tb == 1 ? ldb : 1;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++) s += (double)A[i * sam + k * sak] * B[k * sbk + j * sbn];
        R[i * (N + padc) + j] += (float)(alpha * s);
      }
    k_gemm_f32(M, N, K, alpha, A, sam, sak, B, sbk, sbn, C, N + padc);
    int bad = 0;
    for (int64_t i = 0; i < M * (N + padc) && !bad; i++)
      if (!close_to(C[i], R[i], 1e-5)) {
        CHECK(0, "M=%lld N=%lld K=%lld ta=%d tb=%d: C[%lld] = %g, expected %g", (long long)M, (long long)N, (long long)K, ta,
              tb, (long long)i, C[i], R[i]);
        bad = 1;
      }
    free(A);
    free(B);
    free(C);
    free(R);
    if (bad) break;
  }
}

static void conv_naive(const KConvShape *s, const float *x, const float *w, const float *bias, float *y) {
  int64_t cg = s->C / s->G, mg = s->M / s->G;
  for (int64_t n = 0; n < s->N; n++)
    for (int64_t m = 0; m < s->M; m++) {
      int64_t g = m / mg;
      for (int64_t oh = 0; oh < s->OH; oh++)
        for (int64_t ow = 0; ow < s->OW; ow++) {
          double acc = bias ? bias[m] : 0;
          for (int64_t c = 0; c < cg; c++)
            for (int64_t kh = 0; kh < s->KH; kh++)
              for (int64_t kw = 0; kw < s->KW; kw++) {
                int64_t ih = oh * s->SH - s->PT + kh * s->DH, iw = ow * s->SW - s->PL + kw * s->DW;
                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                acc += (double)x[((n * s->C + g * cg + c) * s->H + ih) * s->W + iw] *
                       w[((m * cg + c) * s->KH + kh) * s->KW + kw];
              }
          y[((n * s->M + m) * s->OH + oh) * s->OW + ow] = (float)acc;
        }
    }
}

void test_conv2d_vs_naive(void) {
  for (int it = 0; it < 300; it++) {
    KConvShape s;
    s.G = u_randint(1, 3);
    s.N = u_randint(1, 2);
    s.C = s.G * u_randint(1, 3);
    s.M = s.G * u_randint(1, 3);
    int direct = it % 7 == 0, big = it % 23 == 0; /* big: more output pixels than one tile */
    s.H = big ? u_randint(17, 24) : u_randint(1, 9);
    s.W = big ? u_randint(17, 24) : u_randint(1, 9);
    s.KH = direct ? 1 : u_randint(1, 3);
    s.KW = direct ? 1 : u_randint(1, 3);
    s.SH = direct ? 1 : u_randint(1, 2);
    s.SW = direct ? 1 : u_randint(1, 2);
    s.DH = direct ? 1 : u_randint(1, 2);
    s.DW = direct ? 1 : u_randint(1, 2);
    s.PT = direct ? 0 : u_randint(0, 2);
    s.PL = direct ? 0 : u_randint(0, 2);
    int64_t pb = direct ? 0 : u_randint(0, 2), pr = direct ? 0 : u_randint(0, 2);
    int64_t eh = s.H + s.PT + pb - s.DH * (s.KH - 1) - 1, ew = s.W + s.PL + pr - s.DW * (s.KW - 1) - 1;
    if (eh < 0 || ew < 0) continue;
    s.OH = eh / s.SH + 1;
    s.OW = ew / s.SW + 1;
    int64_t K = s.C / s.G * s.KH * s.KW, ny = s.N * s.M * s.OH * s.OW;
    float *x = randv(s.N * s.C * s.H * s.W), *w = randv(s.M * K), *b = u_randint(0, 1) ? randv(s.M) : NULL;
    float *y = randv(ny), *r = randv(ny), *col = randv(K * MRTC_CONV_TILE);
    conv_naive(&s, x, w, b, r);
    k_conv2d_f32(&s, x, w, b, y, col);
    int bad = 0;
    for (int64_t i = 0; i < ny && !bad; i++)
      if (!close_to(y[i], r[i], 1e-5)) {
        CHECK(0, "N%lld C%lld H%lld W%lld M%lld G%lld k%lldx%lld s%lld,%lld d%lld,%lld p%lld,%lld: y[%lld] = %g, expected %g",
              (long long)s.N, (long long)s.C, (long long)s.H, (long long)s.W, (long long)s.M, (long long)s.G,
              (long long)s.KH, (long long)s.KW, (long long)s.SH, (long long)s.SW, (long long)s.DH, (long long)s.DW,
              (long long)s.PT, (long long)s.PL, (long long)i, y[i], r[i]);
        bad = 1;
      }
    free(x);
    free(w);
    free(b);
    free(y);
    free(r);
    free(col);
    if (bad) break;
  }
}

static float sub_f(float a, float b) { return a - b; }

void test_bcast_vs_naive(void) {
  for (int it = 0; it < 500; it++) {
    int rank = u_randint(1, 5);
    int64_t dims[8], sa[8], sb[8], na = 1, nb = 1, n = 1;
    int abc[8], bbc[8];
    for (int d = 0; d < rank; d++) {
      dims[d] = u_randint(1, 5);
      abc[d] = u_randint(0, 3) == 0; /* broadcast along d */
      bbc[d] = !abc[d] && u_randint(0, 2) == 0;
      n *= dims[d];
    }
    for (int d = rank - 1; d >= 0; d--) { /* element strides; 0 along broadcast dims */
      sa[d] = abc[d] ? 0 : na;
      sb[d] = bbc[d] ? 0 : nb;
      if (!abc[d]) na *= dims[d];
      if (!bbc[d]) nb *= dims[d];
    }
    float *a = randv(na), *b = randv(nb), *y = randv(n);
    k_bcast_f32(rank, dims, sa, sb, a, b, y, it % 2 ? b_add_f32 : sub_f);
    int64_t idx[8] = {0};
    for (int64_t i = 0; i < n; i++) {
      int64_t oa = 0, ob = 0, t = i;
      for (int d = rank - 1; d >= 0; d--) {
        idx[d] = t % dims[d];
        t /= dims[d];
        oa += idx[d] * sa[d];
        ob += idx[d] * sb[d];
      }
      float want = it % 2 ? a[oa] + b[ob] : a[oa] - b[ob];
      if (y[i] != want) {
        CHECK(0, "rank %d: y[%lld] = %g, expected %g", rank, (long long)i, y[i], want);
        break;
      }
    }
    free(a);
    free(b);
    free(y);
    if (u_failed) break;
  }
}
