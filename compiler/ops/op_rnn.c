/*
 * op_rnn.c: RNN, GRU and LSTM (every opset: 1, 3 (GRU), 7, 14, 22), float.
 *
 * directions forward / reverse / bidirectional, optional B, sequence_lens
 * (read at run time), initial_h, initial_c and peepholes P, activations with
 * activation_alpha / activation_beta, clip, layout 0 / 1,
 * linear_before_reset (GRU), input_forget (LSTM); any subset of the
 * outputs Y, Y_h, Y_c.  infer fills a KRnnShape; the kernel is
 * runtime/k_rnn.h (one call, scratch in the arena).
 */
#include "mrtc.h"
#include "k_rnn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct RnnP {
  KRnnShape s;
} RnnP;

static const struct {
  const char *name;
  int kind, na, nb; /* how many of alpha / beta it takes */
  float da, db;
} acts[] = {
    {"Sigmoid", K_RNN_SIGMOID, 0, 0, 0, 0},         {"Tanh", K_RNN_TANH, 0, 0, 0, 0},
    {"Relu", K_RNN_RELU, 0, 0, 0, 0},               {"Affine", K_RNN_AFFINE, 1, 1, 1.0f, 0.0f},
    {"LeakyRelu", K_RNN_LEAKYRELU, 1, 0, 0.01f, 0}, {"ThresholdedRelu", K_RNN_THRESHOLDEDRELU, 1, 0, 1.0f, 0},
    {"ScaledTanh", K_RNN_SCALEDTANH, 1, 1, 1.0f, 1.0f}, {"HardSigmoid", K_RNN_HARDSIGMOID, 1, 1, 0.2f, 0.5f},
    {"Elu", K_RNN_ELU, 1, 0, 1.0f, 0},              {"Softsign", K_RNN_SOFTSIGN, 0, 0, 0, 0},
    {"Softplus", K_RNN_SOFTPLUS, 0, 0, 0, 0},
};

