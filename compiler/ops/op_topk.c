/*
 * op_topk.c: TopK.  k is an attribute at opset 1 and a constant input from
 * opset 10 (it decides the output shape: --bind it when it is a graph
 * input); largest and sorted come at opset 11.  The result is always sorted
 * (sorted=0 leaves the order to the implementation).  Kernel: k_topk_<T>
 * from runtime/k_topk.h, with n int64 of scratch for its heap.
 */
#include "mrtc.h"
#include "k_topk.h"

#include <stdlib.h>
#include <string.h>

typedef struct TopKP {
  const char *tag;
  int largest;
  int64_t outer, n, inner, k;
} TopKP;

static void topk_infer(Node *n) {
  Value *x = n->in[0];
  TopKP *p = xalloc(sizeof *p);
  switch (x->dtype) {
  case DT_FLOAT: case DT_DOUBLE: case DT_INT8: case DT_UINT8: case DT_INT16: case DT_UINT16:
  case DT_INT32: case DT_UINT32: case DT_INT64: case DT_UINT64:
    p->tag = dtype_tag(x->dtype);
    break;
  default: error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  }
  if (n->opset < 10) {
    Attr *a = attr_find(n, "k");
    if (!a || a->type != AT_INT) error_node(n, "attribute 'k' is required at opset %d", n->opset);
    p->k = a->i;
    if (n->nin > 1) error_node(n, "input K is not allowed at opset %d (k is an attribute)", n->opset);
  } else {
    if (attr_find(n, "k")) error_node(n, "attribute 'k' is not allowed at opset %d (K is an input)", n->opset);
    int cnt;
    int64_t *k = const_ints(n, 1, &cnt);
    if (cnt != 1) error_node(n, "K must hold one value (got %d)", cnt);
    p->k = k[0];
  }
  if (n->opset < 11 && (attr_find(n, "largest") || attr_find(n, "sorted")))
    error_node(n, "attributes 'largest' and 'sorted' are not allowed at opset %d", n->opset);
  p->largest = attr_int(n, "largest", 1) != 0;
  attr_int(n, "sorted", 1); /* sorted=0: any order is allowed; we always sort */
  if (x->rank == 0) error_node(n, "input must have rank >= 1");
  int a = norm_axis(n, attr_int(n, "axis", -1), x->rank);
  p->outer = shape_numel(a, x->dims);
  p->n = x->dims[a];
  p->inner = shape_numel(x->rank - a - 1, x->dims + a + 1);
  if (p->k < 0 || p->k > p->n)
    error_node(n, "k = %lld is out of range for axis %d of size %lld", (long long)p->k, a, (long long)p->n);
  int64_t od[MAX_RANK];
  memcpy(od, x->dims, sizeof(int64_t) * x->rank);
  od[a] = p->k;
  if (n->out[0]) value_set_shape(n->out[0], x->dtype, x->rank, od);
  if (n->nout > 1 && n->out[1]) value_set_shape(n->out[1], DT_INT64, x->rank, od);
  /* scratch: the heap, then the results nobody reads (omitted outputs) */
  int64_t cnt = p->outer * p->k * p->inner;
  n->scratch_bytes = p->k ? p->n * 8 + (n->out[0] ? 0 : cnt * 8) + (n->nout > 1 && n->out[1] ? 0 : cnt * 8) : 0;
  n->p = p;
}

#define TOPK_CALL(TG, T) \
  if (!strcmp(p->tag, #TG)) k_topk_##TG(p->largest, p->outer, p->n, p->inner, p->k, (const T *)in[0], (T *)vals, idx, h);
static void topk_eval(Node *n, void *const *in, void *const *out) {
  TopKP *p = n->p;
  if (!p->k || !p->outer || !p->inner) return;
  int64_t cnt = p->outer * p->k * p->inner;
  int64_t *h = xalloc(sizeof(int64_t) * p->n);
  int64_t *idx = n->nout > 1 && out[1] ? (int64_t *)out[1] : xalloc(sizeof(int64_t) * cnt);
  void *vals = out[0] ? out[0] : xalloc(sizeof(int64_t) * cnt);
  TOPK_CALL(f32, float)
  TOPK_CALL(f64, double)
  TOPK_CALL(i8, int8_t)
  TOPK_CALL(u8, uint8_t)
  TOPK_CALL(i16, int16_t)
  TOPK_CALL(u16, uint16_t)
  TOPK_CALL(i32, int32_t)
  TOPK_CALL(u32, uint32_t)
  TOPK_CALL(i64, int64_t)
  TOPK_CALL(u64, uint64_t)
  free(h);
  if (!(n->nout > 1 && out[1])) free(idx);
  if (!out[0]) free(vals);
}

static void topk_emit(Node *n, Emitter *e) {
  TopKP *p = n->p;
  if (!p->k || !p->outer || !p->inner) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_topk");
  int has_idx = n->nout > 1 && n->out[1];
  int64_t off = n->scratch_off + p->n * 8, cnt = p->outer * p->k * p->inner;
  const char *h = fmt("((int64_t *)(A + %lld))", (long long)n->scratch_off);
  const char *vals = n->out[0] ? eref(e, n->out[0]) : fmt("((%s *)(A + %lld))", dtype_ctype(n->in[0]->dtype), (long long)off);
  if (!n->out[0]) off += cnt * 8;
  const char *idx = has_idx ? eref(e, n->out[1]) : fmt("((int64_t *)(A + %lld))", (long long)off);
  emit(e, "k_topk_%s(%d, %lld, %lld, %lld, %lld, %s, %s, %s, %s);", p->tag, p->largest, (long long)p->outer,
       (long long)p->n, (long long)p->inner, (long long)p->k, eref(e, n->in[0]), vals, idx, h);
}

const OpDef opdef_TopK = {"axis,k,largest,sorted", 1, 2, 1, 2, topk_infer, topk_eval, topk_emit, 0};
