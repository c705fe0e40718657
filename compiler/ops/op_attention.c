/*
 * op_attention.c: Attention (23; 24 adds nonpad_kv_seqlen; 25 sliding
 * windows) and RotaryEmbedding (23), on runtime/k_attention.h.
 *
 * Attention: Q/K/V 4-D [batch, heads, seq, size] or 3-D [batch, seq,
 * heads*size] (q_num_heads / kv_num_heads), grouped-query heads, boolean
 * or float masks broadcast to [batch, q_heads, q_seq, total_seq] (a
 * shorter last dim is padded as disallowed), is_causal (bottom-right
 * aligned at the past length, or at nonpad_kv_seqlen - q_seq), scale,
 * softcap, past/present key-value caches and the four qk_matmul_output
 * modes.  float32, float64 and float16 tensors (float16 computed in float).
 * softmax_precision is accepted: the softmax is always computed in float
 * (double for float64), at least the precision asked for except double.
 */
#include "mrtc.h"
#include "k_attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int attn_type_ok(DType t) { return t == DT_FLOAT || t == DT_FLOAT16 || t == DT_DOUBLE; }
static int acc_size(DType t) { return t == DT_DOUBLE ? 8 : 4; }

typedef struct AttnP {
  KAttn s;
  int64_t kin[3], vin[3]; /* strides of the K / V inputs */
  int64_t ksrc[3], vsrc[3]; /* strides of what the kernel reads as keys / values */
  int mt;                 /* mask type (ONNX number) or 0 */
  int concat;             /* present caches are built (outputs requested or past given) */
  int64_t pk_off, pv_off; /* scratch offsets of present caches that are not outputs (-1: output) */
  int64_t sc_off;
} AttnP;

static void strides4(int64_t H, int64_t S, int64_t D, int64_t *st) { st[0] = H * S * D, st[1] = S * D, st[2] = D; }
static void strides3(int64_t H, int64_t S, int64_t D, int64_t *st) { st[0] = S * H * D, st[1] = D, st[2] = H * D; }

static Value *out_opt(Node *n, int i) { return i < n->nout ? n->out[i] : NULL; }

