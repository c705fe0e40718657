/*
 * ir.c: the graph of nodes and values, data types, and a few shape helpers.
 *
 * Values are tensors named as in the model; a value with data != NULL is a
 * constant (an initializer, a Constant node's output, or a folded result).
 * Dimension order is ONNX's (outermost first).  graph_toposort() orders the
 * nodes so every producer comes before its consumers; the order is the
 * schedule that the planner and the emitter follow.
 */
#include "mrtc.h"
#include "k_cast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name, *ctype, *tag;
  int size, is_float;
} dtypes[DT_COUNT_] = {
    [DT_FLOAT] = {"float", "float", "f32", 4, 1},
    [DT_UINT8] = {"uint8", "uint8_t", "u8", 1, 0},
    [DT_INT8] = {"int8", "int8_t", "i8", 1, 0},
    [DT_UINT16] = {"uint16", "uint16_t", "u16", 2, 0},
    [DT_INT16] = {"int16", "int16_t", "i16", 2, 0},
    [DT_INT32] = {"int32", "int32_t", "i32", 4, 0},
    [DT_INT64] = {"int64", "int64_t", "i64", 8, 0},
    [DT_STRING] = {"string", NULL, NULL, 0, 0},
    [DT_BOOL] = {"bool", "uint8_t", "b", 1, 0},
    [DT_FLOAT16] = {"float16", "uint16_t", "f16", 2, 1},
    [DT_DOUBLE] = {"double", "double", "f64", 8, 1},
    [DT_UINT32] = {"uint32", "uint32_t", "u32", 4, 0},
    [DT_UINT64] = {"uint64", "uint64_t", "u64", 8, 0},
    [DT_COMPLEX64] = {"complex64", NULL, NULL, 0, 0},
    [DT_COMPLEX128] = {"complex128", NULL, NULL, 0, 0},
    [DT_BFLOAT16] = {"bfloat16", "uint16_t", "bf16", 2, 1},
    /* narrow types, unpacked one element per byte (see runtime/k_cast.h):
     * the float8/float4 types hold their bit pattern, the 4- and 2-bit
     * integers their value; the loader unpacks packed tensor data */
    [17] = {"float8e4m3fn", "uint8_t", "f8e4m3fn", 1, 1},
    [18] = {"float8e4m3fnuz", "uint8_t", "f8e4m3fnuz", 1, 1},
    [19] = {"float8e5m2", "uint8_t", "f8e5m2", 1, 1},
    [20] = {"float8e5m2fnuz", "uint8_t", "f8e5m2fnuz", 1, 1},
    [21] = {"uint4", "uint8_t", "u4", 1, 0},
    [22] = {"int4", "int8_t", "i4", 1, 0},
    [23] = {"float4e2m1", "uint8_t", "f4e2m1", 1, 1},
    [24] = {"float8e8m0", "uint8_t", "f8e8m0", 1, 1},
    [25] = {"uint2", "uint8_t", "u2", 1, 0},
    [26] = {"int2", "int8_t", "i2", 1, 0},
};

static int dt_ok(DType t) { return t > 0 && t < DT_COUNT_; }
int dtype_size(DType t) { return dt_ok(t) ? dtypes[t].size : 0; }
const char *dtype_name(DType t) {
  return dt_ok(t) && dtypes[t].name ? dtypes[t].name : fmt("type#%d", (int)t);
}
const char *dtype_ctype(DType t) { return dt_ok(t) ? dtypes[t].ctype : NULL; }
const char *dtype_tag(DType t) { return dt_ok(t) ? dtypes[t].tag : NULL; }
int dtype_is_float(DType t) { return dt_ok(t) && dtypes[t].is_float; }
int dtype_supported(DType t) { return dtype_size(t) > 0; }

/* the float8 / float4 types (bit patterns) */
static int is_minifloat(DType t) { return (t >= 17 && t <= 20) || t == 23 || t == 24; }

float half_to_float(uint16_t h) {
  uint32_t s = (h >> 15) & 1, e = (h >> 10) & 31, m = h & 1023;
  float v;
  if (e == 0) v = ldexpf((float)m, -24);
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = ldexpf((float)(m | 1024), (int)e - 25);
  return s ? -v : v;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t s = (x >> 16) & 0x8000;
  int e = (int)((x >> 23) & 255);
  uint32_t m = x & 0x7fffff;
  if (e == 255) return (uint16_t)(s | 0x7c00 | (m ? 0x200 : 0));
  int he = e - 127 + 15;
  if (he >= 31) return (uint16_t)(s | 0x7c00);
  if (he <= 0) {
    if (he < -10) return (uint16_t)s;
    m |= 0x800000;
    int shift = 14 - he;
    uint32_t hm = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (hm & 1))) hm++;
    return (uint16_t)(s | hm);
  }
  uint32_t hm = m >> 13, rem = m & 0x1fff;
  uint32_t r = s | ((uint32_t)he << 10) | hm;
  if (rem > 0x1000 || (rem == 0x1000 && (hm & 1))) r++;
  return (uint16_t)r;
}

