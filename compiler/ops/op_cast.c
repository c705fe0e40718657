/*
 * op_cast.c: Cast and CastLike between all numeric types (bool, [u]int8..64,
 * float16, bfloat16, float, double, and the narrow float8e4m3fn,
 * float8e4m3fnuz, float8e5m2, float8e5m2fnuz, float8e8m0, float4e2m1, int4,
 * uint4, int2, uint2); rules in runtime/k_cast.h.  Cast-1 names the target
 * type with a string.  'saturate' (Cast-19) concerns the float8 targets and
 * 'round_mode' (Cast-24) float8e8m0; both are honoured there and have no
 * effect elsewhere, as the spec says.  String and complex are refused.
 */
#include "mrtc.h"
#include "k_cast.h"

#include <string.h>
#include <strings.h>

typedef struct CastP {
  DType from, to;
  int mode; /* float8 / float4 targets: bit 0 saturate, bits 1-2 round_mode (0 up, 1 down, 2 nearest) */
} CastP;

static char carrier(DType t) {
  if (dtype_is_float(t)) return 'f';
  return t == DT_UINT64 ? 'u' : 'i';
}

/* targets whose converter takes the mode argument */
static int has_mode(DType t) { return ((int)t >= 17 && (int)t <= 20) || (int)t == 23 || (int)t == 24; }

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
  int sat = attr_int(n, "saturate", 1) != 0;
  const char *rm = attr_str(n, "round_mode", "up");
  int r = 0;
  if (!strcmp(rm, "up")) r = 0;
  else if (!strcmp(rm, "down")) r = 1;
  else if (!strcmp(rm, "nearest")) r = 2;
  else error_node(n, "round_mode '%s' is not one of up, down, nearest", rm);
  CastP *p = xalloc(sizeof *p);
  p->from = x->dtype;
  p->to = to;
  p->mode = sat | r << 1;
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
  int mode = p->mode;
  for (int64_t i = 0; i < cnt; i++) {
    double f = 0;
    int64_t iv = 0;
    uint64_t uv = 0;
    switch ((int)p->from) {
#define RD(DT, T, tag, var) case DT: var = k_rd_##tag(((const T *)in[0])[i]); break;
    RD(DT_FLOAT, float, f32, f) RD(DT_DOUBLE, double, f64, f) RD(DT_FLOAT16, uint16_t, f16, f) RD(DT_BFLOAT16, uint16_t, bf16, f)
    RD(DT_BOOL, uint8_t, b, iv) RD(DT_INT8, int8_t, i8, iv) RD(DT_UINT8, uint8_t, u8, iv) RD(DT_INT16, int16_t, i16, iv)
    RD(DT_UINT16, uint16_t, u16, iv) RD(DT_INT32, int32_t, i32, iv) RD(DT_UINT32, uint32_t, u32, iv)
    RD(DT_INT64, int64_t, i64, iv) RD(DT_UINT64, uint64_t, u64, uv)
    RD(17, uint8_t, f8e4m3fn, f) RD(18, uint8_t, f8e4m3fnuz, f) RD(19, uint8_t, f8e5m2, f) RD(20, uint8_t, f8e5m2fnuz, f)
    RD(23, uint8_t, f4e2m1, f) RD(24, uint8_t, f8e8m0, f) RD(21, uint8_t, u4, iv) RD(22, int8_t, i4, iv)
    RD(25, uint8_t, u2, iv) RD(26, int8_t, i2, iv)
#undef RD
    default: break;
    }
    switch ((int)p->to) {
#define CV(DT, T, tag) \
  case DT: ((T *)out[0])[i] = c == 'f' ? k_cv_##tag##_f(f) : c == 'u' ? k_cv_##tag##_u(uv) : k_cv_##tag##_i(iv); break;
#define CVM(DT, tag) \
  case DT: \
    ((uint8_t *)out[0])[i] = c == 'f' ? k_cv_##tag##_f(f, mode) : c == 'u' ? k_cv_##tag##_u(uv, mode) : k_cv_##tag##_i(iv, mode); \
    break;
    CV(DT_FLOAT, float, f32) CV(DT_DOUBLE, double, f64) CV(DT_FLOAT16, uint16_t, f16) CV(DT_BFLOAT16, uint16_t, bf16)
    CV(DT_BOOL, uint8_t, b) CV(DT_INT8, int8_t, i8) CV(DT_UINT8, uint8_t, u8) CV(DT_INT16, int16_t, i16)
    CV(DT_UINT16, uint16_t, u16) CV(DT_INT32, int32_t, i32) CV(DT_UINT32, uint32_t, u32) CV(DT_INT64, int64_t, i64)
    CV(DT_UINT64, uint64_t, u64) CV(21, uint8_t, u4) CV(22, int8_t, i4) CV(25, uint8_t, u2) CV(26, int8_t, i2)
    CVM(17, f8e4m3fn) CVM(18, f8e4m3fnuz) CVM(19, f8e5m2) CVM(20, f8e5m2fnuz) CVM(23, f4e2m1) CVM(24, f8e8m0)
#undef CV
#undef CVM
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
  if (has_mode(p->to))
    emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = k_cv_%s_%c(k_rd_%s(%s[i]), %d); }", (long long)o->numel, y,
         dtype_tag(p->to), carrier(p->from), dtype_tag(p->from), x, p->mode);
  else
    emit(e, "{ int64_t i; for (i = 0; i < %lld; i++) %s[i] = k_cv_%s_%c(k_rd_%s(%s[i])); }", (long long)o->numel, y,
         dtype_tag(p->to), carrier(p->from), dtype_tag(p->from), x);
}

const OpDef opdef_Cast = {"to,saturate,round_mode", 1, 1, 1, 1, cast_infer, cast_eval, cast_emit, 0};
const OpDef opdef_CastLike = {"saturate,round_mode", 2, 2, 1, 1, castlike_infer, cast_eval, cast_emit, 0};
