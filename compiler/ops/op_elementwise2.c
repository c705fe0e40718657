/*
 * op_elementwise2.c: elementwise ops over every numeric type, with the
 * kernels of runtime/k_elem2.h.
 *
 * Registered here: Not, BitwiseNot, IsNaN, IsInf, Mod, BitShift,
 * BitwiseAnd, BitwiseOr, BitwiseXor.
 *
 * The same engine also serves the ops of op_unary.c (Abs, Neg, Sign, Relu,
 * Clip, Ceil, Floor, Round; Exp, Log, Sqrt, ... without parameters for the
 * float types other than float32) and op_binary.c (Add, Sub, Mul, Div, Max, Min,
 * Sum, Mean, comparisons) for the types those files do not cover
 * (e2_unary_handles / e2_binary_handles say when), through e2_infer,
 * e2_eval and e2_emit.
 *
 * Binary ops broadcast as in op_binary.c: dims of size 1 vanish and
 * adjacent dims that both inputs read alike merge; variadic ops chain
 * pairwise through the output.
 */
#include "mrtc.h"
#include "k_elem2.h"

#include <math.h>
#include <string.h>

int e2_unary_handles(Node *n);
int e2_binary_handles(Node *n);
void e2_infer(Node *n);
void e2_eval(Node *n, void *const *in, void *const *out);
void e2_emit(Node *n, Emitter *e);

enum { K_BIN, K_CMP, K_UNARY, K_TEST };

typedef struct E2Step {
  int rank;
  int64_t dims[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK];
  int a, b; /* input indices; -1 = the output itself (chained) */
} E2Step;

typedef struct E2P {
  int kind, op;
  const char *tag;
  /* binary */
  int nsteps, mean, copy;
  E2Step steps[16];
  /* unary: Clip bounds as T; test: which infinities */
  unsigned char lo[8], hi[8];
  int pos, neg;
} E2P;

static const char *e2_tag(DType t) {
  switch (t) {
  case DT_INT8: case DT_UINT8: case DT_INT16: case DT_UINT16: case DT_INT32: case DT_UINT32:
  case DT_INT64: case DT_UINT64: case DT_FLOAT: case DT_DOUBLE: case DT_FLOAT16: case DT_BFLOAT16:
    return dtype_tag(t);
  case DT_BOOL: return "u8";
  default: return NULL;
  }
}

static int is_int(DType t) { return !dtype_is_float(t) && t != DT_BOOL && e2_tag(t); }
static int is_unsigned(DType t) { return t == DT_UINT8 || t == DT_UINT16 || t == DT_UINT32 || t == DT_UINT64; }

/* ------------------------------------------------------------ binary */

static void strides_for(const Value *v, int orank, int64_t *s) {
  int64_t st = 1;
  for (int d = orank - 1; d >= 0; d--) {
    int vd = d - (orank - v->rank);
    if (vd < 0 || v->dims[vd] == 1) s[d] = 0;
    else {
      s[d] = st;
      st *= v->dims[vd];
    }
  }
}

static void collapse(E2Step *s, int rank, const int64_t *dims, const int64_t *sa, const int64_t *sb) {
  int r = 0;
  for (int d = 0; d < rank; d++) {
    if (dims[d] == 1) continue;
    if (r > 0 && s->sa[r - 1] == sa[d] * dims[d] && s->sb[r - 1] == sb[d] * dims[d]) {
      s->dims[r - 1] *= dims[d];
      s->sa[r - 1] = sa[d];
      s->sb[r - 1] = sb[d];
      continue;
    }
    s->dims[r] = dims[d];
    s->sa[r] = sa[d];
    s->sb[r] = sb[d];
    r++;
  }
  if (!r) {
    s->dims[0] = 1;
    s->sa[0] = s->sb[0] = 0;
    r = 1;
  }
  s->rank = r;
}

