/*
 * op_norm.c: BatchNormalization, InstanceNormalization, GroupNormalization,
 * LayerNormalization, RMSNormalization, LpNormalization,
 * MeanVarianceNormalization and LRN, lowered to runtime/k_norm.h (float and
 * double).  Each infer hook reduces the op to the kernel's view of the
 * tensor (N x C x S, groups, OUTER x INNER, kept/reduced dims) and stores
 * those sizes in NormP; eval and emit pass them on.
 *
 * Opset differences honoured:
 *   BatchNormalization  opset < 9: `spatial` = 0 normalizes per feature
 *     (statistics of shape C x D1 x ... x Dn); opset < 7: is_test and
 *     consumed_inputs are accepted.  Before opset 14 only inference is
 *     supported: a node with the training outputs (mean, var, saved_mean,
 *     saved_var) is refused, and a single-output node uses the given mean and
 *     var whatever is_test says.  From opset 14 training_mode = 1 uses the
 *     batch's statistics (population variance) and may output the updated
 *     running mean and variance.
 *   GroupNormalization  opset < 21: scale and bias hold one value per group;
 *     from 21 one per channel (before 21, C values are also read as one per
 *     channel: the only reading of that size).
 *   LayerNormalization / RMSNormalization / GroupNormalization: stash_type
 *     (the precision of the statistics) is float or double; statistics are
 *     always accumulated in double here, which meets either.
 */
#include "mrtc.h"
#include "k_norm.h"

#include <string.h>

enum { K_BN, K_BN_TRAIN, K_GROUP, K_LAYER, K_LP, K_MVN, K_LRN };

typedef struct NormP {
  int kind;
  int64_t N, C, S;       /* x as N x C x S (batch norm, LRN); group norm: C = groups */
  int64_t CG;            /* group norm: channels per group */
  int per_channel;       /* group norm: scale/bias per channel (else per group) */
  int64_t outer, inner, mid; /* layer/RMS norm, Lp norm */
  int64_t ss, bs;        /* scale/bias strides (1 or 0) */
  int rms, p;
  double eps, momentum;
  double alpha, beta, bias; /* LRN */
  int64_t size;
  int nk, nr;            /* MVN */
  int64_t kdims[MAX_RANK], kstr[MAX_RANK], rdims[MAX_RANK], rstr[MAX_RANK];
} NormP;

static NormP *norm_new(Node *n, int kind) {
  DType t = n->in[0]->dtype;
  if (t != DT_FLOAT && t != DT_DOUBLE)
    error_node(n, "input type %s is not supported (float, double)", dtype_name(t));
  for (int i = 1; i < n->nin; i++)
    if (n->in[i] && n->in[i]->dtype != t)
      error_node(n, "input %d ('%s') has type %s; it must match X (%s)", i, n->in[i]->name, dtype_name(n->in[i]->dtype),
                 dtype_name(t));
  NormP *p = xalloc(sizeof *p);
  p->kind = kind;
  n->p = p;
  value_set_shape(n->out[0], t, n->in[0]->rank, n->in[0]->dims);
  return p;
}

/* input I must hold exactly CNT elements */
static void need_count(Node *n, int i, int64_t cnt, const char *what) {
  Value *v = node_in(n, i);
  if (!v) error_node(n, "input %d (%s) is required", i, what);
  if (v->numel != cnt) error_node(n, "%s %s must have %lld elements", what, shape_str(v), (long long)cnt);
}

static int has_out(Node *n, int k) { return k < n->nout && n->out[k]; }

static void stash_type(Node *n) {
  int64_t st = attr_int(n, "stash_type", 1);
  if (st != DT_FLOAT && st != DT_DOUBLE) error_node(n, "stash_type %lld is not supported (float or double)", (long long)st);
}

/* ---- BatchNormalization */

