/*
 * op_convtranspose.c: ConvTranspose (1-D, 2-D and 3-D; groups, strides,
 * dilations, pads, output_padding, output_shape, auto_pad), float.
 *
 * infer resolves the geometry (output size and begin pads per spatial dim,
 * following the spec's equations for output_shape and SAME_*) into a
 * KConvTShape; the kernel (runtime/k_convt.h) is a GEMM per group followed
 * by a col2im scatter-add, with its column block in scratch.
 */
#include "mrtc.h"
#include "k_convt.h"

#include <stdlib.h>
#include <string.h>

typedef struct ConvTP {
  KConvTShape s;
  int64_t packed; /* floats of run-time packed weights at the start of scratch (W not constant) */
} ConvTP;

static void convt_infer(Node *n) {
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  for (int i = 0; i < 3; i++) {
    Value *v = node_in(n, i);
    if (v && v->dtype != DT_FLOAT)
      error_node(n, "input %d ('%s') has type %s; ConvTranspose supports float only", i, v->name, dtype_name(v->dtype));
  }
  if (x->rank != w->rank) error_node(n, "input rank %d and weight rank %d differ", x->rank, w->rank);
  int nsp = x->rank - 2;
  if (nsp < 1 || nsp > 3) error_node(n, "only 1-D, 2-D and 3-D transposed convolutions are supported (input %s)", shape_str(x));
  int64_t G = attr_int(n, "group", 1);
  if (G <= 0 || x->dims[1] % G) error_node(n, "group %lld does not divide the %lld input channels", (long long)G, (long long)x->dims[1]);
  if (w->dims[0] != x->dims[1])
    error_node(n, "weight %s does not match input %s (weight dim 0 must be the input channels)", shape_str(w), shape_str(x));
  int64_t M = w->dims[1] * G;
  if (b && (b->rank != 1 || b->dims[0] != M)) error_node(n, "bias %s does not match %lld output channels", shape_str(b), (long long)M);
  int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK];
  conv_geometry(n, nsp, w->dims + 2, k, st, dil);
  for (int d = 0; d < nsp; d++)
    if (k[d] != w->dims[2 + d]) error_node(n, "kernel_shape does not match weight %s", shape_str(w));
  int64_t opad[MAX_RANK] = {0}, oshape[MAX_RANK], pads[2 * MAX_RANK] = {0};
  int c = attr_ints(n, "output_padding", opad, MAX_RANK);
  if (c >= 0 && c != nsp) error_node(n, "output_padding has %d values, expected %d", c, nsp);
  int nos = attr_ints(n, "output_shape", oshape, MAX_RANK);
  if (nos == nsp + 2) { /* some exporters include N and C */
    memmove(oshape, oshape + 2, sizeof(int64_t) * nsp);
    nos = nsp;
  }
  if (nos >= 0 && nos != nsp) error_node(n, "output_shape has %d values, expected %d", nos, nsp);
  int np = attr_ints(n, "pads", pads, 2 * MAX_RANK);
  if (np >= 0 && np != 2 * nsp) error_node(n, "pads has %d values, expected %d", np, 2 * nsp);
  const char *ap = attr_str(n, "auto_pad", "NOTSET");
  int same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"), upper = !strcmp(ap, "SAME_UPPER");
  if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) error_node(n, "auto_pad '%s' is not valid", ap);
  ConvTP *p = xalloc(sizeof *p);
  KConvTShape *s = &p->s;
  s->N = x->dims[0];
  s->C = x->dims[1];
  s->M = M;
  s->G = G;
  int64_t odims[MAX_RANK] = {s->N, M};
  for (int d = 0; d < 3; d++) s->in[d] = s->out[d] = s->k[d] = s->st[d] = s->dil[d] = 1, s->pb[d] = 0;
  for (int d = 0; d < nsp; d++) {
    int D = 3 - nsp + d; /* right-aligned in the 3-D shape */
    int64_t full = st[d] * (x->dims[2 + d] - 1) + opad[d] + (k[d] - 1) * dil[d] + 1, out, pb;
    if (nos >= 0 || same) {
      out = nos >= 0 ? oshape[d] : x->dims[2 + d] * st[d];
      int64_t tot = full - out;
      int64_t half = tot >= 0 ? tot / 2 : -((-tot + 1) / 2); /* floor(tot / 2) */
      pb = upper ? half : tot - half;
    } else if (!strcmp(ap, "VALID")) {
      out = full;
      pb = 0;
    } else {
      pb = pads[d];
      out = full - pads[d] - pads[d + nsp];
    }
    if (out <= 0) error_node(n, "output size %lld along spatial dim %d", (long long)out, d);
    s->in[D] = x->dims[2 + d];
    s->out[D] = out;
    s->k[D] = k[d];
    s->st[D] = st[d];
    s->dil[D] = dil[d];
    s->pb[D] = pb;
    odims[2 + d] = out;
  }
  value_set_shape(n->out[0], DT_FLOAT, x->rank, odims);
  p->packed = w->data ? 0 : k_convt_packed_size(s);
  n->scratch_bytes = (p->packed + k_convt_scratch(s)) * 4;
  n->macs = s->N * (s->C / G) * M * shape_numel(nsp, x->dims + 2) * s->k[0] * s->k[1] * s->k[2];
  n->p = p;
}

