/*
 * op_misc.c: smaller ops with their own kernels (runtime/k_misc.h).
 *
 *   Swish (24), SwiGLU (28)      float, double, float16
 *   ReverseSequence (10)         any dtype; sequence_lens read at run time
 *   BitCast (26)                 a view under another dtype of equal width
 *   CenterCropPad (18)           shape must be constant; any dtype
 *   Compress (9, 11)             condition must be constant; any dtype
 *   NonZero (9, 13), Unique (11) data-dependent shapes: the input must be
 *                                constant, the result is computed at
 *                                compile time (and folds)
 *   Det (11, 22)                 float, double; LU with partial pivoting
 */
#include "mrtc.h"
#include "k_misc.h"

#include <stdlib.h>
#include <string.h>

static int64_t prod(const int64_t *d, int a, int b) {
  int64_t p = 1;
  for (int i = a; i < b; i++) p *= d[i];
  return p;
}

/* ---------------------------------------------------------- Swish, SwiGLU */

static void need_fdt(Node *n, Value *v) {
  if (v->dtype != DT_FLOAT && v->dtype != DT_DOUBLE && v->dtype != DT_FLOAT16)
    error_node(n, "input '%s' has type %s; float, double and float16 are supported", v->name, dtype_name(v->dtype));
}

static void swish_infer(Node *n) {
  Value *x = n->in[0];
  need_fdt(n, x);
  float *alpha = xalloc(sizeof(float));
  *alpha = attr_float(n, "alpha", 1.0f);
  if (n->op == OP_SwiGLU) {
    Value *b = n->in[1];
    if (b->dtype != x->dtype) error_node(n, "inputs have different types");
    if (b->rank != x->rank || memcmp(b->dims, x->dims, sizeof(int64_t) * x->rank))
      error_node(n, "inputs %s and %s differ in shape (SwiGLU does not broadcast)", shape_str(x), shape_str(b));
  }
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
  n->p = alpha;
}

static void swish_eval(Node *n, void *const *in, void *const *out) {
  float a = *(float *)n->p;
  int64_t c = n->in[0]->numel;
  int glu = n->op == OP_SwiGLU;
  switch (n->in[0]->dtype) {
  case DT_FLOAT: glu ? k_swiglu_f32(c, in[0], in[1], a, out[0]) : k_swish_f32(c, in[0], a, out[0]); break;
  case DT_DOUBLE: glu ? k_swiglu_f64(c, in[0], in[1], a, out[0]) : k_swish_f64(c, in[0], a, out[0]); break;
  default: glu ? k_swiglu_f16(c, in[0], in[1], a, out[0]) : k_swish_f16(c, in[0], a, out[0]); break;
  }
}

static void swish_emit(Node *n, Emitter *e) {
  float a = *(float *)n->p;
  emit_need(e, "k_misc");
  const char *tag = dtype_tag(n->in[0]->dtype);
  if (n->op == OP_SwiGLU)
    emit(e, "k_swiglu_%s(%lld, %s, %s, %s, %s);", tag, (long long)n->in[0]->numel, eref(e, n->in[0]), eref(e, n->in[1]),
         fmt_float(a), eref(e, n->out[0]));
  else
    emit(e, "k_swish_%s(%lld, %s, %s, %s);", tag, (long long)n->in[0]->numel, eref(e, n->in[0]), fmt_float(a),
         eref(e, n->out[0]));
}

/* --------------------------------------------------------- ReverseSequence */

typedef struct RevP {
  int64_t T, B, inner;
  int time_axis, esz;
} RevP;

static void revseq_infer(Node *n) {
  Value *x = n->in[0], *l = n->in[1];
  int ta = (int)attr_int(n, "time_axis", 0), ba = (int)attr_int(n, "batch_axis", 1);
  if (x->rank < 2) error_node(n, "input must have rank >= 2");
  if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0))) error_node(n, "time_axis and batch_axis must be 0 and 1 in some order");
  if (l->dtype != DT_INT64) error_node(n, "sequence_lens must be int64, got %s", dtype_name(l->dtype));
  RevP *p = xalloc(sizeof *p);
  p->T = x->dims[ta];
  p->B = x->dims[ba];
  if (l->rank != 1 || l->dims[0] != p->B) error_node(n, "sequence_lens %s does not match batch %lld", shape_str(l), (long long)p->B);
  p->inner = prod(x->dims, 2, x->rank);
  p->time_axis = ta;
  p->esz = dtype_size(x->dtype);
  if (!p->esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
  n->p = p;
}

