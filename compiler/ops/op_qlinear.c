/*
 * op_qlinear.c: linear quantization and the integer ops, on the kernels of
 * runtime/k_qlinear.h.
 *
 *   QuantizeLinear (10, 13 axis, 19 saturate, 21 block_size / output_dtype,
 *     25 precision), DequantizeLinear (10, 13, 21, 23 output_dtype):
 *     per-tensor, per-axis and blocked scales; 8/16-bit integers (and int32
 *     for DequantizeLinear input), and the narrow types int4, uint4, int2,
 *     uint2, float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz and
 *     float4e2m1 (stored one element per byte; saturate honoured for the
 *     float8 outputs).  float8e8m0 and int32 scales are refused.
 *   DynamicQuantizeLinear: float32 -> uint8 with the computed scale and zp.
 *   MatMulInteger, ConvInteger: exact int32 results.
 *   QLinearMatMul, QLinearConv: int32 accumulation, then requantization
 *     as the ONNX reference does it (see k_qlinear.h).
 *
 * Element types are passed to the kernels as their ONNX numbers.
 */
#include "mrtc.h"
#include "k_qlinear.h"

#include <stdlib.h>
#include <string.h>

/* ONNX names of the types beyond bfloat16 (dtype_name knows only numbers) */
static const char *qtype_name(DType t) {
  static const char *hi[] = {"float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",
                             "int4",         "float4e2m1",     "float8e8m0", "uint2",          "int2"};
  if ((int)t >= 17 && (int)t <= 26) return hi[t - 17];
  return dtype_name(t);
}

static int is_q8_16(DType t) { return t == DT_INT8 || t == DT_UINT8 || t == DT_INT16 || t == DT_UINT16; }
/* the narrow quantized types: uint4, int4, uint2, int2, and the float8 / float4e2m1 ones */
static int is_qnarrow(DType t) { return ((int)t >= 17 && (int)t <= 23) || (int)t == 25 || (int)t == 26; }
static int is_scale_t(DType t) { return t == DT_FLOAT || t == DT_FLOAT16 || t == DT_BFLOAT16; }
static int is_u8i8(DType t) { return t == DT_INT8 || t == DT_UINT8; }

/* ------------------------------------------------ Quantize / Dequantize */

typedef struct QP {
  KQGeo g;
  int xt, st, zt, yt, prec, sat;
} QP;

/* numpy's result type of x / scale (float types and int32) */
static int promote(DType a, DType b) {
  if (a == DT_INT32 || b == DT_INT32 || a == DT_DOUBLE || b == DT_DOUBLE) return DT_DOUBLE;
  if (a == DT_FLOAT || b == DT_FLOAT) return DT_FLOAT;
  if (a == b) return a;
  return DT_FLOAT;
}

/* scale / zero-point geometry against x */
static void q_geometry(Node *n, Value *x, Value *s, Value *z, KQGeo *g) {
  int64_t block = n->opset >= 21 ? attr_int(n, "block_size", 0) : 0;
  if (n->opset < 21 && attr_find(n, "block_size")) error_node(n, "block_size needs opset 21 (model has %d)", n->opset);
  if (block < 0) error_node(n, "block_size %lld is negative", (long long)block);
  /* a one-element zero point with a one-element scale is per tensor whatever their ranks (scalar scale, [1] zero point) */
  if (z && !(z->numel == 1 && s->numel == 1) && (z->rank != s->rank || z->numel != s->numel)) error_node(n, "zero point %s and scale %s differ in shape", shape_str(z), shape_str(s));
  g->outer = 1;
  g->alen = x->numel;
  g->inner = 1;
  g->block = 1;
  g->so = g->sa = g->si = 0;
  if (s->numel == 1) { /* per tensor (also a 1-element 1-D scale, as the reference) */
    attr_int(n, "axis", 1);
    if (x->numel == 0) g->alen = 0;
    return;
  }
  if (n->opset < 13) error_node(n, "scale %s must be a scalar before opset 13", shape_str(s));
  int axis = norm_axis(n, attr_int(n, "axis", 1), x->rank);
  g->outer = shape_numel(axis, x->dims);
  g->alen = x->dims[axis];
  g->inner = shape_numel(x->rank - axis - 1, x->dims + axis + 1);
  if (!block) {
    if (s->rank != 1 || s->dims[0] != x->dims[axis])
      error_node(n, "per-axis scale %s does not match axis %d of input %s", shape_str(s), axis, shape_str(x));
    g->sa = 1;
    return;
  }
  if (s->rank != x->rank) error_node(n, "blocked scale %s must have the rank of input %s", shape_str(s), shape_str(x));
  for (int d = 0; d < x->rank; d++)
    if (d != axis && s->dims[d] != x->dims[d])
      error_node(n, "blocked scale %s does not match input %s outside axis %d", shape_str(s), shape_str(x), axis);
  int64_t sb = s->dims[axis];
  if (sb * block < x->dims[axis] || (sb - 1) * block >= x->dims[axis])
    error_node(n, "block_size %lld does not fit input %s with scale %s on axis %d", (long long)block, shape_str(x),
               shape_str(s), axis);
  g->block = block;
  g->so = sb * g->inner;
  g->sa = g->inner;
  g->si = 1;
}

