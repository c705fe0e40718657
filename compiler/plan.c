/*
 * plan.c: static memory planning into one arena.
 *
 * 1. Schedule positions: live nodes numbered in schedule order.
 * 2. Storage roots: a view op's output (Reshape, Flatten, ...) shares its
 *    input's storage; an in-place op's output (OPF_INPLACE) takes its
 *    input's storage when that input dies at this node and has the same
 *    size.  The parts of a Concat whose parts are contiguous runs of its
 *    output (nothing but ones before the axis: NCHW channels, batch 1)
 *    live inside the output, each at its byte offset (Value.alias_off),
 *    so their producers write them in place and the Concat copies nothing;
 *    the output's lifetime then starts at its first part's birth.  Graph inputs, graph outputs and constants are not in the arena
 *    (outputs are written straight to the caller's buffers).
 * 3. Each root in the arena gets a lifetime [first, last] (the union over
 *    its aliases) and a size rounded up to ALIGN bytes.  Kernel scratch is
 *    a root that lives for one node.
 * 4. Greedy by size: roots sorted largest first; each takes the smallest
 *    gap, between roots already placed whose lifetimes overlap its own,
 *    that fits it (best fit), or else the end of those.
 * 5. The lower bound is the largest sum of simultaneously live root sizes;
 *    no plan can be smaller.
 */
#include "mrtc.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64

typedef struct Slot {
  Value *v;       /* NULL for scratch */
  Node *scratch;  /* node owning the scratch */
  int64_t size, off;
  int first, last;
} Slot;

static Value *root(Value *v) {
  while (v->alias) v = v->alias;
  return v;
}

static int in_arena(Value *v) { return !v->data && !v->is_input && v->output_index < 0; }

static int cmp_slot(const void *a, const void *b) {
  const Slot *x = *(const Slot *const *)a, *y = *(const Slot *const *)b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  return x->first - y->first;
}

static int cmp_off(const void *a, const void *b) {
  const Slot *x = *(const Slot *const *)a, *y = *(const Slot *const *)b;
  return x->off < y->off ? -1 : x->off > y->off;
}

/* best-fit placement of s among placed slots; returns offset */
static int64_t place(Slot *s, Slot **placed, int np, Slot **tmp) {
  int k = 0;
  for (int i = 0; i < np; i++)
    if (placed[i]->first <= s->last && s->first <= placed[i]->last) tmp[k++] = placed[i];
  qsort(tmp, k, sizeof *tmp, cmp_off);
  int64_t best = -1, best_gap = INT64_MAX, cur = 0;
  for (int i = 0; i < k; i++) {
    int64_t gap = tmp[i]->off - cur;
    if (gap >= s->size && gap < best_gap) {
      best = cur;
      best_gap = gap;
    }
    if (tmp[i]->off + tmp[i]->size > cur) cur = tmp[i]->off + tmp[i]->size;
  }
  return best >= 0 ? best : cur;
}

