/*
 * op_resize.c: Resize (opsets 10, 11, 13, 18, 19) and Upsample (1, 7, 9).
 *
 * Everything that decides where an output element reads from is known at
 * compile time (scales / sizes / roi must be constant: --bind them when
 * they are graph inputs), so infer turns the attributes into per-dimension
 * tap tables (input index + weight per output index, runtime/k_resize.h),
 * computed in double exactly as the ONNX reference does:
 *   coordinate_transformation_mode: half_pixel, half_pixel_symmetric,
 *     pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn,
 *     tf_crop_and_resize (roi, extrapolation_value);
 *   mode nearest (nearest_mode round_prefer_floor/ceil, floor, ceil),
 *     linear, cubic (cubic_coeff_a); exclude_outside; antialias;
 *   axes, keep_aspect_ratio_policy.
 * Opsets before 11 (Resize-10, Upsample) use asymmetric coordinates and,
 * for nearest, floor when upsampling and ceil when downsampling.
 * Neighbours outside the input are clamped to the edge, as the reference's
 * edge padding does.  Nearest works for every dtype (a gather of
 * elements); linear and cubic for float.
 */
#include "mrtc.h"
#include "k_resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ResizeP {
  int rank;
  int nearest;          /* k_resize_nearest (no weights) */
  int64_t idims[MAX_RANK], odims[MAX_RANK], ntap[MAX_RANK];
  int64_t *tidx;
  float *tw;
  int64_t ntab;
  float extrap;
  int64_t rowtaps;      /* scratch entries */
} ResizeP;

enum { CT_HALF, CT_HALF_SYM, CT_PYTORCH, CT_ALIGN, CT_ASYM, CT_TF_NN, CT_CROP };
enum { NM_RPF, NM_RPC, NM_FLOOR, NM_CEIL, NM_SIMPLE };
enum { M_NEAREST, M_LINEAR, M_CUBIC };

static int lookup(Node *n, const char *what, const char *v, const char *const *names, int count) {
  for (int i = 0; i < count; i++)
    if (!strcmp(v, names[i])) return i;
  error_node(n, "%s '%s' is not supported", what, v);
}