static void revseq_eval(Node *n, void *const *in, void *const *out) {
  RevP *p = n->p;
  k_revseq(p->T, p->B, p->inner, p->time_axis, in[1], in[0], out[0], p->esz);
}

static void revseq_emit(Node *n, Emitter *e) {
  RevP *p = n->p;
  emit_need(e, "k_misc");
  emit(e, "k_revseq(%lld, %lld, %lld, %d, %s, %s, %s, %d);", (long long)p->T, (long long)p->B, (long long)p->inner,
       p->time_axis, eref(e, n->in[1]), eref(e, n->in[0]), eref(e, n->out[0]), p->esz);
}

/* ----------------------------------------------------------------- BitCast */

static void bitcast_infer(Node *n) {
  Value *x = n->in[0];
  Attr *a = attr_find(n, "to");
  if (!a) error_node(n, "attribute 'to' is required");
  DType to = (DType)attr_int(n, "to", 0);
  if (!dtype_supported(to) || !dtype_size(to)) error_node(n, "target type %d is not supported", (int)to);
  if (!dtype_size(x->dtype)) error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  if (dtype_size(to) != dtype_size(x->dtype))
    error_node(n, "%s and %s differ in width; BitCast needs equal widths", dtype_name(x->dtype), dtype_name(to));
  /* the 4- and 2-bit types are stored one element per byte (int4 / int2
   * sign-extended), so their bytes are not their bits: refused */
  if (x->dtype != to && ((x->dtype >= 21 && x->dtype <= 23) || x->dtype >= 25 || (to >= 21 && to <= 23) || to >= 25))
    error_node(n, "BitCast between %s and %s is not supported (4- and 2-bit types)", dtype_name(x->dtype), dtype_name(to));
  value_set_shape(n->out[0], to, x->rank, x->dims);
}

static void bitcast_eval(Node *n, void *const *in, void *const *out) {
  memcpy(out[0], in[0], (size_t)value_bytes(n->out[0]));
}

/* ----------------------------------------------------------- CenterCropPad */

typedef struct CropP {
  int rank, esz;
  int64_t dims[MAX_RANK], sst[MAX_RANK], dst[MAX_RANK];
  int64_t soff, doff, obytes;
} CropP;

