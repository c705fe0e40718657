/*
 * op_view.c: ops whose output is their input's bytes under another shape:
 * Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference).
 * They are OPF_VIEW: the planner gives the output its input's storage and
 * the emitter writes nothing (or one memcpy when the output is a graph
 * output).  Only infer is op-specific.
 */
#include "mrtc.h"

#include <string.h>

static void view_eval(Node *n, void *const *in, void *const *out) {
  memcpy(out[0], in[0], (size_t)value_bytes(n->out[0]));
}

static void set_view(Node *n, int rank, const int64_t *dims) {
  Value *x = n->in[0];
  value_set_shape(n->out[0], x->dtype, rank, dims);
  if (n->out[0]->numel != x->numel)
    error_node(n, "cannot view %s as %s (element counts differ)", shape_str(x), shape_str(n->out[0]));
}

static void reshape_infer(Node *n) {
  Value *x = n->in[0];
  int64_t shape[MAX_RANK];
  int cnt;
  if (n->opset < 5) {
    cnt = attr_ints(n, "shape", shape, MAX_RANK);
    if (cnt < 0) error_node(n, "attribute 'shape' is required");
  } else {
    if (n->nin < 2) error_node(n, "input 'shape' is required");
    int64_t *s = const_ints(n, 1, &cnt);
    if (cnt > MAX_RANK) error_node(n, "target rank %d too large", cnt);
    memcpy(shape, s, sizeof(int64_t) * cnt);
  }
  int allowzero = (int)attr_int(n, "allowzero", 0);
  int64_t known = 1;
  int neg = -1;
  for (int i = 0; i < cnt; i++) {
    if (shape[i] == 0 && !allowzero) {
      if (i >= x->rank) error_node(n, "shape[%d] = 0 copies a dimension the input does not have", i);
      shape[i] = x->dims[i];
    }
    if (shape[i] == -1) {
      if (neg >= 0) error_node(n, "more than one -1 in the target shape");
      neg = i;
    } else if (shape[i] < 0) error_node(n, "invalid target dimension %lld", (long long)shape[i]);
    else known *= shape[i];
  }
  if (neg >= 0) {
    if (known == 0 || x->numel % known) error_node(n, "cannot reshape %s: -1 does not resolve", shape_str(x));
    shape[neg] = x->numel / known;
  }
  set_view(n, cnt, shape);
}

static void flatten_infer(Node *n) {
  Value *x = n->in[0];
  int64_t axis = attr_int(n, "axis", 1);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis > x->rank) error_node(n, "axis out of range");
  int64_t d[2] = {shape_numel((int)axis, x->dims), shape_numel(x->rank - (int)axis, x->dims + axis)};
  set_view(n, 2, d);
}

static int get_axes(Node *n, int64_t *axes) {
  int cnt;
  if (n->opset < 13) {
    cnt = attr_ints(n, "axes", axes, MAX_RANK);
  } else if (node_in(n, 1)) {
    int64_t *a = const_ints(n, 1, &cnt);
    if (cnt > MAX_RANK) error_node(n, "too many axes");
    memcpy(axes, a, sizeof(int64_t) * cnt);
  } else
    cnt = -1;
  return cnt;
}

static void squeeze_infer(Node *n) {
  Value *x = n->in[0];
  int64_t axes[MAX_RANK], d[MAX_RANK];
  int cnt = get_axes(n, axes), drop[MAX_RANK] = {0}, r = 0;
  if (cnt < 0) {
    for (int i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
  } else
    for (int i = 0; i < cnt; i++) {
      int a = norm_axis(n, axes[i], x->rank);
      if (x->dims[a] != 1) error_node(n, "cannot squeeze axis %d of %s (size is not 1)", a, shape_str(x));
      drop[a] = 1;
    }
  for (int i = 0; i < x->rank; i++)
    if (!drop[i]) d[r++] = x->dims[i];
  set_view(n, r, d);
}

static void unsqueeze_infer(Node *n) {
  Value *x = n->in[0];
  int64_t axes[MAX_RANK], d[MAX_RANK];
  int cnt = get_axes(n, axes);
  if (cnt < 0) error_node(n, "axes are required");
  int r = x->rank + cnt, ins[MAX_RANK] = {0};
  if (r > MAX_RANK) error_node(n, "result rank %d too large", r);
  for (int i = 0; i < cnt; i++) {
    int a = norm_axis(n, axes[i], r);
    if (ins[a]) error_node(n, "axis %d given twice", a);
    ins[a] = 1;
  }
  for (int i = 0, k = 0; i < r; i++) d[i] = ins[i] ? 1 : x->dims[k++];
  set_view(n, r, d);
}

static void identity_infer(Node *n) {
  Value *x = n->in[0];
  set_view(n, x->rank, x->dims);
}

static void dropout_infer(Node *n) {
  Value *x = n->in[0];
  if (n->opset < 7 && attr_int(n, "is_test", 0) == 0) warn_node(n, "is_test=0: treated as inference");
  attr_float(n, "ratio", 0.5f);
  attr_int(n, "seed", 0);
  if (node_in(n, 2)) {
    Value *t = need_const(n, 2);
    if (elem_get_i64(t->data, t->dtype, 0)) error_node(n, "training_mode=true is not supported (training ops are out of scope)");
  }
  set_view(n, x->rank, x->dims);
  if (n->nout > 1 && n->out[1]) {
    Value *m = n->out[1];
    value_set_shape(m, DT_BOOL, x->rank, x->dims);
    m->data = xalloc((size_t)m->numel + 1);
    memset(m->data, 1, (size_t)m->numel);
  }
}

const OpDef opdef_Reshape = {"shape,allowzero", 1, 2, 1, 1, reshape_infer, view_eval, NULL, OPF_VIEW};
const OpDef opdef_Flatten = {"axis", 1, 1, 1, 1, flatten_infer, view_eval, NULL, OPF_VIEW};
const OpDef opdef_Squeeze = {"axes", 1, 2, 1, 1, squeeze_infer, view_eval, NULL, OPF_VIEW};
const OpDef opdef_Unsqueeze = {"axes", 1, 2, 1, 1, unsqueeze_infer, view_eval, NULL, OPF_VIEW};
const OpDef opdef_Identity = {"", 1, 1, 1, 1, identity_infer, view_eval, NULL, OPF_VIEW};
const OpDef opdef_Dropout = {"ratio,seed,is_test,consumed_inputs", 1, 3, 1, 2, dropout_infer, view_eval, NULL, OPF_VIEW};
