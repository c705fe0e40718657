/*
 * op_where.c: Where (3-way broadcasting select), Trilu, EyeLike and Range.
 * All dtype-generic except Range, which computes values.  Kernels:
 * runtime/k_where.h.  Trilu's k may be a run-time scalar.  EyeLike depends
 * only on its input's shape, so it folds to a constant (OPF_FOLD_SHAPE).
 * Range's inputs decide its length, so they must be constant and Range
 * folds too; code is emitted only for results too large to fold.
 */
#include "mrtc.h"
#include "k_where.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------- Where */

typedef struct WhereP {
  int rank, esz;
  int64_t dims[MAX_RANK], s[3][MAX_RANK];
} WhereP;

static void bstrides(const Value *v, int orank, int64_t *s) {
  int64_t st = 1;
  for (int d = orank - 1; d >= 0; d--) {
    int vd = d - (orank - v->rank);
    if (vd < 0 || v->dims[vd] == 1) s[d] = 0;
    else {
      s[d] = st;
      st *= v->dims[vd];
    }
  }
}

static void where_infer(Node *n) {
  Value *c = n->in[0], *x = n->in[1], *y = n->in[2];
  if (c->dtype != DT_BOOL) error_node(n, "condition has type %s, bool is required", dtype_name(c->dtype));
  if (x->dtype != y->dtype) error_node(n, "X and Y have different types (%s and %s)", dtype_name(x->dtype), dtype_name(y->dtype));
  WhereP *p = xalloc(sizeof *p);
  n->p = p;
  p->esz = dtype_size(x->dtype);
  if (!p->esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  int orank;
  int64_t odims[MAX_RANK], st[3][MAX_RANK];
  broadcast_shapes(n, n->in, 3, &orank, odims);
  value_set_shape(n->out[0], x->dtype, orank, odims);
  for (int k = 0; k < 3; k++) bstrides(n->in[k], orank, st[k]);
  /* collapse: drop size-1 dims, merge dims all three walk alike */
  int r = 0;
  for (int d = 0; d < orank; d++) {
    if (odims[d] == 1) continue;
    if (r > 0) {
      int ok = 1;
      for (int k = 0; k < 3; k++) ok &= p->s[k][r - 1] == st[k][d] * odims[d];
      if (ok) {
        p->dims[r - 1] *= odims[d];
        for (int k = 0; k < 3; k++) p->s[k][r - 1] = st[k][d];
        continue;
      }
    }
    p->dims[r] = odims[d];
    for (int k = 0; k < 3; k++) p->s[k][r] = st[k][d];
    r++;
  }
  if (!r) {
    p->dims[0] = 1;
    for (int k = 0; k < 3; k++) p->s[k][0] = 0;
    r = 1;
  }
  p->rank = r;
}

static void where_eval(Node *n, void *const *in, void *const *out) {
  WhereP *p = n->p;
  if (!n->out[0]->numel) return;
  k_where(p->rank, p->dims, p->s[0], p->s[1], p->s[2], in[0], in[1], in[2], out[0], p->esz);
}

static void where_emit(Node *n, Emitter *e) {
  WhereP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_where");
  emit(e, "k_where(%d, %s, %s, %s, %s, %s, %s, %s, %s, %d);", p->rank, emit_i64s(e, p->dims, p->rank), emit_i64s(e, p->s[0], p->rank),
       emit_i64s(e, p->s[1], p->rank), emit_i64s(e, p->s[2], p->rank), eref(e, n->in[0]), eref(e, n->in[1]), eref(e, n->in[2]),
       eref(e, n->out[0]), p->esz);
}

/* ------------------------------------------------------------- Trilu */

typedef struct TriP {
  int64_t nmat, rows, cols, k;
  int upper, esz, k_input;
} TriP;

static void trilu_infer(Node *n) {
  Value *x = n->in[0];
  TriP *p = xalloc(sizeof *p);
  n->p = p;
  if (x->rank < 2) error_node(n, "input must have rank >= 2, got %s", shape_str(x));
  p->esz = dtype_size(x->dtype);
  if (!p->esz) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  p->upper = attr_int(n, "upper", 1) != 0;
  p->rows = x->dims[x->rank - 2];
  p->cols = x->dims[x->rank - 1];
  p->nmat = shape_numel(x->rank - 2, x->dims);
  Value *k = node_in(n, 1);
  if (k) {
    if (k->dtype != DT_INT64 || k->numel != 1) error_node(n, "k must be an int64 scalar");
    if (k->data) p->k = ((int64_t *)k->data)[0];
    else p->k_input = 1;
  }
  value_set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void trilu_eval(Node *n, void *const *in, void *const *out) {
  TriP *p = n->p;
  k_trilu(p->nmat, p->rows, p->cols, p->k_input ? ((const int64_t *)in[1])[0] : p->k, p->upper, out[0], in[0], p->esz);
}

static void trilu_emit(Node *n, Emitter *e) {
  TriP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_where");
  const char *k = p->k_input ? fmt("%s[0]", eref(e, n->in[1])) : fmt("%lldLL", (long long)p->k);
  emit(e, "k_trilu(%lld, %lld, %lld, %s, %d, %s, %s, %d);", (long long)p->nmat, (long long)p->rows, (long long)p->cols, k,
       p->upper, eref(e, n->out[0]), eref(e, n->in[0]), p->esz);
}

/* ----------------------------------------------------------- EyeLike */

typedef struct EyeP {
  int64_t rows, cols, k;
  int esz;
  union { unsigned char b[16]; double d; int64_t i; } one; /* the value 1 in the output type, aligned for it */
} EyeP;

static void eyelike_infer(Node *n) {
  Value *x = n->in[0];
  EyeP *p = xalloc(sizeof *p);
  n->p = p;
  if (x->rank != 2) error_node(n, "input must be 2-D, got %s", shape_str(x));
  DType t = (DType)attr_int(n, "dtype", x->dtype);
  p->esz = dtype_size(t);
  if (!p->esz || t == DT_STRING) error_node(n, "type %s is not supported", dtype_name(t));
  p->rows = x->dims[0];
  p->cols = x->dims[1];
  p->k = attr_int(n, "k", 0);
  if (p->k > p->cols) p->k = p->cols;
  if (p->k < -p->rows) p->k = -p->rows;
  elem_set_f64(p->one.b, t, 0, 1.0);
  value_set_shape(n->out[0], t, 2, x->dims);
}

static void eyelike_eval(Node *n, void *const *in, void *const *out) {
  EyeP *p = n->p;
  k_eyelike(p->rows, p->cols, p->k, p->one.b, out[0], p->esz);
}

static void eyelike_emit(Node *n, Emitter *e) {
  EyeP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_where");
  const char *one = fmt("C%d", e->tmp++);
  buf_printf(&e->consts, "static const unsigned char %s[%d] = {", one, p->esz);
  for (int i = 0; i < p->esz; i++) buf_printf(&e->consts, "%s%u", i ? "," : "", p->one.b[i]);
  buf_puts(&e->consts, "};\n");
  emit(e, "k_eyelike(%lld, %lld, %lld, %s, %s, %d);", (long long)p->rows, (long long)p->cols, (long long)p->k, one,
       eref(e, n->out[0]), p->esz);
}

/* ------------------------------------------------------------- Range */

typedef struct RangeP {
  double fstart, fdelta;
  int64_t istart, idelta;
} RangeP;

static void range_infer(Node *n) {
  Value *s = need_const(n, 0), *l = need_const(n, 1), *d = need_const(n, 2);
  DType t = s->dtype;
  if (l->dtype != t || d->dtype != t) error_node(n, "start, limit and delta have different types");
  if (s->numel != 1 || l->numel != 1 || d->numel != 1) error_node(n, "start, limit and delta must be scalars");
  switch (t) {
  case DT_FLOAT: case DT_DOUBLE: case DT_FLOAT16: case DT_BFLOAT16: case DT_INT16: case DT_INT32: case DT_INT64: break;
  default: error_node(n, "type %s is not supported", dtype_name(t));
  }
  RangeP *p = xalloc(sizeof *p);
  n->p = p;
  int64_t cnt;
  if (dtype_is_float(t)) {
    p->fstart = elem_get_f64(s->data, t, 0);
    p->fdelta = elem_get_f64(d->data, t, 0);
    double lim = elem_get_f64(l->data, t, 0);
    if (!(p->fdelta != 0) || isnan(p->fstart) || isnan(lim)) error_node(n, "delta must be nonzero and the bounds numbers");
    double c = ceil((lim - p->fstart) / p->fdelta);
    if (!(c < 1e12)) error_node(n, "range of %g elements is too large", c);
    cnt = c > 0 ? (int64_t)c : 0;
  } else {
    p->istart = elem_get_i64(s->data, t, 0);
    p->idelta = elem_get_i64(d->data, t, 0);
    int64_t lim = elem_get_i64(l->data, t, 0);
    if (!p->idelta) error_node(n, "delta must be nonzero");
    double c = ceil(((double)lim - (double)p->istart) / (double)p->idelta);
    if (!(c < 1e12)) error_node(n, "range too large");
    uint64_t dist, step;
    if (p->idelta > 0) {
      dist = lim > p->istart ? (uint64_t)lim - (uint64_t)p->istart : 0;
      step = (uint64_t)p->idelta;
    } else {
      dist = lim < p->istart ? (uint64_t)p->istart - (uint64_t)lim : 0;
      step = (uint64_t)0 - (uint64_t)p->idelta;
    }
    cnt = dist ? (int64_t)((dist - 1) / step + 1) : 0;
  }
  value_set_shape(n->out[0], t, 1, &cnt);
}

static void range_eval(Node *n, void *const *in, void *const *out) {
  RangeP *p = n->p;
  Value *o = n->out[0];
  for (int64_t i = 0; i < o->numel; i++) {
    switch (o->dtype) {
    case DT_FLOAT: ((float *)out[0])[i] = (float)p->fstart + (float)i * (float)p->fdelta; break;
    case DT_DOUBLE: ((double *)out[0])[i] = p->fstart + (double)i * p->fdelta; break;
    case DT_FLOAT16: case DT_BFLOAT16:
      elem_set_f64(out[0], o->dtype, i, (float)p->fstart + (float)i * (float)p->fdelta);
      break;
    default: elem_set_i64(out[0], o->dtype, i, (int64_t)((uint64_t)p->istart + (uint64_t)i * (uint64_t)p->idelta));
    }
  }
}

static void range_emit(Node *n, Emitter *e) {
  RangeP *p = n->p;
  Value *o = n->out[0];
  const char *y = eref(e, o), *ct = dtype_ctype(o->dtype);
  switch (o->dtype) {
  case DT_FLOAT:
    emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = %s + (float)i * %s; }", (long long)o->numel, y,
         fmt_float((float)p->fstart), fmt_float((float)p->fdelta));
    break;
  case DT_DOUBLE:
    emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = %.17g + (double)i * %.17g; }", (long long)o->numel, y, p->fstart,
         p->fdelta);
    break;
  case DT_INT16: case DT_INT32: case DT_INT64:
    emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = (%s)(%lldLL + i * %lldLL); }", (long long)o->numel, y, ct,
         (long long)p->istart, (long long)p->idelta);
    break;
  default: error_node(n, "a %s range too large to precompute is not supported", dtype_name(o->dtype));
  }
}

const OpDef opdef_Where = {"", 3, 3, 1, 1, where_infer, where_eval, where_emit, 0};
const OpDef opdef_Trilu = {"upper", 1, 2, 1, 1, trilu_infer, trilu_eval, trilu_emit, 0};
const OpDef opdef_EyeLike = {"dtype,k", 1, 1, 1, 1, eyelike_infer, eyelike_eval, eyelike_emit, OPF_FOLD_SHAPE};
const OpDef opdef_Range = {"", 3, 3, 1, 1, range_infer, range_eval, range_emit, 0};
