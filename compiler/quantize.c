/*
 * quantize.c: precision assignment and lowering (after fuse.c, before the
 * planner).
 *
 * 1. Every live node gets a precision from the config: by_name beats
 *    by_type beats default (a name also matches a node fused into a host:
 *    "relu1" selects the Conv that absorbed it).  Node.why records which
 *    rule decided.  A node whose op has no int8 (or fp16) form, or whose
 *    operands rule it out (run-time weights, an activation that is not a
 *    clamp...), falls back to fp32 and why says so.
 * 2. If any node is int8, the float graph is calibrated (calibrate.c) and
 *    each tensor at an int8 node gets a scale and zero point from its
 *    calibrator; QDQ-pinned tensors keep the model's.
 * 3. The schedule is rewritten in order.  Each tensor may have up to three
 *    representations: the float value of the model, an int8 value (":i8")
 *    and an fp16 value (":f16").  An int8 node reads the int8 form of its
 *    inputs and produces an int8 value; a conversion node (MrtcQuantize,
 *    MrtcDequantize, MrtcToF16, MrtcFromF16) is inserted the first time a
 *    consumer needs a form that does not exist yet, and shared by later
 *    consumers.  Graph outputs are always float.
 *
 * int8 lowering (runtime/k_int8.h, ops/op_int8.c):
 *   Conv, Gemm, MatMul (constant B)  -> MrtcQConv / MrtcQGemm: weights
 *       symmetric int8 per output channel (or per tensor), bias int32 at
 *       scale sx * sw[m] with -zx * sum(w) folded in, one multiplier per
 *       channel and a shared shift; fused Relu / Clip = the output clamp;
 *       a fused residual is requantized into the sum.
 *   Add, Sub, Mul -> MrtcQBin; Concat -> MrtcQConcat (inputs requantized
 *   to the output's scale); AveragePool, GlobalAveragePool -> MrtcQAvgPool;
 *   unary activations -> MrtcQLut (256-entry table built here);
 *   MaxPool, GlobalMaxPool, Reshape, Flatten, Squeeze, Unsqueeze,
 *   Identity, Dropout -> the op itself on int8 data (scale kept).
 * fp16 lowering (runtime/k_fp16.h, ops/op_fp16.c): Conv, Gemm, MatMul
 *   with constant weights -> MrtcHConv / MrtcHGemm; views pass halves.
 *
 * Multipliers: a real factor r is mult * 2^-shift with mult < 2^31, from
 * frexp (quantize_multiplier); channels share the shift of the largest.
 */
#include "mrtc.h"
#include "k_fp16.h"
#include "k_int8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Rep {
  Value *q, *h;      /* int8 / fp16 forms */
  int pending;       /* the float value has no producer yet: converted on demand */
  int has_qp;
  float scale;       /* int8 parameters of this tensor */
  int32_t zp;
  int pinned;        /* parameters from a QDQ pair of the model */
} Rep;

typedef struct Probe {
  char *name;        /* the float tensor of the model */
  Value *v;          /* its int8 / fp16 form */
  Node *node;
  float scale;       /* int8: the form's parameters */
  int32_t zp;
} Probe;

static struct {
  Graph *g;
  const QConfig *cfg;
  Calib *cal;
  Rep **rep;         /* by value id; each Rep allocated once, so pointers to it stay valid */
  int nrep;
  Node **out;
  int nout;
  QRule *rule;       /* per original node position */
  int nnodes0;
  Probe *probes;
  int nprobes;
  int *role;         /* per original node: ROLE_Q / ROLE_DQ of a QDQ pair */
  float *qs;         /* and the pair's scale and (int8) zero point */
  int32_t *qz;
  unsigned char *isauto; /* per original node: precision "auto" */
} Q;

enum { ROLE_NONE, ROLE_Q, ROLE_DQ };

/* ------------------------------------------------------------- helpers */

static Rep *rep_of(Value *v) {
  if (v->id >= Q.nrep) {
    int n = v->id + 64 + Q.nrep;
    Q.rep = xrealloc(Q.rep, sizeof(Rep *) * n);
    memset(Q.rep + Q.nrep, 0, sizeof(Rep *) * (n - Q.nrep));
    Q.nrep = n;
  }
  if (!Q.rep[v->id]) Q.rep[v->id] = xalloc(sizeof(Rep));
  return Q.rep[v->id];
}

static void push(Node *n) {
  Q.out = xrealloc(Q.out, sizeof(Node *) * (Q.nout + 1));
  Q.out[Q.nout++] = n;
}

static Value *new_value(const char *name, DType t, int rank, const int64_t *dims) {
  Value *v = graph_value(Q.g, name);
  if (v->rank >= 0 || v->producer || v->data) v = graph_value(Q.g, fmt("%s~%d", name, Q.g->nvalues));
  value_set_shape(v, t, rank, dims);
  return v;
}

static Value *new_const(const char *name, DType t, int rank, const int64_t *dims) {
  Value *v = graph_find(Q.g, name) ? value_new_const(Q.g, fmt("%s~%d", name, Q.g->nvalues), t, rank, dims)
                                   : value_new_const(Q.g, name, t, rank, dims);
  return v;
}

static Node *new_node(const char *name, int op, Value *in, Value *out, void *p) {
  Node *n = xalloc(sizeof *n);
  n->name = xstrdup(name);
  n->op_type = (char *)op_names[op];
  n->domain = "";
  n->op = op;
  n->opset = Q.g->opset;
  n->nin = n->nout = 1;
  n->in = xalloc(sizeof(Value *));
  n->out = xalloc(sizeof(Value *));
  n->in[0] = in;
  n->out[0] = out;
  n->p = p;
  n->index = -1;
  out->producer = n;
  return n;
}

static void set_inputs(Node *n, int nin, Value **in) {
  n->in = xalloc(sizeof(Value *) * (nin + 1));
  memcpy(n->in, in, sizeof(Value *) * nin);
  n->nin = nin;
}

static const float *cf32(Value *v) { return v && v->data && v->dtype == DT_FLOAT ? v->data : NULL; }

/* real factor -> mult * 2^-shift (mult < 2^31); the N factors share one shift */
static void fixed_mults(const double *r, int n, int32_t *mult, int32_t *shift) {
  double mx = 0;
  for (int i = 0; i < n; i++)
    if (fabs(r[i]) > mx) mx = fabs(r[i]);
  if (!(mx > 0) || !isfinite(mx)) {
    for (int i = 0; i < n; i++) mult[i] = 0;
    *shift = 1;
    return;
  }
  int e;
  frexp(mx, &e);
  int s = 31 - e;
  if (llround(ldexp(mx, s)) >= (1LL << 31)) s--;
  if (s > 62) s = 62;
  if (s < 1) fatal("requantization factor %g is too large (a scale of the int8 model is degenerate)", mx);
  for (int i = 0; i < n; i++) mult[i] = (int32_t)llround(ldexp(r[i], s));
  *shift = s;
}

static void fixed_mult(double r, int32_t *mult, int32_t *shift) { fixed_mults(&r, 1, mult, shift); }

static int32_t clamp8(double v) { return v < -128 ? -128 : v > 127 ? 127 : (int32_t)v; }

/* ------------------------------------------------------ tensor params */

static int act_symmetric(void) { return Q.cfg->a_symmetric; }

static void set_qp(Rep *r, double lo, double hi) {
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  double s;
  int32_t zp;
  if (act_symmetric()) {
    s = fmax(-lo, hi) / 127.0;
    if (!(s > 0)) s = 1;
    zp = 0;
  } else {
    s = (hi - lo) / 255.0;
    if (!(s > 0)) s = 1;
    zp = clamp8(nearbyint(-128.0 - lo / s));
  }
  r->scale = (float)s;
  r->zp = zp;
  r->has_qp = 1;
}

/* calibrator and percentile for tensor V (its producer's rule, else the defaults) */
static void calib_of(Value *v, int *cal, double *pct) {
  *cal = Q.cfg->a_calibrator >= 0 ? Q.cfg->a_calibrator : CALIB_PERCENTILE;
  *pct = Q.cfg->a_percentile;
  Node *p = v->producer;
  if (p && p->index >= 0 && p->index < Q.nnodes0 && Q.g->nodes[p->index] == p) {
    QRule *r = &Q.rule[p->index];
    if (r->calibrator >= 0) *cal = r->calibrator;
    if (r->percentile > 0) *pct = r->percentile;
  }
}