static void batchnorm_infer(Node *n) {
  Value *x = n->in[0];
  int train = attr_int(n, "training_mode", 0) != 0;
  NormP *p = norm_new(n, train ? K_BN_TRAIN : K_BN);
  p->eps = attr_float(n, "epsilon", 1e-5f);
  p->momentum = attr_float(n, "momentum", 0.9f);
  if (n->nin != 5) error_node(n, "X, scale, B, mean and var are required");
  if (x->rank < 1) error_node(n, "X must have rank >= 1");
  for (int k = 1; k < n->nout; k++)
    if (n->out[k] && (!train || k > 2))
      error_node(n, "output %d: training outputs are not supported (%s)", k,
                 n->opset >= 14 ? "only running_mean and running_var with training_mode = 1"
                                : "inference only before opset 14; drop the mean/var/saved_* outputs");
  p->N = x->dims[0];
  p->C = x->rank > 1 ? x->dims[1] : 1;
  p->S = x->rank > 2 ? shape_numel(x->rank - 2, x->dims + 2) : 1;
  if (!attr_int(n, "spatial", 1)) {
    /* per-feature statistics: each of C x D1 x ... x Dn is its own channel */
    p->C *= p->S;
    p->S = 1;
  }
  static const char *names[] = {"", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; i++) need_count(n, i, p->C, names[i]);
  for (int k = 1; k <= 2; k++)
    if (has_out(n, k)) value_set_shape(n->out[k], x->dtype, n->in[k + 2]->rank, n->in[k + 2]->dims);
  n->macs = x->numel;
}

/* ---- InstanceNormalization, GroupNormalization */

static void instnorm_infer(Node *n) {
  Value *x = n->in[0];
  NormP *p = norm_new(n, K_GROUP);
  if (x->rank < 2) error_node(n, "input %s must be N x C x ...", shape_str(x));
  p->eps = attr_float(n, "epsilon", 1e-5f);
  p->N = x->dims[0];
  p->C = x->dims[1];
  p->CG = 1;
  p->S = shape_numel(x->rank - 2, x->dims + 2);
  p->per_channel = 1;
  need_count(n, 1, p->C, "scale");
  need_count(n, 2, p->C, "B");
  n->macs = x->numel;
}

static void groupnorm_infer(Node *n) {
  Value *x = n->in[0];
  NormP *p = norm_new(n, K_GROUP);
  if (x->rank < 2) error_node(n, "input %s must be N x C x ...", shape_str(x));
  p->eps = attr_float(n, "epsilon", 1e-5f);
  stash_type(n);
  int64_t G = attr_int(n, "num_groups", -1), C = x->dims[1];
  if (G <= 0) error_node(n, "num_groups is required and must be positive");
  if (C % G) error_node(n, "num_groups %lld does not divide the %lld channels", (long long)G, (long long)C);
  p->N = x->dims[0];
  p->C = G;
  p->CG = C / G;
  p->S = shape_numel(x->rank - 2, x->dims + 2);
  Value *sc = n->in[1], *b = n->in[2];
  if (sc->numel != b->numel) error_node(n, "scale %s and bias %s differ in size", shape_str(sc), shape_str(b));
  if (sc->numel == C) p->per_channel = 1;
  else if (sc->numel == G && n->opset < 21) p->per_channel = 0;
  else
    error_node(n, "scale %s must have %lld elements (%s)", shape_str(sc), (long long)(n->opset < 21 ? G : C),
               n->opset < 21 ? "one per group before opset 21" : "one per channel");
  n->macs = x->numel;
}

/* ---- LayerNormalization, RMSNormalization */

/* scale/bias of the normalized shape (stride 1) or a single value (stride 0) */
static int64_t affine_stride(Node *n, int i, int64_t inner, const char *what) {
  Value *v = n->in[i], *x = n->in[0];
  if (v->numel == 1) return 0;
  int ok = v->numel == inner && v->rank <= x->rank;
  for (int d = 0; ok && d < v->rank; d++) {
    int64_t xd = x->dims[x->rank - v->rank + d];
    if (v->dims[d] != xd && !(v->dims[d] == 1 && shape_numel(v->rank - d, v->dims + d) == inner)) ok = 0;
  }
  if (!ok) error_node(n, "%s %s must have the normalized shape (%lld elements) or one element", what, shape_str(v), (long long)inner);
  return 1;
}

