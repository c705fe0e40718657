/*
 * op_gather.c: indexed data movement: Gather, GatherElements, GatherND,
 * ScatterElements (and the deprecated Scatter), ScatterND, OneHot.
 *
 * Values move as ESZ-byte elements (any dtype); indices are int32 or int64
 * (GatherND/ScatterND: int64; OneHot: any numeric type) and are read at run
 * time, negatives counting from the end.  Scatter reductions (add, mul,
 * max, min) need arithmetic and support float, double, int32, int64, uint8
 * and int8.  Kernels: runtime/k_gather.h.
 */
#include "mrtc.h"
#include "k_gather.h"

#include <string.h>

typedef struct GP {
  int kind;
  int esz, rank, axis, k, red, vt;
  const char *itag;
  int64_t outer, n, inner, nidx, nbatch, ntup, slice, batch_bytes;
  int64_t dims[MAX_RANK], dstr[MAX_RANK], kdims[MAX_RANK], kstr[MAX_RANK];
} GP;

static void strides_of(const Value *x, int64_t *s) {
  int64_t st = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    s[d] = st;
    st *= x->dims[d];
  }
}

static GP *gp_new(Node *n) {
  GP *p = xalloc(sizeof *p);
  Value *x = n->in[0];
  p->esz = dtype_size(x->dtype);
  if (!p->esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  n->p = p;
  return p;
}

static const char *index_tag(Node *n, int i, int only64) {
  Value *v = n->in[i];
  if (v->dtype == DT_INT64) return "i64";
  if (v->dtype == DT_INT32 && !only64) return "i32";
  error_node(n, "indices '%s' have type %s; %s", v->name, dtype_name(v->dtype), only64 ? "int64 is required" : "int32 or int64 is required");
}

/* ------------------------------------------------------------- Gather */

static void gather_infer(Node *n) {
  Value *x = n->in[0], *ix = n->in[1];
  GP *p = gp_new(n);
  p->itag = index_tag(n, 1, 0);
  if (x->rank == 0) error_node(n, "data must have rank >= 1");
  int a = norm_axis(n, attr_int(n, "axis", 0), x->rank);
  int r = x->rank - 1 + ix->rank;
  if (r > MAX_RANK) error_node(n, "result rank %d too large", r);
  int64_t dims[MAX_RANK];
  int k = 0;
  for (int d = 0; d < a; d++) dims[k++] = x->dims[d];
  for (int d = 0; d < ix->rank; d++) dims[k++] = ix->dims[d];
  for (int d = a + 1; d < x->rank; d++) dims[k++] = x->dims[d];
  value_set_shape(n->out[0], x->dtype, r, dims);
  p->outer = shape_numel(a, x->dims);
  p->n = x->dims[a];
  p->inner = shape_numel(x->rank - a - 1, x->dims + a + 1) * p->esz;
  p->nidx = ix->numel;
}

static void gather_eval(Node *n, void *const *in, void *const *out) {
  GP *p = n->p;
  if (!strcmp(p->itag, "i64")) k_gather_i64(p->outer, p->n, p->inner, p->nidx, in[1], out[0], in[0]);
  else k_gather_i32(p->outer, p->n, p->inner, p->nidx, in[1], out[0], in[0]);
}

static void gather_emit(Node *n, Emitter *e) {
  GP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_gather");
  emit(e, "k_gather_%s(%lld, %lld, %lld, %lld, %s, %s, %s);", p->itag, (long long)p->outer, (long long)p->n,
       (long long)p->inner, (long long)p->nidx, eref(e, n->in[1]), eref(e, n->out[0]), eref(e, n->in[0]));
}

/* ----------------------------------------------------- GatherElements */

static void elements_common(Node *n, GP *p, Value *ix) {
  Value *x = n->in[0];
  p->itag = index_tag(n, 1, 0);
  if (ix->rank != x->rank) error_node(n, "indices %s and data %s differ in rank", shape_str(ix), shape_str(x));
  if (x->rank == 0) error_node(n, "data must have rank >= 1");
  p->axis = norm_axis(n, attr_int(n, "axis", 0), x->rank);
  p->rank = x->rank;
  p->n = x->dims[p->axis];
  memcpy(p->dims, ix->dims, sizeof p->dims);
  strides_of(x, p->dstr);
}

static void gather_elements_infer(Node *n) {
  Value *x = n->in[0], *ix = n->in[1];
  GP *p = gp_new(n);
  elements_common(n, p, ix);
  for (int d = 0; d < x->rank; d++)
    if (d != p->axis && ix->dims[d] > x->dims[d]) error_node(n, "indices %s exceed data %s at dim %d", shape_str(ix), shape_str(x), d);
  value_set_shape(n->out[0], x->dtype, ix->rank, ix->dims);
}

static void gather_elements_eval(Node *n, void *const *in, void *const *out) {
  GP *p = n->p;
  if (!n->out[0]->numel) return;
  if (!strcmp(p->itag, "i64")) k_gather_elements_i64(p->rank, p->dims, p->dstr, p->axis, p->n, in[1], out[0], in[0], p->esz);
  else k_gather_elements_i32(p->rank, p->dims, p->dstr, p->axis, p->n, in[1], out[0], in[0], p->esz);
}

static void gather_elements_emit(Node *n, Emitter *e) {
  GP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_gather");
  emit(e, "k_gather_elements_%s(%d, %s, %s, %d, %lld, %s, %s, %s, %d);", p->itag, p->rank, emit_i64s(e, p->dims, p->rank),
       emit_i64s(e, p->dstr, p->rank), p->axis, (long long)p->n, eref(e, n->in[1]), eref(e, n->out[0]), eref(e, n->in[0]), p->esz);
}

/* ----------------------------------------------------------- GatherND */

/* shared by GatherND and ScatterND: tuples of length k index data dims b..b+k-1 */
static void nd_common(Node *n, GP *p, int b) {
  Value *x = n->in[0], *ix = n->in[1];
  index_tag(n, 1, 1);
  if (ix->rank < 1) error_node(n, "indices must have rank >= 1");
  int q = ix->rank, k = (int)ix->dims[q - 1];
  if (b < 0 || b >= q || b > x->rank) error_node(n, "batch_dims %d out of range", b);
  if (k < 1 || k > x->rank - b) error_node(n, "index tuples of length %d do not fit data %s (batch_dims %d)", k, shape_str(x), b);
  for (int d = 0; d < b; d++)
    if (ix->dims[d] != x->dims[d]) error_node(n, "batch dims of indices %s and data %s differ", shape_str(ix), shape_str(x));
  p->k = k;
  p->nbatch = shape_numel(b, x->dims);
  p->ntup = shape_numel(q - 1 - b, ix->dims + b);
  p->slice = shape_numel(x->rank - b - k, x->dims + b + k);
  p->batch_bytes = shape_numel(x->rank - b, x->dims + b) * p->esz;
  int64_t s = 1;
  for (int j = k - 1; j >= 0; j--) {
    p->kdims[j] = x->dims[b + j];
    p->kstr[j] = s;
    s *= x->dims[b + j];
  }
}

static void gathernd_infer(Node *n) {
  Value *x = n->in[0], *ix = n->in[1];
  GP *p = gp_new(n);
  int b = (int)attr_int(n, "batch_dims", 0);
  nd_common(n, p, b);
  int64_t dims[MAX_RANK];
  int r = 0;
  if (ix->rank - 1 + x->rank - b - p->k > MAX_RANK) error_node(n, "result rank too large");
  for (int d = 0; d < ix->rank - 1; d++) dims[r++] = ix->dims[d];
  for (int d = b + p->k; d < x->rank; d++) dims[r++] = x->dims[d];
  value_set_shape(n->out[0], x->dtype, r, dims);
}

static void gathernd_eval(Node *n, void *const *in, void *const *out) {
  GP *p = n->p;
  k_gathernd(p->nbatch, p->ntup, p->k, p->kdims, p->kstr, p->slice * p->esz, p->batch_bytes, in[1], out[0], in[0]);
}

static void gathernd_emit(Node *n, Emitter *e) {
  GP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_gather");
  emit(e, "k_gathernd(%lld, %lld, %d, %s, %s, %lld, %lld, %s, %s, %s);", (long long)p->nbatch, (long long)p->ntup, p->k,
       emit_i64s(e, p->kdims, p->k), emit_i64s(e, p->kstr, p->k), (long long)(p->slice * p->esz), (long long)p->batch_bytes,
       eref(e, n->in[1]), eref(e, n->out[0]), eref(e, n->in[0]));
}

/* ------------------------------------------------------------ Scatter */

static void reduction(Node *n, GP *p) {
  const char *r = attr_str(n, "reduction", "none");
  Value *x = n->in[0];
  if (!strcmp(r, "none")) p->red = 0;
  else if (n->opset < 16) error_node(n, "attribute 'reduction' is not defined at opset %d", n->opset);
  else if (!strcmp(r, "add")) p->red = 1;
  else if (!strcmp(r, "mul")) p->red = 2;
  else if (!strcmp(r, "max") && n->opset >= 18) p->red = 3;
  else if (!strcmp(r, "min") && n->opset >= 18) p->red = 4;
  else error_node(n, "reduction '%s' is not supported at opset %d", r, n->opset);
  switch (x->dtype) {
  case DT_FLOAT: p->vt = 1; break;
  case DT_DOUBLE: p->vt = 2; break;
  case DT_INT32: p->vt = 3; break;
  case DT_INT64: p->vt = 4; break;
  case DT_UINT8: p->vt = 5; break;
  case DT_INT8: p->vt = 6; break;
  default:
    if (p->red) error_node(n, "reduction '%s' on type %s is not supported", r, dtype_name(x->dtype));
  }
  if (n->in[2]->dtype != x->dtype) error_node(n, "updates have type %s, data %s", dtype_name(n->in[2]->dtype), dtype_name(x->dtype));
}

static void scatter_elements_infer(Node *n) {
  Value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
  GP *p = gp_new(n);
  elements_common(n, p, ix);
  reduction(n, p);
  if (u->rank != ix->rank) error_node(n, "updates %s and indices %s differ in shape", shape_str(u), shape_str(ix));
  for (int d = 0; d < ix->rank; d++)
    if (u->dims[d] != ix->dims[d]) error_node(n, "updates %s and indices %s differ in shape", shape_str(u), shape_str(ix));
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void scatter_elements_eval(Node *n, void *const *in, void *const *out) {
  GP *p = n->p;
  memcpy(out[0], in[0], (size_t)value_bytes(n->out[0]));
  if (!n->in[1]->numel) return;
  if (!strcmp(p->itag, "i64"))
    k_scatter_elements_i64(p->rank, p->dims, p->dstr, p->axis, p->n, in[1], in[2], out[0], p->esz, p->red, p->vt);
  else k_scatter_elements_i32(p->rank, p->dims, p->dstr, p->axis, p->n, in[1], in[2], out[0], p->esz, p->red, p->vt);
}

static void scatter_elements_emit(Node *n, Emitter *e) {
  GP *p = n->p;
  const char *y = eref(e, n->out[0]);
  if (!n->out[0]->numel) return;
  emit(e, "memcpy(%s, %s, %lld);", y, eref(e, n->in[0]), (long long)value_bytes(n->out[0]));
  if (!n->in[1]->numel) return;
  emit_need(e, "k_gather");
  emit(e, "k_scatter_elements_%s(%d, %s, %s, %d, %lld, %s, %s, %s, %d, %d, %d);", p->itag, p->rank,
       emit_i64s(e, p->dims, p->rank), emit_i64s(e, p->dstr, p->rank), p->axis, (long long)p->n, eref(e, n->in[1]),
       eref(e, n->in[2]), y, p->esz, p->red, p->vt);
}

static void scatternd_infer(Node *n) {
  Value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
  GP *p = gp_new(n);
  nd_common(n, p, 0);
  reduction(n, p);
  int r = ix->rank - 1 + x->rank - p->k, ok = u->rank == r;
  for (int d = 0; ok && d < ix->rank - 1; d++) ok = u->dims[d] == ix->dims[d];
  for (int d = p->k; ok && d < x->rank; d++) ok = u->dims[ix->rank - 1 + d - p->k] == x->dims[d];
  if (!ok) error_node(n, "updates %s do not match indices %s and data %s", shape_str(u), shape_str(ix), shape_str(x));
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void scatternd_eval(Node *n, void *const *in, void *const *out) {
  GP *p = n->p;
  memcpy(out[0], in[0], (size_t)value_bytes(n->out[0]));
  k_scatternd(p->ntup, p->k, p->kdims, p->kstr, p->slice, in[1], in[2], out[0], p->esz, p->red, p->vt);
}

static void scatternd_emit(Node *n, Emitter *e) {
  GP *p = n->p;
  const char *y = eref(e, n->out[0]);
  if (!n->out[0]->numel) return;
  emit(e, "memcpy(%s, %s, %lld);", y, eref(e, n->in[0]), (long long)value_bytes(n->out[0]));
  if (!p->ntup || !p->slice) return;
  emit_need(e, "k_gather");
  emit(e, "k_scatternd(%lld, %d, %s, %s, %lld, %s, %s, %s, %d, %d, %d);", (long long)p->ntup, p->k, emit_i64s(e, p->kdims, p->k),
       emit_i64s(e, p->kstr, p->k), (long long)p->slice, eref(e, n->in[1]), eref(e, n->in[2]), y, p->esz, p->red, p->vt);
}

/* ------------------------------------------------------------- OneHot */

static void onehot_infer(Node *n) {
  Value *ix = n->in[0], *dv = need_const(n, 1), *vals = n->in[2];
  GP *p = xalloc(sizeof *p);
  n->p = p;
  p->esz = dtype_size(vals->dtype);
  if (!p->esz) error_node(n, "values type %s is not supported", dtype_name(vals->dtype));
  if (vals->numel != 2) error_node(n, "values must hold 2 elements [off, on], got %s", shape_str(vals));
  if (dv->numel != 1) error_node(n, "depth must be a scalar, got %s", shape_str(dv));
  double depth = elem_get_f64(dv->data, dv->dtype, 0);
  if (!(depth >= 1 && depth < 1e12)) error_node(n, "depth %g is not a positive size", depth);
  switch (ix->dtype) {
  case DT_INT8: case DT_UINT8: case DT_INT16: case DT_UINT16: case DT_INT32: case DT_UINT32: case DT_INT64:
  case DT_UINT64: case DT_FLOAT: case DT_DOUBLE: p->itag = dtype_tag(ix->dtype); break;
  default: error_node(n, "indices of type %s are not supported", dtype_name(ix->dtype));
  }
  int r = ix->rank + 1;
  if (r > MAX_RANK) error_node(n, "result rank %d too large", r);
  int a = norm_axis(n, attr_int(n, "axis", -1), r);
  int64_t dims[MAX_RANK];
  for (int d = 0, k = 0; d < r; d++) dims[d] = d == a ? (int64_t)depth : ix->dims[k++];
  p->n = (int64_t)depth;
  p->outer = shape_numel(a, ix->dims);
  p->inner = shape_numel(ix->rank - a, ix->dims + a);
  value_set_shape(n->out[0], vals->dtype, r, dims);
}

static void onehot_eval(Node *n, void *const *in, void *const *out) {
  GP *p = n->p;
  switch (n->in[0]->dtype) {
#define OH(DT, T, tag) case DT: k_onehot_##tag(p->outer, p->n, p->inner, (const T *)in[0], in[2], out[0], p->esz); break;
  OH(DT_INT8, int8_t, i8) OH(DT_UINT8, uint8_t, u8) OH(DT_INT16, int16_t, i16) OH(DT_UINT16, uint16_t, u16)
  OH(DT_INT32, int32_t, i32) OH(DT_UINT32, uint32_t, u32) OH(DT_INT64, int64_t, i64) OH(DT_UINT64, uint64_t, u64)
  OH(DT_FLOAT, float, f32) OH(DT_DOUBLE, double, f64)
#undef OH
  default: break;
  }
}

static void onehot_emit(Node *n, Emitter *e) {
  GP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_gather");
  emit(e, "k_onehot_%s(%lld, %lld, %lld, %s, %s, %s, %d);", p->itag, (long long)p->outer, (long long)p->n, (long long)p->inner,
       eref(e, n->in[0]), eref(e, n->in[2]), eref(e, n->out[0]), p->esz);
}

const OpDef opdef_Gather = {"axis", 2, 2, 1, 1, gather_infer, gather_eval, gather_emit, 0};
const OpDef opdef_GatherElements = {"axis", 2, 2, 1, 1, gather_elements_infer, gather_elements_eval, gather_elements_emit, 0};
const OpDef opdef_GatherND = {"batch_dims", 2, 2, 1, 1, gathernd_infer, gathernd_eval, gathernd_emit, 0};
const OpDef opdef_ScatterElements = {"axis,reduction", 3, 3, 1, 1, scatter_elements_infer, scatter_elements_eval, scatter_elements_emit, 0};
const OpDef opdef_Scatter = {"axis", 3, 3, 1, 1, scatter_elements_infer, scatter_elements_eval, scatter_elements_emit, 0};
const OpDef opdef_ScatterND = {"reduction", 3, 3, 1, 1, scatternd_infer, scatternd_eval, scatternd_emit, 0};
const OpDef opdef_OneHot = {"axis", 3, 3, 1, 1, onehot_infer, onehot_eval, onehot_emit, 0};
