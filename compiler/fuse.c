/*
 * fuse.c: the graph passes between shape inference and memory planning,
 * run in order, and the helpers they share.  One pass per file:
 *
 *   pass_layout.c  Identity / Dropout removed; Transpose of a Transpose
 *                  composed (cancelled when the product is the identity);
 *                  Reshape of a reshape-like op reads the first input.
 *   pass_bn.c      BatchNormalization folded into a Conv's or Gemm's
 *                  weights and bias.
 *   pass_add.c     Add after a Conv / Gemm / MatMul: a constant per-channel
 *                  or per-column addend becomes the bias (MatMul + Add is a
 *                  Gemm), a tensor shaped like the output a residual added
 *                  in the kernel's epilogue.
 *   pass_act.c     Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
 *                  Tanh after a Conv / Gemm / MatMul: the epilogue's last step.
 *   graph_dce      (shape.c) nodes whose outputs nobody reads are dropped.
 *
 * fuse_late runs after precision assignment (quantize.c), so that a Conv
 * lowered to int8 is never a host:
 *
 *   pass_pool.c    a MaxPool after a float Conv whose rows are computed one
 *                  at a time (the stem): pooled band by band as the rows
 *                  come, the convolution's map never stored whole.
 *
 * Constant folding happens earlier, during inference (shape.c).  Each pass
 * rewrites the IR in place; an absorbed node becomes dead and the surviving
 * node takes over its output value, so consumers need no rewiring.  What
 * fused is listed by `mrtc inspect`, by -v, and in --report ("fused").
 * `--no-fuse` skips this stage; fused and unfused code differ only by float
 * rounding (tests/models and bench/fuse_check.sh compare them).
 */
#include "mrtc.h"

#include <string.h>

FuseStats fuse_stats;

int pass_is_host(const Node *n) {
  return !n->dead && (n->op == OP_Conv || n->op == OP_Gemm || n->op == OP_MatMul) && n->nout == 1 &&
         n->out[0]->dtype == DT_FLOAT;
}

int pass_is_graph_output(Graph *g, Value *v) {
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i] == v) return 1;
  return 0;
}

Node *pass_single_consumer(Graph *g, Value *v) {
  if (pass_is_graph_output(g, v)) return NULL;
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

int pass_same_shape(const Value *a, const Value *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

const float *pass_const_f32(const Value *v) { return v && v->data && v->dtype == DT_FLOAT ? v->data : NULL; }

int pass_add_input(Node *n, Value *v) {
  n->in = xrealloc(n->in, sizeof(Value *) * (n->nin + 1));
  n->in[n->nin] = v;
  return n->nin++;
}

void pass_set_bias(Node *n, Value *b) {
  if (n->nin > 2) n->in[2] = b;
  else pass_add_input(n, b);
}

void pass_absorb(Node *host, Node *c) {
  host->out[0] = c->out[0];
  c->out[0]->producer = host;
  c->dead = 1;
  host->fused = host->fused ? fmt("%s + %s", host->fused, c->name) : xstrdup(c->name);
  fuse_stats.absorbed++;
}

int pass_replace_uses(Graph *g, Value *from, Value *to) {
  int n = 0;
  if (pass_is_graph_output(g, from)) return 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *c = g->nodes[i];
    if (c->dead) continue;
    for (int k = 0; k < c->nin; k++)
      if (c->in[k] == from) {
        c->in[k] = to;
        n++;
      }
  }
  return n;
}

void pass_reinfer(Node *n) {
  op_defs[n->op]->infer(n);
  for (int k = 0; k < n->nout; k++)
    if (n->out[k]) n->out[k]->numel = shape_numel(n->out[k]->rank, n->out[k]->dims);
}

void fuse_late(Graph *g) {
  fuse_stats.pool = pass_pool(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->fuse_pool[0]) verbose("fused %s + %s", n->name, n->fused);
  }
}

void fuse_graph(Graph *g) {
  memset(&fuse_stats, 0, sizeof fuse_stats);
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->index = i;
  fuse_stats.layout = pass_layout(g);
  fuse_stats.bn = pass_bn(g);
  fuse_stats.add = pass_add(g);
  fuse_stats.act = pass_act(g);
  graph_dce(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->fused) verbose("fused %s + %s", n->name, n->fused);
  }
  verbose("fusion: %d nodes absorbed (%d layout, %d BatchNormalization, %d Add, %d activations)", fuse_stats.absorbed,
          fuse_stats.layout, fuse_stats.bn, fuse_stats.add, fuse_stats.act);
}
