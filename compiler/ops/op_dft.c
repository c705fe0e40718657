/*
 * op_dft.c: DFT (17: axis attribute; 20: axis input), STFT (17), the window
 * generators HannWindow, HammingWindow, BlackmanWindow (17) and
 * MelWeightMatrix (17), on runtime/k_dft.h.
 *
 * DFT and STFT compute in double on float32 or float64 tensors.  Inputs
 * that decide shapes (dft_length, axis, frame_step, frame_length, window
 * size, the MelWeightMatrix parameters) must be constant.  The window and
 * mel ops have only constant inputs, so they fold at compile time; their
 * emit hook (used with folding off) writes the computed table as a
 * constant.
 */
#include "mrtc.h"
#include "k_dft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t scalar_int(Node *n, int i, const char *what) {
  int c;
  int64_t *v = const_ints(n, i, &c);
  if (c != 1) error_node(n, "%s must be a scalar (input %d has %d values)", what, i, c);
  return v[0];
}

/* ------------------------------------------------------------------ DFT */

typedef struct DftP {
  int64_t outer, inner, Lin, N, Lout;
  int cin, cout, mode;
} DftP;

static void dft_infer(Node *n) {
  Value *x = n->in[0];
  if (x->dtype != DT_FLOAT && x->dtype != DT_DOUBLE)
    error_node(n, "input has type %s; float and double are supported", dtype_name(x->dtype));
  if (x->rank < 2) error_node(n, "input %s needs a signal axis and a last dim of 1 or 2", shape_str(x));
  int cin = (int)x->dims[x->rank - 1];
  if (cin != 1 && cin != 2) error_node(n, "last dim of input %s must be 1 (real) or 2 (complex)", shape_str(x));
  int64_t axis;
  if (n->opset >= 20) {
    if (attr_find(n, "axis")) error_node(n, "axis is an input from opset 20 on, not an attribute");
    axis = node_in(n, 2) ? scalar_int(n, 2, "axis") : -2;
  } else
    axis = attr_int(n, "axis", 1);
  int64_t a = axis < 0 ? axis + x->rank : axis;
  if (a < 0 || a >= x->rank - 1) error_node(n, "axis %lld is out of range for input %s", (long long)axis, shape_str(x));
  int inverse = (int)attr_int(n, "inverse", 0), onesided = (int)attr_int(n, "onesided", 0);
  DftP *p = xalloc(sizeof *p);
  p->Lin = x->dims[a];
  p->outer = shape_numel((int)a, x->dims);
  p->inner = shape_numel(x->rank - 1 - (int)a - 1, x->dims + a + 1);
  p->cin = cin;
  p->mode = inverse ? (onesided ? 2 : 1) : 0;
  if (node_in(n, 1)) {
    p->N = scalar_int(n, 1, "dft_length");
    if (p->N <= 0) error_node(n, "dft_length %lld must be positive", (long long)p->N);
  } else
    p->N = p->mode == 2 ? 2 * (p->Lin - 1) : p->Lin;
  if (p->N <= 0) error_node(n, "the DFT length is %lld", (long long)p->N);
  p->Lout = p->mode == 0 && onesided ? p->N / 2 + 1 : p->N;
  p->cout = p->mode == 2 ? 1 : 2;
  int64_t od[MAX_RANK];
  memcpy(od, x->dims, sizeof(int64_t) * x->rank);
  od[a] = p->Lout;
  od[x->rank - 1] = p->cout;
  value_set_shape(n->out[0], x->dtype, x->rank, od);
  n->scratch_bytes = 8 * k_dft_scratch(p->N);
  n->macs = p->outer * p->inner * p->N * p->Lout;
  n->p = p;
}

static void dft_eval(Node *n, void *const *in, void *const *out) {
  DftP *p = n->p;
  double *s = xalloc((size_t)n->scratch_bytes);
  if (n->in[0]->dtype == DT_FLOAT)
    k_dft_f32(p->outer, p->inner, p->Lin, p->cin, p->N, p->Lout, p->cout, p->mode, in[0], out[0], s);
  else
    k_dft_f64(p->outer, p->inner, p->Lin, p->cin, p->N, p->Lout, p->cout, p->mode, in[0], out[0], s);
  free(s);
}

static void dft_emit(Node *n, Emitter *e) {
  DftP *p = n->p;
  emit_need(e, "k_dft");
  emit(e, "k_dft_%s(%lld, %lld, %lld, %d, %lld, %lld, %d, %d, %s, %s, (double *)(A + %lld));", dtype_tag(n->in[0]->dtype),
       (long long)p->outer, (long long)p->inner, (long long)p->Lin, p->cin, (long long)p->N, (long long)p->Lout, p->cout,
       p->mode, eref(e, n->in[0]), eref(e, n->out[0]), (long long)n->scratch_off);
}

