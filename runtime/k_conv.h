/*
 * k_conv.h: 2-D convolution (NCHW, OIHW weights, groups, dilations,
 * asymmetric pads), as GEMM over tiles of output pixels.
 *
 * For each image and group, output pixels are taken TILE at a time; the
 * receptive fields of a tile are gathered into COL (K x TILE, K =
 * Cin/group * kh * kw; padding reads as zero) and Y[m, tile] = bias[m] +
 * sum_k W[m, k] * COL[k, tile] is one k_gemm_f32 call.  COL lives in
 * scratch space of K * TILE floats that the memory planner reserves for
 * this node only.  A 1x1 convolution with stride 1 and no padding reads
 * its input directly (no gather).  1-D convolutions are the H = 1 case.
 */
#ifndef MRTC_K_CONV_H
#define MRTC_K_CONV_H
#include "k_gemm.h"

#define MRTC_CONV_TILE 256

typedef struct {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G;
} KConvShape;

MRTC_FN void k_conv2d_f32(const KConvShape *s, const float *x, const float *w, const float *bias, float *y, float *col) {
  int64_t cg = s->C / s->G, mg = s->M / s->G, K = cg * s->KH * s->KW, P = s->OH * s->OW;
  int64_t n, g, m, p0;
  int direct = s->KH == 1 && s->KW == 1 && s->SH == 1 && s->SW == 1 && s->PT == 0 && s->PL == 0 && s->OH == s->H &&
               s->OW == s->W;
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      const float *xg = x + (n * s->C + g * cg) * s->H * s->W;
      const float *wg = w + g * mg * K;
      float *yg = y + (n * s->M + g * mg) * P;
      for (m = 0; m < mg; m++) {
        float b = bias ? bias[g * mg + m] : 0.0f;
        int64_t p;
        for (p = 0; p < P; p++) yg[m * P + p] = b;
      }
      if (direct) {
        k_gemm_f32(mg, P, K, 1.0f, wg, K, 1, xg, P, 1, yg, P);
        continue;
      }
      for (p0 = 0; p0 < P; p0 += MRTC_CONV_TILE) {
        int64_t T = P - p0 < MRTC_CONV_TILE ? P - p0 : MRTC_CONV_TILE, c, kh, kw, t;
        for (c = 0; c < cg; c++)
          for (kh = 0; kh < s->KH; kh++)
            for (kw = 0; kw < s->KW; kw++) {
              float *cr = col + ((c * s->KH + kh) * s->KW + kw) * T;
              const float *xc = xg + c * s->H * s->W;
              int64_t oh = (p0) / s->OW, ow = (p0) % s->OW;
              for (t = 0; t < T; t++) {
                int64_t ih = oh * s->SH - s->PT + kh * s->DH, iw = ow * s->SW - s->PL + kw * s->DW;
                cr[t] = (ih >= 0 && ih < s->H && iw >= 0 && iw < s->W) ? xc[ih * s->W + iw] : 0.0f;
                if (++ow == s->OW) {
                  ow = 0;
                  oh++;
                }
              }
            }
        k_gemm_f32(mg, T, K, 1.0f, wg, K, 1, col, T, 1, yg + p0, P);
      }
    }
}

/* ---------------------------------------------------------------- fast path
 *
 * k_conv_gemm_f32: the same convolution with weights PACKED at compile time
 * (per group, k_pack_a_f32 panels of the group's mg x K weight matrix) and
 * the fused epilogue of k_gemm.h (bias, residual, activation).
 *
 * A 1x1, stride-1, unpadded convolution reads its input as the GEMM's B
 * matrix in place, and the epilogue runs in registers.
 *
 * Every other one is an implicit GEMM (no im2col).  The input is copied
 * once into scratch with its padding made explicit and split into SH x SW
 * phase planes (padded pixel (r, j) goes to plane (r % SH, j % SW) at
 * (r / SH, j / SW), rows of WQ floats).  Output pixel (oh, ow) then reads
 * tap (c, kh, kw) at q + koff[k], where q = oh * WQ + ow and koff[k] only
 * depends on the tap: along q every row of B is a contiguous run of one
 * plane, for any stride and dilation.  The GEMM runs over q in blocks of
 * MRTC_NC, into a "wide" block with WQ - OW junk columns per output row;
 * the epilogue then copies the valid columns into Y, adding bias and
 * residual and applying the activation.  The input copy costs one pass
 * over the input, against KH*KW/(SH*SW) passes for im2col. */

MRTC_FN int k_conv_is_direct(const KConvShape *s) {
  return s->KH == 1 && s->KW == 1 && s->SH == 1 && s->SW == 1 && s->PT == 0 && s->PL == 0 && s->OH == s->H &&
         s->OW == s->W;
}