static void qparams(Value *v) {
  Rep *r = rep_of(v);
  if (r->has_qp) return;
  double lo = 0, hi = 0;
  if (v->data) {
    for (int64_t i = 0; i < v->numel; i++) {
      double x = elem_get_f64(v->data, v->dtype, i);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  } else {
    TStats *t = Q.cal && v->id < Q.cal->nvalues ? &Q.cal->t[v->id] : NULL;
    if (!t || !t->valid) fatal("internal: no calibration statistics for tensor '%s'", v->name);
    int cal;
    double pct;
    calib_of(v, &cal, &pct);
    calib_range(t, cal, pct, !act_symmetric() && t->min >= 0 ? 256 : 128, &lo, &hi);
    verbose("tensor '%s': %s range [%g, %g] of [%g, %g]", v->name, calib_name(cal), lo, hi, t->min, t->max);
  }
  set_qp(r, lo, hi);
}

static QScale *qscale(float s, int32_t zp) {
  QScale *p = xalloc(sizeof *p);
  p->scale = s;
  p->zp = zp;
  return p;
}

static int is_view(int op);

/* --------------------------------------------------- representations */

static void add_probe(Value *orig, Value *form, Node *n, float scale, int32_t zp) {
  if (is_view(n->op)) return;
  Q.probes = xrealloc(Q.probes, sizeof(Probe) * (Q.nprobes + 1));
  Q.probes[Q.nprobes++] = (Probe){xstrdup(orig->name), form, n, scale, zp};
}

/* the float form of V, converting on first need */
static Value *get_f(Value *v) {
  if (!v) return v;
  Rep *r = rep_of(v);
  if (!r->pending) return v;
  r->pending = 0;
  Node *c;
  if (r->q) {
    c = new_node(fmt("%s:dequantize", v->name), OP_MrtcDequantize, r->q, v, qscale(r->scale, r->zp));
    c->precision = PREC_INT8;
    c->qinfo = fmt("\"scale\": %.9g, \"zero_point\": %d", r->scale, r->zp);
  } else {
    c = new_node(fmt("%s:from_f16", v->name), OP_MrtcFromF16, r->h, v, qscale(1, 0));
    c->precision = PREC_FP16;
  }
  c->why = "boundary";
  push(c);
  return v;
}

static Value *get_q(Value *v) {
  Rep *r = rep_of(v);
  if (r->q) return r->q;
  qparams(v);
  if (v->data) {
    Value *c = new_const(fmt("%s:i8", v->name), DT_INT8, v->rank, v->dims);
    for (int64_t i = 0; i < v->numel; i++) {
      double x = elem_get_f64(v->data, v->dtype, i);
      ((int8_t *)c->data)[i] = (int8_t)clamp8(nearbyint(x / r->scale) + r->zp);
    }
    r->q = c;
    return c;
  }
  Value *f = get_f(v);
  Value *q = new_value(fmt("%s:i8", v->name), DT_INT8, v->rank, v->dims);
  Node *c = new_node(fmt("%s:quantize", v->name), OP_MrtcQuantize, f, q, qscale(r->scale, r->zp));
  c->precision = PREC_INT8;
  c->why = "boundary";
  c->qinfo = fmt("\"scale\": %.9g, \"zero_point\": %d", r->scale, r->zp);
  push(c);
  r->q = q;
  return q;
}

static Value *get_h(Value *v) {
  Rep *r = rep_of(v);
  if (r->h) return r->h;
  if (v->data) {
    Value *c = new_const(fmt("%s:f16", v->name), DT_FLOAT16, v->rank, v->dims);
    for (int64_t i = 0; i < v->numel; i++) ((uint16_t *)c->data)[i] = float_to_half((float)elem_get_f64(v->data, v->dtype, i));
    r->h = c;
    return c;
  }
  Value *f = get_f(v);
  Value *h = new_value(fmt("%s:f16", v->name), DT_FLOAT16, v->rank, v->dims);
  Node *c = new_node(fmt("%s:to_f16", v->name), OP_MrtcToF16, f, h, qscale(1, 0));
  c->precision = PREC_FP16;
  c->why = "boundary";
  push(c);
  r->h = h;
  return h;
}

/* N's output K becomes an int8 (or fp16) value; the float one waits for a consumer */
static Value *form_output(Node *n, int k, DType t, float scale, int32_t zp) {
  Value *v = n->out[k];
  Rep *r = rep_of(v);
  Value *f = new_value(fmt("%s:%s", v->name, t == DT_INT8 ? "i8" : "f16"), t, v->rank, v->dims);
  f->producer = n;
  n->out[k] = f;
  v->producer = NULL;
  r->pending = 1;
  if (t == DT_INT8) {
    r->q = f;
    r->scale = scale;
    r->zp = zp;
    r->has_qp = 1;
  } else
    r->h = f;
  add_probe(v, f, n, scale, zp);
  return f;
}

/* ------------------------------------------------------- applicability */

static int clamp_act(int act) { return act == FUSE_ACT_NONE || act == FUSE_ACT_RELU || act == FUSE_ACT_CLIP; }

static int is_view(int op) {
  return op == OP_Reshape || op == OP_Flatten || op == OP_Squeeze || op == OP_Unsqueeze || op == OP_Identity || op == OP_Dropout;
}

static int is_lut_op(int op) {
  switch (op) {
  case OP_Relu: case OP_Clip: case OP_LeakyRelu: case OP_Sigmoid: case OP_Tanh: case OP_HardSigmoid: case OP_HardSwish:
  case OP_Elu: case OP_Selu: case OP_Softplus: case OP_Softsign: case OP_Neg: case OP_Abs: case OP_Exp: case OP_Erf:
  case OP_Gelu: case OP_Mish: case OP_Celu: case OP_ThresholdedRelu:
    return 1;
  default: return 0;
  }
}

static int float_in(Value *v) { return v && v->dtype == DT_FLOAT; }

/* common conditions of Conv / Gemm / MatMul lowering (int8 and fp16) */
static const char *mm_unsupported(Node *n, int int8) {
  Value *x = n->in[0], *w = n->in[1];
  if (!float_in(x) || !float_in(w) || n->out[0]->dtype != DT_FLOAT) return "not a float layer";
  if (!cf32(w)) return "its weights are not constant";
  if (int8 && !clamp_act(n->fuse_act)) return "its fused activation is not a Relu / Clip";
  if (n->fuse_res && !float_in(n->in[n->fuse_res])) return "its residual is not float";
  if (n->op == OP_Conv) {
    if (x->rank != 3 && x->rank != 4) return "only 1-D and 2-D convolutions";
    Value *b = node_in(n, 2);
    if (b && !cf32(b)) return "its bias is not constant";
  } else if (n->op == OP_Gemm) {
    if (attr_int(n, "transA", 0)) return "transA = 1";
    Value *c = node_in(n, 2);
    if (c && !cf32(c)) return "C is not constant";
    if (c && c->rank == 2 && c->dims[0] != 1) return "C is not a per-column bias";
    if (attr_float(n, "alpha", 1.0f) == 0) return "alpha = 0";
  } else {
    if (w->rank != 2) return "B is not a 2-D matrix";
    if (x->rank < 1) return "A is a scalar";
  }
  if (n->fuse_bias && !cf32(n->in[n->fuse_bias])) return "its fused bias is not constant";
  return NULL;
}

static const char *int8_unsupported(Node *n) {
  switch (n->op) {
  case OP_Conv: case OP_Gemm: case OP_MatMul: return mm_unsupported(n, 1);
  case OP_Add: case OP_Sub: case OP_Mul:
    if (n->nin != 2 || !float_in(n->in[0]) || !float_in(n->in[1])) return "not a float op";
    if (n->out[0]->rank > 8) return "rank above 8";
    return NULL;
  case OP_Concat:
    for (int k = 0; k < n->nin; k++)
      if (!float_in(n->in[k])) return "not a float op";
    return NULL;
  case OP_AveragePool: case OP_GlobalAveragePool: {
    Value *x = n->in[0];
    if (!float_in(x)) return "not a float op";
    if (n->op == OP_GlobalAveragePool) return x->rank >= 3 ? NULL : "input rank below 3";
    if (x->rank != 3 && x->rank != 4) return "only 1-D and 2-D pooling";
    int64_t dil[MAX_RANK];
    int nd = attr_ints(n, "dilations", dil, MAX_RANK);
    for (int d = 0; d < nd; d++)
      if (dil[d] != 1) return "dilated pooling";
    return NULL;
  }
  case OP_MaxPool: case OP_GlobalMaxPool:
    if (!float_in(n->in[0])) return "not a float op";
    if (n->nout > 1 && n->out[1]) return "its Indices output is used";
    return NULL;
  default:
    if (is_view(n->op)) {
      if (!float_in(n->in[0])) return "not a float tensor";
      for (int k = 1; k < n->nout; k++)
        if (n->out[k]) return "a second output is used";
      return NULL;
    }
    if (is_lut_op(n->op)) {
      if (!float_in(n->in[0])) return "not a float op";
      if (n->op == OP_Clip && n->opset >= 11)
        for (int k = 1; k < n->nin; k++)
          if (n->in[k] && (!cf32(n->in[k]) || n->in[k]->numel != 1)) return "its bounds are not constant";
      return NULL;
    }
    return fmt("no int8 kernel for %s", n->op_type);
  }
}

static const char *fp16_unsupported(Node *n) {
  if (n->op == OP_Conv || n->op == OP_Gemm || n->op == OP_MatMul) return mm_unsupported(n, 0);
  if (is_view(n->op)) {
    if (!float_in(n->in[0])) return "not a float tensor";
    for (int k = 1; k < n->nout; k++)
      if (n->out[k]) return "a second output is used";
    return NULL;
  }
  return fmt("no fp16 kernel for %s", n->op_type);
}

/* ----------------------------------------------------------- geometry */

typedef struct Geo {
  int64_t N, C, H, W, M, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, G;
} Geo;

/* Conv (weights W) or pooling (W NULL) geometry in 2-D form (1-D: H = 1) */
static void geometry(Node *n, Value *w, Geo *s, int ceil_mode) {
  Value *x = n->in[0];
  int nsp = x->rank - 2;
  int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK], pb[MAX_RANK], pe[MAX_RANK], out[MAX_RANK];
  conv_geometry(n, nsp, w ? w->dims + 2 : NULL, k, st, dil);
  conv_pads(n, nsp, x->dims + 2, k, st, dil, ceil_mode, pb, pe, out);
  memset(s, 0, sizeof *s);
  s->N = x->dims[0];
  s->C = x->dims[1];
  s->M = w ? w->dims[0] : s->C;
  s->G = w ? attr_int(n, "group", 1) : 1;
  if (nsp == 1) {
    s->H = 1, s->W = x->dims[2], s->OH = 1, s->OW = out[0], s->KH = 1, s->KW = k[0], s->SH = 1, s->SW = st[0];
    s->PT = 0, s->PL = pb[0], s->PB = 0, s->PR = pe[0], s->DH = 1, s->DW = dil[0];
  } else {
    s->H = x->dims[2], s->W = x->dims[3], s->OH = out[0], s->OW = out[1], s->KH = k[0], s->KW = k[1];
    s->SH = st[0], s->SW = st[1], s->PT = pb[0], s->PL = pb[1], s->PB = pe[0], s->PR = pe[1], s->DH = dil[0], s->DW = dil[1];
  }
}

