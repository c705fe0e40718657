/*
 * op_pool.c: MaxPool (with optional Indices), AveragePool, LpPool, their
 * Global forms and MaxUnpool, lowered to runtime/k_pool.h.  Geometry
 * (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode) comes from
 * conv_geometry() and conv_pads() in op_conv.c, then is right-aligned into
 * the kernel's three spatial dims.  Global pooling flattens the spatial dims
 * into one and uses a kernel the size of the input.
 *
 * Opset differences honoured: MaxPool's Indices output exists from opset 8;
 * LpPool's p is a float attribute at opset 1 and an int later; the rest
 * (ceil_mode from 10, dilations from 10/19/18) only add attributes whose
 * defaults give the older behaviour.
 */
#include "mrtc.h"
#include "k_pool.h"

#include <stdlib.h>
#include <string.h>

enum { POOL_MAX, POOL_AVG, POOL_LP };

typedef struct PoolP {
  KPoolShape s;
  int kind;
  int include_pad; /* AveragePool count_include_pad */
  int colmajor;    /* MaxPool storage_order */
  int fast2d;      /* float/int8/uint8 MaxPool on k_maxpool2d_* (scratch: one input row) */
  int global;      /* float GlobalAveragePool on k_gavgpool_f32 */
  double p;        /* LpPool */
} PoolP;

static double lp_attr(Node *n) {
  Attr *a = attr_find(n, "p");
  double p = !a ? 2.0 : a->type == AT_INT ? (double)a->i : a->type == AT_FLOAT ? (double)a->f : -1.0;
  if (!(p > 0)) error_node(n, "p must be a positive number");
  return p;
}

static void pool_types(Node *n, int kind) {
  DType t = n->in[0]->dtype;
  if (t == DT_FLOAT || t == DT_DOUBLE) return;
  if (kind == POOL_MAX && (t == DT_UINT8 || t == DT_INT8)) return;
  error_node(n, "input type %s is not supported (float, double%s)", dtype_name(t), kind == POOL_MAX ? ", uint8, int8" : "");
}

/* shared infer: kind of pooling, global or windowed */
static PoolP *pool_setup(Node *n, int kind, int global) {
  Value *x = n->in[0];
  pool_types(n, kind);
  PoolP *p = xalloc(sizeof *p);
  KPoolShape *s = &p->s;
  p->kind = kind;
  if (x->rank < (global ? 2 : 3)) error_node(n, "input %s must be N x C x spatial dims", shape_str(x));
  int nsp = x->rank - 2;
  s->NC = x->dims[0] * x->dims[1];
  for (int d = 0; d < 3; d++) s->in[d] = s->out[d] = s->k[d] = s->st[d] = s->dil[d] = 1;
  int64_t od[MAX_RANK] = {x->dims[0], x->dims[1]};
  if (global) {
    s->in[2] = s->k[2] = shape_numel(nsp, x->dims + 2);
    if (s->in[2] == 0) error_node(n, "input %s has no spatial elements", shape_str(x));
    for (int d = 0; d < nsp; d++) od[2 + d] = 1;
  } else {
    if (nsp > 3) error_node(n, "only 1-D, 2-D and 3-D pooling is supported (input %s)", shape_str(x));
    int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK], pb[MAX_RANK], pe[MAX_RANK], out[MAX_RANK];
    conv_geometry(n, nsp, NULL, k, st, dil);
    int64_t ceil_mode = attr_int(n, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1) error_node(n, "ceil_mode must be 0 or 1");
    conv_pads(n, nsp, x->dims + 2, k, st, dil, (int)ceil_mode, pb, pe, out);
    for (int d = 0; d < nsp; d++) {
      int j = 3 - nsp + d;
      s->in[j] = x->dims[2 + d], s->out[j] = out[d], s->k[j] = k[d], s->st[j] = st[d], s->dil[j] = dil[d];
      s->pb[j] = pb[d], s->pe[j] = pe[d];
      od[2 + d] = out[d];
    }
  }
  value_set_shape(n->out[0], x->dtype, x->rank, od);
  n->macs = n->out[0]->numel * s->k[0] * s->k[1] * s->k[2];
  n->p = p;
  return p;
}

static void maxpool_infer(Node *n) {
  PoolP *p = pool_setup(n, POOL_MAX, 0);
  int64_t so = attr_int(n, "storage_order", 0);
  if (so != 0 && so != 1) error_node(n, "storage_order must be 0 or 1");
  p->colmajor = (int)so;
  if (n->nout > 1 && n->out[1]) {
    if (n->opset < 8) error_node(n, "MaxPool before opset 8 has one output");
    value_set_shape(n->out[1], DT_INT64, n->out[0]->rank, n->out[0]->dims);
  }
  const KPoolShape *s = &p->s;
  DType dt = n->in[0]->dtype;
  if ((dt == DT_FLOAT || dt == DT_INT8 || dt == DT_UINT8) && !(n->nout > 1 && n->out[1]) && s->in[0] == 1 &&
      s->dil[1] == 1 && s->dil[2] == 1) {
    p->fast2d = 1;
    n->scratch_bytes = (s->in[2] + 48) * dtype_size(dt); /* + the vector loads' overhang */
  }
}