static void quantize_infer(Node *n) {
  Value *x = n->in[0], *s = n->in[1], *z = node_in(n, 2);
  if (!(x->dtype == DT_FLOAT || x->dtype == DT_FLOAT16 || x->dtype == DT_BFLOAT16 || x->dtype == DT_INT32))
    error_node(n, "input x has type %s; float, float16, bfloat16 and int32 are supported", qtype_name(x->dtype));
  if (!is_scale_t(s->dtype)) error_node(n, "scale has type %s; float, float16 and bfloat16 are supported", qtype_name(s->dtype));
  DType yt = DT_UINT8;
  int64_t od = n->opset >= 21 ? attr_int(n, "output_dtype", 0) : 0;
  if (n->opset < 21 && attr_find(n, "output_dtype")) error_node(n, "output_dtype needs opset 21 (model has %d)", n->opset);
  if (z) {
    yt = z->dtype;
    if (od && od != yt) error_node(n, "output_dtype %s differs from the zero point's type %s", qtype_name((DType)od), qtype_name(yt));
  } else if (od)
    yt = (DType)od;
  if (!is_q8_16(yt) && !is_qnarrow(yt))
    error_node(n, "quantizing to %s is not supported (int8, uint8, int16, uint16, int4, uint4, int2, uint2, float8 "
                  "and float4e2m1 are)", qtype_name(yt));
  QP *p = xalloc(sizeof *p);
  p->sat = attr_int(n, "saturate", 1) != 0; /* only concerns float8 outputs */
  q_geometry(n, x, s, z, &p->g);
  p->xt = x->dtype;
  p->st = s->dtype;
  p->zt = z ? z->dtype : 0;
  p->yt = yt;
  p->prec = promote(x->dtype, s->dtype);
  int64_t prec = n->opset >= 25 ? attr_int(n, "precision", 0) : 0;
  if (prec) {
    if (!(prec == DT_FLOAT || prec == DT_FLOAT16 || prec == DT_BFLOAT16 || prec == DT_DOUBLE))
      error_node(n, "precision %s is not supported", qtype_name((DType)prec));
    p->prec = (int)prec;
  }
  value_set_shape(n->out[0], yt, x->rank, x->dims);
  n->p = p;
}

static void dequantize_infer(Node *n) {
  Value *x = n->in[0], *s = n->in[1], *z = node_in(n, 2);
  if (!(is_q8_16(x->dtype) || x->dtype == DT_INT32 || is_qnarrow(x->dtype)))
    error_node(n, "dequantizing %s is not supported (int8, uint8, int16, uint16, int32, int4, uint4, int2, uint2, float8 "
                  "and float4e2m1 are)", qtype_name(x->dtype));
  if (!is_scale_t(s->dtype)) error_node(n, "scale has type %s; float, float16 and bfloat16 are supported", qtype_name(s->dtype));
  if (z && z->dtype != x->dtype) error_node(n, "zero point type %s differs from input type %s", qtype_name(z->dtype), qtype_name(x->dtype));
  DType yt = s->dtype;
  int64_t od = n->opset >= 23 ? attr_int(n, "output_dtype", 0) : 0;
  if (n->opset < 23 && attr_find(n, "output_dtype")) error_node(n, "output_dtype needs opset 23 (model has %d)", n->opset);
  if (od) {
    if (!is_scale_t((DType)od)) error_node(n, "output_dtype %s is not supported", qtype_name((DType)od));
    yt = (DType)od;
  }
  QP *p = xalloc(sizeof *p);
  q_geometry(n, x, s, z, &p->g);
  p->xt = x->dtype;
  p->st = s->dtype;
  p->zt = z ? z->dtype : 0;
  p->yt = yt;
  value_set_shape(n->out[0], yt, x->rank, x->dims);
  n->p = p;
}