static void binary_setup(Node *n, E2P *p, DType t) {
  for (int k = 0; k < n->nin; k++) {
    if (!n->in[k]) error_node(n, "input %d is missing", k);
    if (n->in[k]->dtype != t)
      error_node(n, "inputs have different types (%s and %s)", dtype_name(t), dtype_name(n->in[k]->dtype));
  }
  if (n->nin > 16) error_node(n, "more than 16 inputs");
  int orank;
  int64_t odims[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK], so[MAX_RANK];
  broadcast_shapes(n, n->in, n->nin, &orank, odims);
  value_set_shape(n->out[0], p->kind == K_CMP ? DT_BOOL : t, orank, odims);
  strides_for(n->out[0], orank, so);
  if (n->nin == 1) { /* variadic op of one input: a copy */
    if (n->in[0]->numel != n->out[0]->numel) error_node(n, "internal: one-input broadcast");
    p->copy = 1;
    return;
  }
  for (int k = 1; k < n->nin; k++) {
    E2Step *s = &p->steps[p->nsteps++];
    if (k == 1) {
      strides_for(n->in[0], orank, sa);
      s->a = 0;
    } else {
      memcpy(sa, so, sizeof sa);
      s->a = -1;
    }
    strides_for(n->in[k], orank, sb);
    s->b = k;
    collapse(s, orank, odims, sa, sb);
  }
}

/* --------------------------------------------------------------- infer */

static void clip_bound(Node *n, E2P *p, int k, unsigned char *dst) {
  Value *x = n->in[0];
  if (n->opset < 11) {
    const char *nm = k == 1 ? "min" : "max";
    if (attr_find(n, nm)) {
      if (!dtype_is_float(x->dtype)) error_node(n, "attribute '%s' needs a float input", nm);
      elem_set_f64(dst, x->dtype, 0, attr_float(n, nm, 0));
    }
    return;
  }
  Value *v = node_in(n, k);
  if (!v) return;
  need_const(n, k);
  if (v->dtype != x->dtype || v->numel != 1)
    error_node(n, "input %d must be a %s scalar (got %s)", k, dtype_name(x->dtype), shape_str(v));
  memcpy(dst, v->data, (size_t)dtype_size(v->dtype));
  (void)p;
}

static void type_limits(DType t, unsigned char *lo, unsigned char *hi) {
  if (dtype_is_float(t)) {
    elem_set_f64(lo, t, 0, -INFINITY);
    elem_set_f64(hi, t, 0, INFINITY);
    return;
  }
  int bits = dtype_size(t) * 8;
  if (t == DT_UINT64) {
    uint64_t z = 0, m = UINT64_MAX;
    memcpy(lo, &z, 8);
    memcpy(hi, &m, 8);
  } else if (is_unsigned(t)) {
    elem_set_i64(lo, t, 0, 0);
    elem_set_i64(hi, t, 0, (int64_t)((1ULL << bits) - 1));
  } else {
    elem_set_i64(lo, t, 0, bits == 64 ? INT64_MIN : -(int64_t)(1ULL << (bits - 1)));
    elem_set_i64(hi, t, 0, bits == 64 ? INT64_MAX : (int64_t)((1ULL << (bits - 1)) - 1));
  }
}

static int unary_code(int op) {
  switch (op) {
  case OP_Abs: return E2_ABS;
  case OP_Neg: return E2_NEG;
  case OP_Sign: return E2_SIGN;
  case OP_Relu: return E2_RELU;
  case OP_Clip: return E2_CLIP;
  case OP_Ceil: return E2_CEIL;
  case OP_Floor: return E2_FLOOR;
  case OP_Round: return E2_ROUND;
  case OP_Not: return E2_NOT;
  case OP_BitwiseNot: return E2_BITNOT;
  case OP_Exp: return E2_EXP;
  case OP_Log: return E2_LOG;
  case OP_Sqrt: return E2_SQRT;
  case OP_Reciprocal: return E2_RECIP;
  case OP_Tanh: return E2_TANH;
  case OP_Sigmoid: return E2_SIGMOID;
  case OP_Erf: return E2_ERF;
  case OP_Sin: return E2_SIN;
  case OP_Cos: return E2_COS;
  case OP_Tan: return E2_TAN;
  case OP_Asin: return E2_ASIN;
  case OP_Acos: return E2_ACOS;
  case OP_Atan: return E2_ATAN;
  case OP_Sinh: return E2_SINH;
  case OP_Cosh: return E2_COSH;
  case OP_Asinh: return E2_ASINH;
  case OP_Acosh: return E2_ACOSH;
  case OP_Atanh: return E2_ATANH;
  case OP_Softplus: return E2_SOFTPLUS;
  case OP_Softsign: return E2_SOFTSIGN;
  default: return -1;
  }
}

