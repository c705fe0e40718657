/*
 * op_conv.c: Conv (1-D and 2-D; groups, dilations, strides, pads and
 * auto_pad).  Depthwise convolutions (one input channel per group) use
 * runtime/k_dwconv.h; all others runtime/k_conv.h's k_conv_gemm_f32, with
 * the weights packed into GEMM panels at compile time (at run time, into
 * scratch, when they are not constant).  Both apply the epilogue that
 * fuse.c may have absorbed: folded BatchNormalization arrives as new
 * weights and bias, a residual Add as an extra input, an activation as
 * Node.fuse_act, a MaxPool after it (pass_pool.c) as Node.fuse_pool: then
 * runtime/k_convpool.h pools the rows as they come.  The kernel's scratch (an im2col block, a padded plane,
 * run-time packed weights) is reserved in the arena for this node only.
 */
#include "mrtc.h"
#include "k_convpool.h"
#include "k_dwconv.h"
#include "k_wino.h"
#include "k_wino4.h"

#include <stdlib.h>
#include <string.h>

typedef struct ConvP {
  KConvShape s;
  int dw;          /* depthwise: k_dwconv_f32 */
  int wino;        /* 3x3 stride 1, weights transformed at compile time: 2 k_wino_f32 (Winograd F(2x2,3x3)),
                    * 4 k_wino4_f32 (F(4x4,3x3)) */
  int64_t packed;  /* floats of run-time packed weights at the start of scratch (weights not constant) */
} ConvP;

/* auto_pad / pads -> begin/end pads per spatial dim; shared with pooling */
void conv_pads(Node *n, int nsp, const int64_t *in, const int64_t *k, const int64_t *st, const int64_t *dil, int ceil_mode,
               int64_t *pb, int64_t *pe, int64_t *out) {
  const char *ap = attr_str(n, "auto_pad", "NOTSET");
  int64_t pads[2 * MAX_RANK] = {0};
  int np = attr_ints(n, "pads", pads, 2 * MAX_RANK);
  if (np >= 0 && np != 2 * nsp) error_node(n, "pads has %d values, expected %d", np, 2 * nsp);
  for (int d = 0; d < nsp; d++) {
    int64_t ek = (k[d] - 1) * dil[d] + 1;
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
      out[d] = (in[d] + st[d] - 1) / st[d];
      int64_t tot = (out[d] - 1) * st[d] + ek - in[d];
      if (tot < 0) tot = 0;
      pb[d] = !strcmp(ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
      pe[d] = tot - pb[d];
    } else if (!strcmp(ap, "VALID")) {
      pb[d] = pe[d] = 0;
      out[d] = (in[d] - ek) / st[d] + 1;
    } else if (!strcmp(ap, "NOTSET")) {
      pb[d] = pads[d];
      pe[d] = pads[d + nsp];
      if (pb[d] < 0 || pe[d] < 0) error_node(n, "negative pads are not supported");
      int64_t span = in[d] + pb[d] + pe[d] - ek;
      if (span < 0) error_node(n, "kernel larger than padded input");
      out[d] = (ceil_mode ? (span + st[d] - 1) / st[d] : span / st[d]) + 1;
      /* ceil mode: the last window must start inside the input or left pad */
      if (ceil_mode && (out[d] - 1) * st[d] >= in[d] + pb[d]) out[d]--;
    } else
      error_node(n, "auto_pad '%s' is not valid", ap);
    if (out[d] <= 0) error_node(n, "output size %lld along spatial dim %d", (long long)out[d], d);
  }
}

