/*
 * pass_layout.c: nodes that only move or rename data.
 *
 *   - Identity, and Dropout whose mask nobody reads, are removed: their
 *     readers read the input (not when the output is a graph output).  So
 *     Conv -> Dropout -> Relu still fuses.
 *   - Transpose(Transpose(x)) becomes one Transpose of x with the composed
 *     permutation, and disappears when that is the identity.
 *   - Reshape(R(x)), R a Reshape, Flatten, Squeeze or Unsqueeze with no
 *     other reader, becomes one Reshape of x to the final shape.
 * The first node of a collapsed chain loses its last reader and goes in
 * dead-code elimination.  Each rewrite counts one.
 */
#include "mrtc.h"

#include <string.h>

static int has_readers(Graph *g, Value *v) {
  if (pass_is_graph_output(g, v)) return 1;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == v) return 1;
  }
  return 0;
}

static int remove_passthrough(Graph *g, Node *n) {
  if (n->nin < 1 || !n->in[0] || pass_is_graph_output(g, n->out[0])) return 0;
  for (int k = 1; k < n->nout; k++)
    if (n->out[k] && has_readers(g, n->out[k])) return 0;
  pass_replace_uses(g, n->out[0], n->in[0]);
  n->dead = 1;
  return 1;
}

static Attr *attr_get_or_add(Node *n, const char *name) {
  Attr *a = attr_find(n, name);
  if (a) return a;
  n->attrs = xrealloc(n->attrs, sizeof(Attr) * (n->nattrs + 1));
  a = &n->attrs[n->nattrs++];
  memset(a, 0, sizeof *a);
  a->name = xstrdup(name);
  return a;
}

static void perm_of(Node *t, int rank, int64_t *p) {
  if (attr_ints(t, "perm", p, MAX_RANK) < 0)
    for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
}

static int compose_transpose(Graph *g, Node *t2) {
  Value *mid = t2->in[0];
  Node *t1 = mid->producer;
  if (!t1 || t1->dead || t1->op != OP_Transpose || mid->data || pass_single_consumer(g, mid) != t2) return 0;
  int r = mid->rank;
  int64_t p1[MAX_RANK], p2[MAX_RANK], p[MAX_RANK];
  perm_of(t1, r, p1);
  perm_of(t2, r, p2);
  int ident = 1;
  for (int i = 0; i < r; i++) {
    p[i] = p1[p2[i]]; /* out[i] = mid[p2[i]] = x[p1[p2[i]]] */
    ident &= p[i] == i;
  }
  Value *x = t1->in[0];
  if (ident && !pass_is_graph_output(g, t2->out[0])) {
    pass_replace_uses(g, t2->out[0], x);
    t2->dead = t1->dead = 1;
    return 1;
  }
  Attr *a = attr_get_or_add(t2, "perm");
  a->type = AT_INTS;
  a->ints = xalloc(sizeof(int64_t) * (size_t)(r + 1));
  memcpy(a->ints, p, sizeof(int64_t) * (size_t)r);
  a->nints = r;
  a->used = 1;
  t2->in[0] = x;
  pass_reinfer(t2);
  t1->dead = 1; /* MID had no other reader */
  return 1;
}

static int collapse_reshape(Graph *g, Node *rs) {
  Value *mid = rs->in[0], *out = rs->out[0];
  Node *p = mid->producer;
  if (rs->nin != 2 || !p || p->dead || mid->data || pass_single_consumer(g, mid) != rs) return 0;
  if (p->op != OP_Reshape && p->op != OP_Flatten && p->op != OP_Squeeze && p->op != OP_Unsqueeze) return 0;
  for (int d = 0; d < out->rank; d++)
    if (out->dims[d] == 0) return 0; /* 0 in a shape input means "copy": keep the original */
  int64_t r = out->rank;
  Value *shape = value_new_const(g, fmt("%s_shape", rs->name), DT_INT64, 1, &r);
  memcpy(shape->data, out->dims, sizeof(int64_t) * (size_t)r);
  rs->in[0] = p->in[0];
  rs->in[1] = shape;
  pass_reinfer(rs);
  p->dead = 1; /* MID had no other reader */
  return 1;
}

int pass_layout(Graph *g) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *nd = g->nodes[i];
    if (nd->dead) continue;
    switch (nd->op) {
    case OP_Identity:
    case OP_Dropout: n += remove_passthrough(g, nd); break;
    case OP_Transpose:
      while (!nd->dead && compose_transpose(g, nd)) n++; /* chains of any length */
      break;
    case OP_Reshape:
      while (collapse_reshape(g, nd)) n++;
      break;
    default: break;
    }
  }
  if (n) graph_dce(g);
  return n;
}
