/*
 * op_cumsum.c: CumSum (opset 11, 14): running sums along the axis given by
 * the second input (a constant; --bind it when it is a graph input), with
 * the exclusive and reverse attributes.  The input is viewed as
 * [outer, n, inner]; the kernel is k_cumsum_<T> from runtime/k_scan.h.
 */
#include "mrtc.h"
#include "k_scan.h"

#include <string.h>

typedef struct CumP {
  const char *tag;
  int exclusive, reverse;
  int64_t outer, n, inner;
} CumP;

static void cumsum_infer(Node *n) {
  Value *x = n->in[0];
  CumP *p = xalloc(sizeof *p);
  switch (x->dtype) {
  case DT_FLOAT: case DT_DOUBLE: case DT_INT32: case DT_UINT32: case DT_INT64: case DT_UINT64:
    p->tag = dtype_tag(x->dtype);
    break;
  default: error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  }
  int cnt;
  int64_t *ax = const_ints(n, 1, &cnt);
  if (cnt != 1 || n->in[1]->rank > 1) error_node(n, "axis must be a scalar (got %s)", shape_str(n->in[1]));
  if (x->rank == 0) error_node(n, "input must have rank >= 1");
  int a = norm_axis(n, ax[0], x->rank);
  p->exclusive = (int)attr_int(n, "exclusive", 0);
  p->reverse = (int)attr_int(n, "reverse", 0);
  p->outer = shape_numel(a, x->dims);
  p->n = x->dims[a];
  p->inner = shape_numel(x->rank - a - 1, x->dims + a + 1);
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
  n->p = p;
}

#define CUM_CALL(TG, T) \
  if (!strcmp(p->tag, #TG)) k_cumsum_##TG(p->exclusive, p->reverse, p->outer, p->n, p->inner, (const T *)in[0], (T *)out[0]);
static void cumsum_eval(Node *n, void *const *in, void *const *out) {
  CumP *p = n->p;
  CUM_CALL(f32, float)
  CUM_CALL(f64, double)
  CUM_CALL(i32, int32_t)
  CUM_CALL(u32, uint32_t)
  CUM_CALL(i64, int64_t)
  CUM_CALL(u64, uint64_t)
}

static void cumsum_emit(Node *n, Emitter *e) {
  CumP *p = n->p;
  if (n->out[0]->numel == 0) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_scan");
  emit(e, "k_cumsum_%s(%d, %d, %lld, %lld, %lld, %s, %s);", p->tag, p->exclusive, p->reverse, (long long)p->outer,
       (long long)p->n, (long long)p->inner, eref(e, n->in[0]), eref(e, n->out[0]));
}

const OpDef opdef_CumSum = {"exclusive,reverse", 2, 2, 1, 1, cumsum_infer, cumsum_eval, cumsum_emit, OPF_INPLACE};