/* ------------------------------------------------------------- weights */

/* symmetric int8 weights, one scale per row of W (M rows of K) or one for all */
/* GIVEN: the scales are the model's (QDQ weights: w is exactly q * scale, q in [-128, 127]) */
static Value *quant_weights(const char *name, const float *w, int64_t M, int64_t K, int per_channel, double *ws, int given) {
  int64_t d[2] = {M, K};
  Value *q = new_const(name, DT_INT8, 2, d);
  int8_t *o = q->data;
  double all = 0;
  for (int64_t i = 0; i < M * K; i++) all = fmax(all, fabs(w[i]));
  for (int64_t m = 0; m < M; m++) {
    double a = 0;
    if (given) a = ws[m] * 127.0;
    else if (per_channel)
      for (int64_t k = 0; k < K; k++) a = fmax(a, fabs(w[m * K + k]));
    else
      a = all;
    if (!given) ws[m] = a > 0 ? (double)(float)(a / 127.0) : 1.0;
    for (int64_t k = 0; k < K; k++) {
      double v = nearbyint(w[m * K + k] / ws[m]);
      o[m * K + k] = (int8_t)(v < -128 + !given ? -128 + !given : v > 127 ? 127 : v);
    }
  }
  return q;
}

/* the scales of weights W that a (folded) DequantizeLinear of int8 made, along the
 * output-channel axis AXIS of W (or one scale); 0 when W did not come from one */
static int qdq_weight_scales(Value *w, int axis, int64_t M, double *ws) {
  Node *d = w->producer;
  if (!d || d->op != OP_DequantizeLinear || !d->dead || d->nin < 2) return 0;
  Value *q = d->in[0], *sc = d->in[1], *z = node_in(d, 2);
  if (!q->data || q->dtype != DT_INT8 || !cf32(sc)) return 0;
  if (z && (!z->data || z->dtype != DT_INT8)) return 0;
  for (int64_t i = 0; z && i < z->numel; i++)
    if (((int8_t *)z->data)[i]) return 0;
  if (sc->numel == 1) {
    for (int64_t m = 0; m < M; m++) ws[m] = cf32(sc)[0];
    return 1;
  }
  int64_t ax = 1;
  for (int i = 0; i < d->nattrs; i++)
    if (!strcmp(d->attrs[i].name, "axis")) ax = d->attrs[i].i;
  if (ax < 0) ax += w->rank;
  if (ax != axis || sc->numel != M) return 0;
  for (int64_t m = 0; m < M; m++) ws[m] = cf32(sc)[m];
  return 1;
}

static int weight_per_channel(Node *n) {
  int pc = Q.cfg->w_per_channel;
  if (n->index >= 0 && n->index < Q.nnodes0 && Q.rule[n->index].weight_per_channel >= 0) pc = Q.rule[n->index].weight_per_channel;
  return pc;
}

/* int32 bias with -zx * sum(w) folded in, and the per-channel multipliers */
static void int_epilogue(Node *n, const int8_t *wq, int64_t M, int64_t K, const double *ws, double sx, int32_t zx,
                         const double *bias, double sy, double alpha, Value **bias_v, Value **mult_v, int32_t *shift) {
  int64_t d[1] = {M};
  Value *bv = new_const(fmt("%s:bias_i32", n->name), DT_INT32, 1, d), *mv = new_const(fmt("%s:mult", n->name), DT_INT32, 1, d);
  double *real = xalloc(sizeof(double) * (M + 1));
  for (int64_t m = 0; m < M; m++) {
    double acc_scale = alpha * sx * ws[m];
    int64_t sw = 0;
    for (int64_t k = 0; k < K; k++) sw += wq[m * K + k];
    double bq = bias ? nearbyint(bias[m] / acc_scale) : 0;
    double b = bq - (double)zx * (double)sw;
    if (b > 2147483647.0 || b < -2147483648.0) error_node(n, "int32 bias overflows (channel %lld)", (long long)m);
    ((int32_t *)bv->data)[m] = (int32_t)b;
    real[m] = acc_scale / sy;
  }
  fixed_mults(real, (int)M, mv->data, shift);
  *bias_v = bv;
  *mult_v = mv;
}

static void act_clamp(Node *n, float sy, int32_t zy, int32_t *lo, int32_t *hi) {
  *lo = -128;
  *hi = 127;
  if (n->fuse_act == FUSE_ACT_RELU) *lo = clamp8(zy);
  else if (n->fuse_act == FUSE_ACT_CLIP) {
    if (isfinite(n->fuse_p0)) *lo = clamp8(zy + nearbyint(n->fuse_p0 / sy));
    if (isfinite(n->fuse_p1)) *hi = clamp8(zy + nearbyint(n->fuse_p1 / sy));
  }
}

static char *wscale_info(const double *ws, int64_t M) {
  double mn = ws[0], mx = ws[0];
  for (int64_t m = 1; m < M; m++) {
    mn = fmin(mn, ws[m]);
    mx = fmax(mx, ws[m]);
  }
  return fmt("\"weight_scale_min\": %.9g, \"weight_scale_max\": %.9g, \"weight_channels\": %lld", mn, mx, (long long)M);
}

/* ------------------------------------------------------ int8 lowering */

static char *io_info(Rep *rx, Rep *ry) {
  return fmt("\"input_scale\": %.9g, \"input_zero_point\": %d, \"output_scale\": %.9g, \"output_zero_point\": %d", rx->scale, rx->zp,
             ry->scale, ry->zp);
}

/* residual input: int8 form and its multiplier into the output scale */
static Value *residual(Node *n, float sy, int32_t *zr, int32_t *rmul, int32_t *rshift) {
  *zr = *rmul = 0;
  *rshift = 1;
  if (!n->fuse_res) return NULL;
  Value *r = n->in[n->fuse_res], *rq = get_q(r);
  Rep *rr = rep_of(r);
  *zr = rr->zp;
  fixed_mult((double)rr->scale / sy, rmul, rshift);
  return rq;
}

static void lower_qconv(Node *n) {
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2), *y = n->out[0];
  Geo g;
  geometry(n, w, &g, 0);
  Value *xq = get_q(x);
  Rep *rx = rep_of(x), *ry = rep_of(y);
  qparams(y);
  float sy = ry->scale;
  int32_t zy = ry->zp;
  KQConv *s = xalloc(sizeof *s);
  *s = (KQConv){g.N, g.C, g.H, g.W, g.M, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.DH, g.DW, g.G, 0, 0, 0, 0, 0, 0, 0, 1};
  int64_t M = g.M, K = w->numel / M;
  double *ws = xalloc(sizeof(double) * (M + 1)), *bias = NULL;
  int given = qdq_weight_scales(w, 0, M, ws);
  Value *wq = quant_weights(fmt("%s:w_i8", n->name), cf32(w), M, K, weight_per_channel(n), ws, given);
  if (b) {
    bias = xalloc(sizeof(double) * (M + 1));
    for (int64_t m = 0; m < M; m++) bias[m] = cf32(b)[m];
  }
  Value *bv, *mv;
  int32_t shift;
  int_epilogue(n, wq->data, M, K, ws, rx->scale, rx->zp, bias, sy, 1.0, &bv, &mv, &shift);
  s->zx = rx->zp;
  s->zy = zy;
  s->shift = shift;
  act_clamp(n, sy, zy, &s->lo, &s->hi);
  Value *rq = residual(n, sy, &s->zr, &s->rmul, &s->rshift);
  Value *ins[5] = {xq, wq, bv, mv, rq};
  set_inputs(n, rq ? 5 : 4, ins);
  n->op = OP_MrtcQConv;
  n->p = s;
  n->scratch_bytes = k_qconv_scratch(s);
  n->fuse_res = n->fuse_bias = 0;
  n->qinfo = fmt("%s, %s", io_info(rx, ry), wscale_info(ws, M));
  form_output(n, 0, DT_INT8, sy, zy);
  push(n);
}

/* Gemm / MatMul operands as rows x K times W (N x K), plus the bias per column */
static float *gemm_operands(Node *n, int64_t *rows, int64_t *K, int64_t *N, double **bias, double *alpha) {
  Value *a = n->in[0], *b = n->in[1];
  const float *bd = cf32(b);
  int tb = 0;
  *alpha = 1;
  *bias = NULL;
  if (n->op == OP_Gemm) {
    tb = (int)attr_int(n, "transB", 0);
    *alpha = attr_float(n, "alpha", 1.0f);
    *rows = a->dims[0];
    *K = a->dims[1];
  } else {
    *K = a->dims[a->rank - 1];
    *rows = a->numel / (*K ? *K : 1);
  }
  *N = tb ? b->dims[0] : b->dims[1];
  float *w = xalloc(sizeof(float) * (size_t)(*N * *K + 1));
  for (int64_t nn = 0; nn < *N; nn++)
    for (int64_t k = 0; k < *K; k++) w[nn * *K + k] = tb ? bd[nn * *K + k] : bd[k * *N + nn];
  Value *c = n->op == OP_Gemm ? node_in(n, 2) : NULL;
  if (n->fuse_bias) c = n->in[n->fuse_bias];
  if (c) {
    double beta = n->op == OP_Gemm && !n->fuse_bias ? attr_float(n, "beta", 1.0f) : 1.0;
    *bias = xalloc(sizeof(double) * (*N + 1));
    for (int64_t j = 0; j < *N; j++) (*bias)[j] = beta * cf32(c)[c->numel == 1 ? 0 : j];
  }
  return w;
}