/* reads kernel_shape/strides/dilations with defaults */
void conv_geometry(Node *n, int nsp, const int64_t *wk, int64_t *k, int64_t *st, int64_t *dil) {
  int c = attr_ints(n, "kernel_shape", k, MAX_RANK);
  if (c < 0) {
    if (!wk) error_node(n, "kernel_shape is required");
    memcpy(k, wk, sizeof(int64_t) * nsp);
  } else if (c != nsp)
    error_node(n, "kernel_shape has %d values, expected %d", c, nsp);
  c = attr_ints(n, "strides", st, MAX_RANK);
  if (c < 0) for (int d = 0; d < nsp; d++) st[d] = 1;
  else if (c != nsp) error_node(n, "strides has %d values, expected %d", c, nsp);
  c = attr_ints(n, "dilations", dil, MAX_RANK);
  if (c < 0) for (int d = 0; d < nsp; d++) dil[d] = 1;
  else if (c != nsp) error_node(n, "dilations has %d values, expected %d", c, nsp);
  for (int d = 0; d < nsp; d++)
    if (k[d] <= 0 || st[d] <= 0 || dil[d] <= 0) error_node(n, "kernel_shape, strides and dilations must be positive");
}

static void conv_infer(Node *n) {
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  need_float(n, 0);
  need_float(n, 1);
  need_float(n, 2);
  if (x->rank != w->rank) error_node(n, "input rank %d and weight rank %d differ", x->rank, w->rank);
  int nsp = x->rank - 2;
  if (nsp < 1 || nsp > 2) error_node(n, "only 1-D and 2-D convolutions are supported (input %s)", shape_str(x));
  int64_t G = attr_int(n, "group", 1);
  if (G <= 0 || x->dims[1] % G || w->dims[0] % G) error_node(n, "group %lld does not divide channels", (long long)G);
  if (w->dims[1] * G != x->dims[1])
    error_node(n, "weight %s does not match input %s with group %lld", shape_str(w), shape_str(x), (long long)G);
  if (b && (b->rank != 1 || b->dims[0] != w->dims[0])) error_node(n, "bias %s does not match weight", shape_str(b));
  int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK], pb[MAX_RANK], pe[MAX_RANK], out[MAX_RANK];
  conv_geometry(n, nsp, w->dims + 2, k, st, dil);
  for (int d = 0; d < nsp; d++)
    if (k[d] != w->dims[2 + d]) error_node(n, "kernel_shape does not match weight %s", shape_str(w));
  conv_pads(n, nsp, x->dims + 2, k, st, dil, 0, pb, pe, out);
  ConvP *p = xalloc(sizeof *p);
  KConvShape *s = &p->s;
  s->N = x->dims[0];
  s->C = x->dims[1];
  s->M = w->dims[0];
  s->G = G;
  if (nsp == 1) {
    s->H = 1, s->W = x->dims[2], s->OH = 1, s->OW = out[0], s->KH = 1, s->KW = k[0], s->SH = 1, s->SW = st[0];
    s->PT = 0, s->PL = pb[0], s->DH = 1, s->DW = dil[0];
  } else {
    s->H = x->dims[2], s->W = x->dims[3], s->OH = out[0], s->OW = out[1], s->KH = k[0], s->KW = k[1];
    s->SH = st[0], s->SW = st[1], s->PT = pb[0], s->PL = pb[1], s->DH = dil[0], s->DW = dil[1];
  }
  int64_t odims[MAX_RANK] = {s->N, s->M, out[0], out[1]};
  if (n->fuse_pool[0]) odims[2] = n->fuse_pool[0], odims[3] = n->fuse_pool[1]; /* the absorbed MaxPool's output */
  value_set_shape(n->out[0], DT_FLOAT, x->rank, odims);
  int64_t P = s->OH * s->OW, K = s->C / G * s->KH * s->KW;
  p->dw = s->C == G;
  /* Winograd where it pays: enough channels for the GEMMs, maps of at least 8x8 */
  p->wino = g_winograd && nsp == 2 && G == 1 && w->data && s->KH == 3 && s->KW == 3 && s->SH == 1 && s->SW == 1 &&
                    s->DH == 1 && s->DW == 1 && s->C >= 16 && s->M >= 16 && s->OH >= 8 && s->OW >= 8
                ? 2
                : 0;
  /* F(4x4,3x3) where its tiles do at least 20% fewer multiplies than F(2x2)'s (36 per 4x4 tile against 16
   * per 2x2 tile, partial tiles counted whole: 56x56 44% fewer, 14x14 and 13x13 27%, 10x10 19%) and a block
   * of 16 tiles (or all of them, if fewer) fits the L2 budget */
  if (p->wino && g_winograd >= 4 && (k_wino4_tb(s) >= 16 || k_wino4_tb(s) == (s->OH + 3) / 4 * ((s->OW + 3) / 4)) &&
      36 * ((s->OH + 3) / 4) * ((s->OW + 3) / 4) * 10 <= 8 * 16 * ((s->OH + 1) / 2) * ((s->OW + 1) / 2))
    p->wino = 4;
  p->packed = p->dw || w->data ? 0 : k_conv_packed_size(s);
  n->scratch_bytes =
      (p->packed + (p->wino == 4 ? k_wino4_scratch(s) : p->wino ? k_wino_scratch(s) : p->dw ? k_dwconv_scratch(s) : k_conv_gemm_scratch(s))) * 4;
  if (n->fuse_pool[0]) n->scratch_bytes = k_convpool_scratch(s, (const KPoolGeom *)n->fuse_pool) * 4;
  n->macs = s->N * s->M * P * K;
  n->p = p;
}

