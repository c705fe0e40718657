/*
 * k_wino4.h: 3x3, stride-1, undilated, ungrouped convolution by Winograd
 * F(4x4, 3x3): 36 multiplications per 4x4 output tile and input channel
 * instead of 144, 4 times fewer multiply-adds than direct convolution
 * (F(2x2, 3x3) of k_wino.h: 2.25 times).  The same steps as k_wino.h:
 *
 *   U = G g G^T        per (output, input) channel, at compile time (in
 *                      double): 36 matrices U[k] (M x C), packed
 *   V = B^T d B        per input channel and tile (d: the 6x6 input patch
 *                      of the tile's 4x4 outputs; padding reads zero)
 *   Mk = U[k] V[k]     36 GEMMs (M x C times C x tiles)
 *   Y = A^T m A        per output channel and tile, then the epilogue
 *
 * with the points 0, 1, -1, 2, -2 (Lavin and Gray):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * G's 1/6 and 1/24 are not exact in binary and the transforms reach 8x, so
 * results differ from direct convolution by more float rounding than
 * F(2x2)'s (relative errors about 1e-6 on typical layers).
 *
 * Tiles go in blocks of TB (k_wino4_tb: V and the GEMM results of a block
 * stay within MRTC_WINO4_L2 bytes); within a block the transforms work on
 * runs of 16 tiles of one tile row: on AVX-512 the six patch columns are
 * de-interleaved (stride 4) out of zero-padded copies of the six input
 * rows, and the 4 output columns interleaved back.  The compiler takes
 * this kernel where 4x4 tiles waste little of the map and TB >= 16
 * (op_conv.c), k_wino.h elsewhere.
 */
#ifndef MRTC_K_WINO4_H
#define MRTC_K_WINO4_H
#include "k_gemm.h"
#include "k_conv.h"
#include "k_wino.h"

#ifndef MRTC_WINO4_L2
#define MRTC_WINO4_L2 786432 /* bytes of V and GEMM results per block of tiles */
#endif

/* tiles per block: a multiple of 16 up to 64 that keeps V and the GEMM results within MRTC_WINO4_L2; 16 while
 * they fit in 1.6 times that (256 channels in and out: 1.2 MB, measured faster than F(2x2) all the same); 0: none */
MRTC_FN int64_t k_wino4_tb(const KConvShape *s) {
  int64_t t = ((s->OH + 3) / 4) * ((s->OW + 3) / 4), tb = MRTC_WINO4_L2 / (36 * 4 * (s->C + s->M)) / 16 * 16;
  if (tb > 64) tb = 64;
  if (tb == 0 && 16 * 36 * 4 * (s->C + s->M) <= MRTC_WINO4_L2 / 5 * 8) tb = 16;
  return t < tb ? t : tb;
}

/* floats of packed U: 36 packed M x C matrices */
MRTC_FN int64_t k_wino4_packed_size(const KConvShape *s) { return 36 * ((s->M + MRTC_MR - 1) / MRTC_MR) * MRTC_MR * s->C; }

/* padded input row length: 4 per tile, the patch's 2 more, the last run's vector loads */
MRTC_FN int64_t k_wino4_lp(const KConvShape *s) { return 4 * ((s->OW + 3) / 4) + 2 + 80; }

/* floats of scratch: V (36 x C x TB), GEMM results (36 x M x TB), 6 padded input rows */
MRTC_FN int64_t k_wino4_scratch(const KConvShape *s) {
  int64_t tb = k_wino4_tb(s);
  return 36 * (s->C * tb + 16) + 36 * (s->M * tb + 16) + 16 + 6 * k_wino4_lp(s) + 16;
}