static void lower_qgemm(Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int64_t rows, K, N;
  double *bias, alpha;
  float *w = gemm_operands(n, &rows, &K, &N, &bias, &alpha);
  Value *xq = get_q(x);
  Rep *rx = rep_of(x), *ry = rep_of(y);
  qparams(y);
  float sy = ry->scale;
  int32_t zy = ry->zp;
  double *ws = xalloc(sizeof(double) * (N + 1));
  int given = qdq_weight_scales(n->in[1], n->op == OP_Gemm && attr_int(n, "transB", 0) ? 0 : 1, N, ws);
  Value *wq = quant_weights(fmt("%s:w_i8", n->name), w, N, K, weight_per_channel(n), ws, given);
  Value *bv, *mv;
  int32_t shift;
  int_epilogue(n, wq->data, N, K, ws, rx->scale, rx->zp, bias, sy, alpha, &bv, &mv, &shift);
  KQGemm *s = xalloc(sizeof *s);
  *s = (KQGemm){rows, K, N, rx->zp, zy, 0, 0, shift, 0, 0, 1};
  act_clamp(n, sy, zy, &s->lo, &s->hi);
  Value *rq = residual(n, sy, &s->zr, &s->rmul, &s->rshift);
  Value *ins[5] = {xq, wq, bv, mv, rq};
  set_inputs(n, rq ? 5 : 4, ins);
  n->op = OP_MrtcQGemm;
  n->p = s;
  n->scratch_bytes = 0;
  n->fuse_res = n->fuse_bias = 0;
  n->qinfo = fmt("%s, %s", io_info(rx, ry), wscale_info(ws, N));
  form_output(n, 0, DT_INT8, sy, zy);
  push(n);
}

/* broadcast strides of V against the output shape (0 where broadcast) */
static void bstrides(Value *v, int rank, int64_t *s) {
  int64_t st = 1;
  for (int d = rank - 1; d >= 0; d--) {
    int vd = d - (rank - v->rank);
    if (vd < 0 || v->dims[vd] == 1) s[d] = 0;
    else {
      s[d] = st;
      st *= v->dims[vd];
    }
  }
}

static void lower_qbin(Node *n) {
  Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
  Value *aq = get_q(a), *bq = get_q(b);
  Rep *ra = rep_of(a), *rb = rep_of(b), *ry = rep_of(y);
  qparams(y);
  KQBin *s = xalloc(sizeof *s);
  int64_t sa[MAX_RANK], sb[MAX_RANK];
  int r = y->rank;
  bstrides(a, r, sa);
  bstrides(b, r, sb);
  /* collapse: drop size-1 dims, merge dims both inputs read contiguously */
  int k = 0;
  for (int d = 0; d < r; d++) {
    if (y->dims[d] == 1) continue;
    if (k > 0 && s->sa[k - 1] == sa[d] * y->dims[d] && s->sb[k - 1] == sb[d] * y->dims[d]) {
      s->dims[k - 1] *= y->dims[d];
      s->sa[k - 1] = sa[d];
      s->sb[k - 1] = sb[d];
      continue;
    }
    s->dims[k] = y->dims[d];
    s->sa[k] = sa[d];
    s->sb[k] = sb[d];
    k++;
  }
  if (!k) {
    s->dims[0] = 1;
    s->sa[0] = s->sb[0] = 0;
    k = 1;
  }
  s->rank = k;
  s->za = ra->zp;
  s->zb = rb->zp;
  s->zy = ry->zp;
  s->lo = -128;
  s->hi = 127;
  if (n->op == OP_Mul) {
    s->mul = 1;
    fixed_mult((double)ra->scale * rb->scale / ry->scale, &s->ma, &s->shift);
  } else {
    double r2[2] = {(double)ra->scale / ry->scale, (n->op == OP_Sub ? -1.0 : 1.0) * rb->scale / ry->scale};
    int32_t m2[2];
    fixed_mults(r2, 2, m2, &s->shift);
    s->ma = m2[0];
    s->mb = m2[1];
  }
  Value *ins[2] = {aq, bq};
  set_inputs(n, 2, ins);
  n->op = OP_MrtcQBin;
  n->p = s;
  n->qinfo = fmt("\"a_scale\": %.9g, \"a_zero_point\": %d, \"b_scale\": %.9g, \"b_zero_point\": %d, \"output_scale\": %.9g, "
                 "\"output_zero_point\": %d",
                 ra->scale, ra->zp, rb->scale, rb->zp, ry->scale, ry->zp);
  form_output(n, 0, DT_INT8, ry->scale, ry->zp);
  push(n);
}

static void lower_qconcat(Node *n) {
  Value *y = n->out[0];
  int axis = norm_axis(n, attr_int(n, "axis", 0), y->rank);
  QConcatP *p = xalloc(sizeof *p);
  Value **ins = xalloc(sizeof(Value *) * (n->nin + 1));
  Rep *ry = rep_of(y);
  qparams(y);
  int64_t inner = shape_numel(y->rank - axis - 1, y->dims + axis + 1), off = 0;
  p->outer = shape_numel(axis, y->dims);
  p->ldy = y->dims[axis] * inner;
  p->inner = xalloc(sizeof(int64_t) * (n->nin + 1));
  p->off = xalloc(sizeof(int64_t) * (n->nin + 1));
  p->zx = xalloc(sizeof(int32_t) * (n->nin + 1));
  p->mult = xalloc(sizeof(int32_t) * (n->nin + 1));
  p->shift = xalloc(sizeof(int32_t) * (n->nin + 1));
  p->zy = ry->zp;
  Buf info = {0};
  buf_printf(&info, "\"output_scale\": %.9g, \"output_zero_point\": %d, \"input_scales\": [", ry->scale, ry->zp);
  for (int i = 0; i < n->nin; i++) {
    Value *x = n->in[i];
    ins[i] = get_q(x);
    Rep *rx = rep_of(x);
    p->inner[i] = x->dims[axis] * inner;
    p->off[i] = off;
    off += p->inner[i];
    p->zx[i] = rx->zp;
    if (rx->scale == ry->scale && rx->zp == ry->zp) p->mult[i] = 0, p->shift[i] = 1;
    else fixed_mult((double)rx->scale / ry->scale, &p->mult[i], &p->shift[i]);
    buf_printf(&info, "%s%.9g", i ? ", " : "", rx->scale);
  }
  buf_puts(&info, "]");
  p->n = n->nin;
  set_inputs(n, n->nin, ins);
  n->op = OP_MrtcQConcat;
  n->p = p;
  n->qinfo = info.s;
  form_output(n, 0, DT_INT8, ry->scale, ry->zp);
  push(n);
}

static void lower_qavgpool(Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  Geo g;
  int cp = 0;
  if (n->op == OP_GlobalAveragePool) {
    memset(&g, 0, sizeof g);
    g.N = x->dims[0], g.C = x->dims[1], g.H = 1, g.W = shape_numel(x->rank - 2, x->dims + 2);
    g.OH = g.OW = 1, g.KH = 1, g.KW = g.W, g.SH = g.SW = 1;
  } else {
    geometry(n, NULL, &g, (int)attr_int(n, "ceil_mode", 0));
    cp = (int)attr_int(n, "count_include_pad", 0);
  }
  Value *xq = get_q(x);
  Rep *rx = rep_of(x), *ry = rep_of(y);
  qparams(y);
  KQPool *s = xalloc(sizeof *s);
  *s = (KQPool){g.N * g.C, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.PB, g.PR, cp, rx->zp, ry->zp, 1};
  int64_t nt = g.KH * g.KW + 1;
  double *real = xalloc(sizeof(double) * (nt + 1));
  for (int64_t c = 1; c < nt; c++) real[c] = (double)rx->scale / ((double)ry->scale * c);
  Value *mv = new_const(fmt("%s:mult", n->name), DT_INT32, 1, &nt);
  fixed_mults(real, (int)nt, mv->data, &s->shift);
  Value *ins[2] = {xq, mv};
  set_inputs(n, 2, ins);
  n->op = OP_MrtcQAvgPool;
  n->p = s;
  n->qinfo = io_info(rx, ry);
  form_output(n, 0, DT_INT8, ry->scale, ry->zp);
  push(n);
}

/* the op itself on int8 data: views, MaxPool (same scale in and out) */
static void lower_pass(Node *n, DType t) {
  Value *x = n->in[0];
  Value *xf = t == DT_INT8 ? get_q(x) : get_h(x);
  Rep *rx = rep_of(x);
  n->in[0] = xf;
  form_output(n, 0, t, rx->scale, rx->zp);
  if (t == DT_INT8) n->qinfo = fmt("\"scale\": %.9g, \"zero_point\": %d", rx->scale, rx->zp);
  n->p = NULL;
  op_defs[n->op]->infer(n);
  push(n);
}

/* unary float function of the LUT ops */
static double lut_fn(Node *n, double x) {
  switch (n->op) {
  case OP_Relu: return x > 0 ? x : 0;
  case OP_Clip: {
    double lo = -INFINITY, hi = INFINITY;
    if (n->opset < 11) {
      lo = attr_float(n, "min", -INFINITY);
      hi = attr_float(n, "max", INFINITY);
    } else {
      if (node_in(n, 1)) lo = cf32(n->in[1])[0];
      if (node_in(n, 2)) hi = cf32(n->in[2])[0];
    }
    return x < lo ? lo : x > hi ? hi : x;
  }
  case OP_LeakyRelu: return x >= 0 ? x : x * attr_float(n, "alpha", 0.01f);
  case OP_Sigmoid: return 1 / (1 + exp(-x));
  case OP_Tanh: return tanh(x);
  case OP_HardSigmoid: return fmin(1, fmax(0, attr_float(n, "alpha", 0.2f) * x + attr_float(n, "beta", 0.5f)));
  case OP_HardSwish: return x * fmin(1, fmax(0, x / 6 + 0.5));
  case OP_Elu: return x >= 0 ? x : attr_float(n, "alpha", 1.0f) * (exp(x) - 1);
  case OP_Celu: {
    double a = attr_float(n, "alpha", 1.0f);
    return fmax(0, x) + fmin(0, a * (exp(x / a) - 1));
  }
  case OP_Selu: {
    double a = attr_float(n, "alpha", 1.67326319217681884765625f), gm = attr_float(n, "gamma", 1.05070102214813232421875f);
    return x > 0 ? gm * x : gm * (a * exp(x) - a);
  }
  case OP_ThresholdedRelu: return x > attr_float(n, "alpha", 1.0f) ? x : 0;
  case OP_Softplus: return log1p(exp(x));
  case OP_Softsign: return x / (1 + fabs(x));
  case OP_Neg: return -x;
  case OP_Abs: return fabs(x);
  case OP_Exp: return exp(x);
  case OP_Erf: return erf(x);
  case OP_Mish: return x * tanh(log1p(exp(x)));
  case OP_Gelu:
    if (!strcmp(attr_str(n, "approximate", "none"), "tanh")) return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
  default: return x;
  }
}