static double cubic_w(double x, double A) {
  x = fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/* taps of one output coordinate; returns the count (<= cap), -1 = extrapolate */
static int taps_of(int mode, int nm, int antialias, int excl, double A, double x, double scale, int64_t in, int64_t *ti,
                   double *tw, int cap, Node *n) {
  double base = floor(x), r = x - base;
  int cnt = 0;
  if (mode == M_NEAREST) {
    int64_t i;
    switch (nm) {
    case NM_RPF: i = (int64_t)ceil(x - 0.5); break;
    case NM_RPC: i = (int64_t)floor(x + 0.5); break;
    case NM_FLOOR: i = (int64_t)floor(x); break;
    case NM_CEIL: i = (int64_t)ceil(x); break;
    default: i = scale < 1 ? (int64_t)ceil(x) : (int64_t)x; break;
    }
    ti[0] = i < 0 ? 0 : i >= in ? in - 1 : i;
    tw[0] = 1;
    return 1;
  }
  if (r == 0) { /* the reference keeps the ratio in (0, 1] */
    r = 1;
    base -= 1;
  }
  double sc = antialias && scale < 1 ? scale : 1;
  int64_t start, end;
  if (mode == M_LINEAR) {
    start = (int64_t)floor(-1 / sc) + 1;
    end = 2 - start;
  } else {
    start = (int64_t)floor(-2 / sc) + 1;
    end = 2 - start;
  }
  if (end - start > cap) error_node(n, "antialias footprint of %lld taps is too large", (long long)(end - start));
  double sum = 0;
  for (int64_t i = start; i < end; i++) {
    double a = (i - r) * sc, w;
    if (mode == M_LINEAR) {
      w = 1 - fabs(a);
      if (w < 0) w = 0;
    } else
      w = cubic_w(a, A);
    int64_t p = (int64_t)base + i;
    if (excl && (p < 0 || p >= in)) w = 0;
    ti[cnt] = p < 0 ? 0 : p >= in ? in - 1 : p;
    tw[cnt] = w;
    sum += w;
    cnt++;
  }
  if ((antialias && mode != M_NEAREST) || excl)
    for (int k = 0; k < cnt; k++) tw[k] = sum != 0 ? tw[k] / sum : 0;
  return cnt;
}

static void resize_setup(Node *n, int is_upsample) {
  Value *x = n->in[0];
  int r = x->rank, op = n->opset;
  if (r < 1) error_node(n, "input must have rank >= 1");
  int legacy = is_upsample || op < 11;
  if (legacy) {
    static const char *const later[] = {"antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a",
                                        "exclude_outside", "extrapolation_value", "keep_aspect_ratio_policy", "nearest_mode"};
    for (size_t i = 0; i < sizeof later / sizeof *later; i++)
      if (attr_find(n, later[i])) error_node(n, "attribute '%s' is not part of %s-%d", later[i], n->op_type, op);
  }
  const char *modes[] = {"nearest", "linear", "cubic"};
  const char *ms = attr_str(n, "mode", "nearest");
  int mode = !strcmp(ms, "bilinear") && is_upsample ? M_LINEAR : lookup(n, "mode", ms, modes, legacy ? 2 : 3);
  const char *cts[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                       "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  int ct = legacy ? CT_ASYM : lookup(n, "coordinate_transformation_mode", attr_str(n, "coordinate_transformation_mode", "half_pixel"), cts, 7);
  if (ct == CT_HALF_SYM && op < 19) error_node(n, "coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19 (model: %d)", op);
  if (ct == CT_TF_NN && op >= 13) error_node(n, "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in opset 13");
  const char *nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  int nm = legacy ? NM_SIMPLE : lookup(n, "nearest_mode", attr_str(n, "nearest_mode", "round_prefer_floor"), nms, 4);
  double A = legacy ? -0.75 : attr_float(n, "cubic_coeff_a", -0.75f);
  int excl = legacy ? 0 : (int)attr_int(n, "exclude_outside", 0);
  float extrap = legacy ? 0.f : attr_float(n, "extrapolation_value", 0.f);
  int antialias = op >= 18 && !is_upsample ? (int)attr_int(n, "antialias", 0) : 0;
  const char *kps[] = {"stretch", "not_larger", "not_smaller"};
  int kp = op >= 18 && !is_upsample ? lookup(n, "keep_aspect_ratio_policy", attr_str(n, "keep_aspect_ratio_policy", "stretch"), kps, 3) : 0;

  /* axes */
  int64_t axes[MAX_RANK];
  int na = r;
  for (int i = 0; i < r; i++) axes[i] = i;
  if (op >= 18 && !is_upsample) {
    int c = attr_ints(n, "axes", axes, MAX_RANK);
    if (c >= 0) {
      na = c;
      int seen[MAX_RANK] = {0};
      for (int i = 0; i < na; i++) {
        axes[i] = norm_axis(n, axes[i], r);
        if (seen[axes[i]]++) error_node(n, "axis %lld repeated", (long long)axes[i]);
      }
    }
  }

  /* scales / sizes / roi */
  double scale[MAX_RANK], owidth[MAX_RANK], roi0[MAX_RANK], roi1[MAX_RANK];
  int64_t out[MAX_RANK];
  for (int d = 0; d < r; d++) scale[d] = 1, out[d] = x->dims[d], roi0[d] = 0, roi1[d] = 1;
  Value *vs = NULL, *vz = NULL;
  int have_scales_attr = 0;
  if (is_upsample && op < 7) {
    if (r != 4) error_node(n, "Upsample-1 needs a 4-D input");
    scale[2] = attr_float(n, "height_scale", 1.f);
    scale[3] = attr_float(n, "width_scale", 1.f);
    have_scales_attr = 1;
  } else if (is_upsample && op < 9) {
    float f[MAX_RANK];
    int c = attr_floats(n, "scales", f, MAX_RANK);
    if (c < 0) error_node(n, "attribute 'scales' is required");
    if (c != r) error_node(n, "scales has %d values, the input rank is %d", c, r);
    for (int d = 0; d < r; d++) scale[d] = f[d];
    have_scales_attr = 1;
  } else if (legacy) {
    if (n->nin < 2 || !n->in[1]) error_node(n, "input 'scales' is required");
    vs = need_const(n, 1);
  } else {
    if (node_in(n, 2)) {
      Value *v = need_const(n, 2);
      if (v->numel > 0) vs = v;
    }
    if (node_in(n, 3)) {
      Value *v = need_const(n, 3);
      if (v->numel > 0) vz = v;
    }
    if (vs && vz) error_node(n, "only one of 'scales' and 'sizes' may be given");
    if (!vs && !vz) error_node(n, "one of 'scales' and 'sizes' is required");
    if (ct == CT_CROP) {
      Value *v = node_in(n, 1);
      if (v) {
        v = need_const(n, 1);
        if (v->numel != 2 * na) error_node(n, "roi has %lld values, expected %d", (long long)v->numel, 2 * na);
        if (!dtype_is_float(v->dtype)) error_node(n, "roi must be a float tensor");
        for (int i = 0; i < na; i++) {
          roi0[axes[i]] = elem_get_f64(v->data, v->dtype, i);
          roi1[axes[i]] = elem_get_f64(v->data, v->dtype, na + i);
        }
      }
    }
  }
  if (vs) {
    if (!dtype_is_float(vs->dtype)) error_node(n, "scales must be a float tensor");
    if (vs->numel != na) error_node(n, "scales has %lld values, expected %d", (long long)vs->numel, na);
    for (int i = 0; i < na; i++) {
      double s = elem_get_f64(vs->data, vs->dtype, i);
      if (!(s > 0)) error_node(n, "scale %g is not positive", s);
      scale[axes[i]] = s;
    }
    have_scales_attr = 1;
  }
  if (have_scales_attr) {
    for (int d = 0; d < r; d++) {
      if (!(scale[d] > 0)) error_node(n, "scale %g is not positive", scale[d]);
      double len = ct == CT_CROP ? x->dims[d] * (roi1[d] - roi0[d]) * scale[d] : x->dims[d] * scale[d];
      out[d] = (int64_t)floor(len);
    }
  } else {
    if (vz->dtype != DT_INT64 && vz->dtype != DT_INT32) error_node(n, "sizes must be an int64 tensor");
    if (vz->numel != na) error_node(n, "sizes has %lld values, expected %d", (long long)vz->numel, na);
    for (int i = 0; i < na; i++) {
      int d = (int)axes[i];
      out[d] = elem_get_i64(vz->data, vz->dtype, i);
      if (out[d] <= 0) error_node(n, "sizes[%d] = %lld is not positive", i, (long long)out[d]);
      if (x->dims[d] == 0) error_node(n, "cannot resize an empty dimension");
      scale[d] = (double)out[d] / (double)x->dims[d];
    }
    if (kp) {
      double s = scale[axes[0]];
      for (int i = 1; i < na; i++) s = kp == 1 ? fmin(s, scale[axes[i]]) : fmax(s, scale[axes[i]]);
      for (int i = 0; i < na; i++) {
        int d = (int)axes[i];
        scale[d] = s;
        out[d] = (int64_t)floor(s * x->dims[d] + 0.5);
      }
    }
  }
  for (int d = 0; d < r; d++) {
    if (out[d] <= 0) error_node(n, "output dimension %d would be %lld", d, (long long)out[d]);
    owidth[d] = scale[d] * x->dims[d];
  }

  /* tap tables */
  ResizeP *p = xalloc(sizeof *p);
  p->rank = r;
  p->extrap = extrap;
  int cap = 2;
  for (int d = 0; d < r; d++) {
    double sc = antialias && scale[d] < 1 ? scale[d] : 1;
    if (sc < 1e-4) error_node(n, "antialias with scale %g is not supported", sc);
    int c = mode == M_NEAREST ? 1 : mode == M_LINEAR ? 2 - 2 * ((int)floor(-1 / sc) + 1) : 2 - 2 * ((int)floor(-2 / sc) + 1);
    if (c > cap) cap = c;
  }
  int64_t *ti = xalloc(sizeof(int64_t) * cap), total = 0;
  double *tv = xalloc(sizeof(double) * cap);
  /* first pass: taps per dim (max non-zero count) */
  int64_t **dix = xalloc(sizeof(int64_t *) * r);
  double **dw = xalloc(sizeof(double *) * r);
  int *dcnt[MAX_RANK];
  for (int d = 0; d < r; d++) {
    int64_t in = x->dims[d];
    dix[d] = xalloc(sizeof(int64_t) * out[d] * cap);
    dw[d] = xalloc(sizeof(double) * out[d] * cap);
    dcnt[d] = xalloc(sizeof(int) * out[d]);
    int64_t nt = 1;
    for (int64_t o = 0; o < out[d]; o++) {
      double s = scale[d], xo;
      switch (ct) {
      case CT_HALF: xo = (o + 0.5) / s - 0.5; break;
      case CT_HALF_SYM: {
        double adj = out[d] / owidth[d], center = in / 2.0, off = center * (1 - adj);
        xo = off + (o + 0.5) / s - 0.5;
        break;
      }
      case CT_PYTORCH: xo = out[d] > 1 ? (o + 0.5) / s - 0.5 : 0; break;
      case CT_ALIGN: xo = owidth[d] == 1 ? 0 : o * (in - 1) / (owidth[d] - 1); break;
      case CT_ASYM: xo = o / s; break;
      case CT_TF_NN: xo = (o + 0.5) / s; break;
      default:
        xo = owidth[d] == 1 ? (roi1[d] - roi0[d]) * (in - 1) / 2 : o * (roi1[d] - roi0[d]) * (in - 1) / (owidth[d] - 1);
        xo += roi0[d] * (in - 1);
        if (xo < 0 || xo > in - 1) {
          dcnt[d][o] = -1;
          continue;
        }
      }
      int c = taps_of(mode, nm, antialias, excl, A, xo, s, in, ti, tv, cap, n), m = 0;
      for (int k = 0; k < c; k++)
        if (tv[k] != 0) {
          dix[d][o * cap + m] = ti[k];
          dw[d][o * cap + m] = tv[k];
          m++;
        }
      if (m == 0) { /* all weights vanished (exclude_outside): read anything with weight 0 */
        dix[d][o * cap] = 0;
        dw[d][o * cap] = 0;
        m = 1;
      }
      dcnt[d][o] = m;
      if (m > nt) nt = m;
    }
    p->ntap[d] = nt;
    total += out[d] * nt;
  }
  p->tidx = xalloc(sizeof(int64_t) * (total + 1));
  p->tw = xalloc(sizeof(float) * (total + 1));
  p->ntab = total;
  int64_t at = 0;
  int all_one = 1, any_out = 0;
  for (int d = 0; d < r; d++) {
    int64_t nt = p->ntap[d];
    for (int64_t o = 0; o < out[d]; o++, at += nt) {
      if (dcnt[d][o] < 0) {
        any_out = 1;
        p->tidx[at] = -1;
        continue;
      }
      for (int k = 0; k < dcnt[d][o]; k++) {
        p->tidx[at + k] = dix[d][o * cap + k];
        p->tw[at + k] = (float)dw[d][o * cap + k];
        if (dw[d][o * cap + k] != 1) all_one = 0;
      }
    }
    if (nt != 1) all_one = 0;
  }
  p->nearest = all_one && !any_out;
  p->rowtaps = 1;
  for (int d = 0; d < r - 1; d++) p->rowtaps *= p->ntap[d];
  memcpy(p->idims, x->dims, sizeof(int64_t) * r);
  memcpy(p->odims, out, sizeof(int64_t) * r);
  if (!p->nearest && x->dtype != DT_FLOAT)
    error_node(n, "%s interpolation supports float only (input is %s)", mode == M_NEAREST ? "nearest with extrapolation" : modes[mode],
               dtype_name(x->dtype));
  if (!dtype_size(x->dtype)) error_node(n, "input type %s is not supported", dtype_name(x->dtype));
  if (!p->nearest) n->scratch_bytes = p->rowtaps * 12 + 16;
  value_set_shape(n->out[0], x->dtype, r, out);
  n->p = p;
}

static void resize_infer(Node *n) { resize_setup(n, 0); }
static void upsample_infer(Node *n) { resize_setup(n, 1); }

static void resize_eval(Node *n, void *const *in, void *const *out) {
  ResizeP *p = n->p;
  if (p->nearest) {
    k_resize_nearest(p->rank, p->idims, p->odims, p->tidx, in[0], out[0], dtype_size(n->in[0]->dtype));
    return;
  }
  int64_t *ri = xalloc(sizeof(int64_t) * p->rowtaps);
  float *rw = xalloc(sizeof(float) * p->rowtaps);
  k_resize_f32(p->rank, p->idims, p->odims, p->ntap, p->tidx, p->tw, p->extrap, in[0], out[0], ri, rw);
  free(ri);
  free(rw);
}

static void resize_emit(Node *n, Emitter *e) {
  ResizeP *p = n->p;
  emit_need(e, "k_resize");
  const char *id = emit_i64s(e, p->idims, p->rank), *od = emit_i64s(e, p->odims, p->rank);
  if (p->nearest) {
    emit(e, "k_resize_nearest(%d, %s, %s, %s, %s, %s, %d);", p->rank, id, od, emit_i64s(e, p->tidx, (int)p->ntab),
         eref(e, n->in[0]), eref(e, n->out[0]), dtype_size(n->in[0]->dtype));
    return;
  }
  emit(e, "k_resize_f32(%d, %s, %s, %s, %s, %s, %s, %s, %s, (int64_t *)(A + %lld), (float *)(A + %lld));", p->rank, id, od,
       emit_i64s(e, p->ntap, p->rank), emit_i64s(e, p->tidx, (int)p->ntab), emit_f32s(e, p->tw, (int)p->ntab),
       fmt_float(p->extrap), eref(e, n->in[0]), eref(e, n->out[0]), (long long)n->scratch_off,
       (long long)(n->scratch_off + p->rowtaps * 8));
}

const OpDef opdef_Resize = {"antialias,axes,coordinate_transformation_mode,cubic_coeff_a,exclude_outside,extrapolation_value,"
                            "keep_aspect_ratio_policy,mode,nearest_mode",
                            1, 4, 1, 1, resize_infer, resize_eval, resize_emit, 0};
const OpDef opdef_Upsample = {"height_scale,mode,scales,width_scale", 1, 2, 1, 1, upsample_infer, resize_eval, resize_emit, 0};