float bf16_to_float(uint16_t h) {
  uint32_t x = (uint32_t)h << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}

uint16_t float_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

double elem_get_f64(const void *p, DType t, int64_t i) {
  switch (t) {
  case DT_FLOAT: return ((const float *)p)[i];
  case DT_DOUBLE: return ((const double *)p)[i];
  case DT_FLOAT16: return half_to_float(((const uint16_t *)p)[i]);
  case DT_BFLOAT16: return bf16_to_float(((const uint16_t *)p)[i]);
  case DT_UINT64: return (double)((const uint64_t *)p)[i];
  default:
    if (is_minifloat(t)) return k_f8_dec(((const uint8_t *)p)[i], (int)t);
    return (double)elem_get_i64(p, t, i);
  }
}

int64_t elem_get_i64(const void *p, DType t, int64_t i) {
  switch ((int)t) {
  case DT_UINT8: case DT_BOOL: return ((const uint8_t *)p)[i];
  case DT_INT8: return ((const int8_t *)p)[i];
  case DT_UINT16: return ((const uint16_t *)p)[i];
  case DT_INT16: return ((const int16_t *)p)[i];
  case DT_INT32: return ((const int32_t *)p)[i];
  case DT_INT64: return ((const int64_t *)p)[i];
  case DT_UINT32: return ((const uint32_t *)p)[i];
  case DT_UINT64: return (int64_t)((const uint64_t *)p)[i];
  case 21: case 25: return ((const uint8_t *)p)[i];
  case 22: case 26: return ((const int8_t *)p)[i];
  default: {
    /* the float8 / float4 types: the bit pattern (what a uint8_t array
     * initializer of the generated code needs); elem_get_f64 gives the value */
    if (is_minifloat(t)) return ((const uint8_t *)p)[i];
    double d = elem_get_f64(p, t, i);
    if (d != d) return 0;
    if (d >= 9.2e18) return INT64_MAX;
    if (d <= -9.2e18) return INT64_MIN;
    return (int64_t)d;
  }
  }
}

void elem_set_f64(void *p, DType t, int64_t i, double v) {
  switch ((int)t) {
  case DT_FLOAT: ((float *)p)[i] = (float)v; break;
  case DT_DOUBLE: ((double *)p)[i] = v; break;
  case DT_FLOAT16: ((uint16_t *)p)[i] = float_to_half((float)v); break;
  case DT_BFLOAT16: ((uint16_t *)p)[i] = float_to_bf16((float)v); break;
  case DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
  default:
    /* the float8 / float4 types: the value, as Cast with its defaults
     * (saturate, float8e8m0 rounding up) converts it */
    if (t == 24) ((uint8_t *)p)[i] = k_e8m0_enc(v, 1);
    else if (is_minifloat(t)) ((uint8_t *)p)[i] = k_f8_enc(v, (int)t, 1);
    else elem_set_i64(p, t, i, v != v ? 0 : (int64_t)k_d2i64(v));
    break;
  }
}

void elem_set_i64(void *p, DType t, int64_t i, int64_t v) {
  switch ((int)t) {
  case DT_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
  case DT_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
  case DT_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case DT_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
  case DT_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
  case DT_INT64: ((int64_t *)p)[i] = v; break;
  case DT_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; break;
  case DT_UINT64: ((uint64_t *)p)[i] = (uint64_t)v; break;
  case 21: ((uint8_t *)p)[i] = k_cv_u4_i(v); break;
  case 22: ((int8_t *)p)[i] = k_cv_i4_i(v); break;
  case 25: ((uint8_t *)p)[i] = k_cv_u2_i(v); break;
  case 26: ((int8_t *)p)[i] = k_cv_i2_i(v); break;
  default:
    if (is_minifloat(t)) ((uint8_t *)p)[i] = (uint8_t)v; /* the bit pattern, as elem_get_i64 */
    else elem_set_f64(p, t, i, (double)v);
    break;
  }
}

Graph *graph_new(void) {
  Graph *g = xalloc(sizeof *g);
  return g;
}

Value *graph_find(Graph *g, const char *name) {
  for (Graph *s = g; s; s = s->parent)
    for (int i = 0; i < s->nvalues; i++)
      if (!strcmp(s->values[i]->name, name)) return s->values[i];
  return NULL;
}