/* for pass_pool.c: a float 2-D MaxPool on k_maxpool2d_f32 (no Indices, no
 * dilation, no depth): pooled OH, OW, kernel KH, KW, strides SH, SW, begin pads PT, PL */
int maxpool_geom2d(const Node *n, int64_t g[8]) {
  const PoolP *p = n->p;
  if (n->op != OP_MaxPool || !p || !p->fast2d || n->in[0]->dtype != DT_FLOAT || n->in[0]->rank != 4) return 0;
  const KPoolShape *s = &p->s;
  int64_t v[8] = {s->out[1], s->out[2], s->k[1], s->k[2], s->st[1], s->st[2], s->pb[1], s->pb[2]};
  memcpy(g, v, sizeof v);
  return 1;
}

static void avgpool_infer(Node *n) {
  PoolP *p = pool_setup(n, POOL_AVG, 0);
  int64_t c = attr_int(n, "count_include_pad", 0);
  if (c != 0 && c != 1) error_node(n, "count_include_pad must be 0 or 1");
  p->include_pad = (int)c;
}

static void lppool_infer(Node *n) { pool_setup(n, POOL_LP, 0)->p = lp_attr(n); }
static void gmaxpool_infer(Node *n) { pool_setup(n, POOL_MAX, 1); }
static void gavgpool_infer(Node *n) { pool_setup(n, POOL_AVG, 1)->global = n->in[0]->dtype == DT_FLOAT; }
static void glppool_infer(Node *n) { pool_setup(n, POOL_LP, 1)->p = lp_attr(n); }

static void pool_eval(Node *n, void *const *in, void *const *out) {
  PoolP *p = n->p;
  const KPoolShape *s = &p->s;
  DType t = n->in[0]->dtype;
  int64_t *ind = n->nout > 1 ? out[1] : NULL;
  switch (p->kind) {
  case POOL_MAX:
    if (p->fast2d) {
      void *tmp = xalloc((size_t)n->scratch_bytes);
      if (t == DT_FLOAT) k_maxpool2d_f32(s, in[0], out[0], tmp);
      else if (t == DT_INT8) k_maxpool2d_i8(s, in[0], out[0], tmp);
      else k_maxpool2d_u8(s, in[0], out[0], tmp);
      free(tmp);
    } else if (t == DT_FLOAT) k_maxpool_f32(s, in[0], out[0], ind, p->colmajor);
    else if (t == DT_DOUBLE) k_maxpool_f64(s, in[0], out[0], ind, p->colmajor);
    else if (t == DT_UINT8) k_maxpool_u8(s, in[0], out[0], ind, p->colmajor);
    else k_maxpool_i8(s, in[0], out[0], ind, p->colmajor);
    break;
  case POOL_AVG:
    if (p->global) k_gavgpool_f32(s->NC, s->in[2], in[0], out[0]);
    else if (t == DT_FLOAT) k_avgpool_f32(s, in[0], out[0], p->include_pad);
    else k_avgpool_f64(s, in[0], out[0], p->include_pad);
    break;
  default:
    if (t == DT_FLOAT) k_lppool_f32(s, in[0], out[0], p->p);
    else k_lppool_f64(s, in[0], out[0], p->p);
  }
}

static const char *dims3(const int64_t *v) { return fmt("{%lld,%lld,%lld}", (long long)v[0], (long long)v[1], (long long)v[2]); }

static void pool_emit(Node *n, Emitter *e) {
  PoolP *p = n->p;
  const KPoolShape *s = &p->s;
  const char *tag = dtype_tag(n->in[0]->dtype);
  emit_need(e, "k_pool");
  emit(e, "{ static const KPoolShape s = {%lld, %s, %s, %s, %s, %s, %s, %s};", (long long)s->NC, dims3(s->in),
       dims3(s->out), dims3(s->k), dims3(s->st), dims3(s->dil), dims3(s->pb), dims3(s->pe));
  const char *x = eref(e, n->in[0]), *y = eref(e, n->out[0]);
  if (p->kind == POOL_MAX) {
    Value *ind = n->nout > 1 ? n->out[1] : NULL;
    if (p->fast2d)
      emit(e, "  k_maxpool2d_%s(&s, %s, %s, (%s *)(A + %lld)); }", tag, x, y, dtype_ctype(n->in[0]->dtype), (long long)n->scratch_off);
    else emit(e, "  k_maxpool_%s(&s, %s, %s, %s, %d); }", tag, x, y, ind ? eref(e, ind) : "0", p->colmajor);
  } else if (p->global)
    emit(e, "  (void)s;\n  k_gavgpool_f32(%lld, %lld, %s, %s); }", (long long)s->NC, (long long)s->in[2], x, y);
  else if (p->kind == POOL_AVG)
    emit(e, "  k_avgpool_%s(&s, %s, %s, %d); }", tag, x, y, p->include_pad);
  else
    emit(e, "  k_lppool_%s(&s, %s, %s, %.17g); }", tag, x, y, p->p);
}

