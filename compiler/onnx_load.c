/*
 * onnx_load.c: model.onnx -> Graph.  The only file that sees protobuf.
 *
 * protobuf-c decodes the ModelProto (C code generated at build time from
 * Debian's /usr/include/onnx/onnx.proto).  We then build the IR: every
 * initializer becomes a constant value (all encodings: raw_data, the typed
 * repeated fields, and external data files resolved relative to the model
 * and refused if they leave its directory); graph inputs that are also
 * initializers stay constants (ONNX says an initializer is the default value
 * of an input; an inference compiler fixes it); every node keeps its
 * attributes, with tensor attributes decoded and subgraphs loaded
 * recursively; the default-domain opset version is stored on each node so
 * op hooks can honour the semantics of the imported version.
 */
#include "mrtc.h"
#include "onnx.pb-c.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *cur_file;
static void expand_node(Onnx__NodeProto *np, Onnx__NodeProto ***out, size_t *nout, int depth);

/* ---- tensors ---- */

static int safe_relpath(const char *dir, const char *loc, char **out) {
  if (!loc[0] || loc[0] == '/') return 0;
  char *full = fmt("%s/%s", dir, loc);
  char rd[PATH_MAX], rf[PATH_MAX];
  if (!realpath(dir, rd)) return 0;
  if (!realpath(full, rf)) {
    *out = full; /* does not exist: reported by the reader */
    return strstr(loc, "..") == NULL;
  }
  size_t n = strlen(rd);
  if (strncmp(rd, rf, n) || (rf[n] != '/' && rf[n] != 0)) return 0;
  *out = full;
  return 1;
}

static void read_external(Onnx__TensorProto *t, const char *dir, void *dst, size_t bytes, const char *what) {
  const char *loc = NULL;
  long long off = 0, len = -1;
  for (size_t i = 0; i < t->n_external_data; i++) {
    Onnx__StringStringEntryProto *kv = t->external_data[i];
    if (!kv->key || !kv->value) continue;
    if (!strcmp(kv->key, "location")) loc = kv->value;
    else if (!strcmp(kv->key, "offset")) off = atoll(kv->value);
    else if (!strcmp(kv->key, "length")) len = atoll(kv->value);
  }
  if (!loc) fatal("%s: %s: external data without a location", cur_file, what);
  char *path = NULL;
  if (!dir || !safe_relpath(dir, loc, &path))
    fatal("%s: %s: external data path '%s' leaves the model's directory; refused", cur_file, what, loc);
  if (len >= 0 && (size_t)len != bytes)
    fatal("%s: %s: external data length %lld does not match the tensor's %zu bytes", cur_file, what, len, bytes);
  FILE *f = fopen(path, "rb");
  if (!f) fatal("%s: %s: cannot open external data file '%s'", cur_file, what, path);
  if (off < 0 || fseek(f, off, SEEK_SET) || fread(dst, 1, bytes, f) != bytes) {
    fclose(f);
    fatal("%s: %s: external data file '%s' is too short", cur_file, what, path);
  }
  fclose(f);
}

/* bits per element of the packed sub-byte types (ONNX stores uint4, int4
 * and float4e2m1 two to a byte, uint2 and int2 four, the first element in
 * the least significant bits), 0 for the others */
static int packed_bits(DType dt) {
  switch ((int)dt) {
  case 21: case 22: case 23: return 4;
  case 25: case 26: return 2;
  default: return 0;
  }
}

/* packed bytes -> one element per byte (signed types sign-extended;
 * float4e2m1 keeps its 4-bit pattern) */
static void unpack_sub_byte(DType dt, const unsigned char *src, void *dst, int64_t numel) {
  int bits = packed_bits(dt), per = 8 / bits, sgn = dt == 22 || dt == 26;
  unsigned mask = (1u << bits) - 1;
  unsigned char *o = dst;
  for (int64_t i = 0; i < numel; i++) {
    unsigned x = (src[i / per] >> ((i % per) * bits)) & mask;
    if (sgn && (x & (1u << (bits - 1)))) x |= ~mask;
    o[i] = (unsigned char)x;
  }
}

/* Decodes a TensorProto into a new constant value (not registered in any
 * graph when g is NULL). */