static void quantize_eval(Node *n, void *const *in, void *const *out) {
  QP *p = n->p;
  k_quantize(&p->g, in[0], p->xt, in[1], p->st, node_in(n, 2) ? in[2] : NULL, p->zt, p->prec, out[0], p->yt, p->sat);
}

static void dequantize_eval(Node *n, void *const *in, void *const *out) {
  QP *p = n->p;
  k_dequantize(&p->g, in[0], p->xt, in[1], p->st, node_in(n, 2) ? in[2] : NULL, p->zt, out[0], p->yt);
}

static void q_emit(Node *n, Emitter *e) {
  QP *p = n->p;
  const KQGeo *g = &p->g;
  Value *z = node_in(n, 2);
  emit_need(e, "k_qlinear");
  emit(e, "{ static const KQGeo g = {%lld, %lld, %lld, %lld, %lld, %lld, %lld};", (long long)g->outer, (long long)g->alen,
       (long long)g->inner, (long long)g->block, (long long)g->so, (long long)g->sa, (long long)g->si);
  if (n->op == OP_QuantizeLinear)
    emit(e, "  k_quantize(&g, %s, %d, %s, %d, %s, %d, %d, %s, %d, %d); }", eref(e, n->in[0]), p->xt, eref(e, n->in[1]),
         p->st, z ? eref(e, z) : "0", p->zt, p->prec, eref(e, n->out[0]), p->yt, p->sat);
  else
    emit(e, "  k_dequantize(&g, %s, %d, %s, %d, %s, %d, %s, %d); }", eref(e, n->in[0]), p->xt, eref(e, n->in[1]), p->st,
         z ? eref(e, z) : "0", p->zt, eref(e, n->out[0]), p->yt);
}

/* ------------------------------------------------ DynamicQuantizeLinear */

static void dynq_infer(Node *n) {
  Value *x = n->in[0];
  if (x->dtype != DT_FLOAT) error_node(n, "input has type %s; only float is supported", dtype_name(x->dtype));
  value_set_shape(n->out[0], DT_UINT8, x->rank, x->dims);
  if (n->nout > 1 && n->out[1]) value_set_shape(n->out[1], DT_FLOAT, 0, NULL);
  if (n->nout > 2 && n->out[2]) value_set_shape(n->out[2], DT_UINT8, 0, NULL);
  n->scratch_bytes = 8;
}

static void dynq_eval(Node *n, void *const *in, void *const *out) {
  float sc;
  uint8_t zp;
  k_dynquant_f32(n->in[0]->numel, in[0], out[0], &sc, &zp);
  if (n->nout > 1 && n->out[1]) *(float *)out[1] = sc;
  if (n->nout > 2 && n->out[2]) *(uint8_t *)out[2] = zp;
}

static void dynq_emit(Node *n, Emitter *e) {
  emit_need(e, "k_qlinear");
  const char *sc = n->nout > 1 && n->out[1] ? eref(e, n->out[1]) : fmt("(float *)(A + %lld)", (long long)n->scratch_off);
  const char *zp = n->nout > 2 && n->out[2] ? eref(e, n->out[2])
                                            : fmt("(uint8_t *)(A + %lld)", (long long)(n->scratch_off + 4));
  emit(e, "k_dynquant_f32(%lld, %s, %s, %s, %s);", (long long)n->in[0]->numel, eref(e, n->in[0]), eref(e, n->out[0]), sc,
       zp);
}

/* ------------------------------------------- MatMulInteger, QLinearMatMul */

typedef struct QMMP {
  int64_t M, N, K, nb;
  int64_t *offa, *offb;
  int at, bt, azt, bzt, st, yt;
  int64_t azn, bzn, bsn; /* zero point / b scale counts: 1, or M (a) / N (b) */
  int ia_zp, ib, ib_zp;  /* input indices */
  int64_t mult_off, wa_off, wb_off, acc_off; /* scratch layout, bytes */
} QMMP;

