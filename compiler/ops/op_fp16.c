/*
 * op_fp16.c: the internal fp16 ops that quantize.c lowers layers onto
 * (runtime/k_fp16.h).  Like op_int8.c's, no model can name them and
 * quantize.c fills n->p (the kernel's parameter struct) itself.
 *
 *   MrtcToF16    float -> half                in: x
 *   MrtcFromF16  half -> float                in: h
 *   MrtcHConv    Conv (+bias, +residual, any fused activation)
 *                in: x (half), w (half, M x K), bias (float, may be absent), res (half, may be absent)
 *   MrtcHGemm    Gemm / MatMul with a constant B: the same inputs, w N x K
 */
#include "mrtc.h"
#include "k_fp16.h"

#include <stdlib.h>

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
static void *v_in(Node *n, void *const *in, int k) { return node_in(n, k) ? in[k] : NULL; }

static void to16_eval(Node *n, void *const *in, void *const *out) { k_f32_to_f16(n->out[0]->numel, in[0], out[0]); }
static void from16_eval(Node *n, void *const *in, void *const *out) { k_f16_to_f32(n->out[0]->numel, in[0], out[0]); }

static void to16_emit(Node *n, Emitter *e) {
  emit_need(e, "k_fp16");
  emit_why(e, n);
  emit(e, "k_f32_to_f16(%lld, %s, %s);", (long long)n->out[0]->numel, eref(e, n->in[0]), eref(e, n->out[0]));
}

static void from16_emit(Node *n, Emitter *e) {
  emit_need(e, "k_fp16");
  emit_why(e, n);
  emit(e, "k_f16_to_f32(%lld, %s, %s);", (long long)n->out[0]->numel, eref(e, n->in[0]), eref(e, n->out[0]));
}

static void hconv_eval(Node *n, void *const *in, void *const *out) {
  KHConv *s = n->p;
  float *scratch = xalloc(sizeof(float) * (size_t)(k_hconv_scratch(s) + 4));
  k_hconv(s, in[0], in[1], v_in(n, in, 2), v_in(n, in, 3), out[0], scratch);
  free(scratch);
}

static void hconv_emit(Node *n, Emitter *e) {
  const KHConv *s = n->p;
  emit_need(e, "k_fp16");
  emit_why(e, n);
  emit(e, "{ static const KHConv s = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld, %d, %s, %s};",
       (long long)s->N, (long long)s->C, (long long)s->H, (long long)s->W, (long long)s->M, (long long)s->OH,
       (long long)s->OW, (long long)s->KH, (long long)s->KW, (long long)s->SH, (long long)s->SW, (long long)s->PT,
       (long long)s->PL, (long long)s->DH, (long long)s->DW, (long long)s->G, s->act, fmt_float(s->p0), fmt_float(s->p1));
  emit(e, "  k_hconv(&s, %s, %s, %s, %s, %s, (float *)(A + %lld)); }", eref(e, n->in[0]), eref(e, n->in[1]), v_ref(e, n, 2),
       v_ref(e, n, 3), eref(e, n->out[0]), (long long)n->scratch_off);
}

static void hgemm_eval(Node *n, void *const *in, void *const *out) {
  KHGemm *s = n->p;
  float *scratch = xalloc(sizeof(float) * (size_t)(s->K + 4));
  k_hgemm(s, in[0], in[1], v_in(n, in, 2), v_in(n, in, 3), out[0], scratch);
  free(scratch);
}

static void hgemm_emit(Node *n, Emitter *e) {
  const KHGemm *s = n->p;
  emit_need(e, "k_fp16");
  emit_why(e, n);
  emit(e, "{ static const KHGemm s = {%lld,%lld,%lld, %d, %s, %s};", (long long)s->rows, (long long)s->K, (long long)s->N,
       s->act, fmt_float(s->p0), fmt_float(s->p1));
  emit(e, "  k_hgemm(&s, %s, %s, %s, %s, %s, (float *)(A + %lld)); }", eref(e, n->in[0]), eref(e, n->in[1]), v_ref(e, n, 2),
       v_ref(e, n, 3), eref(e, n->out[0]), (long long)n->scratch_off);
}

const OpDef opdef_MrtcToF16 = {"", 1, 1, 1, 1, internal_infer, to16_eval, to16_emit, 0};
const OpDef opdef_MrtcFromF16 = {"", 1, 1, 1, 1, internal_infer, from16_eval, from16_emit, 0};
const OpDef opdef_MrtcHConv = {"", 2, 4, 1, 1, internal_infer, hconv_eval, hconv_emit, 0};
const OpDef opdef_MrtcHGemm = {"", 2, 4, 1, 1, internal_infer, hgemm_eval, hgemm_emit, 0};
