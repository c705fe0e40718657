/*
 * fuse.c: graph passes between shape inference and memory planning.
 *
 * Each pass rewrites the IR in place and marks what it absorbed dead (the
 * planner and the emitter skip dead nodes); the surviving node takes over
 * the absorbed node's output value, so consumers need no rewiring.
 *
 *   1. BatchNormalization after a Conv is folded into the Conv's weights
 *      and bias (new constants): w' = w * s, b' = (b - mean) * s + beta
 *      with s = gamma / sqrt(var + eps).
 *   2. Add after a Conv / Gemm / MatMul ("the host"):
 *      - a constant per-channel addend ([M,1,1], [1,M,1,1]) joins the Conv's
 *        bias, a constant per-column addend ([N], [1,N]) becomes a MatMul's
 *        or Gemm's bias;
 *      - an addend shaped exactly like the output becomes a residual that
 *        the kernel adds while the tile is in registers.  The addend must be
 *        computed before the host runs; of two candidate hosts (resnet's
 *        Add(conv2, downsample)) the later one takes the earlier one's output.
 *   3. An activation after a host (Relu, Clip with constant bounds,
 *      LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh) becomes the
 *      epilogue's last step: y = act(acc + bias + residual).
 *
 * A host absorbs a node only through an intermediate value with exactly
 * one consumer that is not a graph output, and each epilogue has at most
 * one residual and one activation, in that order.  Identity and Dropout
 * need no pass: they are views.  `--no-fuse` skips this stage; fused and
 * unfused code differ only by float rounding.
 */
#include "mrtc.h"

#include <math.h>
#include <string.h>

static int nfused;

static int is_host(const Node *n) {
  return !n->dead && (n->op == OP_Conv || n->op == OP_Gemm || n->op == OP_MatMul) && n->nout == 1 &&
         n->out[0]->dtype == DT_FLOAT;
}

static int is_graph_output(Graph *g, Value *v) {
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i] == v) return 1;
  return 0;
}

/* the one live node reading V (in one input slot), or NULL */
static Node *single_consumer(Graph *g, Value *v) {
  if (is_graph_output(g, v)) return NULL;
  Node *c = NULL;
  int uses = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == v) {
        c = n;
        uses++;
      }
  }
  return uses == 1 ? c : NULL;
}