static void layernorm_common(Node *n, int rms) {
  Value *x = n->in[0];
  NormP *p = norm_new(n, K_LAYER);
  p->rms = rms;
  p->eps = attr_float(n, "epsilon", 1e-5f);
  stash_type(n);
  if (x->rank < 1) error_node(n, "X must have rank >= 1");
  int axis = norm_axis(n, attr_int(n, "axis", -1), x->rank);
  p->outer = shape_numel(axis, x->dims);
  p->inner = shape_numel(x->rank - axis, x->dims + axis);
  p->ss = affine_stride(n, 1, p->inner, "scale");
  if (!rms && node_in(n, 2)) p->bs = affine_stride(n, 2, p->inner, "B");
  if (!rms && (has_out(n, 1) || has_out(n, 2))) {
    if (attr_int(n, "stash_type", 1) != x->dtype)
      error_node(n, "Mean/InvStdDev outputs of type %s differ from X (%s); not supported",
                 dtype_name((DType)attr_int(n, "stash_type", 1)), dtype_name(x->dtype));
    int64_t d[MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = i < axis ? x->dims[i] : 1;
    for (int k = 1; k <= 2; k++)
      if (has_out(n, k)) value_set_shape(n->out[k], x->dtype, x->rank, d);
  }
  n->macs = x->numel;
}

static void layernorm_infer(Node *n) { layernorm_common(n, 0); }
static void rmsnorm_infer(Node *n) { layernorm_common(n, 1); }

/* ---- LpNormalization */

static void lpnorm_infer(Node *n) {
  Value *x = n->in[0];
  NormP *p = norm_new(n, K_LP);
  if (x->rank < 1) error_node(n, "input must have rank >= 1");
  int axis = norm_axis(n, attr_int(n, "axis", -1), x->rank);
  int64_t pp = attr_int(n, "p", 2);
  if (pp != 1 && pp != 2) error_node(n, "p = %lld; only 1 and 2 are supported", (long long)pp);
  p->p = (int)pp;
  p->outer = shape_numel(axis, x->dims);
  p->mid = x->dims[axis];
  p->inner = shape_numel(x->rank - axis - 1, x->dims + axis + 1);
  n->macs = x->numel;
}

/* ---- MeanVarianceNormalization */

static void mvn_infer(Node *n) {
  Value *x = n->in[0];
  NormP *p = norm_new(n, K_MVN);
  int64_t axes[MAX_RANK] = {0, 2, 3};
  int na = attr_ints(n, "axes", axes, MAX_RANK);
  if (na < 0) na = 3;
  int red[MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int a = norm_axis(n, axes[i], x->rank);
    if (red[a]) error_node(n, "axis %lld repeated", (long long)axes[i]);
    red[a] = 1;
  }
  int64_t st = 1, str[MAX_RANK];
  for (int d = x->rank - 1; d >= 0; d--) str[d] = st, st *= x->dims[d];
  for (int d = 0; d < x->rank; d++) {
    if (red[d]) p->rdims[p->nr] = x->dims[d], p->rstr[p->nr++] = str[d];
    else p->kdims[p->nk] = x->dims[d], p->kstr[p->nk++] = str[d];
  }
  if (x->numel == 0) error_node(n, "empty input");
  n->macs = x->numel;
}

/* ---- LRN */

static void lrn_infer(Node *n) {
  Value *x = n->in[0];
  NormP *p = norm_new(n, K_LRN);
  if (x->rank < 2) error_node(n, "input %s must be N x C x ...", shape_str(x));
  p->size = attr_int(n, "size", 0);
  if (p->size <= 0) error_node(n, "size is required and must be positive");
  p->alpha = attr_float(n, "alpha", 1e-4f);
  p->beta = attr_float(n, "beta", 0.75f);
  p->bias = attr_float(n, "bias", 1.0f);
  p->N = x->dims[0];
  p->C = x->dims[1];
  p->S = shape_numel(x->rank - 2, x->dims + 2);
  n->macs = x->numel * p->size;
}

/* ---- eval / emit */

#define NORM_CALL(tag)                                                                                                 \
  switch (p->kind) {                                                                                                   \
  case K_BN: k_batchnorm_##tag(p->N, p->C, p->S, in[0], in[1], in[2], in[3], in[4], p->eps, out[0]); break;            \
  case K_BN_TRAIN:                                                                                                     \
    k_batchnorm_train_##tag(p->N, p->C, p->S, in[0], in[1], in[2], in[3], in[4], p->eps, p->momentum, out[0],          \
                            out[1], out[2]);                                                                           \
    break;                                                                                                             \
  case K_GROUP: k_groupnorm_##tag(p->N, p->C, p->CG, p->S, in[0], in[1], in[2], p->per_channel, p->eps, out[0]); break; \
  case K_LAYER:                                                                                                        \
    k_layernorm_##tag(p->outer, p->inner, in[0], in[1], p->ss, p->rms ? NULL : in[2], p->bs, p->eps, p->rms, out[0],   \
                      out[1], out[2]);                                                                                 \
    break;                                                                                                             \
  case K_LP: k_lpnorm_##tag(p->outer, p->mid, p->inner, p->p, in[0], out[0]); break;                                   \
  case K_MVN: k_mvn_##tag(p->nk, p->kdims, p->kstr, p->nr, p->rdims, p->rstr, in[0], out[0]); break;                   \
  default: k_lrn_##tag(p->N, p->C, p->S, p->size, p->alpha, p->beta, p->bias, in[0], out[0]);                          \
  }

