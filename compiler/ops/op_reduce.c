/*
 * op_reduce.c: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
 * ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare.
 *
 * axes is an attribute up to opset 12 (ReduceSum) / 17 (the others) and an
 * optional input after, together with noop_with_empty_axes.  infer splits
 * the input's dims into kept and reduced ones, merges neighbours of the same
 * kind and drops size-1 dims, so the kernel (runtime/k_reduce.h) walks at
 * most a few dims; a reduction over nothing (noop, or only size-1 axes) is a
 * reduction over one element, which still applies the op's elementwise part
 * (ReduceLogSum -> log x, ReduceSumSquare -> x*x) as the spec asks.
 */
#include "mrtc.h"
#include "k_reduce.h"

#include <string.h>

typedef struct RedP {
  int op;           /* MRTC_RED_* */
  const char *tag;  /* kernel type tag */
  int orank, rrank;
  int64_t odims[MAX_RANK], ostr[MAX_RANK], rdims[MAX_RANK], rstr[MAX_RANK];
} RedP;

static const char *red_names[] = {"sum", "mean", "max", "min", "prod", "l1", "l2", "logsum", "logsumexp", "sumsquare"};

static int red_op(int op) {
  switch (op) {
  case OP_ReduceSum: return MRTC_RED_SUM;
  case OP_ReduceMean: return MRTC_RED_MEAN;
  case OP_ReduceMax: return MRTC_RED_MAX;
  case OP_ReduceMin: return MRTC_RED_MIN;
  case OP_ReduceProd: return MRTC_RED_PROD;
  case OP_ReduceL1: return MRTC_RED_L1;
  case OP_ReduceL2: return MRTC_RED_L2;
  case OP_ReduceLogSum: return MRTC_RED_LOGSUM;
  case OP_ReduceLogSumExp: return MRTC_RED_LOGSUMEXP;
  default: return MRTC_RED_SUMSQUARE;
  }
}

static const char *red_tag(Node *n, DType t, int op) {
  switch (t) {
  case DT_FLOAT: return "f32";
  case DT_DOUBLE: return "f64";
  case DT_INT32: return "i32";
  case DT_INT64: return "i64";
  case DT_UINT32: return "u32";
  case DT_UINT64: return "u64";
  case DT_UINT8: case DT_INT8: case DT_BOOL:
    if (op == MRTC_RED_MAX || op == MRTC_RED_MIN) return t == DT_INT8 ? "i8" : "u8";
    break;
  default: break;
  }
  error_node(n, "input type %s is not supported", dtype_name(t));
}