static Value *tensor_from_proto(Graph *g, Onnx__TensorProto *t, const char *dir, const char *what) {
  DType dt = (DType)t->data_type;
  if (t->n_dims > MAX_RANK) fatal("%s: %s: rank %zu not supported", cur_file, what, t->n_dims);
  int64_t dims[MAX_RANK];
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0) fatal("%s: %s: negative dimension", cur_file, what);
    dims[i] = t->dims[i];
  }
  if (dt == DT_STRING) fatal("%s: %s: string tensors are not supported (see README: out of scope)", cur_file, what);
  if (!dtype_supported(dt)) fatal("%s: %s: tensor data type %s is not supported", cur_file, what, dtype_name(dt));
  int64_t numel = shape_numel((int)t->n_dims, dims);
  if (numel > ((int64_t)1 << 34)) fatal("%s: %s: tensor too large", cur_file, what);
  Value *v = value_new_const(g, t->name && t->name[0] ? t->name : NULL, dt, (int)t->n_dims, dims);
  size_t bytes = (size_t)(numel * dtype_size(dt));
  int pb = packed_bits(dt);
  if (pb) { /* packed: ceil(numel * bits / 8) bytes in raw_data, external data, or one byte per int32_data entry */
    size_t pbytes = (size_t)((numel * pb + 7) / 8);
    unsigned char *tmp = xalloc(pbytes + 1);
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
      read_external(t, dir, tmp, pbytes, what);
    else if (t->has_raw_data) {
      if (t->raw_data.len != pbytes)
        fatal("%s: %s: raw_data holds %zu bytes, shape %s needs %zu (packed)", cur_file, what, t->raw_data.len,
              shape_str(v), pbytes);
      if (pbytes) memcpy(tmp, t->raw_data.data, pbytes);
    } else {
      if (t->n_int32_data != pbytes)
        fatal("%s: %s: int32_data holds %zu entries, shape %s needs %zu (packed)", cur_file, what, t->n_int32_data,
              shape_str(v), pbytes);
      for (size_t i = 0; i < pbytes; i++) tmp[i] = (unsigned char)t->int32_data[i];
    }
    unpack_sub_byte(dt, tmp, v->data, numel);
    free(tmp);
    return v;
  }
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    read_external(t, dir, v->data, bytes, what);
    return v;
  }
  if (t->has_raw_data) {
    if (t->raw_data.len != bytes)
      fatal("%s: %s: raw_data holds %zu bytes, shape %s needs %zu", cur_file, what, t->raw_data.len, shape_str(v), bytes);
    if (bytes) memcpy(v->data, t->raw_data.data, bytes);
    return v;
  }
  size_t have;
  switch (dt) {
  case DT_FLOAT:
    have = t->n_float_data;
    if (have == (size_t)numel && bytes) memcpy(v->data, t->float_data, bytes);
    break;
  case DT_DOUBLE:
    have = t->n_double_data;
    if (have == (size_t)numel && bytes) memcpy(v->data, t->double_data, bytes);
    break;
  case DT_INT64:
    have = t->n_int64_data;
    if (have == (size_t)numel && bytes) memcpy(v->data, t->int64_data, bytes);
    break;
  case DT_UINT32: case DT_UINT64:
    have = t->n_uint64_data;
    if (have == (size_t)numel)
      for (int64_t i = 0; i < numel; i++) elem_set_i64(v->data, dt, i, (int64_t)t->uint64_data[i]);
    break;
  default: /* int32_data carries int32 and every narrower type, fp16 and float8 as bits */
    have = t->n_int32_data;
    if (have == (size_t)numel)
      for (int64_t i = 0; i < numel; i++) {
        if (dt == DT_FLOAT16 || dt == DT_BFLOAT16) ((uint16_t *)v->data)[i] = (uint16_t)t->int32_data[i];
        else if (dtype_is_float(dt) && dtype_size(dt) == 1) ((uint8_t *)v->data)[i] = (uint8_t)t->int32_data[i]; /* float8 bits */
        else elem_set_i64(v->data, dt, i, t->int32_data[i]);
      }
    break;
  }
  if (have != (size_t)numel)
    fatal("%s: %s: tensor holds %zu elements, shape %s needs %lld", cur_file, what, have, shape_str(v), (long long)numel);
  return v;
}

/* ---- types of graph inputs/outputs ---- */

