/*
 * emit_c.c: the C emitter.
 *
 * Writes model.c and model.h per the generated-code contract (README and
 * include/mrtc_model.h): NAME_run(), the reentrant NAME_run_arena(), and
 * macros for the arena, weights and every input/output shape.  Everything
 * else in model.c is static.  The body is one straight-line function: each
 * live node's code, opened by a comment naming the ONNX node and op, is
 * written by the op's emit hook, which calls a kernel from runtime/ with
 * shapes and strides as literal constants.  Kernels are pasted from the
 * runtime sources embedded in mrtc at build time, only those the model
 * uses; their #include "k_*.h" lines pull in their dependencies once.
 * Weights are static const arrays in their shortest exact form.
 */
#include "mrtc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KERNELS 128

static const char *kernels_done[MAX_KERNELS];
static int nkernels_done;
static Buf kernel_text;
static unsigned char *weight_done;

void emit(Emitter *e, const char *f, ...) {
  for (int i = 0; i < e->indent + 1; i++) buf_puts(e->b, "  ");
  va_list ap;
  va_start(ap, f);
  buf_vprintf(e->b, f, ap);
  va_end(ap);
  buf_puts(e->b, "\n");
}

static void paste_kernel(const char *name) {
  for (int i = 0; i < nkernels_done; i++)
    if (!strcmp(kernels_done[i], name)) return;
  const char *src = runtime_source(name);
  if (!src) fatal("internal: runtime kernel '%s' missing from this mrtc build", name);
  if (nkernels_done < MAX_KERNELS) kernels_done[nkernels_done++] = name;
  /* dependencies first */
  const char *p = src;
  while ((p = strstr(p, "#include \"k_"))) {
    const char *q = p + 10, *end = strstr(q, ".h\"");
    if (!end) break;
    if (p != src && p[-1] != '\n') {
      p = end;
      continue;
    }
    paste_kernel(fmt("%.*s", (int)(end - q), q));
    p = end;
  }
  /* copy, dropping the #include "k_..." lines */
  for (const char *line = src; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
    if (strncmp(line, "#include \"k_", 12)) buf_putn(&kernel_text, line, len);
    line += len;
  }
  buf_puts(&kernel_text, "\n");
}

void emit_need(Emitter *e, const char *kernel) {
  (void)e;
  paste_kernel(kernel);
}

/* shortest decimal that converts back to exactly F (no suffix) */
static const char *fmt_float_bare(float f) {
  if (isnan(f)) return "NAN";
  if (isinf(f)) return f > 0 ? "INFINITY" : "-INFINITY";
  if (f == 0) return signbit(f) ? "-0." : "0";
  char s[48];
  for (int prec = 1; prec <= 9; prec++) {
    snprintf(s, sizeof s, "%.*g", prec, (double)f);
    if ((float)strtod(s, NULL) == f) break;
  }
  /* shorten: 0.5 -> .5, 1e-05 -> 1e-5, 1e+10 -> 1e10; keep it a float literal */
  Buf b = {0};
  const char *p = s;
  if (*p == '-') buf_putn(&b, p++, 1);
  if (p[0] == '0' && p[1] == '.') p++;
  const char *e = strchr(p, 'e');
  if (e) {
    buf_putn(&b, p, e - p);
    if (!memchr(p, '.', e - p)) buf_puts(&b, ".");
    buf_puts(&b, "e");
    e++;
    if (*e == '+') e++;
    else if (*e == '-') buf_putn(&b, e++, 1);
    while (*e == '0' && e[1]) e++;
    buf_puts(&b, e);
  } else {
    buf_puts(&b, p);
    if (!strchr(p, '.')) buf_puts(&b, ".");
  }
  return b.s;
}

/* a float literal: "1.5f", ".1f", "1e-5f", INFINITY */
const char *fmt_float(float f) {
  const char *s = fmt_float_bare(f);
  if (isnan(f) || isinf(f)) return s;
  if (f == 0) return signbit(f) ? "-0.f" : "0.f";
  return fmt("%sf", s);
}

