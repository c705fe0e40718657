/*
 * op_const.c: ops whose result is known at compile time: Constant (every
 * attribute form), Shape (with start/end), Size, ConstantOfShape.  infer
 * computes the value; shape.c then sees a constant output.
 */
#include "mrtc.h"

#include <string.h>

static void const_eval(Node *n, void *const *in, void *const *out) {
  (void)in;
  for (int k = 0; k < n->nout; k++)
    if (n->out[k] && n->p) memcpy(out[k], n->p, (size_t)value_bytes(n->out[k]));
}

static void constant_infer(Node *n) {
  Value *o = n->out[0];
  Attr *a = NULL;
  int found = 0;
  for (int i = 0; i < n->nattrs; i++) {
    a = &n->attrs[i];
    found++;
  }
  if (found != 1) error_node(n, "needs exactly one value attribute, has %d", found);
  a = &n->attrs[0];
  a->used = 1;
  int64_t one = 1;
  if (!strcmp(a->name, "value")) {
    if (a->type != AT_TENSOR || !a->t) error_node(n, "attribute 'value' must be a tensor");
    value_set_shape(o, a->t->dtype, a->t->rank, a->t->dims);
    n->p = a->t->data;
  } else if (!strcmp(a->name, "value_float")) {
    value_set_shape(o, DT_FLOAT, 0, NULL);
    n->p = xalloc(4);
    *(float *)n->p = a->f;
  } else if (!strcmp(a->name, "value_int")) {
    value_set_shape(o, DT_INT64, 0, NULL);
    n->p = xalloc(8);
    *(int64_t *)n->p = a->i;
  } else if (!strcmp(a->name, "value_floats")) {
    int64_t c = a->nfloats;
    value_set_shape(o, DT_FLOAT, 1, &c);
    n->p = xalloc(4 * c + 4);
    if (c) memcpy(n->p, a->floats, 4 * c);
  } else if (!strcmp(a->name, "value_ints")) {
    int64_t c = a->nints;
    value_set_shape(o, DT_INT64, 1, &c);
    n->p = xalloc(8 * c + 8);
    if (c) memcpy(n->p, a->ints, 8 * c);
  } else if (!strcmp(a->name, "sparse_value") || !strcmp(a->name, "value_string") || !strcmp(a->name, "value_strings"))
    error_node(n, "attribute '%s' is not supported (strings and sparse tensors are out of scope)", a->name);
  else
    error_node(n, "unknown attribute '%s'", a->name);
  (void)one;
  o->data = xalloc((size_t)value_bytes(o) + 8);
  memcpy(o->data, n->p, (size_t)value_bytes(o));
  n->dead = 1;
}

static void shape_infer_op(Node *n) {
  Value *x = n->in[0];
  int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", x->rank);
  if (start < 0) start += x->rank;
  if (end < 0) end += x->rank;
  if (start < 0) start = 0;
  if (end > x->rank) end = x->rank;
  int64_t c = end > start ? end - start : 0;
  value_set_shape(n->out[0], DT_INT64, 1, &c);
  int64_t *d = xalloc(sizeof(int64_t) * (c + 1));
  for (int64_t i = 0; i < c; i++) d[i] = x->dims[start + i];
  n->p = d;
}

static void size_infer(Node *n) {
  value_set_shape(n->out[0], DT_INT64, 0, NULL);
  int64_t *d = xalloc(8);
  *d = n->in[0]->numel;
  n->p = d;
}

static void cos_infer(Node *n) {
  int cnt;
  int64_t *s = const_ints(n, 0, &cnt);
  if (n->in[0]->rank != 1) error_node(n, "input must be 1-D");
  if (cnt > MAX_RANK) error_node(n, "rank %d too large", cnt);
  Value *v = attr_tensor(n, "value");
  DType t = v ? v->dtype : DT_FLOAT;
  if (v && v->numel != 1) error_node(n, "'value' must hold one element");
  value_set_shape(n->out[0], t, cnt, s);
  Value *o = n->out[0];
  int sz = dtype_size(t);
  unsigned char *d = xalloc((size_t)(o->numel * sz) + 8);
  for (int64_t i = 0; i < o->numel; i++)
    if (v) memcpy(d + i * sz, v->data, sz);
  n->p = d;
}

const OpDef opdef_Constant = {"value,value_float,value_floats,value_int,value_ints,value_string,value_strings,sparse_value", 0, 0, 1, 1,
                              constant_infer, const_eval, NULL, 0};
const OpDef opdef_Shape = {"start,end", 1, 1, 1, 1, shape_infer_op, const_eval, NULL, OPF_FOLD_SHAPE};
const OpDef opdef_Size = {"", 1, 1, 1, 1, size_infer, const_eval, NULL, OPF_FOLD_SHAPE};
const OpDef opdef_ConstantOfShape = {"value", 1, 1, 1, 1, cos_infer, const_eval, NULL, 0};
