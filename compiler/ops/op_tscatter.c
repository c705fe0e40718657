/*
 * op_tscatter.c: TensorScatter (opset 24), the functional KV-cache update:
 * present = past with update written along the sequence axis at each
 * batch's write index (linear, or circular modulo the cache length).  Pure
 * data movement on element bytes, so every fixed-size type works; kernel
 * in runtime/k_tscatter.h.
 */
#include "mrtc.h"
#include "k_tscatter.h"

#include <string.h>

typedef struct TScatP {
  int64_t outer, per_batch, maxs, seq, inner;
  int circular;
} TScatP;

static void tscatter_infer(Node *n) {
  Value *x = n->in[0], *u = n->in[1], *wi = node_in(n, 2);
  if (u->dtype != x->dtype) error_node(n, "update type %s differs from past_cache type %s", dtype_name(u->dtype), dtype_name(x->dtype));
  if (x->rank < 2) error_node(n, "past_cache %s must have rank >= 2", shape_str(x));
  int axis = norm_axis(n, attr_int(n, "axis", -2), x->rank);
  if (axis == 0) error_node(n, "axis cannot be 0 (the batch dimension)");
  if (u->rank != x->rank) error_node(n, "update %s and past_cache %s differ in rank", shape_str(u), shape_str(x));
  for (int d = 0; d < x->rank; d++)
    if (d != axis && u->dims[d] != x->dims[d])
      error_node(n, "update %s and past_cache %s differ outside axis %d", shape_str(u), shape_str(x), axis);
  if (u->dims[axis] > x->dims[axis])
    error_node(n, "update %s is longer than past_cache %s on axis %d", shape_str(u), shape_str(x), axis);
  if (wi) {
    if (wi->dtype != DT_INT64) error_node(n, "write_indices has type %s (int64 expected)", dtype_name(wi->dtype));
    if (wi->rank != 1 || wi->dims[0] != x->dims[0])
      error_node(n, "write_indices %s must be 1-D of the batch size %lld", shape_str(wi), (long long)x->dims[0]);
  }
  const char *m = attr_str(n, "mode", "linear");
  TScatP *p = xalloc(sizeof *p);
  if (!strcmp(m, "circular")) p->circular = 1;
  else if (strcmp(m, "linear")) error_node(n, "mode '%s' is not linear or circular", m);
  p->outer = shape_numel(axis, x->dims);
  p->per_batch = x->dims[0] ? p->outer / x->dims[0] : 1;
  p->maxs = x->dims[axis];
  p->seq = u->dims[axis];
  p->inner = shape_numel(x->rank - axis - 1, x->dims + axis + 1) * dtype_size(x->dtype);
  if (p->circular && p->maxs == 0 && p->seq > 0) error_node(n, "circular mode on an empty cache axis");
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
  n->p = p;
}

static void tscatter_eval(Node *n, void *const *in, void *const *out) {
  TScatP *p = n->p;
  if (!n->out[0]->numel) return;
  k_tscatter(p->outer, p->per_batch, p->maxs, p->seq, p->inner, in[0], in[1], node_in(n, 2) ? in[2] : NULL,
             p->circular, out[0]);
}

static void tscatter_emit(Node *n, Emitter *e) {
  TScatP *p = n->p;
  Value *wi = node_in(n, 2);
  if (!n->out[0]->numel) return;
  emit_need(e, "k_tscatter");
  emit(e, "k_tscatter(%lld, %lld, %lld, %lld, %lld, (const unsigned char *)%s, (const unsigned char *)%s, %s, %d, "
          "(unsigned char *)%s);",
       (long long)p->outer, (long long)p->per_batch, (long long)p->maxs, (long long)p->seq, (long long)p->inner,
       eref(e, n->in[0]), eref(e, n->in[1]), wi ? eref(e, wi) : "0", p->circular, eref(e, n->out[0]));
}

const OpDef opdef_TensorScatter = {"axis,mode", 2, 3, 1, 1, tscatter_infer, tscatter_eval, tscatter_emit, OPF_INPLACE};
