/*
 * op_concat.c: Concat and Split.  Both are rows of bytes moved between
 * tensors: with OUTER = product of the dims before the axis, each input
 * (Concat) or output (Split) is OUTER rows of its own width, interleaved in
 * the wider tensor.  Kernel: k_copy_rows (runtime/k_copy.h), any dtype.
 */
#include "mrtc.h"
#include "k_copy.h"

#include <string.h>

typedef struct CatP {
  int64_t outer, row;      /* rows, bytes per row of the wide tensor */
  int64_t bytes[64], off[64]; /* per part: bytes per row, byte offset in the row */
  int nparts;
} CatP;

static void concat_infer(Node *n) {
  Value *x = NULL;
  for (int k = 0; k < n->nin; k++)
    if (n->in[k]) { x = n->in[k]; break; }
  if (!x) error_node(n, "no inputs");
  if (n->nin > 64) error_node(n, "more than 64 inputs");
  int64_t axis = n->opset < 4 ? attr_int(n, "axis", 1) : attr_int(n, "axis", INT64_MIN);
  if (axis == INT64_MIN) error_node(n, "attribute 'axis' is required");
  if (x->rank == 0) error_node(n, "inputs must have rank >= 1");
  int a = norm_axis(n, axis, x->rank), esz = dtype_size(x->dtype);
  if (!esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  CatP *p = xalloc(sizeof *p);
  int64_t dims[MAX_RANK], total = 0;
  memcpy(dims, x->dims, sizeof dims);
  p->outer = shape_numel(a, x->dims);
  for (int k = 0; k < n->nin; k++) {
    Value *v = n->in[k];
    if (!v) error_node(n, "input %d is missing", k);
    if (v->dtype != x->dtype) error_node(n, "inputs have different types (%s and %s)", dtype_name(x->dtype), dtype_name(v->dtype));
    if (v->rank != x->rank) error_node(n, "inputs have different ranks (%s and %s)", shape_str(x), shape_str(v));
    for (int d = 0; d < x->rank; d++)
      if (d != a && v->dims[d] != x->dims[d]) error_node(n, "input shapes %s and %s differ outside axis %d", shape_str(x), shape_str(v), a);
    p->bytes[k] = shape_numel(x->rank - a, v->dims + a) * esz;
    p->off[k] = p->row;
    p->row += p->bytes[k];
    total += v->dims[a];
  }
  p->nparts = n->nin;
  dims[a] = total;
  value_set_shape(n->out[0], x->dtype, x->rank, dims);
  n->p = p;
}

static void concat_eval(Node *n, void *const *in, void *const *out) {
  CatP *p = n->p;
  for (int k = 0; k < p->nparts; k++)
    k_copy_rows(p->outer, p->bytes[k], (unsigned char *)out[0] + p->off[k], p->row, in[k], p->bytes[k]);
}

/* For the memory planner: with nothing but ones before the axis each part
 * is one contiguous run of the output, so its producer can write it there
 * and the copy disappears.  Returns 1 and the parts' byte offsets then. */
int concat_part_offsets(const Node *n, int64_t *off) {
  const CatP *p = n->p;
  if (!p || p->outer != 1) return 0;
  for (int k = 0; k < p->nparts; k++) off[k] = p->off[k];
  return 1;
}

static void concat_emit(Node *n, Emitter *e) {
  CatP *p = n->p;
  const char *y = eref(e, n->out[0]);
  int done = 0;
  for (int k = 0; k < p->nparts; k++) {
    if (n->in[k]->alias == n->out[0]) { /* the planner placed this part in the output: its producer wrote it there */
      done++;
      continue;
    }
    if (!p->bytes[k] || !p->outer) continue;
    if (p->outer == 1) {
      emit(e, "memcpy((unsigned char *)%s + %lld, %s, %lld);", y, (long long)p->off[k], eref(e, n->in[k]), (long long)p->bytes[k]);
      continue;
    }
    emit_need(e, "k_copy");
    emit(e, "k_copy_rows(%lld, %lld, (unsigned char *)%s + %lld, %lld, %s, %lld);", (long long)p->outer, (long long)p->bytes[k],
         y, (long long)p->off[k], (long long)p->row, eref(e, n->in[k]), (long long)p->bytes[k]);
  }
  if (done) emit(e, "/* %d of %d parts written in place by their producers */", done, p->nparts);
}

static void split_infer(Node *n) {
  Value *x = n->in[0];
  if (n->nout > 64) error_node(n, "more than 64 outputs");
  if (x->rank == 0) error_node(n, "input must have rank >= 1");
  int a = norm_axis(n, attr_int(n, "axis", 0), x->rank), esz = dtype_size(x->dtype);
  if (!esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  int64_t dim = x->dims[a], split[64];
  int cnt = -1;
  if (n->opset >= 13 || (n->opset < 2 && node_in(n, 1))) {
    if (node_in(n, 1)) {
      int64_t *s = const_ints(n, 1, &cnt);
      if (cnt > 64) error_node(n, "more than 64 parts");
      memcpy(split, s, sizeof(int64_t) * cnt);
    }
  } else
    cnt = attr_ints(n, "split", split, 64);
  if (n->opset >= 18) {
    Attr *no = attr_find(n, "num_outputs");
    if (no && cnt >= 0) error_node(n, "both 'split' and 'num_outputs' are given");
    if (!no && cnt < 0) error_node(n, "either the 'split' input or the 'num_outputs' attribute is required");
    if (no) {
      if (no->type != AT_INT || no->i < 1) error_node(n, "num_outputs must be a positive integer");
      if (no->i != n->nout) error_node(n, "num_outputs is %lld but the node has %d outputs", (long long)no->i, n->nout);
      int64_t chunk = (dim + no->i - 1) / no->i;
      cnt = (int)no->i;
      for (int k = 0; k < cnt; k++) {
        int64_t rest = dim - chunk * k;
        split[k] = rest < 0 ? 0 : rest < chunk ? rest : chunk;
      }
    }
  } else if (cnt < 0) {
    if (dim % n->nout) error_node(n, "axis %d of %s does not split evenly into %d outputs", a, shape_str(x), n->nout);
    cnt = n->nout;
    for (int k = 0; k < cnt; k++) split[k] = dim / n->nout;
  }
  if (cnt != n->nout) error_node(n, "split has %d entries but the node has %d outputs", cnt, n->nout);
  int64_t sum = 0;
  for (int k = 0; k < cnt; k++) {
    if (split[k] < 0) error_node(n, "negative split size %lld", (long long)split[k]);
    sum += split[k];
  }
  if (sum != dim) error_node(n, "split sizes sum to %lld, axis %d of %s has %lld", (long long)sum, a, shape_str(x), (long long)dim);
  CatP *p = xalloc(sizeof *p);
  int64_t inner = shape_numel(x->rank - a - 1, x->dims + a + 1) * esz, dims[MAX_RANK];
  p->outer = shape_numel(a, x->dims);
  p->row = dim * inner;
  memcpy(dims, x->dims, sizeof dims);
  int64_t off = 0;
  for (int k = 0; k < cnt; k++) {
    p->bytes[k] = split[k] * inner;
    p->off[k] = off;
    off += p->bytes[k];
    dims[a] = split[k];
    if (n->out[k]) value_set_shape(n->out[k], x->dtype, x->rank, dims);
  }
  p->nparts = cnt;
  n->p = p;
}

static void split_eval(Node *n, void *const *in, void *const *out) {
  CatP *p = n->p;
  for (int k = 0; k < p->nparts; k++)
    if (out[k]) k_copy_rows(p->outer, p->bytes[k], out[k], p->bytes[k], (const unsigned char *)in[0] + p->off[k], p->row);
}

static void split_emit(Node *n, Emitter *e) {
  CatP *p = n->p;
  const char *x = eref(e, n->in[0]);
  for (int k = 0; k < p->nparts; k++) {
    Value *o = n->out[k];
    if (!o || !o->nuse || !p->bytes[k] || !p->outer) continue;
    if (p->outer == 1) {
      emit(e, "memcpy(%s, (const unsigned char *)%s + %lld, %lld);", eref(e, o), x, (long long)p->off[k], (long long)p->bytes[k]);
      continue;
    }
    emit_need(e, "k_copy");
    emit(e, "k_copy_rows(%lld, %lld, %s, %lld, (const unsigned char *)%s + %lld, %lld);", (long long)p->outer,
         (long long)p->bytes[k], eref(e, o), (long long)p->bytes[k], x, (long long)p->off[k], (long long)p->row);
  }
}

const OpDef opdef_Concat = {"axis", 1, -1, 1, 1, concat_infer, concat_eval, concat_emit, 0};
const OpDef opdef_Split = {"axis,split,num_outputs", 1, 2, 1, -1, split_infer, split_eval, split_emit, 0};
