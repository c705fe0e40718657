/*
 * op_cast.c: Cast and CastLike between all numeric types (bool, [u]int8..64,
 * float16, bfloat16, float, double); rules in runtime/k_cast.h.  Cast-1
 * names the target type with a string.  String and the 8/4/2-bit float and
 * integer types have no C representation here and are refused.  The
 * 'saturate' and 'round_mode' attributes only concern float8 targets, which
 * are refused, so they are accepted and have no effect.
 */
#include "mrtc.h"
#include "k_cast.h"

#include <string.h>
#include <strings.h>

typedef struct CastP {
  DType from, to;
} CastP;

static char carrier(DType t) {
  switch (t) {
  case DT_FLOAT: case DT_DOUBLE: case DT_FLOAT16: case DT_BFLOAT16: return 'f';
  case DT_UINT64: return 'u';
  default: return 'i';
  }
}

static int castable(DType t) { return dtype_supported(t) && t != DT_STRING; }

/* ONNX names of the types beyond bfloat16 (dtype_name knows only numbers) */
static const char *type_name(DType t) {
  static const char *hi[] = {"float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",
                             "int4",         "float4e2m1",     "float8e8m0", "uint2",          "int2"};
  if ((int)t >= 17 && (int)t <= 26) return hi[t - 17];
  return dtype_name(t);
}

static void cast_setup(Node *n, DType to) {
  Value *x = n->in[0];
  if (!castable(x->dtype)) error_node(n, "casting from %s is not supported", type_name(x->dtype));
  if (!castable(to)) error_node(n, "casting to %s is not supported", type_name(to));
  attr_int(n, "saturate", 1);
  attr_str(n, "round_mode", "up");
  CastP *p = xalloc(sizeof *p);
  p->from = x->dtype;
  p->to = to;
  n->p = p;
  value_set_shape(n->out[0], to, x->rank, x->dims);
}

static void cast_infer(Node *n) {
  Attr *a = attr_find(n, "to");
  if (!a) error_node(n, "attribute 'to' is required");
  DType to = DT_UNDEF;
  if (a->type == AT_STRING) { /* Cast-1 */
    static const char *names[] = {"", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
                                  "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    for (int i = 1; i < (int)(sizeof names / sizeof *names); i++)
      if (!strcasecmp(a->s, names[i])) to = (DType)i;
    if (!to) error_node(n, "unknown type name '%s' in 'to'", a->s);
  } else if (a->type == AT_INT) to = (DType)a->i;
  else error_node(n, "attribute 'to' has the wrong type");
  cast_setup(n, to);
}

static void castlike_infer(Node *n) { cast_setup(n, n->in[1]->dtype); }

static void cast_eval(Node *n, void *const *in, void *const *out) {
  CastP *p = n->p;
  int64_t cnt = n->out[0]->numel;
  if (p->from == p->to) {
    memcpy(out[0], in[0], (size_t)value_bytes(n->out[0]));
    return;
  }
  char c = carrier(p->from);
  for (int64_t i = 0; i < cnt; i++) {
    double f = 0;
    int64_t iv = 0;
    uint64_t uv = 0;
    switch (p->from) {
#define RD(DT, T, tag, var) case DT: var = k_rd_##tag(((const T *)in[0])[i]); break;
    RD(DT_FLOAT, float, f32, f) RD(DT_DOUBLE, double, f64, f) RD(DT_FLOAT16, uint16_t, f16, f) RD(DT_BFLOAT16, uint16_t, bf16, f)
    RD(DT_BOOL, uint8_t, b, iv) RD(DT_INT8, int8_t, i8, iv) RD(DT_UINT8, uint8_t, u8, iv) RD(DT_INT16, int16_t, i16, iv)
    RD(DT_UINT16, uint16_t, u16, iv) RD(DT_INT32, int32_t, i32, iv) RD(DT_UINT32, uint32_t, u32, iv)
    RD(DT_INT64, int64_t, i64, iv) RD(DT_UINT64, uint64_t, u64, uv)
#undef RD
    default: break;
    }
    switch (p->to) {
#define CV(DT, T, tag) \
  case DT: ((T *)out[0])[i] = c == 'f' ? k_cv_##tag##_f(f) : c == 'u' ? k_cv_##tag##_u(uv) : k_cv_##tag##_i(iv); break;
    CV(DT_FLOAT, float, f32) CV(DT_DOUBLE, double, f64) CV(DT_FLOAT16, uint16_t, f16) CV(DT_BFLOAT16, uint16_t, bf16)
    CV(DT_BOOL, uint8_t, b) CV(DT_INT8, int8_t, i8) CV(DT_UINT8, uint8_t, u8) CV(DT_INT16, int16_t, i16)
    CV(DT_UINT16, uint16_t, u16) CV(DT_INT32, int32_t, i32) CV(DT_UINT32, uint32_t, u32) CV(DT_INT64, int64_t, i64)
    CV(DT_UINT64, uint64_t, u64)
#undef CV
    default: break;
    }
  }
}

static void cast_emit(Node *n, Emitter *e) {
  CastP *p = n->p;
  Value *o = n->out[0];
  if (!o->numel) return;
  const char *x = eref(e, n->in[0]), *y = eref(e, o);
  if (p->from == p->to) {
    emit(e, "memcpy(%s, %s, %lld);", y, x, (long long)value_bytes(o));
    return;
  }
  emit_need(e, "k_cast");
  emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = k_cv_%s_%c(k_rd_%s(%s[i])); }", (long long)o->numel, y,
       dtype_tag(p->to), carrier(p->from), dtype_tag(p->from), x);
}

const OpDef opdef_Cast = {"to,saturate,round_mode", 1, 1, 1, 1, cast_infer, cast_eval, cast_emit, 0};
const OpDef opdef_CastLike = {"saturate,round_mode", 2, 2, 1, 1, castlike_infer, cast_eval, cast_emit, 0};