static void crop_infer(Node *n) {
  Value *x = n->in[0];
  int r = x->rank, cnt;
  int64_t *shape = const_ints(n, 1, &cnt), axes[MAX_RANK];
  int na = attr_ints(n, "axes", axes, MAX_RANK);
  if (na < 0) {
    na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
  }
  if (cnt != na) error_node(n, "shape has %d values for %d axes", cnt, na);
  int64_t out[MAX_RANK], sb[MAX_RANK] = {0}, db[MAX_RANK] = {0}, len[MAX_RANK];
  memcpy(out, x->dims, sizeof(int64_t) * r);
  memcpy(len, x->dims, sizeof(int64_t) * r);
  for (int i = 0; i < na; i++) {
    int d = norm_axis(n, axes[i], r);
    int64_t s = shape[i], in = x->dims[d];
    if (s < 0) error_node(n, "shape[%d] = %lld is negative", i, (long long)s);
    out[d] = s;
    if (in >= s) {
      sb[d] = (in - s) / 2;
      len[d] = s;
    } else {
      db[d] = (s - in) / 2;
      len[d] = in;
    }
  }
  CropP *p = xalloc(sizeof *p);
  p->rank = r;
  p->esz = dtype_size(x->dtype);
  if (!p->esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  int64_t ss = 1, ds = 1;
  for (int d = r - 1; d >= 0; d--) {
    p->dims[d] = len[d];
    p->sst[d] = ss;
    p->dst[d] = ds;
    p->soff += sb[d] * ss;
    p->doff += db[d] * ds;
    ss *= x->dims[d];
    ds *= out[d];
  }
  value_set_shape(n->out[0], x->dtype, r, out);
  p->obytes = value_bytes(n->out[0]);
  if (r == 0) p->rank = 1, p->dims[0] = p->sst[0] = p->dst[0] = 1;
  n->p = p;
}

static void crop_eval(Node *n, void *const *in, void *const *out) {
  CropP *p = n->p;
  memset(out[0], 0, (size_t)p->obytes);
  k_copy_region(p->rank, p->dims, p->sst, p->dst, (char *)out[0] + p->doff * p->esz, (const char *)in[0] + p->soff * p->esz, p->esz);
}

static void crop_emit(Node *n, Emitter *e) {
  CropP *p = n->p;
  emit_need(e, "k_misc");
  const char *y = eref(e, n->out[0]);
  emit(e, "memset(%s, 0, %lld);", y, (long long)p->obytes);
  emit(e, "k_copy_region(%d, %s, %s, %s, %s + %lld, %s + %lld, %d);", p->rank, emit_i64s(e, p->dims, p->rank),
       emit_i64s(e, p->sst, p->rank), emit_i64s(e, p->dst, p->rank), y, (long long)p->doff, eref(e, n->in[0]),
       (long long)p->soff, p->esz);
}

/* ---------------------------------------------------------------- Compress */

typedef struct TakeP {
  int64_t outer, len, nsel, inner;
  int64_t *sel;
} TakeP;

static void compress_infer(Node *n) {
  Value *x = n->in[0], *c = need_const(n, 1);
  if (c->rank != 1) error_node(n, "condition must be 1-D");
  if (x->rank < 1) error_node(n, "input must have rank >= 1");
  int esz = dtype_size(x->dtype);
  if (!esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  TakeP *p = xalloc(sizeof *p);
  Attr *a = attr_find(n, "axis");
  int64_t od[MAX_RANK];
  int orank;
  if (a) {
    int ax = norm_axis(n, attr_int(n, "axis", 0), x->rank);
    p->outer = prod(x->dims, 0, ax);
    p->len = x->dims[ax];
    p->inner = prod(x->dims, ax + 1, x->rank) * esz;
    memcpy(od, x->dims, sizeof(int64_t) * x->rank);
    orank = x->rank;
  } else {
    p->outer = 1;
    p->len = x->numel;
    p->inner = esz;
    orank = 1;
  }
  if (c->numel > p->len) error_node(n, "condition has %lld entries for %lld slices", (long long)c->numel, (long long)p->len);
  p->sel = xalloc(sizeof(int64_t) * (c->numel + 1));
  for (int64_t i = 0; i < c->numel; i++)
    if (elem_get_f64(c->data, c->dtype, i) != 0) p->sel[p->nsel++] = i;
  if (a) od[norm_axis(n, attr_int(n, "axis", 0), x->rank)] = p->nsel;
  else od[0] = p->nsel;
  value_set_shape(n->out[0], x->dtype, orank, od);
  n->p = p;
}

static void compress_eval(Node *n, void *const *in, void *const *out) {
  TakeP *p = n->p;
  k_take(p->outer, p->len, p->nsel, p->sel, p->inner, in[0], out[0]);
}

static void compress_emit(Node *n, Emitter *e) {
  TakeP *p = n->p;
  if (!n->out[0]->numel) {
    emit(e, "/* empty result */");
    return;
  }
  emit_need(e, "k_misc");
  emit(e, "k_take(%lld, %lld, %lld, %s, %lld, %s, %s);", (long long)p->outer, (long long)p->len, (long long)p->nsel,
       emit_i64s(e, p->sel, (int)p->nsel), (long long)p->inner, eref(e, n->in[0]), eref(e, n->out[0]));
}

/* ----------------------------------------- NonZero, Unique (compile time) */

typedef struct ConstOuts {
  int nout;
  void *data[4];
} ConstOuts;

static void const_outs_eval(Node *n, void *const *in, void *const *out) {
  ConstOuts *p = n->p;
  for (int k = 0; k < p->nout && k < n->nout; k++)
    if (n->out[k]) memcpy(out[k], p->data[k], (size_t)value_bytes(n->out[k]));
}

static void const_outs_emit(Node *n, Emitter *e) {
  ConstOuts *p = n->p;
  for (int k = 0; k < p->nout && k < n->nout; k++) {
    Value *v = n->out[k];
    if (!v || !v->numel) continue;
    emit(e, "memcpy(%s, %s, %lld);", eref(e, v), emit_const(e, v->dtype, v->rank, v->dims, p->data[k]), (long long)value_bytes(v));
  }
}

static void nonzero_infer(Node *n) {
  Value *x = need_const(n, 0);
  if (!dtype_size(x->dtype)) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  int r = x->rank ? x->rank : 1;
  int64_t nz = 0, dims1[1] = {1};
  const int64_t *dims = x->rank ? x->dims : dims1;
  for (int64_t i = 0; i < x->numel; i++) nz += elem_get_f64(x->data, x->dtype, i) != 0;
  int64_t od[2] = {r, nz};
  value_set_shape(n->out[0], DT_INT64, 2, od);
  ConstOuts *p = xalloc(sizeof *p);
  p->nout = 1;
  int64_t *res = p->data[0] = xalloc(sizeof(int64_t) * (r * nz + 1));
  int64_t j = 0;
  for (int64_t i = 0; i < x->numel; i++) {
    if (elem_get_f64(x->data, x->dtype, i) == 0) continue;
    int64_t rem = i;
    for (int d = r - 1; d >= 0; d--) {
      res[d * nz + j] = rem % dims[d];
      rem /= dims[d];
    }
    j++;
  }
  n->p = p;
}

/* Unique: slices along the axis (or elements) compared lexicographically */
static Value *uq_x;
static int64_t uq_L, uq_S, uq_inner;

static int uq_cmp_elem(int64_t a, int64_t b) {
  DType t = uq_x->dtype;
  if (dtype_is_float(t)) {
    double u = elem_get_f64(uq_x->data, t, a), v = elem_get_f64(uq_x->data, t, b);
    return u < v ? -1 : u > v ? 1 : 0;
  }
  if (t == DT_UINT64) {
    uint64_t u = ((const uint64_t *)uq_x->data)[a], v = ((const uint64_t *)uq_x->data)[b];
    return u < v ? -1 : u > v ? 1 : 0;
  }
  int64_t u = elem_get_i64(uq_x->data, t, a), v = elem_get_i64(uq_x->data, t, b);
  return u < v ? -1 : u > v ? 1 : 0;
}

/* element j of slice i */
static int64_t uq_at(int64_t i, int64_t j) { return (j / uq_inner * uq_L + i) * uq_inner + j % uq_inner; }

static int uq_cmp_slices(int64_t a, int64_t b) {
  for (int64_t j = 0; j < uq_S; j++) {
    int c = uq_cmp_elem(uq_at(a, j), uq_at(b, j));
    if (c) return c;
  }
  return 0;
}

static int uq_qsort(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  int c = uq_cmp_slices(a, b);
  return c ? c : (a < b ? -1 : a > b);
}

static void unique_infer(Node *n) {
  Value *x = need_const(n, 0);
  int esz = dtype_size(x->dtype);
  if (!esz || x->dtype == DT_STRING) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  int sorted = (int)attr_int(n, "sorted", 1);
  Attr *a = attr_find(n, "axis");
  int ax = a ? norm_axis(n, attr_int(n, "axis", 0), x->rank) : -1;
  uq_x = x;
  if (ax >= 0) {
    uq_L = x->dims[ax];
    uq_inner = prod(x->dims, ax + 1, x->rank);
    uq_S = uq_L ? x->numel / uq_L : 0;
  } else {
    uq_L = x->numel;
    uq_inner = 1;
    uq_S = 1;
  }
  int64_t L = uq_L;
  int64_t *ord = xalloc(sizeof(int64_t) * (L + 1)), *grp = xalloc(sizeof(int64_t) * (L + 1));
  for (int64_t i = 0; i < L; i++) ord[i] = i;
  qsort(ord, (size_t)L, sizeof(int64_t), uq_qsort);
  /* groups in sorted order: first index and count */
  int64_t ng = 0, *first = xalloc(sizeof(int64_t) * (L + 1)), *cnt = xalloc(sizeof(int64_t) * (L + 1));
  for (int64_t i = 0; i < L; i++) {
    if (i == 0 || uq_cmp_slices(ord[i - 1], ord[i])) {
      first[ng] = ord[i];
      cnt[ng] = 0;
      ng++;
    }
    cnt[ng - 1]++;
    grp[ord[i]] = ng - 1;
  }
  /* output order of the groups */
  int64_t *gorder = xalloc(sizeof(int64_t) * (ng + 1)), *rank_of = xalloc(sizeof(int64_t) * (ng + 1));
  for (int64_t g = 0; g < ng; g++) gorder[g] = g;
  if (!sorted) { /* by first occurrence: insertion sort by first[] */
    for (int64_t g = 1; g < ng; g++) {
      int64_t v = gorder[g], k = g;
      while (k > 0 && first[gorder[k - 1]] > first[v]) {
        gorder[k] = gorder[k - 1];
        k--;
      }
      gorder[k] = v;
    }
  }
  for (int64_t g = 0; g < ng; g++) rank_of[gorder[g]] = g;
  ConstOuts *p = xalloc(sizeof *p);
  p->nout = 4;
  /* Y */
  int64_t yd[MAX_RANK];
  int yr;
  if (ax >= 0) {
    memcpy(yd, x->dims, sizeof(int64_t) * x->rank);
    yd[ax] = ng;
    yr = x->rank;
  } else {
    yd[0] = ng;
    yr = 1;
  }
  unsigned char *y = p->data[0] = xalloc((size_t)(ng * uq_S * esz + 8));
  int64_t outer = ax >= 0 ? prod(x->dims, 0, ax) : 1;
  for (int64_t g = 0; g < ng; g++) {
    int64_t src = first[gorder[g]];
    for (int64_t o = 0; o < outer; o++)
      memcpy(y + ((o * ng + g) * uq_inner) * esz, (const unsigned char *)x->data + ((o * L + src) * uq_inner) * esz,
             (size_t)(uq_inner * esz));
  }
  int64_t *ind = p->data[1] = xalloc(sizeof(int64_t) * (ng + 1)), *inv = p->data[2] = xalloc(sizeof(int64_t) * (L + 1));
  int64_t *cn = p->data[3] = xalloc(sizeof(int64_t) * (ng + 1));
  for (int64_t g = 0; g < ng; g++) {
    ind[g] = first[gorder[g]];
    cn[g] = cnt[gorder[g]];
  }
  for (int64_t i = 0; i < L; i++) inv[i] = rank_of[grp[i]];
  if (n->out[0]) value_set_shape(n->out[0], x->dtype, yr, yd);
  int64_t d1[1] = {ng}, dl[1] = {L};
  if (n->nout > 1 && n->out[1]) value_set_shape(n->out[1], DT_INT64, 1, d1);
  if (n->nout > 2 && n->out[2]) value_set_shape(n->out[2], DT_INT64, 1, dl);
  if (n->nout > 3 && n->out[3]) value_set_shape(n->out[3], DT_INT64, 1, d1);
  n->p = p;
}

/* --------------------------------------------------------------------- Det */

typedef struct DetP {
  int64_t nmat, m;
} DetP;

static void det_infer(Node *n) {
  Value *x = n->in[0];
  if (x->dtype != DT_FLOAT && x->dtype != DT_DOUBLE) error_node(n, "type %s is not supported (float, double)", dtype_name(x->dtype));
  if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2]) error_node(n, "input %s is not a (batch of) square matrices", shape_str(x));
  DetP *p = xalloc(sizeof *p);
  p->m = x->dims[x->rank - 1];
  p->nmat = prod(x->dims, 0, x->rank - 2);
  value_set_shape(n->out[0], x->dtype, x->rank - 2, x->dims);
  n->scratch_bytes = p->m * p->m * 8 + 8;
  n->p = p;
}