static void qmm_batches(Node *n, Value *a, Value *b, QMMP *p) {
  if (a->rank < 1 || b->rank < 1) error_node(n, "scalars are not valid inputs");
  int ar = a->rank, br = b->rank;
  p->M = ar == 1 ? 1 : a->dims[ar - 2];
  p->K = a->dims[ar - 1];
  int64_t kb = br == 1 ? b->dims[0] : b->dims[br - 2];
  p->N = br == 1 ? 1 : b->dims[br - 1];
  if (kb != p->K) error_node(n, "inner dimensions differ (%s, %s)", shape_str(a), shape_str(b));
  Value ba = *a, bb = *b;
  ba.rank = ar > 2 ? ar - 2 : 0;
  bb.rank = br > 2 ? br - 2 : 0;
  Value *bs[2] = {&ba, &bb};
  int r;
  int64_t bd[MAX_RANK], od[MAX_RANK];
  broadcast_shapes(n, bs, 2, &r, bd);
  int orank = 0;
  for (int d = 0; d < r; d++) od[orank++] = bd[d];
  if (ar > 1) od[orank++] = p->M;
  if (br > 1) od[orank++] = p->N;
  p->nb = shape_numel(r, bd);
  p->offa = xalloc(sizeof(int64_t) * (p->nb + 1));
  p->offb = xalloc(sizeof(int64_t) * (p->nb + 1));
  int64_t idx[MAX_RANK] = {0};
  for (int64_t i = 0; i < p->nb; i++) {
    int64_t oa = 0, ob = 0, sa = 1, sb = 1;
    for (int d = r - 1; d >= 0; d--) {
      int da = d - (r - ba.rank), db = d - (r - bb.rank);
      if (da >= 0) {
        if (ba.dims[da] != 1) oa += idx[d] * sa;
        sa *= ba.dims[da];
      }
      if (db >= 0) {
        if (bb.dims[db] != 1) ob += idx[d] * sb;
        sb *= bb.dims[db];
      }
    }
    p->offa[i] = oa * p->M * p->K;
    p->offb[i] = ob * p->K * p->N;
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < bd[d]) break;
      idx[d] = 0;
    }
  }
  value_set_shape(n->out[0], n->out[0]->dtype, orank, od); /* dtype set by the caller first */
}

/* a zero point (or scale) for A: 1 value, or one per row (M) */
static int64_t zp_count(Node *n, Value *z, int64_t per, const char *what) {
  if (!z) return 1;
  if (z->numel == 1) return 1;
  if (z->rank == 1 && z->dims[0] == per) return per;
  error_node(n, "%s %s: only a scalar or a 1-D tensor of %lld values is supported", what, shape_str(z), (long long)per);
}

static int64_t al8(int64_t b) { return (b + 7) / 8 * 8; }

static void qmm_layout(Node *n, QMMP *p, int qlinear) {
  int64_t off = 0;
  p->mult_off = off;
  if (qlinear) off += al8(8 * p->N);
  p->wa_off = off;
  off += al8(4 * n->in[0]->numel);
  p->wb_off = off;
  off += al8(4 * n->in[p->ib]->numel);
  p->acc_off = off;
  if (qlinear) off += al8(4 * p->M * p->N);
  n->scratch_bytes = off;
  n->macs = p->nb * p->M * p->N * p->K;
}

static void matmulint_infer(Node *n) {
  Value *a = n->in[0], *b = n->in[1], *az = node_in(n, 2), *bz = node_in(n, 3);
  if (!is_u8i8(a->dtype) || !is_u8i8(b->dtype))
    error_node(n, "inputs have types %s and %s; int8 and uint8 are supported", qtype_name(a->dtype), qtype_name(b->dtype));
  if (az && az->dtype != a->dtype) error_node(n, "a_zero_point type differs from A");
  if (bz && bz->dtype != b->dtype) error_node(n, "b_zero_point type differs from B");
  QMMP *p = xalloc(sizeof *p);
  p->ib = 1;
  p->ia_zp = 2;
  p->ib_zp = 3;
  n->out[0]->dtype = DT_INT32;
  qmm_batches(n, a, b, p);
  p->at = a->dtype;
  p->bt = b->dtype;
  p->azt = az ? az->dtype : 0;
  p->bzt = bz ? bz->dtype : 0;
  p->azn = zp_count(n, az, p->M, "a_zero_point");
  p->bzn = zp_count(n, bz, p->N, "b_zero_point");
  qmm_layout(n, p, 0);
  n->p = p;
}

