/*
 * k_int8.h: the integer-only kernels of mrtc's int8 layers (quantize.c
 * lowers Conv, Gemm, MatMul, Add, Sub, Mul, Concat, AveragePool,
 * GlobalAveragePool and unary activations onto them).
 *
 * Number format: a real value r is stored as int8 q with r = scale * (q - zp).
 * Weights are symmetric (zp 0) per output channel; activations per tensor,
 * asymmetric by default.  Layers accumulate in int32 (bias pre-scaled to
 * int32 by the compiler, the input zero point folded into it) and requantize
 * with a fixed-point multiplier: y = zy + round(acc * mult / 2^shift), the
 * multiplier and shift computed by the compiler from the real factor
 * scale_x * scale_w / scale_y.  Rounding is half away from zero, written
 * with non-negative shifts only, so it is the same on every C compiler.
 * Activations Relu and Clip are the output clamp [lo, hi]; any other unary
 * function is a 256-entry table.  No float arithmetic anywhere except in
 * k_quantize_f32_i8 / k_dequantize_i8_f32, the conversions at the borders
 * of the int8 region.
 *
 * Convolution and GEMM have AVX512-VNNI, AVX2, SSE2 and plain C paths (the
 * target macros pick one; the interpreter, built without -march, runs SSE2)
 * over weights packed at compile time; all paths compute the same integers,
 * so the generated code matches the interpreter bit for bit on any target.
 */
#ifndef MRTC_K_INT8_H
#define MRTC_K_INT8_H
#include "k_common.h"

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

/* small helpers stay inline even in size mode, where MRTC_FN kernels are out of line */
#define MRTC_QI static inline

/* round(p / 2^shift), halves away from zero; 1 <= shift <= 62 */
MRTC_QI int64_t k_q_rshift(int64_t p, int32_t shift) {
  int64_t a = p < 0 ? -p : p, r = (a + ((int64_t)1 << (shift - 1))) >> shift; /* selects, not branches */
  return p < 0 ? -r : r;
}

MRTC_QI int8_t k_q_clamp(int64_t v, int32_t lo, int32_t hi) { return (int8_t)(v < lo ? lo : v > hi ? hi : v); }

/* ------------------------------------------------------------ borders */

/* q = saturate(rint(x / scale) + zp) (round half to even, as QuantizeLinear) */
MRTC_FN void k_quantize_f32_i8(int64_t n, const float *x, float scale, int32_t zp, int8_t *y) {
  int64_t i = 0;
#if defined(__SSE2__)
  /* the same steps: IEEE division, the clamp (maxps gives its second operand
   * for NaN), cvtps rounds like rintf (the current mode, nearest even), packs saturate */
  const __m128 sc = _mm_set1_ps(scale), lo = _mm_set1_ps(-1e6f), hi = _mm_set1_ps(1e6f);
  const __m128i z = _mm_set1_epi32(zp);
#define MRTC_QQ(o) _mm_add_epi32(_mm_cvtps_epi32(_mm_min_ps(_mm_max_ps(_mm_div_ps(_mm_loadu_ps(x + i + (o)), sc), lo), hi)), z)
  const int64_t n16 = n & ~(int64_t)15;
  for (; i < n16; i += 16)
    _mm_storeu_si128((__m128i *)(y + i), _mm_packs_epi16(_mm_packs_epi32(MRTC_QQ(0), MRTC_QQ(4)), _mm_packs_epi32(MRTC_QQ(8), MRTC_QQ(12))));
#undef MRTC_QQ
#endif
  for (; i < n; i++) {
    float t = x[i] / scale;
    int32_t v;
    if (!(t > -1e6f)) t = -1e6f; /* NaN too */
    if (t > 1e6f) t = 1e6f;
    v = (int32_t)rintf(t) + zp;
    y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
}

MRTC_FN void k_dequantize_i8_f32(int64_t n, const int8_t *x, float scale, int32_t zp, float *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - zp) * scale;
}

/* y = clamp(zy + round((x - zx) * mult / 2^shift)) over OUTER blocks of INNER
 * elements, x rows INNER apart, y rows LDY apart (a Concat's slice); a plain
 * copy when the scales and zero points agree (mult = 0). */
MRTC_FN void k_qrequant_i8(int64_t outer, int64_t inner, int64_t ldy, const int8_t *x, int8_t *y, int32_t zx, int32_t zy,
                           int32_t mult, int32_t shift, int32_t lo, int32_t hi) {
  int64_t o, i;
  for (o = 0; o < outer; o++) {
    const int8_t *xo = x + o * inner;
    int8_t *yo = y + o * ldy;
    if (!mult) {
      for (i = 0; i < inner; i++) yo[i] = k_q_clamp(xo[i], lo, hi);
      continue;
    }
    for (i = 0; i < inner; i++) yo[i] = k_q_clamp(zy + k_q_rshift((int64_t)(xo[i] - zx) * mult, shift), lo, hi);
  }
}

/* y = table[x + 128]: any unary function of one int8 tensor */
MRTC_FN void k_qlut_i8(int64_t n, const int8_t *x, const int8_t *table, int8_t *y) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = table[(int32_t)x[i] + 128];
}

/* ------------------------------------------ int8 products: shared parts */


/*
 * Convolution and GEMM accumulate int32 sums of int8 products and
 * requantize them as above.  Their weights are packed once, at compile time
 * (op_int8.c; the interpreter packs per call), by k_qconv_pack / k_qgemm_pack:
 * a byte array in the kernel's order, and an int32 table of 3 M + 1
 * entries: per channel [0, M) the initial accumulator, [M, 2M) the bias,
 * [2M, 3M) the multiplier, then [3M] the "safe" flag: 1 when acc + bias
 * cannot leave int32 for any input (|acc| <= K * 128 * 128), so the bias
 * can start the accumulator.  k_qconv_i8 / k_qgemm_i8 take the packed
 * form when MULT is NULL (W = the bytes, BIAS = the table), else the
 * natural one (W rows of K per output channel).  Every path (AVX512-VNNI,
 * AVX2, SSE2, plain C) computes the same int32 sums modulo 2^32 and the
 * same requantization, so all give the same bits:
 *   v = safe ? acc : (int64) acc + bias;  y = clamp(zy + rshift(v * mult, shift) [+ residual]).
 */

MRTC_QI int64_t k_q_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

/* two's complement of U, without implementation-defined conversions */
MRTC_QI int32_t k_q_s32(uint32_t u) { return (int32_t)((int64_t)(u ^ 0x80000000u) - 2147483648LL); }

/* the number of set bits of a 16-bit mask */
MRTC_QI uint32_t k_q_pop16(uint32_t m) {
  m = m - ((m >> 1) & 0x5555u), m = (m & 0x3333u) + ((m >> 2) & 0x3333u), m = (m + (m >> 4)) & 0x0f0fu;
  return (m + (m >> 8)) & 0x1fu;
}

MRTC_QI int32_t k_q_ld32(const void *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* 1 when |acc + bias| < 2^31 for any input: |acc| <= K * 128 * 128 */
MRTC_FN int k_q_bias_safe(int64_t K, int64_t n, const int32_t *bias) {
  int64_t lim = 2147483647 - K * 16384, i;
  if (K >= 131072) return 0;
  for (i = 0; i < n; i++)
    if (bias[i] > lim || bias[i] < -lim) return 0;
  return 1;
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define MRTC_QREQ512 1
typedef struct {
  int fast;
  __m512i h, zy, lo, hi, rh, rmul, zr, hz, lo32, hi32;
  __m128i sh, rsh, sh32;
} KQReq512;

MRTC_FN void k_qreq512_init(KQReq512 *q, int32_t shift, int32_t zy, int32_t lo, int32_t hi, int32_t zr, int32_t rmul,
                            int32_t rshift) {
  q->h = _mm512_set1_epi64((int64_t)1 << (shift - 1)), q->sh = _mm_cvtsi32_si128(shift);
  q->zy = _mm512_set1_epi64(zy), q->lo = _mm512_set1_epi64(lo), q->hi = _mm512_set1_epi64(hi);
  q->rh = _mm512_set1_epi64((int64_t)1 << (rshift - 1)), q->rsh = _mm_cvtsi32_si128(rshift);
  q->rmul = _mm512_set1_epi32(rmul), q->zr = _mm512_set1_epi32(zr);
  /* the common case, "fast": shift >= 33 makes |rshift(acc * mult)| < 2^30, so
   * the sum fits int32 (with the residual's when rshift >= 9: |.| <= 2^30 + 1),
   * and shift <= 54 lets zy * 2^shift join the rounding constant (no overflow) */
  q->fast = shift >= 33 && shift <= 54 && (!rmul || rshift >= 9);
  q->hz = _mm512_set1_epi64(q->fast ? ((int64_t)1 << (shift - 1)) + (int64_t)zy * ((int64_t)1 << shift) : 0);
  q->sh32 = _mm_cvtsi32_si128(q->fast ? shift - 32 : 0);
  q->lo32 = _mm512_set1_epi32(lo), q->hi32 = _mm512_set1_epi32(hi);
}

/* k_q_rshift on 8 int64 lanes: (p + h + (p < 0 ? -1 : 0)) >> s, arithmetic (= round half away from zero) */
MRTC_QI __m512i k_q_rshift8(__m512i p, __m512i h, __m128i s) {
  return _mm512_sra_epi64(_mm512_add_epi64(_mm512_add_epi64(p, h), _mm512_srai_epi64(p, 63)), s);
}

/* 16 lanes: clamp(zy + rshift(acc * mult) [+ rshift((r - zr) * rmul)]); ACC and R int32, MULT int32 per lane */
MRTC_QI __m512i k_qreq16(const KQReq512 *q, __m512i acc, __m512i mult, const __m512i *r) {
  __m512i e = _mm512_mul_epi32(acc, mult), o = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(mult, 32));
  if (q->fast) {
    /* (p + h + zy 2^s - (p < 0)) >> s: zy + the rounded quotient; the odd lanes'
     * shifted by s - 32 put it in their high half */
    __m512i v = _mm512_mask_blend_epi32(0xaaaa, k_q_rshift8(e, q->hz, q->sh), k_q_rshift8(o, q->hz, q->sh32));
    if (r) {
      __m512i d = _mm512_sub_epi32(*r, q->zr);
      __m512i re = k_q_rshift8(_mm512_mul_epi32(d, q->rmul), q->rh, q->rsh);
      __m512i ro = k_q_rshift8(_mm512_mul_epi32(_mm512_srli_epi64(d, 32), q->rmul), q->rh, q->rsh);
      v = _mm512_add_epi32(v, _mm512_mask_blend_epi32(0xaaaa, re, _mm512_slli_epi64(ro, 32)));
    }
    return _mm512_min_epi32(_mm512_max_epi32(v, q->lo32), q->hi32);
  }
  e = _mm512_add_epi64(k_q_rshift8(e, q->h, q->sh), q->zy);
  o = _mm512_add_epi64(k_q_rshift8(o, q->h, q->sh), q->zy);
  if (r) {
    __m512i d = _mm512_sub_epi32(*r, q->zr);
    e = _mm512_add_epi64(e, k_q_rshift8(_mm512_mul_epi32(d, q->rmul), q->rh, q->rsh));
    o = _mm512_add_epi64(o, k_q_rshift8(_mm512_mul_epi32(_mm512_srli_epi64(d, 32), q->rmul), q->rh, q->rsh));
  }
  e = _mm512_min_epi64(_mm512_max_epi64(e, q->lo), q->hi);
  o = _mm512_min_epi64(_mm512_max_epi64(o, q->lo), q->hi);
  return _mm512_mask_blend_epi32(0xaaaa, e, _mm512_slli_epi64(o, 32));
}
#elif defined(__AVX2__)
#define MRTC_QREQ256 1
typedef struct {
  int fast, rbig;
  __m256i hz, lo, hi, rh, rmul, zr;
  __m128i sh32, rsh;
} KQReq256;

/* only the "fast" case of KQReq512 (the caller goes scalar otherwise) */
MRTC_FN void k_qreq256_init(KQReq256 *q, int32_t shift, int32_t zy, int32_t lo, int32_t hi, int32_t zr, int32_t rmul,
                            int32_t rshift) {
  q->fast = shift >= 33 && shift <= 54 && (!rmul || rshift >= 9);
  q->hz = _mm256_set1_epi64x(q->fast ? ((int64_t)1 << (shift - 1)) + (int64_t)zy * ((int64_t)1 << shift) : 0);
  q->sh32 = _mm_cvtsi32_si128(q->fast ? shift - 32 : 0);
  q->lo = _mm256_set1_epi32(lo), q->hi = _mm256_set1_epi32(hi);
  q->rbig = rshift >= 32;
  q->rh = _mm256_set1_epi64x((int64_t)1 << (rshift - 1)), q->rsh = _mm_cvtsi32_si128(q->rbig ? rshift - 32 : rshift);
  q->rmul = _mm256_set1_epi32(rmul), q->zr = _mm256_set1_epi32(zr);
}

/* p + h + (p < 0 ? -1 : 0) on 4 int64 lanes */
MRTC_QI __m256i k_q_round4(__m256i p, __m256i h) {
  return _mm256_add_epi64(_mm256_add_epi64(p, h), _mm256_cmpgt_epi64(_mm256_setzero_si256(), p));
}

/* 8 lanes (fast case): clamp(zy + rshift(acc * mult) [+ rshift((r - zr) * rmul)]) as int32.  AVX2 has
 * no 64-bit arithmetic shift: floor(t / 2^s) = (the high int32 of t) >> (s - 32), which fits int32 */
MRTC_QI __m256i k_qreq8(const KQReq256 *q, __m256i acc, __m256i mult, const __m256i *r) {
  __m256i e = k_q_round4(_mm256_mul_epi32(acc, mult), q->hz);
  __m256i o = k_q_round4(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(mult, 32)), q->hz);
  __m256i v = _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xaa), q->sh32);
  if (r) {
    __m256i d = _mm256_sub_epi32(*r, q->zr);
    __m256i re = k_q_round4(_mm256_mul_epi32(d, q->rmul), q->rh);
    __m256i ro = k_q_round4(_mm256_mul_epi32(_mm256_srli_epi64(d, 32), q->rmul), q->rh);
    if (q->rbig) v = _mm256_add_epi32(v, _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(re, 32), ro, 0xaa), q->rsh));
    else /* rshift <= 32: the low 32 bits of the logical shift are the arithmetic one's */
      v = _mm256_add_epi32(v, _mm256_blend_epi32(_mm256_srl_epi64(re, q->rsh), _mm256_slli_epi64(_mm256_srl_epi64(ro, q->rsh), 32), 0xaa));
  }
  return _mm256_min_epi32(_mm256_max_epi32(v, q->lo), q->hi);
}

