/*
 * op_grid.c: GridSample (16: 2-D bilinear/nearest/bicubic; 20: N-D
 * linear/nearest/cubic), AffineGrid (20), RoiAlign (10; 16 adds
 * coordinate_transformation_mode, whose default half_pixel differs from
 * opset 10's behaviour), Col2Im (18) and DeformConv (19, 2-D), float32, on
 * runtime/k_grid.h.  AffineGrid's size and Col2Im's image_shape /
 * block_shape decide the output shape and must be constant.
 */
#include "mrtc.h"
#include "k_grid.h"

#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- GridSample */

static void gs_infer(Node *n) {
  Value *x = n->in[0], *g = n->in[1];
  need_float(n, 0);
  need_float(n, 1);
  int r = x->rank - 2;
  if (r < 1 || r > MRTC_GRID_MAXR) error_node(n, "input %s: 1 to %d spatial dims are supported", shape_str(x), MRTC_GRID_MAXR);
  if (n->opset < 20 && r != 2) error_node(n, "input %s: GridSample before opset 20 is 2-D only", shape_str(x));
  if (g->rank != x->rank || g->dims[0] != x->dims[0] || g->dims[g->rank - 1] != r)
    error_node(n, "grid %s does not match input %s", shape_str(g), shape_str(x));
  KGrid *p = xalloc(sizeof *p);
  const char *mode = attr_str(n, "mode", n->opset >= 20 ? "linear" : "bilinear");
  const char *pad = attr_str(n, "padding_mode", "zeros");
  if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) p->mode = 0;
  else if (!strcmp(mode, "nearest")) p->mode = 1;
  else if (!strcmp(mode, "cubic") || !strcmp(mode, "bicubic")) p->mode = 2;
  else error_node(n, "mode '%s' is not supported", mode);
  if (!strcmp(pad, "zeros")) p->pad = 0;
  else if (!strcmp(pad, "border")) p->pad = 1;
  else if (!strcmp(pad, "reflection")) p->pad = 2;
  else error_node(n, "padding_mode '%s' is not supported", pad);
  p->align = (int)attr_int(n, "align_corners", 0);
  p->N = x->dims[0];
  p->C = x->dims[1];
  p->r = r;
  for (int d = 0; d < r; d++) p->dims[d] = x->dims[2 + d];
  p->P = shape_numel(r, g->dims + 1);
  int64_t od[MAX_RANK];
  od[0] = p->N, od[1] = p->C;
  for (int d = 0; d < r; d++) od[2 + d] = g->dims[1 + d];
  value_set_shape(n->out[0], DT_FLOAT, x->rank, od);
  n->p = p;
}

static void gs_eval(Node *n, void *const *in, void *const *out) { k_gridsample_f32(n->p, in[0], in[1], out[0]); }

static void gs_emit(Node *n, Emitter *e) {
  KGrid *p = n->p;
  Buf d = {0};
  for (int i = 0; i < MRTC_GRID_MAXR; i++) buf_printf(&d, "%s%lld", i ? ", " : "", (long long)(i < p->r ? p->dims[i] : 0));
  emit_need(e, "k_grid");
  emit(e, "{ static const KGrid g = {%lld, %lld, %lld, %lld, {%s}, %d, %d, %d};", (long long)p->N, (long long)p->C,
       (long long)p->r, (long long)p->P, d.s, p->mode, p->pad, p->align);
  emit(e, "  k_gridsample_f32(&g, %s, %s, %s); }", eref(e, n->in[0]), eref(e, n->in[1]), eref(e, n->out[0]));
}

/* ----------------------------------------------------------- AffineGrid */

typedef struct AffP {
  int64_t N, dims[3];
  int r, align;
} AffP;

static void aff_infer(Node *n) {
  Value *t = n->in[0];
  need_float(n, 0);
  int c;
  int64_t *sz = const_ints(n, 1, &c);
  if (c != 4 && c != 5) error_node(n, "size must have 4 (2-D) or 5 (3-D) values, got %d", c);
  AffP *p = xalloc(sizeof *p);
  p->r = c - 2;
  p->N = sz[0];
  if (t->rank != 3 || t->dims[0] != p->N || t->dims[1] != p->r || t->dims[2] != p->r + 1)
    error_node(n, "theta %s does not match size (expected [%lld, %d, %d])", shape_str(t), (long long)p->N, p->r, p->r + 1);
  for (int d = 0; d < p->r; d++) {
    p->dims[d] = sz[2 + d];
    if (p->dims[d] <= 0) error_node(n, "size has a non-positive spatial dim");
  }
  p->align = (int)attr_int(n, "align_corners", 0);
  int64_t od[5];
  od[0] = p->N;
  for (int d = 0; d < p->r; d++) od[1 + d] = p->dims[d];
  od[1 + p->r] = p->r;
  value_set_shape(n->out[0], DT_FLOAT, p->r + 2, od);
  n->p = p;
}