static void qlinearmm_infer(Node *n) {
  Value *a = n->in[0], *as = n->in[1], *az = n->in[2], *b = n->in[3], *bs = n->in[4], *bz = n->in[5], *ys = n->in[6],
        *yz = n->in[7];
  if (!is_u8i8(a->dtype) || !is_u8i8(b->dtype))
    error_node(n, "inputs have types %s and %s; int8 and uint8 are supported", qtype_name(a->dtype), qtype_name(b->dtype));
  if (az->dtype != a->dtype || bz->dtype != b->dtype) error_node(n, "zero point types differ from their inputs");
  if (!is_u8i8(yz->dtype)) error_node(n, "y_zero_point type %s is not supported", qtype_name(yz->dtype));
  if (!is_scale_t(as->dtype) || as->dtype != bs->dtype || as->dtype != ys->dtype)
    error_node(n, "scales must share one float type (got %s, %s, %s)", qtype_name(as->dtype), qtype_name(bs->dtype),
               qtype_name(ys->dtype));
  QMMP *p = xalloc(sizeof *p);
  p->ib = 3;
  p->ia_zp = 2;
  p->ib_zp = 5;
  n->out[0]->dtype = yz->dtype;
  qmm_batches(n, a, b, p);
  if (as->numel != 1) error_node(n, "a_scale %s: only a per-tensor scale is supported", shape_str(as));
  if (az->numel != 1) error_node(n, "a_zero_point %s: only a per-tensor zero point is supported", shape_str(az));
  if (ys->numel != 1 || yz->numel != 1) error_node(n, "y_scale and y_zero_point must be scalars");
  p->bsn = zp_count(n, bs, p->N, "b_scale");
  p->bzn = zp_count(n, bz, p->N, "b_zero_point");
  p->azn = 1;
  p->at = a->dtype;
  p->bt = b->dtype;
  p->azt = az->dtype;
  p->bzt = bz->dtype;
  p->st = as->dtype;
  p->yt = yz->dtype;
  qmm_layout(n, p, 1);
  n->p = p;
}

/* the whole op on scratch S (bytes): widen, per batch GEMM (+ requantize) */
static void qmm_run(Node *n, void *const *in, void *y, char *S) {
  QMMP *p = n->p;
  int q = n->op == OP_QLinearMatMul;
  Value *a = n->in[0], *b = n->in[p->ib];
  const void *az = node_in(n, p->ia_zp) ? in[p->ia_zp] : NULL, *bz = node_in(n, p->ib_zp) ? in[p->ib_zp] : NULL;
  int32_t *wa = (int32_t *)(S + p->wa_off), *wb = (int32_t *)(S + p->wb_off);
  double *mult = (double *)(S + p->mult_off);
  k_q_widen(a->numel / p->K, p->K, in[0], p->at, az, p->azt, p->azn > 1 ? p->M : 1, p->azn > 1 ? 1 : 0, 0, wa);
  k_q_widen(b->numel / p->N, p->N, in[p->ib], p->bt, bz, p->bzt, 1, 0, p->bzn > 1 ? 1 : 0, wb);
  if (q)
    for (int64_t j = 0; j < p->N; j++)
      mult[j] = kq_mult(kq_rd(in[1], p->st, 0), kq_rd(in[4], p->st, p->bsn > 1 ? j : 0), kq_rd(in[6], p->st, 0), p->st);
  for (int64_t i = 0; i < p->nb; i++) {
    if (!q) {
      k_qgemm_i32(p->M, p->N, p->K, wa + p->offa[i], wb + p->offb[i], (int32_t *)y + i * p->M * p->N);
      continue;
    }
    int32_t *acc = (int32_t *)(S + p->acc_off);
    k_qgemm_i32(p->M, p->N, p->K, wa + p->offa[i], wb + p->offb[i], acc);
    k_q_requant(p->M * p->N, acc, mult, 1, p->N, (double)kq_rdi(in[7], p->yt, 0), y, p->yt, i * p->M * p->N);
  }
}

static void qmm_eval(Node *n, void *const *in, void *const *out) {
  char *S = xalloc((size_t)n->scratch_bytes + 8);
  qmm_run(n, in, out[0], S);
  free(S);
}

