/*
 * op_loss.c: NegativeLogLikelihoodLoss (12, 13, 22) and
 * SoftmaxCrossEntropyLoss (12, 13) on runtime/k_loss.h: float, double,
 * float16 and bfloat16 scores, int32 / int64 targets, optional class
 * weights, ignore_index, reduction none / sum / mean, and the optional
 * log_prob output of SoftmaxCrossEntropyLoss.  The versions differ only in
 * the types they allow.
 */
#include "mrtc.h"
#include "k_loss.h"

#include <stdlib.h>
#include <string.h>

typedef struct LossP {
  int64_t N, C, D, ii;
  int sce, has_ii, red;
} LossP;

static void loss_infer(Node *n) {
  Value *x = n->in[0], *t = n->in[1], *w = node_in(n, 2);
  LossP *p = xalloc(sizeof *p);
  p->sce = n->op == OP_SoftmaxCrossEntropyLoss;
  if (!(x->dtype == DT_FLOAT || x->dtype == DT_DOUBLE || x->dtype == DT_FLOAT16 || x->dtype == DT_BFLOAT16))
    error_node(n, "input type %s is not supported (float, double, float16, bfloat16)", dtype_name(x->dtype));
  if (t->dtype != DT_INT32 && t->dtype != DT_INT64)
    error_node(n, "target type %s is not supported (int32, int64)", dtype_name(t->dtype));
  if (x->rank < 2) error_node(n, "input %s must have rank >= 2 (N, C, ...)", shape_str(x));
  if (t->rank != x->rank - 1) error_node(n, "target %s must have rank %d for input %s", shape_str(t), x->rank - 1, shape_str(x));
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i] != x->dims[i ? i + 1 : 0])
      error_node(n, "target %s does not match input %s (N, C, d1, ...)", shape_str(t), shape_str(x));
  p->N = x->dims[0];
  p->C = x->dims[1];
  p->D = shape_numel(x->rank - 2, x->dims + 2);
  if (w) {
    if (w->dtype != x->dtype) error_node(n, "weight type %s differs from input type %s", dtype_name(w->dtype), dtype_name(x->dtype));
    if (w->rank != 1 || w->dims[0] != p->C) error_node(n, "weight %s must be 1-D of C = %lld", shape_str(w), (long long)p->C);
  }
  Attr *a = attr_find(n, "ignore_index");
  if (a) {
    if (a->type != AT_INT) error_node(n, "attribute 'ignore_index' must be an int");
    p->has_ii = 1;
    p->ii = attr_int(n, "ignore_index", 0);
  }
  const char *r = attr_str(n, "reduction", "mean");
  if (!strcmp(r, "none")) p->red = 0;
  else if (!strcmp(r, "sum")) p->red = 1;
  else if (!strcmp(r, "mean")) p->red = 2;
  else error_node(n, "reduction '%s' is not one of none, sum, mean", r);
  if (p->red == 0) value_set_shape(n->out[0], x->dtype, t->rank, t->dims);
  else value_set_shape(n->out[0], x->dtype, 0, NULL);
  if (n->nout > 1 && n->out[1]) {
    if (!p->sce) error_node(n, "has a second output");
    value_set_shape(n->out[1], x->dtype, x->rank, x->dims);
  }
  n->p = p;
}

static void loss_eval(Node *n, void *const *in, void *const *out) {
  LossP *p = n->p;
  if (!n->out[0]->numel) return;
  k_loss(p->sce, p->N, p->C, p->D, in[0], n->in[0]->dtype, in[1], n->in[1]->dtype, node_in(n, 2) ? in[2] : NULL,
         p->has_ii, p->ii, p->red, out[0], n->nout > 1 && n->out[1] ? out[1] : NULL);
}

static void loss_emit(Node *n, Emitter *e) {
  LossP *p = n->p;
  Value *w = node_in(n, 2);
  if (!n->out[0]->numel) return;
  emit_need(e, "k_loss");
  const char *ii = p->ii == INT64_MIN ? "(-9223372036854775807LL - 1)" : fmt("%lldLL", (long long)p->ii);
  emit(e, "k_loss(%d, %lld, %lld, %lld, %s, %d, %s, %d, %s, %d, %s, %d, %s, %s);", p->sce, (long long)p->N,
       (long long)p->C, (long long)p->D, eref(e, n->in[0]), (int)n->in[0]->dtype, eref(e, n->in[1]),
       (int)n->in[1]->dtype, w ? eref(e, w) : "0", p->has_ii, ii, p->red, eref(e, n->out[0]),
       n->nout > 1 && n->out[1] ? eref(e, n->out[1]) : "0");
}

const OpDef opdef_NegativeLogLikelihoodLoss = {"ignore_index,reduction", 2, 3, 1, 1, loss_infer, loss_eval, loss_emit, 0};
const OpDef opdef_SoftmaxCrossEntropyLoss = {"ignore_index,reduction", 2, 3, 1, 2, loss_infer, loss_eval, loss_emit, 0};
