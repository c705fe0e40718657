/*
 * pass_bn.c: BatchNormalization (inference form) folded into the Conv or
 * Gemm that produces its input, when that node has no other reader and the
 * weights and statistics are constants:
 *   s = gamma / sqrt(var + eps)
 *   Conv:  w'[m, ...] = w[m, ...] * s[m],  b'[m] = (b[m] - mean[m]) * s[m] + beta[m]
 *   Gemm:  column m of B' = column m of B * s[m] (rows with transB),
 *          C'[m] = (beta_g * C[m] * s[m] + beta[m] - mean[m] * s[m]) / beta_g
 * (Gemm's output is [N, M]: BatchNormalization's channel axis 1 is Gemm's
 * column).  New constants are made; the originals may have other readers.
 */
#include "mrtc.h"

#include <math.h>

static int fold_bn(Graph *g, Node *bn) {
  Value *x = bn->in[0];
  Node *h = x->producer;
  if (!h || (h->op != OP_Conv && h->op != OP_Gemm) || !pass_is_host(h) || h->fused || pass_single_consumer(g, x) != bn)
    return 0;
  for (int k = 1; k < bn->nout; k++)
    if (bn->out[k] && (pass_single_consumer(g, bn->out[k]) || pass_is_graph_output(g, bn->out[k]))) return 0;
  if (bn->nin != 5 || attr_int(bn, "training_mode", 0) || !attr_int(bn, "spatial", 1)) return 0;
  Value *w = h->in[1], *b = node_in(h, 2);
  const float *wd = pass_const_f32(w), *bd = pass_const_f32(b), *sc = pass_const_f32(bn->in[1]);
  const float *be = pass_const_f32(bn->in[2]), *mu = pass_const_f32(bn->in[3]), *var = pass_const_f32(bn->in[4]);
  if (!wd || (b && !bd) || !sc || !be || !mu || !var) return 0;
  int64_t M = h->op == OP_Conv ? w->dims[0] : h->out[0]->dims[1];
  for (int k = 1; k < 5; k++)
    if (bn->in[k]->numel != M) return 0;
  float eps = attr_float(bn, "epsilon", 1e-5f), gb = 1.0f;
  int tb = 0;
  if (h->op == OP_Gemm) { /* C must be absent or one value per column; beta must not be 0 */
    gb = attr_float(h, "beta", 1.0f);
    tb = (int)attr_int(h, "transB", 0);
    if (b && !(b->numel == M && (b->rank == 1 || (b->rank == 2 && b->dims[0] == 1)))) return 0;
    if (gb == 0.0f || w->rank != 2) return 0;
  }
  Value *nw = value_new_const(g, fmt("%s_w_bn", h->name), DT_FLOAT, w->rank, w->dims);
  Value *nb = value_new_const(g, fmt("%s_b_bn", h->name), DT_FLOAT, 1, &M);
  float *ow = nw->data, *ob = nb->data;
  int64_t K = w->numel / M; /* weights per output channel */
  for (int64_t m = 0; m < M; m++) {
    float s = sc[m] / sqrtf(var[m] + eps);
    for (int64_t k = 0; k < K; k++) {
      int64_t i = h->op == OP_Conv || tb ? m * K + k : k * M + m; /* Conv: [M, ...]; Gemm: column m of B */
      ow[i] = wd[i] * s;
    }
    float bm = bd ? bd[m] : 0.0f;
    ob[m] = h->op == OP_Conv ? (bm - mu[m]) * s + be[m] : (gb * bm * s + be[m] - mu[m] * s) / gb;
  }
  h->in[1] = nw;
  pass_set_bias(h, nb);
  if (h->op == OP_Gemm) pass_reinfer(h); /* a C input may be new */
  pass_absorb(h, bn);
  return 1;
}

int pass_bn(Graph *g) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_BatchNormalization) n += fold_bn(g, g->nodes[i]);
  return n;
}
