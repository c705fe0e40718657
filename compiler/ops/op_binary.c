/*
 * op_binary.c: broadcasting elementwise ops with two or more inputs: Add,
 * Sub, Mul, Div, Pow, Max, Min, Sum, Mean, PRelu, comparisons and logic.
 *
 * infer works out the output shape (numpy broadcasting; the legacy
 * broadcast/axis attributes before opset 7), then for each pair collapses
 * the shape: dims of size 1 vanish and adjacent dims that both inputs read
 * contiguously merge, so a channel-wise Add over NCHW becomes a 2-D loop.
 * The kernel is k_bcast_<type> from runtime/k_binary.h with the scalar
 * function b_<op>_<type>.  Variadic ops chain pairwise through the output.
 */
#include "mrtc.h"
#include "k_binary.h"

#include <string.h>

typedef struct Step {
  int rank;
  int64_t dims[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK];
  int a, b;      /* input indices; -1 = the output itself (chained) */
} Step;

typedef struct BinP {
  const char *fn;     /* scalar function name without type tag */
  const char *tag;    /* kernel type tag */
  int cmp;            /* output is bool */
  int nsteps;
  Step steps[16];
  int mean;           /* divide by count at the end */
} BinP;

static void strides_for(const Value *v, int orank, const int64_t *odims, int64_t *s) {
  int64_t st = 1;
  for (int d = orank - 1; d >= 0; d--) {
    int vd = d - (orank - v->rank);
    if (vd < 0 || v->dims[vd] == 1) s[d] = 0;
    else {
      s[d] = st;
      st *= v->dims[vd];
    }
  }
  (void)odims;
}