/* U[k] = (G g G^T)[k] for every (m, c), in double, packed: UP needs k_wino4_packed_size floats, TMP M * C */
MRTC_FN void k_wino4_pack_weights_f32(const KConvShape *s, const float *w, float *up, float *tmp) {
  static const double G[6][3] = {{0.25, 0, 0},
                                 {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                 {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                 {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                 {0, 0, 1}};
  int64_t M = s->M, C = s->C, m, c, k, ps = (M + MRTC_MR - 1) / MRTC_MR * MRTC_MR * C;
  for (k = 0; k < 36; k++) {
    int i = (int)k / 6, j = (int)k % 6, a, b;
    for (m = 0; m < M; m++)
      for (c = 0; c < C; c++) {
        const float *g = w + (m * C + c) * 9;
        double u = 0;
        for (a = 0; a < 3; a++)
          for (b = 0; b < 3; b++) u += G[i][a] * (double)g[a * 3 + b] * G[j][b];
        tmp[m * C + c] = (float)u;
      }
    k_pack_a_f32(M, C, tmp, C, 1, up + k * ps);
  }
}

/* B^T applied to six values (one column or row of a patch), in place of the names r0..r5 */
#define K4_BT(T, d0, d1, d2, d3, d4, d5, ADD, SUB, MUL, r0, r1, r2, r3, r4, r5) \
  {                                                                         \
    const T a_ = SUB(d4, d2), b_ = SUB(d3, d1), c_ = ADD(d3, d4), e_ = ADD(d1, d2);              \
    const T f_ = SUB(d4, d3), h_ = SUB(d1, d2);                                                  \
    r0 = ADD(SUB(MUL(4.0f, d0), MUL(5.0f, d2)), d4);                                             \
    r1 = SUB(c_, MUL(4.0f, e_));                                                                 \
    r2 = ADD(f_, MUL(4.0f, h_));                                                                 \
    r3 = ADD(a_, MUL(2.0f, b_));                                                                 \
    r4 = SUB(a_, MUL(2.0f, b_));                                                                 \
    r5 = ADD(SUB(MUL(4.0f, d1), MUL(5.0f, d3)), d5);                                             \
  }
/* A^T applied to six values: four */
#define K4_AT(T, q0, q1, q2, q3, q4, q5, ADD, SUB, MUL, o0, o1, o2, o3) \
  {                                                                 \
    const T s1_ = ADD(q1, q2), d1_ = SUB(q1, q2), s2_ = ADD(q3, q4), d2_ = SUB(q3, q4);  \
    o0 = ADD(ADD(q0, s1_), s2_);                                                         \
    o1 = ADD(d1_, MUL(2.0f, d2_));                                                       \
    o2 = ADD(s1_, MUL(4.0f, s2_));                                                       \
    o3 = ADD(ADD(d1_, MUL(8.0f, d2_)), q5);                                              \
  }
#define K4_SADD(a, b) ((a) + (b))
#define K4_SSUB(a, b) ((a) - (b))
#define K4_SMUL(k, a) ((k) * (a))

#if defined(__AVX512F__)
#define K4_VADD(a, b) _mm512_add_ps(a, b)
#define K4_VSUB(a, b) _mm512_sub_ps(a, b)
#define K4_VMUL(k, a) _mm512_mul_ps(_mm512_set1_ps(k), a)
#endif

MRTC_FN void k_wino4_f32(const KConvShape *s, const float *x, const float *up, const KEpi *e, float *y, float *scratch) {
  const int64_t C = s->C, M = s->M, OH = s->OH, OW = s->OW, TW = (OW + 3) / 4, TH = (OH + 3) / 4, NT = TH * TW;
  const int64_t TB = k_wino4_tb(s), ps = (M + MRTC_MR - 1) / MRTC_MR * MRTC_MR * C, lp = k_wino4_lp(s);
  /* plane strides one cache line more than the planes: planes a power of two apart would share cache sets */
  const int64_t VS = C * TB + 16, MS = M * TB + 16;
  float *V = scratch, *Mo = V + 36 * VS, *prow = Mo + 36 * MS + 16;
  const KEpiV ev = k_epiv(e);
  const KEpi none = k_wino_none();
  (void)ev;
  int64_t n, t0, c, m, k;
  memset(prow, 0, sizeof(float) * (size_t)(6 * lp));
  for (n = 0; n < s->N; n++)
    for (t0 = 0; t0 < NT; t0 += TB) {
      const int64_t T = NT - t0 < TB ? NT - t0 : TB;
      /* input transform: runs of tiles within one tile row */
      for (c = 0; c < C; c++) {
        const float *xc = x + (n * C + c) * s->H * s->W;
        int64_t t = t0;
        while (t < t0 + T) {
          const int64_t th = t / TW, tw0 = t % TW, len = (TW - tw0 < t0 + T - t ? TW - tw0 : t0 + T - t);
          const int64_t ih0 = 4 * th - s->PT, tt0 = t - t0;
          int64_t r, tw = 0;
          for (r = 0; r < 6; r++) k_wino_row(s, xc, ih0 + r, prow + r * lp);
#if defined(__AVX512F__)
          {
            /* lanes 0..7 of a stride-4 de-interleave of two vectors (32 values): element 4t + j */
            const __m512i i0 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
            const __m512i i1 = _mm512_setr_epi32(1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0);
            const __m512i i2 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0);
            const __m512i i3 = _mm512_setr_epi32(3, 7, 11, 15, 19, 23, 27, 31, 0, 0, 0, 0, 0, 0, 0, 0);
#define K4_DE(L0, L1, L2, L3, IDX) \
  _mm512_shuffle_f32x4(_mm512_permutex2var_ps(L0, IDX, L1), _mm512_permutex2var_ps(L2, IDX, L3), 0x44)
            for (; tw < len; tw += 16) {
              __m512 d[6][6], tr[6][6];
              const __mmask16 mk = k_mask16(len - tw);
              int i;
              for (i = 0; i < 6; i++) {
                const float *p = prow + i * lp + 4 * (tw0 + tw);
                const __m512 l0 = _mm512_loadu_ps(p), l1 = _mm512_loadu_ps(p + 16), l2 = _mm512_loadu_ps(p + 32);
                const __m512 l3 = _mm512_loadu_ps(p + 48), l4 = _mm512_loadu_ps(p + 64);
                /* columns 4 and 5 of tile t are columns 0 and 1 of tile t + 1 */
                const __m512 m0 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(l1), _mm512_castps_si512(l0), 4));
                const __m512 m1 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(l2), _mm512_castps_si512(l1), 4));
                const __m512 m2 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(l3), _mm512_castps_si512(l2), 4));
                const __m512 m3 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(l4), _mm512_castps_si512(l3), 4));
                d[i][0] = K4_DE(l0, l1, l2, l3, i0);
                d[i][1] = K4_DE(l0, l1, l2, l3, i1);
                d[i][2] = K4_DE(l0, l1, l2, l3, i2);
                d[i][3] = K4_DE(l0, l1, l2, l3, i3);
                d[i][4] = K4_DE(m0, m1, m2, m3, i0);
                d[i][5] = K4_DE(m0, m1, m2, m3, i1);
              }
              for (i = 0; i < 6; i++) /* B^T d: down each column */
                K4_BT(__m512, d[0][i], d[1][i], d[2][i], d[3][i], d[4][i], d[5][i], K4_VADD, K4_VSUB, K4_VMUL, tr[0][i], tr[1][i],
                      tr[2][i], tr[3][i], tr[4][i], tr[5][i])
              for (i = 0; i < 6; i++) { /* (B^T d) B: along each row, into V[6 i + j] */
                float *v = V + (6 * i) * VS + c * T + tt0 + tw;
                __m512 o0, o1, o2, o3, o4, o5;
                K4_BT(__m512, tr[i][0], tr[i][1], tr[i][2], tr[i][3], tr[i][4], tr[i][5], K4_VADD, K4_VSUB, K4_VMUL, o0, o1, o2, o3,
                      o4, o5)
                _mm512_mask_storeu_ps(v, mk, o0);
                _mm512_mask_storeu_ps(v + VS, mk, o1);
                _mm512_mask_storeu_ps(v + 2 * VS, mk, o2);
                _mm512_mask_storeu_ps(v + 3 * VS, mk, o3);
                _mm512_mask_storeu_ps(v + 4 * VS, mk, o4);
                _mm512_mask_storeu_ps(v + 5 * VS, mk, o5);
              }
            }