/* phase plane geometry: rows HQ, row length WQ */
MRTC_FN void k_conv_planes(const KConvShape *s, int64_t *hq, int64_t *wq) {
  int64_t h = (s->OH - 1) * s->SH + (s->KH - 1) * s->DH + 1, w = (s->OW - 1) * s->SW + (s->KW - 1) * s->DW + 1;
  if (h < s->H + s->PT) h = s->H + s->PT;
  if (w < s->W + s->PL) w = s->W + s->PL;
  *hq = (h + s->SH - 1) / s->SH;
  *wq = (w + s->SW - 1) / s->SW;
}

/* floats of scratch k_conv_gemm_f32 needs: tap offsets, phase planes (+ slack for the junk columns' reads), wide block */
MRTC_FN int64_t k_conv_gemm_scratch(const KConvShape *s) {
  int64_t K = s->C / s->G * s->KH * s->KW, hq, wq, Q;
  if (k_conv_is_direct(s)) return 0;
  k_conv_planes(s, &hq, &wq);
  Q = s->OH * wq;
  return 2 * K + 16 + s->C / s->G * s->SH * s->SW * hq * wq + wq + 64 + s->M / s->G * (Q < MRTC_NC ? (Q + 15) / 16 * 16 : MRTC_NC);
}

/* floats of packed weights: per group ceil(mg / MR) panels of MR x K */
MRTC_FN int64_t k_conv_packed_size(const KConvShape *s) {
  int64_t mg = s->M / s->G, K = s->C / s->G * s->KH * s->KW;
  return s->G * ((mg + MRTC_MR - 1) / MRTC_MR) * MRTC_MR * K;
}

MRTC_FN void k_conv_pack_weights_f32(const KConvShape *s, const float *w, float *wp) {
  int64_t mg = s->M / s->G, K = s->C / s->G * s->KH * s->KW, g;
  for (g = 0; g < s->G; g++) k_pack_a_f32(mg, K, w + g * mg * K, K, 1, wp + g * ((mg + MRTC_MR - 1) / MRTC_MR) * MRTC_MR * K);
}

/* one input row -> its SW phase rows (padded column j = iw + pl goes to phase j % sw, index j / sw);
 * only phases whose bit is set in USED are written */
MRTC_FN void k_phase_row_f32(const float *src, int64_t w, int64_t pl, int64_t sw, int64_t plane, unsigned used, float *row) {
  int64_t ph, iw;
  if (sw == 1) {
#if defined(__AVX512F__) /* rows are short: a libc call per row costs as much as the copy */
    for (iw = 0; iw < w; iw += 16) {
      __mmask16 m = k_mask16(w - iw);
      _mm512_mask_storeu_ps(row + pl + iw, m, _mm512_maskz_loadu_ps(m, src + iw));
    }
#else
    memcpy(row + pl, src, sizeof(float) * (size_t)w);
#endif
    return;
  }
  if (sw == 2) { /* even input columns go to phase pl % 2, odd ones to the other */
    float *de = row + (pl & 1) * plane + pl / 2, *dd = row + ((pl + 1) & 1) * plane + (pl + 1) / 2;
    int ue = used >> (pl & 1) & 1u, uo = used >> ((pl + 1) & 1) & 1u;
    int64_t i = 0;
#if defined(__AVX512F__)
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (; 2 * i < w; i += 16) {
      int64_t left = w - 2 * i;
      __m512 lo = _mm512_maskz_loadu_ps(k_mask16(left), src + 2 * i), hi = _mm512_maskz_loadu_ps(k_mask16(left - 16), src + 2 * i + 16);
      if (ue) _mm512_mask_storeu_ps(de + i, k_mask16((left + 1) / 2), _mm512_permutex2var_ps(lo, ie, hi));
      if (uo) _mm512_mask_storeu_ps(dd + i, k_mask16(left / 2), _mm512_permutex2var_ps(lo, io, hi));
    }
#else
    for (; 2 * i < w; i++) {
      if (ue) de[i] = src[2 * i];
      if (uo && 2 * i + 1 < w) dd[i] = src[2 * i + 1];
    }
#endif
    return;
  }
  for (ph = 0; ph < sw; ph++) {
    int64_t iw0 = ((ph - pl) % sw + sw) % sw; /* first iw with (iw + pl) % sw == ph */
    float *d = row + ph * plane + (iw0 + pl) / sw;
    if (!(used >> ph & 1u)) continue;
    for (iw = iw0; iw < w; iw += sw) *d++ = src[iw];
  }
}