static void fmt_elem(Buf *b, const void *data, DType t, int64_t i) {
  switch (t) {
  case DT_FLOAT: buf_puts(b, fmt_float_bare(((const float *)data)[i])); break;
  case DT_DOUBLE: {
    double d = ((const double *)data)[i];
    if (isnan(d)) buf_puts(b, "NAN");
    else if (isinf(d)) buf_puts(b, d > 0 ? "INFINITY" : "-INFINITY");
    else {
      char s[40];
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d) break;
      }
      buf_puts(b, s);
      if (!strpbrk(s, ".e")) buf_puts(b, ".");
    }
    break;
  }
  case DT_FLOAT16: case DT_BFLOAT16: case DT_UINT16:
    buf_printf(b, "%u", ((const uint16_t *)data)[i]);
    break;
  case DT_UINT64: buf_printf(b, "%lluULL", (unsigned long long)((const uint64_t *)data)[i]); break;
  case DT_UINT32: buf_printf(b, "%luUL", (unsigned long)((const uint32_t *)data)[i]); break;
  default: {
    int64_t x = elem_get_i64(data, t, i);
    if (x == INT64_MIN) buf_puts(b, "(-9223372036854775807LL-1)");
    else if (x > 2147483647LL || x < -2147483647LL) buf_printf(b, "%lldLL", (long long)x);
    else buf_printf(b, "%lld", (long long)x);
  }
  }
}

/* Large tensors are written as string literals of their bytes: gcc parses
 * a 100 MB string in seconds but needs minutes for 25M float literals
 * (resnet50: 8 s against 290 s).  Each row is one literal of ROW bytes
 * (under C99's 4095-character minimum), and a union gives the bytes the
 * tensor's type and alignment.  Printable characters stand for themselves;
 * others are octal escapes ('?' too: no trigraphs). */
#define BYTES_MIN_ELEMS 1024
#define ROW 4000

static int raw_char(unsigned char x) { return x >= 0x20 && x < 0x7f && x != '"' && x != '\\' && x != '?'; }