static void attn_infer(Node *n) {
  Value *q = n->in[0], *k = n->in[1], *v = n->in[2], *m = node_in(n, 3), *pk = node_in(n, 4), *pv = node_in(n, 5),
        *np = node_in(n, 6);
  DType t = q->dtype;
  if (!attn_type_ok(t)) error_node(n, "Q has type %s; float, float16 and double are supported", dtype_name(t));
  if (k->dtype != t || v->dtype != t) error_node(n, "Q, K and V must share one type");
  if (n->opset < 24 && np) error_node(n, "nonpad_kv_seqlen needs opset 24");
  if (q->rank != k->rank || q->rank != v->rank || (q->rank != 3 && q->rank != 4))
    error_node(n, "Q, K, V must all be 3-D or all 4-D (got %s, %s, %s)", shape_str(q), shape_str(k), shape_str(v));
  AttnP *p = xalloc(sizeof *p);
  KAttn *s = &p->s;
  s->B = q->dims[0];
  int64_t qh = attr_int(n, "q_num_heads", 0), kvh = attr_int(n, "kv_num_heads", 0);
  if (q->rank == 4) {
    s->Hq = q->dims[1], s->Sq = q->dims[2], s->D = q->dims[3];
    s->Hkv = k->dims[1], s->Skv = k->dims[2];
    s->Dv = v->dims[3];
    if (k->dims[3] != s->D || v->dims[1] != s->Hkv || v->dims[2] != s->Skv)
      error_node(n, "K %s and V %s do not match Q %s", shape_str(k), shape_str(v), shape_str(q));
    if ((qh && qh != s->Hq) || (kvh && kvh != s->Hkv)) error_node(n, "q_num_heads / kv_num_heads disagree with the 4-D inputs");
    strides4(s->Hq, s->Sq, s->D, s->qs);
    strides4(s->Hkv, s->Skv, s->D, p->kin);
    strides4(s->Hkv, s->Skv, s->Dv, p->vin);
  } else {
    if (qh <= 0 || kvh <= 0) error_node(n, "3-D inputs need the q_num_heads and kv_num_heads attributes");
    s->Hq = qh, s->Hkv = kvh, s->Sq = q->dims[1], s->Skv = k->dims[1];
    if (q->dims[2] % qh || k->dims[2] % kvh || v->dims[2] % kvh) error_node(n, "hidden sizes are not multiples of the head counts");
    s->D = q->dims[2] / qh;
    s->Dv = v->dims[2] / kvh;
    if (k->dims[2] / kvh != s->D || v->dims[1] != s->Skv) error_node(n, "K %s and V %s do not match Q %s", shape_str(k), shape_str(v), shape_str(q));
    strides3(s->Hq, s->Sq, s->D, s->qs);
    strides3(s->Hkv, s->Skv, s->D, p->kin);
    strides3(s->Hkv, s->Skv, s->Dv, p->vin);
  }
  if (k->dims[0] != s->B || v->dims[0] != s->B) error_node(n, "batch sizes of Q, K, V differ");
  if (s->Hkv <= 0 || s->Hq % s->Hkv) error_node(n, "q heads %lld are not a multiple of kv heads %lld", (long long)s->Hq, (long long)s->Hkv);
  if (!pk != !pv) error_node(n, "past_key and past_value must be given together");
  s->P = 0;
  if (pk) {
    if (pk->dtype != t || pv->dtype != t) error_node(n, "past key/value types differ from Q");
    if (pk->rank != 4 || pk->dims[0] != s->B || pk->dims[1] != s->Hkv || pk->dims[3] != s->D || pv->rank != 4 ||
        pv->dims[0] != s->B || pv->dims[1] != s->Hkv || pv->dims[2] != pk->dims[2] || pv->dims[3] != s->Dv)
      error_node(n, "past_key %s / past_value %s do not match K and V", shape_str(pk), shape_str(pv));
    s->P = pk->dims[2];
    if (np) error_node(n, "nonpad_kv_seqlen cannot be used with past_key / past_value");
  }
  s->Tot = s->P + s->Skv;
  if (np && (np->dtype != DT_INT64 || np->rank != 1 || np->dims[0] != s->B))
    error_node(n, "nonpad_kv_seqlen %s must be int64 [batch]", shape_str(np));
  /* mask */
  p->mt = 0;
  if (m) {
    if (m->dtype == DT_BOOL) p->mt = DT_BOOL;
    else if (m->dtype == t) p->mt = t;
    else error_node(n, "attn_mask of type %s is not supported (bool or the type of Q are)", dtype_name(m->dtype));
    if (m->rank < 1 || m->rank > 4) error_node(n, "attn_mask %s must have rank 1 to 4", shape_str(m));
    int64_t full[4] = {s->B, s->Hq, s->Sq, s->Tot}, st = 1;
    s->Tm = m->dims[m->rank - 1];
    if (s->Tm > s->Tot) error_node(n, "attn_mask %s is longer than the total sequence %lld", shape_str(m), (long long)s->Tot);
    for (int d = 3; d >= 0; d--) {
      int md = d - (4 - m->rank);
      int64_t dim = md >= 0 ? m->dims[md] : 1;
      if (d < 3 && dim != 1 && dim != full[d])
        error_node(n, "attn_mask %s does not broadcast to [%lld, %lld, %lld, %lld]", shape_str(m), (long long)full[0],
                   (long long)full[1], (long long)full[2], (long long)full[3]);
      s->ms[d] = dim == 1 && d < 3 ? 0 : st;
      st *= dim;
    }
  }
  float scale = attr_float(n, "scale", 0.0f);
  s->scale = attr_find(n, "scale") ? scale : (float)(1.0 / sqrt((double)s->D));
  s->softcap = attr_float(n, "softcap", 0.0f);
  s->causal = (int)attr_int(n, "is_causal", 0);
  s->mode = (int)attr_int(n, "qk_matmul_output_mode", 0);
  if (s->mode < 0 || s->mode > 3) error_node(n, "qk_matmul_output_mode %d is not valid", s->mode);
  int64_t sp = attr_int(n, "softmax_precision", 0);
  if (sp && sp != DT_FLOAT && sp != DT_FLOAT16 && sp != DT_DOUBLE && sp != DT_BFLOAT16)
    error_node(n, "softmax_precision %lld is not valid", (long long)sp);
  if (sp == DT_DOUBLE && t != DT_DOUBLE) error_node(n, "softmax_precision double is not supported for %s inputs", dtype_name(t));
  s->lwin = n->opset >= 25 ? attr_int(n, "left_window_size", -1) : -1;
  s->rwin = n->opset >= 25 ? attr_int(n, "right_window_size", -1) : -1;
  if (n->opset < 25 && (attr_find(n, "left_window_size") || attr_find(n, "right_window_size")))
    error_node(n, "left/right_window_size need opset 25");
  /* outputs */
  int64_t yd[4];
  if (q->rank == 4) yd[0] = s->B, yd[1] = s->Hq, yd[2] = s->Sq, yd[3] = s->Dv;
  else yd[0] = s->B, yd[1] = s->Sq, yd[2] = s->Hq * s->Dv;
  value_set_shape(n->out[0], t, q->rank, yd);
  if (q->rank == 4) strides4(s->Hq, s->Sq, s->Dv, s->ys);
  else strides3(s->Hq, s->Sq, s->Dv, s->ys);
  Value *ok = out_opt(n, 1), *ov = out_opt(n, 2), *oq = out_opt(n, 3);
  int64_t pd[4] = {s->B, s->Hkv, s->Tot, s->D};
  if (ok) value_set_shape(ok, t, 4, pd);
  pd[3] = s->Dv;
  if (ov) value_set_shape(ov, t, 4, pd);
  int64_t qd[4] = {s->B, s->Hq, s->Sq, s->Tot};
  if (oq) value_set_shape(oq, t, 4, qd);
  /* scratch: scores + accumulator, then present caches that are not outputs */
  int es = dtype_size(t);
  int64_t off = (s->Tot + s->Dv) * acc_size(t);
  off = (off + 63) / 64 * 64;
  p->pk_off = p->pv_off = -1;
  p->concat = s->P > 0 || ok || ov;
  if (p->concat) {
    if (!ok) {
      p->pk_off = off;
      off += (s->B * s->Hkv * s->Tot * s->D * es + 63) / 64 * 64;
    }
    if (!ov) {
      p->pv_off = off;
      off += (s->B * s->Hkv * s->Tot * s->Dv * es + 63) / 64 * 64;
    }
  }
  n->scratch_bytes = off;
  if (s->P > 0) {
    strides4(s->Hkv, s->Tot, s->D, p->ksrc);
    strides4(s->Hkv, s->Tot, s->Dv, p->vsrc);
  } else {
    memcpy(p->ksrc, p->kin, sizeof p->kin);
    memcpy(p->vsrc, p->vin, sizeof p->vin);
  }
  n->macs = s->B * s->Hq * s->Sq * s->Tot * (s->D + s->Dv);
  n->p = p;
}

