/*
 * pass_act.c: an activation after a Conv / Gemm / MatMul (Relu, Clip with
 * constant bounds, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh)
 * becomes the last step of the host's epilogue:
 * y = act(acc + bias + residual).  One activation per host, through a value
 * with exactly one reader that is not a graph output.
 */
#include "mrtc.h"

#include <math.h>

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
      if (!pass_const_f32(v) || v->numel != 1) return 0;
      *(k == 1 ? p0 : p1) = pass_const_f32(v)[0];
    }
    return FUSE_ACT_CLIP;
  default: return 0;
  }
}

static int fuse_act(Graph *g, Node *a) {
  if (a->nout != 1 || a->nin < 1 || !a->in[0] || a->in[0]->dtype != DT_FLOAT) return 0;
  Node *h = a->in[0]->producer;
  float p0, p1;
  int kind = act_kind(a, &p0, &p1);
  if (!kind || !h || !pass_is_host(h) || h->fuse_act || pass_single_consumer(g, a->in[0]) != a) return 0;
  h->fuse_act = kind;
  h->fuse_p0 = p0;
  h->fuse_p1 = p1;
  pass_absorb(h, a);
  return 1;
}

int pass_act(Graph *g) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) n += fuse_act(g, g->nodes[i]);
  return n;
}