static void qmm_emit(Node *n, Emitter *e) {
  QMMP *p = n->p;
  int q = n->op == OP_QLinearMatMul;
  Value *a = n->in[0], *b = n->in[p->ib], *az = node_in(n, p->ia_zp), *bz = node_in(n, p->ib_zp);
  long long so = n->scratch_off;
  emit_need(e, "k_qlinear");
  emit(e, "{ int32_t *wa = (int32_t *)(A + %lld), *wb = (int32_t *)(A + %lld);", so + p->wa_off, so + p->wb_off);
  emit(e, "  k_q_widen(%lld, %lld, %s, %d, %s, %d, %lld, %d, 0, wa);", (long long)(a->numel / p->K), (long long)p->K,
       eref(e, a), p->at, az ? eref(e, az) : "0", p->azt, (long long)(p->azn > 1 ? p->M : 1), p->azn > 1 ? 1 : 0);
  emit(e, "  k_q_widen(%lld, %lld, %s, %d, %s, %d, 1, 0, %d, wb);", (long long)(b->numel / p->N), (long long)p->N,
       eref(e, b), p->bt, bz ? eref(e, bz) : "0", p->bzt, p->bzn > 1 ? 1 : 0);
  const char *y = eref(e, n->out[0]);
  if (q) {
    emit(e, "  { double *mult = (double *)(A + %lld); int32_t *acc = (int32_t *)(A + %lld); int64_t j;", so + p->mult_off,
         so + p->acc_off);
    emit(e, "    for (j = 0; j < %lld; j++) mult[j] = kq_mult(kq_rd(%s, %d, 0), kq_rd(%s, %d, %s), kq_rd(%s, %d, 0), %d);",
         (long long)p->N, eref(e, n->in[1]), p->st, eref(e, n->in[4]), p->st, p->bsn > 1 ? "j" : "0", eref(e, n->in[6]),
         p->st, p->st);
  }
  int64_t sa, sb;
  int uni = 1;
  sa = p->nb > 1 ? p->offa[1] - p->offa[0] : 0;
  sb = p->nb > 1 ? p->offb[1] - p->offb[0] : 0;
  for (int64_t i = 1; i < p->nb; i++)
    if (p->offa[i] - p->offa[i - 1] != sa || p->offb[i] - p->offb[i - 1] != sb) uni = 0;
  const char *oa, *ob;
  if (uni) {
    oa = fmt("i * %lld", (long long)sa);
    ob = fmt("i * %lld", (long long)sb);
  } else {
    oa = fmt("%s[i]", emit_i64s(e, p->offa, (int)p->nb));
    ob = fmt("%s[i]", emit_i64s(e, p->offb, (int)p->nb));
  }
  emit(e, "  { int64_t i; for (i = 0; i < %lld; i++) {", (long long)p->nb);
  if (!q)
    emit(e, "    k_qgemm_i32(%lld, %lld, %lld, wa + %s, wb + %s, %s + i * %lld);", (long long)p->M, (long long)p->N,
         (long long)p->K, oa, ob, y, (long long)(p->M * p->N));
  else {
    emit(e, "    k_qgemm_i32(%lld, %lld, %lld, wa + %s, wb + %s, acc);", (long long)p->M, (long long)p->N, (long long)p->K,
         oa, ob);
    emit(e, "    k_q_requant(%lld, acc, mult, 1, %lld, (double)kq_rdi(%s, %d, 0), %s, %d, i * %lld);",
         (long long)(p->M * p->N), (long long)p->N, eref(e, n->in[7]), p->yt, y, p->yt, (long long)(p->M * p->N));
  }
  emit(e, "  } }%s }", q ? " }" : "");
}

/* --------------------------------------------- ConvInteger, QLinearConv */

typedef struct QCP {
  KQConv s;
  int ix, ixz, iw, iwz; /* input indices */
  int xt, wt, xzt, wzt, st, yt;
  int64_t wzn, wsn;
  int64_t mult_off, conv_off;
} QCP;

