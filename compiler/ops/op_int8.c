/*
 * op_int8.c: the internal int8 ops that quantize.c lowers layers onto
 * (runtime/k_int8.h).  No model can name them (op_lookup refuses the
 * "Mrtc" prefix): quantize.c creates them with n->p already filled in (the
 * kernel's parameter struct: shapes, zero points, shifts, clamps), and
 * per-channel arrays (int8 weights, int32 bias, int32 multipliers, lookup
 * tables) as constant inputs, so they count in NAME_WEIGHTS_BYTES and are
 * written like any weight.  Hence infer only checks that it is not called
 * on a node quantize.c did not make.
 *
 *   MrtcQuantize    float -> int8      in: x                 p: QScale
 *   MrtcDequantize  int8 -> float      in: q                 p: QScale
 *   MrtcQConv       Conv (+bias, +residual, Relu/Clip)       in: x, w, bias, mult[, res]   p: KQConv
 *   MrtcQGemm       Gemm / MatMul with constant B            in: x, w, bias, mult[, res]   p: KQGemm
 *   MrtcQBin        Add, Sub, Mul (broadcast)                in: a, b              p: KQBin
 *   MrtcQAvgPool    AveragePool, GlobalAveragePool           in: x, mult by count  p: KQPool
 *   MrtcQConcat     Concat, each input requantized           in: x...              p: QConcatP
 *   MrtcQLut        any unary function (256-entry table)     in: x, table
 */
#include "mrtc.h"
#include "k_int8.h"

#include <stdlib.h>
#include <string.h>

static void internal_infer(Node *n) {
  if (!n->p) error_node(n, "internal op: only mrtc's quantizer creates it");
}

/* a comment line: the precision, why (config rule) and the quantization parameters */
static void emit_why(Emitter *e, Node *n) {
  char *t = fmt("%s, %s%s%s", prec_name(n->precision), n->why ? n->why : "default", n->qinfo ? ": " : "", n->qinfo ? n->qinfo : "");
  for (char *c = t; *c; c++)
    if (c[0] == '*' && c[1] == '/') c[0] = '_';
  emit(e, "/* %s */", t);
}

static const char *v_ref(Emitter *e, Node *n, int k) { return node_in(n, k) ? eref(e, n->in[k]) : "0"; }

/* ----------------------------------------------------------- borders */

static void qquant_eval(Node *n, void *const *in, void *const *out) {
  QScale *p = n->p;
  k_quantize_f32_i8(n->out[0]->numel, in[0], p->scale, p->zp, out[0]);
}

static void quant_emit(Node *n, Emitter *e) {
  QScale *p = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "k_quantize_f32_i8(%lld, %s, %s, %d, %s);", (long long)n->out[0]->numel, eref(e, n->in[0]), fmt_float(p->scale),
       p->zp, eref(e, n->out[0]));
}

static void qdequant_eval(Node *n, void *const *in, void *const *out) {
  QScale *p = n->p;
  k_dequantize_i8_f32(n->out[0]->numel, in[0], p->scale, p->zp, out[0]);
}

static void dequant_emit(Node *n, Emitter *e) {
  QScale *p = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "k_dequantize_i8_f32(%lld, %s, %s, %d, %s);", (long long)n->out[0]->numel, eref(e, n->in[0]), fmt_float(p->scale),
       p->zp, eref(e, n->out[0]));
}

/* ------------------------------------------------------------- Conv */

/* Conv and Gemm weights are packed once into the kernels' order (k_qconv_pack,
 * k_qgemm_pack): bytes WP, and a table TAB of 3 M + 1 int32 (initial
 * accumulators, bias, multipliers, the safe flag); the kernels take them
 * with MULT = NULL.  The emitter writes them as derived constants in place
 * of the weights, bias and multipliers; the interpreter packs a node on its
 * first evaluation and keeps the result (those inputs are constants, and
 * compiler memory lives until exit), keyed by the node and the three arrays. */
typedef struct {
  const Node *n;
  const void *w, *bias, *mult;
  void *wp;
  int32_t *tab;
} Packed;

static Packed *packed;
static int npacked, cap_packed;

/* the cache entry of node N (wp NULL: not packed yet); NULL when its inputs are
 * not the constants themselves (then the caller packs for this call only) */
static Packed *packed_find(Node *n, const void *w, const void *bias, const void *mult) {
  for (int k = 1; k <= 3; k++)
    if (!node_in(n, k) || node_in(n, k)->data != (k == 1 ? w : k == 2 ? bias : mult)) return NULL;
  for (int i = 0; i < npacked; i++)
    if (packed[i].n == n && packed[i].w == w && packed[i].bias == bias && packed[i].mult == mult) return &packed[i];
  if (npacked == cap_packed) {
    cap_packed = cap_packed ? 2 * cap_packed : 64;
    packed = xrealloc(packed, sizeof *packed * (size_t)cap_packed);
  }
  packed[npacked] = (Packed){n, w, bias, mult, NULL, NULL};
  return &packed[npacked++];
}