static void norm_eval(Node *n, void *const *in, void *const *out) {
  NormP *p = n->p;
  if (n->in[0]->dtype == DT_FLOAT) {
    NORM_CALL(f32)
  } else {
    NORM_CALL(f64)
  }
}

static const char *opt(Emitter *e, Node *n, int k, int is_out) {
  Value *v = is_out ? (k < n->nout ? n->out[k] : NULL) : node_in(n, k);
  return v ? eref(e, v) : "0";
}

static const char *dbl(double d) { return fmt("%.17g", d); }

static void norm_emit(Node *n, Emitter *e) {
  NormP *p = n->p;
  const char *tag = dtype_tag(n->in[0]->dtype);
  emit_need(e, "k_norm");
  const char *x = eref(e, n->in[0]), *y = eref(e, n->out[0]);
  long long N = p->N, C = p->C, S = p->S;
  switch (p->kind) {
  case K_BN:
    emit(e, "k_batchnorm_%s(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s, %s);", tag, N, C, S, x, eref(e, n->in[1]),
         eref(e, n->in[2]), eref(e, n->in[3]), eref(e, n->in[4]), dbl(p->eps), y);
    break;
  case K_BN_TRAIN:
    emit(e, "k_batchnorm_train_%s(%lld, %lld, %lld, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);", tag, N, C, S, x,
         eref(e, n->in[1]), eref(e, n->in[2]), eref(e, n->in[3]), eref(e, n->in[4]), dbl(p->eps), dbl(p->momentum), y,
         opt(e, n, 1, 1), opt(e, n, 2, 1));
    break;
  case K_GROUP:
    emit(e, "k_groupnorm_%s(%lld, %lld, %lld, %lld, %s, %s, %s, %d, %s, %s);", tag, N, C, (long long)p->CG, S, x,
         eref(e, n->in[1]), eref(e, n->in[2]), p->per_channel, dbl(p->eps), y);
    break;
  case K_LAYER:
    emit(e, "k_layernorm_%s(%lld, %lld, %s, %s, %lld, %s, %lld, %s, %d, %s, %s, %s);", tag, (long long)p->outer,
         (long long)p->inner, x, eref(e, n->in[1]), (long long)p->ss, p->rms ? "0" : opt(e, n, 2, 0), (long long)p->bs,
         dbl(p->eps), p->rms, y, opt(e, n, 1, 1), opt(e, n, 2, 1));
    break;
  case K_LP:
    emit(e, "k_lpnorm_%s(%lld, %lld, %lld, %d, %s, %s);", tag, (long long)p->outer, (long long)p->mid,
         (long long)p->inner, p->p, x, y);
    break;
  case K_MVN:
    emit(e, "k_mvn_%s(%d, %s, %s, %d, %s, %s, %s, %s);", tag, p->nk, emit_i64s(e, p->kdims, p->nk),
         emit_i64s(e, p->kstr, p->nk), p->nr, emit_i64s(e, p->rdims, p->nr), emit_i64s(e, p->rstr, p->nr), x, y);
    break;
  default:
    emit(e, "k_lrn_%s(%lld, %lld, %lld, %lld, %s, %s, %s, %s, %s);", tag, N, C, S, (long long)p->size, dbl(p->alpha),
         dbl(p->beta), dbl(p->bias), x, y);
  }
}

const OpDef opdef_BatchNormalization = {"consumed_inputs,epsilon,is_test,momentum,spatial,training_mode", 5, 5, 1, 5,
                                        batchnorm_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_InstanceNormalization = {"consumed_inputs,epsilon", 3, 3, 1, 1, instnorm_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_GroupNormalization = {"epsilon,num_groups,stash_type", 3, 3, 1, 1, groupnorm_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_LayerNormalization = {"axis,epsilon,stash_type", 2, 3, 1, 3, layernorm_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_RMSNormalization = {"axis,epsilon,stash_type", 2, 2, 1, 1, rmsnorm_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_LpNormalization = {"axis,p", 1, 1, 1, 1, lpnorm_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_MeanVarianceNormalization = {"axes", 1, 1, 1, 1, mvn_infer, norm_eval, norm_emit, OPF_INPLACE};
const OpDef opdef_LRN = {"alpha,beta,bias,size", 1, 1, 1, 1, lrn_infer, norm_eval, norm_emit, 0};