static void apply_type(Value *v, Onnx__TypeProto *tp) {
  if (!tp) return;
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    fatal("%s: graph value '%s': only tensor types are supported (sequences, maps and optionals are out of scope)", cur_file, v->name);
  Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (!tt) return;
  v->dtype = (DType)tt->elem_type;
  if (!tt->shape) return;
  Onnx__TensorShapeProto *sp = tt->shape;
  if (sp->n_dim > MAX_RANK) fatal("%s: graph value '%s': rank %zu not supported", cur_file, v->name, sp->n_dim);
  v->rank = (int)sp->n_dim;
  for (size_t i = 0; i < sp->n_dim; i++) {
    Onnx__TensorShapeProto__Dimension *d = sp->dim[i];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0) {
      v->dims[i] = d->dim_value;
    } else {
      v->dims[i] = -1;
      v->dim_param[i] = xstrdup(d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param
                                    ? d->dim_param : "?");
    }
  }
}

/* ---- graphs ---- */

static Graph *load_graph(Onnx__GraphProto *gp, Graph *parent, const char *dir, int opset);

static void load_attr(Graph *g, Node *n, Attr *a, Onnx__AttributeProto *ap, const char *dir, int opset) {
  a->name = xstrdup(ap->name ? ap->name : "");
  a->type = ap->has_type ? (AttrType)ap->type : AT_UNDEF;
  if (ap->ref_attr_name && ap->ref_attr_name[0])
    fatal("%s: node '%s' (%s): attribute '%s' refers to a function attribute outside a function", cur_file, n->name, n->op_type, a->name);
  a->f = ap->f;
  a->i = ap->i;
  if (ap->has_s) {
    a->s = xalloc(ap->s.len + 1);
    memcpy(a->s, ap->s.data, ap->s.len);
  }
  if (ap->n_ints) {
    a->nints = (int)ap->n_ints;
    a->ints = xalloc(sizeof(int64_t) * ap->n_ints);
    memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
  }
  if (ap->n_floats) {
    a->nfloats = (int)ap->n_floats;
    a->floats = xalloc(sizeof(float) * ap->n_floats);
    memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
  }
  if (ap->n_strings) {
    a->nstrings = (int)ap->n_strings;
    a->strings = xalloc(sizeof(char *) * ap->n_strings);
    for (size_t i = 0; i < ap->n_strings; i++) {
      a->strings[i] = xalloc(ap->strings[i].len + 1);
      memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
    }
  }
  if (ap->t) a->t = tensor_from_proto(NULL, ap->t, dir, fmt("node '%s' (%s) attribute '%s'", n->name, n->op_type, a->name));
  if (ap->g) a->g = load_graph(ap->g, g, dir, opset);
  if (a->type == AT_UNDEF) { /* IR v1 models: infer from content */
    if (ap->t) a->type = AT_TENSOR;
    else if (ap->g) a->type = AT_GRAPH;
    else if (ap->n_ints) a->type = AT_INTS;
    else if (ap->n_floats) a->type = AT_FLOATS;
    else if (ap->n_strings) a->type = AT_STRINGS;
    else if (ap->has_s) a->type = AT_STRING;
    else if (ap->has_f) a->type = AT_FLOAT;
    else a->type = AT_INT;
  }
}