static void aff_eval(Node *n, void *const *in, void *const *out) {
  AffP *p = n->p;
  k_affine_grid_f32(p->N, p->r, p->dims, p->align, in[0], out[0]);
}

static void aff_emit(Node *n, Emitter *e) {
  AffP *p = n->p;
  emit_need(e, "k_grid");
  emit(e, "{ static const int64_t dims[3] = {%lld, %lld, %lld};", (long long)p->dims[0], (long long)p->dims[1],
       (long long)p->dims[2]);
  emit(e, "  k_affine_grid_f32(%lld, %d, dims, %d, %s, %s); }", (long long)p->N, p->r, p->align, eref(e, n->in[0]),
       eref(e, n->out[0]));
}

/* ------------------------------------------------------------- RoiAlign */

typedef struct RoiP {
  int64_t N, C, H, W, R, OH, OW, sampling;
  float scale;
  int half_pixel, maxmode;
} RoiP;

static void roi_infer(Node *n) {
  Value *x = n->in[0], *rois = n->in[1], *bi = n->in[2];
  need_float(n, 0);
  need_float(n, 1);
  if (x->rank != 4) error_node(n, "input %s must be 4-D", shape_str(x));
  if (rois->rank != 2 || rois->dims[1] != 4) error_node(n, "rois %s must be [num_rois, 4]", shape_str(rois));
  if (bi->dtype != DT_INT64 || bi->rank != 1 || bi->dims[0] != rois->dims[0])
    error_node(n, "batch_indices %s must be int64 [num_rois]", shape_str(bi));
  RoiP *p = xalloc(sizeof *p);
  p->N = x->dims[0], p->C = x->dims[1], p->H = x->dims[2], p->W = x->dims[3], p->R = rois->dims[0];
  p->OH = attr_int(n, "output_height", 1);
  p->OW = attr_int(n, "output_width", 1);
  p->sampling = attr_int(n, "sampling_ratio", 0);
  p->scale = attr_float(n, "spatial_scale", 1.0f);
  if (p->OH <= 0 || p->OW <= 0 || p->sampling < 0) error_node(n, "output sizes must be positive and sampling_ratio >= 0");
  const char *mode = attr_str(n, "mode", "avg");
  if (!strcmp(mode, "avg")) p->maxmode = 0;
  else if (!strcmp(mode, "max")) p->maxmode = 1;
  else error_node(n, "mode '%s' is not supported", mode);
  if (n->opset < 16) {
    if (attr_find(n, "coordinate_transformation_mode")) error_node(n, "coordinate_transformation_mode needs opset 16");
    p->half_pixel = 0;
  } else {
    const char *ct = attr_str(n, "coordinate_transformation_mode", "half_pixel");
    if (!strcmp(ct, "half_pixel")) p->half_pixel = 1;
    else if (!strcmp(ct, "output_half_pixel")) p->half_pixel = 0;
    else error_node(n, "coordinate_transformation_mode '%s' is not supported", ct);
  }
  int64_t od[4] = {p->R, p->C, p->OH, p->OW};
  value_set_shape(n->out[0], DT_FLOAT, 4, od);
  n->p = p;
}

static void roi_eval(Node *n, void *const *in, void *const *out) {
  RoiP *p = n->p;
  k_roialign_f32(p->N, p->C, p->H, p->W, p->R, p->OH, p->OW, p->sampling, p->scale, p->half_pixel, p->maxmode, in[0],
                 in[1], in[2], out[0]);
}

static void roi_emit(Node *n, Emitter *e) {
  RoiP *p = n->p;
  emit_need(e, "k_grid");
  emit(e, "k_roialign_f32(%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %s, %d, %d, %s, %s, %s, %s);", (long long)p->N,
       (long long)p->C, (long long)p->H, (long long)p->W, (long long)p->R, (long long)p->OH, (long long)p->OW,
       (long long)p->sampling, fmt_float(p->scale), p->half_pixel, p->maxmode, eref(e, n->in[0]), eref(e, n->in[1]),
       eref(e, n->in[2]), eref(e, n->out[0]));
}

/* --------------------------------------------------------------- Col2Im */

typedef struct C2IP {
  int64_t N, C;
  int r;
  int64_t img[MAX_RANK], blk[MAX_RANK], nb[MAX_RANK], dil[MAX_RANK], padb[MAX_RANK], str[MAX_RANK];
} C2IP;