static void lower_qlut(Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  Value *xq = get_q(x);
  Rep *rx = rep_of(x), *ry = rep_of(y);
  qparams(y);
  int64_t d = 256;
  Value *tv = new_const(fmt("%s:table", n->name), DT_INT8, 1, &d);
  for (int i = 0; i < 256; i++) {
    double r = lut_fn(n, (double)rx->scale * (i - 128 - rx->zp));
    double q = nearbyint(r / ry->scale) + ry->zp;
    ((int8_t *)tv->data)[i] = (int8_t)clamp8(q != q ? ry->zp : q);
  }
  Value *ins[2] = {xq, tv};
  set_inputs(n, 2, ins);
  n->op = OP_MrtcQLut;
  n->p = NULL;
  n->qinfo = io_info(rx, ry);
  form_output(n, 0, DT_INT8, ry->scale, ry->zp);
  push(n);
}

static void lower_int8(Node *n) {
  switch (n->op) {
  case OP_Conv: lower_qconv(n); break;
  case OP_Gemm: case OP_MatMul: lower_qgemm(n); break;
  case OP_Add: case OP_Sub: case OP_Mul: lower_qbin(n); break;
  case OP_Concat: lower_qconcat(n); break;
  case OP_AveragePool: case OP_GlobalAveragePool: lower_qavgpool(n); break;
  case OP_MaxPool: case OP_GlobalMaxPool: lower_pass(n, DT_INT8); break;
  default:
    if (is_view(n->op)) lower_pass(n, DT_INT8);
    else lower_qlut(n);
  }
}

/* ------------------------------------------------------ fp16 lowering */

static Value *half_const(const char *name, const float *w, int64_t M, int64_t K) {
  int64_t d[2] = {M, K};
  Value *h = new_const(name, DT_FLOAT16, 2, d);
  for (int64_t i = 0; i < M * K; i++) ((uint16_t *)h->data)[i] = float_to_half(w[i]);
  return h;
}

static Value *float_bias(Node *n, const double *b, int64_t M) {
  if (!b) return NULL;
  Value *v = new_const(fmt("%s:bias", n->name), DT_FLOAT, 1, &M);
  for (int64_t m = 0; m < M; m++) ((float *)v->data)[m] = (float)b[m];
  return v;
}

static void lower_hconv(Node *n) {
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  Geo g;
  geometry(n, w, &g, 0);
  Value *xh = get_h(x), *rh = n->fuse_res ? get_h(n->in[n->fuse_res]) : NULL;
  KHConv *s = xalloc(sizeof *s);
  *s = (KHConv){g.N, g.C, g.H, g.W, g.M, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.DH, g.DW, g.G,
                n->fuse_act, n->fuse_p0, n->fuse_p1};
  Value *ins[4] = {xh, half_const(fmt("%s:w_f16", n->name), cf32(w), g.M, w->numel / g.M), b, rh};
  set_inputs(n, 4, ins);
  n->op = OP_MrtcHConv;
  n->p = s;
  n->scratch_bytes = 4 * k_hconv_scratch(s);
  n->fuse_res = n->fuse_bias = 0;
  form_output(n, 0, DT_FLOAT16, 1, 0);
  push(n);
}

static void lower_hgemm(Node *n) {
  int64_t rows, K, N;
  double *bias, alpha;
  float *w = gemm_operands(n, &rows, &K, &N, &bias, &alpha);
  for (int64_t i = 0; i < N * K; i++) w[i] *= (float)alpha;
  Value *xh = get_h(n->in[0]), *rh = n->fuse_res ? get_h(n->in[n->fuse_res]) : NULL;
  KHGemm *s = xalloc(sizeof *s);
  *s = (KHGemm){rows, K, N, n->fuse_act, n->fuse_p0, n->fuse_p1};
  Value *ins[4] = {xh, half_const(fmt("%s:w_f16", n->name), w, N, K), float_bias(n, bias, N), rh};
  set_inputs(n, 4, ins);
  n->op = OP_MrtcHGemm;
  n->p = s;
  n->scratch_bytes = 4 * (K + 1);
  n->fuse_res = n->fuse_bias = 0;
  form_output(n, 0, DT_FLOAT16, 1, 0);
  push(n);
}

static void lower_fp16(Node *n) {
  if (n->op == OP_Conv) lower_hconv(n);
  else if (n->op == OP_Gemm || n->op == OP_MatMul) lower_hgemm(n);
  else lower_pass(n, DT_FLOAT16);
}

/* ------------------------------------------------------------- QDQ */

/* per-tensor constant scale and zero point of a QuantizeLinear / DequantizeLinear;
 * the zero point as int8 (uint8 data is int8 data + 128) */
static int qdq_params(Node *n, float *s, int32_t *zp) {
  Value *sc = node_in(n, 1), *z = node_in(n, 2);
  if (!sc || !cf32(sc) || sc->numel != 1 || !(cf32(sc)[0] > 0)) return 0;
  if (n->op == OP_QuantizeLinear && n->nin > 3) return 0;
  DType t = n->op == OP_QuantizeLinear ? n->out[0]->dtype : n->in[0]->dtype;
  if (t != DT_UINT8 && t != DT_INT8) return 0;
  if (z && (!z->data || z->numel != 1 || z->dtype != t)) return 0;
  *s = cf32(sc)[0];
  *zp = z ? (int32_t)elem_get_i64(z->data, z->dtype, 0) : 0;
  if (t == DT_UINT8) *zp -= 128;
  return 1;
}

static void pin(Value *v, float s, int32_t zp) {
  Rep *r = rep_of(v);
  if (r->pinned || v->data || v->dtype != DT_FLOAT) return;
  r->pinned = 1;
  r->has_qp = 1;
  r->scale = s;
  r->zp = zp;
}

static int transparent(int op) { return op == OP_MaxPool || op == OP_GlobalMaxPool || is_view(op); }

/* QuantizeLinear -> DequantizeLinear pairs with the same constant per-tensor
 * parameters pin the scale of the Q's input and of the DQ's output; max-pooling
 * and views pass a pinned scale on */
static int find_qdq(Graph *g) {
  int pairs = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    float s;
    int32_t zp;
    if (n->dead || n->op != OP_QuantizeLinear || n->in[0]->data || n->in[0]->dtype != DT_FLOAT || !qdq_params(n, &s, &zp))
      continue;
    Value *y = n->out[0];
    int nc = 0, okc = 1;
    for (int k = 0; k < g->noutputs; k++) okc &= g->outputs[k] != y;
    for (int j = 0; j < g->nnodes && okc; j++) {
      Node *c = g->nodes[j];
      for (int k = 0; k < c->nin && !c->dead; k++) {
        if (c->in[k] != y) continue;
        float s2;
        int32_t z2;
        if (c->op != OP_DequantizeLinear || k || !qdq_params(c, &s2, &z2) || s2 != s || z2 != zp) okc = 0;
        else nc++;
      }
    }
    if (!okc || !nc) continue;
    Q.role[i] = ROLE_Q;
    Q.qs[i] = s;
    Q.qz[i] = zp;
    pin(n->in[0], s, zp);
    for (int j = 0; j < g->nnodes; j++) {
      Node *c = g->nodes[j];
      if (!c->dead && c->op == OP_DequantizeLinear && c->in[0] == y) {
        Q.role[j] = ROLE_DQ;
        Q.qs[j] = s;
        Q.qz[j] = zp;
        pin(c->out[0], s, zp);
      }
    }
    pairs++;
  }
  for (int i = 0; i < g->nnodes && pairs; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && transparent(n->op) && float_in(n->in[0]) && rep_of(n->in[0])->pinned && !int8_unsupported(n))
      pin(n->out[0], rep_of(n->in[0])->scale, rep_of(n->in[0])->zp);
  }
  return pairs;
}

/* every float tensor N reads and writes has its scale from the model */
static int qdq_interior(Node *n) {
  for (int k = 0; k < n->nin; k++) {
    Value *v = n->in[k];
    if (v && !v->data && v->dtype == DT_FLOAT && !rep_of(v)->pinned) return 0;
  }
  for (int k = 0; k < n->nout; k++)
    if (n->out[k] && n->out[k]->dtype == DT_FLOAT && !rep_of(n->out[k])->pinned) return 0;
  return 1;
}