static Graph *load_graph(Onnx__GraphProto *gp, Graph *parent, const char *dir, int opset) {
  Graph *g = graph_new();
  g->parent = parent;
  g->opset = opset;
  g->path = parent ? parent->path : NULL;
  g->dir = parent ? parent->dir : NULL;
  if (gp->n_sparse_initializer) fatal("%s: sparse initializers are not supported", cur_file);
  for (size_t i = 0; i < gp->n_initializer; i++) {
    Onnx__TensorProto *t = gp->initializer[i];
    if (!t->name || !t->name[0]) fatal("%s: initializer #%zu has no name", cur_file, i);
    if (graph_find(g, t->name) && graph_find(g, t->name)->data) fatal("%s: initializer '%s' defined twice", cur_file, t->name);
    tensor_from_proto(g, t, dir, fmt("initializer '%s'", t->name));
  }
  for (size_t i = 0; i < gp->n_input; i++) {
    Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi->name) fatal("%s: graph input #%zu has no name", cur_file, i);
    Value *v = graph_find(g, vi->name);
    if (v && v->data) continue; /* initializer doubling as input: a constant */
    v = graph_value(g, vi->name);
    apply_type(v, vi->type);
    if (!vi->type) fatal("%s: graph input '%s' has no type", cur_file, vi->name);
    v->is_input = 1;
    v->input_index = g->ninputs;
    g->inputs = xrealloc(g->inputs, sizeof(Value *) * (g->ninputs + 1));
    g->inputs[g->ninputs++] = v;
  }
  Onnx__NodeProto **flat = NULL;
  size_t nflat = 0;
  for (size_t i = 0; i < gp->n_node; i++) expand_node(gp->node[i], &flat, &nflat, 0);
  for (size_t i = 0; i < nflat; i++) {
    Onnx__NodeProto *np = flat[i];
    Node *n = xalloc(sizeof *n);
    n->op_type = xstrdup(np->op_type ? np->op_type : "");
    n->domain = xstrdup(np->domain ? np->domain : "");
    n->name = np->name && np->name[0] ? xstrdup(np->name) : fmt("%s_%zu", n->op_type, i);
    n->opset = opset;
    n->nin = (int)np->n_input;
    n->in = xalloc(sizeof(Value *) * (np->n_input + 1));
    for (size_t k = 0; k < np->n_input; k++)
      if (np->input[k] && np->input[k][0]) {
        n->in[k] = graph_find(g, np->input[k]);
        if (!n->in[k]) n->in[k] = graph_value(g, np->input[k]); /* produced later (or never: toposort reports) */
      }
    n->nout = (int)np->n_output;
    n->out = xalloc(sizeof(Value *) * (np->n_output + 1));
    for (size_t k = 0; k < np->n_output; k++)
      if (np->output[k] && np->output[k][0]) {
        Value *v = NULL;
        for (int j = 0; j < g->nvalues; j++)
          if (!strcmp(g->values[j]->name, np->output[k])) v = g->values[j];
        if (v && (v->producer || v->data || v->is_input))
          fatal("%s: node '%s' (%s): output '%s' is already defined", cur_file, n->name, n->op_type, np->output[k]);
        if (!v) { /* local (may shadow an outer scope's name) */
          Graph *save = g->parent;
          g->parent = NULL;
          v = graph_value(g, np->output[k]);
          g->parent = save;
        }
        v->producer = n;
        n->out[k] = v;
      }
    n->nattrs = (int)np->n_attribute;
    n->attrs = xalloc(sizeof(Attr) * (np->n_attribute + 1));
    for (size_t k = 0; k < np->n_attribute; k++) load_attr(g, n, &n->attrs[k], np->attribute[k], dir, opset);
    g->nodes = xrealloc(g->nodes, sizeof(Node *) * (g->nnodes + 1));
    g->nodes[g->nnodes++] = n;
  }
  for (size_t i = 0; i < gp->n_output; i++) {
    Onnx__ValueInfoProto *vi = gp->output[i];
    if (!vi->name) fatal("%s: graph output #%zu has no name", cur_file, i);
    Value *v = graph_find(g, vi->name);
    if (!v) fatal("%s: graph output '%s' is produced by no node", cur_file, vi->name);
    if (vi->type && vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
      fatal("%s: graph output '%s': only tensor types are supported (sequences, maps and optionals are out of scope)", cur_file, vi->name);
    g->outputs = xrealloc(g->outputs, sizeof(Value *) * (g->noutputs + 1));
    g->outputs[g->noutputs++] = v;
  }
  return g;
}

/* ---- model-local functions ----
 * A node that calls a FunctionProto of the model is replaced by the
 * function's body: formal inputs/outputs renamed to the call's actual
 * names, internal names prefixed with the call node's name, attribute
 * references (ref_attr_name) replaced by the call's attribute of that name
 * (dropped when the call has none).  Bodies may call other functions. */

static Onnx__ModelProto *cur_model;

static Onnx__FunctionProto *find_function(const char *domain, const char *name) {
  if (!cur_model) return NULL;
  for (size_t i = 0; i < cur_model->n_functions; i++) {
    Onnx__FunctionProto *f = cur_model->functions[i];
    if (f->name && !strcmp(f->name, name) && !strcmp(f->domain ? f->domain : "", domain ? domain : "")) return f;
  }
  return NULL;
}

static const char *rename_in_call(Onnx__FunctionProto *f, Onnx__NodeProto *call, const char *prefix, const char *nm) {
  if (!nm || !nm[0]) return "";
  for (size_t i = 0; i < f->n_input; i++)
    if (!strcmp(f->input[i], nm)) return i < call->n_input ? call->input[i] : "";
  for (size_t i = 0; i < f->n_output; i++)
    if (!strcmp(f->output[i], nm)) return i < call->n_output ? call->output[i] : "";
  return fmt("%s/%s", prefix, nm);
}