static Value *value_alloc(Graph *g, const char *name) {
  Value *v = xalloc(sizeof *v);
  v->name = xstrdup(name);
  v->id = g ? g->nvalues : -1;
  v->rank = -1;
  v->input_index = v->output_index = -1;
  v->offset = -1;
  if (!g) return v;
  g->values = xrealloc(g->values, sizeof(Value *) * (g->nvalues + 1));
  g->values[g->nvalues++] = v;
  return v;
}

Value *graph_value(Graph *g, const char *name) {
  Value *v = graph_find(g, name);
  return v ? v : value_alloc(g, name);
}

int64_t shape_numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}

void value_set_shape(Value *v, DType t, int rank, const int64_t *dims) {
  if (rank < 0 || rank > MAX_RANK) fatal("tensor '%s': rank %d not supported (max %d)", v->name, rank, MAX_RANK);
  v->dtype = t;
  v->rank = rank;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) fatal("tensor '%s': negative dimension %lld", v->name, (long long)dims[i]);
    v->dims[i] = dims[i];
  }
  v->numel = shape_numel(rank, dims);
}

Value *value_new_const(Graph *g, const char *name, DType t, int rank, const int64_t *dims) {
  Value *v = value_alloc(g, name ? name : fmt("const_%d", g ? g->nvalues : 0));
  value_set_shape(v, t, rank, dims);
  v->data = xalloc((size_t)(v->numel * dtype_size(t)) + 1);
  return v;
}

int64_t value_bytes(const Value *v) { return v->numel * dtype_size(v->dtype); }

char *shape_str(const Value *v) {
  Buf b = {0};
  buf_printf(&b, "%s[", dtype_name(v->dtype));
  for (int i = 0; i < v->rank; i++) buf_printf(&b, "%s%lld", i ? "," : "", (long long)v->dims[i]);
  buf_puts(&b, "]");
  return b.s;
}

/* Kahn's algorithm, stable with respect to the model's order. */
void graph_toposort(Graph *g) {
  int n = g->nnodes;
  int *indeg = xalloc(sizeof(int) * (n + 1));
  Node **order = xalloc(sizeof(Node *) * (n + 1));
  unsigned char *done = xalloc(n + 1);
  for (int i = 0; i < n; i++) g->nodes[i]->index = i;
  for (int i = 0; i < n; i++) {
    Node *nd = g->nodes[i];
    for (int k = 0; k < nd->nin; k++)
      if (nd->in[k] && nd->in[k]->producer) indeg[i]++;
  }
  int cnt = 0;
  /* simple O(n^2) worst case is fine for graphs of a few thousand nodes;
   * repeatedly take the first ready node in model order */
  int progress = 1;
  while (cnt < n && progress) {
    progress = 0;
    for (int i = 0; i < n; i++) {
      if (done[i] || indeg[i]) continue;
      Node *nd = g->nodes[i];
      done[i] = 1;
      order[cnt++] = nd;
      progress = 1;
      for (int o = 0; o < nd->nout; o++) {
        Value *v = nd->out[o];
        if (!v) continue;
        for (int j = 0; j < n; j++) {
          if (done[j]) continue;
          Node *c = g->nodes[j];
          for (int k = 0; k < c->nin; k++)
            if (c->in[k] == v) indeg[j]--;
        }
      }
    }
  }
  if (cnt < n) {
    for (int i = 0; i < n; i++)
      if (!done[i]) error_node(g->nodes[i], "graph has a cycle (or an input produced by no node) through this node");
  }
  memcpy(g->nodes, order, sizeof(Node *) * n);
  for (int i = 0; i < n; i++) g->nodes[i]->index = i;
  free(indeg);
  free(order);
  free(done);
}

void graph_dump(Graph *g, FILE *f) {
  fprintf(f, "graph %s (opset %d)\n", g->path ? g->path : "?", g->opset);
  for (int i = 0; i < g->ninputs; i++) fprintf(f, "  input  %s %s\n", g->inputs[i]->name, shape_str(g->inputs[i]));
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    fprintf(f, "  %-4d %-20s %-24s (", i, n->op_type, n->name);
    for (int k = 0; k < n->nin; k++)
      fprintf(f, "%s%s%s", k ? ", " : "", n->in[k] ? n->in[k]->name : "-", n->in[k] && n->in[k]->data ? "*" : "");
    fprintf(f, ") ->");
    for (int k = 0; k < n->nout; k++)
      if (n->out[k]) fprintf(f, " %s %s", n->out[k]->name, n->out[k]->rank >= 0 ? shape_str(n->out[k]) : "?");
    fputc('\n', f);
  }
  for (int i = 0; i < g->noutputs; i++) fprintf(f, "  output %s %s\n", g->outputs[i]->name, shape_str(g->outputs[i]));
}
