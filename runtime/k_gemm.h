/*
 * k_gemm.h: float matrix multiply.
 *
 * Two kernels live here.
 *
 * k_gemm_f32: C += alpha * A * B, the simple reference.  A is M x K read
 * with strides (sam, sak), B is K x N with (sbk, sbn), C is M x N with row
 * stride scm.  Transposes are strides.  Four rows of C are updated together
 * and the inner loop is a contiguous axpy when sbn == 1.
 *
 * k_gemm_packed_f32 / k_gemm_block_f32: the fast path (Goto/BLIS style).
 *   C[M x N] = epilogue(A[M x K] * B[K x N])
 * A comes PACKED: panels of MRTC_MR rows, each stored k-major
 * (ap[panel][k][r], rows past M are zero), so a register-blocked
 * micro-kernel reads it with one pointer.  Weights are packed this way at
 * compile time (k_pack_a_f32 also runs at run time for activations).  B is
 * read in place with a row stride (a 1x1 convolution's input, a weight
 * matrix), or row k at b + koff[k] (an implicit convolution's taps, see
 * k_conv.h), so it needs no copy.  The micro-kernel keeps an
 * MR x NR tile of C in registers across a K block of MRTC_KC, loading one
 * row of B (NR floats) and broadcasting MR values of A per step; K blocks
 * accumulate into C, and the last one applies the fused epilogue while the
 * tile is still in registers:
 *   y = act(alpha * acc + bias_m[row] + bias_n[col] + res[row, col])
 * (conv bias, Gemm bias, residual Add, then Relu/Clip/LeakyRelu/
 * HardSigmoid/HardSwish in registers; Sigmoid/Tanh on the stored tile).
 *
 * Three builds of the micro-kernel, chosen by the C compiler's target
 * (mrtc --cpu): AVX-512 (8 x 32: 16 zmm accumulators), AVX2+FMA (8 x 8)
 * and portable C99 (8 x 8, what `-o model.c` compiled anywhere gets).  All
 * three read the same packed layout, so generated weights do not depend on
 * the target.  Partial tiles use masked loads and stores: B and C are never
 * touched past their last column.  The micro-kernels prefetch A 32 steps
 * and B 8 rows ahead (weights arrive cold from memory once per inference).
 *
 * Shapes the 8 x 32 tile serves badly get their own loops (AVX-512):
 * k_gemmT_f32 turns the tile around for N <= 64 (7x7 maps: 24 rows x 7
 * columns, no lanes lost to N % 32), k_gemv512 streams B once for M <= 4
 * (a classifier's Gemm).  Blocking: K in equal blocks of at most MRTC_KC,
 * N in blocks of MRTC_NC.
 */
#ifndef MRTC_K_GEMM_H
#define MRTC_K_GEMM_H
#include "k_common.h"
#include "k_unary.h"

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

/* ------------------------------------------------------------------ fast path */

#define MRTC_MR 8    /* rows per packed A panel: the compile-time weight layout */
#ifndef MRTC_KC
#define MRTC_KC 256 /* K block: an A micro-panel (MR x KC) stays in L1 */
#endif
#ifndef MRTC_NC
#define MRTC_NC 256 /* N block: a B block (KC x NC) stays in L2 */
#endif

/* fused activations (KEpi.act) */
enum {
  MRTC_ACT_NONE = 0,
  MRTC_ACT_RELU = 1,     /* max(x, 0) */
  MRTC_ACT_CLIP = 2,     /* min(max(x, p0), p1) */
  MRTC_ACT_LEAKY = 3,    /* x >= 0 ? x : p0 * x */
  MRTC_ACT_HSIGMOID = 4, /* clamp(p0 * x + p1, 0, 1) */
  MRTC_ACT_HSWISH = 5,   /* x * clamp(x / 6 + 1/2, 0, 1) */
  MRTC_ACT_SIGMOID = 6,
  MRTC_ACT_TANH = 7
};

/* the epilogue: y = act(alpha * acc + bias_m[i] + bias_n[j] + res[i * ldr + j]) */
typedef struct {
  const float *bias_m; /* per row, or 0 */
  const float *bias_n; /* per column, or 0 */
  const float *res;    /* M x N residual with row stride ldr, or 0 */
  int64_t ldr;
  float alpha;
  int act;
  float p0, p1;
} KEpi;

/* the epilogue's scalars copied out of KEpi: the compiler cannot keep
 * e->alpha in a register across stores to C (both are float), a local it can */
typedef struct {
  float alpha, p0, p1;
  int act, bias;
} KEpiV;

MRTC_FN KEpiV k_epiv(const KEpi *e) {
  KEpiV v;
  v.alpha = e->alpha;
  v.p0 = e->p0;
  v.p1 = e->p1;
  v.act = e->act;
  v.bias = e->bias_m != 0;
  return v;
}