static const char *attn_tag(DType t) { return t == DT_FLOAT ? "f32" : t == DT_DOUBLE ? "f64" : "f16"; }

static void attn_eval(Node *n, void *const *in, void *const *out) {
  AttnP *p = n->p;
  const KAttn *s = &p->s;
  DType t = n->in[0]->dtype;
  char *S = xalloc((size_t)n->scratch_bytes + 8);
  void *pk = NULL, *pv = NULL;
  if (p->concat) {
    pk = p->pk_off >= 0 ? S + p->pk_off : out[1];
    pv = p->pv_off >= 0 ? S + p->pv_off : out[2];
  }
  const void *ksrc = s->P > 0 ? pk : in[1], *vsrc = s->P > 0 ? pv : in[2];
  const void *mask = node_in(n, 3) ? in[3] : NULL, *pastk = node_in(n, 4) ? in[4] : NULL,
             *pastv = node_in(n, 5) ? in[5] : NULL;
  const int64_t *nonpad = node_in(n, 6) ? in[6] : NULL;
  void *qk = out_opt(n, 3) ? out[3] : NULL;
  switch (t) {
#define RUN(T, tag, A)                                                                                                   \
  if (p->concat) {                                                                                                       \
    k_attn_concat_##tag(s, pastk, in[1], p->kin, s->D, pk);                                                              \
    k_attn_concat_##tag(s, pastv, in[2], p->vin, s->Dv, pv);                                                             \
  }                                                                                                                      \
  k_attention_##tag(s, in[0], ksrc, p->ksrc, vsrc, p->vsrc, mask, p->mt, nonpad, out[0], qk, (A *)S);                  \
  break;
  case DT_FLOAT: RUN(float, f32, float)
  case DT_DOUBLE: RUN(double, f64, double)
  default: RUN(uint16_t, f16, float)
#undef RUN
  }
  free(S);
}

