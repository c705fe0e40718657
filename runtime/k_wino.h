/*
 * k_wino.h: 3x3, stride-1, undilated, ungrouped convolution by Winograd
 * F(2x2, 3x3): 16 multiplications per 2x2 output tile and input channel
 * instead of 36, so 2.25 times fewer multiply-adds than direct convolution.
 *
 *   U = G g G^T        per (output, input) channel, at compile time: 16
 *                      matrices U[k] (M x C), each packed for k_gemm.h
 *   V = B^T d B        per input channel and tile (d: the 4x4 input patch
 *                      of the tile's 2x2 outputs; padding reads zero)
 *   Mk = U[k] V[k]     16 GEMMs (M x C times C x tiles), k_gemm_packed_f32
 *   Y = A^T m A        per output channel and tile, then the fused
 *                      epilogue (bias, residual, activation)
 *
 * with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5;
 * .5 -.5 .5; 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].  Tiles (2x2 blocks of
 * output, row-major over the image) go in blocks of WINO_TB so that V and
 * the GEMM results stay in the L2 cache; within a block the transforms
 * work on runs of 16 tiles of one tile row (AVX-512: the patch columns are
 * de-interleaved out of a zero-padded copy of each input row).  Results
 * differ from direct convolution by float rounding only (the transforms
 * use the exact coefficients 1 and 1/2).
 */
#ifndef MRTC_K_WINO_H
#define MRTC_K_WINO_H
#include "k_gemm.h"
#include "k_conv.h"

#ifndef MRTC_WINO_TB
#define MRTC_WINO_TB 64 /* tiles per block (half that for more than 128 channels) */
#endif

/* tiles per block */
MRTC_FN int64_t k_wino_tb(const KConvShape *s) {
  int64_t t = ((s->OH + 1) / 2) * ((s->OW + 1) / 2), tb = s->C <= 128 && s->M <= 128 ? MRTC_WINO_TB : MRTC_WINO_TB / 2;
  return t < tb ? t : tb;
}

/* floats of packed U: 16 packed M x C matrices */
MRTC_FN int64_t k_wino_packed_size(const KConvShape *s) { return 16 * ((s->M + MRTC_MR - 1) / MRTC_MR) * MRTC_MR * s->C; }

/* floats of scratch: V (16 x C x TB), GEMM results (16 x M x TB), 4 padded input rows */
MRTC_FN int64_t k_wino_scratch(const KConvShape *s) {
  int64_t tb = k_wino_tb(s), lp = 2 * ((s->OW + 1) / 2) + 2 + 64;
  return 16 * (s->C * tb + 16) + 16 * (s->M * tb + 16) + 16 + 4 * lp + 16;
}

/* U[k] = (G g G^T)[k] for every (m, c), packed: UP needs k_wino_packed_size floats, TMP M * C */
MRTC_FN void k_wino_pack_weights_f32(const KConvShape *s, const float *w, float *up, float *tmp) {
  int64_t M = s->M, C = s->C, m, c, k, ps = (M + MRTC_MR - 1) / MRTC_MR * MRTC_MR * C;
  for (k = 0; k < 16; k++) {
    int i = (int)k / 4, j = (int)k % 4;
    for (m = 0; m < M; m++)
      for (c = 0; c < C; c++) {
        const float *g = w + (m * C + c) * 9;
        float t[3], gi[3];
        int r;
        /* row i of G g: G[i] . g[:, col] */
        for (r = 0; r < 3; r++) {
          const float a = g[r], b = g[3 + r], d = g[6 + r];
          gi[r] = i == 0 ? a : i == 1 ? 0.5f * (a + b + d) : i == 2 ? 0.5f * (a - b + d) : d;
        }
        t[0] = gi[0], t[1] = gi[1], t[2] = gi[2];
        tmp[m * C + c] = j == 0 ? t[0] : j == 1 ? 0.5f * (t[0] + t[1] + t[2]) : j == 2 ? 0.5f * (t[0] - t[1] + t[2]) : t[2];
      }
    k_pack_a_f32(M, C, tmp, C, 1, up + k * ps);
  }
}

/* input row IH of channel XC into a zero-padded row: PROW[j] = x[ih][j - PL]
 * (the row is at least PL + W long); only the interior is written, the
 * caller zeroes the padding once */
MRTC_FN void k_wino_row(const KConvShape *s, const float *xc, int64_t ih, float *prow) {
  if (ih < 0 || ih >= s->H) memset(prow + s->PL, 0, sizeof(float) * (size_t)s->W);
  else k_phase_row_f32(xc + ih * s->W, s->W, s->PL, 1, 0, 1u, prow);
}