MRTC_FN float k_act_f32(float x, int act, float p0, float p1) {
  switch (act) {
  case MRTC_ACT_RELU: return u_relu(x);
  case MRTC_ACT_CLIP: return u_clip(x, p0, p1);
  case MRTC_ACT_LEAKY: return u_leaky_relu(x, p0);
  case MRTC_ACT_HSIGMOID: return u_hard_sigmoid(x, p0, p1);
  case MRTC_ACT_HSWISH: return u_hard_swish(x);
  case MRTC_ACT_SIGMOID: return u_sigmoid(x);
  case MRTC_ACT_TANH: return u_tanh(x);
  default: return x;
  }
}

/* applies the epilogue to an M x N block of C that holds alpha-less sums */
MRTC_FN void k_epi_block_f32(int64_t M, int64_t N, float *c, int64_t ldc, const KEpi *e) {
  int64_t i, j;
  for (i = 0; i < M; i++)
    for (j = 0; j < N; j++) {
      float v = e->alpha * c[i * ldc + j];
      if (e->bias_m) v += e->bias_m[i];
      if (e->bias_n) v += e->bias_n[j];
      if (e->res) v += e->res[i * e->ldr + j];
      c[i * ldc + j] = k_act_f32(v, e->act, e->p0, e->p1);
    }
}

/* Packs A (M x K, strides sam, sak) into panels of MRTC_MR rows, k-major,
 * zero rows past M: ap needs ceil(M / MR) * MR * K floats. */
MRTC_FN void k_pack_a_f32(int64_t M, int64_t K, const float *a, int64_t sam, int64_t sak, float *ap) {
  int64_t i0, k, r;
  for (i0 = 0; i0 < M; i0 += MRTC_MR) {
    for (k = 0; k < K; k++)
      for (r = 0; r < MRTC_MR; r++) ap[k * MRTC_MR + r] = i0 + r < M ? a[(i0 + r) * sam + k * sak] : 0.0f;
    ap += MRTC_MR * K;
  }
}

/* the micro-kernels stay functions of their own: inlined into a driver they
 * compete with it for registers */
#if defined(__GNUC__)
#define MRTC_NOINLINE static __attribute__((noinline))
#else
#define MRTC_NOINLINE static
#endif

#define MRTC_GEMM_FIRST 1 /* first K block: start from zero, not from C */
#define MRTC_GEMM_LAST 2  /* last K block: apply the epilogue */

#define K_R8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define K_R4(X) X(0) X(1) X(2) X(3)
#define K_R1(X) X(0)

#if defined(__AVX512F__)
#include <immintrin.h>
#define MRTC_NR 32
#define MRTC_GEMM_ISA "avx512"

MRTC_FN __m512 k_act512(__m512 v, int act, float p0, float p1) {
  __m512 z = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  switch (act) {
  case MRTC_ACT_RELU: return _mm512_max_ps(v, z);
  case MRTC_ACT_CLIP: return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(p0)), _mm512_set1_ps(p1));
  case MRTC_ACT_LEAKY:
    return _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, z, _CMP_LT_OQ), v, _mm512_set1_ps(p0));
  case MRTC_ACT_HSIGMOID:
    return _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(p0)), _mm512_set1_ps(p1)), z), one);
  case MRTC_ACT_HSWISH: {
    __m512 h = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.0f / 6.0f)), _mm512_set1_ps(0.5f));
    return _mm512_mul_ps(v, _mm512_min_ps(_mm512_max_ps(h, z), one));
  }
  default: return v;
  }
}

/* one vector of a C tile: accumulate onto C unless FIRST, epilogue if LAST, store */
MRTC_FN void k_epi512(__m512 v, float *c, __mmask16 m, int flags, float bm, const float *bn, const float *r, KEpiV e) {
  if (!(flags & MRTC_GEMM_FIRST)) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c));
  if (flags & MRTC_GEMM_LAST) {
    if (e.alpha != 1.0f) v = _mm512_mul_ps(v, _mm512_set1_ps(e.alpha));
    if (e.bias) v = _mm512_add_ps(v, _mm512_set1_ps(bm));
    if (bn) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bn));
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r));
    v = k_act512(v, e.act, e.p0, e.p1);
  }
  _mm512_mask_storeu_ps(c, m, v);
}

MRTC_FN __mmask16 k_mask16(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u); }

/* micro-kernels: ROWS rows (of an MR-row panel) x 2 or 1 vectors of 16 */
#define K5_D2(i) __m512 c##i##0 = z, c##i##1 = z;
#define K5_F2(i)                                                      \
  {                                                                   \
    __m512 t_ = _mm512_set1_ps(a[i]);                                 \
    c##i##0 = _mm512_fmadd_ps(t_, b0, c##i##0);                       \
    c##i##1 = _mm512_fmadd_ps(t_, b1, c##i##1);                       \
  }