/* int8 form of XQ (scale S1, zero point Z1) requantized to (S2, Z2) */
static Value *requant(Value *xq, float s1, int32_t z1, float s2, int32_t z2, const char *name) {
  Value *y = new_value(fmt("%s:requant", name), DT_INT8, xq->rank, xq->dims);
  QConcatP *p = xalloc(sizeof *p);
  p->outer = 1;
  p->ldy = xq->numel;
  p->n = 1;
  p->inner = xalloc(sizeof(int64_t));
  p->off = xalloc(sizeof(int64_t));
  p->zx = xalloc(sizeof(int32_t));
  p->mult = xalloc(sizeof(int32_t));
  p->shift = xalloc(sizeof(int32_t));
  p->inner[0] = xq->numel;
  p->zx[0] = z1;
  p->zy = z2;
  fixed_mult((double)s1 / s2, &p->mult[0], &p->shift[0]);
  Node *c = new_node(fmt("%s:requantize", name), OP_MrtcQConcat, xq, y, p);
  c->precision = PREC_INT8;
  c->why = "boundary";
  c->qinfo = fmt("\"input_scale\": %.9g, \"input_zero_point\": %d, \"output_scale\": %.9g, \"output_zero_point\": %d", s1, z1, s2, z2);
  push(c);
  return y;
}

/* a QuantizeLinear of a pair: its output is the int8 form of its input */
static void lower_q(Node *n, float s, int32_t zp) {
  Value *x = n->in[0], *xq = get_q(x);
  Rep *rx = rep_of(x), *ry = rep_of(n->out[0]);
  if (rx->scale != s || rx->zp != zp) xq = requant(xq, rx->scale, rx->zp, s, zp, x->name);
  ry->q = xq;
  ry->scale = s;
  ry->zp = zp;
  ry->has_qp = 1;
  n->dead = 1;
}

/* a DequantizeLinear of a pair: its float output waits for a float consumer */
static void lower_dq(Node *n) {
  Rep *rq = rep_of(n->in[0]), *rd = rep_of(n->out[0]);
  rd->q = rq->q;
  rd->scale = rq->scale;
  rd->zp = rq->zp;
  rd->has_qp = 1;
  rd->pending = 1;
  n->out[0]->producer = NULL;
  n->dead = 1;
}

/* ------------------------------------------------------ assignment */

static void merge(QRule *r, const QRule *o) {
  if (o->precision >= 0) r->precision = o->precision;
  if (o->calibrator >= 0) r->calibrator = o->calibrator;
  if (o->percentile > 0) r->percentile = o->percentile;
  if (o->weight_per_channel >= 0) r->weight_per_channel = o->weight_per_channel;
}

/* KEY is one of the " + "-separated names in LIST */
static int in_fused(const char *list, const char *key) {
  if (!list) return 0;
  size_t l = strlen(key);
  for (const char *p = list; (p = strstr(p, key)); p += l)
    if ((p == list || (p >= list + 3 && !strncmp(p - 3, " + ", 3))) && (p[l] == 0 || !strncmp(p + l, " + ", 3))) return 1;
  return 0;
}

static void assign(Graph *g, const QConfig *c) {
  int *used = xalloc(sizeof(int) * (c->nname + 1));
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    QRule r = c->def;
    const char *why = "default";
    if (n->dead) continue;
    for (int k = 0; k < c->ntype; k++)
      if (!strcmp(c->by_type[k].key, n->op_type)) {
        merge(&r, &c->by_type[k].r);
        why = fmt("type (%s)", c->by_type[k].where);
      }
    /* a name given for a node fused into N, then N's own name */
    for (int pass = 0; pass < 2; pass++)
      for (int k = 0; k < c->nname; k++) {
        const char *key = c->by_name[k].key;
        if (pass ? strcmp(key, n->name) : !in_fused(n->fused, key)) continue;
        merge(&r, &c->by_name[k].r);
        why = pass ? fmt("name (%s)", c->by_name[k].where) : fmt("name (%s, fused into '%s')", c->by_name[k].where, n->name);
        used[k] = 1;
      }
    Q.rule[i] = r;
    n->precision = r.precision < 0 ? PREC_FP32 : r.precision;
    n->why = why;
    /* QDQ: the model's own scales; explicit fp32 / fp16 rules win */
    int free_rule = r.precision < 0 || r.precision == PREC_INT8 || r.precision == PREC_AUTO;
    if (free_rule && (Q.role[i] || (qdq_interior(n) && !int8_unsupported(n)))) {
      n->precision = PREC_INT8;
      n->why = !strcmp(why, "default") ? "qdq" : fmt("qdq, %s", why);
    }
  }
  for (int k = 0; k < c->nname; k++) {
    if (used[k]) continue;
    const char *key = c->by_name[k].key;
    int dead = 0;
    for (int i = 0; i < g->nnodes; i++)
      if (!strcmp(g->nodes[i]->name, key)) dead = 1;
    if (dead) warn("%s: '%s': node '%s' was folded away at compile time (no code to assign)", c->path ? c->path : "--config",
                   c->by_name[k].where, key);
    else
      fatal("%s: '%s': no node named '%s' in %s", c->path ? c->path : "--config", c->by_name[k].where, key, g->path);
  }
}

/* fallbacks: a precision the node cannot run in becomes fp32, and why says so */
static int check_support(Graph *g) {
  int nint8 = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    if (n->precision == PREC_AUTO) {
      /* auto: the cheapest precision the node has a kernel for; the search may raise it */
      Q.isauto[i] = 1;
      n->precision = !int8_unsupported(n) ? PREC_INT8 : !fp16_unsupported(n) ? PREC_FP16 : PREC_FP32;
      n->why = n->precision == PREC_FP32 ? fmt("%s; auto: no int8 or fp16 kernel for this node", n->why) : n->why;
      continue;
    }
    if (Q.role[i]) continue;
    const char *why_not = n->precision == PREC_INT8 ? int8_unsupported(n) : n->precision == PREC_FP16 ? fp16_unsupported(n) : NULL;
    if (why_not) {
      if (!strncmp(n->why, "name", 4))
        warn("node '%s' (%s): %s requested by %s, but %s; it runs in fp32", n->name, n->op_type, prec_name(n->precision),
             n->why, why_not);
      n->why = fmt("%s; %s: %s, fp32", n->why, prec_name(n->precision), why_not);
      n->precision = PREC_FP32;
    }
    /* a view or max-pool is worth int8 only next to int8 data: follow the producer */
    nint8 += n->precision == PREC_INT8;
  }
  return nint8;
}

static double sqnr_db(double sig, double noise);
static int64_t argmax(const void *p, DType t, int64_t off, int64_t n);

/* int8 pays off through the weighted layers (Conv, Gemm, MatMul): a connected
 * group of int8 nodes without one (a LayerNorm's Sub and Mul between float
 * ops, a lone Reshape) only adds conversions, so it runs in fp32.  Groups
 * with a node the config names, or QDQ layers, are kept. */
static int uf_find(int *p, int i) {
  while (p[i] != i) i = p[i] = p[p[i]];
  return i;
}

static void drop_int8_islands(Graph *g) {
  int n = g->nnodes;
  int *par = xalloc(sizeof(int) * (n + 1)), *keep = xalloc(sizeof(int) * (n + 1));
  for (int i = 0; i < n; i++) par[i] = i;
  for (int i = 0; i < n; i++) {
    Node *a = g->nodes[i];
    if (a->dead || a->precision != PREC_INT8) continue;
    for (int k = 0; k < a->nin; k++) {
      Node *p = a->in[k] && !a->in[k]->data ? a->in[k]->producer : NULL;
      if (p && !p->dead && p->precision == PREC_INT8 && p->index >= 0 && p->index < n && g->nodes[p->index] == p)
        par[uf_find(par, i)] = uf_find(par, p->index);
    }
  }
  for (int i = 0; i < n; i++) {
    Node *a = g->nodes[i];
    if (a->dead || a->precision != PREC_INT8) continue;
    int weighted = (a->op == OP_Conv || a->op == OP_Gemm || a->op == OP_MatMul) && cf32(a->in[1]);
    int named = strncmp(a->why, "default", 7) && strncmp(a->why, "type", 4) && strncmp(a->why, "auto", 4);
    if (weighted || Q.role[i] || named || !strncmp(a->why, "qdq", 3)) keep[uf_find(par, i)] = 1;
  }
  for (int i = 0; i < n; i++) {
    Node *a = g->nodes[i];
    if (a->dead || a->precision != PREC_INT8 || keep[uf_find(par, i)]) continue;
    a->precision = PREC_FP32;
    a->why = fmt("%s; int8: no Conv / Gemm / MatMul in its int8 group (conversions only), fp32", a->why);
    Q.isauto[i] = 0;
  }
}

/* ------------------------------------------------------------ auto */

/* "precision": "auto": a greedy search on the calibration samples.  The
 * graph runs in the float interpreter with each layer's precision simulated
 * (int8: inputs, weights and output rounded to their int8 grids; fp16: to
 * halves), which tracks the integer kernels to a fraction of an LSB.  All
 * auto layers start at their cheapest precision; while the budget (output
 * SQNR >= min_sqnr, top-1 drop <= max_accuracy_drop against the labels)
 * fails, the layer whose promotion alone helps most is raised (int8 ->
 * fp16 -> fp32), the sensitivities measured once per round of promotions. */

typedef struct Sim {
  Value **st;          /* stacked samples */
  int ns;
  float **ref;         /* fp32 outputs per sample (output 0 .. noutputs-1, concatenated) */
  int64_t outn;
  Value *labels;
  double ref_top1;
  float **wq;          /* per node: simulated weights (by precision) */
  int *wq_prec;
} Sim;

static void fake_q(float *x, int64_t n, float s, int32_t zp) {
  for (int64_t i = 0; i < n; i++) {
    double q = nearbyint(x[i] / s) + zp;
    q = q < -128 ? -128 : q > 127 ? 127 : q;
    x[i] = (float)((q - zp) * s);
  }
}

static void fake_h(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = half_to_float(float_to_half(x[i]));
}