/* 8 int32 in [-128, 127] -> 8 bytes */
MRTC_QI __m128i k_q_narrow8(__m256i v) {
  return _mm_packs_epi16(_mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)), _mm_setzero_si128());
}
#endif

/* ------------------------------------------------------- convolution */

typedef struct {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW, G;
  int32_t zx, zy, lo, hi; /* input / output zero points, output clamp (folded Relu / Clip) */
  int32_t shift;          /* of the per-channel multipliers */
  int32_t zr, rmul, rshift; /* fused residual input: zero point, multiplier, shift (rmul 0: none) */
} KQConv;

/*
 * Convolution.  Per image and group the input is first re-laid in scratch as
 * "planes": for each quad of input channels (cq) and each phase (ph, pw) of
 * the stride that a tap uses, an Hq x Wq grid of 4-byte cells, cell (i, j)
 * holding the 4 channels of padded input pixel (ph + SH * i, pw + SW * j) as
 * unsigned bytes x ^ 0x80 (padding = the input zero point; channels past
 * C / G repeat the last one, their weights are 0).  Tap (kh, kw) of output
 * pixel (oh, ow) is cell (oh + kh * DH / SH, ow + kw * DW / SW) of phase
 * (kh * DH % SH, kw * DW % SW): with a grid Wq = OW + (KW - 1) * DW / SW wide,
 * output f = oh * Wq + ow (the "flat" index; columns ow >= OW are computed
 * and dropped) reads cell f plus a per-tap constant: no im2col.  The weights
 * are packed per group in blocks of 64 output channels, [Kq][64][4] (Kq =
 * quads x taps); accumulators start at the table's init[m] (its -128 sum_k w
 * takes the unsigned offset back out).
 *
 * PIXELS in vector lanes (every target): 16 consecutive flat outputs are one
 * 64-byte load per tap and quad, times 4 bytes of each of 6 channels
 * broadcast; a tile is 64 outputs x 6 channels (AVX512-VNNI: vpdpbusd, 24
 * registers; AVX2 / SSE2: bytes zero-extended to int16 and pmaddwd, the 6
 * channels' weights widened once; else plain C).  Stores are contiguous in
 * NCHW, one multiplier per vector.
 * CHANNELS in lanes (AVX512-VNNI, whole blocks of 64, where k_qconv_geo finds
 * the pixel lanes' dropped columns and partial vectors costly: small maps):
 * 6 output pixels' cells broadcast times 4 vectors of a quad row; the bytes
 * are transposed into NCHW at the end.
 * Depthwise (one input channel per group): planes of single bytes, the taps
 * packed in quads [Tq][4] per channel; VNNI interleaves four taps' bytes
 * into quads, AVX2 / SSE2 pairs of taps for pmaddwd.
 */
#define MRTC_QMB 6  /* output channels per pixel-lane tile */
#define MRTC_QFT 64 /* flat outputs per tile: 4 vectors of 16 */

typedef struct {
  int64_t cg, mg, T, Tq, K, dw, esz, Cq, Kq, nb;  /* per group; taps (in quads); depthwise; cell bytes; quads */
  int64_t npr, npc, nph, Hq, Wq, F, FT, Lp, cqs;   /* phases used; grid; flat outputs; plane stride (cells) */
  int64_t small;                                   /* narrow grids: planes filled from a table of cells */
  int64_t nbp, cl;                                 /* packed blocks of 64 channels per group; channel lanes */
  int64_t o_toff, o_vm, o_vs, o_ctab, o_wb, o_ww, o_acc, o_pf, o_ob, o_rb, bytes; /* scratch (after 64-byte alignment) */
} KQGeo;

/* 1 when some tap k < KN has k * D % S == p */
MRTC_FN int k_q_phase_used(int64_t KN, int64_t D, int64_t S, int64_t p) {
  int64_t k;
  for (k = 0; k < KN && k < S; k++)
    if (k * D % S == p) return 1;
  return 0;
}

/* the number of used phases below p: the rank of phase p */
MRTC_FN int64_t k_q_phase_rank(int64_t KN, int64_t D, int64_t S, int64_t p) {
  int64_t q, r = 0;
  for (q = 0; q < p; q++) r += k_q_phase_used(KN, D, S, q);
  return r;
}

MRTC_FN void k_qconv_geo(const KQConv *s, KQGeo *g) {
  int64_t mdh = (s->KH - 1) * s->DH / s->SH, mdw = (s->KW - 1) * s->DW / s->SW, off;
  g->cg = s->C / s->G, g->mg = s->M / s->G, g->T = s->KH * s->KW, g->Tq = (g->T + 3) / 4, g->K = g->cg * g->T;
  g->dw = g->cg == 1, g->esz = g->dw ? 1 : 4;
  g->Cq = (g->cg + 3) / 4, g->Kq = g->Cq * g->T, g->nb = (g->mg + MRTC_QMB - 1) / MRTC_QMB;
  g->npr = k_q_phase_rank(s->KH, s->DH, s->SH, s->SH), g->npc = k_q_phase_rank(s->KW, s->DW, s->SW, s->SW);
  g->nph = g->npr * g->npc;
  g->Hq = s->OH + mdh, g->Wq = s->OW + mdw;
  g->F = s->OH > 0 && s->OW > 0 ? (s->OH - 1) * g->Wq + s->OW : 0;
  g->FT = k_q_up(g->F, MRTC_QFT);
  g->Lp = k_q_up(g->Hq * g->Wq + g->FT - g->F, 16);
  g->cqs = g->nph * g->Lp * g->esz;
  off = k_q_up(g->Cq * g->cqs, 64);
  g->o_toff = off, off += k_q_up(8 * 4 * g->Tq, 64);
  g->o_vm = off, off += k_q_up(4 * (g->FT / 16), 64);
  g->o_vs = off, off += k_q_up(4 * (g->FT / 16), 64);
  g->small = g->Wq <= 16;
  g->o_ctab = off, off += g->small ? k_q_up(4 * g->nph * g->Hq * g->Wq, 64) : 0;
  g->o_wb = off, off += k_q_up(g->dw ? 4 * g->Tq : 4 * g->Kq * MRTC_QMB, 64);
  g->o_ww = off, off += g->dw ? 0 : 16 * g->Kq * MRTC_QMB;
  g->o_acc = off, off += 4 * MRTC_QMB * MRTC_QFT;
  /* channels in lanes (VNNI, whole blocks of 64) when pixel lanes waste more
   * lanes: flat vectors of 16 with their dropped columns, and blocks of 6
   * channels, against pixels in sixes */
  g->nbp = (g->mg + 63) / 64;
  {
    const int64_t P = s->OH * s->OW, lpl = 16 * ((g->F + 15) / 16) * MRTC_QMB * g->nb, lcl = 6 * ((P + 5) / 6) * g->mg;
    g->cl = !g->dw && g->mg >= 64 && 100 * lpl > 106 * lcl;
    g->o_pf = off, off += g->cl ? k_q_up(4 * P, 64) : 0;
    g->o_ob = off, off += g->cl ? k_q_up(64 * P, 64) : 0;
    g->o_rb = off, off += g->cl ? k_q_up(64 * P, 64) : 0;
  }
  g->bytes = off + 64;
}

/* scratch bytes of k_qconv_i8 */
MRTC_FN int64_t k_qconv_scratch(const KQConv *s) {
  KQGeo g;
  k_qconv_geo(s, &g);
  return g.bytes;
}

/* one block: NM (<= MRTC_QMB) channels of natural weights W (rows of K) into WB
 * ([Kq][MRTC_QMB][4], zeros past the channels), and their initial accumulators */
MRTC_FN void k_qconv_pack_block(const KQGeo *g, const int8_t *w, int64_t nm, const int32_t *bias, int safe, int8_t *wb,
                                int32_t *init) {
  const int64_t K = g->K, T = g->T, cg = g->cg;
  int64_t j, cq, t, i, k;
  for (j = 0; j < MRTC_QMB; j++) {
    uint32_t a = 0;
    if (j < nm) {
      for (k = 0; k < K; k++) a += (uint32_t)(int32_t)w[j * K + k];
      a = (safe ? (uint32_t)bias[j] : 0u) - 128u * a;
    }
    init[j] = k_q_s32(a);
    for (cq = 0; cq < g->Cq; cq++)
      for (t = 0; t < T; t++)
        for (i = 0; i < 4; i++) {
          int64_t c = cq * 4 + i;
          wb[((cq * T + t) * MRTC_QMB + j) * 4 + i] = j < nm && c < cg ? w[j * K + c * T + t] : 0;
        }
  }
}

/* depthwise: one channel's taps, zero-padded to quads, and its initial accumulator */
MRTC_FN int32_t k_qconv_pack_dw(const KQGeo *g, const int8_t *w, int32_t bias, int safe, int8_t *wq) {
  uint32_t a = 0;
  int64_t t;
  for (t = 0; t < 4 * g->Tq; t++) {
    wq[t] = t < g->T ? w[t] : 0;
    a += (uint32_t)(int32_t)wq[t];
  }
  return k_q_s32((safe ? (uint32_t)bias : 0u) - 128u * a);
}

/* packed weight bytes (k_qconv_pack) */
MRTC_FN int64_t k_qconv_pack_bytes(const KQConv *s) {
  KQGeo g;
  k_qconv_geo(s, &g);
  return g.dw ? s->M * g.Tq * 4 : s->M * g.Kq * 4 + 64;
}

/* W [M][C/G][KH][KW], BIAS, MULT -> WP (k_qconv_pack_bytes) and TAB (3 M + 1
 * int32, [0, M): the initial accumulator, (safe ? bias : 0) - 128 * sum_k w).
 * WP: depthwise [M][Tq][4]; else per group blocks of 64 output channels (the
 * last one narrower), each [Kq][width][4], then 64 bytes of slack: the pixel
 * lane kernels read 6 channels of a quad row (past the block's width into
 * the next row at its end), the channel lane one whole rows of 64. */
