/*
 * op_cumsum.c: CumSum (opset 11, 14) and CumProd (opset 26): running sums /
 * products along the axis given by the second input (a constant; --bind it
 * when it is a graph input), with the exclusive and reverse attributes.
 * CumSum takes float, double, [u]int32, [u]int64; CumProd float16 and
 * bfloat16 too.  The input is viewed as [outer, n, inner]; the kernels are
 * k_cumsum_<T> / k_cumprod_<T> from runtime/k_scan.h.
 */
#include "mrtc.h"
#include "k_scan.h"

#include <string.h>

typedef struct CumP {
  const char *kernel; /* "cumsum" or "cumprod" */
  const char *tag;
  int exclusive, reverse;
  int64_t outer, n, inner;
} CumP;

static void cum_infer(Node *n, int prod) {
  Value *x = n->in[0];
  CumP *p = xalloc(sizeof *p);
  p->kernel = prod ? "cumprod" : "cumsum";
  switch (x->dtype) {
  case DT_FLOAT: case DT_DOUBLE: case DT_INT32: case DT_UINT32: case DT_INT64: case DT_UINT64:
    p->tag = dtype_tag(x->dtype);
    break;
  case DT_FLOAT16: case DT_BFLOAT16:
    if (prod) {
      p->tag = dtype_tag(x->dtype);
      break;
    }
    /* fall through */
  default: error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  }
  if (prod && n->in[1]->dtype != DT_INT32 && n->in[1]->dtype != DT_INT64)
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

static void cumsum_infer(Node *n) { cum_infer(n, 0); }
static void cumprod_infer(Node *n) { cum_infer(n, 1); }

#define CUM_CALL(K, TG, T) \
  if (!strcmp(p->tag, #TG)) k_##K##_##TG(p->exclusive, p->reverse, p->outer, p->n, p->inner, (const T *)in[0], (T *)out[0]);
static void cum_eval(Node *n, void *const *in, void *const *out) {
  CumP *p = n->p;
  if (!strcmp(p->kernel, "cumsum")) {
    CUM_CALL(cumsum, f32, float)
    CUM_CALL(cumsum, f64, double)
    CUM_CALL(cumsum, i32, int32_t)
    CUM_CALL(cumsum, u32, uint32_t)
    CUM_CALL(cumsum, i64, int64_t)
    CUM_CALL(cumsum, u64, uint64_t)
    return;
  }
  CUM_CALL(cumprod, f32, float)
  CUM_CALL(cumprod, f64, double)
  CUM_CALL(cumprod, i32, int32_t)
  CUM_CALL(cumprod, u32, uint32_t)
  CUM_CALL(cumprod, i64, int64_t)
  CUM_CALL(cumprod, u64, uint64_t)
  CUM_CALL(cumprod, f16, uint16_t)
  CUM_CALL(cumprod, bf16, uint16_t)
}

static void cum_emit(Node *n, Emitter *e) {
  CumP *p = n->p;
  if (n->out[0]->numel == 0) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_scan");
  emit(e, "k_%s_%s(%d, %d, %lld, %lld, %lld, %s, %s);", p->kernel, p->tag, p->exclusive, p->reverse, (long long)p->outer,
       (long long)p->n, (long long)p->inner, eref(e, n->in[0]), eref(e, n->out[0]));
}

const OpDef opdef_CumSum = {"exclusive,reverse", 2, 2, 1, 1, cumsum_infer, cum_eval, cum_emit, OPF_INPLACE};
const OpDef opdef_CumProd = {"exclusive,reverse", 2, 2, 1, 1, cumprod_infer, cum_eval, cum_emit, OPF_INPLACE};