static int binary_code(int op) {
  switch (op) {
  case OP_Add: case OP_Sum: case OP_Mean: return E2_ADD;
  case OP_Sub: return E2_SUB;
  case OP_Mul: return E2_MUL;
  case OP_Div: return E2_DIV;
  case OP_Max: return E2_MAX;
  case OP_Min: return E2_MIN;
  case OP_Mod: return E2_MOD;
  case OP_BitShift: return E2_SHL;
  case OP_BitwiseAnd: return E2_AND;
  case OP_BitwiseOr: return E2_OR;
  case OP_BitwiseXor: return E2_XOR;
  case OP_Equal: return E2_EQ;
  case OP_Less: return E2_LT;
  case OP_Greater: return E2_GT;
  case OP_LessOrEqual: return E2_LE;
  case OP_GreaterOrEqual: return E2_GE;
  default: return -1;
  }
}

int e2_unary_handles(Node *n) {
  int c = unary_code(n->op);
  return c >= 0 && c != E2_NOT && c != E2_BITNOT && n->nin >= 1 && n->in[0] && n->in[0]->dtype != DT_FLOAT;
}

int e2_binary_handles(Node *n) {
  int c = binary_code(n->op);
  if (c < 0 || c == E2_MOD || c == E2_SHL || (c >= E2_AND && c <= E2_XOR) || n->nin < 1 || !n->in[0]) return 0;
  DType t = n->in[0]->dtype;
  if (t == DT_FLOAT || t == DT_DOUBLE || t == DT_INT32 || t == DT_INT64 || t == DT_BOOL) return 0;
  for (int k = 1; k < n->nin; k++)
    if (!n->in[k] || n->in[k]->dtype != t) return 0; /* mixed types: op_binary's message */
  return 1;
}

void e2_infer(Node *n) {
  Value *x = n->in[0];
  DType t = x->dtype;
  E2P *p = xalloc(sizeof *p);
  n->p = p;
  p->tag = e2_tag(t);
  if (!p->tag) error_node(n, "input type %s is not supported", dtype_name(t));
  switch (n->op) {
  case OP_IsNaN: case OP_IsInf:
    if (!dtype_is_float(t)) error_node(n, "input type %s is not supported (float types only)", dtype_name(t));
    p->kind = K_TEST;
    p->op = n->op == OP_IsNaN ? E2_ISNAN : E2_ISINF;
    if (n->op == OP_IsInf) {
      p->pos = attr_int(n, "detect_positive", 1) != 0;
      p->neg = attr_int(n, "detect_negative", 1) != 0;
    }
    value_set_shape(n->out[0], DT_BOOL, x->rank, x->dims);
    return;
  case OP_Not:
    if (t != DT_BOOL) error_node(n, "input type %s is not supported (bool only)", dtype_name(t));
    break;
  case OP_BitwiseNot:
    if (!is_int(t)) error_node(n, "input type %s is not supported (integer types only)", dtype_name(t));
    break;
  case OP_Mod: {
    int fm = (int)attr_int(n, "fmod", 0);
    if (!fm && !is_int(t)) error_node(n, "fmod=0 needs integer inputs (got %s)", dtype_name(t));
    if (t == DT_BOOL) error_node(n, "input type bool is not supported");
    p->kind = K_BIN;
    p->op = fm ? E2_FMOD : E2_MOD;
    binary_setup(n, p, t);
    return;
  }
  case OP_BitShift: {
    const char *dir = attr_str(n, "direction", NULL);
    if (!dir || (strcmp(dir, "LEFT") && strcmp(dir, "RIGHT")))
      error_node(n, "attribute 'direction' must be \"LEFT\" or \"RIGHT\"");
    if (!is_unsigned(t)) error_node(n, "input type %s is not supported (unsigned integer types only)", dtype_name(t));
    p->kind = K_BIN;
    p->op = strcmp(dir, "LEFT") ? E2_SHR : E2_SHL;
    binary_setup(n, p, t);
    return;
  }
  case OP_BitwiseAnd: case OP_BitwiseOr: case OP_BitwiseXor:
    if (!is_int(t)) error_node(n, "input type %s is not supported (integer types only)", dtype_name(t));
    p->kind = K_BIN;
    p->op = binary_code(n->op);
    binary_setup(n, p, t);
    return;
  default:
    break;
  }
  int uc = unary_code(n->op);
  if (uc >= 0) {
    if (t == DT_BOOL && n->op != OP_Not) error_node(n, "input type bool is not supported");
    if (uc >= E2_EXP && !dtype_is_float(t)) error_node(n, "input type %s is not supported (float types only)", dtype_name(t));
    p->kind = K_UNARY;
    p->op = uc;
    if (uc == E2_CLIP) {
      type_limits(t, p->lo, p->hi);
      clip_bound(n, p, 1, p->lo);
      clip_bound(n, p, 2, p->hi);
    }
    value_set_shape(n->out[0], t, x->rank, x->dims);
    return;
  }
  int bc = binary_code(n->op);
  if (bc < 0) error_node(n, "internal: op not handled by op_elementwise2.c");
  if (t == DT_BOOL) error_node(n, "input type bool is not supported");
  p->kind = bc >= E2_EQ ? K_CMP : K_BIN;
  p->op = bc;
  p->mean = n->op == OP_Mean;
  if (n->opset < 7 && (attr_find(n, "broadcast") || attr_find(n, "axis")))
    error_node(n, "legacy broadcasting (opset %d) is not supported for type %s", n->opset, dtype_name(t));
  binary_setup(n, p, t);
}