/* one group's input channels -> zero-padded phase planes (only the phases some tap reads) */
MRTC_FN void k_conv_phase_f32(const KConvShape *s, const float *xg, float *pl, int64_t hq, int64_t wq) {
  int64_t cg = s->C / s->G, SH = s->SH, SW = s->SW, plane = hq * wq, c, ih, k;
  unsigned rows = 0, cols = 0; /* phases some tap reads (strides above 32 read all) */
  for (k = 0; k < s->KH; k++) rows |= SH > 32 ? ~0u : 1u << (k * s->DH % SH);
  for (k = 0; k < s->KW; k++) cols |= SW > 32 ? ~0u : 1u << (k * s->DW % SW);
  if (SH == 1 && SW == 1) { /* zero only the padding: rows above and below, columns left and right */
    for (c = 0; c < cg; c++) {
      float *pc = pl + c * plane;
      for (ih = 0; ih < hq; ih++) {
        float *row = pc + ih * wq;
        if (ih < s->PT || ih >= s->PT + s->H) memset(row, 0, sizeof(float) * (size_t)wq);
        else {
          for (k = 0; k < s->PL; k++) row[k] = 0.0f;
          for (k = s->PL + s->W; k < wq; k++) row[k] = 0.0f;
          k_phase_row_f32(xg + (c * s->H + ih - s->PT) * s->W, s->W, s->PL, 1, plane, 1u, row);
        }
      }
    }
    memset(pl + cg * plane, 0, sizeof(float) * (size_t)(wq + 64));
    return;
  }
  if (SH > 32 || SW > 32) { /* rare: zero everything */
    memset(pl, 0, sizeof(float) * (size_t)(cg * SH * SW * plane + wq + 64));
    rows = cols = ~0u;
  }
  {
    /* plane columns [j0[ph], j1[ph]) hold input columns (padded index j * SW + ph in [PL, PL + W)); no divisions
     * per row: they cost more than a short row's copy */
    int64_t j0[32], j1[32], ph, rq, rp;
    const int64_t SWc = SW < 32 ? SW : 32;
    for (ph = 0; ph < SWc; ph++) {
      j0[ph] = s->PL > ph ? (s->PL - ph + SW - 1) / SW : 0;
      j1[ph] = s->PL + s->W > ph ? (s->PL + s->W - ph + SW - 1) / SW : 0;
      if (j1[ph] > wq) j1[ph] = wq;
    }
    for (c = 0; c < cg; c++) {
      float *pc = pl + c * SH * SW * plane;
      const float *xc = xg + (c * s->H - s->PT) * s->W; /* row r of the padded input: xc + r * W */
      /* only the phases some tap reads, and in them only what the input rows leave: padding rows, padding columns */
      for (rq = 0; rq < hq; rq++)
        for (rp = 0; rp < SH; rp++) {
          const int64_t r = rq * SH + rp, in = r >= s->PT && r < s->PT + s->H;
          float *prow = pc + rp * SW * plane + rq * wq;
          if (!(rows >> rp & 1u)) continue;
          for (ph = 0; ph < SWc; ph++) {
            float *row = prow + ph * plane;
            if (!(cols >> ph & 1u)) continue;
            if (!in) {
              memset(row, 0, sizeof(float) * (size_t)wq);
              continue;
            }
            for (k = 0; k < j0[ph]; k++) row[k] = 0.0f;
            for (k = j1[ph]; k < wq; k++) row[k] = 0.0f;
          }
          if (in) k_phase_row_f32(xc + r * s->W, s->W, s->PL, SW, plane, cols, prow);
        }
    }
  }
  memset(pl + cg * SH * SW * plane, 0, sizeof(float) * (size_t)(wq + 64));
}

/* KOFF[k] (K = Cin/group * KH * KW): where tap k = (c, kh, kw) of output pixel q reads, at q + koff[k] in
 * the phase planes of k_conv_phase_f32 (rows HQ, row length WQ) */
MRTC_FN void k_conv_koff(const KConvShape *s, int64_t hq, int64_t wq, int64_t *koff) {
  const int64_t K = s->C / s->G * s->KH * s->KW, khw = s->KH * s->KW;
  int64_t k;
  for (k = 0; k < K; k++) {
    int64_t c = k / khw, dh = k % khw / s->KW * s->DH, dw = k % s->KW * s->DW;
    koff[k] = ((c * s->SH + dh % s->SH) * s->SW + dw % s->SW) * hq * wq + dh / s->SH * wq + dw / s->SW;
  }
}

