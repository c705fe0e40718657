/*
 * ops.c: the op registry and the helpers every op hook uses.
 *
 * compiler/ops.def lists every op once; from it come the OpKind enum (in
 * mrtc.h), the name table and the hook table below.  A missing OpDef is a
 * link error, so an op cannot be half-registered.
 */
#include "mrtc.h"

int g_winograd = 4;

#include <stdlib.h>
#include <string.h>

#define OP(name, file) extern const OpDef opdef_##name;
#include "ops.def"
#undef OP

const OpDef *const op_defs[OP_COUNT] = {
#define OP(name, file) [OP_##name] = &opdef_##name,
#include "ops.def"
#undef OP
};

const char *const op_names[OP_COUNT] = {
#define OP(name, file) [OP_##name] = #name,
#include "ops.def"
#undef OP
};

_Static_assert(sizeof op_defs / sizeof *op_defs == OP_COUNT, "op table size");

int op_lookup(const char *domain, const char *op_type) {
  if (domain[0] && strcmp(domain, "ai.onnx")) return -1;
  if (!strncmp(op_type, "Mrtc", 4)) return -1; /* internal ops (quantize.c): no model may name them */
  for (int i = 0; i < OP_COUNT; i++)
    if (!strcmp(op_names[i], op_type)) return i;
  return -1;
}

static const char *g_file(const Node *n) { (void)n; return ""; }

void error_node(const Node *n, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  Buf b = {0};
  buf_vprintf(&b, f, ap);
  va_end(ap);
  fatal("%snode '%s' (%s): %s", g_file(n), n->name, n->op_type, b.s);
}

void warn_node(const Node *n, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  Buf b = {0};
  buf_vprintf(&b, f, ap);
  va_end(ap);
  warn("node '%s' (%s): %s", n->name, n->op_type, b.s);
}

Attr *attr_find(Node *n, const char *name) {
  for (int i = 0; i < n->nattrs; i++)
    if (!strcmp(n->attrs[i].name, name)) {
      n->attrs[i].used = 1;
      return &n->attrs[i];
    }
  return NULL;
}

