/*
 * op_argmax.c: ArgMax and ArgMin (axis, keepdims, select_last_index from
 * opset 12).  The input is viewed as [outer, n, inner] around the axis; the
 * kernel is k_argmax_<T> from runtime/k_scan.h.  Output is int64.
 */
#include "mrtc.h"
#include "k_scan.h"

#include <string.h>

typedef struct ArgP {
  const char *tag;
  int is_min, last;
  int64_t outer, n, inner;
} ArgP;

static const char *arg_tag(Node *n, DType t) {
  switch (t) {
  case DT_FLOAT: case DT_DOUBLE: case DT_INT8: case DT_UINT8: case DT_INT16: case DT_UINT16:
  case DT_INT32: case DT_UINT32: case DT_INT64: case DT_UINT64:
    return dtype_tag(t);
  default: break;
  }
  error_node(n, "input type %s is not supported", dtype_name(t));
}

static void argmax_infer(Node *n) {
  Value *x = n->in[0];
  ArgP *p = xalloc(sizeof *p);
  p->tag = arg_tag(n, x->dtype);
  p->is_min = n->op == OP_ArgMin;
  if (n->opset < 12 && attr_find(n, "select_last_index"))
    error_node(n, "attribute 'select_last_index' is not allowed at opset %d", n->opset);
  p->last = (int)attr_int(n, "select_last_index", 0);
  int keep = (int)attr_int(n, "keepdims", 1);
  int64_t ax = attr_int(n, "axis", 0);
  if (x->rank == 0) error_node(n, "input must have rank >= 1");
  int a = norm_axis(n, ax, x->rank);
  if (x->dims[a] == 0) error_node(n, "axis %d has size 0: there is no index to return", a);
  p->outer = shape_numel(a, x->dims);
  p->n = x->dims[a];
  p->inner = shape_numel(x->rank - a - 1, x->dims + a + 1);
  int64_t od[MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (d != a) od[r++] = x->dims[d];
    else if (keep) od[r++] = 1;
  }
  value_set_shape(n->out[0], DT_INT64, r, od);
  n->p = p;
}

#define ARG_CALL(TG, T) \
  if (!strcmp(p->tag, #TG)) k_argmax_##TG(p->is_min, p->last, p->outer, p->n, p->inner, (const T *)in[0], (int64_t *)out[0]);
static void argmax_eval(Node *n, void *const *in, void *const *out) {
  ArgP *p = n->p;
  ARG_CALL(f32, float)
  ARG_CALL(f64, double)
  ARG_CALL(i8, int8_t)
  ARG_CALL(u8, uint8_t)
  ARG_CALL(i16, int16_t)
  ARG_CALL(u16, uint16_t)
  ARG_CALL(i32, int32_t)
  ARG_CALL(u32, uint32_t)
  ARG_CALL(i64, int64_t)
  ARG_CALL(u64, uint64_t)
}

static void argmax_emit(Node *n, Emitter *e) {
  ArgP *p = n->p;
  if (n->out[0]->numel == 0) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_scan");
  emit(e, "k_argmax_%s(%d, %d, %lld, %lld, %lld, %s, %s);", p->tag, p->is_min, p->last, (long long)p->outer,
       (long long)p->n, (long long)p->inner, eref(e, n->in[0]), eref(e, n->out[0]));
}

const OpDef opdef_ArgMax = {"axis,keepdims,select_last_index", 1, 1, 1, 1, argmax_infer, argmax_eval, argmax_emit, 0};
const OpDef opdef_ArgMin = {"axis,keepdims,select_last_index", 1, 1, 1, 1, argmax_infer, argmax_eval, argmax_emit, 0};