MRTC_FN void k_qconv_pack(const KQConv *s, const int8_t *w, const int32_t *bias, const int32_t *mult, int8_t *wp, int32_t *tab) {
  KQGeo g;
  int64_t m, k, q, c, i;
  int safe;
  k_qconv_geo(s, &g);
  safe = k_q_bias_safe(g.K, s->M, bias);
  for (m = 0; m < s->M; m++) tab[s->M + m] = bias[m], tab[2 * s->M + m] = mult[m];
  tab[3 * s->M] = safe;
  if (g.dw) {
    for (m = 0; m < s->M; m++) tab[m] = k_qconv_pack_dw(&g, w + m * g.T, bias[m], safe, wp + m * g.Tq * 4);
    return;
  }
  for (m = 0; m < s->M; m++) {
    uint32_t a = 0;
    for (k = 0; k < g.K; k++) a += (uint32_t)(int32_t)w[m * g.K + k];
    tab[m] = k_q_s32((safe ? (uint32_t)bias[m] : 0u) - 128u * a);
  }
  for (m = 0; m < s->M; m += 64) { /* blocks never straddle groups: mg is their stride */
    const int64_t gi = m / g.mg, b0 = m - gi * g.mg, bw = g.mg - b0 < 64 ? g.mg - b0 : 64;
    int8_t *o = wp + m * g.Kq * 4;
    for (q = 0; q < g.Kq; q++)
      for (c = 0; c < bw; c++)
        for (i = 0; i < 4; i++) {
          int64_t ch = q / g.T * 4 + i;
          o[(q * bw + c) * 4 + i] = ch < g.cg ? w[(m + c) * g.K + ch * g.T + q % g.T] : 0;
        }
    if (bw < 64) m += bw - 64; /* the next group starts after a narrow block */
  }
  memset(wp + s->M * g.Kq * 4, 0, 64);
}

/* the planes of one image and group (XG: its first channel); narrow grids
 * cell by cell from CTAB (k_qconv_tables), else row by row */
MRTC_FN void k_qconv_planes(const KQConv *s, const KQGeo *g, const int8_t *xg, const int32_t *ctab, uint8_t *pl) {
  const int64_t H = s->H, W = s->W, SH = s->SH, SW = s->SW, Wq = g->Wq, esz = g->esz, HW = H * W;
  const uint8_t pad = (uint8_t)(s->zx ^ 0x80);
  int64_t cq, ph, pw, i, j;
  if (g->small) {
    const int64_t nc = g->Hq * Wq, cl = g->cg - 1;
    for (cq = 0; cq < g->Cq; cq++) {
      const int64_t c = 4 * cq;
      const int8_t *s0 = xg + (c < cl ? c : cl) * HW, *s1 = xg + (c + 1 < cl ? c + 1 : cl) * HW;
      const int8_t *s2 = xg + (c + 2 < cl ? c + 2 : cl) * HW, *s3 = xg + (c + 3 < cl ? c + 3 : cl) * HW;
      for (ph = 0; ph < g->nph; ph++) {
        uint8_t *p = pl + cq * g->cqs + ph * g->Lp * esz;
        const int32_t *ct = ctab + ph * nc;
        if (g->dw)
          for (i = 0; i < nc; i++) p[i] = ct[i] < 0 ? pad : (uint8_t)(s0[ct[i]] ^ 0x80);
        else
          for (i = 0; i < nc; i++) {
            int32_t o = ct[i];
            if (o < 0) p[4 * i] = p[4 * i + 1] = p[4 * i + 2] = p[4 * i + 3] = pad;
            else {
              p[4 * i] = (uint8_t)(s0[o] ^ 0x80), p[4 * i + 1] = (uint8_t)(s1[o] ^ 0x80);
              p[4 * i + 2] = (uint8_t)(s2[o] ^ 0x80), p[4 * i + 3] = (uint8_t)(s3[o] ^ 0x80);
            }
          }
        memset(p + nc * esz, pad, (size_t)((g->Lp - nc) * esz));
      }
    }
    return;
  }
  for (cq = 0; cq < g->Cq; cq++)
    for (ph = 0; ph < SH; ph++) {
      if (!k_q_phase_used(s->KH, s->DH, SH, ph)) continue;
      for (pw = 0; pw < SW; pw++) {
        int64_t id, jlo, jhi;
        uint8_t *p;
        if (!k_q_phase_used(s->KW, s->DW, SW, pw)) continue;
        id = k_q_phase_rank(s->KH, s->DH, SH, ph) * g->npc + k_q_phase_rank(s->KW, s->DW, SW, pw);
        p = pl + cq * g->cqs + id * g->Lp * esz;
        /* columns j with pw + SW * j - PL inside [0, W) */
        jlo = s->PL - pw <= 0 ? 0 : (s->PL - pw + SW - 1) / SW;
        jhi = W + s->PL - pw <= 0 ? 0 : (W + s->PL - pw + SW - 1) / SW;
        if (jlo > Wq) jlo = Wq;
        if (jhi > Wq) jhi = Wq;
        if (jhi < jlo) jhi = jlo;
        for (i = 0; i < g->Hq; i++, p += Wq * esz) {
          int64_t r = ph + SH * i - s->PT, c0 = pw + SW * jlo - s->PL, n = jhi - jlo;
          if (r < 0 || r >= H || !n) {
            memset(p, pad, (size_t)(Wq * esz));
            continue;
          }
          memset(p, pad, (size_t)(jlo * esz));
          memset(p + jhi * esz, pad, (size_t)((Wq - jhi) * esz));
          if (g->dw) {
            const int8_t *src = xg + r * W + c0;
            uint8_t *d = p + jlo;
            j = 0;
#if defined(__SSE2__)
            {
              const __m128i f = _mm_set1_epi8((char)0x80), lo = _mm_set1_epi16(0xff);
              if (SW == 1)
                for (; j + 16 <= n; j += 16)
                  _mm_storeu_si128((__m128i *)(d + j), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + j)), f));
              else if (SW == 2) /* even bytes of 32, inside the row while c0 + 2 j + 32 <= W */
                for (; j + 16 <= n && c0 + 2 * j + 32 <= W; j += 16)
                  _mm_storeu_si128((__m128i *)(d + j),
                                   _mm_xor_si128(_mm_packus_epi16(_mm_and_si128(_mm_loadu_si128((const __m128i *)(src + 2 * j)), lo),
                                                                  _mm_and_si128(_mm_loadu_si128((const __m128i *)(src + 2 * j + 16)), lo)),
                                                 f));
            }
#endif
            for (; j < n; j++) d[j] = (uint8_t)(src[j * SW] ^ 0x80);
          } else {
            const int8_t *s0, *s1, *s2, *s3;
            uint8_t *d = p + jlo * 4;
            int64_t c = cq * 4, cl = g->cg - 1;
            s0 = xg + (c < cl ? c : cl) * HW + r * W + c0;
            s1 = xg + (c + 1 < cl ? c + 1 : cl) * HW + r * W + c0;
            s2 = xg + (c + 2 < cl ? c + 2 : cl) * HW + r * W + c0;
            s3 = xg + (c + 3 < cl ? c + 3 : cl) * HW + r * W + c0;
            j = 0;
#if defined(__SSE2__)
            if (SW == 1) {
              const __m128i f = _mm_set1_epi8((char)0x80);
              for (; j + 16 <= n; j += 16) {
                __m128i a = _mm_loadu_si128((const __m128i *)(s0 + j)), b = _mm_loadu_si128((const __m128i *)(s1 + j));
                __m128i e = _mm_loadu_si128((const __m128i *)(s2 + j)), h = _mm_loadu_si128((const __m128i *)(s3 + j));
                __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
                __m128i eh0 = _mm_unpacklo_epi8(e, h), eh1 = _mm_unpackhi_epi8(e, h);
                _mm_storeu_si128((__m128i *)(d + 4 * j), _mm_xor_si128(_mm_unpacklo_epi16(ab0, eh0), f));
                _mm_storeu_si128((__m128i *)(d + 4 * j + 16), _mm_xor_si128(_mm_unpackhi_epi16(ab0, eh0), f));
                _mm_storeu_si128((__m128i *)(d + 4 * j + 32), _mm_xor_si128(_mm_unpacklo_epi16(ab1, eh1), f));
                _mm_storeu_si128((__m128i *)(d + 4 * j + 48), _mm_xor_si128(_mm_unpackhi_epi16(ab1, eh1), f));
              }
            } else if (SW == 2) {
              const __m128i f = _mm_set1_epi8((char)0x80), lo = _mm_set1_epi16(0xff);
#define MRTC_QEVEN(q) _mm_packus_epi16(_mm_and_si128(_mm_loadu_si128((const __m128i *)((q) + 2 * j)), lo), \
                                       _mm_and_si128(_mm_loadu_si128((const __m128i *)((q) + 2 * j + 16)), lo))
              /* 32 bytes from column c0 + 2 j: inside the row while c0 + 2 j + 32 <= W */
              for (; j + 16 <= n && c0 + 2 * j + 32 <= W; j += 16) {
                __m128i a = MRTC_QEVEN(s0), b = MRTC_QEVEN(s1), e = MRTC_QEVEN(s2), h = MRTC_QEVEN(s3);
                __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
                __m128i eh0 = _mm_unpacklo_epi8(e, h), eh1 = _mm_unpackhi_epi8(e, h);
                _mm_storeu_si128((__m128i *)(d + 4 * j), _mm_xor_si128(_mm_unpacklo_epi16(ab0, eh0), f));
                _mm_storeu_si128((__m128i *)(d + 4 * j + 16), _mm_xor_si128(_mm_unpackhi_epi16(ab0, eh0), f));
                _mm_storeu_si128((__m128i *)(d + 4 * j + 32), _mm_xor_si128(_mm_unpacklo_epi16(ab1, eh1), f));
                _mm_storeu_si128((__m128i *)(d + 4 * j + 48), _mm_xor_si128(_mm_unpackhi_epi16(ab1, eh1), f));
              }
#undef MRTC_QEVEN
            }
#endif
            for (; j < n; j++) {
              d[4 * j] = (uint8_t)(s0[j * SW] ^ 0x80), d[4 * j + 1] = (uint8_t)(s1[j * SW] ^ 0x80);
              d[4 * j + 2] = (uint8_t)(s2[j * SW] ^ 0x80), d[4 * j + 3] = (uint8_t)(s3[j * SW] ^ 0x80);
            }
          }
        }
        /* the rest of the plane: read only for dropped outputs */
        memset(p, pad, (size_t)((g->Lp - g->Hq * Wq) * esz));
      }
    }
}

/* per call: tap offsets (bytes from a plane set's start), and per vector of 16
 * flat outputs the mask of kept ones and the output index of the first */
MRTC_FN void k_qconv_tables(const KQConv *s, const KQGeo *g, int64_t *toff, int32_t *vm, int32_t *vs, int32_t *ctab) {
  int64_t kh, kw, f, col = 0, cnt = 0;
  if (g->small) { /* per phase and cell, the input offset (row * W + column) or -1 for padding */
    int64_t ph, pw, i, j;
    for (ph = 0; ph < s->SH; ph++)
      for (pw = 0; pw < s->SW; pw++) {
        int32_t *ct;
        if (!k_q_phase_used(s->KH, s->DH, s->SH, ph) || !k_q_phase_used(s->KW, s->DW, s->SW, pw)) continue;
        ct = ctab + (k_q_phase_rank(s->KH, s->DH, s->SH, ph) * g->npc + k_q_phase_rank(s->KW, s->DW, s->SW, pw)) * g->Hq * g->Wq;
        for (i = 0; i < g->Hq; i++)
          for (j = 0; j < g->Wq; j++) {
            int64_t r = ph + s->SH * i - s->PT, c = pw + s->SW * j - s->PL;
            ct[i * g->Wq + j] = r >= 0 && r < s->H && c >= 0 && c < s->W ? (int32_t)(r * s->W + c) : -1;
          }
      }
  }
  for (kh = 0; kh < s->KH; kh++)
    for (kw = 0; kw < s->KW; kw++) {
      int64_t a = kh * s->DH, b = kw * s->DW;
      int64_t id = k_q_phase_rank(s->KH, s->DH, s->SH, a % s->SH) * g->npc + k_q_phase_rank(s->KW, s->DW, s->SW, b % s->SW);
      toff[kh * s->KW + kw] = (id * g->Lp + a / s->SH * g->Wq + b / s->SW) * g->esz;
    }
  for (f = g->T; f < 4 * g->Tq; f++) toff[f] = toff[0]; /* taps of weight 0 (depthwise quads) */
  for (f = 0; f < g->FT; f++) {
    if (!(f & 15)) vm[f >> 4] = 0, vs[f >> 4] = (int32_t)cnt;
    if (f < g->F && col < s->OW) vm[f >> 4] |= 1 << (f & 15), cnt++;
    if (++col == g->Wq) col = 0;
  }
}

