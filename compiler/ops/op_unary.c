/*
 * op_unary.c: elementwise float activations and math (Relu, Sigmoid, Clip,
 * LeakyRelu, Exp, ...).  One table row per op: the runtime function from
 * runtime/k_unary.h, its float parameters and where they come from.  The
 * generated code is a loop y[i] = u_fn(x[i], params...) with the parameters
 * as literals; the interpreter calls the same function.
 */
#include "mrtc.h"
#include "k_unary.h"

typedef struct UnaryRow {
  int op;
  const char *fn;
  int np;
  const char *pname[3]; /* attribute names */
  float pdef[3];        /* defaults */
  void *f;
} UnaryRow;

static const UnaryRow rows[] = {
    {OP_Relu, "u_relu", 0, {0}, {0}, (void *)u_relu},
    {OP_LeakyRelu, "u_leaky_relu", 1, {"alpha"}, {0.01f}, (void *)u_leaky_relu},
    {OP_Sigmoid, "u_sigmoid", 0, {0}, {0}, (void *)u_sigmoid},
    {OP_HardSigmoid, "u_hard_sigmoid", 2, {"alpha", "beta"}, {0.2f, 0.5f}, (void *)u_hard_sigmoid},
    {OP_HardSwish, "u_hard_swish", 0, {0}, {0}, (void *)u_hard_swish},
    {OP_Tanh, "u_tanh", 0, {0}, {0}, (void *)u_tanh},
    {OP_Exp, "u_exp", 0, {0}, {0}, (void *)u_exp},
    {OP_Log, "u_log", 0, {0}, {0}, (void *)u_log},
    {OP_Sqrt, "u_sqrt", 0, {0}, {0}, (void *)u_sqrt},
    {OP_Erf, "u_erf", 0, {0}, {0}, (void *)u_erf},
    {OP_Abs, "u_abs", 0, {0}, {0}, (void *)u_abs},
    {OP_Neg, "u_neg", 0, {0}, {0}, (void *)u_neg},
    {OP_Reciprocal, "u_reciprocal", 0, {0}, {0}, (void *)u_reciprocal},
    {OP_Floor, "u_floor", 0, {0}, {0}, (void *)u_floor},
    {OP_Ceil, "u_ceil", 0, {0}, {0}, (void *)u_ceil},
    {OP_Round, "u_round", 0, {0}, {0}, (void *)u_round},
    {OP_Sign, "u_sign", 0, {0}, {0}, (void *)u_sign},
    {OP_Sin, "u_sin", 0, {0}, {0}, (void *)u_sin},
    {OP_Cos, "u_cos", 0, {0}, {0}, (void *)u_cos},
    {OP_Tan, "u_tan", 0, {0}, {0}, (void *)u_tan},
    {OP_Asin, "u_asin", 0, {0}, {0}, (void *)u_asin},
    {OP_Acos, "u_acos", 0, {0}, {0}, (void *)u_acos},
    {OP_Atan, "u_atan", 0, {0}, {0}, (void *)u_atan},
    {OP_Sinh, "u_sinh", 0, {0}, {0}, (void *)u_sinh},
    {OP_Cosh, "u_cosh", 0, {0}, {0}, (void *)u_cosh},
    {OP_Asinh, "u_asinh", 0, {0}, {0}, (void *)u_asinh},
    {OP_Acosh, "u_acosh", 0, {0}, {0}, (void *)u_acosh},
    {OP_Atanh, "u_atanh", 0, {0}, {0}, (void *)u_atanh},
    {OP_Softplus, "u_softplus", 0, {0}, {0}, (void *)u_softplus},
    {OP_Softsign, "u_softsign", 0, {0}, {0}, (void *)u_softsign},
    {OP_Elu, "u_elu", 1, {"alpha"}, {1.0f}, (void *)u_elu},
    {OP_Selu, "u_selu", 2, {"alpha", "gamma"}, {1.67326319217681884765625f, 1.05070102214813232421875f}, (void *)u_selu},
    {OP_Celu, "u_celu", 1, {"alpha"}, {1.0f}, (void *)u_celu},
    {OP_ThresholdedRelu, "u_thresholded_relu", 1, {"alpha"}, {1.0f}, (void *)u_thresholded_relu},
    {OP_Mish, "u_mish", 0, {0}, {0}, (void *)u_mish},
    {OP_Gelu, "u_gelu", 0, {0}, {0}, (void *)u_gelu},
    {OP_Shrink, "u_shrink", 2, {"bias", "lambd"}, {0.0f, 0.5f}, (void *)u_shrink},
    {OP_Clip, "u_clip", 2, {"min", "max"}, {-INFINITY, INFINITY}, (void *)u_clip},
};

typedef struct UnaryP {
  const UnaryRow *row;
  const char *fn;
  void *f;
  float p[3];
} UnaryP;