static void attn_emit(Node *n, Emitter *e) {
  AttnP *p = n->p;
  const KAttn *s = &p->s;
  DType t = n->in[0]->dtype;
  const char *tag = attn_tag(t), *ct = dtype_ctype(t), *at = t == DT_DOUBLE ? "double" : "float";
  long long so = n->scratch_off;
  emit_need(e, "k_attention");
  emit(e, "{ static const KAttn s = {%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld,", (long long)s->B,
       (long long)s->Hq, (long long)s->Hkv, (long long)s->Sq, (long long)s->Skv, (long long)s->P, (long long)s->Tot,
       (long long)s->D, (long long)s->Dv);
  emit(e, "    {%lld, %lld, %lld}, {%lld, %lld, %lld}, {%lld, %lld, %lld, %lld}, %lld,",
       (long long)s->qs[0], (long long)s->qs[1], (long long)s->qs[2], (long long)s->ys[0], (long long)s->ys[1],
       (long long)s->ys[2], (long long)s->ms[0], (long long)s->ms[1], (long long)s->ms[2], (long long)s->ms[3],
       (long long)s->Tm);
  emit(e, "    %s, %s, %d, %d, %lld, %lld};", fmt_float(s->scale), fmt_float(s->softcap), s->causal, s->mode,
       (long long)s->lwin, (long long)s->rwin);
  emit(e, "  static const int64_t ks[3] = {%lld, %lld, %lld}, vs[3] = {%lld, %lld, %lld};", (long long)p->ksrc[0],
       (long long)p->ksrc[1], (long long)p->ksrc[2], (long long)p->vsrc[0], (long long)p->vsrc[1], (long long)p->vsrc[2]);
  const char *kref = eref(e, n->in[1]), *vref = eref(e, n->in[2]);
  if (p->concat) {
    const char *pk = p->pk_off >= 0 ? fmt("((%s *)(A + %lld))", ct, so + p->pk_off) : eref(e, n->out[1]);
    const char *pv = p->pv_off >= 0 ? fmt("((%s *)(A + %lld))", ct, so + p->pv_off) : eref(e, n->out[2]);
    emit(e, "  static const int64_t kin[3] = {%lld, %lld, %lld}, vin[3] = {%lld, %lld, %lld};", (long long)p->kin[0],
         (long long)p->kin[1], (long long)p->kin[2], (long long)p->vin[0], (long long)p->vin[1], (long long)p->vin[2]);
    emit(e, "  k_attn_concat_%s(&s, %s, %s, kin, %lld, %s);", tag, node_in(n, 4) ? eref(e, n->in[4]) : "0", kref,
         (long long)s->D, pk);
    emit(e, "  k_attn_concat_%s(&s, %s, %s, vin, %lld, %s);", tag, node_in(n, 5) ? eref(e, n->in[5]) : "0", vref,
         (long long)s->Dv, pv);
    if (s->P > 0) kref = pk, vref = pv;
  }
  Value *m = node_in(n, 3), *np = node_in(n, 6), *oq = out_opt(n, 3);
  emit(e, "  k_attention_%s(&s, %s, %s, ks, %s, vs, %s, %d, %s, %s, %s, (%s *)(A + %lld)); }", tag, eref(e, n->in[0]), kref,
       vref, m ? eref(e, m) : "0", p->mt, np ? eref(e, np) : "0", eref(e, n->out[0]), oq ? eref(e, oq) : "0", at, so);
}

/* ------------------------------------------------------ RotaryEmbedding */

typedef struct RopeP {
  int64_t B, S, H, D, R, npos;
  int64_t xs[3];
  int interleaved;
} RopeP;