/* ---- micro-kernels: acc[j * MRTC_QFT + p] = init[j] + sum over quads and taps,
 * for the NV vectors of 16 flat outputs at XB (planes + 4 * f0) */

#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define MRTC_QVNNI 1
/* stores the 6 x 4 accumulator vectors a00..a53 of a VNNI micro-kernel: row j at ACC + j * STRIDE */
#define MRTC_QST4(p, r0, r1, r2, r3) \
  _mm512_storeu_si512((void *)(p), r0), _mm512_storeu_si512((void *)((p) + 16), r1), \
  _mm512_storeu_si512((void *)((p) + 32), r2), _mm512_storeu_si512((void *)((p) + 48), r3)
#define MRTC_QST24(acc, stride)                                                                      \
  MRTC_QST4((acc), a00, a01, a02, a03), MRTC_QST4((acc) + (stride), a10, a11, a12, a13),             \
  MRTC_QST4((acc) + 2 * (stride), a20, a21, a22, a23), MRTC_QST4((acc) + 3 * (stride), a30, a31, a32, a33), \
  MRTC_QST4((acc) + 4 * (stride), a40, a41, a42, a43), MRTC_QST4((acc) + 5 * (stride), a50, a51, a52, a53)
#define MRTC_QBC(j) _mm512_set1_epi32(k_q_ld32(wb + 4 * (j)))
MRTC_FN void k_qmk_vnni4(const uint8_t *xb, int64_t cqs, const int64_t *toff, int64_t T, int64_t Cq, const int8_t *wb,
                         int64_t ws, const int32_t *init, int32_t *acc) {
  __m512i a00 = _mm512_set1_epi32(init[0]), a01 = a00, a02 = a00, a03 = a00;
  __m512i a10 = _mm512_set1_epi32(init[1]), a11 = a10, a12 = a10, a13 = a10;
  __m512i a20 = _mm512_set1_epi32(init[2]), a21 = a20, a22 = a20, a23 = a20;
  __m512i a30 = _mm512_set1_epi32(init[3]), a31 = a30, a32 = a30, a33 = a30;
  __m512i a40 = _mm512_set1_epi32(init[4]), a41 = a40, a42 = a40, a43 = a40;
  __m512i a50 = _mm512_set1_epi32(init[5]), a51 = a50, a52 = a50, a53 = a50;
  int64_t cq, t;
  for (cq = 0; cq < Cq; cq++, xb += cqs)
    for (t = 0; t < T; t++, wb += ws) {
      const uint8_t *p = xb + toff[t];
      __m512i x0 = _mm512_loadu_si512((const void *)p), x1 = _mm512_loadu_si512((const void *)(p + 64));
      __m512i x2 = _mm512_loadu_si512((const void *)(p + 128)), x3 = _mm512_loadu_si512((const void *)(p + 192)), b;
#define MRTC_QROW(j, r0, r1, r2, r3) \
  b = MRTC_QBC(j), r0 = _mm512_dpbusd_epi32(r0, x0, b), r1 = _mm512_dpbusd_epi32(r1, x1, b), \
  r2 = _mm512_dpbusd_epi32(r2, x2, b), r3 = _mm512_dpbusd_epi32(r3, x3, b)
      MRTC_QROW(0, a00, a01, a02, a03);
      MRTC_QROW(1, a10, a11, a12, a13);
      MRTC_QROW(2, a20, a21, a22, a23);
      MRTC_QROW(3, a30, a31, a32, a33);
      MRTC_QROW(4, a40, a41, a42, a43);
      MRTC_QROW(5, a50, a51, a52, a53);
#undef MRTC_QROW
    }
  MRTC_QST24(acc, MRTC_QFT);
}

/* one vector of 16 (the tail of the flat outputs) */
MRTC_FN void k_qmk_vnni1(const uint8_t *xb, int64_t cqs, const int64_t *toff, int64_t T, int64_t Cq, const int8_t *wb,
                         int64_t ws, const int32_t *init, int32_t *acc) {
  __m512i a0 = _mm512_set1_epi32(init[0]), a1 = _mm512_set1_epi32(init[1]), a2 = _mm512_set1_epi32(init[2]);
  __m512i a3 = _mm512_set1_epi32(init[3]), a4 = _mm512_set1_epi32(init[4]), a5 = _mm512_set1_epi32(init[5]);
  int64_t cq, t;
  for (cq = 0; cq < Cq; cq++, xb += cqs)
    for (t = 0; t < T; t++, wb += ws) {
      __m512i x0 = _mm512_loadu_si512((const void *)(xb + toff[t]));
      a0 = _mm512_dpbusd_epi32(a0, x0, MRTC_QBC(0)), a1 = _mm512_dpbusd_epi32(a1, x0, MRTC_QBC(1));
      a2 = _mm512_dpbusd_epi32(a2, x0, MRTC_QBC(2)), a3 = _mm512_dpbusd_epi32(a3, x0, MRTC_QBC(3));
      a4 = _mm512_dpbusd_epi32(a4, x0, MRTC_QBC(4)), a5 = _mm512_dpbusd_epi32(a5, x0, MRTC_QBC(5));
    }
  _mm512_storeu_si512((void *)acc, a0), _mm512_storeu_si512((void *)(acc + MRTC_QFT), a1);
  _mm512_storeu_si512((void *)(acc + 2 * MRTC_QFT), a2), _mm512_storeu_si512((void *)(acc + 3 * MRTC_QFT), a3);
  _mm512_storeu_si512((void *)(acc + 4 * MRTC_QFT), a4), _mm512_storeu_si512((void *)(acc + 5 * MRTC_QFT), a5);
}
#undef MRTC_QBC

#elif defined(__SSE2__)
/* the weights of a block (quad rows WS bytes apart) as int16 (w0 w1 w2 w3 w0 w1 w2 w3)
 * per quad and channel, [Kq][MRTC_QMB][8] (16-byte aligned WW) */
MRTC_FN void k_qconv_widen(int64_t Kq, const int8_t *wb, int64_t ws, int16_t *ww) {
  int64_t q, j, i;
  for (q = 0; q < Kq; q++, wb += ws)
    for (j = 0; j < MRTC_QMB; j++, ww += 8)
      for (i = 0; i < 4; i++) ww[i] = ww[i + 4] = wb[4 * j + i];
}

#if defined(__AVX2__)
/* 8 outputs (two groups of 4 pixels x 4 bytes, zero-extended) x 6 channels per pass */
MRTC_FN void k_qmk_avx2(const uint8_t *xb, int64_t cqs, const int64_t *toff, int64_t T, int64_t Cq, const int16_t *ww,
                        const int32_t *init, int32_t *acc, int nv) {
  int64_t p8, cq, t;
  for (p8 = 0; p8 < 16 * nv; p8 += 8) {
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256i a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    const uint8_t *xc = xb + 4 * p8;
    const int16_t *wq = ww;
    for (cq = 0; cq < Cq; cq++, xc += cqs)
      for (t = 0; t < T; t++, wq += 8 * MRTC_QMB) {
        const uint8_t *p = xc + toff[t];
        __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
        __m256i x1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 16))), v;
#define MRTC_QROW(j, r0, r1) \
  v = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)(wq + 8 * (j)))), \
  r0 = _mm256_add_epi32(r0, _mm256_madd_epi16(x0, v)), r1 = _mm256_add_epi32(r1, _mm256_madd_epi16(x1, v))
        MRTC_QROW(0, a00, a01);
        MRTC_QROW(1, a10, a11);
        MRTC_QROW(2, a20, a21);
        MRTC_QROW(3, a30, a31);
        MRTC_QROW(4, a40, a41);
        MRTC_QROW(5, a50, a51);
#undef MRTC_QROW
      }
    /* pairs of partial sums -> pixels 0..7 in order */
#define MRTC_QFIN(j, r0, r1) \
  _mm256_storeu_si256((__m256i *)(acc + (j) * MRTC_QFT + p8), \
                      _mm256_add_epi32(_mm256_permute4x64_epi64(_mm256_hadd_epi32(r0, r1), 0xd8), _mm256_set1_epi32(init[j])))
    MRTC_QFIN(0, a00, a01);
    MRTC_QFIN(1, a10, a11);
    MRTC_QFIN(2, a20, a21);
    MRTC_QFIN(3, a30, a31);
    MRTC_QFIN(4, a40, a41);
    MRTC_QFIN(5, a50, a51);
#undef MRTC_QFIN
  }
}
#else
/* 4 outputs (16 bytes, zero-extended in two halves) x 6 channels per pass */
MRTC_FN void k_qmk_sse2(const uint8_t *xb, int64_t cqs, const int64_t *toff, int64_t T, int64_t Cq, const int16_t *ww,
                        const int32_t *init, int32_t *acc, int nv) {
  const __m128i z = _mm_setzero_si128();
  int64_t p4, cq, t;
  for (p4 = 0; p4 < 16 * nv; p4 += 4) {
    __m128i l0 = z, h0 = z, l1 = z, h1 = z, l2 = z, h2 = z, l3 = z, h3 = z, l4 = z, h4 = z, l5 = z, h5 = z;
    const uint8_t *xc = xb + 4 * p4;
    const int16_t *wq = ww;
    for (cq = 0; cq < Cq; cq++, xc += cqs)
      for (t = 0; t < T; t++, wq += 8 * MRTC_QMB) {
        __m128i x = _mm_loadu_si128((const __m128i *)(xc + toff[t])), lo = _mm_unpacklo_epi8(x, z), hi = _mm_unpackhi_epi8(x, z), v;
#define MRTC_QROW(j, l, h) \
  v = _mm_load_si128((const __m128i *)(wq + 8 * (j))), l = _mm_add_epi32(l, _mm_madd_epi16(lo, v)), \
  h = _mm_add_epi32(h, _mm_madd_epi16(hi, v))
        MRTC_QROW(0, l0, h0);
        MRTC_QROW(1, l1, h1);
        MRTC_QROW(2, l2, h2);
        MRTC_QROW(3, l3, h3);
        MRTC_QROW(4, l4, h4);
        MRTC_QROW(5, l5, h5);
#undef MRTC_QROW
      }
#define MRTC_QFIN(j, l, h) \
  _mm_storeu_si128( \
      (__m128i *)(acc + (j) * MRTC_QFT + p4), \
      _mm_add_epi32(_mm_add_epi32(_mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(l), _mm_castsi128_ps(h), 0x88)), \
                                  _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(l), _mm_castsi128_ps(h), 0xdd))), \
                    _mm_set1_epi32(init[j])))
    MRTC_QFIN(0, l0, h0);
    MRTC_QFIN(1, l1, h1);
    MRTC_QFIN(2, l2, h2);
    MRTC_QFIN(3, l3, h3);
    MRTC_QFIN(4, l4, h4);
    MRTC_QFIN(5, l5, h5);
#undef MRTC_QFIN
  }
}
#endif
#endif

/* portable: the same sums in uint32 */
MRTC_FN void k_qmk_c(const uint8_t *xb, int64_t cqs, const int64_t *toff, int64_t T, int64_t Cq, const int8_t *wb,
                     int64_t ws, const int32_t *init, int32_t *acc, int nv) {
  uint32_t a[MRTC_QMB][MRTC_QFT];
  int64_t np = 16 * nv, cq, t, p, j;
  for (j = 0; j < MRTC_QMB; j++)
    for (p = 0; p < np; p++) a[j][p] = (uint32_t)init[j];
  for (cq = 0; cq < Cq; cq++, xb += cqs)
    for (t = 0; t < T; t++, wb += ws) {
      const uint8_t *xp = xb + toff[t];
      for (p = 0; p < np; p++) {
        int32_t x0 = xp[4 * p], x1 = xp[4 * p + 1], x2 = xp[4 * p + 2], x3 = xp[4 * p + 3];
        for (j = 0; j < MRTC_QMB; j++)
          a[j][p] += (uint32_t)(wb[4 * j] * x0 + wb[4 * j + 1] * x1 + wb[4 * j + 2] * x2 + wb[4 * j + 3] * x3);
      }
    }
  for (j = 0; j < MRTC_QMB; j++)
    for (p = 0; p < np; p++) acc[j * MRTC_QFT + p] = k_q_s32(a[j][p]);
}