/* the GEMMs' epilogue: none */
MRTC_FN KEpi k_wino_none(void) {
  KEpi z;
  z.bias_m = z.bias_n = z.res = 0;
  z.ldr = 0;
  z.alpha = 1.0f;
  z.act = MRTC_ACT_NONE;
  z.p0 = z.p1 = 0.0f;
  return z;
}

#if defined(__AVX512F__)
/* up to 16 outputs at YO (lanes MS; N of them): the epilogue, then the activations k_epi512 leaves to its caller */
MRTC_FN void k_wino_put512(__m512 v, float *yo, __mmask16 ms, int64_t n, float bm, const float *ro, const KEpi *e, KEpiV ev) {
  int64_t z;
  k_epi512(v, yo, ms, MRTC_GEMM_FIRST | MRTC_GEMM_LAST, bm, 0, ro, ev);
  if (e->act >= MRTC_ACT_SIGMOID)
    for (z = 0; z < 16 && z < n; z++) yo[z] = k_act_f32(yo[z], e->act, e->p0, e->p1);
}
#endif

MRTC_FN void k_wino_f32(const KConvShape *s, const float *x, const float *up, const KEpi *e, float *y, float *scratch) {
  const int64_t C = s->C, M = s->M, OH = s->OH, OW = s->OW, TW = (OW + 1) / 2, TH = (OH + 1) / 2, NT = TH * TW;
  const int64_t TB = k_wino_tb(s), ps = (M + MRTC_MR - 1) / MRTC_MR * MRTC_MR * C, lp = 2 * TW + 2 + 64;
  /* plane strides one cache line more than the planes: 16 planes a power of two apart would share cache sets */
  const int64_t VS = C * TB + 16, MS = M * TB + 16;
  float *V = scratch, *Mo = V + 16 * VS, *prow = Mo + 16 * MS + 16;
  const KEpiV ev = k_epiv(e);
  const KEpi none = k_wino_none();
  (void)ev;
  int64_t n, t0, c, m, k;
  memset(prow, 0, sizeof(float) * (size_t)(4 * lp));
  for (n = 0; n < s->N; n++)
    for (t0 = 0; t0 < NT; t0 += TB) {
      const int64_t T = NT - t0 < TB ? NT - t0 : TB;
      /* input transform: runs of tiles within one tile row */
      for (c = 0; c < C; c++) {
        const float *xc = x + (n * C + c) * s->H * s->W;
        int64_t t = t0;
        while (t < t0 + T) {
          const int64_t th = t / TW, tw0 = t % TW, len = (TW - tw0 < t0 + T - t ? TW - tw0 : t0 + T - t);
          const int64_t ih0 = 2 * th - s->PT, tt0 = t - t0;
          int64_t r, tw;
          for (r = 0; r < 4; r++) k_wino_row(s, xc, ih0 + r, prow + r * lp);
          tw = 0;
#if defined(__AVX512F__)
          {
            const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (; tw < len; tw += 16) {
              __m512 d[4][4], tr[4][4];
              __mmask16 mk = k_mask16(len - tw);
              int i;
              for (i = 0; i < 4; i++) {
                const float *p = prow + i * lp + 2 * (tw0 + tw);
                __m512 lo = _mm512_loadu_ps(p), hi = _mm512_loadu_ps(p + 16);
                __m512 lo2 = _mm512_loadu_ps(p + 2), hi2 = _mm512_loadu_ps(p + 18);
                d[i][0] = _mm512_permutex2var_ps(lo, ie, hi);
                d[i][1] = _mm512_permutex2var_ps(lo, io, hi);
                d[i][2] = _mm512_permutex2var_ps(lo2, ie, hi2);
                d[i][3] = _mm512_permutex2var_ps(lo2, io, hi2);
              }
              for (i = 0; i < 4; i++) {
                tr[0][i] = _mm512_sub_ps(d[0][i], d[2][i]);
                tr[1][i] = _mm512_add_ps(d[1][i], d[2][i]);
                tr[2][i] = _mm512_sub_ps(d[2][i], d[1][i]);
                tr[3][i] = _mm512_sub_ps(d[1][i], d[3][i]);
              }
              for (i = 0; i < 4; i++) {
                float *v = V + (4 * i) * VS + c * T + tt0 + tw;
                _mm512_mask_storeu_ps(v, mk, _mm512_sub_ps(tr[i][0], tr[i][2]));
                _mm512_mask_storeu_ps(v + VS, mk, _mm512_add_ps(tr[i][1], tr[i][2]));
                _mm512_mask_storeu_ps(v + 2 * VS, mk, _mm512_sub_ps(tr[i][2], tr[i][1]));
                _mm512_mask_storeu_ps(v + 3 * VS, mk, _mm512_sub_ps(tr[i][1], tr[i][3]));
              }
            }
          }
#endif
          for (; tw < len; tw++) {
            float d[4][4], tr[4][4];
            int i, j;
            for (i = 0; i < 4; i++)
              for (j = 0; j < 4; j++) d[i][j] = prow[i * lp + 2 * (tw0 + tw) + j];
            for (j = 0; j < 4; j++) {
              tr[0][j] = d[0][j] - d[2][j];
              tr[1][j] = d[1][j] + d[2][j];
              tr[2][j] = d[2][j] - d[1][j];
              tr[3][j] = d[1][j] - d[3][j];
            }
            for (i = 0; i < 4; i++) {
              float *v = V + (4 * i) * VS + c * T + tt0 + tw;
              v[0] = tr[i][0] - tr[i][2];
              v[VS] = tr[i][1] + tr[i][2];
              v[2 * VS] = tr[i][2] - tr[i][1];
              v[3 * VS] = tr[i][1] - tr[i][3];
            }
          }
          t += len;
        }
      }
      /* 16 GEMMs */
      for (k = 0; k < 16; k++) k_gemm_packed_f32(M, T, C, up + k * ps, V + k * VS, T, Mo + k * MS, T, &none);
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
          {
            const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            for (; tw < len; tw += 16) {
              __m512 q[16], a[4][2];
              __mmask16 mk = k_mask16(len - tw);
              int i, j;
              for (k = 0; k < 16; k++) q[k] = _mm512_maskz_loadu_ps(mk, Mo + k * MS + m * T + tt0 + tw);
              for (i = 0; i < 4; i++) {
                a[i][0] = _mm512_add_ps(_mm512_add_ps(q[4 * i], q[4 * i + 1]), q[4 * i + 2]);
                a[i][1] = _mm512_sub_ps(_mm512_sub_ps(q[4 * i + 1], q[4 * i + 2]), q[4 * i + 3]);
              }
              for (i = 0; i < 2; i++) {
                const int64_t oh = 2 * th + i, ow = 2 * (tw0 + tw);
                __m512 y0, y1;
                int64_t left = OW - ow;
                if (oh >= OH) break;
                if (i == 0) {
                  y0 = _mm512_add_ps(_mm512_add_ps(a[0][0], a[1][0]), a[2][0]);
                  y1 = _mm512_add_ps(_mm512_add_ps(a[0][1], a[1][1]), a[2][1]);
                } else {
                  y0 = _mm512_sub_ps(_mm512_sub_ps(a[1][0], a[2][0]), a[3][0]);
                  y1 = _mm512_sub_ps(_mm512_sub_ps(a[1][1], a[2][1]), a[3][1]);
                }
                if (left > 2 * (len - tw)) left = 2 * (len - tw);
                for (j = 0; j < 2 && left > 16 * j; j++) {
                  const __mmask16 ms = k_mask16(left - 16 * j);
                  const int64_t o = oh * OW + ow + 16 * j;
                  k_wino_put512(_mm512_permutex2var_ps(y0, j ? ihi : ilo, y1), ym + o, ms, left - 16 * j, bm, rm ? rm + o : 0, e, ev);
                }
              }
            }
          }
#endif
          for (; tw < len; tw++) {
            float q[16], a[4][2], v[2][2];
            int i, j;
            for (k = 0; k < 16; k++) q[k] = Mo[k * MS + m * T + tt0 + tw];
            for (i = 0; i < 4; i++) {
              a[i][0] = q[4 * i] + q[4 * i + 1] + q[4 * i + 2];
              a[i][1] = q[4 * i + 1] - q[4 * i + 2] - q[4 * i + 3];
            }
            for (j = 0; j < 2; j++) {
              v[0][j] = a[0][j] + a[1][j] + a[2][j];
              v[1][j] = a[1][j] - a[2][j] - a[3][j];
            }
            for (i = 0; i < 2; i++)
              for (j = 0; j < 2; j++) {
                const int64_t oh = 2 * th + i, ow = 2 * (tw0 + tw) + j;
                float r;
                if (oh >= OH || ow >= OW) continue;
                r = v[i][j] + bm;
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