/* ----------------------------------------------------------------- STFT */

typedef struct StftP {
  int64_t B, L, step, F, FL, bins;
  int cin;
} StftP;

static void stft_infer(Node *n) {
  Value *x = n->in[0], *w = node_in(n, 2);
  if (x->dtype != DT_FLOAT && x->dtype != DT_DOUBLE)
    error_node(n, "signal has type %s; float and double are supported", dtype_name(x->dtype));
  if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
    error_node(n, "signal %s must be [batch, length, 1 or 2]", shape_str(x));
  if (w && (w->dtype != x->dtype || w->rank != 1)) error_node(n, "window %s must be 1-D of the signal's type", shape_str(w));
  StftP *p = xalloc(sizeof *p);
  p->B = x->dims[0];
  p->L = x->dims[1];
  p->cin = (int)x->dims[2];
  p->step = scalar_int(n, 1, "frame_step");
  if (p->step <= 0) error_node(n, "frame_step %lld must be positive", (long long)p->step);
  if (node_in(n, 3)) {
    p->FL = scalar_int(n, 3, "frame_length");
    if (w && w->dims[0] != p->FL)
      error_node(n, "window length %lld differs from frame_length %lld", (long long)w->dims[0], (long long)p->FL);
  } else
    p->FL = w ? w->dims[0] : p->L;
  if (p->FL <= 0 || p->FL > p->L) error_node(n, "frame_length %lld does not fit the signal %s", (long long)p->FL, shape_str(x));
  int onesided = (int)attr_int(n, "onesided", 1);
  if (onesided && p->cin == 2) error_node(n, "onesided output needs a real signal");
  p->F = 1 + (p->L - p->FL) / p->step;
  p->bins = onesided ? p->FL / 2 + 1 : p->FL;
  int64_t od[4] = {p->B, p->F, p->bins, 2};
  value_set_shape(n->out[0], x->dtype, 4, od);
  n->scratch_bytes = 8 * k_dft_scratch(p->FL);
  n->macs = p->B * p->F * p->FL * p->bins;
  n->p = p;
}

static void stft_eval(Node *n, void *const *in, void *const *out) {
  StftP *p = n->p;
  double *s = xalloc((size_t)n->scratch_bytes);
  const void *w = node_in(n, 2) ? in[2] : NULL;
  if (n->in[0]->dtype == DT_FLOAT)
    k_stft_f32(p->B, p->L, p->cin, p->step, p->F, p->FL, p->bins, in[0], w, out[0], s);
  else
    k_stft_f64(p->B, p->L, p->cin, p->step, p->F, p->FL, p->bins, in[0], w, out[0], s);
  free(s);
}

static void stft_emit(Node *n, Emitter *e) {
  StftP *p = n->p;
  Value *w = node_in(n, 2);
  emit_need(e, "k_dft");
  emit(e, "k_stft_%s(%lld, %lld, %d, %lld, %lld, %lld, %lld, %s, %s, %s, (double *)(A + %lld));",
       dtype_tag(n->in[0]->dtype), (long long)p->B, (long long)p->L, p->cin, (long long)p->step, (long long)p->F,
       (long long)p->FL, (long long)p->bins, eref(e, n->in[0]), w ? eref(e, w) : "0", eref(e, n->out[0]),
       (long long)n->scratch_off);
}

/* ------------------------------------------- windows and MelWeightMatrix */

/* output_datatype -> a type we can write */
static DType out_type(Node *n) {
  DType t = (DType)attr_int(n, "output_datatype", DT_FLOAT);
  if (!dtype_supported(t) || t == DT_STRING || t == DT_BOOL || t == DT_COMPLEX64 || t == DT_COMPLEX128)
    error_node(n, "output_datatype %s is not supported", dtype_name(t));
  return t;
}

typedef struct WinP {
  int kind, periodic;
  int64_t size;
  /* MelWeightMatrix */
  int64_t bins, dft_length, rate;
  float lo, hi;
} WinP;

static void window_infer(Node *n) {
  WinP *p = xalloc(sizeof *p);
  p->kind = n->op == OP_HannWindow ? 0 : n->op == OP_HammingWindow ? 1 : 2;
  p->periodic = (int)attr_int(n, "periodic", 1);
  p->size = scalar_int(n, 0, "size");
  if (p->size < 0) error_node(n, "size %lld is negative", (long long)p->size);
  value_set_shape(n->out[0], out_type(n), 1, &p->size);
  n->p = p;
}