static void c2i_infer(Node *n) {
  Value *x = n->in[0];
  need_float(n, 0);
  int ci, cb;
  int64_t *img = const_ints(n, 1, &ci), *blk = const_ints(n, 2, &cb);
  if (ci != cb || ci < 1 || ci > MAX_RANK - 2) error_node(n, "image_shape and block_shape must have the same length (1 to %d)", MAX_RANK - 2);
  if (x->rank != 3) error_node(n, "input %s must be [N, C*prod(block_shape), L]", shape_str(x));
  C2IP *p = xalloc(sizeof *p);
  p->r = ci;
  int64_t pads[2 * MAX_RANK], K = 1, L = 1;
  for (int d = 0; d < ci; d++) p->dil[d] = p->str[d] = 1, pads[d] = pads[d + ci] = 0;
  int c = attr_ints(n, "dilations", p->dil, MAX_RANK);
  if (c >= 0 && c != ci) error_node(n, "dilations has %d values, expected %d", c, ci);
  c = attr_ints(n, "strides", p->str, MAX_RANK);
  if (c >= 0 && c != ci) error_node(n, "strides has %d values, expected %d", c, ci);
  c = attr_ints(n, "pads", pads, 2 * MAX_RANK);
  if (c >= 0 && c != 2 * ci) error_node(n, "pads has %d values, expected %d", c, 2 * ci);
  for (int d = 0; d < ci; d++) {
    p->img[d] = img[d], p->blk[d] = blk[d], p->padb[d] = pads[d];
    if (img[d] <= 0 || blk[d] <= 0 || p->dil[d] <= 0 || p->str[d] <= 0) error_node(n, "shapes, dilations and strides must be positive");
    p->nb[d] = (img[d] + pads[d] + pads[d + ci] - p->dil[d] * (blk[d] - 1) - 1) / p->str[d] + 1;
    if (p->nb[d] <= 0) error_node(n, "no sliding block fits along dim %d", d);
    K *= blk[d];
    L *= p->nb[d];
  }
  if (x->dims[1] % K) error_node(n, "input %s: dim 1 is not a multiple of prod(block_shape) = %lld", shape_str(x), (long long)K);
  if (x->dims[2] != L) error_node(n, "input %s: dim 2 must be the number of blocks, %lld", shape_str(x), (long long)L);
  p->N = x->dims[0];
  p->C = x->dims[1] / K;
  int64_t od[MAX_RANK] = {p->N, p->C};
  for (int d = 0; d < ci; d++) od[2 + d] = img[d];
  value_set_shape(n->out[0], DT_FLOAT, ci + 2, od);
  n->p = p;
}

static void c2i_eval(Node *n, void *const *in, void *const *out) {
  C2IP *p = n->p;
  k_col2im_f32(p->N, p->C, p->r, p->img, p->blk, p->nb, p->dil, p->padb, p->str, in[0], out[0]);
}

static void c2i_emit(Node *n, Emitter *e) {
  C2IP *p = n->p;
  emit_need(e, "k_grid");
  emit(e, "k_col2im_f32(%lld, %lld, %d, %s, %s, %s, %s, %s, %s, %s, %s);", (long long)p->N, (long long)p->C, p->r,
       emit_i64s(e, p->img, p->r), emit_i64s(e, p->blk, p->r), emit_i64s(e, p->nb, p->r), emit_i64s(e, p->dil, p->r),
       emit_i64s(e, p->padb, p->r), emit_i64s(e, p->str, p->r), eref(e, n->in[0]), eref(e, n->out[0]));
}

/* ----------------------------------------------------------- DeformConv */