static void qconv_pack(Node *n, const void *w, const void *bias, const void *mult, int8_t **wp, int32_t **tab, int64_t *nwp) {
  const KQConv *s = n->p;
  *nwp = k_qconv_pack_bytes(s);
  *wp = xalloc((size_t)*nwp + 1);
  *tab = xalloc(sizeof(int32_t) * (size_t)(3 * s->M + 1));
  k_qconv_pack(s, w, bias, mult, *wp, *tab);
}

static void qconv_eval(Node *n, void *const *in, void *const *out) {
  KQConv *s = n->p;
  Packed *p = packed_find(n, in[1], in[2], in[3]), once = {0};
  if (!p) p = &once;
  if (!p->wp) {
    int8_t *wp;
    int64_t nwp;
    qconv_pack(n, in[1], in[2], in[3], &wp, &p->tab, &nwp);
    p->wp = wp;
  }
  void *scratch = xalloc((size_t)k_qconv_scratch(s) + 16);
  k_qconv_i8(s, in[0], p->wp, p->tab, NULL, node_in(n, 4) ? in[4] : NULL, out[0], scratch);
  free(scratch);
  if (p == &once) free(once.wp), free(once.tab);
}

/* the constant data of input K (quantize.c made it) */
static const void *cdata(Node *n, int k) {
  Value *v = node_in(n, k);
  while (v && v->alias) v = v->alias;
  if (!v || !v->data) fatal("internal: %s: int8 weights are not constant", n->name);
  return v->data;
}

static void qconv_emit(Node *n, Emitter *e) {
  const KQConv *s = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "{ static const KQConv s = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld, "
          "%d,%d,%d,%d, %d, %d,%d,%d};",
       (long long)s->N, (long long)s->C, (long long)s->H, (long long)s->W, (long long)s->M, (long long)s->OH,
       (long long)s->OW, (long long)s->KH, (long long)s->KW, (long long)s->SH, (long long)s->SW, (long long)s->PT,
       (long long)s->PL, (long long)s->DH, (long long)s->DW, (long long)s->G, s->zx, s->zy, s->lo, s->hi, s->shift, s->zr,
       s->rmul, s->rshift);
  int8_t *wp;
  int32_t *tab;
  int64_t nwp, ntab = 3 * s->M + 1;
  qconv_pack(n, cdata(n, 1), cdata(n, 2), cdata(n, 3), &wp, &tab, &nwp);
  const char *wpn = emit_const(e, DT_INT8, 1, &nwp, wp), *tabn = emit_const(e, DT_INT32, 1, &ntab, tab);
  emit(e, "  k_qconv_i8(&s, %s, %s, %s, 0, %s, %s, A + %lld); } /* packed weights and table */", eref(e, n->in[0]), wpn, tabn,
       v_ref(e, n, 4), eref(e, n->out[0]), (long long)n->scratch_off);
  free(wp);
  free(tab);
}

/* ------------------------------------------------------------- GEMM */

static void qgemm_pack(Node *n, const void *w, const void *bias, const void *mult, uint8_t **wp, int32_t **tab, int64_t *nwp) {
  const KQGemm *s = n->p;
  *nwp = k_qgemm_pack_bytes(s);
  *wp = xalloc((size_t)*nwp + 1);
  *tab = xalloc(sizeof(int32_t) * (size_t)(3 * s->N + 1));
  k_qgemm_pack(s, w, bias, mult, *wp, *tab);
}

static void qgemm_eval(Node *n, void *const *in, void *const *out) {
  Packed *p = packed_find(n, in[1], in[2], in[3]), once = {0};
  if (!p) p = &once;
  if (!p->wp) {
    uint8_t *wp;
    int64_t nwp;
    qgemm_pack(n, in[1], in[2], in[3], &wp, &p->tab, &nwp);
    p->wp = wp;
  }
  k_qgemm_i8(n->p, in[0], p->wp, p->tab, NULL, node_in(n, 4) ? in[4] : NULL, out[0]);
  if (p == &once) free(once.wp), free(once.tab);
}

static void qgemm_emit(Node *n, Emitter *e) {
  const KQGemm *s = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "{ static const KQGemm s = {%lld,%lld,%lld, %d,%d,%d,%d,%d, %d,%d,%d};", (long long)s->rows, (long long)s->K,
       (long long)s->N, s->zx, s->zy, s->lo, s->hi, s->shift, s->zr, s->rmul, s->rshift);
  uint8_t *wp;
  int32_t *tab;
  int64_t nwp, ntab = 3 * s->N + 1;
  qgemm_pack(n, cdata(n, 1), cdata(n, 2), cdata(n, 3), &wp, &tab, &nwp);
  const char *wpn = emit_const(e, DT_INT8, 1, &nwp, wp), *tabn = emit_const(e, DT_INT32, 1, &ntab, tab);
  emit(e, "  k_qgemm_i8(&s, %s, %s, %s, 0, %s, %s); } /* packed weights and table */", eref(e, n->in[0]), wpn, tabn, v_ref(e, n, 4),
       eref(e, n->out[0]));
  free(wp);
  free(tab);
}