/* the weight tensor of N with its simulated precision (NULL: none) */
static float *sim_weights(Sim *S, Node *n, int i, int prec) {
  if (!(n->op == OP_Conv || n->op == OP_Gemm || n->op == OP_MatMul) || !cf32(n->in[1])) return NULL;
  if (S->wq[i] && S->wq_prec[i] == prec) return S->wq[i];
  Value *w = n->in[1];
  float *o = xalloc(sizeof(float) * (size_t)(w->numel + 1));
  memcpy(o, w->data, sizeof(float) * (size_t)w->numel);
  if (prec == PREC_FP16) fake_h(o, w->numel);
  else {
    /* per output channel: rows of a Conv / transposed Gemm weight, else columns */
    int rows = n->op == OP_Conv || (n->op == OP_Gemm && attr_int(n, "transB", 0));
    int64_t M = rows ? w->dims[0] : w->dims[w->rank - 1], K = w->numel / M;
    int pc = weight_per_channel(n);
    double all = 0;
    for (int64_t j = 0; j < w->numel; j++) all = fmax(all, fabs(o[j]));
    for (int64_t m = 0; m < M; m++) {
      double a = 0;
      for (int64_t k = 0; k < K && pc; k++) a = fmax(a, fabs(o[rows ? m * K + k : k * M + m]));
      if (!pc) a = all;
      float sc = a > 0 ? (float)(a / 127.0) : 1.0f;
      for (int64_t k = 0; k < K; k++) {
        float *v = &o[rows ? m * K + k : k * M + m];
        double q = nearbyint(*v / sc);
        *v = (float)((q < -127 ? -127 : q > 127 ? 127 : q) * sc);
      }
    }
  }
  free(S->wq[i]);
  S->wq[i] = o;
  S->wq_prec[i] = prec;
  return o;
}

/* runs the samples with precisions PREC (per node); output SQNR and top-1 */
static void sim_eval(Graph *g, Sim *S, const int *prec, double *sqnr, double *top1) {
  Value **one = xalloc(sizeof(Value *) * (g->ninputs + 1));
  double sig = 0, noise = 0;
  int ok = 0;
  for (int s = 0; s < S->ns; s++) {
    calib_sample(g, S->st, s, one);
    for (int k = 0; k < g->ninputs; k++) g->inputs[k]->rt = one[k]->data;
    for (int i = 0; i < g->nnodes; i++) {
      Node *n = g->nodes[i];
      if (n->dead) continue;
      int p = prec[i];
      void *saved[64] = {0}, *wsave = NULL;
      if (p != PREC_FP32 && n->nin <= 64) {
        for (int k = 0; k < n->nin; k++) {
          Value *v = n->in[k];
          if (!v || v->data || v->dtype != DT_FLOAT || !v->rt) continue;
          float *c = xalloc(sizeof(float) * (size_t)(v->numel + 1));
          memcpy(c, v->rt, sizeof(float) * (size_t)v->numel);
          if (p == PREC_FP16) fake_h(c, v->numel);
          else {
            Rep *r = rep_of(v);
            qparams(v);
            fake_q(c, v->numel, r->scale, r->zp);
          }
          saved[k] = v->rt;
          v->rt = c;
        }
        float *wq = sim_weights(S, n, i, p);
        if (wq) {
          wsave = n->in[1]->data;
          n->in[1]->data = wq;
        }
      }
      interp_eval_node(n);
      if (p != PREC_FP32) {
        for (int k = 0; k < n->nin && k < 64; k++)
          if (saved[k]) {
            free(n->in[k]->rt);
            n->in[k]->rt = saved[k];
          }
        if (wsave) n->in[1]->data = wsave;
        Value *y = n->out[0];
        if (y->dtype == DT_FLOAT && y->rt) {
          if (p == PREC_FP16) fake_h(y->rt, y->numel);
          else if (!transparent(n->op)) {
            Rep *r = rep_of(y);
            qparams(y);
            fake_q(y->rt, y->numel, r->scale, r->zp);
          }
        }
      }
    }
    int64_t off = 0;
    for (int k = 0; k < g->noutputs; k++) {
      Value *o = g->outputs[k];
      const float *a = S->ref[s] + off, *b = o->data ? o->data : o->rt;
      if (o->dtype == DT_FLOAT)
        for (int64_t i = 0; i < o->numel; i++) {
          sig += (double)a[i] * a[i];
          noise += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        }
      if (k == 0 && S->labels && o->dtype == DT_FLOAT) ok += argmax(b, DT_FLOAT, 0, o->numel) == elem_get_i64(S->labels->data, S->labels->dtype, s);
      off += o->numel;
    }
    calib_free_rt(g);
  }
  *sqnr = sqnr_db(sig, noise);
  *top1 = S->ns ? (double)ok / S->ns : 0;
}

static int budget_ok(const QConfig *c, Sim *S, double sqnr, double top1) {
  if (c->min_sqnr >= 0 && !(sqnr >= c->min_sqnr)) return 0;
  if (c->max_accuracy_drop >= 0 && S->labels && S->ref_top1 - top1 > c->max_accuracy_drop + 1e-12) return 0;
  return 1;
}

static void auto_search(Graph *g, const QConfig *c0) {
  QConfig cc = *c0, *c = &cc;
  if (c->min_sqnr < 0 && c->max_accuracy_drop < 0) {
    c->min_sqnr = 30;
    warn("precision auto: no budget given (max_accuracy_drop or min_sqnr); using min_sqnr 30 dB");
  }
  if (c->max_accuracy_drop >= 0 && !c->auto_labels)
    fatal("precision auto: max_accuracy_drop needs labels for the calibration samples (calibration.labels: LABELS.npy)");
  Sim S = {0};
  int ns;
  S.st = calib_load_samples(g, c->calib, c->ncalib, c->max_samples, &ns);
  S.ns = ns;
  if (c->auto_labels) {
    S.labels = tensor_file_read(c->auto_labels);
    if (S.labels->numel < ns || dtype_is_float(S.labels->dtype))
      fatal("%s: expected %d integer labels, got %s", c->auto_labels, ns, shape_str(S.labels));
  }
  S.wq = xalloc(sizeof(float *) * (g->nnodes + 1));
  S.wq_prec = xalloc(sizeof(int) * (g->nnodes + 1));
  for (int k = 0; k < g->noutputs; k++) S.outn += g->outputs[k]->numel;
  S.ref = xalloc(sizeof(float *) * (ns + 1));
  int *prec = xalloc(sizeof(int) * (g->nnodes + 1)), *fp = xalloc(sizeof(int) * (g->nnodes + 1));
  Value **one = xalloc(sizeof(Value *) * (g->ninputs + 1));
  int ok = 0;
  for (int s = 0; s < ns; s++) { /* the fp32 reference */
    calib_sample(g, S.st, s, one);
    for (int k = 0; k < g->ninputs; k++) g->inputs[k]->rt = one[k]->data;
    for (int i = 0; i < g->nnodes; i++)
      if (!g->nodes[i]->dead) interp_eval_node(g->nodes[i]);
    S.ref[s] = xalloc(sizeof(float) * (size_t)(S.outn + 1));
    int64_t off = 0;
    for (int k = 0; k < g->noutputs; k++) {
      Value *o = g->outputs[k];
      for (int64_t i = 0; i < o->numel; i++) S.ref[s][off + i] = (float)elem_get_f64(o->data ? o->data : o->rt, o->dtype, i);
      if (k == 0 && S.labels) ok += argmax(S.ref[s], DT_FLOAT, 0, o->numel) == elem_get_i64(S.labels->data, S.labels->dtype, s);
      off += o->numel;
    }
    calib_free_rt(g);
  }
  S.ref_top1 = ns ? (double)ok / ns : 0;
  for (int i = 0; i < g->nnodes; i++) prec[i] = g->nodes[i]->dead ? PREC_FP32 : g->nodes[i]->precision;
  double sq, t1;
  sim_eval(g, &S, prec, &sq, &t1);
  int evals = 1, raised = 0;
  verbose("auto: start %.2f dB, top-1 %.4f (fp32 %.4f)", sq, t1, S.ref_top1);
  char **why = xalloc(sizeof(char *) * (g->nnodes + 1));
  while (!budget_ok(c, &S, sq, t1)) {
    /* sensitivity of each auto layer still below fp32: the metric with it alone raised */
    int best = -1;
    double best_sq = -INFINITY, best_t1 = -1;
    for (int i = 0; i < g->nnodes; i++) {
      Node *n = g->nodes[i];
      if (n->dead || !Q.isauto[i] || prec[i] == PREC_FP32) continue;
      int up = prec[i] == PREC_INT8 && !fp16_unsupported(n) ? PREC_FP16 : PREC_FP32;
      memcpy(fp, prec, sizeof(int) * g->nnodes);
      fp[i] = up;
      double s2, t2;
      sim_eval(g, &S, fp, &s2, &t2);
      evals++;
      int better = S.labels && c->max_accuracy_drop >= 0 ? (t2 > best_t1 || (t2 == best_t1 && s2 > best_sq)) : s2 > best_sq;
      if (better) best = i, best_sq = s2, best_t1 = t2;
    }
    if (best < 0) break;
    Node *n = g->nodes[best];
    int up = prec[best] == PREC_INT8 && !fp16_unsupported(n) ? PREC_FP16 : PREC_FP32;
    why[best] = fmt("auto: raised to %s (step %d: output SQNR %.2f -> %.2f dB)", prec_name(up), ++raised, sq, best_sq);
    prec[best] = up;
    sq = best_sq;
    t1 = best_t1;
    verbose("auto: '%s' -> %s: %.2f dB, top-1 %.4f", n->name, prec_name(up), sq, t1);
  }
  int cnt[3] = {0};
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || !Q.isauto[i]) continue;
    n->precision = prec[i];
    n->why = why[i] ? why[i] : fmt("auto: %s (within budget)", prec_name(prec[i]));
    cnt[prec[i] % 3]++;
  }
  fprintf(stderr, "mrtc: precision auto: %d int8, %d fp16, %d fp32 layers; simulated output SQNR %.2f dB", cnt[PREC_INT8],
          cnt[PREC_FP16], cnt[PREC_FP32], sq);
  if (S.labels) fprintf(stderr, ", top-1 %.4f (fp32 %.4f)", t1, S.ref_top1);
  fprintf(stderr, " on %d samples, %d evaluations%s\n", ns, evals, budget_ok(c, &S, sq, t1) ? "" : " (budget NOT met)");
  for (int i = 0; i < g->nnodes; i++) free(S.wq[i]);
}