#undef K4_DE
          }
#endif
          for (; tw < len; tw++) {
            float d[6][6], tr[6][6];
            int i, j;
            for (i = 0; i < 6; i++)
              for (j = 0; j < 6; j++) d[i][j] = prow[i * lp + 4 * (tw0 + tw) + j];
            for (j = 0; j < 6; j++)
              K4_BT(float, d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], K4_SADD, K4_SSUB, K4_SMUL, tr[0][j], tr[1][j],
                    tr[2][j], tr[3][j], tr[4][j], tr[5][j])
            for (i = 0; i < 6; i++) {
              float *v = V + (6 * i) * VS + c * T + tt0 + tw;
              K4_BT(float, tr[i][0], tr[i][1], tr[i][2], tr[i][3], tr[i][4], tr[i][5], K4_SADD, K4_SSUB, K4_SMUL, v[0], v[VS],
                    v[2 * VS], v[3 * VS], v[4 * VS], v[5 * VS])
            }
          }
          t += len;
        }
      }
      /* 36 GEMMs (the same dispatch as k_wino.h's 16) */
      for (k = 0; k < 36; k++) k_gemm_packed_f32(M, T, C, up + k * ps, V + k * VS, T, Mo + k * MS, T, &none);
      /* output transform and epilogue */
      for (m = 0; m < M; m++) {
        const float bm = e->bias_m ? e->bias_m[m] : 0.0f;
        float *ym = y + (n * M + m) * OH * OW;
        const float *rm = e->res ? e->res + (n * M + m) * OH * OW : 0;
        int64_t t = t0;
        while (t < t0 + T) {
          const int64_t th = t / TW, tw0 = t % TW, len = (TW - tw0 < t0 + T - t ? TW - tw0 : t0 + T - t), tt0 = t - t0;
          int64_t tw = 0;
#if defined(__AVX512F__)
          for (; tw < len; tw += 16) {
            __m512 a[4][6];
            const __mmask16 mk = k_mask16(len - tw);
            int i, j;
            for (j = 0; j < 6; j++) { /* A^T m: down each column */
              const float *q = Mo + j * MS + m * T + tt0 + tw;
              K4_AT(__m512, _mm512_maskz_loadu_ps(mk, q), _mm512_maskz_loadu_ps(mk, q + 6 * MS), _mm512_maskz_loadu_ps(mk, q + 12 * MS),
                    _mm512_maskz_loadu_ps(mk, q + 18 * MS), _mm512_maskz_loadu_ps(mk, q + 24 * MS), _mm512_maskz_loadu_ps(mk, q + 30 * MS),
                    K4_VADD, K4_VSUB, K4_VMUL, a[0][j], a[1][j], a[2][j], a[3][j])
            }
            for (i = 0; i < 4; i++) { /* (A^T m) A along row i: output row 4 th + i, 4 columns per tile */
              const int64_t oh = 4 * th + i, ow = 4 * (tw0 + tw);
              __m512 o0, o1, o2, o3, x0, x1, x2, x3, z0, z1, z2, z3, p0, p1, w[4];
              int64_t left = OW - ow;
              if (oh >= OH) break;
              K4_AT(__m512, a[i][0], a[i][1], a[i][2], a[i][3], a[i][4], a[i][5], K4_VADD, K4_VSUB, K4_VMUL, o0, o1, o2, o3)
              /* interleave: w[g] = columns 4 t + (0..3) of tiles t = 4 g .. 4 g + 3 */
              x0 = _mm512_unpacklo_ps(o0, o2), x1 = _mm512_unpacklo_ps(o1, o3);
              x2 = _mm512_unpackhi_ps(o0, o2), x3 = _mm512_unpackhi_ps(o1, o3);
              z0 = _mm512_unpacklo_ps(x0, x1), z1 = _mm512_unpackhi_ps(x0, x1); /* tiles 4l, 4l + 1 of 128-bit lane l */
              z2 = _mm512_unpacklo_ps(x2, x3), z3 = _mm512_unpackhi_ps(x2, x3); /* tiles 4l + 2, 4l + 3 */
              p0 = _mm512_shuffle_f32x4(z0, z1, 0x44), p1 = _mm512_shuffle_f32x4(z2, z3, 0x44);
              w[0] = _mm512_shuffle_f32x4(p0, p1, 0x88), w[1] = _mm512_shuffle_f32x4(p0, p1, 0xDD);
              p0 = _mm512_shuffle_f32x4(z0, z1, 0xEE), p1 = _mm512_shuffle_f32x4(z2, z3, 0xEE);
              w[2] = _mm512_shuffle_f32x4(p0, p1, 0x88), w[3] = _mm512_shuffle_f32x4(p0, p1, 0xDD);
              if (left > 4 * (len - tw)) left = 4 * (len - tw);
              for (j = 0; j < 4 && left > 16 * j; j++) {
                const __mmask16 ms = k_mask16(left - 16 * j);
                const int64_t o = oh * OW + ow + 16 * j;
                k_wino_put512(w[j], ym + o, ms, left - 16 * j, bm, rm ? rm + o : 0, e, ev);
              }
            }
          }
#endif
          for (; tw < len; tw++) {
            float q[36], a[4][6], v[4][4];
            int i, j;
            for (k = 0; k < 36; k++) q[k] = Mo[k * MS + m * T + tt0 + tw];
            for (j = 0; j < 6; j++)
              K4_AT(float, q[j], q[6 + j], q[12 + j], q[18 + j], q[24 + j], q[30 + j], K4_SADD, K4_SSUB, K4_SMUL, a[0][j], a[1][j],
                    a[2][j], a[3][j])
            for (i = 0; i < 4; i++)
              K4_AT(float, a[i][0], a[i][1], a[i][2], a[i][3], a[i][4], a[i][5], K4_SADD, K4_SSUB, K4_SMUL, v[i][0], v[i][1], v[i][2],
                    v[i][3])
            for (i = 0; i < 4; i++)
              for (j = 0; j < 4; j++) {
                const int64_t oh = 4 * th + i, ow = 4 * (tw0 + tw) + j;
                float r;
                if (oh >= OH || ow >= OW) continue;
                r = e->alpha * v[i][j] + bm;
                if (rm) r += rm[oh * OW + ow];
                ym[oh * OW + ow] = k_act_f32(r, e->act, e->p0, e->p1);
              }
          }
          t += len;
        }
      }
    }
}

#endif