/* depthwise: acc[p] = init + sum_t w[t] * plane[toff[t] + f0 + p] over the
 * taps in quads (W: 4 * Tq bytes, zeros past T; TQ4: the tap offsets, past T
 * the first tap's) for 16 * NV outputs (XB = plane + f0) */
MRTC_FN void k_qmk_dw(const uint8_t *xb, const int64_t *tq4, int64_t Tq, const int8_t *w, int32_t init, int32_t *acc, int nv) {
  int64_t q, p;
#if defined(MRTC_QVNNI)
  /* four taps' bytes interleaved into quads (unpacks work within 128-bit lanes:
   * vector i holds pixels 4i..4i+3 of each 16), one vpdpbusd per quad and vector */
  __m512i z0 = _mm512_set1_epi32(init), z1 = z0, z2 = z0, z3 = z0, t0, t1, t2, t3;
  for (q = 0; q < Tq; q++, tq4 += 4) {
    __m512i a = _mm512_loadu_si512((const void *)(xb + tq4[0])), b = _mm512_loadu_si512((const void *)(xb + tq4[1]));
    __m512i c = _mm512_loadu_si512((const void *)(xb + tq4[2])), d = _mm512_loadu_si512((const void *)(xb + tq4[3]));
    __m512i ab0 = _mm512_unpacklo_epi8(a, b), ab1 = _mm512_unpackhi_epi8(a, b), cd0 = _mm512_unpacklo_epi8(c, d);
    __m512i cd1 = _mm512_unpackhi_epi8(c, d), v = _mm512_set1_epi32(k_q_ld32(w + 4 * q));
    z0 = _mm512_dpbusd_epi32(z0, _mm512_unpacklo_epi16(ab0, cd0), v);
    z1 = _mm512_dpbusd_epi32(z1, _mm512_unpackhi_epi16(ab0, cd0), v);
    z2 = _mm512_dpbusd_epi32(z2, _mm512_unpacklo_epi16(ab1, cd1), v);
    z3 = _mm512_dpbusd_epi32(z3, _mm512_unpackhi_epi16(ab1, cd1), v);
  }
  /* 4 x 4 transpose of 128-bit blocks back to pixel order */
  t0 = _mm512_shuffle_i32x4(z0, z1, 0x44), t1 = _mm512_shuffle_i32x4(z0, z1, 0xee);
  t2 = _mm512_shuffle_i32x4(z2, z3, 0x44), t3 = _mm512_shuffle_i32x4(z2, z3, 0xee);
  _mm512_storeu_si512((void *)acc, _mm512_shuffle_i32x4(t0, t2, 0x88));
  _mm512_storeu_si512((void *)(acc + 16), _mm512_shuffle_i32x4(t0, t2, 0xdd));
  _mm512_storeu_si512((void *)(acc + 32), _mm512_shuffle_i32x4(t1, t3, 0x88));
  _mm512_storeu_si512((void *)(acc + 48), _mm512_shuffle_i32x4(t1, t3, 0xdd));
  (void)p, (void)nv;
#elif defined(__AVX2__)
  /* pairs of taps as int16 pairs, pmaddwd (unpacks within lanes: lo = pixels 0-3, 8-11) */
  for (p = 0; p < 16 * nv; p += 16) {
    __m256i lo = _mm256_set1_epi32(init), hi = lo;
    const uint8_t *xp = xb + p;
    for (q = 0; q < 2 * Tq; q++) {
      __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xp + tq4[2 * q])));
      __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xp + tq4[2 * q + 1])));
      __m256i v = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)w[2 * q + 1] << 16) | (uint16_t)w[2 * q]));
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), v));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), v));
    }
    _mm256_storeu_si256((__m256i *)(acc + p), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256((__m256i *)(acc + p + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
  }
#elif defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (p = 0; p < 16 * nv; p += 8) {
    __m128i lo = _mm_set1_epi32(init), hi = lo;
    const uint8_t *xp = xb + p;
    for (q = 0; q < 2 * Tq; q++) {
      __m128i a = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(xp + tq4[2 * q])), zero);
      __m128i b = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(xp + tq4[2 * q + 1])), zero);
      __m128i v = _mm_set1_epi32((int32_t)(((uint32_t)(uint16_t)w[2 * q + 1] << 16) | (uint16_t)w[2 * q]));
      lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(a, b), v));
      hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(a, b), v));
    }
    _mm_storeu_si128((__m128i *)(acc + p), lo);
    _mm_storeu_si128((__m128i *)(acc + p + 4), hi);
  }
#else
  uint32_t a[MRTC_QFT];
  int64_t np = 16 * nv;
  for (p = 0; p < np; p++) a[p] = (uint32_t)init;
  for (q = 0; q < 4 * Tq; q++) {
    const uint8_t *xq = xb + tq4[q];
    int32_t wt = w[q];
    for (p = 0; p < np; p++) a[p] += (uint32_t)(wt * xq[p]);
  }
  for (p = 0; p < np; p++) acc[p] = k_q_s32(a[p]);
#endif
}

/* ---- requantization of a tile */

/* the kept outputs of NV vectors of ACC (NM channel rows MRTC_QFT apart) into
 * Y (channel rows P apart), flat vector index VI0; BIAS and MULT from the
 * block's first channel */
MRTC_FN void k_qconv_store(const KQConv *s, const int32_t *acc, int64_t nm, int64_t vi0, int nv, const int32_t *vm, const int32_t *vs,
                           int safe, const int32_t *bias, const int32_t *mult, const int8_t *res, int8_t *y, int64_t P) {
  int64_t j, v, i, o;
#if defined(MRTC_QREQ512)
  KQReq512 q;
  k_qreq512_init(&q, s->shift, s->zy, s->lo, s->hi, s->zr, s->rmul, s->rshift);
#elif defined(MRTC_QREQ256)
  KQReq256 q;
  k_qreq256_init(&q, s->shift, s->zy, s->lo, s->hi, s->zr, s->rmul, s->rshift);
#endif
  for (j = 0; j < nm; j++) {
    int8_t *yj = y + j * P;
    const int8_t *rj = res ? res + j * P : 0;
#if defined(MRTC_QREQ512)
    const __m512i mv = _mm512_set1_epi32(mult[j]);
#elif defined(MRTC_QREQ256)
    const __m256i mv = _mm256_set1_epi32(mult[j]);
#endif
    for (v = 0; v < nv; v++) {
      const int32_t *a = acc + j * MRTC_QFT + 16 * v;
      int32_t mk = vm[vi0 + v], st = vs[vi0 + v];
      if (!mk) continue;
#if defined(MRTC_QREQ512)
      if (safe) {
        __m512i rv, out;
        if (mk == 0xffff) { /* all 16 kept: plain loads and stores */
          if (rj) rv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(rj + st)));
          out = k_qreq16(&q, _mm512_loadu_si512((const void *)a), mv, rj ? &rv : 0);
          _mm_storeu_si128((__m128i *)(yj + st), _mm512_cvtepi32_epi8(out));
        } else { /* the kept lanes, compressed */
          __mmask16 k = (__mmask16)mk, kc = (__mmask16)((1u << k_q_pop16((uint32_t)mk)) - 1);
          if (rj) rv = _mm512_maskz_expand_epi32(k, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(kc, rj + st)));
          out = k_qreq16(&q, _mm512_loadu_si512((const void *)a), mv, rj ? &rv : 0);
          _mm_mask_storeu_epi8(yj + st, kc, _mm512_cvtepi32_epi8(_mm512_maskz_compress_epi32(k, out)));
        }
        continue;
      }
#elif defined(MRTC_QREQ256)
      if (safe && q.fast) {
        __m256i r0, r1, o0, o1;
        int8_t t8[16];
        int32_t rt[16];
        if (rj && mk == 0xffff) {
          r0 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(rj + st)));
          r1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(rj + st + 8)));
        } else if (rj) { /* the kept lanes' residuals, in place */
          for (i = 0, o = st; i < 16; i++) rt[i] = mk >> i & 1 ? rj[o++] : 0;
          r0 = _mm256_loadu_si256((const __m256i *)rt), r1 = _mm256_loadu_si256((const __m256i *)(rt + 8));
        }
        o0 = k_qreq8(&q, _mm256_loadu_si256((const __m256i *)a), mv, rj ? &r0 : 0);
        o1 = k_qreq8(&q, _mm256_loadu_si256((const __m256i *)(a + 8)), mv, rj ? &r1 : 0);
        if (mk == 0xffff) {
          _mm_storel_epi64((__m128i *)(yj + st), k_q_narrow8(o0));
          _mm_storel_epi64((__m128i *)(yj + st + 8), k_q_narrow8(o1));
        } else {
          _mm_storel_epi64((__m128i *)t8, k_q_narrow8(o0));
          _mm_storel_epi64((__m128i *)(t8 + 8), k_q_narrow8(o1));
          for (i = 0, o = st; i < 16; i++)
            if (mk >> i & 1) yj[o++] = t8[i];
        }
        continue;
      }
#endif
      for (i = 0, o = st; i < 16; i++)
        if (mk >> i & 1) {
          int64_t t = safe ? (int64_t)a[i] : (int64_t)a[i] + bias[j], r = s->zy + k_q_rshift(t * mult[j], s->shift);
          if (rj) r += k_q_rshift((int64_t)(rj[o] - s->zr) * s->rmul, s->rshift);
          yj[o++] = k_q_clamp(r, s->lo, s->hi);
        }
    }
  }
}

/* ---- channels in lanes (AVX512-VNNI, whole blocks of 64 channels, chosen by
 * k_qconv_geo where the pixel lanes would waste many: small maps).  A tile is
 * 6 output pixels (their plane cells broadcast, 4 bytes each) times 64
 * channels (4 vectors of one quad row of the block); the requantized bytes
 * go to a pixel-major buffer, transposed into the channel rows of Y at the
 * end (the residual likewise the other way first). */

/* dst[c * ds + r] = src[r * ss + c] for r < R, c < C: 16 x 16 blocks (SSE2), edges one by one */
MRTC_FN void k_q_transpose(const int8_t *src, int64_t R, int64_t C, int64_t ss, int8_t *dst, int64_t ds) {
  int64_t r0 = 0, c0, r, c;
#if defined(__SSE2__)
  for (; r0 + 16 <= R; r0 += 16) {
    for (c0 = 0; c0 + 16 <= C; c0 += 16) {
      __m128i a[16], b[16], t[16];
      int i, k;
      for (i = 0; i < 16; i++) a[i] = _mm_loadu_si128((const __m128i *)(src + (r0 + i) * ss + c0));
      for (i = 0; i < 8; i++) b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]), b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
      for (i = 0; i < 4; i++) { /* t[4 i + k]: columns 4 k .. 4 k + 3 of rows 4 i .. 4 i + 3 */
        t[4 * i] = _mm_unpacklo_epi16(b[4 * i], b[4 * i + 2]), t[4 * i + 1] = _mm_unpackhi_epi16(b[4 * i], b[4 * i + 2]);
        t[4 * i + 2] = _mm_unpacklo_epi16(b[4 * i + 1], b[4 * i + 3]), t[4 * i + 3] = _mm_unpackhi_epi16(b[4 * i + 1], b[4 * i + 3]);
      }
      for (k = 0; k < 4; k++) {
        __m128i dl = _mm_unpacklo_epi32(t[k], t[4 + k]), dh = _mm_unpackhi_epi32(t[k], t[4 + k]);
        __m128i el = _mm_unpacklo_epi32(t[8 + k], t[12 + k]), eh = _mm_unpackhi_epi32(t[8 + k], t[12 + k]);
        _mm_storeu_si128((__m128i *)(dst + (c0 + 4 * k) * ds + r0), _mm_unpacklo_epi64(dl, el));
        _mm_storeu_si128((__m128i *)(dst + (c0 + 4 * k + 1) * ds + r0), _mm_unpackhi_epi64(dl, el));
        _mm_storeu_si128((__m128i *)(dst + (c0 + 4 * k + 2) * ds + r0), _mm_unpacklo_epi64(dh, eh));
        _mm_storeu_si128((__m128i *)(dst + (c0 + 4 * k + 3) * ds + r0), _mm_unpackhi_epi64(dh, eh));
      }
    }
    for (c = c0; c < C; c++)
      for (r = r0; r < r0 + 16; r++) dst[c * ds + r] = src[r * ss + c];
  }
