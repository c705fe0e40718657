/*
 * op_linattn.c: LinearAttention (opset 27): the recurrent linear attention
 * over packed (B, T, H*D) query/key/value with update rules linear, gated,
 * delta and gated_delta, grouped-query heads, optional past_state, decay
 * per key dimension or per head, beta per head or per token; float, float16,
 * bfloat16.  chunk_size is a tuning hint with no effect on the result.  As
 * in the op's function body, present_state has the query's type.  Kernel in
 * runtime/k_linattn.h.
 */
#include "mrtc.h"
#include "k_linattn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct LinAttnP {
  int64_t B, T, Hq, Hkv, dk, dv;
  int gated, delta, dec_key, beta_head, pt;
  double scale;
} LinAttnP;

static int is_ft(DType t) { return t == DT_FLOAT || t == DT_FLOAT16 || t == DT_BFLOAT16; }

static void need_btx(Node *n, Value *v, const char *what, int64_t B, int64_t T) {
  if (v->rank != 3 || v->dims[0] != B || v->dims[1] != T)
    error_node(n, "%s %s must be 3-D (%lld, %lld, ...)", what, shape_str(v), (long long)B, (long long)T);
}

static void linattn_infer(Node *n) {
  Value *q = n->in[0], *k = n->in[1], *v = n->in[2], *past = node_in(n, 3), *dec = node_in(n, 4), *beta = node_in(n, 5);
  DType t = q->dtype;
  if (!is_ft(t)) error_node(n, "query type %s is not supported (float, float16, bfloat16)", dtype_name(t));
  if (k->dtype != t || v->dtype != t || (dec && dec->dtype != t) || (beta && beta->dtype != t))
    error_node(n, "key, value, decay and beta must have the query's type %s", dtype_name(t));
  LinAttnP *p = xalloc(sizeof *p);
  p->Hq = attr_int(n, "q_num_heads", 0);
  p->Hkv = attr_int(n, "kv_num_heads", 0);
  if (!attr_find(n, "q_num_heads") || !attr_find(n, "kv_num_heads"))
    error_node(n, "attributes 'q_num_heads' and 'kv_num_heads' are required");
  if (p->Hq <= 0 || p->Hkv <= 0 || p->Hq % p->Hkv)
    error_node(n, "q_num_heads %lld must be a positive multiple of kv_num_heads %lld", (long long)p->Hq, (long long)p->Hkv);
  attr_int(n, "chunk_size", 64);
  if (q->rank != 3) error_node(n, "query %s must be 3-D (B, T, Hq*dk)", shape_str(q));
  p->B = q->dims[0];
  p->T = q->dims[1];
  need_btx(n, k, "key", p->B, p->T);
  need_btx(n, v, "value", p->B, p->T);
  if (q->dims[2] % p->Hq) error_node(n, "query %s: last dim is not a multiple of q_num_heads %lld", shape_str(q), (long long)p->Hq);
  p->dk = q->dims[2] / p->Hq;
  if (k->dims[2] != p->Hkv * p->dk) error_node(n, "key %s: last dim must be kv_num_heads * d_k = %lld", shape_str(k), (long long)(p->Hkv * p->dk));
  if (v->dims[2] % p->Hkv) error_node(n, "value %s: last dim is not a multiple of kv_num_heads %lld", shape_str(v), (long long)p->Hkv);
  p->dv = v->dims[2] / p->Hkv;
  const char *rule = attr_str(n, "update_rule", "gated_delta");
  if (!strcmp(rule, "linear")) ;
  else if (!strcmp(rule, "gated")) p->gated = 1;
  else if (!strcmp(rule, "delta")) p->delta = 1;
  else if (!strcmp(rule, "gated_delta")) p->gated = p->delta = 1;
  else error_node(n, "update_rule '%s' is not one of linear, gated, delta, gated_delta", rule);
  if (p->gated) {
    if (!dec) error_node(n, "update_rule '%s' needs the decay input", rule);
    need_btx(n, dec, "decay", p->B, p->T);
    if (dec->dims[2] == p->Hkv * p->dk && dec->dims[2] != p->Hkv) p->dec_key = 1;
    else if (dec->dims[2] != p->Hkv)
      error_node(n, "decay %s: last dim must be kv_num_heads * d_k or kv_num_heads", shape_str(dec));
    else p->dec_key = p->dk == 1;
  }
  if (p->delta) {
    if (!beta) error_node(n, "update_rule '%s' needs the beta input", rule);
    need_btx(n, beta, "beta", p->B, p->T);
    if (beta->dims[2] == p->Hkv) p->beta_head = 1;
    else if (beta->dims[2] != 1) error_node(n, "beta %s: last dim must be kv_num_heads or 1", shape_str(beta));
  }
  int64_t sd[4] = {p->B, p->Hkv, p->dk, p->dv};
  if (past) {
    if (!is_ft(past->dtype)) error_node(n, "past_state type %s is not supported", dtype_name(past->dtype));
    if (past->rank != 4 || memcmp(past->dims, sd, sizeof sd))
      error_node(n, "past_state %s must be (%lld, %lld, %lld, %lld)", shape_str(past), (long long)sd[0], (long long)sd[1],
                 (long long)sd[2], (long long)sd[3]);
    p->pt = past->dtype;
  }
  float sc = attr_float(n, "scale", 0.0f);
  p->scale = sc != 0.0f ? (double)sc : 1.0 / sqrt((double)p->dk);
  int64_t od[3] = {p->B, p->T, p->Hq * p->dv};
  value_set_shape(n->out[0], t, 3, od);
  if (n->nout > 1 && n->out[1]) value_set_shape(n->out[1], t, 4, sd);
  n->scratch_bytes = 8 * (p->Hkv * p->dk * p->dv + p->dv + 1);
  n->macs = p->B * p->T * (p->Hkv + p->Hq) * p->dk * p->dv * 2;
  n->p = p;
}

