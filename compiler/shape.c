/*
 * shape.c: shape and type inference, constant folding, dead-code removal.
 *
 * After this stage every value has a static dtype and shape.  Symbolic dims
 * in graph inputs are fixed by --shape NAME=DIMS (default 1, with a
 * warning); --bind NAME=FILE turns a graph input into a constant.  Nodes
 * are visited in schedule order; each op's infer hook checks its
 * attributes and inputs and sets its outputs' shapes.  A node whose inputs
 * are all constant is evaluated at once by the reference interpreter and
 * its outputs become constants; Shape-like ops (OPF_FOLD_SHAPE) fold as
 * soon as their input's shape is known.  That is how the
 * Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains that PyTorch
 * exports disappear before code generation.  Finally nodes whose outputs
 * nobody uses are marked dead.
 */
#include "mrtc.h"

#include <stdlib.h>
#include <string.h>

#define FOLD_LIMIT (64LL << 20) /* bytes: larger constant results are computed at run time */

static void apply_shape_specs(Graph *g, const ShapeOpt *o) {
  for (int s = 0; s < o->nshape_specs; s++) {
    char *spec = xstrdup(o->shape_specs[s]);
    char *eq = strchr(spec, '=');
    if (!eq) fatal("--shape '%s': expected NAME=DIMS, e.g. input=1x3x224x224", spec);
    *eq = 0;
    const char *dims = eq + 1;
    int hit = 0;
    /* NAME may be a graph input (all its dims) or a symbolic dim name */
    for (int i = 0; i < g->ninputs; i++) {
      Value *v = g->inputs[i];
      if (!strcmp(v->name, spec)) {
        int64_t d[MAX_RANK];
        int r = 0;
        char *p = (char *)dims;
        while (*p) {
          if (r == MAX_RANK) fatal("--shape '%s': too many dims", o->shape_specs[s]);
          char *end;
          d[r++] = strtoll(p, &end, 10);
          if (end == p || d[r - 1] < 0) fatal("--shape '%s': bad dims '%s'", o->shape_specs[s], dims);
          p = end;
          if (*p == 'x' || *p == ',') p++;
          else if (*p) fatal("--shape '%s': bad dims '%s'", o->shape_specs[s], dims);
        }
        if (v->rank >= 0 && v->rank != r)
          fatal("--shape '%s': input '%s' has rank %d", o->shape_specs[s], v->name, v->rank);
        v->rank = r;
        for (int k = 0; k < r; k++) {
          if (v->dim_param[k] == NULL && v->dims[k] >= 0 && v->dims[k] != d[k])
            warn("--shape overrides static dim %d of '%s' (%lld -> %lld)", k, v->name, (long long)v->dims[k], (long long)d[k]);
          v->dims[k] = d[k];
          v->dim_param[k] = NULL;
        }
        hit = 1;
      }
      for (int k = 0; k < v->rank; k++)
        if (v->dim_param[k] && !strcmp(v->dim_param[k], spec)) {
          char *end;
          long long x = strtoll(dims, &end, 10);
          if (*end || x < 0) fatal("--shape '%s': a symbolic dim takes one number", o->shape_specs[s]);
          v->dims[k] = x;
          v->dim_param[k] = NULL;
          hit = 1;
        }
    }
    if (!hit) fatal("--shape '%s': no graph input or symbolic dim named '%s'", o->shape_specs[s], spec);
  }
  for (int i = 0; i < g->ninputs; i++) {
    Value *v = g->inputs[i];
    if (v->rank < 0) fatal("%s: graph input '%s' has no shape; give it with --shape %s=DIMS", g->path, v->name, v->name);
    for (int k = 0; k < v->rank; k++)
      if (v->dims[k] < 0) {
        warn("%s: graph input '%s' dim %d ('%s') is symbolic; using 1 (set it with --shape %s=N)", g->path, v->name, k,
             v->dim_param[k] ? v->dim_param[k] : "?", v->dim_param[k] ? v->dim_param[k] : v->name);
        v->dims[k] = 1;
        v->dim_param[k] = NULL;
      }
    if (!dtype_supported(v->dtype))
      fatal("%s: graph input '%s' has type %s, which is not supported", g->path, v->name, dtype_name(v->dtype));
    value_set_shape(v, v->dtype, v->rank, v->dims);
  }
}

