/*
 * interp.c: the reference interpreter.
 *
 * Runs the IR node by node with each op's eval hook, which calls the same
 * kernels (runtime/) that the generated code pastes in.  Used by `mrtc run`
 * and by constant folding (shape.c).  Buffers are plain heap blocks, one per
 * value; the interpreter does not use the memory plan.
 */
#include "mrtc.h"

#include <string.h>

static void *vdata(Value *v) { return v->data ? v->data : v->rt; }

void interp_eval_node(Node *n) {
  void *in[64] = {0}, *out[64] = {0};
  if (n->nin > 64 || n->nout > 64) error_node(n, "too many inputs or outputs");
  for (int k = 0; k < n->nin; k++) {
    if (!n->in[k]) continue;
    in[k] = vdata(n->in[k]);
    if (!in[k]) error_node(n, "input '%s' has no value", n->in[k]->name);
  }
  for (int k = 0; k < n->nout; k++)
    if (n->out[k]) out[k] = n->out[k]->rt = xalloc((size_t)value_bytes(n->out[k]) + 8);
  if (!op_defs[n->op]->eval) error_node(n, "the reference interpreter has no kernel for this op");
  op_defs[n->op]->eval(n, in, out);
}

void interp_run(Graph *g, Value **inputs) {
  for (int i = 0; i < g->ninputs; i++) {
    Value *v = g->inputs[i], *x = inputs[i];
    if (x->dtype != v->dtype || x->numel != v->numel)
      fatal("input %d ('%s'): file holds %s, the model expects %s", i, v->name, shape_str(x), shape_str(v));
    v->rt = x->data;
  }
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) interp_eval_node(g->nodes[i]);
}