static void expand_node(Onnx__NodeProto *np, Onnx__NodeProto ***out, size_t *nout, int depth) {
  Onnx__FunctionProto *f = find_function(np->domain, np->op_type);
  if (!f) {
    *out = xrealloc(*out, sizeof(**out) * (*nout + 1));
    (*out)[(*nout)++] = np;
    return;
  }
  if (depth > 16) fatal("%s: node '%s': function '%s' nests too deeply (recursive?)", cur_file, np->name, np->op_type);
  const char *prefix = np->name && np->name[0] ? np->name : fmt("%s_call%zu", np->op_type, *nout);
  for (size_t i = 0; i < f->n_node; i++) {
    Onnx__NodeProto *b = f->node[i], *c = xalloc(sizeof *c);
    onnx__node_proto__init(c);
    c->op_type = b->op_type;
    c->domain = b->domain;
    c->name = fmt("%s/%s", prefix, b->name && b->name[0] ? b->name : fmt("%zu", i));
    c->n_input = b->n_input;
    c->input = xalloc(sizeof(char *) * (b->n_input + 1));
    for (size_t k = 0; k < b->n_input; k++) c->input[k] = (char *)rename_in_call(f, np, prefix, b->input[k]);
    c->n_output = b->n_output;
    c->output = xalloc(sizeof(char *) * (b->n_output + 1));
    for (size_t k = 0; k < b->n_output; k++) c->output[k] = (char *)rename_in_call(f, np, prefix, b->output[k]);
    c->attribute = xalloc(sizeof(void *) * (b->n_attribute + 1));
    for (size_t k = 0; k < b->n_attribute; k++) {
      Onnx__AttributeProto *a = b->attribute[k];
      if (a->ref_attr_name && a->ref_attr_name[0]) {
        Onnx__AttributeProto *src = NULL;
        for (size_t j = 0; j < np->n_attribute; j++)
          if (!strcmp(np->attribute[j]->name, a->ref_attr_name)) src = np->attribute[j];
        if (!src) continue;
        Onnx__AttributeProto *cp = xalloc(sizeof *cp);
        *cp = *src;
        cp->name = a->name;
        c->attribute[c->n_attribute++] = cp;
      } else
        c->attribute[c->n_attribute++] = a;
    }
    expand_node(c, out, nout, depth + 1);
  }
}

static Onnx__ModelProto *parse_model(const char *path, void **buf_out) {
  size_t len;
  char *buf = read_file(path, &len);
  if (!buf) fatal("%s: cannot read file", path);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, (const uint8_t *)buf);
  if (!m) fatal("%s: not a valid ONNX model (protobuf decoding failed; truncated or not an .onnx file?)", path);
  if (!m->graph) fatal("%s: not a valid ONNX model (no graph)", path);
  *buf_out = buf;
  return m;
}

Graph *onnx_load(const char *path) {
  cur_file = path;
  void *buf;
  Onnx__ModelProto *m = parse_model(path, &buf);
  int opset = 0;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx")) opset = (int)o->version;
  }
  if (!opset) {
    if (m->n_opset_import) opset = 1;
    else opset = 1; /* IR v1-v2 models without opset_import mean opset 1 */
  }
  char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else dir = xstrdup(".");
  cur_model = m; /* model-local functions are inlined by load_graph */
  if (m->n_training_info) warn("%s: training_info is ignored", path);
  Graph *g = load_graph(m->graph, NULL, dir, opset);
  g->path = xstrdup(path);
  g->dir = dir;
  g->ir_version = m->ir_version;
  g->producer = xstrdup(m->producer_name ? m->producer_name : "");
  /* subgraphs share the file name */
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i]->nattrs; k++)
      if (g->nodes[i]->attrs[k].g) {
        g->nodes[i]->attrs[k].g->path = g->path;
        g->nodes[i]->attrs[k].g->dir = g->dir;
      }
  /* the protobuf (and its strings, which inlined nodes borrow) stays alive:
   * the compiler is short-lived */
  cur_model = NULL;
  return g;
}

Value *onnx_load_tensor_pb(const char *path) {
  size_t len;
  char *buf = read_file(path, &len);
  if (!buf) fatal("%s: cannot read file", path);
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, (const uint8_t *)buf);
  if (!t) fatal("%s: not a serialized onnx.TensorProto", path);
  const char *save = cur_file;
  cur_file = path;
  char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else dir = xstrdup(".");
  Value *v = tensor_from_proto(NULL, t, dir, "tensor");
  cur_file = save;
  onnx__tensor_proto__free_unpacked(t, NULL);
  free(buf);
  return v;
}
