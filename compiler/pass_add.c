/*
 * pass_add.c: an Add after a Conv / Gemm / MatMul ("the host") joins the
 * host's epilogue:
 *   - a constant per-channel addend ([M,1,1], [1,M,1,1]) joins a Conv's
 *     bias; a constant per-column addend ([N], [1,N]) becomes a MatMul's
 *     (MatMul + Add = Gemm) or a C-less Gemm's bias;
 *   - an addend shaped exactly like the output becomes a residual that the
 *     kernel adds while the tile is in registers.  The addend must be
 *     computed before the host runs; of two candidate hosts (resnet's
 *     Add(conv2, downsample)) the later one takes the earlier one's output.
 * A host absorbs the Add only through a value with exactly one reader that
 * is not a graph output, and before any activation.
 */
#include "mrtc.h"

/* a constant that broadcasts along one axis of OUT only: its length, else 0 */
static int64_t axis_const(const Value *c, const Value *out, int axis) {
  if (!pass_const_f32(c) || c->rank > out->rank) return 0;
  int off = out->rank - c->rank;
  for (int d = 0; d < c->rank; d++)
    if (c->dims[d] != (d + off == axis ? out->dims[axis] : 1)) return 0;
  return out->dims[axis];
}

/* constant per-output-channel addend -> the Conv's bias */
static int add_to_bias(Graph *g, Node *host, Node *add, Value *other) {
  Value *out = host->out[0];
  if (host->op != OP_Conv || out->rank < 3 || !axis_const(other, out, 1)) return 0;
  Value *b = node_in(host, 2);
  if (b && !pass_const_f32(b)) return 0;
  int64_t M = out->dims[1];
  Value *nb = value_new_const(g, fmt("%s_b_add", host->name), DT_FLOAT, 1, &M);
  for (int64_t m = 0; m < M; m++) ((float *)nb->data)[m] = (b ? pass_const_f32(b)[m] : 0.0f) + pass_const_f32(other)[m];
  pass_set_bias(host, nb);
  pass_absorb(host, add);
  return 1;
}

/* constant per-column addend -> a MatMul's (or C-less Gemm's) bias */
static int add_to_colbias(Node *host, Node *add, Value *other) {
  Value *out = host->out[0];
  if (host->op == OP_Conv || host->fuse_bias || host->fuse_res || node_in(host, 2)) return 0;
  if (host->op == OP_MatMul && host->in[1]->rank < 2) return 0; /* no column axis: the output ends in M */
  if (!axis_const(other, out, out->rank - 1)) return 0;
  host->fuse_bias = pass_add_input(host, other);
  pass_absorb(host, add);
  return 1;
}

/* position of V's producer in the schedule; -1 for constants and graph inputs */
static int ready_at(Value *v) { return v->producer && !v->data ? v->producer->index : -1; }

static int can_take_residual(Graph *g, Node *host, Value *mine, Value *other, Node *add) {
  if (!pass_is_host(host) || host->fuse_act || host->fuse_res || pass_single_consumer(g, mine) != add) return 0;
  if (host->op == OP_Gemm && node_in(host, 2)) return 0;
  return pass_same_shape(mine, other) && other->dtype == DT_FLOAT && ready_at(other) < host->index;
}

static int fuse_add(Graph *g, Node *add) {
  if (add->nin != 2 || !add->in[0] || !add->in[1] || add->in[0] == add->in[1]) return 0;
  if (!pass_same_shape(add->out[0], add->in[0]) && !pass_same_shape(add->out[0], add->in[1])) return 0;
  Node *best = NULL;
  int mine = 0;
  for (int k = 0; k < 2; k++) {
    Value *v = add->in[k], *other = add->in[1 - k];
    Node *h = v->producer;
    if (!h || !pass_is_host(h) || h->fuse_act || pass_single_consumer(g, v) != add || !pass_same_shape(v, add->out[0]))
      continue;
    if (!h->fuse_res && add_to_bias(g, h, add, other)) return 1;
    if (add_to_colbias(h, add, other)) return 1;
    if (can_take_residual(g, h, v, other, add) && (!best || h->index > best->index)) {
      best = h;
      mine = k;
    }
  }
  if (!best) return 0;
  best->fuse_res = pass_add_input(best, add->in[1 - mine]);
  pass_absorb(best, add);
  return 1;
}

int pass_add(Graph *g) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_Add) n += fuse_add(g, g->nodes[i]);
  return n;
}
