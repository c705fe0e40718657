/*
 * op_pad.c: Pad at every opset: Pad-1 'paddings'/'value' attributes, Pad-2
 * 'pads'/'value', Pad-11 inputs pads and constant_value, Pad-18 the axes
 * input, modes constant, reflect, edge and wrap.  pads (and axes) decide
 * the shape and must be constant; constant_value may be a run-time tensor
 * (the kernel reads it through a pointer).  Negative pads crop.
 * Kernel: k_pad (runtime/k_pad.h), any dtype.
 */
#include "mrtc.h"
#include "k_pad.h"

#include <string.h>

typedef struct PadP {
  int rank, mode, esz;
  int64_t idims[MAX_RANK], odims[MAX_RANK], pb[MAX_RANK];
  unsigned char cval[16];
  int cval_input;         /* constant_value comes from input 2 at run time */
} PadP;

static void pad_infer(Node *n) {
  Value *x = n->in[0];
  PadP *p = xalloc(sizeof *p);
  n->p = p;
  p->esz = dtype_size(x->dtype);
  if (!p->esz || x->dtype == DT_STRING) error_node(n, "type %s is not supported", dtype_name(x->dtype));
  const char *mode = attr_str(n, "mode", "constant");
  if (!strcmp(mode, "constant")) p->mode = 0;
  else if (!strcmp(mode, "reflect")) p->mode = 1;
  else if (!strcmp(mode, "edge")) p->mode = 2;
  else if (!strcmp(mode, "wrap")) p->mode = 3;
  else error_node(n, "mode '%s' is not supported", mode);
  int64_t pads[2 * MAX_RANK], axes[MAX_RANK];
  int np, na = -1;
  if (n->opset < 11) {
    np = attr_ints(n, n->opset < 2 ? "paddings" : "pads", pads, 2 * MAX_RANK);
    if (np < 0) error_node(n, "attribute '%s' is required", n->opset < 2 ? "paddings" : "pads");
    elem_set_f64(p->cval, x->dtype, 0, attr_float(n, "value", 0.0f));
  } else {
    int64_t *v = const_ints(n, 1, &np);
    if (np > 2 * MAX_RANK) error_node(n, "too many pads");
    memcpy(pads, v, sizeof(int64_t) * np);
    Value *c = node_in(n, 2);
    if (c) {
      if (c->dtype != x->dtype) error_node(n, "constant_value has type %s, data %s", dtype_name(c->dtype), dtype_name(x->dtype));
      if (c->numel != 1) error_node(n, "constant_value must be a scalar, got %s", shape_str(c));
      if (c->data) memcpy(p->cval, c->data, (size_t)p->esz);
      else p->cval_input = 1;
    }
    if (node_in(n, 3)) {
      if (n->opset < 18) error_node(n, "the axes input needs opset 18");
      int64_t *a = const_ints(n, 3, &na);
      if (na > MAX_RANK) error_node(n, "too many axes");
      memcpy(axes, a, sizeof(int64_t) * na);
    }
  }
  if (na < 0) {
    na = x->rank;
    for (int i = 0; i < na; i++) axes[i] = i;
  }
  if (np != 2 * na) error_node(n, "pads has %d entries; %d axes need %d", np, na, 2 * na);
  int64_t pe[MAX_RANK] = {0};
  int seen[MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int a = norm_axis(n, axes[i], x->rank);
    if (seen[a]) error_node(n, "axis %d given twice", a);
    seen[a] = 1;
    p->pb[a] = pads[i];
    pe[a] = pads[na + i];
  }
  p->rank = x->rank;
  for (int d = 0; d < x->rank; d++) {
    p->idims[d] = x->dims[d];
    p->odims[d] = x->dims[d] + p->pb[d] + pe[d];
    if (p->odims[d] < 0) error_node(n, "pads remove more than dim %d of %s holds", d, shape_str(x));
    if (p->mode && x->dims[d] == 0 && p->odims[d] > 0) error_node(n, "mode '%s' cannot pad the empty dim %d", mode, d);
  }
  if (p->rank == 0) { /* a scalar: nothing to pad */
    p->rank = 1;
    p->idims[0] = p->odims[0] = 1;
  }
  value_set_shape(n->out[0], x->dtype, x->rank, p->odims);
}

static void pad_eval(Node *n, void *const *in, void *const *out) {
  PadP *p = n->p;
  k_pad(p->rank, p->idims, p->odims, p->pb, p->mode, p->cval_input ? in[2] : p->cval, out[0], in[0], p->esz);
}

static void pad_emit(Node *n, Emitter *e) {
  PadP *p = n->p;
  if (!n->out[0]->numel) return;
  emit_need(e, "k_pad");
  const char *cv;
  if (p->cval_input) cv = eref(e, n->in[2]);
  else {
    cv = fmt("C%d", e->tmp++);
    buf_printf(&e->consts, "static const unsigned char %s[%d] = {", cv, p->esz);
    for (int i = 0; i < p->esz; i++) buf_printf(&e->consts, "%s%u", i ? "," : "", p->cval[i]);
    buf_puts(&e->consts, "};\n");
  }
  emit(e, "k_pad(%d, %s, %s, %s, %d, %s, %s, %s, %d);", p->rank, emit_i64s(e, p->idims, p->rank), emit_i64s(e, p->odims, p->rank),
       emit_i64s(e, p->pb, p->rank), p->mode, cv, eref(e, n->out[0]), n->in[0]->numel ? eref(e, n->in[0]) : "(const void *)0", p->esz);
}

const OpDef opdef_Pad = {"mode,pads,paddings,value", 1, 4, 1, 1, pad_infer, pad_eval, pad_emit, 0};