static void rnn_infer(Node *n) {
  int cell = n->op == OP_RNN ? 0 : n->op == OP_GRU ? 1 : 2;
  int64_t G = cell == 0 ? 1 : cell == 1 ? 3 : 4;
  int nact = cell == 0 ? 1 : cell == 1 ? 2 : 3;
  for (int i = 0; i < n->nin; i++) {
    Value *v = n->in[i];
    if (!v || i == 4) continue;
    if (v->dtype != DT_FLOAT)
      error_node(n, "input %d ('%s') has type %s; %s supports float only", i, v->name, dtype_name(v->dtype), n->op_type);
  }
  Value *x = n->in[0], *w = n->in[1], *r = n->in[2];
  Value *b = node_in(n, 3), *sl = node_in(n, 4), *h0 = node_in(n, 5), *c0 = cell == 2 ? node_in(n, 6) : NULL;
  Value *p = cell == 2 ? node_in(n, 7) : NULL;
  RnnP *rp = xalloc(sizeof *rp);
  KRnnShape *s = &rp->s;
  s->cell = cell;
  s->layout = (int)attr_int(n, "layout", 0);
  if (s->layout != 0 && s->layout != 1) error_node(n, "layout %d is not valid", s->layout);
  if (s->layout && n->opset < 14) error_node(n, "attribute 'layout' needs opset 14");
  const char *dir = attr_str(n, "direction", "forward");
  if (!strcmp(dir, "forward")) s->dirs = 1;
  else if (!strcmp(dir, "reverse")) s->dirs = 1, s->reverse = 1;
  else if (!strcmp(dir, "bidirectional")) s->dirs = 2;
  else error_node(n, "direction '%s' is not valid", dir);
  int64_t D = s->dirs;
  if (x->rank != 3) error_node(n, "X must be 3-D, got %s", shape_str(x));
  s->T = s->layout ? x->dims[1] : x->dims[0];
  s->B = s->layout ? x->dims[0] : x->dims[1];
  s->I = x->dims[2];
  if (r->rank != 3) error_node(n, "R must be 3-D, got %s", shape_str(r));
  s->H = r->dims[2];
  int64_t hs = attr_int(n, "hidden_size", s->H);
  if (hs != s->H) error_node(n, "hidden_size %lld does not match R %s", (long long)hs, shape_str(r));
  int64_t H = s->H;
  if (w->rank != 3 || w->dims[0] != D || w->dims[1] != G * H || w->dims[2] != s->I)
    error_node(n, "W %s does not match [%lld, %lld, %lld]", shape_str(w), (long long)D, (long long)(G * H), (long long)s->I);
  if (r->dims[0] != D || r->dims[1] != G * H) error_node(n, "R %s does not match [%lld, %lld, %lld]", shape_str(r), (long long)D, (long long)(G * H), (long long)H);
  if (b && (b->rank != 2 || b->dims[0] != D || b->dims[1] != 2 * G * H)) error_node(n, "B %s does not match [%lld, %lld]", shape_str(b), (long long)D, (long long)(2 * G * H));
  if (sl) {
    if (sl->dtype != DT_INT32) error_node(n, "sequence_lens must be int32, got %s", dtype_name(sl->dtype));
    if (sl->numel != s->B) error_node(n, "sequence_lens %s does not match batch %lld", shape_str(sl), (long long)s->B);
  }
  int64_t st[3] = {s->layout ? s->B : D, s->layout ? D : s->B, H};
  Value *states[2] = {h0, c0};
  for (int k = 0; k < 2; k++)
    if (states[k] && (states[k]->rank != 3 || memcmp(states[k]->dims, st, sizeof st)))
      error_node(n, "%s %s does not match [%lld, %lld, %lld]", k ? "initial_c" : "initial_h", shape_str(states[k]),
                 (long long)st[0], (long long)st[1], (long long)st[2]);
  if (p && (p->rank != 2 || p->dims[0] != D || p->dims[1] != 3 * H)) error_node(n, "P %s does not match [%lld, %lld]", shape_str(p), (long long)D, (long long)(3 * H));
  s->clip = attr_float(n, "clip", 0.0f);
  if (attr_find(n, "clip") && !(s->clip > 0)) error_node(n, "clip must be positive");
  s->lbr = cell == 1 ? (int)attr_int(n, "linear_before_reset", 0) : 0;
  if (cell == 1 && n->opset < 3 && attr_find(n, "linear_before_reset")) error_node(n, "linear_before_reset needs opset 3");
  s->input_forget = cell == 2 ? (int)attr_int(n, "input_forget", 0) : 0;
  if (cell != 1 && attr_find(n, "linear_before_reset")) error_node(n, "linear_before_reset is a GRU attribute");
  if (cell != 2 && attr_find(n, "input_forget")) error_node(n, "input_forget is an LSTM attribute");
  attr_int(n, "output_sequence", 0); /* opset 1: Y is produced whenever it is requested */

  /* activations */
  Attr *aa = attr_find(n, "activations");
  float alpha[6], beta[6];
  int nal = attr_floats(n, "activation_alpha", alpha, 6), nbe = attr_floats(n, "activation_beta", beta, 6), ia = 0, ib = 0;
  if (nal < 0) nal = 0;
  if (nbe < 0) nbe = 0;
  const char *defs[3] = {cell == 0 ? "Tanh" : "Sigmoid", "Tanh", "Tanh"};
  if (aa) {
    if (aa->type != AT_STRINGS) error_node(n, "attribute 'activations' must be a list of strings");
    if (aa->nstrings != nact * D && !(D == 2 && aa->nstrings == nact))
      error_node(n, "activations has %d entries, expected %lld", aa->nstrings, (long long)(nact * D));
  }
  for (int d = 0; d < D; d++)
    for (int k = 0; k < nact; k++) {
      const char *nm = aa ? aa->strings[(d * nact + k) % aa->nstrings] : defs[k];
      int f = -1;
      for (size_t q = 0; q < sizeof acts / sizeof *acts; q++)
        if (!strcasecmp(nm, acts[q].name)) f = (int)q;
      if (f < 0) error_node(n, "activation '%s' is not supported", nm);
      s->act[d][k] = acts[f].kind;
      s->alpha[d][k] = acts[f].na ? (ia < nal ? alpha[ia++] : acts[f].da) : 0;
      s->beta[d][k] = acts[f].nb ? (ib < nbe ? beta[ib++] : acts[f].db) : 0;
    }

  /* outputs */
  if (n->nout > 0 && n->out[0]) {
    int64_t yd[4] = {s->T, D, s->B, H};
    if (s->layout) yd[0] = s->B, yd[1] = s->T, yd[2] = D;
    value_set_shape(n->out[0], DT_FLOAT, 4, yd);
  }
  for (int k = 1; k < n->nout; k++)
    if (n->out[k]) {
      if (k == 2 && cell != 2) error_node(n, "%s has no output Y_c", n->op_type);
      value_set_shape(n->out[k], DT_FLOAT, 3, st);
    }
  n->scratch_bytes = k_rnn_scratch(s) * 4;
  n->macs = D * s->T * s->B * G * H * (s->I + H);
  n->p = rp;
}