/* for pass_pool.c: a Conv whose output rows k_convpool_f32 can compute a band
 * at a time: packed constant weights, one K block (rows computed one by one),
 * a wide 2-D map, no residual */
int conv_pool_fusable(const Node *n) {
  const ConvP *p = n->p;
  if (n->op != OP_Conv || !p || p->dw || p->wino || p->packed || !n->in[1]->data || n->in[0]->rank != 4 || n->fuse_res)
    return 0;
  const KConvShape *s = &p->s;
  return s->G == 1 && !k_conv_is_direct(s) && s->C * s->KH * s->KW <= MRTC_KC && s->OW >= 16 && s->OH * s->OW > 64;
}

static KEpi conv_epi(Node *n, void *const *in) {
  KEpi e = {0};
  e.bias_m = node_in(n, 2) ? in[2] : NULL;
  e.res = n->fuse_res ? in[n->fuse_res] : NULL;
  e.alpha = 1.0f;
  e.act = n->fuse_act;
  e.p0 = n->fuse_p0;
  e.p1 = n->fuse_p1;
  return e;
}

/* Winograd weights: U = G g G^T for F(2x2,3x3) (wino 2) or F(4x4,3x3) (wino 4), packed; the caller frees */
static int64_t wino_packed_size(const ConvP *p) {
  return p->wino == 4 ? k_wino4_packed_size(&p->s) : k_wino_packed_size(&p->s);
}

static float *wino_pack(const ConvP *p, const float *w) {
  float *up = xalloc(sizeof(float) * (size_t)(wino_packed_size(p) + 1));
  float *tmp = xalloc(sizeof(float) * (size_t)(p->s.M * p->s.C + 1));
  (p->wino == 4 ? k_wino4_pack_weights_f32 : k_wino_pack_weights_f32)(&p->s, w, up, tmp);
  free(tmp);
  return up;
}

static void conv_eval(Node *n, void *const *in, void *const *out) {
  ConvP *p = n->p;
  KEpi e = conv_epi(n, in);
  float *scratch = xalloc((size_t)n->scratch_bytes + 4);
  if (p->dw) k_dwconv_f32(&p->s, in[0], in[1], &e, out[0], scratch);
  else if (p->wino) {
    float *up = wino_pack(p, in[1]);
    (p->wino == 4 ? k_wino4_f32 : k_wino_f32)(&p->s, in[0], up, &e, out[0], scratch);
    free(up);
  } else {
    float *wp = xalloc(sizeof(float) * (size_t)(k_conv_packed_size(&p->s) + 1));
    k_conv_pack_weights_f32(&p->s, in[1], wp);
    if (n->fuse_pool[0]) k_convpool_f32(&p->s, (const KPoolGeom *)n->fuse_pool, in[0], wp, &e, out[0], scratch);
    else k_conv_gemm_f32(&p->s, in[0], wp, &e, out[0], scratch + p->packed);
    free(wp);
  }
  free(scratch);
}