static void apply_binds(Graph *g, const ShapeOpt *o) {
  for (int s = 0; s < o->nbind_specs; s++) {
    char *spec = xstrdup(o->bind_specs[s]);
    char *eq = strchr(spec, '=');
    if (!eq) fatal("--bind '%s': expected NAME=FILE", spec);
    *eq = 0;
    int idx = -1;
    for (int i = 0; i < g->ninputs; i++)
      if (!strcmp(g->inputs[i]->name, spec)) idx = i;
    if (idx < 0) fatal("--bind '%s': no graph input named '%s'", o->bind_specs[s], spec);
    Value *v = g->inputs[idx], *c = tensor_file_read(eq + 1);
    if (v->dtype && c->dtype != v->dtype)
      fatal("--bind '%s': file has type %s, input '%s' is %s", o->bind_specs[s], dtype_name(c->dtype), v->name, dtype_name(v->dtype));
    value_set_shape(v, c->dtype, c->rank, c->dims);
    v->data = c->data;
    v->is_input = 0;
    v->input_index = -1;
    memmove(&g->inputs[idx], &g->inputs[idx + 1], sizeof(Value *) * (g->ninputs - idx - 1));
    g->ninputs--;
    for (int i = 0; i < g->ninputs; i++) g->inputs[i]->input_index = i;
  }
}

static void check_node(Graph *g, Node *n) {
  n->op = op_lookup(n->domain, n->op_type);
  if (n->op < 0) {
    if (n->domain[0] && strcmp(n->domain, "ai.onnx"))
      error_node(n, "operator domain '%s' is not supported", n->domain);
    error_node(n, "unsupported operator");
  }
  const OpDef *d = op_defs[n->op];
  if (n->nin < d->min_in || (d->max_in >= 0 && n->nin > d->max_in))
    error_node(n, "has %d inputs; the op takes %d to %d", n->nin, d->min_in, d->max_in);
  if (n->nout < d->min_out || (d->max_out >= 0 && n->nout > d->max_out))
    error_node(n, "has %d outputs; the op takes %d to %d", n->nout, d->min_out, d->max_out);
  for (int k = 0; k < n->nin; k++) {
    Value *v = n->in[k];
    if (v && !v->producer && !v->data && !v->is_input) {
      /* maybe defined in an outer scope (subgraphs) */
      error_node(n, "input '%s' is produced by no node and is not a graph input or initializer", v->name);
    }
  }
  /* an unnamed first output is legal where the op makes it optional (Y of
   * RNN, GRU, LSTM); a node with no named output at all is dead */
  int named = 0;
  for (int k = 0; k < n->nout; k++) named |= n->out[k] != NULL;
  if (!named) n->dead = 1;
  else if (n->nout && !n->out[0] && n->op != OP_RNN && n->op != OP_GRU && n->op != OP_LSTM)
    error_node(n, "first output has no name");
  (void)g;
}

/* attributes nobody read are unsupported: refuse rather than ignore */
static void check_attrs(Node *n) {
  const char *allowed = op_defs[n->op]->attrs ? op_defs[n->op]->attrs : "";
  for (int i = 0; i < n->nattrs; i++) {
    const char *a = n->attrs[i].name;
    size_t len = strlen(a);
    const char *p = allowed;
    int ok = 0;
    while ((p = strstr(p, a))) {
      if ((p == allowed || p[-1] == ',') && (p[len] == ',' || p[len] == 0)) { ok = 1; break; }
      p += len;
    }
    if (!ok) error_node(n, "attribute '%s' is not supported", a);
  }
}

static int can_fold(Node *n) {
  const OpDef *d = op_defs[n->op];
  if (!d->eval || (d->flags & OPF_NOFOLD)) return 0;
  int64_t bytes = 0;
  for (int k = 0; k < n->nout; k++)
    if (n->out[k]) bytes += value_bytes(n->out[k]);
  if (bytes > FOLD_LIMIT) return 0;
  if (d->flags & OPF_FOLD_SHAPE) return 1;
  for (int k = 0; k < n->nin; k++)
    if (n->in[k] && !n->in[k]->data) return 0;
  return 1;
}