#endif
  for (r = r0; r < R; r++)
    for (c = 0; c < C; c++) dst[c * ds + r] = src[r * ss + c];
  (void)c0;
}

#if defined(MRTC_QVNNI)
/* acc[r * 64 + c] = init[c] + sum over quads and taps, pixel r's cell at PX[r], channel c of WB's rows */
MRTC_FN void k_qmk_cl(const uint8_t *const *px, int64_t cqs, const int64_t *toff, int64_t T, int64_t Cq, const int8_t *wb,
                      const int32_t *init, int32_t *acc) {
  const __m512i i0 = _mm512_loadu_si512((const void *)init), i1 = _mm512_loadu_si512((const void *)(init + 16));
  const __m512i i2 = _mm512_loadu_si512((const void *)(init + 32)), i3 = _mm512_loadu_si512((const void *)(init + 48));
  __m512i a00 = i0, a01 = i1, a02 = i2, a03 = i3, a10 = i0, a11 = i1, a12 = i2, a13 = i3, a20 = i0, a21 = i1, a22 = i2, a23 = i3;
  __m512i a30 = i0, a31 = i1, a32 = i2, a33 = i3, a40 = i0, a41 = i1, a42 = i2, a43 = i3, a50 = i0, a51 = i1, a52 = i2, a53 = i3;
  const uint8_t *p0 = px[0], *p1 = px[1], *p2 = px[2], *p3 = px[3], *p4 = px[4], *p5 = px[5];
  int64_t cq, t, o = 0;
  for (cq = 0; cq < Cq; cq++, o += cqs)
    for (t = 0; t < T; t++, wb += 256) {
      const int64_t ot = o + toff[t];
      __m512i w0 = _mm512_loadu_si512((const void *)wb), w1 = _mm512_loadu_si512((const void *)(wb + 64));
      __m512i w2 = _mm512_loadu_si512((const void *)(wb + 128)), w3 = _mm512_loadu_si512((const void *)(wb + 192)), b;
#define MRTC_QPIX(pp, r0, r1, r2, r3) \
  b = _mm512_set1_epi32(k_q_ld32(pp + ot)), r0 = _mm512_dpbusd_epi32(r0, b, w0), r1 = _mm512_dpbusd_epi32(r1, b, w1), \
  r2 = _mm512_dpbusd_epi32(r2, b, w2), r3 = _mm512_dpbusd_epi32(r3, b, w3)
      MRTC_QPIX(p0, a00, a01, a02, a03);
      MRTC_QPIX(p1, a10, a11, a12, a13);
      MRTC_QPIX(p2, a20, a21, a22, a23);
      MRTC_QPIX(p3, a30, a31, a32, a33);
      MRTC_QPIX(p4, a40, a41, a42, a43);
      MRTC_QPIX(p5, a50, a51, a52, a53);
#undef MRTC_QPIX
    }
  MRTC_QST24(acc, 64);
}

/* one block of 64 channels over every pixel: WB its packed rows, INIT / BIAS /
 * MULT from its first channel, RES / Y at its first channel's row; PF the
 * flat cell of each output pixel; ACC 6 x 64 int32, OB and RB P x 64 bytes */
MRTC_FN void k_qconv_cl(const KQConv *s, const KQGeo *g, const uint8_t *pl, const int64_t *toff, const int32_t *pf,
                        const int8_t *wb, const int32_t *init, const int32_t *bias, const int32_t *mult, int safe,
                        const int8_t *res, int8_t *y, int32_t *acc, int8_t *ob, int8_t *rb) {
  const int64_t P = s->OH * s->OW;
  int64_t p0, r, v, i;
  KQReq512 q;
  k_qreq512_init(&q, s->shift, s->zy, s->lo, s->hi, s->zr, s->rmul, s->rshift);
  if (res) k_q_transpose(res, 64, P, P, rb, 64);
  for (p0 = 0; p0 < P; p0 += 6) {
    const uint8_t *px[6];
    for (r = 0; r < 6; r++) px[r] = pl + 4 * pf[p0 + r < P ? p0 + r : P - 1];
    k_qmk_cl(px, g->cqs, toff, g->T, g->Cq, wb, init, acc);
    for (r = 0; r < 6 && p0 + r < P; r++)
      for (v = 0; v < 4; v++) {
        const int32_t *a = acc + 64 * r + 16 * v;
        int8_t *o = ob + (p0 + r) * 64 + 16 * v;
        const int8_t *rr = rb + (p0 + r) * 64 + 16 * v;
        if (safe) {
          __m512i rv = _mm512_setzero_si512();
          if (res) rv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)rr));
          _mm_storeu_si128((__m128i *)o, _mm512_cvtepi32_epi8(k_qreq16(&q, _mm512_loadu_si512((const void *)a),
                                                                       _mm512_loadu_si512((const void *)(mult + 16 * v)), res ? &rv : 0)));
        } else
          for (i = 0; i < 16; i++) {
            int64_t m = 16 * v + i, t = (int64_t)a[i] + bias[m], u = s->zy + k_q_rshift(t * mult[m], s->shift);
            if (res) u += k_q_rshift((int64_t)(rr[i] - s->zr) * s->rmul, s->rshift);
            o[i] = k_q_clamp(u, s->lo, s->hi);
          }
      }
  }
  k_q_transpose(ob, P, 64, 64, y, P);
}
#endif

/* Y[m, p] = requant(bias[m] + sum_k W[m, k] * X[k, p]) (bias already holds
 * -zx * sum_k W[m, k]: padding reads as the input zero point, i.e. real 0).
 * MULT NULL: W and BIAS are k_qconv_pack's bytes and table; else W is
 * natural, [M][C/G][KH][KW], packed block by block into scratch.  Scratch:
 * k_qconv_scratch bytes. */
MRTC_FN void k_qconv_i8(const KQConv *s, const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int8_t *res, int8_t *y, void *scratch) {
  const int8_t *wp = mult ? 0 : w;
  const int32_t *init = mult ? 0 : bias;
  KQGeo g;
  uint8_t *base = (uint8_t *)scratch + ((64 - ((uintptr_t)scratch & 63)) & 63), *pl = base;
  int64_t *toff;
  int32_t *vm, *vs, *acc, *pf;
  int64_t n, gi, P = s->OH * s->OW;
  int safe;
  k_qconv_geo(s, &g);
  if (!P) return;
  toff = (int64_t *)(base + g.o_toff), vm = (int32_t *)(base + g.o_vm), vs = (int32_t *)(base + g.o_vs);
  acc = (int32_t *)(base + g.o_acc), pf = (int32_t *)(base + g.o_pf);
  if (init) bias = init + s->M, mult = init + 2 * s->M;
  safe = init ? init[3 * s->M] : k_q_bias_safe(g.K, s->M, bias);
  k_qconv_tables(s, &g, toff, vm, vs, (int32_t *)(base + g.o_ctab));
  if (g.cl) { /* the flat cell of each output pixel */
    int64_t p, oh = 0, ow = 0;
    for (p = 0; p < P; p++) {
      pf[p] = (int32_t)(oh * g.Wq + ow);
      if (++ow == s->OW) ow = 0, oh++;
    }
  }
  for (n = 0; n < s->N; n++)
    for (gi = 0; gi < s->G; gi++) {
      const int64_t m00 = gi * g.mg, yo = (n * s->M + m00) * P;
      k_qconv_planes(s, &g, x + (n * s->C + gi * g.cg) * s->H * s->W, (const int32_t *)(base + g.o_ctab), pl);
      if (g.dw) {
        int64_t m, f0;
        for (m = 0; m < g.mg; m++) {
          const int64_t mm = m00 + m;
          const int8_t *wm = wp ? wp + mm * g.Tq * 4 : (const int8_t *)(base + g.o_wb);
          int32_t i0 = wp ? init[mm] : k_qconv_pack_dw(&g, w + mm * g.T, bias[mm], safe, (int8_t *)(base + g.o_wb));
          for (f0 = 0; f0 < g.FT; f0 += MRTC_QFT) {
            int nv = (int)((g.F - f0 + 15) / 16 < 4 ? (g.F - f0 + 15) / 16 : 4);
            k_qmk_dw(pl + f0, toff, g.Tq, wm, i0, acc, nv);
            k_qconv_store(s, acc, 1, f0 / 16, nv, vm, vs, safe, bias + mm, mult + mm, res ? res + yo + m * P : 0, y + yo + m * P, P);
          }
        }
      } else {
        /* chunks of tiles whose planes stay in cache while every block passes over them */
        int64_t chunk = ((int64_t)1 << 17) / (g.Cq * g.nph * 4 * MRTC_QFT), c0, b = 0, bb, sb, f0;
        if (chunk < 1) chunk = 1;
        chunk *= MRTC_QFT;
#if defined(MRTC_QVNNI)
        if (g.cl && wp) /* whole blocks of 64 with channels in lanes; the rest (a narrow last block) below */
          for (; b < g.mg / 64; b++) {
            const int64_t m0 = m00 + 64 * b;
            k_qconv_cl(s, &g, pl, toff, pf, wp + m0 * g.Kq * 4, init + m0, bias + m0, mult + m0, safe,
                       res ? res + yo + 64 * b * P : 0, y + yo + 64 * b * P, acc, (int8_t *)(base + g.o_ob), (int8_t *)(base + g.o_rb));
          }
#endif
        for (c0 = 0; c0 < g.FT; c0 += chunk)
          for (bb = b; bb < g.nbp; bb++) {
            /* blocks of BW channels from MB (packed: 64 but the last), MRTC_QMB at a time from M0 */
            const int64_t mb = m00 + 64 * bb, bw = g.mg - 64 * bb < 64 ? g.mg - 64 * bb : 64;
            for (sb = 0; sb < bw; sb += MRTC_QMB) {
              const int64_t m0 = mb + sb, nm = bw - sb < MRTC_QMB ? bw - sb : MRTC_QMB;
              const int8_t *wb;
              int64_t ws, j;
              int32_t ib[MRTC_QMB];
              if (wp) {
                wb = wp + mb * g.Kq * 4 + 4 * sb, ws = 4 * bw;
                for (j = 0; j < MRTC_QMB; j++) ib[j] = j < nm ? init[m0 + j] : 0;
              } else {
                k_qconv_pack_block(&g, w + m0 * g.K, nm, bias + m0, safe, (int8_t *)(base + g.o_wb), ib);
                wb = (const int8_t *)(base + g.o_wb), ws = 4 * MRTC_QMB;
              }
#if !defined(MRTC_QVNNI) && defined(__SSE2__)
              k_qconv_widen(g.Kq, wb, ws, (int16_t *)(base + g.o_ww));
#endif
              for (f0 = c0; f0 < c0 + chunk && f0 < g.FT; f0 += MRTC_QFT) {
                int nv = (int)((g.F - f0 + 15) / 16 < 4 ? (g.F - f0 + 15) / 16 : 4);
                const uint8_t *xb = pl + 4 * f0;
#if defined(MRTC_QVNNI)
                if (nv == 4) k_qmk_vnni4(xb, g.cqs, toff, g.T, g.Cq, wb, ws, ib, acc);
                else
                  for (j = 0; j < nv; j++) k_qmk_vnni1(xb + 64 * j, g.cqs, toff, g.T, g.Cq, wb, ws, ib, acc + 16 * j);
#elif defined(__AVX2__)
                k_qmk_avx2(xb, g.cqs, toff, g.T, g.Cq, (const int16_t *)(base + g.o_ww), ib, acc, nv);
#elif defined(__SSE2__)
                k_qmk_sse2(xb, g.cqs, toff, g.T, g.Cq, (const int16_t *)(base + g.o_ww), ib, acc, nv);
#else
                k_qmk_c(xb, g.cqs, toff, g.T, g.Cq, wb, ws, ib, acc, nv);
#endif
                k_qconv_store(s, acc, nm, f0 / 16, nv, vm, vs, safe, bias + m0, mult + m0, res ? res + yo + (m0 - m00) * P : 0,
                              y + yo + (m0 - m00) * P, P);
              }
            }
          }
      }
    }
}