static void linattn_eval(Node *n, void *const *in, void *const *out) {
  LinAttnP *p = n->p;
  double *W = xalloc((size_t)n->scratch_bytes);
  k_linattn(n->in[0]->dtype, p->pt, p->B, p->T, p->Hq, p->Hkv, p->dk, p->dv, in[0], in[1], in[2],
            node_in(n, 3) ? in[3] : NULL, node_in(n, 4) ? in[4] : NULL, node_in(n, 5) ? in[5] : NULL, p->gated, p->delta,
            p->dec_key, p->beta_head, p->scale, out[0], n->nout > 1 && n->out[1] ? out[1] : NULL, W);
  free(W);
}

static void linattn_emit(Node *n, Emitter *e) {
  LinAttnP *p = n->p;
  Value *past = node_in(n, 3), *dec = node_in(n, 4), *beta = node_in(n, 5), *pres = n->nout > 1 ? n->out[1] : NULL;
  if (!p->B || !p->Hkv || !p->dk || !p->dv) {
    emit(e, "/* empty: nothing to do */");
    return;
  }
  emit_need(e, "k_linattn");
  emit(e, "k_linattn(%d, %d, %lld, %lld, %lld, %lld, %lld, %lld, %s, %s, %s, %s, %s, %s, %d, %d, %d, %d, %.17g, %s, %s, "
          "(double *)(A + %lld));",
       (int)n->in[0]->dtype, p->pt, (long long)p->B, (long long)p->T, (long long)p->Hq, (long long)p->Hkv, (long long)p->dk,
       (long long)p->dv, p->T ? eref(e, n->in[0]) : "0", p->T ? eref(e, n->in[1]) : "0", p->T ? eref(e, n->in[2]) : "0",
       past ? eref(e, past) : "0", dec && p->gated && p->T ? eref(e, dec) : "0", beta && p->delta && p->T ? eref(e, beta) : "0",
       p->gated, p->delta, p->dec_key, p->beta_head, p->scale, p->T ? eref(e, n->out[0]) : "0", pres ? eref(e, pres) : "0",
       (long long)n->scratch_off);
}

const OpDef opdef_LinearAttention = {"chunk_size,kv_num_heads,q_num_heads,scale,update_rule", 3, 6, 1, 2,
                                     linattn_infer, linattn_eval, linattn_emit, 0};