/* Non-float32 inputs (integers, double, float16, bfloat16) are handled by
 * the typed engine in op_elementwise2.c. */
static void unary_infer(Node *n) {
  if (e2_unary_handles(n)) {
    e2_infer(n);
    return;
  }
  const UnaryRow *r = NULL;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    if (rows[i].op == n->op) r = &rows[i];
  Value *x = n->in[0];
  if (x->dtype != DT_FLOAT) error_node(n, "input '%s' has type %s; only float is supported for this op", x->name, dtype_name(x->dtype));
  UnaryP *p = xalloc(sizeof *p);
  p->row = r;
  p->fn = r->fn;
  p->f = r->f;
  for (int k = 0; k < r->np; k++) p->p[k] = attr_float(n, r->pname[k], r->pdef[k]);
  if (n->op == OP_Clip && n->opset >= 11) {
    for (int k = 1; k <= 2 && k < n->nin; k++) {
      Value *v = node_in(n, k);
      if (!v) continue;
      need_const(n, k);
      if (v->dtype != DT_FLOAT || v->numel != 1) error_node(n, "input %d must be a float scalar", k);
      p->p[k - 1] = ((float *)v->data)[0];
    }
  }
  if (n->op == OP_Gelu && !strcmp(attr_str(n, "approximate", "none"), "tanh")) {
    p->fn = "u_gelu_tanh";
    p->f = (void *)u_gelu_tanh;
  } else if (n->op == OP_Gelu && strcmp(attr_str(n, "approximate", "none"), "none"))
    error_node(n, "approximate='%s' is not supported", attr_str(n, "approximate", ""));
  value_set_shape(n->out[0], DT_FLOAT, x->rank, x->dims);
  n->p = p;
}

static void unary_eval(Node *n, void *const *in, void *const *out) {
  if (e2_unary_handles(n)) {
    e2_eval(n, in, out);
    return;
  }
  UnaryP *p = n->p;
  const float *x = in[0];
  float *y = out[0];
  int64_t cnt = n->in[0]->numel;
  switch (p->row->np) {
  case 0: { float (*f)(float) = (float (*)(float))p->f; for (int64_t i = 0; i < cnt; i++) y[i] = f(x[i]); break; }
  case 1: { float (*f)(float, float) = (float (*)(float, float))p->f; for (int64_t i = 0; i < cnt; i++) y[i] = f(x[i], p->p[0]); break; }
  default: {
    float (*f)(float, float, float) = (float (*)(float, float, float))p->f;
    for (int64_t i = 0; i < cnt; i++) y[i] = f(x[i], p->p[0], p->p[1]);
  }
  }
}

static void unary_emit(Node *n, Emitter *e) {
  if (e2_unary_handles(n)) {
    e2_emit(n, e);
    return;
  }
  UnaryP *p = n->p;
  emit_need(e, "k_unary");
  Buf args = {0};
  for (int k = 0; k < p->row->np; k++) buf_printf(&args, ", %s", fmt_float(p->p[k]));
  const char *x = eref(e, n->in[0]), *y = eref(e, n->out[0]);
  emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = %s(%s[i]%s); }", (long long)n->in[0]->numel, y, p->fn, x,
       args.s ? args.s : "");
}

#define UNARY(name, attrs) \
  const OpDef opdef_##name = {attrs, 1, 1, 1, 1, unary_infer, unary_eval, unary_emit, OPF_INPLACE};
UNARY(Relu, "")
UNARY(LeakyRelu, "alpha")
UNARY(Sigmoid, "")
UNARY(HardSigmoid, "alpha,beta")
UNARY(HardSwish, "")
UNARY(Tanh, "")
UNARY(Exp, "")
UNARY(Log, "")
UNARY(Sqrt, "")
UNARY(Erf, "")
UNARY(Abs, "")
UNARY(Neg, "")
UNARY(Reciprocal, "")
UNARY(Floor, "")
UNARY(Ceil, "")
UNARY(Round, "")
UNARY(Sign, "")
UNARY(Sin, "")
UNARY(Cos, "")
UNARY(Tan, "")
UNARY(Asin, "")
UNARY(Acos, "")
UNARY(Atan, "")
UNARY(Sinh, "")
UNARY(Cosh, "")
UNARY(Asinh, "")
UNARY(Acosh, "")
UNARY(Atanh, "")
UNARY(Softplus, "")
UNARY(Softsign, "")
UNARY(Elu, "alpha")
UNARY(Selu, "alpha,gamma")
UNARY(Celu, "alpha")
UNARY(ThresholdedRelu, "alpha")
UNARY(Mish, "")
UNARY(Gelu, "approximate")
UNARY(Shrink, "bias,lambd")
const OpDef opdef_Clip = {"min,max", 1, 3, 1, 1, unary_infer, unary_eval, unary_emit, OPF_INPLACE};