static double scalar_f(Node *n, int i) {
  Value *v = need_const(n, i);
  if (v->numel != 1) error_node(n, "input %d must be a scalar", i);
  return elem_get_f64(v->data, v->dtype, 0);
}

static void mel_infer(Node *n) {
  WinP *p = xalloc(sizeof *p);
  p->bins = scalar_int(n, 0, "num_mel_bins");
  p->dft_length = scalar_int(n, 1, "dft_length");
  p->rate = scalar_int(n, 2, "sample_rate");
  p->lo = (float)scalar_f(n, 3);
  p->hi = (float)scalar_f(n, 4);
  if (p->bins <= 0 || p->dft_length <= 0 || p->rate <= 0) error_node(n, "num_mel_bins, dft_length and sample_rate must be positive");
  int64_t od[2] = {p->dft_length / 2 + 1, p->bins};
  value_set_shape(n->out[0], out_type(n), 2, od);
  n->p = p;
}

/* the table, in double */
static double *table(Node *n) {
  WinP *p = n->p;
  Value *o = n->out[0];
  double *t = xalloc(sizeof(double) * (size_t)(o->numel + 1));
  if (n->op != OP_MelWeightMatrix) {
    for (int64_t i = 0; i < p->size; i++) t[i] = k_window_at(p->kind, p->size, p->periodic, i);
    return t;
  }
  /* as the ONNX reference: mel edges in float32, bin positions in double, floored */
  int64_t nb = p->bins, nspec = p->dft_length / 2 + 1;
  float lm = 2595.0f * (float)log10((double)(1.0f + p->lo / 700.0f));
  float hm = 2595.0f * (float)log10((double)(1.0f + p->hi / 700.0f));
  float step = (hm - lm) / (float)(nb + 2);
  int64_t *fb = xalloc(sizeof(int64_t) * (size_t)(nb + 2));
  for (int64_t i = 0; i < nb + 2; i++) {
    double f = (double)i * (double)step + (double)lm;
    f = 700.0 * (pow(10.0, f / 2595.0) - 1.0);
    fb[i] = (int64_t)floor((double)(p->dft_length + 1) * f / (double)p->rate);
  }
  for (int64_t i = 0; i < nb; i++) {
    int64_t l = fb[i], c = fb[i + 1], h = fb[i + 2];
    if (l < 0 || h >= nspec + 1 || c >= nspec) error_node(n, "mel bin %lld falls outside the spectrum", (long long)i);
    if (c - l == 0) t[c * nb + i] = 1;
    else
      for (int64_t j = l; j <= c; j++) t[j * nb + i] = (double)(j - l) / (double)(c - l);
    if (h - c > 0)
      for (int64_t j = c; j < h; j++) t[j * nb + i] = (double)(h - j) / (double)(h - c);
  }
  return t;
}

static void window_eval(Node *n, void *const *in, void *const *out) {
  Value *o = n->out[0];
  double *t = table(n);
  for (int64_t i = 0; i < o->numel; i++) elem_set_f64(out[0], o->dtype, i, t[i]);
  free(t);
}

static void window_emit(Node *n, Emitter *e) {
  Value *o = n->out[0];
  if (!o->numel) return;
  void *data = xalloc((size_t)value_bytes(o) + 8);
  window_eval(n, NULL, &data);
  const char *c = emit_const(e, o->dtype, o->rank, o->dims, data);
  emit(e, "memcpy(%s, %s, %lld);", eref(e, o), c, (long long)value_bytes(o));
}

const OpDef opdef_DFT = {"axis,inverse,onesided", 1, 3, 1, 1, dft_infer, dft_eval, dft_emit, 0};
const OpDef opdef_STFT = {"onesided", 2, 4, 1, 1, stft_infer, stft_eval, stft_emit, 0};
const OpDef opdef_HannWindow = {"periodic,output_datatype", 1, 1, 1, 1, window_infer, window_eval, window_emit, 0};
const OpDef opdef_HammingWindow = {"periodic,output_datatype", 1, 1, 1, 1, window_infer, window_eval, window_emit, 0};
const OpDef opdef_BlackmanWindow = {"periodic,output_datatype", 1, 1, 1, 1, window_infer, window_eval, window_emit, 0};
const OpDef opdef_MelWeightMatrix = {"output_datatype", 5, 5, 1, 1, mel_infer, window_eval, window_emit, 0};