MRTC_FN void k_conv_gemm_f32(const KConvShape *s, const float *x, const float *wp, const KEpi *e, float *y, float *scratch) {
  int64_t cg = s->C / s->G, mg = s->M / s->G, K = cg * s->KH * s->KW, P = s->OH * s->OW;
  int64_t gstride = (mg + MRTC_MR - 1) / MRTC_MR * MRTC_MR * K, kb = k_kc(K), n, g, jc, pc, hq = 0, wq = 0, Q = 0, nbq = 0;
  int64_t *koff = (int64_t *)scratch;
  float *pl = scratch + 2 * K + 16, *wide = 0;
  int direct = k_conv_is_direct(s);
  if (!direct) {
    k_conv_planes(s, &hq, &wq);
    Q = s->OH * wq;
    nbq = k_nc(Q);
    wide = pl + cg * s->SH * s->SW * hq * wq + wq + 64;
    k_conv_koff(s, hq, wq, koff);
  }
  for (n = 0; n < s->N; n++)
    for (g = 0; g < s->G; g++) {
      const float *xg = x + (n * s->C + g * cg) * s->H * s->W, *wg = wp + g * gstride;
      float *yg = y + (n * s->M + g * mg) * P;
      KEpi eg = *e;
      if (eg.bias_m) eg.bias_m += g * mg;
      if (eg.res) eg.res += (n * s->M + g * mg) * P;
      eg.ldr = P;
#if defined(MRTC_HAVE_UKRT)
      if (P <= MRTC_T_MAXN && (!direct || P >= 7)) { /* few pixels: 24 channels x 7 pixels tiles, no junk columns */
        if (!direct) k_conv_phase_f32(s, xg, pl, hq, wq);
        k_gemmT_f32(mg, P, K, wg, direct ? xg : pl, P, direct ? 0 : koff, direct ? P : s->OW, direct ? P : wq, yg, P, &eg);
        continue;
      }
#endif
      if (direct) {
        k_gemm_packed_f32(mg, P, K, wg, xg, P, yg, P, &eg);
        continue;
      }
      k_conv_phase_f32(s, xg, pl, hq, wq);
      if (wq == s->OW) { /* no junk columns: the planes' pixels are Y's, the GEMM writes Y with the epilogue */
        for (jc = 0; jc < Q; jc += nbq) {
          int64_t nc = Q - jc < nbq ? Q - jc : nbq;
          KEpi ej = eg;
          if (ej.res) ej.res += jc;
          for (pc = 0; pc < K; pc += kb) {
            int64_t kc = K - pc < kb ? K - pc : kb;
            k_gemm_block_f32(mg, nc, kc, wg + pc * MRTC_MR, MRTC_MR * K, pl + jc, 0, koff + pc, yg + jc, P,
                             (pc == 0 ? MRTC_GEMM_FIRST : 0) | (pc + kc >= K ? MRTC_GEMM_LAST : 0), &ej);
          }
        }
        continue;
      }
      if (K <= kb && s->OW >= 16) { /* one K block (a stem): row by row into Y, no wide block to copy */
        int64_t oh;
        for (oh = 0; oh < s->OH; oh++) {
          KEpi ej = eg;
          if (ej.res) ej.res += oh * s->OW;
          k_gemm_block_f32(mg, s->OW, K, wg, MRTC_MR * K, pl + oh * wq, 0, koff, yg + oh * s->OW, P,
                           MRTC_GEMM_FIRST | MRTC_GEMM_LAST, &ej);
        }
        continue;
      }
      for (jc = 0; jc < Q; jc += nbq) {
        int64_t nc = Q - jc < nbq ? Q - jc : nbq, ldw = (nc + 15) / 16 * 16, m, q;
        for (pc = 0; pc < K; pc += kb) {
          int64_t kc = K - pc < kb ? K - pc : kb;
          k_gemm_block_f32(mg, nc, kc, wg + pc * MRTC_MR, MRTC_MR * K, pl + jc, 0, koff + pc, wide, ldw,
                           pc == 0 ? MRTC_GEMM_FIRST : 0, &eg);
        }
        /* valid columns of the wide block -> Y, with the epilogue */
        for (q = jc; q < jc + nc;) {
          int64_t oh = q / wq, ow = q % wq, len = s->OW - ow;
          if (len <= 0) {
            q += wq - ow;
            continue;
          }
          if (len > jc + nc - q) len = jc + nc - q;
          for (m = 0; m < mg; m++)
            k_epi_seg_f32(len, wide + m * ldw + (q - jc), yg + m * P + oh * s->OW + ow, eg.bias_m ? eg.bias_m[m] : 0.0f,
                          eg.res ? eg.res + m * P + oh * s->OW + ow : 0, &eg);
          q += len;
        }
      }
    }
}

#endif
