/*
 * op_softmax.c: Softmax, LogSoftmax and Hardmax (float and double), lowered
 * to runtime/k_softmax.h as OUTER x N x INNER.
 *
 * Opset difference honoured: before opset 13 the input is coerced to 2-D at
 * `axis` (default 1) and normalized over all trailing dims flattened
 * (INNER = 1, N = product of dims[axis:]); from 13 it is normalized over the
 * single dim `axis` (default -1).
 */
#include "mrtc.h"
#include "k_softmax.h"

typedef struct SoftmaxP {
  int64_t outer, N, inner;
  int mode;
} SoftmaxP;

static void softmax_infer(Node *n) {
  Value *x = n->in[0];
  if (x->dtype != DT_FLOAT && x->dtype != DT_DOUBLE)
    error_node(n, "input type %s is not supported (float, double)", dtype_name(x->dtype));
  if (x->rank < 1) error_node(n, "input must have rank >= 1");
  SoftmaxP *p = xalloc(sizeof *p);
  p->mode = n->op == OP_Softmax ? K_SOFTMAX : n->op == OP_LogSoftmax ? K_LOGSOFTMAX : K_HARDMAX;
  int old = n->opset < 13;
  int axis = norm_axis(n, attr_int(n, "axis", old ? 1 : -1), x->rank);
  p->outer = shape_numel(axis, x->dims);
  if (old) {
    p->N = shape_numel(x->rank - axis, x->dims + axis);
    p->inner = 1;
  } else {
    p->N = x->dims[axis];
    p->inner = shape_numel(x->rank - axis - 1, x->dims + axis + 1);
  }
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
  n->macs = x->numel;
  n->p = p;
}

static void softmax_eval(Node *n, void *const *in, void *const *out) {
  SoftmaxP *p = n->p;
  if (p->N == 0) return;
  if (n->in[0]->dtype == DT_FLOAT) k_softmax_f32(p->outer, p->N, p->inner, p->mode, in[0], out[0]);
  else k_softmax_f64(p->outer, p->N, p->inner, p->mode, in[0], out[0]);
}

static void softmax_emit(Node *n, Emitter *e) {
  SoftmaxP *p = n->p;
  if (p->N == 0) return;
  emit_need(e, "k_softmax");
  emit(e, "k_softmax_%s(%lld, %lld, %lld, %d, %s, %s);", dtype_tag(n->in[0]->dtype), (long long)p->outer,
       (long long)p->N, (long long)p->inner, p->mode, eref(e, n->in[0]), eref(e, n->out[0]));
}

const OpDef opdef_Softmax = {"axis", 1, 1, 1, 1, softmax_infer, softmax_eval, softmax_emit, OPF_INPLACE};
const OpDef opdef_LogSoftmax = {"axis", 1, 1, 1, 1, softmax_infer, softmax_eval, softmax_emit, OPF_INPLACE};
const OpDef opdef_Hardmax = {"axis", 1, 1, 1, 1, softmax_infer, softmax_eval, softmax_emit, OPF_INPLACE};