void plan_memory(Graph *g, Plan *p) {
  memset(p, 0, sizeof *p);
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    v->alias = NULL;
    v->alias_off = 0;
    v->offset = -1;
    v->first = v->last = -1;
    v->output_index = -1;
  }
  /* weights: constants that live nodes read or graph outputs return */
  unsigned char *seen = xalloc(g->nvalues + 1);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++) {
      Value *v = n->in[k];
      if (v && v->data && v->id >= 0 && !seen[v->id]) {
        seen[v->id] = 1;
        p->weights_bytes += value_bytes(v);
      }
    }
  }
  for (int i = 0; i < g->noutputs; i++) {
    Value *v = g->outputs[i];
    if (v->data && v->id >= 0 && !seen[v->id]) {
      seen[v->id] = 1;
      p->weights_bytes += value_bytes(v);
    }
  }
  free(seen);
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i]->output_index < 0) g->outputs[i]->output_index = i;
  int pos = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    n->index = pos++;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k]) n->in[k]->last = n->index;
    for (int k = 0; k < n->nout; k++)
      if (n->out[k]) n->out[k]->first = n->out[k]->last = n->index;
  }
  /* a value may be read after its producer's position by later consumers: last is set above */
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] && n->in[k]->last < n->index) n->in[k]->last = n->index;
  }
  for (int i = 0; i < g->noutputs; i++) g->outputs[i]->last = pos;
  /* aliases: views and in-place */
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || !n->nin || !n->in[0] || !n->out[0]) continue;
    Value *in = n->in[0], *out = n->out[0], *r = root(in);
    int flags = op_defs[n->op]->flags;
    if (!in_arena(out)) continue;
    if (n->op == OP_Concat && !out->alias) {
      int64_t off[64];
      if (n->nin <= 64 && concat_part_offsets(n, off))
        for (int k = 0; k < n->nin; k++) {
          Value *x = n->in[k];
          int twice = 0;
          for (int j = 0; j < n->nin; j++) twice |= j != k && n->in[j] == x;
          /* a part of its own: computed by a live node into the arena, not yet stored elsewhere */
          if (twice || x->alias || !in_arena(x) || !x->producer || x->producer->dead || x->first < 0 || x == out) continue;
          x->alias = out;
          x->alias_off = off[k];
          if (x->first < out->first) out->first = x->first;
          if (x->last > out->last) out->last = x->last;
        }
      continue;
    }
    if (flags & OPF_VIEW) {
      out->alias = in;
      if (out->last > r->last) r->last = out->last;
    } else if ((flags & OPF_INPLACE) && in_arena(r) && r->last == n->index && in->numel == out->numel &&
               dtype_size(in->dtype) == dtype_size(out->dtype)) {
      /* element i of the output overwrites exactly element i of the input:
       * safe for any elementwise kernel, and only then (a broadcast input
       * of equal byte size would be clobbered while still being read) */
      int again = 0; /* the same value twice among the inputs */
      for (int k = 1; k < n->nin; k++) again |= n->in[k] && root(n->in[k]) == r;
      if (!again) {
        out->alias = in;
        r->last = out->last;
      }
    }
  }
  /* extend roots over their aliases' lifetimes (Concat parts are born before their root) */
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->alias && v->first >= 0) {
      Value *r = root(v);
      if (v->last > r->last) r->last = v->last;
      if (v->first < r->first) r->first = v->first;
    }
  }
  Slot *slots = xalloc(sizeof(Slot) * (g->nvalues + g->nnodes + 1));
  int ns = 0;
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->alias || v->first < 0 || !in_arena(v) || !v->producer || v->producer->dead) continue;
    slots[ns++] = (Slot){v, NULL, (value_bytes(v) + ALIGN - 1) / ALIGN * ALIGN, 0, v->first, v->last};
  }
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->scratch_bytes > 0)
      slots[ns++] = (Slot){NULL, n, (n->scratch_bytes + ALIGN - 1) / ALIGN * ALIGN, 0, n->index, n->index};
  }
  Slot **order = xalloc(sizeof(Slot *) * (ns + 1)), **tmp = xalloc(sizeof(Slot *) * (ns + 1));
  for (int i = 0; i < ns; i++) order[i] = &slots[i];
  qsort(order, ns, sizeof *order, cmp_slot);
  for (int i = 0; i < ns; i++) {
    order[i]->off = place(order[i], order, i, tmp);
    if (order[i]->off + order[i]->size > p->arena_bytes) p->arena_bytes = order[i]->off + order[i]->size;
  }
  for (int i = 0; i < ns; i++) {
    if (slots[i].v) slots[i].v->offset = slots[i].off;
    else slots[i].scratch->scratch_off = slots[i].off;
  }
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->alias) v->offset = root(v)->offset + alias_chain_off(v);
  }
  for (int t = 0; t < pos; t++) {
    int64_t live = 0;
    for (int i = 0; i < ns; i++)
      if (slots[i].first <= t && t <= slots[i].last) live += slots[i].size;
    if (live > p->lower_bound) p->lower_bound = live;
  }
  p->ntensors = ns;
  free(order);
  free(tmp);
  free(slots);
}

void plan_dump(Graph *g, const Plan *p, FILE *f) {
  fprintf(f, "memory plan: arena %lld bytes, lower bound %lld bytes (%.1f%% over), weights %lld bytes, %d arena tensors\n",
          (long long)p->arena_bytes, (long long)p->lower_bound,
          p->lower_bound ? 100.0 * (p->arena_bytes - p->lower_bound) / p->lower_bound : 0.0, (long long)p->weights_bytes,
          p->ntensors);
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->offset < 0 || v->first < 0 || v->data) continue;
    fprintf(f, "  %10lld %10lld  [%3d,%3d] %s%s%s\n", (long long)v->offset, (long long)value_bytes(v), v->first, v->last,
            v->name, v->alias ? " -> " : "", v->alias ? v->alias->name : "");
  }
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->scratch_bytes)
      fprintf(f, "  %10lld %10lld  [%3d,%3d] scratch of %s\n", (long long)g->nodes[i]->scratch_off,
              (long long)g->nodes[i]->scratch_bytes, g->nodes[i]->index, g->nodes[i]->index, g->nodes[i]->name);
}