static int same_shape(const Value *a, const Value *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

static const float *const_f32(const Value *v) { return v && v->data && v->dtype == DT_FLOAT ? v->data : NULL; }

static int add_input(Node *n, Value *v) {
  n->in = xrealloc(n->in, sizeof(Value *) * (n->nin + 1));
  n->in[n->nin] = v;
  return n->nin++;
}

/* HOST takes over C's output; C dies */
static void absorb(Node *host, Node *c) {
  host->out[0] = c->out[0];
  c->out[0]->producer = host;
  c->dead = 1;
  host->fused = host->fused ? fmt("%s + %s", host->fused, c->name) : xstrdup(c->name);
  nfused++;
}

/* ------------------------------------------------------------ BatchNorm */

static void fold_bn(Graph *g, Node *bn) {
  Value *x = bn->in[0];
  Node *conv = x->producer;
  if (!conv || conv->op != OP_Conv || !is_host(conv) || conv->fused || single_consumer(g, x) != bn) return;
  for (int k = 1; k < bn->nout; k++)
    if (bn->out[k] && (single_consumer(g, bn->out[k]) || is_graph_output(g, bn->out[k]))) return;
  if (bn->nin != 5 || attr_int(bn, "training_mode", 0) || !attr_int(bn, "spatial", 1)) return;
  Value *w = conv->in[1], *b = node_in(conv, 2);
  int64_t M = w->dims[0], per = w->numel / M;
  const float *wd = const_f32(w), *bd = const_f32(b), *sc = const_f32(bn->in[1]), *be = const_f32(bn->in[2]);
  const float *mu = const_f32(bn->in[3]), *var = const_f32(bn->in[4]);
  if (!wd || (b && !bd) || !sc || !be || !mu || !var) return;
  for (int k = 1; k < 5; k++)
    if (bn->in[k]->numel != M) return;
  float eps = attr_float(bn, "epsilon", 1e-5f);
  Value *nw = value_new_const(g, fmt("%s_w_bn", conv->name), DT_FLOAT, w->rank, w->dims);
  Value *nb = value_new_const(g, fmt("%s_b_bn", conv->name), DT_FLOAT, 1, &M);
  float *ow = nw->data, *ob = nb->data;
  for (int64_t m = 0; m < M; m++) {
    float s = sc[m] / sqrtf(var[m] + eps);
    for (int64_t i = 0; i < per; i++) ow[m * per + i] = wd[m * per + i] * s;
    ob[m] = ((bd ? bd[m] : 0.0f) - mu[m]) * s + be[m];
  }
  conv->in[1] = nw;
  if (conv->nin > 2) conv->in[2] = nb;
  else add_input(conv, nb);
  absorb(conv, bn);
}

/* ----------------------------------------------------------------- Add */

/* a constant that broadcasts along one axis of OUT only: its length, else 0 */
static int64_t axis_const(const Value *c, const Value *out, int axis) {
  if (!const_f32(c) || c->rank > out->rank) return 0;
  int off = out->rank - c->rank;
  for (int d = 0; d < c->rank; d++)
    if (c->dims[d] != (d + off == axis ? out->dims[axis] : 1)) return 0;
  return out->dims[axis];
}

/* constant per-output-channel addend -> the Conv's bias */
static int add_to_bias(Graph *g, Node *host, Node *add, Value *other) {
  Value *out = host->out[0];
  if (host->op != OP_Conv || out->rank < 3 || !axis_const(other, out, 1)) return 0;
  Value *b = node_in(host, 2);
  if (b && !const_f32(b)) return 0;
  int64_t M = out->dims[1];
  Value *nb = value_new_const(g, fmt("%s_b_add", host->name), DT_FLOAT, 1, &M);
  for (int64_t m = 0; m < M; m++) ((float *)nb->data)[m] = (b ? const_f32(b)[m] : 0.0f) + const_f32(other)[m];
  if (host->nin > 2) host->in[2] = nb;
  else add_input(host, nb);
  absorb(host, add);
  return 1;
}

/* constant per-column addend -> a MatMul's (or C-less Gemm's) bias */
static int add_to_colbias(Node *host, Node *add, Value *other) {
  Value *out = host->out[0];
  if (host->op == OP_Conv || host->fuse_bias || host->fuse_res || node_in(host, 2)) return 0;
  if (host->op == OP_MatMul && host->in[1]->rank < 2) return 0; /* no column axis: the output ends in M */
  if (!axis_const(other, out, out->rank - 1)) return 0;
  host->fuse_bias = add_input(host, other);
  absorb(host, add);
  return 1;
}

/* position of V's producer in the schedule; -1 for constants and graph inputs */
static int ready_at(Value *v) { return v->producer && !v->data ? v->producer->index : -1; }

static int can_take_residual(Graph *g, Node *host, Value *mine, Value *other, Node *add) {
  if (!is_host(host) || host->fuse_act || host->fuse_res || single_consumer(g, mine) != add) return 0;
  if (host->op == OP_Gemm && node_in(host, 2)) return 0;
  return same_shape(mine, other) && other->dtype == DT_FLOAT && ready_at(other) < host->index;
}

static void fuse_add(Graph *g, Node *add) {
  if (add->nin != 2 || !add->in[0] || !add->in[1] || add->in[0] == add->in[1]) return;
  if (!same_shape(add->out[0], add->in[0]) && !same_shape(add->out[0], add->in[1])) return;
  Node *best = NULL;
  int mine = 0;
  for (int k = 0; k < 2; k++) {
    Value *v = add->in[k], *other = add->in[1 - k];
    Node *h = v->producer;
    if (!h || !is_host(h) || h->fuse_act || single_consumer(g, v) != add || !same_shape(v, add->out[0])) continue;
    if (!h->fuse_res && add_to_bias(g, h, add, other)) return;
    if (add_to_colbias(h, add, other)) return;
    if (can_take_residual(g, h, v, other, add) && (!best || h->index > best->index)) {
      best = h;
      mine = k;
    }
  }
  if (!best) return;
  best->fuse_res = add_input(best, add->in[1 - mine]);
  absorb(best, add);
}

/* ---------------------------------------------------------- activations */

static int act_kind(Node *a, float *p0, float *p1) {
  *p0 = *p1 = 0.0f;
  switch (a->op) {
  case OP_Relu: return FUSE_ACT_RELU;
  case OP_Sigmoid: return FUSE_ACT_SIGMOID;
  case OP_Tanh: return FUSE_ACT_TANH;
  case OP_HardSwish: return FUSE_ACT_HSWISH;
  case OP_LeakyRelu: *p0 = attr_float(a, "alpha", 0.01f); return FUSE_ACT_LEAKY;
  case OP_HardSigmoid:
    *p0 = attr_float(a, "alpha", 0.2f);
    *p1 = attr_float(a, "beta", 0.5f);
    return FUSE_ACT_HSIGMOID;
  case OP_Clip:
    *p0 = -INFINITY;
    *p1 = INFINITY;
    if (a->opset < 11) {
      *p0 = attr_float(a, "min", -INFINITY);
      *p1 = attr_float(a, "max", INFINITY);
      return FUSE_ACT_CLIP;
    }
    for (int k = 1; k <= 2 && k < a->nin; k++) {
      Value *v = node_in(a, k);
      if (!v) continue;
      if (!const_f32(v) || v->numel != 1) return 0;
      *(k == 1 ? p0 : p1) = const_f32(v)[0];
    }
    return FUSE_ACT_CLIP;
  default: return 0;
  }
}

static void fuse_act(Graph *g, Node *a) {
  if (a->nout != 1 || !a->in[0] || a->in[0]->dtype != DT_FLOAT) return;
  Node *h = a->in[0]->producer;
  float p0, p1;
  int kind = act_kind(a, &p0, &p1);
  if (!kind || !h || !is_host(h) || h->fuse_act || single_consumer(g, a->in[0]) != a) return;
  h->fuse_act = kind;
  h->fuse_p0 = p0;
  h->fuse_p1 = p1;
  absorb(h, a);
}

void fuse_graph(Graph *g) {
  nfused = 0;
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->index = i;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_BatchNormalization) fold_bn(g, g->nodes[i]);
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_Add) fuse_add(g, g->nodes[i]);
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) fuse_act(g, g->nodes[i]);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->fused) verbose("fused %s + %s", n->name, n->fused);
  }
  verbose("fusion: %d nodes absorbed", nfused);
}