static void reduce_infer(Node *n) {
  Value *x = n->in[0];
  RedP *p = xalloc(sizeof *p);
  p->op = red_op(n->op);
  p->tag = red_tag(n, x->dtype, p->op);
  int axes_input = n->op == OP_ReduceSum ? n->opset >= 13 : n->opset >= 18;
  int64_t axes[MAX_RANK];
  int cnt = -1, noop = 0;
  if (axes_input) {
    if (attr_find(n, "axes")) error_node(n, "attribute 'axes' is not allowed at opset %d (axes is an input)", n->opset);
    noop = (int)attr_int(n, "noop_with_empty_axes", 0);
    Value *a = node_in(n, 1);
    if (a && a->rank >= 0 && a->numel == 0 && a->rank == 1 && a->dims[0] == 0) cnt = 0; /* known empty */
    else if (a) {
      int64_t *v = const_ints(n, 1, &cnt);
      if (cnt > MAX_RANK) error_node(n, "too many axes (%d)", cnt);
      memcpy(axes, v, sizeof(int64_t) * cnt);
    }
  } else {
    if (node_in(n, 1)) error_node(n, "axes input is not allowed at opset %d", n->opset);
    if (attr_find(n, "noop_with_empty_axes")) error_node(n, "attribute 'noop_with_empty_axes' is not allowed at opset %d", n->opset);
    cnt = attr_ints(n, "axes", axes, MAX_RANK);
  }
  int keep = (int)attr_int(n, "keepdims", 1);
  int red[MAX_RANK] = {0};
  if (cnt <= 0) {
    if (!noop)
      for (int d = 0; d < x->rank; d++) red[d] = 1;
  } else
    for (int i = 0; i < cnt; i++) {
      int a = norm_axis(n, axes[i], x->rank);
      if (x->rank == 0) continue;
      if (red[a]) error_node(n, "axis %lld given twice", (long long)axes[i]);
      red[a] = 1;
    }
  /* output shape */
  int64_t od[MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!red[d]) od[r++] = x->dims[d];
    else if (keep) od[r++] = 1;
  }
  value_set_shape(n->out[0], x->dtype, r, od);
  /* kernel geometry: strides of the dense input, merged runs */
  int64_t st[MAX_RANK], s = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    st[d] = s;
    s *= x->dims[d];
  }
  int last = -1, rempty = 0; /* kind of the last dim taken: 0 kept, 1 reduced */
  for (int d = 0; d < x->rank; d++) {
    if (x->dims[d] == 0 && red[d]) rempty = 1;
    if (x->dims[d] == 1) continue;
    int64_t *dims = red[d] ? p->rdims : p->odims, *str = red[d] ? p->rstr : p->ostr;
    int *k = red[d] ? &p->rrank : &p->orank;
    if (last == red[d] && *k > 0) {
      dims[*k - 1] *= x->dims[d];
      str[*k - 1] = st[d];
    } else {
      dims[*k] = x->dims[d];
      str[*k] = st[d];
      ++*k;
    }
    last = red[d];
  }
  if (!p->orank) {
    p->orank = 1;
    p->odims[0] = 1;
    p->ostr[0] = 0;
  }
  if (!p->rrank || rempty) {
    p->rrank = 1;
    p->rdims[0] = rempty ? 0 : 1;
    p->rstr[0] = 0;
  }
  n->p = p;
}

#define RED_CALL(TG, T) \
  if (!strcmp(p->tag, #TG)) k_reduce_##TG(p->op, p->orank, p->odims, p->ostr, p->rrank, p->rdims, p->rstr, (const T *)in[0], (T *)out[0]);
static void reduce_eval(Node *n, void *const *in, void *const *out) {
  RedP *p = n->p;
  if (n->out[0]->numel == 0) return;
  RED_CALL(f32, float)
  RED_CALL(f64, double)
  RED_CALL(i8, int8_t)
  RED_CALL(u8, uint8_t)
  RED_CALL(i32, int32_t)
  RED_CALL(u32, uint32_t)
  RED_CALL(i64, int64_t)
  RED_CALL(u64, uint64_t)
}

static void reduce_emit(Node *n, Emitter *e) {
  RedP *p = n->p;
  if (n->out[0]->numel == 0) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_reduce");
  const char *od = emit_i64s(e, p->odims, p->orank), *os = emit_i64s(e, p->ostr, p->orank);
  const char *rd = emit_i64s(e, p->rdims, p->rrank), *rs = emit_i64s(e, p->rstr, p->rrank);
  emit(e, "k_reduce_%s(%d /* %s */, %d, %s, %s, %d, %s, %s, %s, %s);", p->tag, p->op, red_names[p->op], p->orank, od, os,
       p->rrank, rd, rs, eref(e, n->in[0]), eref(e, n->out[0]));
}

#define REDUCE(name) \
  const OpDef opdef_##name = {"axes,keepdims,noop_with_empty_axes", 1, 2, 1, 1, reduce_infer, reduce_eval, reduce_emit, 0};
REDUCE(ReduceSum)
REDUCE(ReduceMean)
REDUCE(ReduceMax)
REDUCE(ReduceMin)
REDUCE(ReduceProd)
REDUCE(ReduceL1)
REDUCE(ReduceL2)
REDUCE(ReduceLogSum)
REDUCE(ReduceLogSumExp)
REDUCE(ReduceSumSquare)