/* ---------------------------------------------------------------- eval */

#define E2_ALL(X)                                                                                 \
  X(i8, int8_t) X(u8, uint8_t) X(i16, int16_t) X(u16, uint16_t) X(i32, int32_t) X(u32, uint32_t) \
  X(i64, int64_t) X(u64, uint64_t) X(f32, float) X(f64, double) X(f16, uint16_t) X(bf16, uint16_t)

static void run_step(const E2P *p, const E2Step *s, const void *a, const void *b, void *y) {
#define X(TG, T)                                                                                       \
  if (!strcmp(p->tag, #TG)) {                                                                          \
    if (p->kind == K_CMP) k_e2_bcmp_##TG(p->op, s->rank, s->dims, s->sa, s->sb, (const T *)a, (const T *)b, (uint8_t *)y); \
    else k_e2_bcast_##TG(p->op, s->rank, s->dims, s->sa, s->sb, (const T *)a, (const T *)b, (T *)y);  \
    return;                                                                                            \
  }
  E2_ALL(X)
#undef X
}

void e2_eval(Node *n, void *const *in, void *const *out) {
  E2P *p = n->p;
  Value *o = n->out[0];
  if (!o->numel) return;
  if (p->kind == K_TEST) {
#define X(TG, T) \
  if (!strcmp(p->tag, #TG)) k_e2_test_##TG(p->op, o->numel, (const T *)in[0], (uint8_t *)out[0], p->pos, p->neg);
    X(f32, float) X(f64, double) X(f16, uint16_t) X(bf16, uint16_t)
#undef X
    return;
  }
  if (p->kind == K_UNARY) {
#define X(TG, T)                                                                    \
  if (!strcmp(p->tag, #TG)) {                                                       \
    T lo, hi;                                                                       \
    memcpy(&lo, p->lo, sizeof lo);                                                  \
    memcpy(&hi, p->hi, sizeof hi);                                                  \
    k_e2_unary_##TG(p->op, o->numel, (const T *)in[0], (T *)out[0], lo, hi);        \
    return;                                                                         \
  }
    E2_ALL(X)
#undef X
    return;
  }
  if (p->copy) memcpy(out[0], in[0], (size_t)value_bytes(o));
  for (int i = 0; i < p->nsteps; i++) {
    const E2Step *s = &p->steps[i];
    run_step(p, s, s->a < 0 ? out[0] : in[s->a], in[s->b], out[0]);
  }
  if (p->mean) {
    double c = n->nin;
    for (int64_t i = 0; i < o->numel; i++) {
      if (dtype_is_float(o->dtype)) elem_set_f64(out[0], o->dtype, i, elem_get_f64(out[0], o->dtype, i) / c);
      else elem_set_i64(out[0], o->dtype, i, elem_get_i64(out[0], o->dtype, i) / n->nin);
    }
  }
}

/* ---------------------------------------------------------------- emit */

/* a C literal of type T from the bytes of one element */
static const char *lit(DType t, const unsigned char *b) {
  const char *ct = dtype_ctype(t);
  switch (t) {
  case DT_FLOAT: return fmt_float(elem_get_f64(b, t, 0));
  case DT_DOUBLE: {
    double d = elem_get_f64(b, t, 0);
    if (isnan(d)) return "NAN";
    if (isinf(d)) return d > 0 ? "INFINITY" : "-INFINITY";
    return fmt("%.17g", d);
  }
  case DT_FLOAT16: case DT_BFLOAT16: {
    uint16_t h;
    memcpy(&h, b, 2);
    return fmt("(uint16_t)%u", h);
  }
  case DT_UINT64: {
    uint64_t u;
    memcpy(&u, b, 8);
    return fmt("(uint64_t)%lluULL", (unsigned long long)u);
  }
  default: {
    int64_t v = elem_get_i64(b, t, 0);
    if (v == INT64_MIN) return "INT64_MIN";
    return fmt("(%s)%lldLL", ct, (long long)v);
  }
  }
}

void e2_emit(Node *n, Emitter *e) {
  E2P *p = n->p;
  Value *o = n->out[0];
  if (!o->numel) {
    emit(e, "/* empty output: nothing to do */");
    return;
  }
  emit_need(e, "k_elem2");
  const char *x = eref(e, n->in[0]), *y = eref(e, o);
  if (p->kind == K_TEST) {
    emit(e, "k_e2_test_%s(%d, %lld, %s, %s, %d, %d);", p->tag, p->op, (long long)o->numel, x, y, p->pos, p->neg);
    return;
  }
  if (p->kind == K_UNARY) {
    DType t = n->in[0]->dtype;
    emit(e, "k_e2_unary_%s(%d, %lld, %s, %s, %s, %s);", p->tag, p->op, (long long)o->numel, x, y,
         p->op == E2_CLIP ? lit(t, p->lo) : "0", p->op == E2_CLIP ? lit(t, p->hi) : "0");
    return;
  }
  if (p->copy) emit(e, "memcpy(%s, %s, %lld);", y, x, (long long)value_bytes(o));
  for (int i = 0; i < p->nsteps; i++) {
    const E2Step *s = &p->steps[i];
    const char *d = emit_i64s(e, s->dims, s->rank), *sa = emit_i64s(e, s->sa, s->rank), *sb = emit_i64s(e, s->sb, s->rank);
    emit(e, "k_e2_%s_%s(%d, %d, %s, %s, %s, %s, %s, %s);", p->kind == K_CMP ? "bcmp" : "bcast", p->tag, p->op, s->rank, d,
         sa, sb, s->a < 0 ? y : eref(e, n->in[s->a]), eref(e, n->in[s->b]), y);
  }
  if (p->mean) {
    DType t = o->dtype;
    if (t == DT_FLOAT16)
      emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = e2_f2h(e2_h2f(%s[i]) / %d.f); }", (long long)o->numel, y, y, n->nin);
    else if (t == DT_BFLOAT16)
      emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = e2_f2b(e2_b2f(%s[i]) / %d.f); }", (long long)o->numel, y, y, n->nin);
    else
      emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = (%s)(%s[i] / %d); }", (long long)o->numel, y,
           dtype_ctype(t), y, n->nin);
  }
}

#define E2OP(name, attrs, lo, hi, flags) \
  const OpDef opdef_##name = {attrs, lo, hi, 1, 1, e2_infer, e2_eval, e2_emit, flags};
E2OP(Not, "", 1, 1, OPF_INPLACE)
E2OP(BitwiseNot, "", 1, 1, OPF_INPLACE)
E2OP(IsNaN, "", 1, 1, 0)
E2OP(IsInf, "detect_positive,detect_negative", 1, 1, 0)
E2OP(Mod, "fmod", 2, 2, OPF_INPLACE)
E2OP(BitShift, "direction", 2, 2, OPF_INPLACE)
E2OP(BitwiseAnd, "", 2, 2, OPF_INPLACE)
E2OP(BitwiseOr, "", 2, 2, OPF_INPLACE)
E2OP(BitwiseXor, "", 2, 2, OPF_INPLACE)