/* ------------------------------------------------------- Add Sub Mul */

static void qbin_eval(Node *n, void *const *in, void *const *out) { k_qbin_i8(n->p, in[0], in[1], out[0]); }

static const char *arr8(const int64_t *v, int r) {
  Buf b = {0};
  buf_puts(&b, "{");
  for (int i = 0; i < r; i++) buf_printf(&b, "%s%lld", i ? "," : "", (long long)v[i]);
  buf_puts(&b, "}");
  return b.s;
}

static void qbin_emit(Node *n, Emitter *e) {
  const KQBin *s = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "{ static const KQBin s = {%d, %s, %s, %s, %d, %d,%d,%d,%d,%d,%d,%d,%d};", s->rank, arr8(s->dims, s->rank),
       arr8(s->sa, s->rank), arr8(s->sb, s->rank), s->mul, s->za, s->zb, s->zy, s->ma, s->mb, s->shift, s->lo, s->hi);
  emit(e, "  k_qbin_i8(&s, %s, %s, %s); }", eref(e, n->in[0]), eref(e, n->in[1]), eref(e, n->out[0]));
}

/* ---------------------------------------------------- AveragePool */

static void qpool_eval(Node *n, void *const *in, void *const *out) { k_qavgpool_i8(n->p, in[0], in[1], out[0]); }

static void qpool_emit(Node *n, Emitter *e) {
  const KQPool *s = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "{ static const KQPool s = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld, %d, %d,%d,%d};",
       (long long)s->NC, (long long)s->H, (long long)s->W, (long long)s->OH, (long long)s->OW, (long long)s->KH,
       (long long)s->KW, (long long)s->SH, (long long)s->SW, (long long)s->PT, (long long)s->PL, (long long)s->PB,
       (long long)s->PR, s->count_pad, s->zx, s->zy, s->shift);
  emit(e, "  k_qavgpool_i8(&s, %s, %s, %s); }", eref(e, n->in[0]), eref(e, n->in[1]), eref(e, n->out[0]));
}

/* ------------------------------------------------------------ Concat */

static void qconcat_eval(Node *n, void *const *in, void *const *out) {
  QConcatP *p = n->p;
  for (int i = 0; i < p->n; i++)
    k_qrequant_i8(p->outer, p->inner[i], p->ldy, in[i], (int8_t *)out[0] + p->off[i], p->zx[i], p->zy, p->mult[i], p->shift[i],
                  -128, 127);
}

static void qconcat_emit(Node *n, Emitter *e) {
  QConcatP *p = n->p;
  emit_need(e, "k_int8");
  emit_why(e, n);
  const char *y = eref(e, n->out[0]);
  for (int i = 0; i < p->n; i++)
    emit(e, "k_qrequant_i8(%lld, %lld, %lld, %s, %s + %lld, %d, %d, %d, %d, -128, 127);", (long long)p->outer,
         (long long)p->inner[i], (long long)p->ldy, eref(e, n->in[i]), y, (long long)p->off[i], p->zx[i], p->zy, p->mult[i],
         p->shift[i]);
}

/* --------------------------------------------------------------- LUT */

static void qlut_eval(Node *n, void *const *in, void *const *out) { k_qlut_i8(n->out[0]->numel, in[0], in[1], out[0]); }

static void qlut_emit(Node *n, Emitter *e) {
  emit_need(e, "k_int8");
  emit_why(e, n);
  emit(e, "k_qlut_i8(%lld, %s, %s, %s);", (long long)n->out[0]->numel, eref(e, n->in[0]), eref(e, n->in[1]), eref(e, n->out[0]));
}

const OpDef opdef_MrtcQuantize = {"", 1, 1, 1, 1, internal_infer, qquant_eval, quant_emit, 0};
const OpDef opdef_MrtcDequantize = {"", 1, 1, 1, 1, internal_infer, qdequant_eval, dequant_emit, 0};
const OpDef opdef_MrtcQConv = {"", 4, 5, 1, 1, internal_infer, qconv_eval, qconv_emit, 0};
const OpDef opdef_MrtcQGemm = {"", 4, 5, 1, 1, internal_infer, qgemm_eval, qgemm_emit, 0};
const OpDef opdef_MrtcQBin = {"", 2, 2, 1, 1, internal_infer, qbin_eval, qbin_emit, 0};
const OpDef opdef_MrtcQAvgPool = {"", 2, 2, 1, 1, internal_infer, qpool_eval, qpool_emit, 0};
const OpDef opdef_MrtcQConcat = {"", 1, -1, 1, 1, internal_infer, qconcat_eval, qconcat_emit, 0};
const OpDef opdef_MrtcQLut = {"", 2, 2, 1, 1, internal_infer, qlut_eval, qlut_emit, OPF_INPLACE};