static void conv_emit(Node *n, Emitter *e) {
  ConvP *p = n->p;
  const KConvShape *s = &p->s;
  emit_need(e, p->wino == 4 ? "k_wino4" : p->wino ? "k_wino" : p->dw ? "k_dwconv" : n->fuse_pool[0] ? "k_convpool" : "k_conv");
  Value *b = node_in(n, 2), *w = n->in[1];
  const char *sc = fmt("(float *)(A + %lld)", (long long)n->scratch_off), *wref;
  emit(e, "{ static const KConvShape s = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld};",
       (long long)s->N, (long long)s->C, (long long)s->H, (long long)s->W, (long long)s->M, (long long)s->OH,
       (long long)s->OW, (long long)s->KH, (long long)s->KW, (long long)s->SH, (long long)s->SW, (long long)s->PT,
       (long long)s->PL, (long long)s->DH, (long long)s->DW, (long long)s->G);
  emit(e, "  const KEpi ep = {%s, 0, %s, 0, 1.f, %d, %s, %s};", b ? eref(e, b) : "0",
       n->fuse_res ? eref(e, n->in[n->fuse_res]) : "0", n->fuse_act, fmt_float(n->fuse_p0), fmt_float(n->fuse_p1));
  if (p->dw) {
    emit(e, "  k_dwconv_f32(&s, %s, %s, &ep, %s, %s); }", eref(e, n->in[0]), eref(e, w), eref(e, n->out[0]), sc);
    return;
  }
  if (p->wino) { /* U = G g G^T, packed, now */
    int64_t d[1] = {wino_packed_size(p)};
    float *up = wino_pack(p, w->data);
    emit(e, "  %s(&s, %s, %s, &ep, %s, %s); }", p->wino == 4 ? "k_wino4_f32" : "k_wino_f32", eref(e, n->in[0]),
         emit_const(e, DT_FLOAT, 1, d, up), eref(e, n->out[0]), sc);
    free(up);
    return;
  }
  if (w->data) { /* weights packed into GEMM panels now, not at run time */
    int64_t d[1] = {k_conv_packed_size(s)};
    float *wp = xalloc(sizeof(float) * (size_t)(d[0] + 1));
    k_conv_pack_weights_f32(s, w->data, wp);
    wref = emit_const(e, DT_FLOAT, 1, d, wp);
  } else {
    emit(e, "  k_conv_pack_weights_f32(&s, %s, %s);", eref(e, w), sc);
    wref = sc;
    sc = fmt("(float *)(A + %lld)", (long long)(n->scratch_off + p->packed * 4));
  }
  if (n->fuse_pool[0]) {
    const int64_t *q = n->fuse_pool;
    emit(e, "  static const KPoolGeom pg = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld};", (long long)q[0], (long long)q[1],
         (long long)q[2], (long long)q[3], (long long)q[4], (long long)q[5], (long long)q[6], (long long)q[7]);
    emit(e, "  k_convpool_f32(&s, &pg, %s, %s, &ep, %s, %s); }", eref(e, n->in[0]), wref, eref(e, n->out[0]), sc);
    return;
  }
  emit(e, "  k_conv_gemm_f32(&s, %s, %s, &ep, %s, %s); }", eref(e, n->in[0]), wref, eref(e, n->out[0]), sc);
}

const OpDef opdef_Conv = {"auto_pad,dilations,group,kernel_shape,pads,strides", 2, 3, 1, 1, conv_infer, conv_eval, conv_emit, 0};