static void emit_weight_bytes(Buf *b, Value *v) {
  const unsigned char *p = v->data;
  int64_t nb = value_bytes(v), rows = (nb + ROW - 1) / ROW;
  buf_printf(b, "static const union { unsigned char c[%lld][%d]; %s v[%lld]; } W%d = {{\n", (long long)rows, ROW,
             dtype_ctype(v->dtype), (long long)v->numel, v->id);
  /* worst case 4 characters per byte plus row syntax; write straight into the buffer */
  size_t need = b->len + (size_t)nb * 4 + (size_t)rows * 8 + 64;
  if (need > b->cap) {
    b->cap = need * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  char *o = b->s + b->len;
  for (int64_t r = 0; r < rows; r++) {
    int64_t end = (r + 1) * ROW < nb ? (r + 1) * ROW : nb;
    *o++ = '"';
    for (int64_t i = r * ROW; i < end; i++) {
      unsigned char x = p[i];
      if (raw_char(x)) {
        *o++ = (char)x;
        continue;
      }
      *o++ = '\\';
      int full = i + 1 < end && raw_char(p[i + 1]) && p[i + 1] >= '0' && p[i + 1] <= '7';
      if (full || x >= 64) *o++ = (char)('0' + (x >> 6));
      if (full || x >= 8) *o++ = (char)('0' + ((x >> 3) & 7));
      *o++ = (char)('0' + (x & 7));
    }
    *o++ = '"';
    if (r + 1 < rows) *o++ = ',';
    *o++ = '\n';
  }
  b->len = (size_t)(o - b->s);
  b->s[b->len] = 0;
  buf_puts(b, "}};\n");
}

static void emit_weight(Emitter *e, Value *v) {
  Buf *b = &e->consts;
  buf_printf(b, "/* %s %s */\n", v->name, shape_str(v));
  if (v->numel >= BYTES_MIN_ELEMS) {
    emit_weight_bytes(b, v);
    return;
  }
  buf_printf(b, "static const %s W%d[%lld] = {", dtype_ctype(v->dtype), v->id, (long long)(v->numel ? v->numel : 1));
  size_t col = 0;
  for (int64_t i = 0; i < v->numel; i++) {
    size_t before = b->len;
    fmt_elem(b, v->data, v->dtype, i);
    if (i + 1 < v->numel) buf_puts(b, ",");
    col += b->len - before;
    if (col > 100) {
      buf_puts(b, "\n");
      col = 0;
    }
  }
  if (!v->numel) buf_puts(b, "0");
  buf_puts(b, "};\n");
}

static Value *root(Value *v) {
  while (v->alias) v = v->alias;
  return v;
}

const char *eref(Emitter *e, Value *v) {
  const char *ct = dtype_ctype(v->dtype);
  Value *r = root(v);
  if (r->data) {
    if (!weight_done[r->id]) {
      weight_done[r->id] = 1;
      emit_weight(e, r);
    }
    const char *w = r->numel >= BYTES_MIN_ELEMS ? fmt("W%d.v", r->id) : fmt("W%d", r->id);
    if (r->dtype != v->dtype) return fmt("((const %s *)%s)", ct, w);
    return w;
  }
  if (r->is_input) return r->dtype == v->dtype ? fmt("in%d", r->input_index) : fmt("((const %s *)in%d)", ct, r->input_index);
  if (r->output_index >= 0) return r->dtype == v->dtype ? fmt("out%d", r->output_index) : fmt("((%s *)out%d)", ct, r->output_index);
  if (r->offset < 0) fatal("internal: tensor '%s' has no storage", v->name);
  return fmt("((%s *)(A + %lld))", ct, (long long)(r->offset + alias_chain_off(v)));
}

const char *emit_const(Emitter *e, DType t, int rank, const int64_t *dims, const void *data) {
  Value *v = value_new_const(NULL, "derived constant", t, rank, dims);
  memcpy(v->data, data, (size_t)value_bytes(v));
  v->id = e->g->nvalues + 1 + e->tmp++;
  emit_weight(e, v);
  return v->numel >= BYTES_MIN_ELEMS ? fmt("W%d.v", v->id) : fmt("W%d", v->id);
}

const char *eref_void(Emitter *e, Value *v) { return fmt("(void *)%s", eref(e, v)); }

const char *emit_i64s(Emitter *e, const int64_t *v, int n) {
  Buf *b = &e->consts;
  int id = e->tmp++;
  buf_printf(b, "static const int64_t C%d[%d] = {", id, n ? n : 1);
  for (int i = 0; i < n; i++) buf_printf(b, "%s%lldLL", i ? "," : "", (long long)v[i]);
  if (!n) buf_puts(b, "0");
  buf_puts(b, "};\n");
  return fmt("C%d", id);
}

const char *emit_f32s(Emitter *e, const float *v, int n) {
  Buf *b = &e->consts;
  int id = e->tmp++;
  buf_printf(b, "static const float C%d[%d] = {", id, n ? n : 1);
  for (int i = 0; i < n; i++) {
    buf_printf(b, "%s%s", i ? "," : "", fmt_float_bare(v[i]));
    if (i % 16 == 15) buf_puts(b, "\n");
  }
  if (!n) buf_puts(b, "0");
  buf_puts(b, "};\n");
  return fmt("C%d", id);
}

static void params(Buf *b, Graph *g) {
  for (int i = 0; i < g->ninputs; i++)
    buf_printf(b, "%sconst %s *in%d", i ? ", " : "", dtype_ctype(g->inputs[i]->dtype), i);
  for (int i = 0; i < g->noutputs; i++)
    buf_printf(b, "%s%s *out%d", g->ninputs || i ? ", " : "", dtype_ctype(g->outputs[i]->dtype), i);
  if (!g->ninputs && !g->noutputs) buf_puts(b, "void");
}

static void io_macros(Buf *h, const char *up, const char *kind, int i, Value *v) {
  buf_printf(h, "#define %s_%s%d_NAME \"%s\"\n", up, kind, i, v->name);
  buf_printf(h, "#define %s_%s%d_DTYPE %d /* %s */\n", up, kind, i, (int)v->dtype, dtype_name(v->dtype));
  buf_printf(h, "#define %s_%s%d_RANK %d\n", up, kind, i, v->rank);
  buf_printf(h, "#define %s_%s%d_SHAPE {", up, kind, i);
  for (int k = 0; k < v->rank; k++) buf_printf(h, "%s%lld", k ? ", " : "", (long long)v->dims[k]);
  if (!v->rank) buf_puts(h, "1");
  buf_printf(h, "}\n#define %s_%s%d_SIZE %lld\n", up, kind, i, (long long)v->numel);
}

static void emit_node(Emitter *e, Node *n) {
  emit(e, "/* node '%s' (%s) */", n->name, n->op_type);
  const OpDef *d = op_defs[n->op];
  Value *out = n->out[0];
  if (d->flags & OPF_VIEW) {
    if (out->alias) return;
    emit(e, "memcpy(%s, %s, %lld);", eref(e, out), eref(e, n->in[0]), (long long)value_bytes(out));
    return;
  }
  if (!d->emit) error_node(n, "no C code generator for this op");
  d->emit(n, e);
}

void emit_c(Graph *g, const Plan *p, const EmitOpt *o, Buf *c, Buf *h) {
  const char *N = o->name;
  char *up = xstrdup(N);
  for (char *s = up; *s; s++)
    if (*s >= 'a' && *s <= 'z') *s -= 32;
  Buf body = {0};
  Emitter e = {.b = &body, .g = g, .o = o};
  weight_done = xalloc(g->nvalues + 1);
  nkernels_done = 0;
  kernel_text = (Buf){0};
  buf_puts(&kernel_text, "");
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) emit_node(&e, g->nodes[i]);
  /* graph outputs that no node writes: constants, inputs, duplicates */
  for (int i = 0; i < g->noutputs; i++) {
    Value *v = g->outputs[i];
    if (v->output_index == i && v->producer && !v->producer->dead && !v->data) continue;
    e.b = &body;
    emit(&e, "/* graph output %d ('%s') */", i, v->name);
    Value *src = v;
    if (v->output_index != i) emit(&e, "memcpy(out%d, out%d, %lld);", i, v->output_index, (long long)value_bytes(v));
    else {
      int save = v->output_index;
      v->output_index = -1;
      const char *ref = eref(&e, src);
      v->output_index = save;
      emit(&e, "memcpy(out%d, %s, %lld);", i, ref, (long long)value_bytes(v));
    }
  }
  /* header */
  buf_printf(h, "/* %s.h: generated by mrtc %s from %s. Do not edit. */\n", N, MRTC_VERSION, g->path);
  buf_printf(h, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", up, up);
  buf_printf(h, "#define %s_ARENA_BYTES %lld\n#define %s_WEIGHTS_BYTES %lld\n", up, (long long)p->arena_bytes, up,
             (long long)p->weights_bytes);
  buf_printf(h, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n", up, g->ninputs, up, g->noutputs);
  for (int i = 0; i < g->ninputs; i++) io_macros(h, up, "IN", i, g->inputs[i]);
  for (int i = 0; i < g->noutputs; i++) io_macros(h, up, "OUT", i, g->outputs[i]);
  buf_printf(h, "\n/* Runs the model with a static arena. Returns 0. Not reentrant. */\nint %s_run(", N);
  params(h, g);
  buf_printf(h, ");\n/* Reentrant: ARENA points to %s_ARENA_BYTES bytes, 64-byte aligned. */\nint %s_run_arena(void *arena", up, N);
  if (g->ninputs || g->noutputs) buf_puts(h, ", ");
  params(h, g);
  buf_puts(h, ");\n\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
  /* source */
  buf_printf(c, "/* %s.c: generated by mrtc %s from %s. Do not edit.\n", N, MRTC_VERSION, g->path);
  buf_printf(c, " * arena %lld bytes (lower bound %lld), weights %lld bytes. */\n", (long long)p->arena_bytes,
             (long long)p->lower_bound, (long long)p->weights_bytes);
  buf_printf(c, "#include \"%s\"\n\n#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n", o->header_name);
  buf_puts(c, "/* ---- kernels (mrtc runtime) ---- */\n\n");
  if (o->size_mode) buf_puts(c, "#define MRTC_SIZE_MODE 1 /* mrtc --size: one shared copy of each kernel */\n\n");
  buf_puts(c, kernel_text.s ? kernel_text.s : "");
  buf_puts(c, "/* ---- weights and constants ---- */\n\n");
  buf_puts(c, "#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
              "#error \"mrtc: large weights are stored as little-endian bytes\"\n#endif\n");
  if (e.consts.s) buf_puts(c, e.consts.s);
  buf_printf(c, "\nint %s_run_arena(void *arena", N);
  if (g->ninputs || g->noutputs) buf_puts(c, ", ");
  params(c, g);
  buf_puts(c, ") {\n  unsigned char *A = (unsigned char *)arena;\n  (void)A;\n");
  for (int i = 0; i < g->ninputs; i++) buf_printf(c, "  (void)in%d;\n", i);
  for (int i = 0; i < g->noutputs; i++) buf_printf(c, "  (void)out%d;\n", i);
  if (body.s) buf_puts(c, body.s);
  buf_puts(c, "  return 0;\n}\n\n");
  buf_printf(c, "#if defined(__GNUC__)\nstatic unsigned char %s_arena[%lld] __attribute__((aligned(64)));\n#else\n", N,
             (long long)(p->arena_bytes ? p->arena_bytes : 1));
  buf_printf(c, "static union { double d; unsigned char b[%lld]; } %s_arena_u;\n#define %s_arena %s_arena_u.b\n#endif\n\n",
             (long long)(p->arena_bytes ? p->arena_bytes : 1), N, N, N);
  buf_printf(c, "int %s_run(", N);
  params(c, g);
  buf_printf(c, ") {\n  return %s_run_arena(%s_arena", N, N);
  for (int i = 0; i < g->ninputs; i++) buf_printf(c, ", in%d", i);
  for (int i = 0; i < g->noutputs; i++) buf_printf(c, ", out%d", i);
  buf_puts(c, ");\n}\n");
}