/* ------------------------------------------------------------- GEMM */

typedef struct {
  int64_t rows, K, N;     /* X is rows x K, W is N x K (one row per output channel), Y rows x N */
  int32_t zx, zy, lo, hi, shift;
  int32_t zr, rmul, rshift; /* fused residual (rows x N) */
} KQGemm;

/*
 * GEMM puts output CHANNELS in vector lanes (a row of Y is contiguous).
 * Packed weights: blocks of MRTC_QGB channels, [N / MRTC_QGB][Kq][MRTC_QGB][4]
 * (Kq = K / 4 rounded up) unsigned bytes w + 128, 0 past N and K.  vpdpbusd
 * takes them as its unsigned operand and 4 bytes of an X row, broadcast, as
 * the signed one: sum_k (w + 128) x = acc + 128 sum_k x, so each row's
 * accumulators start at -128 * sum_k x[r][k] (+ the bias when safe).
 * AVX512-VNNI: 6 rows x 64 channels per tile (one row: two accumulator sets
 * against latency); AVX2 2 rows, SSE2 1 row, x 16 channels: weights
 * zero-extended and row bytes sign-extended to int16, pmaddwd; else plain C.
 */
#define MRTC_QGB 64

MRTC_FN int64_t k_qgemm_pack_bytes(const KQGemm *s) { return k_q_up(s->N, MRTC_QGB) * ((s->K + 3) / 4) * 4; }

/* W [N][K], BIAS, MULT -> WP (k_qgemm_pack_bytes) and TAB (3 N + 1 int32; [0, N): the bias when safe, else 0) */
MRTC_FN void k_qgemm_pack(const KQGemm *s, const int8_t *w, const int32_t *bias, const int32_t *mult, uint8_t *wp, int32_t *tab) {
  const int64_t K = s->K, N = s->N, Kq = (K + 3) / 4, nb = (N + MRTC_QGB - 1) / MRTC_QGB;
  int64_t b, q, c, i;
  int safe = k_q_bias_safe(K, N, bias);
  for (b = 0; b < nb; b++)
    for (q = 0; q < Kq; q++)
      for (c = 0; c < MRTC_QGB; c++)
        for (i = 0; i < 4; i++) {
          int64_t n = b * MRTC_QGB + c, k = 4 * q + i;
          wp[((b * Kq + q) * MRTC_QGB + c) * 4 + i] = (uint8_t)(n < N && k < K ? w[n * K + k] + 128 : 0);
        }
  for (i = 0; i < N; i++) tab[i] = safe ? bias[i] : 0, tab[N + i] = bias[i], tab[2 * N + i] = mult[i];
  tab[3 * N] = safe;
}

/* ACC (6 rows of MRTC_QGB) for rows R of X (RN of them, K apart) and block WB of the packed weights */
#if defined(MRTC_QVNNI)
MRTC_FN void k_qgk_vnni6(int64_t K, const int8_t *x, const uint8_t *wb, const int32_t *ib, const int32_t *corr, const int32_t *tail,
                         int32_t *acc) {
  const int8_t *x0 = x, *x1 = x + K, *x2 = x + 2 * K, *x3 = x + 3 * K, *x4 = x + 4 * K, *x5 = x + 5 * K;
  __m512i i0 = _mm512_loadu_si512((const void *)ib), i1 = _mm512_loadu_si512((const void *)(ib + 16));
  __m512i i2 = _mm512_loadu_si512((const void *)(ib + 32)), i3 = _mm512_loadu_si512((const void *)(ib + 48)), c;
  __m512i a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53;
  int64_t q, K4 = K / 4;
#define MRTC_QINIT(i, r0, r1, r2, r3) \
  c = _mm512_set1_epi32(corr[i]), r0 = _mm512_add_epi32(i0, c), r1 = _mm512_add_epi32(i1, c), r2 = _mm512_add_epi32(i2, c), \
  r3 = _mm512_add_epi32(i3, c)
  MRTC_QINIT(0, a00, a01, a02, a03);
  MRTC_QINIT(1, a10, a11, a12, a13);
  MRTC_QINIT(2, a20, a21, a22, a23);
  MRTC_QINIT(3, a30, a31, a32, a33);
  MRTC_QINIT(4, a40, a41, a42, a43);
  MRTC_QINIT(5, a50, a51, a52, a53);
#undef MRTC_QINIT
#define MRTC_QROW(v, r0, r1, r2, r3) \
  c = _mm512_set1_epi32(v), r0 = _mm512_dpbusd_epi32(r0, w0, c), r1 = _mm512_dpbusd_epi32(r1, w1, c), \
  r2 = _mm512_dpbusd_epi32(r2, w2, c), r3 = _mm512_dpbusd_epi32(r3, w3, c)
#define MRTC_QSTEP(v0, v1, v2, v3, v4, v5) \
  w0 = _mm512_loadu_si512((const void *)wb), w1 = _mm512_loadu_si512((const void *)(wb + 64)), \
  w2 = _mm512_loadu_si512((const void *)(wb + 128)), w3 = _mm512_loadu_si512((const void *)(wb + 192)), \
  MRTC_QROW(v0, a00, a01, a02, a03), MRTC_QROW(v1, a10, a11, a12, a13), MRTC_QROW(v2, a20, a21, a22, a23), \
  MRTC_QROW(v3, a30, a31, a32, a33), MRTC_QROW(v4, a40, a41, a42, a43), MRTC_QROW(v5, a50, a51, a52, a53)
  for (q = 0; q < K4; q++, wb += 4 * MRTC_QGB) {
    __m512i w0, w1, w2, w3;
    MRTC_QSTEP(k_q_ld32(x0 + 4 * q), k_q_ld32(x1 + 4 * q), k_q_ld32(x2 + 4 * q), k_q_ld32(x3 + 4 * q), k_q_ld32(x4 + 4 * q),
               k_q_ld32(x5 + 4 * q));
  }
  if (K & 3) { /* the last K % 4 columns, zero-filled by the caller */
    __m512i w0, w1, w2, w3;
    MRTC_QSTEP(tail[0], tail[1], tail[2], tail[3], tail[4], tail[5]);
  }
#undef MRTC_QSTEP
#undef MRTC_QROW
  MRTC_QST24(acc, MRTC_QGB);
}

/* one row: two accumulator sets over even and odd quads (latency), added at the end */
MRTC_FN void k_qgk_vnni1(int64_t K, const int8_t *x, const uint8_t *wb, const int32_t *ib, int32_t corr, int32_t tail, int32_t *acc) {
  __m512i c = _mm512_set1_epi32(corr), a0 = _mm512_add_epi32(_mm512_loadu_si512((const void *)ib), c);
  __m512i a1 = _mm512_add_epi32(_mm512_loadu_si512((const void *)(ib + 16)), c);
  __m512i a2 = _mm512_add_epi32(_mm512_loadu_si512((const void *)(ib + 32)), c);
  __m512i a3 = _mm512_add_epi32(_mm512_loadu_si512((const void *)(ib + 48)), c);
  __m512i b0 = _mm512_setzero_si512(), b1 = b0, b2 = b0, b3 = b0;
  int64_t q, K4 = K / 4;
#define MRTC_QROW(v, r0, r1, r2, r3, p) \
  c = _mm512_set1_epi32(v), r0 = _mm512_dpbusd_epi32(r0, _mm512_loadu_si512((const void *)(p)), c), \
  r1 = _mm512_dpbusd_epi32(r1, _mm512_loadu_si512((const void *)((p) + 64)), c), \
  r2 = _mm512_dpbusd_epi32(r2, _mm512_loadu_si512((const void *)((p) + 128)), c), \
  r3 = _mm512_dpbusd_epi32(r3, _mm512_loadu_si512((const void *)((p) + 192)), c)
  for (q = 0; q + 2 <= K4; q += 2, wb += 8 * MRTC_QGB) {
    MRTC_QROW(k_q_ld32(x + 4 * q), a0, a1, a2, a3, wb);
    MRTC_QROW(k_q_ld32(x + 4 * q + 4), b0, b1, b2, b3, wb + 4 * MRTC_QGB);
  }
  if (q < K4) MRTC_QROW(k_q_ld32(x + 4 * q), a0, a1, a2, a3, wb), wb += 4 * MRTC_QGB;
  if (K & 3) MRTC_QROW(tail, b0, b1, b2, b3, wb);
#undef MRTC_QROW
  _mm512_storeu_si512((void *)acc, _mm512_add_epi32(a0, b0));
  _mm512_storeu_si512((void *)(acc + 16), _mm512_add_epi32(a1, b1));
  _mm512_storeu_si512((void *)(acc + 32), _mm512_add_epi32(a2, b2));
  _mm512_storeu_si512((void *)(acc + 48), _mm512_add_epi32(a3, b3));
}
#endif

#if !defined(MRTC_QVNNI) && defined(__AVX2__)
/* two rows (X1 may repeat X0) x 64 channels: per 16 channels, the weights
 * zero-extended to int16 times the row's 4 bytes sign-extended (pmaddwd), the
 * pairs of partial sums added at the end */
MRTC_FN void k_qgk_avx2(int64_t K, const int8_t *x0, const int8_t *x1, const uint8_t *wb, const int32_t *ib, const int32_t *corr,
                        const int32_t *tail, int32_t *acc) {
  const int64_t K4 = K / 4, Kq = (K + 3) / 4;
  int64_t g, q;
  for (g = 0; g < MRTC_QGB / 16; g++) {
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    const uint8_t *w = wb + 64 * g;
    for (q = 0; q < Kq; q++, w += 4 * MRTC_QGB) {
      __m256i v0 = _mm256_cvtepi8_epi16(_mm_set1_epi32(q < K4 ? k_q_ld32(x0 + 4 * q) : tail[0]));
      __m256i v1 = _mm256_cvtepi8_epi16(_mm_set1_epi32(q < K4 ? k_q_ld32(x1 + 4 * q) : tail[1])), u;
#define MRTC_QW(j, r0, r1) \
  u = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(w + 16 * (j)))), r0 = _mm256_add_epi32(r0, _mm256_madd_epi16(u, v0)), \
  r1 = _mm256_add_epi32(r1, _mm256_madd_epi16(u, v1))
      MRTC_QW(0, a00, a10);
      MRTC_QW(1, a01, a11);
      MRTC_QW(2, a02, a12);
      MRTC_QW(3, a03, a13);
#undef MRTC_QW
    }
#define MRTC_QFIN(r, p0, p1, o) \
  _mm256_storeu_si256((__m256i *)(acc + (r) * MRTC_QGB + 16 * g + (o)), \
                      _mm256_add_epi32(_mm256_permute4x64_epi64(_mm256_hadd_epi32(p0, p1), 0xd8), \
                                       _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(ib + 16 * g + (o))), \
                                                        _mm256_set1_epi32(corr[r]))))
    MRTC_QFIN(0, a00, a01, 0);
    MRTC_QFIN(0, a02, a03, 8);
    MRTC_QFIN(1, a10, a11, 0);
    MRTC_QFIN(1, a12, a13, 8);