#define K5_S2(i)                                                                                        \
  if (i < mr) {                                                                                         \
    float bm_ = e->bias_m ? e->bias_m[i] : 0.0f;                                                        \
    k_epi512(c##i##0, c + i * ldc, m0, flags, bm_, bn, r ? r + i * e->ldr : 0, ev);                     \
    k_epi512(c##i##1, c + i * ldc + 16, m1, flags, bm_, bn ? bn + 16 : 0, r ? r + i * e->ldr + 16 : 0, ev); \
  }
#define K5_P2(i)                                                                         \
  if (i < mr) {                                                                          \
    __builtin_prefetch(c + i * ldc, 1, 3);                                               \
    __builtin_prefetch(c + i * ldc + 16, 1, 3);                                          \
    if (r && (flags & MRTC_GEMM_LAST)) {                                                 \
      _mm_prefetch((const char *)(r + i * e->ldr), _MM_HINT_T0);                         \
      _mm_prefetch((const char *)(r + i * e->ldr + 16), _MM_HINT_T0);                    \
    }                                                                                    \
  }
#define K5_PN(i)                                                                         \
  if (i < mr) {                                                                          \
    __builtin_prefetch(c + i * ldc + 32, 1, 3);                                          \
    __builtin_prefetch(c + i * ldc + 48, 1, 3);                                          \
  }
#define K5_D1(i) __m512 c##i##0 = z;
#define K5_F1(i) c##i##0 = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, c##i##0);
#define K5_S1(i) \
  if (i < mr) k_epi512(c##i##0, c + i * ldc, m0, flags, e->bias_m ? e->bias_m[i] : 0.0f, bn, r ? r + i * e->ldr : 0, ev);

#define K5_UKR2(NAME, ROWS)                                                                                           \
  MRTC_FN void NAME(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,    \
                    int flags, const KEpi *e, const float *bn, const float *r, const int64_t *koff) {                  \
    __m512 z = _mm512_setzero_ps(), b0, b1;                                                                          \
    const KEpiV ev = k_epiv(e);                                                                                       \
    __mmask16 m0 = k_mask16(nr), m1 = k_mask16(nr - 16);                                                              \
    int64_t k;                                                                                                        \
    ROWS(K5_D2)                                                                                                       \
    if (kc >= 64) { /* the tile's rows of C (written) and residual: in cache by the epilogue */                      \
      ROWS(K5_P2)                                                                                                     \
    } else { /* short K: the loop is too short to hide them; the next tile's rows of C instead */                    \
      ROWS(K5_PN)                                                                                                     \
    }                                                                                                                 \
    if (nr == 32)                                                                                                     \
      for (k = 0; k < kc; k++, a += MRTC_MR) {                                                                        \
        const float *bk = koff ? b + koff[k] : b + k * ldb;                                                           \
        /* A 32 steps ahead; B: this row of the next tile into L2 (a whole tile ahead: B streams from L3 \
         * on the first panel, its rows too far apart for the hardware prefetcher) */                         \
        _mm_prefetch((const char *)(a + 8 * 32), _MM_HINT_T0);                                                        \
        _mm_prefetch((const char *)(bk + 32), _MM_HINT_T1);                                                           \
        _mm_prefetch((const char *)(bk + 48), _MM_HINT_T1);                                                           \
        b0 = _mm512_loadu_ps(bk);                                                                                     \
        b1 = _mm512_loadu_ps(bk + 16);                                                                                \
        ROWS(K5_F2)                                                                                                   \
      }                                                                                                               \
    else                                                                                                              \
      for (k = 0; k < kc; k++, a += MRTC_MR) {                                                                        \
        const float *bk = koff ? b + koff[k] : b + k * ldb;                                                           \
        b0 = _mm512_maskz_loadu_ps(m0, bk);                                                                           \
        b1 = _mm512_maskz_loadu_ps(m1, bk + 16);                                                                      \
        ROWS(K5_F2)                                                                                                   \
      }                                                                                                               \
    ROWS(K5_S2)                                                                                                       \
  }
#define K5_UKR1(NAME, ROWS)                                                                                           \
  MRTC_FN void NAME(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,    \
                    int flags, const KEpi *e, const float *bn, const float *r, const int64_t *koff) {                  \
    __m512 z = _mm512_setzero_ps(), b0;                                                                              \
    const KEpiV ev = k_epiv(e);                                                                                       \
    __mmask16 m0 = k_mask16(nr);                                                                                      \
    int64_t k;                                                                                                        \
    ROWS(K5_D1)                                                                                                       \
    for (k = 0; k < kc; k++, a += MRTC_MR) {                                                                          \
      b0 = _mm512_maskz_loadu_ps(m0, koff ? b + koff[k] : b + k * ldb);                                               \
      ROWS(K5_F1)                                                                                                     \
    }                                                                                                                 \
    ROWS(K5_S1)                                                                                                       \
  }
K5_UKR2(k_ukr512_8x32, K_R8)
K5_UKR2(k_ukr512_4x32, K_R4)
K5_UKR2(k_ukr512_1x32, K_R1)
K5_UKR1(k_ukr512_8x16, K_R8)
K5_UKR1(k_ukr512_4x16, K_R4)
K5_UKR1(k_ukr512_1x16, K_R1)

MRTC_FN void k_ukr_f32(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,
                       int flags, const KEpi *e, const float *bn, const float *r, const int64_t *koff) {
  if (nr > 16) {
    if (mr > 4) k_ukr512_8x32(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
    else if (mr > 1) k_ukr512_4x32(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
    else k_ukr512_1x32(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
  } else {
    if (mr > 4) k_ukr512_8x16(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
    else if (mr > 1) k_ukr512_4x16(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
    else k_ukr512_1x16(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
  }
}

#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MRTC_NR 8
#define MRTC_GEMM_ISA "avx2"

MRTC_FN __m256 k_act256(__m256 v, int act, float p0, float p1) {
  __m256 z = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  switch (act) {
  case MRTC_ACT_RELU: return _mm256_max_ps(v, z);
  case MRTC_ACT_CLIP: return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(p0)), _mm256_set1_ps(p1));
  case MRTC_ACT_LEAKY:
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(p0)), _mm256_cmp_ps(v, z, _CMP_LT_OQ));
  case MRTC_ACT_HSIGMOID:
    return _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(p0)), _mm256_set1_ps(p1)), z), one);
  case MRTC_ACT_HSWISH: {
    __m256 h = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.0f / 6.0f)), _mm256_set1_ps(0.5f));
    return _mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(h, z), one));
  }
  default: return v;
  }
}

