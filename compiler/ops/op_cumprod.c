/*
 * op_cumprod.c: CumProd (opset 26): running products along the axis given
 * by the second input (a constant; --bind it when it is a graph input), with
 * the exclusive and reverse attributes; float, double, float16, bfloat16,
 * [u]int32 and [u]int64.  The input is viewed as [outer, n, inner]; the
 * kernel is k_cumprod_<T> from runtime/k_cumprod.h.
 */
#include "mrtc.h"
#include "k_cumprod.h"

#include <string.h>

typedef struct CumProdP {
  const char *tag;
  int exclusive, reverse;
  int64_t outer, n, inner;
} CumProdP;

static void cumprod_infer(Node *n) {
  Value *x = n->in[0];
  CumProdP *p = xalloc(sizeof *p);
  switch (x->dtype) {
  case DT_FLOAT: case DT_DOUBLE: case DT_INT32: case DT_UINT32: case DT_INT64: case DT_UINT64: case DT_FLOAT16:
  case DT_BFLOAT16:
    p->tag = dtype_tag(x->dtype);
    break;
  default: error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  }
  if (n->in[1]->dtype != DT_INT32 && n->in[1]->dtype != DT_INT64)
    error_node(n, "axis has type %s (int32 or int64 expected)", dtype_name(n->in[1]->dtype));
  int cnt;
  int64_t *ax = const_ints(n, 1, &cnt);
  if (cnt != 1 || n->in[1]->rank > 1) error_node(n, "axis must be a scalar (got %s)", shape_str(n->in[1]));
  if (x->rank == 0) error_node(n, "input must have rank >= 1");
  int a = norm_axis(n, ax[0], x->rank);
  p->exclusive = attr_int(n, "exclusive", 0) != 0;
  p->reverse = attr_int(n, "reverse", 0) != 0;
  p->outer = shape_numel(a, x->dims);
  p->n = x->dims[a];
  p->inner = shape_numel(x->rank - a - 1, x->dims + a + 1);
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
  n->p = p;
}

#define CP_CALL(TG, T)                                                                                        \
  if (!strcmp(p->tag, #TG))                                                                                   \
    k_cumprod_##TG(p->exclusive, p->reverse, p->outer, p->n, p->inner, (const T *)in[0], (T *)out[0]);
static void cumprod_eval(Node *n, void *const *in, void *const *out) {
  CumProdP *p = n->p;
  CP_CALL(f32, float)
  CP_CALL(f64, double)
  CP_CALL(i32, int32_t)
  CP_CALL(u32, uint32_t)
  CP_CALL(i64, int64_t)
  CP_CALL(u64, uint64_t)
  CP_CALL(f16, uint16_t)
  CP_CALL(bf16, uint16_t)
}

static void cumprod_emit(Node *n, Emitter *e) {
  CumProdP *p = n->p;
  if (n->out[0]->numel == 0) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_cumprod");
  emit(e, "k_cumprod_%s(%d, %d, %lld, %lld, %lld, %s, %s);", p->tag, p->exclusive, p->reverse, (long long)p->outer,
       (long long)p->n, (long long)p->inner, eref(e, n->in[0]), eref(e, n->out[0]));
}

const OpDef opdef_CumProd = {"exclusive,reverse", 2, 2, 1, 1, cumprod_infer, cumprod_eval, cumprod_emit, OPF_INPLACE};