#undef MRTC_QFIN
  }
}
#elif !defined(MRTC_QVNNI) && defined(__SSE2__)
/* one row x 64 channels, 16 at a time: zero-extended weights times the sign-extended row bytes (pmaddwd) */
MRTC_FN void k_qgk_sse2(int64_t K, const int8_t *x, const uint8_t *wb, const int32_t *ib, int32_t corr, int32_t tail, int32_t *acc) {
  const int64_t K4 = K / 4, Kq = (K + 3) / 4;
  const __m128i z = _mm_setzero_si128();
  int64_t g, q;
  for (g = 0; g < MRTC_QGB / 16; g++) {
    __m128i a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z, c = _mm_set1_epi32(corr);
    const uint8_t *w = wb + 64 * g;
    for (q = 0; q < Kq; q++, w += 4 * MRTC_QGB) {
      __m128i v = _mm_cvtsi32_si128(q < K4 ? k_q_ld32(x + 4 * q) : tail), u;
      v = _mm_unpacklo_epi8(v, v), v = _mm_srai_epi16(_mm_unpacklo_epi64(v, v), 8); /* x0..x3 x0..x3 as int16 */
#define MRTC_QW(j, l, h) \
  u = _mm_loadu_si128((const __m128i *)(w + 16 * (j))), l = _mm_add_epi32(l, _mm_madd_epi16(_mm_unpacklo_epi8(u, z), v)), \
  h = _mm_add_epi32(h, _mm_madd_epi16(_mm_unpackhi_epi8(u, z), v))
      MRTC_QW(0, a0, a1);
      MRTC_QW(1, a2, a3);
      MRTC_QW(2, a4, a5);
      MRTC_QW(3, a6, a7);
#undef MRTC_QW
    }
#define MRTC_QFIN(l, h, o) \
  _mm_storeu_si128((__m128i *)(acc + 16 * g + (o)), \
                   _mm_add_epi32(_mm_add_epi32(_mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(l), _mm_castsi128_ps(h), 0x88)), \
                                               _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(l), _mm_castsi128_ps(h), 0xdd))), \
                                 _mm_add_epi32(_mm_loadu_si128((const __m128i *)(ib + 16 * g + (o))), c)))
    MRTC_QFIN(a0, a1, 0);
    MRTC_QFIN(a2, a3, 4);
    MRTC_QFIN(a4, a5, 8);
    MRTC_QFIN(a6, a7, 12);
#undef MRTC_QFIN
  }
}
#endif

/* portable: one row, the same sums in uint32 */
MRTC_FN void k_qgk_c(int64_t K, const int8_t *x, const uint8_t *wb, const int32_t *ib, int32_t corr, int32_t tail, int32_t *acc) {
  uint32_t a[MRTC_QGB];
  int64_t q, c, K4 = K / 4;
  for (c = 0; c < MRTC_QGB; c++) a[c] = (uint32_t)ib[c] + (uint32_t)corr;
  for (q = 0; q < (K + 3) / 4; q++, wb += 4 * MRTC_QGB) {
    int8_t t[4];
    int32_t x0, x1, x2, x3;
    if (q < K4) memcpy(t, x + 4 * q, 4);
    else memcpy(t, &tail, 4);
    x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
    for (c = 0; c < MRTC_QGB; c++) a[c] += (uint32_t)(wb[4 * c] * x0 + wb[4 * c + 1] * x1 + wb[4 * c + 2] * x2 + wb[4 * c + 3] * x3);
  }
  for (c = 0; c < MRTC_QGB; c++) acc[c] = k_q_s32(a[c]);
}

/* requantizes NN channels of ACC into Y (channel-contiguous), residual RES likewise */
MRTC_FN void k_qgemm_store(const KQGemm *s, const int32_t *acc, int64_t nn, int safe, const int32_t *bias, const int32_t *mult,
                           const int8_t *res, int8_t *y) {
  int64_t c = 0;
#if defined(MRTC_QREQ512)
  if (safe) {
    KQReq512 q;
    k_qreq512_init(&q, s->shift, s->zy, s->lo, s->hi, s->zr, s->rmul, s->rshift);
    for (; c < nn; c += 16) {
      __mmask16 k = (__mmask16)(nn - c >= 16 ? 0xffff : (1u << (nn - c)) - 1);
      __m512i rv, out;
      if (res) rv = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, res + c));
      out = k_qreq16(&q, _mm512_loadu_si512((const void *)(acc + c)), _mm512_maskz_loadu_epi32(k, mult + c), res ? &rv : 0);
      _mm_mask_storeu_epi8(y + c, k, _mm512_cvtepi32_epi8(out));
    }
  }
#elif defined(MRTC_QREQ256)
  KQReq256 q;
  k_qreq256_init(&q, s->shift, s->zy, s->lo, s->hi, s->zr, s->rmul, s->rshift);
  if (safe && q.fast)
    for (; c + 8 <= nn; c += 8) {
      __m256i rv;
      if (res) rv = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(res + c)));
      _mm_storel_epi64((__m128i *)(y + c), k_q_narrow8(k_qreq8(&q, _mm256_loadu_si256((const __m256i *)(acc + c)),
                                                             _mm256_loadu_si256((const __m256i *)(mult + c)), res ? &rv : 0)));
    }
#endif
  for (; c < nn; c++) {
    int64_t t = safe ? (int64_t)acc[c] : (int64_t)acc[c] + bias[c], v = s->zy + k_q_rshift(t * mult[c], s->shift);
    if (res) v += k_q_rshift((int64_t)(res[c] - s->zr) * s->rmul, s->rshift);
    y[c] = k_q_clamp(v, s->lo, s->hi);
  }
}

/* the packed form (k_qgemm_pack) */
MRTC_FN void k_qgemm_packed(const KQGemm *s, const int8_t *x, const uint8_t *wp, const int32_t *tab, const int8_t *res, int8_t *y) {
  const int64_t R = s->rows, K = s->K, N = s->N, Kq = (K + 3) / 4, nb = (N + MRTC_QGB - 1) / MRTC_QGB;
  const int32_t *bias = tab + N, *mult = tab + 2 * N;
  const int safe = tab[3 * N];
  int32_t acc[6 * MRTC_QGB], ib[MRTC_QGB], corr[6], tail[6];
  int64_t r0, b, i, k;
  for (r0 = 0; r0 < R; r0 += 6) {
    const int64_t rn = R - r0 < 6 ? R - r0 : 6;
    for (i = 0; i < 6; i++) {
      const int8_t *xr = x + (r0 + (i < rn ? i : 0)) * K;
      uint32_t sum = 0;
      int8_t t[4] = {0, 0, 0, 0};
      for (k = 0; k < K; k++) sum += (uint32_t)(int32_t)xr[k];
      corr[i] = k_q_s32(0u - 128u * sum);
      for (k = K & ~(int64_t)3; k < K; k++) t[k & 3] = xr[k];
      tail[i] = k_q_ld32(t);
    }
    for (b = 0; b < nb; b++) {
      const int64_t n0 = b * MRTC_QGB, nn = N - n0 < MRTC_QGB ? N - n0 : MRTC_QGB;
      const uint8_t *wb = wp + b * Kq * 4 * MRTC_QGB;
      for (i = 0; i < MRTC_QGB; i++) ib[i] = i < nn ? tab[n0 + i] : 0;
#if defined(MRTC_QVNNI)
      if (rn == 6) k_qgk_vnni6(K, x + r0 * K, wb, ib, corr, tail, acc);
      else
        for (i = 0; i < rn; i++) k_qgk_vnni1(K, x + (r0 + i) * K, wb, ib, corr[i], tail[i], acc + i * MRTC_QGB);
#elif defined(__AVX2__)
      for (i = 0; i < rn; i += 2)
        k_qgk_avx2(K, x + (r0 + i) * K, x + (r0 + (i + 1 < rn ? i + 1 : i)) * K, wb, ib, corr + i, tail + i, acc + i * MRTC_QGB);
#elif defined(__SSE2__)
      for (i = 0; i < rn; i++) k_qgk_sse2(K, x + (r0 + i) * K, wb, ib, corr[i], tail[i], acc + i * MRTC_QGB);
#else
      for (i = 0; i < rn; i++) k_qgk_c(K, x + (r0 + i) * K, wb, ib, corr[i], tail[i], acc + i * MRTC_QGB);
#endif
      for (i = 0; i < rn; i++)
        k_qgemm_store(s, acc + i * MRTC_QGB, nn, safe, bias + n0, mult + n0, res ? res + (r0 + i) * N + n0 : 0,
                      y + (r0 + i) * N + n0);
    }
  }
}

/* Y[r, n] = requant(bias[n] + sum_k W[n, k] * X[r, k]); MULT NULL: W and BIAS
 * are k_qgemm_pack's bytes and table, else W is natural (N rows of K) */
MRTC_FN void k_qgemm_i8(const KQGemm *s, const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int8_t *res, int8_t *y) {
  int64_t r, n, k;
  if (!mult) {
    k_qgemm_packed(s, x, (const uint8_t *)w, bias, res, y);
    return;
  }
  /* natural weights: a direct loop (tests; mrtc's own code always packs) */
  for (r = 0; r < s->rows; r++)
    for (n = 0; n < s->N; n++) {
      uint32_t a = 0;
      int32_t acc;
      for (k = 0; k < s->K; k++) a += (uint32_t)(x[r * s->K + k] * w[n * s->K + k]);
      acc = k_q_s32(a);
      k_qgemm_store(s, &acc, 1, 0, bias + n, mult + n, res ? res + r * s->N + n : 0, y + r * s->N + n);
    }
}

/* ------------------------------------------------------ Add, Sub, Mul */

typedef struct {
  int rank;
  int64_t dims[8], sa[8], sb[8]; /* output dims (collapsed); input strides, 0 = broadcast */
  int32_t mul;                   /* 0: y = zy + round(((a - za) * ma + (b - zb) * mb) / 2^shift)
                                    1: y = zy + round((a - za) * (b - zb) * ma / 2^shift) */
  int32_t za, zb, zy, ma, mb, shift, lo, hi;
} KQBin;

MRTC_FN void k_qbin_i8(const KQBin *s, const int8_t *a, const int8_t *b, int8_t *y) {
  int64_t idx[8] = {0}, last = s->dims[s->rank - 1], sa = s->sa[s->rank - 1], sb = s->sb[s->rank - 1], i;
  do {
    int64_t oa = 0, ob = 0;
    int d;
    for (d = 0; d < s->rank - 1; d++) {
      oa += idx[d] * s->sa[d];
      ob += idx[d] * s->sb[d];
    }
    if (s->mul)
      for (i = 0; i < last; i++)
        y[i] = k_q_clamp(s->zy + k_q_rshift((int64_t)((a[oa + i * sa] - s->za) * (b[ob + i * sb] - s->zb)) * s->ma, s->shift),
                         s->lo, s->hi);
    else
      for (i = 0; i < last; i++)
        y[i] = k_q_clamp(s->zy + k_q_rshift((int64_t)(a[oa + i * sa] - s->za) * s->ma + (int64_t)(b[ob + i * sb] - s->zb) * s->mb,
                                            s->shift),
                         s->lo, s->hi);
    y += last;
  } while (k_next_index(s->rank - 1, s->dims, idx));
}

/* ---------------------------------------------------- average pooling */

typedef struct {
  int64_t NC, H, W, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR; /* PB, PR: end pads */
  int32_t count_pad;      /* count_include_pad */
  int32_t zx, zy, shift;  /* mult[c]: the multiplier for a window of c taps */
} KQPool;

MRTC_FN void k_qavgpool_i8(const KQPool *s, const int8_t *x, const int32_t *mult, int8_t *y) {
  int64_t c, oh, ow, ih, iw;
  for (c = 0; c < s->NC; c++) {
    const int8_t *xc = x + c * s->H * s->W;
    for (oh = 0; oh < s->OH; oh++)
      for (ow = 0; ow < s->OW; ow++) {
        int64_t h0 = oh * s->SH - s->PT, w0 = ow * s->SW - s->PL, h1 = h0 + s->KH, w1 = w0 + s->KW, cnt;
        int64_t hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0, he = h1 > s->H ? s->H : h1, we = w1 > s->W ? s->W : w1;
        int32_t sum = 0;
        for (ih = hs; ih < he; ih++)
          for (iw = ws; iw < we; iw++) sum += xc[ih * s->W + iw] - s->zx;
        if (s->count_pad) {
          int64_t ph0 = h0 < -s->PT ? -s->PT : h0, pw0 = w0 < -s->PL ? -s->PL : w0;
          int64_t ph1 = h1 > s->H + s->PB ? s->H + s->PB : h1, pw1 = w1 > s->W + s->PR ? s->W + s->PR : w1;
          cnt = (ph1 - ph0) * (pw1 - pw0);
        } else
          cnt = (he - hs) * (we - ws);
        if (cnt < 1) cnt = 1;
        y[(c * s->OH + oh) * s->OW + ow] = k_q_clamp(s->zy + k_q_rshift((int64_t)sum * mult[cnt], s->shift), -128, 127);
      }
  }
}

#endif