MRTC_FN __m256i k_mask8(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n < 0 ? 0 : n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

MRTC_FN void k_epi256(__m256 v, float *c, __m256i m, int full, int flags, float bm, const float *bn, const float *r,
                      KEpiV e) {
  if (!(flags & MRTC_GEMM_FIRST)) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m));
  if (flags & MRTC_GEMM_LAST) {
    if (e.alpha != 1.0f) v = _mm256_mul_ps(v, _mm256_set1_ps(e.alpha));
    if (e.bias) v = _mm256_add_ps(v, _mm256_set1_ps(bm));
    if (bn) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(bn) : _mm256_maskload_ps(bn, m));
    if (r) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
    v = k_act256(v, e.act, e.p0, e.p1);
  }
  if (full) _mm256_storeu_ps(c, v);
  else _mm256_maskstore_ps(c, m, v);
}

#define K2_D(i) __m256 c##i = z;
#define K2_F(i) c##i = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i), b0, c##i);
#define K2_S(i) \
  if (i < mr) k_epi256(c##i, c + i * ldc, m, full, flags, e->bias_m ? e->bias_m[i] : 0.0f, bn, r ? r + i * e->ldr : 0, ev);
#define K2_UKR(NAME, ROWS)                                                                                            \
  MRTC_FN void NAME(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,    \
                    int flags, const KEpi *e, const float *bn, const float *r, const int64_t *koff) {                  \
    __m256 z = _mm256_setzero_ps(), b0;                                                                              \
    const KEpiV ev = k_epiv(e);                                                                                       \
    __m256i m = k_mask8(nr);                                                                                          \
    int full = nr == 8;                                                                                               \
    int64_t k;                                                                                                        \
    ROWS(K2_D)                                                                                                        \
    if (full)                                                                                                         \
      for (k = 0; k < kc; k++, a += MRTC_MR) {                                                                        \
        b0 = _mm256_loadu_ps(koff ? b + koff[k] : b + k * ldb);                                                       \
        ROWS(K2_F)                                                                                                    \
      }                                                                                                               \
    else                                                                                                              \
      for (k = 0; k < kc; k++, a += MRTC_MR) {                                                                        \
        b0 = _mm256_maskload_ps(koff ? b + koff[k] : b + k * ldb, m);                                                 \
        ROWS(K2_F)                                                                                                    \
      }                                                                                                               \
    ROWS(K2_S)                                                                                                        \
  }
K2_UKR(k_ukr256_8x8, K_R8)
K2_UKR(k_ukr256_4x8, K_R4)
K2_UKR(k_ukr256_1x8, K_R1)

MRTC_FN void k_ukr_f32(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,
                       int flags, const KEpi *e, const float *bn, const float *r, const int64_t *koff) {
  if (mr > 4) k_ukr256_8x8(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
  else if (mr > 1) k_ukr256_4x8(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
  else k_ukr256_1x8(kc, a, b, ldb, c, ldc, mr, nr, flags, e, bn, r, koff);
}

#else
#define MRTC_NR 8
#define MRTC_GEMM_ISA "c99"

/* portable: an MR x 8 tile in a local array (compilers vectorize the j loops) */
MRTC_FN void k_ukr_f32(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc, int mr, int nr,
                       int flags, const KEpi *e, const float *bn, const float *r, const int64_t *koff) {
  float acc[MRTC_MR][MRTC_NR];
  int64_t k;
  int i, j;
  for (i = 0; i < MRTC_MR; i++)
    for (j = 0; j < MRTC_NR; j++) acc[i][j] = 0.0f;
  for (k = 0; k < kc; k++, a += MRTC_MR) {
    const float *bk = koff ? b + koff[k] : b + k * ldb;
    if (nr == MRTC_NR)
      for (i = 0; i < MRTC_MR; i++)
        for (j = 0; j < MRTC_NR; j++) acc[i][j] += a[i] * bk[j];
    else
      for (i = 0; i < MRTC_MR; i++)
        for (j = 0; j < nr; j++) acc[i][j] += a[i] * bk[j];
  }
  for (i = 0; i < mr; i++)
    for (j = 0; j < nr; j++) {
      float v = acc[i][j];
      if (!(flags & MRTC_GEMM_FIRST)) v += c[i * ldc + j];
      if (flags & MRTC_GEMM_LAST) {
        v *= e->alpha;
        if (e->bias_m) v += e->bias_m[i];
        if (bn) v += bn[j];
        if (r) v += r[i * e->ldr + j];
        if (e->act < MRTC_ACT_SIGMOID) v = k_act_f32(v, e->act, e->p0, e->p1);
      }
      c[i * ldc + j] = v;
    }
}
#endif

/* One K block of the product: rows [0, M) of packed A (panel stride aps,
 * already offset to this K block), columns [0, nc) of B into C (row stride
 * ldc).  Row k of B starts at b + k * ldb, or at b + koff[k] when koff is
 * given (implicit convolution).  E's pointers are relative to C's origin. */
#if defined(__AVX512F__) && defined(__AVX512VL__)
MRTC_NOINLINE void k_ukrT_f32(int64_t kc, const float *a0, const float *a1, const float *a2, const float *an, int64_t aps,
                               const float *b, int64_t ldb, const int64_t *koff, float *c, int64_t ldc, __mmask16 mk, int mr,
                               int flags, const KEpi *e, const float *bm, const float *bn, const float *r);

/* One turned-around tile: rows [m0, m0 + 24) of packed A (clipped to M; panel stride APS, AP already at the
 * K block) times 7 columns of B at B, lanes MK of the 24 x 7 result into C's rows (C, R and BN point at the
 * tile's first column, row 0) through the epilogue.  PF: prefetch the next 24 rows' panels into L2. */
MRTC_FN void k_tileT_f32(int64_t M, int64_t m0, int64_t kc, const float *ap, int64_t aps, int pf, const float *b, int64_t ldb,
                         const int64_t *koff, float *c, int64_t ldc, __mmask16 mk, int flags, const KEpi *e, const float *bn,
                         const float *r) {
  const int64_t np = (M + MRTC_MR - 1) / MRTC_MR, p0 = m0 / MRTC_MR;
  const float *a0 = ap + p0 * aps, *a1 = p0 + 1 < np ? a0 + aps : a0, *a2 = p0 + 2 < np ? a0 + 2 * aps : a0;
  const int mr = (int)(M - m0 < 24 ? M - m0 : 24);
  int i, l;
  k_ukrT_f32(kc, a0, a1, a2, pf && p0 + 3 < np ? a0 + 3 * aps : 0, aps, b, ldb, koff, c + m0 * ldc, ldc, mk, mr, flags, e,
             e->bias_m ? e->bias_m + m0 : 0, bn, r ? r + m0 * e->ldr : 0);
  if ((flags & MRTC_GEMM_LAST) && e->act >= MRTC_ACT_SIGMOID) /* k_epi512 leaves these to us */
    for (i = 0; i < mr; i++)
      for (l = 0; l < 7; l++)
        if (mk >> l & 1) c[(m0 + i) * ldc + l] = k_act_f32(c[(m0 + i) * ldc + l], e->act, e->p0, e->p1);
}
#endif

MRTC_FN void k_gemm_block_f32(int64_t M, int64_t nc, int64_t kc, const float *ap, int64_t aps, const float *b,
                              int64_t ldb, const int64_t *koff, float *c, int64_t ldc, int flags, const KEpi *e) {
  int64_t i, j, ncv = nc;
#if defined(__AVX512F__) && defined(__AVX512VL__)
  /* the last 1 to 7 columns past a multiple of 16 (14x14 maps: 196 = 6 x 32 + 4; Winograd blocks of 17
   * tiles) would cost a 16-lane vector per row in the tiles below; the turned-around 24 x 7 tile
   * (k_ukrT_f32) takes them instead, its 7 columns moved back to end at NC (the columns before them are
   * read, not stored) */
  const int64_t t32 = nc % MRTC_NR, tail = t32 <= 7 ? t32 : t32 > 16 && t32 <= 23 ? t32 - 16 : 0;
  if (tail && nc >= 7) {
    const int64_t j0 = nc - 7;
    ncv = nc - tail;
    for (i = 0; i < M; i += 24)
      k_tileT_f32(M, i, kc, ap, aps, 0, b + j0, ldb, koff, c + j0, ldc, (__mmask16)(0x7Fu & ~((1u << (7 - tail)) - 1u)), flags, e,
                  e->bias_n ? e->bias_n + j0 : 0, e->res ? e->res + j0 : 0);
  }
#endif
  for (i = 0; i < M; i += MRTC_MR) {
    int mr = (int)(M - i < MRTC_MR ? M - i : MRTC_MR);
    KEpi er = *e;
    if (er.bias_m) er.bias_m += i;
    for (j = 0; j < ncv; j += MRTC_NR) {
      int nr = (int)(ncv - j < MRTC_NR ? ncv - j : MRTC_NR);
      float *ct = c + i * ldc + j;
      k_ukr_f32(kc, ap + (i / MRTC_MR) * aps, b + j, ldb, ct, ldc, mr, nr, flags, &er, e->bias_n ? e->bias_n + j : 0,
                e->res ? e->res + i * e->ldr + j : 0, koff);
      if ((flags & MRTC_GEMM_LAST) && e->act >= MRTC_ACT_SIGMOID) { /* the micro-kernels leave these to us */
        int ii, jj;
        for (ii = 0; ii < mr; ii++)
          for (jj = 0; jj < nr; jj++) ct[ii * ldc + jj] = k_act_f32(ct[ii * ldc + jj], e->act, e->p0, e->p1);
      }
    }
  }
}

/* the K block size: K split into equal blocks of at most MRTC_KC */
MRTC_FN int64_t k_kc(int64_t K) {
  int64_t nb = (K + MRTC_KC - 1) / MRTC_KC;
  return nb > 1 ? (K + nb - 1) / nb : K;
}

#if defined(__AVX512F__) && defined(__AVX512VL__)
/* For few columns (N <= MRTC_T_MAXN: 7x7 maps) the tile turns around: 24
 * rows (three packed panels, one ymm each) x 7 consecutive columns
 * broadcast from B, so no lanes are wasted on N % 32.  Row k of the tile's
 * B starts at b + koff[k] (or b + k * ldb); the 24 x 7 result is transposed
 * in registers and goes through the epilogue straight into C. */
#define MRTC_HAVE_UKRT 1
#ifndef MRTC_T_MAXN
#define MRTC_T_MAXN 64 /* the turned-around tile is used up to this many output pixels */
#endif
#define K7(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6)
MRTC_NOINLINE void k_ukrT_f32(int64_t kc, const float *a0, const float *a1, const float *a2, const float *an, int64_t aps,
                               const float *b, int64_t ldb, const int64_t *koff, float *c, int64_t ldc, __mmask16 mk, int mr,
                               int flags, const KEpi *e, const float *bm, const float *bn, const float *r) {
  __m256 z = _mm256_setzero_ps();
  const KEpiV ev = k_epiv(e);
  int64_t k;
#define KT_D(j) __m256 c0##j = z, c1##j = z, c2##j = z;
#define KT_F(j)                                  \
  {                                              \
    __m256 t_ = _mm256_broadcast_ss(bk + j);     \
    c0##j = _mm256_fmadd_ps(A0, t_, c0##j);      \
    c1##j = _mm256_fmadd_ps(A1, t_, c1##j);      \
    c2##j = _mm256_fmadd_ps(A2, t_, c2##j);      \
  }
/* 8 rows x 7 columns (one register per column) -> rows (8x8 transpose in registers, lane 7 junk), each
 * through the epilogue straight into C: lanes MK of row i go to c + i * ldc */
#define KT_S(g)                                                                                                   \
  {                                                                                                               \
    __m256 t0 = _mm256_unpacklo_ps(c##g##0, c##g##1), t1 = _mm256_unpackhi_ps(c##g##0, c##g##1);                  \
    __m256 t2 = _mm256_unpacklo_ps(c##g##2, c##g##3), t3 = _mm256_unpackhi_ps(c##g##2, c##g##3);                  \
    __m256 t4 = _mm256_unpacklo_ps(c##g##4, c##g##5), t5 = _mm256_unpackhi_ps(c##g##4, c##g##5);                  \
    __m256 t6 = _mm256_unpacklo_ps(c##g##6, z), t7 = _mm256_unpackhi_ps(c##g##6, z);                              \
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);                            \
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);                            \
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);                            \
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);                            \
    KT_E(g, 0, _mm256_permute2f128_ps(s0, s4, 0x20))                                                              \
    KT_E(g, 1, _mm256_permute2f128_ps(s1, s5, 0x20))                                                              \
    KT_E(g, 2, _mm256_permute2f128_ps(s2, s6, 0x20))                                                              \
    KT_E(g, 3, _mm256_permute2f128_ps(s3, s7, 0x20))                                                              \
    KT_E(g, 4, _mm256_permute2f128_ps(s0, s4, 0x31))                                                              \
    KT_E(g, 5, _mm256_permute2f128_ps(s1, s5, 0x31))                                                              \
    KT_E(g, 6, _mm256_permute2f128_ps(s2, s6, 0x31))                                                              \
    KT_E(g, 7, _mm256_permute2f128_ps(s3, s7, 0x31))                                                              \
  }
#define KT_E(g, i, ROW)                                                                                           \
  if (8 * g + i < mr)                                                                                             \
    k_epi512(_mm512_zextps256_ps512(ROW), c + (8 * g + i) * ldc, mk, flags, bm ? bm[8 * g + i] : 0.0f, bn,          \
             r ? r + (8 * g + i) * e->ldr : 0, ev);
  K7(KT_D)
  for (k = 0; kc >= 64 && k < mr; k++) { /* the tile's rows of C (written) and residual: in cache by the epilogue */
    __builtin_prefetch(c + k * ldc, 1, 3);
    __builtin_prefetch(c + k * ldc + 6, 1, 3);
    if (r && (flags & MRTC_GEMM_LAST)) _mm_prefetch((const char *)(r + k * e->ldr + 6), _MM_HINT_T0);
  }
  for (k = 0; k < kc; k++) {
    const float *bk = b + (koff ? koff[k] : k * ldb);
    __m256 A0 = _mm256_loadu_ps(a0 + 8 * k), A1 = _mm256_loadu_ps(a1 + 8 * k), A2 = _mm256_loadu_ps(a2 + 8 * k);
    if ((k & 1) == 0) { /* each panel advances a line every two steps: fetch them 32 steps ahead */
      _mm_prefetch((const char *)(a0 + 8 * k + 256), _MM_HINT_T0);
      _mm_prefetch((const char *)(a1 + 8 * k + 256), _MM_HINT_T0);
      _mm_prefetch((const char *)(a2 + 8 * k + 256), _MM_HINT_T0);
    } else if (an) { /* and the next 24 rows' panels into L2: weights come from memory once per panel */
      _mm_prefetch((const char *)(an + 8 * k), _MM_HINT_T1);
      _mm_prefetch((const char *)(an + aps + 8 * k), _MM_HINT_T1);
      _mm_prefetch((const char *)(an + 2 * aps + 8 * k), _MM_HINT_T1);
    }
    K7(KT_F)
  }
  KT_S(0)
  KT_S(1)
  KT_S(2)
#undef KT_D
#undef KT_F
#undef KT_S
#undef KT_E
}

/* C[M x N] = epilogue(A * B), packed A, for N <= MRTC_T_MAXN.  Columns come
 * in runs (an implicit convolution's output rows): column j of C is column
 * q(j) = j / run * rstride + j % run of B, whose row k starts at
 * b + koff[k] (or b + k * ldb).  Every 7-column tile reads 7 consecutive
 * columns of B: with koff (phase planes) past a run's end it reads junk
 * columns or the planes' slack; without, B is read in place (one run of
 * N >= 7 columns) and the last tile is moved back to end at N. */
MRTC_FN void k_gemmT_f32(int64_t M, int64_t N, int64_t K, const float *ap, const float *b, int64_t ldb, const int64_t *koff,
                         int64_t run, int64_t rstride, float *c, int64_t ldc, const KEpi *e) {
  /* K blocks only past 8192: the 24-row A panel streams from L2, and each block costs a scalar pass over the tile */
  int64_t m0, j0, pc, kb = K <= 8192 ? K : k_kc(K);
  for (m0 = 0; m0 < M; m0 += 24) {
    for (pc = 0; pc < K; pc += kb) {
      int64_t kc = K - pc < kb ? K - pc : kb;
      int first = pc == 0, last = pc + kc >= K;
      for (j0 = 0; j0 < N;) {
        int64_t r = j0 % run, nn = run - r < 7 ? run - r : 7, js = 0, q = j0 / run * rstride + r;
        if (!koff && q + 7 > N) js = q + 7 - N; /* B read in place: move the tile back, store its new columns */
        /* the tile's lanes js .. js + nn are C's columns j0 .. j0 + nn (js > 0 only near the row's end, so j0 >= js) */
        k_tileT_f32(M, m0, kc, ap + pc * MRTC_MR, MRTC_MR * K, 1, b + q - js + (koff ? 0 : pc * ldb), ldb, koff ? koff + pc : 0,
                    c + j0 - js, ldc, (__mmask16)(k_mask16(js + nn) & ~k_mask16(js)),
                    (first ? MRTC_GEMM_FIRST : 0) | (last ? MRTC_GEMM_LAST : 0), e, e->bias_n ? e->bias_n + j0 - js : 0,
                    e->res ? e->res + j0 - js : 0);
        j0 += nn;
      }
    }
  }
}
#endif

/* the N block size: N split into blocks of at most MRTC_NC, equal up to a
 * multiple of 32 (no thin last block that re-reads all of A for a few columns) */
MRTC_FN int64_t k_nc(int64_t N) {
  int64_t nb = (N + MRTC_NC - 1) / MRTC_NC, nc = nb > 1 ? ((N + nb - 1) / nb + 31) / 32 * 32 : N;
  return nc < MRTC_NC ? nc : MRTC_NC;
}

/* y[0, n) = epilogue(src[0, n)) for one row segment: bias bm, residual r (or 0) */
MRTC_FN void k_epi_seg_f32(int64_t n, const float *src, float *y, float bm, const float *r, const KEpi *e) {
  int64_t i = 0;
  const KEpiV ev = k_epiv(e);
  (void)ev;
#if defined(__AVX512F__)
  for (; i < n; i += 16) {
    __mmask16 m = k_mask16(n - i);
    k_epi512(_mm512_maskz_loadu_ps(m, src + i), y + i, m, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, r ? r + i : 0, ev);
  }
  i = 0;
#elif defined(__AVX2__) && defined(__FMA__)
  for (; i + 8 <= n; i += 8)
    k_epi256(_mm256_loadu_ps(src + i), y + i, k_mask8(8), 1, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, r ? r + i : 0, ev);
  if (i < n) {
    __m256i m = k_mask8(n - i);
    k_epi256(_mm256_maskload_ps(src + i, m), y + i, m, 0, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, r ? r + i : 0, ev);
  }
  i = 0;
#else
  for (; i < n; i++) {
    float v = e->alpha * src[i];
    if (e->bias_m) v += bm;
    if (r) v += r[i];
    y[i] = k_act_f32(v, e->act, e->p0, e->p1);
  }
  return;
#endif
  if (e->act >= MRTC_ACT_SIGMOID) /* the vector epilogues leave these to us */
    for (i = 0; i < n; i++) y[i] = k_act_f32(y[i], e->act, e->p0, e->p1);
}

/* C[M x N] = epilogue(A * B) with A packed (k_pack_a_f32 layout, K deep)
 * and B read in place (row stride ldb). */
#if defined(__AVX512F__)
/* M <= 4 rows (a classifier's Gemm): B streams once, row after row, four
 * rows of B per pass over the C rows (which stay in L1); A is read from its
 * packed panel (row i of step k at ap[k * MR + i]). */
MRTC_FN void k_gemv512(int64_t M, int64_t N, int64_t K, const float *ap, const float *b, int64_t ldb, float *c, int64_t ldc,
                       const KEpi *e) {
  int64_t i, j, k;
  for (i = 0; i < M; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)N);
  for (k = 0; k < K; k += 4) {
    int64_t kk = K - k < 4 ? K - k : 4;
    const float *b0 = b + k * ldb, *b1 = kk > 1 ? b0 + ldb : b0, *b2 = kk > 2 ? b0 + 2 * ldb : b0, *b3 = kk > 3 ? b0 + 3 * ldb : b0;
    for (i = 0; i < M; i++) {
      const float *a = ap + k * MRTC_MR + i;
      __m512 a0 = _mm512_set1_ps(a[0]), a1 = _mm512_set1_ps(kk > 1 ? a[MRTC_MR] : 0.0f);
      __m512 a2 = _mm512_set1_ps(kk > 2 ? a[2 * MRTC_MR] : 0.0f), a3 = _mm512_set1_ps(kk > 3 ? a[3 * MRTC_MR] : 0.0f);
      float *ci = c + i * ldc;
      for (j = 0; j < N; j += 16) {
        __mmask16 m = k_mask16(N - j);
        __m512 y = _mm512_maskz_loadu_ps(m, ci + j);
        y = _mm512_fmadd_ps(a0, _mm512_maskz_loadu_ps(m, b0 + j), y);
        y = _mm512_fmadd_ps(a1, _mm512_maskz_loadu_ps(m, b1 + j), y);
        y = _mm512_fmadd_ps(a2, _mm512_maskz_loadu_ps(m, b2 + j), y);
        y = _mm512_fmadd_ps(a3, _mm512_maskz_loadu_ps(m, b3 + j), y);
        _mm512_mask_storeu_ps(ci + j, m, y);
      }
    }
  }
  for (i = 0; i < M; i++)
    for (j = 0; j < N; j += 16) {
      __mmask16 m = k_mask16(N - j);
      k_epi512(_mm512_maskz_loadu_ps(m, c + i * ldc + j), c + i * ldc + j, m, MRTC_GEMM_FIRST | MRTC_GEMM_LAST,
               e->bias_m ? e->bias_m[i] : 0.0f, e->bias_n ? e->bias_n + j : 0, e->res ? e->res + i * e->ldr + j : 0, k_epiv(e));
    }
  if (e->act >= MRTC_ACT_SIGMOID)
    for (i = 0; i < M; i++)
      for (j = 0; j < N; j++) c[i * ldc + j] = k_act_f32(c[i * ldc + j], e->act, e->p0, e->p1);
}
#endif

MRTC_FN void k_gemm_packed_f32(int64_t M, int64_t N, int64_t K, const float *ap, const float *b, int64_t ldb, float *c,
                               int64_t ldc, const KEpi *e) {
  int64_t jc, pc, kb = k_kc(K);
#if defined(__AVX512F__)
  if (M <= 4 && K > 0) {
    k_gemv512(M, N, K, ap, b, ldb, c, ldc, e);
    return;
  }
#endif
  int64_t nb = k_nc(N);
  for (jc = 0; jc < N; jc += nb) {
    int64_t nc = N - jc < nb ? N - jc : nb;
    KEpi ej = *e;
    if (ej.bias_n) ej.bias_n += jc;
    if (ej.res) ej.res += jc;
    pc = 0;
    do {
      int64_t kc = K - pc < kb ? K - pc : kb;
      int flags = (pc == 0 ? MRTC_GEMM_FIRST : 0) | (pc + kc >= K ? MRTC_GEMM_LAST : 0);
      k_gemm_block_f32(M, nc, kc, ap + pc * MRTC_MR, MRTC_MR * K, b + pc * ldb + jc, ldb, 0, c + jc, ldc, flags, &ej);
      pc += kc;
    } while (pc < K);
  }
}

#endif