static const char *attr_type_name(int t) {
  static const char *const names[] = {"undefined", "float", "int", "string", "tensor", "graph",
                                      "floats", "ints", "strings", "tensors", "graphs"};
  return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

static Attr *attr_typed(Node *n, const char *name, AttrType t) {
  Attr *a = attr_find(n, name);
  if (a && a->type != t)
    error_node(n, "attribute '%s' has the wrong type (%s, expected %s)", name, attr_type_name(a->type), attr_type_name(t));
  return a;
}

int64_t attr_int(Node *n, const char *name, int64_t def) {
  Attr *a = attr_typed(n, name, AT_INT);
  return a ? a->i : def;
}

float attr_float(Node *n, const char *name, float def) {
  Attr *a = attr_find(n, name);
  if (a && a->type == AT_INT) return (float)a->i; /* tolerated: some exporters */
  if (a && a->type != AT_FLOAT) error_node(n, "attribute '%s' has the wrong type (%s, expected float)", name, attr_type_name(a->type));
  return a ? a->f : def;
}

const char *attr_str(Node *n, const char *name, const char *def) {
  Attr *a = attr_typed(n, name, AT_STRING);
  return a ? a->s : def;
}

int attr_ints(Node *n, const char *name, int64_t *out, int max) {
  Attr *a = attr_typed(n, name, AT_INTS);
  if (!a) return -1;
  if (a->nints > max) error_node(n, "attribute '%s' has %d values, at most %d supported", name, a->nints, max);
  memcpy(out, a->ints, sizeof(int64_t) * a->nints);
  return a->nints;
}

int attr_floats(Node *n, const char *name, float *out, int max) {
  Attr *a = attr_typed(n, name, AT_FLOATS);
  if (!a) return -1;
  if (a->nfloats > max) error_node(n, "attribute '%s' has %d values, at most %d supported", name, a->nfloats, max);
  memcpy(out, a->floats, sizeof(float) * a->nfloats);
  return a->nfloats;
}

Value *attr_tensor(Node *n, const char *name) {
  Attr *a = attr_typed(n, name, AT_TENSOR);
  return a ? a->t : NULL;
}

Value *node_in(Node *n, int i) { return i < n->nin ? n->in[i] : NULL; }

/* the graph inputs that V depends on, as "'a', 'b'" (depth-first over producers) */
static void runtime_roots(Value *v, Buf *b, int depth, unsigned char *seen, int nseen) {
  if (!v || v->data || depth > 64) return;
  if (v->id >= 0 && v->id < nseen) {
    if (seen[v->id]) return;
    seen[v->id] = 1;
  }
  if (v->is_input) {
    buf_printf(b, "%s%s", b->len ? " " : "", v->name);
    return;
  }
  if (v->producer)
    for (int k = 0; k < v->producer->nin; k++) runtime_roots(v->producer->in[k], b, depth + 1, seen, nseen);
}

Value *need_const(Node *n, int i) {
  Value *v = node_in(n, i);
  if (!v) error_node(n, "input %d is required", i);
  if (!v->data && !v->is_input) {
    Buf roots = {0};
    unsigned char seen[1 << 16] = {0};
    runtime_roots(v, &roots, 0, seen, 1 << 16);
    if (roots.len) {
      Buf fix = {0};
      char *list = xstrdup(roots.s);
      for (char *t = strtok(list, " "); t; t = strtok(NULL, " ")) buf_printf(&fix, "%s--bind %s=FILE.npy", fix.len ? " " : "", t);
      error_node(n, "input %d ('%s') must be known at compile time (it decides a shape or a branch) but depends on "
                    "run-time input(s); fix their values with %s",
                 i, v->name, fix.s);
    }
  }
  if (!v->data)
    error_node(n, "input %d ('%s') must be known at compile time (it decides a shape or a branch) but is a "
                  "run-time input; fix its value with --bind %s=FILE.npy",
               i, v->name, v->name);
  return v;
}

int64_t *const_ints(Node *n, int i, int *count) {
  Value *v = need_const(n, i);
  if (dtype_is_float(v->dtype) || !dtype_supported(v->dtype))
    error_node(n, "input %d ('%s') must be an integer tensor, got %s", i, v->name, dtype_name(v->dtype));
  int64_t *r = xalloc(sizeof(int64_t) * (v->numel + 1));
  for (int64_t k = 0; k < v->numel; k++) r[k] = elem_get_i64(v->data, v->dtype, k);
  *count = (int)v->numel;
  return r;
}

void need_float(Node *n, int i) {
  Value *v = node_in(n, i);
  if (v && v->dtype != DT_FLOAT)
    error_node(n, "input %d ('%s') has type %s; only float is supported for this op", i, v->name, dtype_name(v->dtype));
}

void need_types(Node *n, int i, const DType *ok, int nok) {
  Value *v = node_in(n, i);
  if (!v) return;
  for (int k = 0; k < nok; k++)
    if (v->dtype == ok[k]) return;
  error_node(n, "input %d ('%s') has type %s, which this op does not support", i, v->name, dtype_name(v->dtype));
}

int norm_axis(Node *n, int64_t axis, int rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= (rank ? rank : 1)) error_node(n, "axis %lld out of range for rank %d", (long long)axis, rank);
  return (int)a;
}

void broadcast_shapes(Node *n, Value **ins, int k, int *rank, int64_t *dims) {
  int r = 0;
  for (int i = 0; i < k; i++)
    if (ins[i] && ins[i]->rank > r) r = ins[i]->rank;
  for (int d = 0; d < r; d++) dims[d] = 1;
  for (int i = 0; i < k; i++) {
    Value *v = ins[i];
    if (!v) continue;
    for (int d = 0; d < v->rank; d++) {
      int64_t x = v->dims[d], *o = &dims[r - v->rank + d];
      if (x == *o || x == 1) continue;
      if (*o == 1) *o = x;
      else error_node(n, "shapes are not broadcastable (%s)", shape_str(v));
    }
  }
  *rank = r;
}