/* collapse dims of a (a-strides, b-strides) pair */
static void collapse(Step *s, int rank, const int64_t *dims, const int64_t *sa, const int64_t *sb) {
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

static const char *fn_of(int op) {
  switch (op) {
  case OP_Add: case OP_Sum: case OP_Mean: return "b_add";
  case OP_Sub: return "b_sub";
  case OP_Mul: return "b_mul";
  case OP_Div: return "b_div";
  case OP_Pow: return "b_pow";
  case OP_Max: return "b_max";
  case OP_Min: return "b_min";
  case OP_PRelu: return "b_prelu";
  case OP_Equal: return "b_eq";
  case OP_Less: return "b_lt";
  case OP_Greater: return "b_gt";
  case OP_LessOrEqual: return "b_le";
  case OP_GreaterOrEqual: return "b_ge";
  case OP_And: return "b_and";
  case OP_Or: return "b_or";
  case OP_Xor: return "b_xor";
  }
  return NULL;
}

/* Types other than float, double, int32, int64 and bool go to the typed
 * engine in op_elementwise2.c. */
static void binary_infer(Node *n) {
  if (e2_binary_handles(n)) {
    e2_infer(n);
    return;
  }
  BinP *p = xalloc(sizeof *p);
  Value *x = n->in[0];
  DType t = x->dtype;
  for (int k = 1; k < n->nin; k++) {
    if (!n->in[k]) error_node(n, "input %d is missing", k);
    if (n->in[k]->dtype != t && !(n->op == OP_Pow))
      error_node(n, "inputs have different types (%s and %s)", dtype_name(t), dtype_name(n->in[k]->dtype));
  }
  if (n->op == OP_Pow && n->in[1]->dtype != t) error_node(n, "Pow with exponent type %s differing from base type %s is not supported", dtype_name(n->in[1]->dtype), dtype_name(t));
  int logic = n->op == OP_And || n->op == OP_Or || n->op == OP_Xor;
  p->cmp = logic || n->op == OP_Equal || n->op == OP_Less || n->op == OP_Greater || n->op == OP_LessOrEqual ||
           n->op == OP_GreaterOrEqual;
  p->fn = fn_of(n->op);
  if (logic) {
    if (t != DT_BOOL) error_node(n, "logic ops take bool inputs");
    p->tag = "u8";
  } else if (n->op == OP_Equal && t == DT_BOOL) {
    p->tag = "u8";
  } else {
    switch (t) {
    case DT_FLOAT: p->tag = "f32"; break;
    case DT_DOUBLE: p->tag = "f64"; break;
    case DT_INT32: p->tag = "i32"; break;
    case DT_INT64: p->tag = "i64"; break;
    default: error_node(n, "type %s is not supported for this op", dtype_name(t));
    }
    if (n->op == OP_PRelu && t != DT_FLOAT) error_node(n, "PRelu supports float only");
  }
  /* legacy broadcasting (opset < 7): B aligned at 'axis' */
  Value *ins[16];
  Value tmpb;
  if (n->nin > 16) error_node(n, "more than 16 inputs");
  for (int k = 0; k < n->nin; k++) ins[k] = n->in[k];
  if (n->opset < 7 && n->nin == 2 && attr_int(n, "broadcast", 0)) {
    Value *b = n->in[1];
    int64_t axis = attr_int(n, "axis", x->rank - b->rank);
    if (axis < 0) axis += x->rank;
    tmpb = *b;
    tmpb.rank = x->rank - (int)axis;
    for (int d = b->rank; d < tmpb.rank; d++) tmpb.dims[d] = 1;
    ins[1] = &tmpb;
  } else
    attr_int(n, "broadcast", 0), attr_int(n, "axis", 0);
  if (n->op == OP_PRelu) { /* unidirectional: slope broadcasts to x */
    if (n->opset < 7 && ins[1]->rank == 1 && x->rank >= 2 && ins[1]->dims[0] == x->dims[1]) {
      tmpb = *ins[1];
      tmpb.rank = x->rank - 1;
      for (int d = 1; d < tmpb.rank; d++) tmpb.dims[d] = 1;
      ins[1] = &tmpb;
    }
  }
  int orank;
  int64_t odims[MAX_RANK];
  broadcast_shapes(n, ins, n->nin, &orank, odims);
  value_set_shape(n->out[0], p->cmp ? DT_BOOL : t, orank, odims);
  if (n->nin - 1 > 16) error_node(n, "too many inputs");
  int64_t sa[MAX_RANK], sb[MAX_RANK], so[MAX_RANK];
  Value ov = *n->out[0];
  strides_for(&ov, orank, odims, so);
  if (n->nin == 1) { /* Sum/Max/Min/Mean of one input: copy (x op nothing) */
    strides_for(ins[0], orank, odims, sa);
    collapse(&p->steps[0], orank, odims, sa, sa);
    p->steps[0].a = 0;
    p->steps[0].b = -2;
    p->nsteps = 1;
  }
  for (int k = 1; k < n->nin; k++) {
    Step *s = &p->steps[p->nsteps++];
    if (k == 1) {
      strides_for(ins[0], orank, odims, sa);
      s->a = 0;
    } else {
      memcpy(sa, so, sizeof sa);
      s->a = -1;
    }
    strides_for(ins[k], orank, odims, sb);
    s->b = k;
    collapse(s, orank, odims, sa, sb);
  }
  p->mean = n->op == OP_Mean;
  n->p = p;
}

typedef void (*bfn)(void);

#define BIN_FN(T, tag, name) \
  if (!strcmp(f, #name "_" #tag)) return (bfn)name##_##tag;
static bfn find_fn(const char *f) {
#define ALL(T, tag) BIN_FN(T, tag, b_add) BIN_FN(T, tag, b_sub) BIN_FN(T, tag, b_mul) BIN_FN(T, tag, b_div) \
  BIN_FN(T, tag, b_pow) BIN_FN(T, tag, b_max) BIN_FN(T, tag, b_min) BIN_FN(T, tag, b_eq) BIN_FN(T, tag, b_lt) \
  BIN_FN(T, tag, b_gt) BIN_FN(T, tag, b_le) BIN_FN(T, tag, b_ge)
  ALL(float, f32)
  ALL(double, f64)
  ALL(int32_t, i32)
  ALL(int64_t, i64)
  BIN_FN(float, f32, b_prelu)
  BIN_FN(uint8_t, u8, b_and) BIN_FN(uint8_t, u8, b_or) BIN_FN(uint8_t, u8, b_xor) BIN_FN(uint8_t, u8, b_eq)
  return NULL;
}

static void run_step(const BinP *p, const Step *s, const void *a, const void *b, void *y) {
  bfn f = find_fn(fmt("%s_%s", p->fn, p->tag));
  const char *t = p->tag;
  if (s->b == -2) { /* single input: copy */
    return;
  }
#define CALL(tag, T, OT, kern) \
  if (!strcmp(t, #tag)) { kern(s->rank, s->dims, s->sa, s->sb, a, b, y, (OT (*)(T, T))f); return; }
  if (p->cmp) {
    CALL(f32, float, uint8_t, k_bcast_cmp_f32)
    CALL(f64, double, uint8_t, k_bcast_cmp_f64)
    CALL(i32, int32_t, uint8_t, k_bcast_cmp_i32)
    CALL(i64, int64_t, uint8_t, k_bcast_cmp_i64)
    CALL(u8, uint8_t, uint8_t, k_bcast_u8)
  } else {
    CALL(f32, float, float, k_bcast_f32)
    CALL(f64, double, double, k_bcast_f64)
    CALL(i32, int32_t, int32_t, k_bcast_i32)
    CALL(i64, int64_t, int64_t, k_bcast_i64)
  }
#undef CALL
}

static void binary_eval(Node *n, void *const *in, void *const *out) {
  if (e2_binary_handles(n)) {
    e2_eval(n, in, out);
    return;
  }
  BinP *p = n->p;
  Value *o = n->out[0];
  if (p->steps[0].b == -2) { /* one input: broadcast copy via y = x */
    memcpy(out[0], in[0], (size_t)value_bytes(o));
  }
  for (int i = 0; i < p->nsteps; i++) {
    const Step *s = &p->steps[i];
    if (s->b == -2) break;
    run_step(p, s, s->a < 0 ? out[0] : in[s->a], in[s->b], out[0]);
  }
  if (p->mean) {
    double c = n->nin;
    for (int64_t i = 0; i < o->numel; i++) elem_set_f64(out[0], o->dtype, i, elem_get_f64(out[0], o->dtype, i) / c);
  }
}

static void binary_emit(Node *n, Emitter *e) {
  if (e2_binary_handles(n)) {
    e2_emit(n, e);
    return;
  }
  BinP *p = n->p;
  Value *o = n->out[0];
  emit_need(e, "k_binary");
  const char *y = eref(e, o);
  if (p->steps[0].b == -2) {
    emit(e, "memcpy(%s, %s, %lld);", y, eref(e, n->in[0]), (long long)value_bytes(o));
  } else
    for (int i = 0; i < p->nsteps; i++) {
      const Step *s = &p->steps[i];
      const char *d = emit_i64s(e, s->dims, s->rank), *sa = emit_i64s(e, s->sa, s->rank), *sb = emit_i64s(e, s->sb, s->rank);
      emit(e, "k_bcast_%s%s(%d, %s, %s, %s, %s, %s, %s, %s_%s);", p->cmp && strcmp(p->tag, "u8") ? "cmp_" : "", p->tag,
           s->rank, d, sa, sb, s->a < 0 ? y : eref(e, n->in[s->a]), eref(e, n->in[s->b]), y, p->fn, p->tag);
    }
  if (p->mean) {
    const char *ct = dtype_ctype(o->dtype);
    emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = (%s)(%s[i] / %d); }", (long long)o->numel, y, ct, y, n->nin);
  }
}

#define BINARY(name, attrs, lo, hi) \
  const OpDef opdef_##name = {attrs, lo, hi, 1, 1, binary_infer, binary_eval, binary_emit, OPF_INPLACE};
BINARY(Add, "broadcast,axis", 2, 2)
BINARY(Sub, "broadcast,axis", 2, 2)
BINARY(Mul, "broadcast,axis", 2, 2)
BINARY(Div, "broadcast,axis", 2, 2)
BINARY(Pow, "broadcast,axis", 2, 2)
BINARY(PRelu, "", 2, 2)
BINARY(Equal, "broadcast,axis", 2, 2)
BINARY(Less, "broadcast,axis", 2, 2)
BINARY(Greater, "broadcast,axis", 2, 2)
BINARY(LessOrEqual, "", 2, 2)
BINARY(GreaterOrEqual, "", 2, 2)
BINARY(And, "broadcast,axis", 2, 2)
BINARY(Or, "broadcast,axis", 2, 2)
BINARY(Xor, "broadcast,axis", 2, 2)
BINARY(Sum, "", 1, -1)
BINARY(Mean, "", 1, -1)
BINARY(Max, "", 1, -1)
BINARY(Min, "", 1, -1)