static void convt_eval(Node *n, void *const *in, void *const *out) {
  ConvTP *p = n->p;
  float *col = xalloc((size_t)n->scratch_bytes + 4);
  float *wp = xalloc(sizeof(float) * (size_t)(k_convt_packed_size(&p->s) + 1));
  k_convt_pack_f32(&p->s, in[1], wp);
  k_convt_f32(&p->s, in[0], wp, node_in(n, 2) ? in[2] : NULL, out[0], col + p->packed);
  free(wp);
  free(col);
}

static void convt_emit(Node *n, Emitter *e) {
  ConvTP *p = n->p;
  const KConvTShape *s = &p->s;
  emit_need(e, "k_convt");
  Value *b = node_in(n, 2);
  emit(e, "{ static const KConvTShape s = {%lld, %lld, %lld, %lld, {%lld, %lld, %lld}, {%lld, %lld, %lld}, {%lld, %lld, %lld}, "
          "{%lld, %lld, %lld}, {%lld, %lld, %lld}, {%lld, %lld, %lld}};",
       (long long)s->N, (long long)s->C, (long long)s->M, (long long)s->G, (long long)s->in[0], (long long)s->in[1],
       (long long)s->in[2], (long long)s->out[0], (long long)s->out[1], (long long)s->out[2], (long long)s->k[0],
       (long long)s->k[1], (long long)s->k[2], (long long)s->st[0], (long long)s->st[1], (long long)s->st[2],
       (long long)s->pb[0], (long long)s->pb[1], (long long)s->pb[2], (long long)s->dil[0], (long long)s->dil[1],
       (long long)s->dil[2]);
  Value *w = n->in[1];
  const char *wref, *sc = fmt("(float *)(A + %lld)", (long long)n->scratch_off);
  if (w->data) { /* packed now, not at run time */
    int64_t d[1] = {k_convt_packed_size(s)};
    float *wp = xalloc(sizeof(float) * (size_t)(d[0] + 1));
    k_convt_pack_f32(s, w->data, wp);
    wref = emit_const(e, DT_FLOAT, 1, d, wp);
  } else {
    emit(e, "  k_convt_pack_f32(&s, %s, %s);", eref(e, w), sc);
    wref = sc;
    sc = fmt("(float *)(A + %lld)", (long long)(n->scratch_off + p->packed * 4));
  }
  emit(e, "  k_convt_f32(&s, %s, %s, %s, %s, %s); }", eref(e, n->in[0]), wref, b ? eref(e, b) : "0", eref(e, n->out[0]), sc);
}

const OpDef opdef_ConvTranspose = {"auto_pad,dilations,group,kernel_shape,output_padding,output_shape,pads,strides",
                                   2, 3, 1, 1, convt_infer, convt_eval, convt_emit, 0};