static void qconv_setup(Node *n, int ix, int ixz, int iw, int iwz, QCP *p, DType yt) {
  Value *x = n->in[ix], *w = n->in[iw], *xz = node_in(n, ixz), *wz = node_in(n, iwz);
  if (!is_u8i8(x->dtype) || !is_u8i8(w->dtype))
    error_node(n, "x and w have types %s and %s; int8 and uint8 are supported", qtype_name(x->dtype), qtype_name(w->dtype));
  if (xz && xz->dtype != x->dtype) error_node(n, "x zero point type differs from x");
  if (wz && wz->dtype != w->dtype) error_node(n, "w zero point type differs from w");
  if (x->rank != w->rank) error_node(n, "input rank %d and weight rank %d differ", x->rank, w->rank);
  int nsp = x->rank - 2;
  if (nsp < 1 || nsp > 2) error_node(n, "only 1-D and 2-D convolutions are supported (input %s)", shape_str(x));
  int64_t G = attr_int(n, "group", 1);
  if (G <= 0 || x->dims[1] % G || w->dims[0] % G) error_node(n, "group %lld does not divide channels", (long long)G);
  if (w->dims[1] * G != x->dims[1])
    error_node(n, "weight %s does not match input %s with group %lld", shape_str(w), shape_str(x), (long long)G);
  if (xz && xz->numel != 1) error_node(n, "x zero point %s must be a scalar", shape_str(xz));
  p->wzn = wz ? wz->numel : 1;
  if (p->wzn != 1 && p->wzn != w->dims[0]) error_node(n, "w zero point %s must be a scalar or one per output channel", shape_str(wz));
  int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK], pb[MAX_RANK], pe[MAX_RANK], out[MAX_RANK];
  conv_geometry(n, nsp, w->dims + 2, k, st, dil);
  for (int d = 0; d < nsp; d++)
    if (k[d] != w->dims[2 + d]) error_node(n, "kernel_shape does not match weight %s", shape_str(w));
  conv_pads(n, nsp, x->dims + 2, k, st, dil, 0, pb, pe, out);
  KQConv *s = &p->s;
  s->N = x->dims[0], s->C = x->dims[1], s->M = w->dims[0], s->G = G;
  if (nsp == 1) {
    s->H = 1, s->W = x->dims[2], s->OH = 1, s->OW = out[0], s->KH = 1, s->KW = k[0], s->SH = 1, s->SW = st[0];
    s->PT = 0, s->PL = pb[0], s->DH = 1, s->DW = dil[0];
  } else {
    s->H = x->dims[2], s->W = x->dims[3], s->OH = out[0], s->OW = out[1], s->KH = k[0], s->KW = k[1];
    s->SH = st[0], s->SW = st[1], s->PT = pb[0], s->PL = pb[1], s->DH = dil[0], s->DW = dil[1];
  }
  int64_t od[4] = {s->N, s->M, out[0], out[1]};
  value_set_shape(n->out[0], yt, x->rank, od);
  p->ix = ix, p->ixz = ixz, p->iw = iw, p->iwz = iwz;
  p->xt = x->dtype, p->wt = w->dtype, p->xzt = xz ? xz->dtype : 0, p->wzt = wz ? wz->dtype : 0;
  p->yt = yt;
  n->macs = s->N * s->M * s->OH * s->OW * (s->C / G) * s->KH * s->KW;
}

static void convint_infer(Node *n) {
  QCP *p = xalloc(sizeof *p);
  qconv_setup(n, 0, 2, 1, 3, p, DT_INT32);
  p->mult_off = 0;
  p->conv_off = 0;
  n->scratch_bytes = 4 * k_qconv_scratch(&p->s);
  n->p = p;
}

static void qlinearconv_infer(Node *n) {
  Value *xs = n->in[1], *ws = n->in[4], *ys = n->in[6], *yz = n->in[7], *b = node_in(n, 8);
  QCP *p = xalloc(sizeof *p);
  if (!is_u8i8(yz->dtype)) error_node(n, "y_zero_point type %s is not supported", qtype_name(yz->dtype));
  qconv_setup(n, 0, 2, 3, 5, p, yz->dtype);
  if (!is_scale_t(xs->dtype) || xs->dtype != ws->dtype || xs->dtype != ys->dtype)
    error_node(n, "scales must share one float type (got %s, %s, %s)", qtype_name(xs->dtype), qtype_name(ws->dtype),
               qtype_name(ys->dtype));
  if (xs->numel != 1 || ys->numel != 1 || yz->numel != 1) error_node(n, "x_scale, y_scale and y_zero_point must be scalars");
  p->wsn = ws->numel;
  if (p->wsn != 1 && p->wsn != p->s.M) error_node(n, "w_scale %s must be a scalar or one per output channel", shape_str(ws));
  if (b && (b->dtype != DT_INT32 || b->numel != p->s.M)) error_node(n, "bias must be int32 with one value per output channel");
  p->st = xs->dtype;
  p->mult_off = 0;
  p->conv_off = al8(8 * p->s.M);
  n->scratch_bytes = p->conv_off + 4 * k_qconv_scratch(&p->s);
  n->p = p;
}