static void fold(Node *n) {
  void *in[64] = {0}, *out[64] = {0};
  if (n->nin > 64 || n->nout > 64) return;
  for (int k = 0; k < n->nin; k++) in[k] = n->in[k] ? n->in[k]->data : NULL;
  for (int k = 0; k < n->nout; k++)
    if (n->out[k]) out[k] = xalloc((size_t)value_bytes(n->out[k]) + 8);
  op_defs[n->op]->eval(n, in, out);
  for (int k = 0; k < n->nout; k++)
    if (n->out[k]) n->out[k]->data = out[k];
  n->dead = 1;
  verbose("folded node '%s' (%s)", n->name, n->op_type);
}

void graph_dce(Graph *g) {
  for (int i = 0; i < g->nvalues; i++) g->values[i]->nuse = 0;
  for (int i = 0; i < g->noutputs; i++) g->outputs[i]->nuse++;
  for (int i = g->nnodes - 1; i >= 0; i--) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    int used = 0;
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] && n->out[k]->nuse) used = 1;
    if (!used) {
      n->dead = 1;
      continue;
    }
    for (int k = 0; k < n->nin; k++)
      if (n->in[k]) n->in[k]->nuse++;
  }
}

/* If with a constant condition: the chosen branch's nodes and values move
 * into the graph right after the If, and Identity nodes connect the
 * branch's outputs to the If's outputs. */
static void inline_if(Graph *g, int at) {
  Node *n = g->nodes[at];
  Value *c = need_const(n, 0);
  if (c->numel != 1) error_node(n, "condition must hold one element");
  int cond = elem_get_f64(c->data, c->dtype, 0) != 0;
  Attr *a = attr_find(n, cond ? "then_branch" : "else_branch");
  if (!a || a->type != AT_GRAPH || !a->g) error_node(n, "attribute '%s' (a graph) is required", cond ? "then_branch" : "else_branch");
  Graph *sg = a->g;
  if (sg->noutputs != n->nout) error_node(n, "branch has %d outputs, the node %d", sg->noutputs, n->nout);
  for (int i = 0; i < sg->nvalues; i++) {
    Value *v = sg->values[i];
    v->id = g->nvalues;
    g->values = xrealloc(g->values, sizeof(Value *) * (g->nvalues + 1));
    g->values[g->nvalues++] = v;
  }
  int add = sg->nnodes + n->nout;
  g->nodes = xrealloc(g->nodes, sizeof(Node *) * (g->nnodes + add));
  memmove(&g->nodes[at + 1 + add], &g->nodes[at + 1], sizeof(Node *) * (g->nnodes - at - 1));
  for (int i = 0; i < sg->nnodes; i++) {
    Node *b = sg->nodes[i];
    b->name = fmt("%s/%s", n->name, b->name);
    check_node(g, b);
    g->nodes[at + 1 + i] = b;
  }
  for (int k = 0; k < n->nout; k++) {
    Node *id = xalloc(sizeof *id);
    id->name = fmt("%s/output_%d", n->name, k);
    id->op_type = "Identity";
    id->domain = "";
    id->op = OP_Identity;
    id->opset = n->opset;
    id->nin = id->nout = 1;
    id->in = xalloc(sizeof(Value *));
    id->out = xalloc(sizeof(Value *));
    id->in[0] = sg->outputs[k];
    id->out[0] = n->out[k];
    if (n->out[k]) n->out[k]->producer = id;
    g->nodes[at + 1 + sg->nnodes + k] = id;
  }
  g->nnodes += add;
  n->dead = 1;
  n->nout = 0;
}

void shape_infer(Graph *g, const ShapeOpt *o) {
  apply_shape_specs(g, o);
  apply_binds(g, o);
  for (int i = 0; i < g->nnodes; i++) check_node(g, g->nodes[i]);
  graph_toposort(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] && n->in[k]->rank < 0)
        error_node(n, "input '%s' has no known shape", n->in[k]->name);
    if (n->dead) continue;
    if (n->op == OP_If) {
      inline_if(g, i);
      continue;
    }
    check_attrs(n);
    op_defs[n->op]->infer(n);
    for (int k = 0; k < n->nout; k++) {
      Value *v = n->out[k];
      if (!v) continue;
      if (v->rank < 0 || !dtype_supported(v->dtype)) error_node(n, "output %d: shape/type inference failed", k);
      v->numel = shape_numel(v->rank, v->dims);
    }
    if (!o->no_fold && can_fold(n)) fold(n);
  }
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i]->rank < 0) fatal("%s: graph output '%s' has no shape", g->path, g->outputs[i]->name);
  graph_dce(g);
}