static Value *out_at(Node *n, int k) { return k < n->nout ? n->out[k] : NULL; }

static void rnn_eval(Node *n, void *const *in, void *const *out) {
  RnnP *p = n->p;
  float *sc = xalloc((size_t)n->scratch_bytes + 4);
  int lstm = p->s.cell == 2;
  k_rnn_f32(&p->s, in[0], in[1], in[2], node_in(n, 3) ? in[3] : NULL, node_in(n, 4) ? in[4] : NULL,
            node_in(n, 5) ? in[5] : NULL, lstm && node_in(n, 6) ? in[6] : NULL, lstm && node_in(n, 7) ? in[7] : NULL,
            out_at(n, 0) ? out[0] : NULL, out_at(n, 1) ? out[1] : NULL, out_at(n, 2) ? out[2] : NULL, sc);
  free(sc);
}

static const char *opt(Emitter *e, Value *v) { return v ? eref(e, v) : "0"; }

static void rnn_emit(Node *n, Emitter *e) {
  RnnP *p = n->p;
  const KRnnShape *s = &p->s;
  int lstm = s->cell == 2;
  emit_need(e, "k_rnn");
  Buf a = {0};
  for (int d = 0; d < 2; d++) buf_printf(&a, "%s{%d, %d, %d}", d ? ", " : "", s->act[d][0], s->act[d][1], s->act[d][2]);
  Buf al = {0}, be = {0};
  for (int d = 0; d < 2; d++) {
    buf_printf(&al, "%s{%s, %s, %s}", d ? ", " : "", fmt_float(s->alpha[d][0]), fmt_float(s->alpha[d][1]), fmt_float(s->alpha[d][2]));
    buf_printf(&be, "%s{%s, %s, %s}", d ? ", " : "", fmt_float(s->beta[d][0]), fmt_float(s->beta[d][1]), fmt_float(s->beta[d][2]));
  }
  emit(e, "{ static const KRnnShape s = {%d, %lld, %lld, %lld, %lld, %d, %d, %d, %d, %d, %s, {%s}, {%s}, {%s}};", s->cell,
       (long long)s->T, (long long)s->B, (long long)s->I, (long long)s->H, s->dirs, s->reverse, s->layout, s->lbr,
       s->input_forget, fmt_float(s->clip), a.s, al.s, be.s);
  emit(e, "  k_rnn_f32(&s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, (float *)(A + %lld)); }", eref(e, n->in[0]),
       eref(e, n->in[1]), eref(e, n->in[2]), opt(e, node_in(n, 3)), opt(e, node_in(n, 4)), opt(e, node_in(n, 5)),
       lstm ? opt(e, node_in(n, 6)) : "0", lstm ? opt(e, node_in(n, 7)) : "0", opt(e, out_at(n, 0)), opt(e, out_at(n, 1)),
       opt(e, out_at(n, 2)), (long long)n->scratch_off);
}

#define RNN_ATTRS "activation_alpha,activation_beta,activations,clip,direction,hidden_size,layout,output_sequence"
const OpDef opdef_RNN = {RNN_ATTRS, 3, 6, 0, 2, rnn_infer, rnn_eval, rnn_emit, 0};
const OpDef opdef_GRU = {RNN_ATTRS ",linear_before_reset", 3, 6, 0, 2, rnn_infer, rnn_eval, rnn_emit, 0};
const OpDef opdef_LSTM = {RNN_ATTRS ",input_forget", 3, 8, 0, 3, rnn_infer, rnn_eval, rnn_emit, 0};