static void det_eval(Node *n, void *const *in, void *const *out) {
  DetP *p = n->p;
  double *a = xalloc((size_t)n->scratch_bytes);
  if (n->in[0]->dtype == DT_FLOAT) k_det_f32(p->nmat, p->m, in[0], out[0], a);
  else k_det_f64(p->nmat, p->m, in[0], out[0], a);
  free(a);
}

static void det_emit(Node *n, Emitter *e) {
  DetP *p = n->p;
  emit_need(e, "k_misc");
  emit(e, "k_det_%s(%lld, %lld, %s, %s, (double *)(A + %lld));", dtype_tag(n->in[0]->dtype), (long long)p->nmat,
       (long long)p->m, eref(e, n->in[0]), eref(e, n->out[0]), (long long)n->scratch_off);
}

const OpDef opdef_Swish = {"alpha", 1, 1, 1, 1, swish_infer, swish_eval, swish_emit, OPF_INPLACE};
const OpDef opdef_SwiGLU = {"alpha", 2, 2, 1, 1, swish_infer, swish_eval, swish_emit, OPF_INPLACE};
const OpDef opdef_ReverseSequence = {"batch_axis,time_axis", 2, 2, 1, 1, revseq_infer, revseq_eval, revseq_emit, 0};
const OpDef opdef_BitCast = {"to", 1, 1, 1, 1, bitcast_infer, bitcast_eval, NULL, OPF_VIEW};
const OpDef opdef_CenterCropPad = {"axes", 2, 2, 1, 1, crop_infer, crop_eval, crop_emit, 0};
const OpDef opdef_Compress = {"axis", 2, 2, 1, 1, compress_infer, compress_eval, compress_emit, 0};
const OpDef opdef_NonZero = {"", 1, 1, 1, 1, nonzero_infer, const_outs_eval, const_outs_emit, 0};
const OpDef opdef_Unique = {"axis,sorted", 1, 1, 1, 4, unique_infer, const_outs_eval, const_outs_emit, 0};
const OpDef opdef_Det = {"", 1, 1, 1, 1, det_infer, det_eval, det_emit, 0};