static void qconv_eval(Node *n, void *const *in, void *const *out) {
  QCP *p = n->p;
  char *S = xalloc((size_t)n->scratch_bytes + 8);
  double *mult = NULL;
  const int32_t *bias = NULL;
  double yzp = 0;
  if (n->op == OP_QLinearConv) {
    mult = (double *)(S + p->mult_off);
    for (int64_t m = 0; m < p->s.M; m++)
      mult[m] = kq_mult(kq_rd(in[1], p->st, 0), kq_rd(in[4], p->st, p->wsn > 1 ? m : 0), kq_rd(in[6], p->st, 0), p->st);
    yzp = kq_rdi(in[7], p->yt, 0);
    if (node_in(n, 8)) bias = in[8];
  }
  k_qconv(&p->s, in[p->ix], p->xt, node_in(n, p->ixz) ? in[p->ixz] : NULL, p->xzt, in[p->iw], p->wt,
          node_in(n, p->iwz) ? in[p->iwz] : NULL, p->wzt, p->wzn, bias, mult, yzp, out[0], p->yt,
          (int32_t *)(S + p->conv_off));
  free(S);
}

static void qconv_emit(Node *n, Emitter *e) {
  QCP *p = n->p;
  const KQConv *s = &p->s;
  int q = n->op == OP_QLinearConv;
  Value *xz = node_in(n, p->ixz), *wz = node_in(n, p->iwz), *b = q ? node_in(n, 8) : NULL;
  long long so = n->scratch_off;
  emit_need(e, "k_qlinear");
  emit(e, "{ static const KQConv s = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld};",
       (long long)s->N, (long long)s->C, (long long)s->H, (long long)s->W, (long long)s->M, (long long)s->OH,
       (long long)s->OW, (long long)s->KH, (long long)s->KW, (long long)s->SH, (long long)s->SW, (long long)s->PT,
       (long long)s->PL, (long long)s->DH, (long long)s->DW, (long long)s->G);
  const char *mult = "0", *yzp = "0";
  if (q) {
    emit(e, "  double *mult = (double *)(A + %lld); int64_t m;", so + p->mult_off);
    emit(e, "  for (m = 0; m < %lld; m++) mult[m] = kq_mult(kq_rd(%s, %d, 0), kq_rd(%s, %d, %s), kq_rd(%s, %d, 0), %d);",
         (long long)s->M, eref(e, n->in[1]), p->st, eref(e, n->in[4]), p->st, p->wsn > 1 ? "m" : "0", eref(e, n->in[6]),
         p->st, p->st);
    mult = "mult";
    yzp = fmt("(double)kq_rdi(%s, %d, 0)", eref(e, n->in[7]), p->yt);
  }
  emit(e, "  k_qconv(&s, %s, %d, %s, %d, %s, %d, %s, %d, %lld, %s, %s, %s, %s, %d, (int32_t *)(A + %lld)); }",
       eref(e, n->in[p->ix]), p->xt, xz ? eref(e, xz) : "0", p->xzt, eref(e, n->in[p->iw]), p->wt, wz ? eref(e, wz) : "0",
       p->wzt, (long long)p->wzn, b ? eref(e, b) : "0", mult, yzp, eref(e, n->out[0]), p->yt, so + p->conv_off);
}

const OpDef opdef_QuantizeLinear = {"axis,saturate,block_size,output_dtype,precision", 2, 3, 1, 1, quantize_infer,
                                    quantize_eval, q_emit, 0};
const OpDef opdef_DequantizeLinear = {"axis,block_size,output_dtype", 2, 3, 1, 1, dequantize_infer, dequantize_eval, q_emit, 0};
const OpDef opdef_DynamicQuantizeLinear = {"", 1, 1, 1, 3, dynq_infer, dynq_eval, dynq_emit, 0};
const OpDef opdef_MatMulInteger = {"", 2, 4, 1, 1, matmulint_infer, qmm_eval, qmm_emit, 0};
const OpDef opdef_QLinearMatMul = {"", 8, 8, 1, 1, qlinearmm_infer, qmm_eval, qmm_emit, 0};
const OpDef opdef_ConvInteger = {"auto_pad,dilations,group,kernel_shape,pads,strides", 2, 4, 1, 1, convint_infer,
                                 qconv_eval, qconv_emit, 0};
const OpDef opdef_QLinearConv = {"auto_pad,dilations,group,kernel_shape,pads,strides", 8, 9, 1, 1, qlinearconv_infer,
                                 qconv_eval, qconv_emit, 0};
