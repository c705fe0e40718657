/*
 * op_cconv.c: CausalConvWithState (opset 27): causal depthwise 1-D
 * convolution over (batch, channels, length) with a carried state of the
 * last k - 1 positions, optional bias and past_state, optional fused SiLU
 * ('silu' or its alias 'swish'); float, float16, bfloat16.  Kernel in
 * runtime/k_cconv.h.
 */
#include "mrtc.h"
#include "k_cconv.h"

#include <string.h>

typedef struct CConvP {
  int64_t B, C, L, K;
  int act;
} CConvP;

static void cconv_infer(Node *n) {
  Value *x = n->in[0], *w = n->in[1], *bias = node_in(n, 2), *past = node_in(n, 3);
  DType t = x->dtype;
  if (t != DT_FLOAT && t != DT_FLOAT16 && t != DT_BFLOAT16)
    error_node(n, "input type %s is not supported (float, float16, bfloat16)", dtype_name(t));
  for (int k = 1; k < n->nin; k++)
    if (n->in[k] && n->in[k]->dtype != t)
      error_node(n, "input %d has type %s, input 0 %s", k, dtype_name(n->in[k]->dtype), dtype_name(t));
  if (x->rank != 3) error_node(n, "input %s must be (batch, channels, length)", shape_str(x));
  CConvP *p = xalloc(sizeof *p);
  p->B = x->dims[0];
  p->C = x->dims[1];
  p->L = x->dims[2];
  if (w->rank != 3 || w->dims[0] != p->C || w->dims[1] != 1 || w->dims[2] < 1)
    error_node(n, "weight %s must be (channels, 1, k) with channels %lld", shape_str(w), (long long)p->C);
  p->K = w->dims[2];
  if (bias && (bias->rank != 1 || bias->dims[0] != p->C))
    error_node(n, "bias %s must be (channels) = (%lld)", shape_str(bias), (long long)p->C);
  int64_t sd[3] = {p->B, p->C, p->K - 1};
  if (past && (past->rank != 3 || past->dims[0] != sd[0] || past->dims[1] != sd[1] || past->dims[2] != sd[2]))
    error_node(n, "past_state %s must be (%lld, %lld, %lld)", shape_str(past), (long long)sd[0], (long long)sd[1],
               (long long)sd[2]);
  const char *a = attr_str(n, "activation", "none");
  if (!strcmp(a, "silu") || !strcmp(a, "swish")) p->act = 1;
  else if (strcmp(a, "none")) error_node(n, "activation '%s' is not one of none, silu, swish", a);
  value_set_shape(n->out[0], t, 3, x->dims);
  if (n->nout > 1 && n->out[1]) value_set_shape(n->out[1], t, 3, sd);
  n->macs = p->B * p->C * p->L * p->K;
  n->p = p;
}

static void cconv_eval(Node *n, void *const *in, void *const *out) {
  CConvP *p = n->p;
  k_cconv(n->in[0]->dtype, p->B, p->C, p->L, p->K, in[0], in[1], node_in(n, 2) ? in[2] : NULL,
          node_in(n, 3) ? in[3] : NULL, p->act, out[0], n->nout > 1 && n->out[1] ? out[1] : NULL);
}

static void cconv_emit(Node *n, Emitter *e) {
  CConvP *p = n->p;
  Value *bias = node_in(n, 2), *past = node_in(n, 3), *pres = n->nout > 1 ? n->out[1] : NULL;
  if (!n->out[0]->numel && !(pres && pres->numel)) return;
  emit_need(e, "k_cconv");
  emit(e, "k_cconv(%d, %lld, %lld, %lld, %lld, %s, %s, %s, %s, %d, %s, %s);", (int)n->in[0]->dtype, (long long)p->B,
       (long long)p->C, (long long)p->L, (long long)p->K, eref(e, n->in[0]), eref(e, n->in[1]),
       bias ? eref(e, bias) : "0", past && past->numel ? eref(e, past) : "0", p->act, eref(e, n->out[0]),
       pres && pres->numel ? eref(e, pres) : "0");
}

const OpDef opdef_CausalConvWithState = {"activation", 2, 4, 1, 2, cconv_infer, cconv_eval, cconv_emit, 0};
