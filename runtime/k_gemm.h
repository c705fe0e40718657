/*
 * k_gemm.h: float matrix multiply, C += alpha * A * B.
 *
 * A is M x K read with strides (sam, sak), B is K x N with (sbk, sbn), C is
 * M x N with row stride scm.  Transposes are strides, so Gemm's transA and
 * transB and MatMul's batches need no copies.  Four rows of C are updated
 * together (one load of B feeds four multiply-adds), and when sbn == 1 the
 * inner loop is a contiguous axpy that C compilers vectorize.  The fast
 * register-blocked kernels of the speed mode will live beside this one.
 */
#ifndef MRTC_K_GEMM_H
#define MRTC_K_GEMM_H
#include "k_common.h"

MRTC_FN void k_gemm_f32(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t sam, int64_t sak,
                        const float *B, int64_t sbk, int64_t sbn, float *C, int64_t scm) {
  int64_t i, j, k;
  if (sbn != 1) { /* general strides: dot products */
    for (i = 0; i < M; i++)
      for (j = 0; j < N; j++) {
        float s = 0.0f;
        for (k = 0; k < K; k++) s += A[i * sam + k * sak] * B[k * sbk + j * sbn];
        C[i * scm + j] += alpha * s;
      }
    return;
  }
  for (i = 0; i + 4 <= M; i += 4) {
    float *c0 = C + i * scm, *c1 = c0 + scm, *c2 = c1 + scm, *c3 = c2 + scm;
    for (k = 0; k < K; k++) {
      const float *b = B + k * sbk;
      float a0 = alpha * A[i * sam + k * sak], a1 = alpha * A[(i + 1) * sam + k * sak];
      float a2 = alpha * A[(i + 2) * sam + k * sak], a3 = alpha * A[(i + 3) * sam + k * sak];
      for (j = 0; j < N; j++) {
        float bv = b[j];
        c0[j] += a0 * bv;
        c1[j] += a1 * bv;
        c2[j] += a2 * bv;
        c3[j] += a3 * bv;
      }
    }
  }
  for (; i < M; i++) {
    float *c0 = C + i * scm;
    for (k = 0; k < K; k++) {
      const float *b = B + k * sbk;
      float a0 = alpha * A[i * sam + k * sak];
      for (j = 0; j < N; j++) c0[j] += a0 * b[j];
    }
  }
}

#endif