static void dc_infer(Node *n) {
  Value *x = n->in[0], *w = n->in[1], *off = n->in[2], *b = node_in(n, 3), *m = node_in(n, 4);
  for (int i = 0; i < 5; i++) need_float(n, i);
  if (x->rank != 4 || w->rank != 4) error_node(n, "only 2-D deformable convolution is supported (input %s)", shape_str(x));
  KDeform *s = xalloc(sizeof *s);
  s->N = x->dims[0], s->C = x->dims[1], s->H = x->dims[2], s->W = x->dims[3], s->M = w->dims[0];
  s->G = attr_int(n, "group", 1);
  s->OG = attr_int(n, "offset_group", 1);
  if (s->G <= 0 || s->C % s->G || s->M % s->G || w->dims[1] * s->G != s->C)
    error_node(n, "weight %s does not match input %s with group %lld", shape_str(w), shape_str(x), (long long)s->G);
  if (s->OG <= 0 || s->C % s->OG) error_node(n, "offset_group %lld does not divide the channels", (long long)s->OG);
  int64_t k[MAX_RANK], st[MAX_RANK], dil[MAX_RANK], pads[4] = {0, 0, 0, 0};
  conv_geometry(n, 2, w->dims + 2, k, st, dil);
  if (k[0] != w->dims[2] || k[1] != w->dims[3]) error_node(n, "kernel_shape does not match weight %s", shape_str(w));
  int c = attr_ints(n, "pads", pads, 4);
  if (c >= 0 && c != 4) error_node(n, "pads has %d values, expected 4", c);
  s->KH = k[0], s->KW = k[1], s->SH = st[0], s->SW = st[1], s->DH = dil[0], s->DW = dil[1], s->PT = pads[0], s->PL = pads[1];
  s->OH = (s->H + pads[0] + pads[2] - ((s->KH - 1) * s->DH + 1)) / s->SH + 1;
  s->OW = (s->W + pads[1] + pads[3] - ((s->KW - 1) * s->DW + 1)) / s->SW + 1;
  if (s->OH <= 0 || s->OW <= 0) error_node(n, "kernel larger than the padded input");
  int64_t KK = s->KH * s->KW;
  if (off->rank != 4 || off->dims[0] != s->N || off->dims[1] != s->OG * KK * 2 || off->dims[2] != s->OH || off->dims[3] != s->OW)
    error_node(n, "offset %s must be [%lld, %lld, %lld, %lld]", shape_str(off), (long long)s->N, (long long)(s->OG * KK * 2),
               (long long)s->OH, (long long)s->OW);
  if (b && (b->rank != 1 || b->dims[0] != s->M)) error_node(n, "bias %s must be [%lld]", shape_str(b), (long long)s->M);
  if (m && (m->rank != 4 || m->dims[0] != s->N || m->dims[1] != s->OG * KK || m->dims[2] != s->OH || m->dims[3] != s->OW))
    error_node(n, "mask %s does not match the offsets", shape_str(m));
  int64_t od[4] = {s->N, s->M, s->OH, s->OW};
  value_set_shape(n->out[0], DT_FLOAT, 4, od);
  n->scratch_bytes = 4 * s->C * KK * s->OH * s->OW;
  n->macs = s->N * s->M * s->OH * s->OW * (s->C / s->G) * KK;
  n->p = s;
}

static void dc_eval(Node *n, void *const *in, void *const *out) {
  float *col = xalloc((size_t)n->scratch_bytes + 4);
  k_deform_conv_f32(n->p, in[0], in[1], in[2], node_in(n, 4) ? in[4] : NULL, node_in(n, 3) ? in[3] : NULL, out[0], col);
  free(col);
}

static void dc_emit(Node *n, Emitter *e) {
  KDeform *s = n->p;
  Value *b = node_in(n, 3), *m = node_in(n, 4);
  emit_need(e, "k_grid");
  emit(e, "{ static const KDeform s = {%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld};",
       (long long)s->N, (long long)s->C, (long long)s->H, (long long)s->W, (long long)s->M, (long long)s->OH,
       (long long)s->OW, (long long)s->KH, (long long)s->KW, (long long)s->SH, (long long)s->SW, (long long)s->PT,
       (long long)s->PL, (long long)s->DH, (long long)s->DW, (long long)s->G, (long long)s->OG);
  emit(e, "  k_deform_conv_f32(&s, %s, %s, %s, %s, %s, %s, (float *)(A + %lld)); }", eref(e, n->in[0]), eref(e, n->in[1]),
       eref(e, n->in[2]), m ? eref(e, m) : "0", b ? eref(e, b) : "0", eref(e, n->out[0]), (long long)n->scratch_off);
}

const OpDef opdef_GridSample = {"align_corners,mode,padding_mode", 2, 2, 1, 1, gs_infer, gs_eval, gs_emit, 0};
const OpDef opdef_AffineGrid = {"align_corners", 2, 2, 1, 1, aff_infer, aff_eval, aff_emit, 0};
const OpDef opdef_RoiAlign = {"coordinate_transformation_mode,mode,output_height,output_width,sampling_ratio,spatial_scale",
                              3, 3, 1, 1, roi_infer, roi_eval, roi_emit, 0};
const OpDef opdef_Col2Im = {"dilations,pads,strides", 3, 3, 1, 1, c2i_infer, c2i_eval, c2i_emit, 0};
const OpDef opdef_DeformConv = {"dilations,group,kernel_shape,offset_group,pads,strides", 3, 5, 1, 1, dc_infer, dc_eval,
                                dc_emit, 0};