/* ------------------------------------------------------------ driver */

void quantize_graph(Graph *g, const QConfig *c) {
  memset(&Q, 0, sizeof Q);
  Q.g = g;
  Q.cfg = c;
  Q.nnodes0 = g->nnodes;
  Q.rule = xalloc(sizeof(QRule) * (g->nnodes + 1));
  Q.role = xalloc(sizeof(int) * (g->nnodes + 1));
  Q.isauto = xalloc(g->nnodes + 1);
  Q.qs = xalloc(sizeof(float) * (g->nnodes + 1));
  Q.qz = xalloc(sizeof(int32_t) * (g->nnodes + 1));
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->index = i;
  int pairs = find_qdq(g);
  if (!c) {
    if (!pairs) return; /* no config and no QDQ pairs: fp32 throughout */
    c = config_load(NULL);
    Q.cfg = c;
  }
  if (pairs) verbose("%d QuantizeLinear -> DequantizeLinear pairs: their layers run on the int8 kernels", pairs);
  assign(g, c);
  check_support(g);
  drop_int8_islands(g);
  /* calibration: for int8 tensors whose scale the model does not pin */
  int need = 0;
  for (int i = 0; i < g->nnodes && !need; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->precision != PREC_INT8 || Q.role[i]) continue;
    for (int k = 0; k < n->nin; k++) {
      Value *v = n->in[k];
      need |= v && !v->data && v->dtype == DT_FLOAT && !rep_of(v)->pinned;
    }
    if (!transparent(n->op)) need |= n->out[0]->dtype == DT_FLOAT && !rep_of(n->out[0])->pinned;
  }
  if (need) Q.cal = calibrate(g, c);
  int any_auto = 0;
  for (int i = 0; i < g->nnodes; i++) any_auto |= Q.isauto[i];
  if (any_auto) {
    if (!c->ncalib) fatal("precision auto needs calibration samples (--calib or calibration.data) to measure sensitivities");
    auto_search(g, c);
  }
  /* rewrite the schedule */
  int n0 = g->nnodes;
  Node **orig = xalloc(sizeof(Node *) * (n0 + 1));
  memcpy(orig, g->nodes, sizeof(Node *) * n0);
  for (int i = 0; i < n0; i++) {
    Node *n = orig[i];
    if (n->dead) {
      push(n);
      continue;
    }
    if (Q.role[i] == ROLE_Q && n->precision == PREC_INT8) lower_q(n, Q.qs[i], Q.qz[i]);
    else if (Q.role[i] == ROLE_DQ && n->precision == PREC_INT8 && rep_of(n->in[0])->q) lower_dq(n);
    else if (n->precision == PREC_INT8 && !Q.role[i]) lower_int8(n);
    else if (n->precision == PREC_FP16) lower_fp16(n);
    else {
      for (int k = 0; k < n->nin; k++) n->in[k] = get_f(n->in[k]);
      push(n);
    }
  }
  for (int i = 0; i < g->noutputs; i++) get_f(g->outputs[i]);
  g->nodes = Q.out;
  g->nnodes = Q.nout;
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->index = i;
  int cnt[4] = {0};
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op < OP_COUNT) cnt[g->nodes[i]->precision & 3]++;
  verbose("precision: %d int8, %d fp16, %d fp32 nodes (conversions included)", cnt[PREC_INT8], cnt[PREC_FP16], cnt[PREC_FP32]);
}

/* ------------------------------------------------------------- eval */

static void run_graph(Graph *g, Value **one) {
  for (int k = 0; k < g->ninputs; k++) g->inputs[k]->rt = one[k]->data;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) interp_eval_node(g->nodes[i]);
}

static const void *vdata(Value *v) { return v->data ? v->data : v->rt; }

static double form_value(const Probe *p, int64_t i) {
  if (p->v->dtype == DT_INT8) return (double)p->scale * (((const int8_t *)p->v->rt)[i] - p->zp);
  return half_to_float(((const uint16_t *)p->v->rt)[i]);
}

static double sqnr_db(double sig, double noise) {
  if (noise <= 0) return INFINITY;
  if (sig <= 0) return -INFINITY;
  return 10 * log10(sig / noise);
}

static int64_t argmax(const void *p, DType t, int64_t off, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; j++)
    if (elem_get_f64(p, t, off + j) > elem_get_f64(p, t, off + best)) best = j;
  return best;
}

void quant_eval(Graph *fg, Graph *qg, char **data, int ndata, const char *labels) {
  int ns;
  Value **st = calib_load_samples(fg, data, ndata, 0, &ns);
  Value *lab = labels ? tensor_file_read(labels) : NULL;
  if (lab && (dtype_is_float(lab->dtype) || lab->numel < ns))
    fatal("%s: expected %d integer labels, got %s", labels, ns, shape_str(lab));
  Value **one = xalloc(sizeof(Value *) * (fg->ninputs + 1));
  int np = Q.nprobes;
  Value **fv = xalloc(sizeof(Value *) * (np + 1));
  double *psig = xalloc(sizeof(double) * (np + 1)), *pnoise = xalloc(sizeof(double) * (np + 1));
  for (int k = 0; k < np; k++) {
    Value *v = graph_find(fg, Q.probes[k].name);
    fv[k] = v && v->dtype == DT_FLOAT && v->numel == Q.probes[k].v->numel ? v : NULL;
  }
  int no = fg->noutputs;
  double *osig = xalloc(sizeof(double) * (no + 1)), *onoise = xalloc(sizeof(double) * (no + 1));
  int64_t ok_f = 0, ok_q = 0, agree = 0;
  Value *o0 = fg->outputs[0];
  int64_t classes = o0->numel;
  double t0 = now_sec();
  for (int s = 0; s < ns; s++) {
    calib_sample(fg, st, s, one);
    run_graph(fg, one);
    run_graph(qg, one);
    for (int k = 0; k < no; k++) {
      Value *a = fg->outputs[k], *b = qg->outputs[k];
      const void *pa = vdata(a), *pb = vdata(b);
      if (!dtype_is_float(a->dtype)) continue;
      for (int64_t i = 0; i < a->numel; i++) {
        double x = elem_get_f64(pa, a->dtype, i), y = elem_get_f64(pb, b->dtype, i);
        osig[k] += x * x;
        onoise[k] += (x - y) * (x - y);
      }
    }
    if (dtype_is_float(o0->dtype) && classes > 1) {
      int64_t af = argmax(vdata(o0), o0->dtype, 0, classes), aq = argmax(vdata(qg->outputs[0]), qg->outputs[0]->dtype, 0, classes);
      agree += af == aq;
      if (lab) {
        int64_t y = elem_get_i64(lab->data, lab->dtype, s);
        ok_f += af == y;
        ok_q += aq == y;
      }
    }
    for (int k = 0; k < np; k++) {
      if (!fv[k] || !fv[k]->rt || !Q.probes[k].v->rt) continue;
      const float *f = fv[k]->rt;
      for (int64_t i = 0; i < fv[k]->numel; i++) {
        double x = f[i], y = form_value(&Q.probes[k], i);
        psig[k] += x * x;
        pnoise[k] += (x - y) * (x - y);
      }
    }
    calib_free_rt(fg);
    calib_free_rt(qg);
    if (isatty(2)) fprintf(stderr, "\reval %d/%d", s + 1, ns);
  }
  if (isatty(2)) fputc('\n', stderr);
  int cnt[3] = {0};
  for (int i = 0; i < qg->nnodes; i++) {
    Node *n = qg->nodes[i];
    if (!n->dead && strcmp(n->why ? n->why : "", "boundary")) cnt[n->precision % 3]++;
  }
  printf("model:    %s\n", qg->path);
  printf("layers:   %d int8, %d fp16, %d fp32 (after fusion; conversions not counted)\n", cnt[PREC_INT8], cnt[PREC_FP16],
         cnt[PREC_FP32]);
  printf("samples:  %d (%.2f s)\n", ns, now_sec() - t0);
  if (lab) {
    printf("top-1 fp32:       %.4f (%lld/%d)\n", (double)ok_f / ns, (long long)ok_f, ns);
    printf("top-1 quantized:  %.4f (%lld/%d)\n", (double)ok_q / ns, (long long)ok_q, ns);
    printf("top-1 drop:       %.2f points\n", 100.0 * (ok_f - ok_q) / ns);
  }
  if (classes > 1) printf("top-1 agreement:  %.4f (%lld/%d)\n", (double)agree / ns, (long long)agree, ns);
  for (int k = 0; k < no; k++)
    printf("output %d SQNR:    %.2f dB ('%s')\n", k, sqnr_db(osig[k], onoise[k]), fg->outputs[k]->name);
  printf("\nper-layer SQNR of the quantized model's tensors against fp32 (accumulated errors):\n");
  printf("  %-40s %-18s %-5s %10s\n", "layer", "op", "prec", "SQNR dB");
  for (int k = 0; k < np; k++) {
    if (!fv[k]) continue;
    Node *n = Q.probes[k].node;
    const char *op = n->op < OP_COUNT && strncmp(n->op_type, "Mrtc", 4) ? n->op_type : op_names[n->op];
    printf("  %-40s %-18s %-5s %10.2f\n", n->name, op, prec_name(n->precision), sqnr_db(psig[k], pnoise[k]));
  }
}