/* MaxUnpool: the indices address the shape inferred from the pooling
 * geometry, (in - 1) * stride + kernel - pads; the output has that shape or
 * output_shape (a constant input). */
typedef struct UnpoolP {
  int64_t idims[MAX_RANK];
} UnpoolP;

static void maxunpool_infer(Node *n) {
  Value *x = n->in[0], *ind = n->in[1];
  if (ind->dtype != DT_INT64) error_node(n, "indices must be int64, got %s", dtype_name(ind->dtype));
  if (ind->numel != x->numel) error_node(n, "indices %s and X %s differ in size", shape_str(ind), shape_str(x));
  if (!dtype_size(x->dtype)) error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  if (x->rank < 3) error_node(n, "input %s must be N x C x spatial dims", shape_str(x));
  int nsp = x->rank - 2;
  UnpoolP *p = xalloc(sizeof *p);
  int64_t *id = p->idims, od[MAX_RANK];
  int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK], pads[2 * MAX_RANK] = {0};
  conv_geometry(n, nsp, NULL, k, st, dil);
  int np = attr_ints(n, "pads", pads, 2 * MAX_RANK);
  if (np >= 0 && np != 2 * nsp) error_node(n, "pads has %d values, expected %d", np, 2 * nsp);
  id[0] = x->dims[0], id[1] = x->dims[1];
  for (int d = 0; d < nsp; d++) {
    id[2 + d] = (x->dims[2 + d] - 1) * st[d] + k[d] - pads[d] - pads[nsp + d];
    if (id[2 + d] <= 0) error_node(n, "output size %lld along spatial dim %d", (long long)id[2 + d], d);
  }
  memcpy(od, id, sizeof od);
  if (node_in(n, 2)) {
    int cnt;
    int64_t *s = const_ints(n, 2, &cnt);
    if (cnt != x->rank) error_node(n, "output_shape has %d values, expected %d", cnt, x->rank);
    for (int d = 0; d < cnt; d++) {
      if (s[d] < 0) error_node(n, "negative output_shape");
      od[d] = s[d];
    }
  }
  value_set_shape(n->out[0], x->dtype, x->rank, od);
  n->p = p;
}

static void maxunpool_eval(Node *n, void *const *in, void *const *out) {
  UnpoolP *p = n->p;
  k_maxunpool(n->in[0]->numel, dtype_size(n->in[0]->dtype), in[0], in[1], out[0], n->out[0]->rank, p->idims,
              n->out[0]->dims);
}

static void maxunpool_emit(Node *n, Emitter *e) {
  emit_need(e, "k_pool");
  UnpoolP *p = n->p;
  Value *y = n->out[0];
  emit(e, "k_maxunpool(%lld, %d, %s, %s, %s, %d, %s, %s);", (long long)n->in[0]->numel, dtype_size(n->in[0]->dtype),
       eref(e, n->in[0]), eref(e, n->in[1]), eref(e, y), y->rank, emit_i64s(e, p->idims, y->rank),
       emit_i64s(e, y->dims, y->rank));
}

#define POOL_ATTRS "auto_pad,ceil_mode,dilations,kernel_shape,pads,strides"
const OpDef opdef_MaxPool = {POOL_ATTRS ",storage_order", 1, 1, 1, 2, maxpool_infer, pool_eval, pool_emit, 0};
const OpDef opdef_AveragePool = {POOL_ATTRS ",count_include_pad", 1, 1, 1, 1, avgpool_infer, pool_eval, pool_emit, 0};
const OpDef opdef_LpPool = {POOL_ATTRS ",p", 1, 1, 1, 1, lppool_infer, pool_eval, pool_emit, 0};
const OpDef opdef_GlobalMaxPool = {"", 1, 1, 1, 1, gmaxpool_infer, pool_eval, pool_emit, 0};
const OpDef opdef_GlobalAveragePool = {"", 1, 1, 1, 1, gavgpool_infer, pool_eval, pool_emit, 0};
const OpDef opdef_MaxUnpool = {"kernel_shape,pads,strides", 2, 3, 1, 1, maxunpool_infer, maxunpool_eval, maxunpool_emit, 0};
const OpDef opdef_GlobalLpPool = {"p", 1, 1, 1, 1, glppool_infer, pool_eval, pool_emit, 0};