static void rope_infer(Node *n) {
  Value *x = n->in[0], *c = n->in[1], *sn = n->in[2], *pos = node_in(n, 3);
  DType t = x->dtype;
  if (t != DT_FLOAT && t != DT_FLOAT16) error_node(n, "input has type %s; float and float16 are supported", dtype_name(t));
  if (c->dtype != t || sn->dtype != t) error_node(n, "cos_cache / sin_cache must have the input's type");
  RopeP *p = xalloc(sizeof *p);
  int64_t nh = attr_int(n, "num_heads", 0);
  p->B = x->dims[0];
  if (x->rank == 4) {
    p->H = x->dims[1], p->S = x->dims[2], p->D = x->dims[3];
    if (nh && nh != p->H) error_node(n, "num_heads %lld disagrees with input %s", (long long)nh, shape_str(x));
    p->xs[0] = p->H * p->S * p->D, p->xs[1] = p->D, p->xs[2] = p->S * p->D;
  } else if (x->rank == 3) {
    if (nh <= 0) error_node(n, "a 3-D input needs the num_heads attribute");
    if (x->dims[2] % nh) error_node(n, "hidden size of %s is not a multiple of num_heads %lld", shape_str(x), (long long)nh);
    p->H = nh, p->S = x->dims[1], p->D = x->dims[2] / nh;
    p->xs[0] = p->S * p->H * p->D, p->xs[1] = p->H * p->D, p->xs[2] = p->D;
  } else
    error_node(n, "input %s must be 3-D or 4-D", shape_str(x));
  p->R = attr_int(n, "rotary_embedding_dim", 0);
  if (!p->R) p->R = p->D;
  if (p->R < 0 || p->R > p->D || p->R % 2) error_node(n, "rotary_embedding_dim %lld is not valid for head size %lld", (long long)p->R, (long long)p->D);
  p->interleaved = (int)attr_int(n, "interleaved", 0);
  int64_t half = p->R / 2;
  if (c->rank < 1 || c->dims[c->rank - 1] != half || sn->rank != c->rank || memcmp(sn->dims, c->dims, sizeof(int64_t) * c->rank))
    error_node(n, "cos_cache %s / sin_cache %s must end in rotary_embedding_dim/2 = %lld", shape_str(c), shape_str(sn), (long long)half);
  if (pos) {
    if (pos->dtype != DT_INT64 || pos->rank != 2 || pos->dims[0] != p->B || pos->dims[1] != p->S)
      error_node(n, "position_ids %s must be int64 [batch, seq]", shape_str(pos));
    if (c->rank != 2) error_node(n, "with position_ids the caches must be 2-D (got %s)", shape_str(c));
    p->npos = c->dims[0];
  } else {
    if (c->rank != 3 || c->dims[0] != p->B || c->dims[1] != p->S)
      error_node(n, "without position_ids the caches must be [batch, seq, dim/2] (got %s)", shape_str(c));
    p->npos = p->B * p->S;
  }
  value_set_shape(n->out[0], t, x->rank, x->dims);
  n->p = p;
}

static void rope_eval(Node *n, void *const *in, void *const *out) {
  RopeP *p = n->p;
  const int64_t *pos = node_in(n, 3) ? in[3] : NULL;
  if (n->in[0]->dtype == DT_FLOAT)
    k_rope_f32(p->B, p->S, p->H, p->D, p->R, p->xs, in[0], in[1], in[2], pos, p->npos, p->interleaved, out[0]);
  else
    k_rope_f16(p->B, p->S, p->H, p->D, p->R, p->xs, in[0], in[1], in[2], pos, p->npos, p->interleaved, out[0]);
}

static void rope_emit(Node *n, Emitter *e) {
  RopeP *p = n->p;
  Value *pos = node_in(n, 3);
  emit_need(e, "k_attention");
  emit(e, "{ static const int64_t xs[3] = {%lld, %lld, %lld};", (long long)p->xs[0], (long long)p->xs[1], (long long)p->xs[2]);
  emit(e, "  k_rope_%s(%lld, %lld, %lld, %lld, %lld, xs, %s, %s, %s, %s, %lld, %d, %s); }",
       n->in[0]->dtype == DT_FLOAT ? "f32" : "f16", (long long)p->B, (long long)p->S, (long long)p->H, (long long)p->D,
       (long long)p->R, eref(e, n->in[0]), eref(e, n->in[1]), eref(e, n->in[2]), pos ? eref(e, pos) : "0",
       (long long)p->npos, p->interleaved, eref(e, n->out[0]));
}

const OpDef opdef_Attention = {"is_causal,kv_num_heads,q_num_heads,qk_matmul_output_mode,scale,softcap,softmax_precision,"
                               "left_window_size,right_window_size",
                               3, 7, 1, 4, attn_infer, attn_eval, attn_emit, 0};
const OpDef opdef_RotaryEmbedding = {"interleaved,num_heads,rotary_embedding_dim", 3, 4, 1, 1, rope_infer, rope_eval,
                                     rope_emit, 0};
