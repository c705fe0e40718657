/*
 * op_einsum.c: Einsum (opset 12), general.
 *
 * The equation is parsed at compile time: terms per input, '...' (the
 * broadcast dims, right-aligned, size-1 dims broadcast), repeated labels in
 * one term (diagonals), explicit '->' output or the implicit one (ellipsis
 * dims, then the labels used once, in ASCII order).  Labels become a loop
 * space with literal per-input strides (runtime/k_einsum.h): output labels
 * outside, summed labels inside.  float, double, int32, int64.
 */
#include "mrtc.h"
#include "k_einsum.h"

#include <ctype.h>
#include <string.h>

#define EMAX_LAB 16
#define EMAX_IN 8

typedef struct EinsumP {
  int nlab, nout, nin;
  int64_t dims[EMAX_LAB];
  int64_t st[EMAX_IN * EMAX_LAB];
} EinsumP;

/* a term as a list of label codes: 'a'..'Z' letters, or 256 + k for the
 * k-th ellipsis dim counted from the left of the global ellipsis */
typedef struct Term {
  int lab[MAX_RANK + 64];
  int n, ell;      /* label count; has '...' */
  int nexpl;       /* explicit letters */
  int ellpos;      /* index in lab where '...' starts (before expansion) */
} Term;

static void parse_term(Node *n, const char *s, int len, Term *t) {
  memset(t, 0, sizeof *t);
  t->ellpos = -1;
  for (int i = 0; i < len; i++) {
    char c = s[i];
    if (c == ' ') continue;
    if (c == '.') {
      if (i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.') error_node(n, "equation: malformed '...'");
      if (t->ell) error_node(n, "equation: '...' twice in one term");
      t->ell = 1;
      t->ellpos = t->n;
      i += 2;
      continue;
    }
    if (!isalpha((unsigned char)c)) error_node(n, "equation: unexpected character '%c'", c);
    if (t->n >= MAX_RANK + 8) error_node(n, "equation: term too long");
    t->lab[t->n++] = (unsigned char)c;
    t->nexpl++;
  }
}

/* expands '...' into E ellipsis labels (right-aligned: a term with e dims gets the last e) */
static void expand(Term *t, int e, int E) {
  if (!t->ell) return;
  int tmp[MAX_RANK + 64], m = 0;
  for (int i = 0; i < t->ellpos; i++) tmp[m++] = t->lab[i];
  for (int k = E - e; k < E; k++) tmp[m++] = 256 + k;
  for (int i = t->ellpos; i < t->n; i++) tmp[m++] = t->lab[i];
  memcpy(t->lab, tmp, sizeof(int) * m);
  t->n = m;
}

static void einsum_infer(Node *n) {
  const char *eq = attr_str(n, "equation", NULL);
  if (!eq) error_node(n, "attribute 'equation' is required");
  DType dt = n->in[0]->dtype;
  if (dt != DT_FLOAT && dt != DT_DOUBLE && dt != DT_INT32 && dt != DT_INT64)
    error_node(n, "type %s is not supported (float, double, int32, int64)", dtype_name(dt));
  if (n->nin > EMAX_IN) error_node(n, "at most %d inputs are supported", EMAX_IN);
  for (int k = 0; k < n->nin; k++) {
    if (!n->in[k]) error_node(n, "input %d is missing", k);
    if (n->in[k]->dtype != dt) error_node(n, "inputs have different types");
  }
  const char *arrow = strstr(eq, "->");
  int lhs_len = arrow ? (int)(arrow - eq) : (int)strlen(eq);
  Term t[EMAX_IN], out;
  int nt = 0;
  for (int i = 0, st = 0; i <= lhs_len; i++)
    if (i == lhs_len || eq[i] == ',') {
      if (nt >= n->nin) error_node(n, "equation '%s' has more terms than the %d inputs", eq, n->nin);
      parse_term(n, eq + st, i - st, &t[nt++]);
      st = i + 1;
    }
  if (nt != n->nin) error_node(n, "equation '%s' has %d terms for %d inputs", eq, nt, n->nin);
  /* ellipsis ranks */
  int E = 0, e[EMAX_IN];
  for (int k = 0; k < nt; k++) {
    Value *v = n->in[k];
    e[k] = v->rank - t[k].nexpl;
    if (!t[k].ell && e[k] != 0) error_node(n, "term %d has %d labels for input rank %d", k, t[k].nexpl, v->rank);
    if (e[k] < 0) error_node(n, "term %d has %d labels for input rank %d", k, t[k].nexpl, v->rank);
    if (e[k] > E) E = e[k];
  }
  for (int k = 0; k < nt; k++) expand(&t[k], e[k], E);
  /* label sizes */
  int64_t size[256 + MAX_RANK + 64];
  int count[256 + MAX_RANK + 64] = {0};
  for (int l = 0; l < 256 + MAX_RANK + 64; l++) size[l] = -1;
  for (int k = 0; k < nt; k++)
    for (int i = 0; i < t[k].n; i++) {
      int l = t[k].lab[i];
      int64_t d = n->in[k]->dims[i];
      count[l]++;
      if (size[l] < 0 || size[l] == 1) size[l] = d;
      else if (d != size[l] && d != 1)
        error_node(n, "label '%c' has sizes %lld and %lld", l < 256 ? l : '.', (long long)size[l], (long long)d);
    }
  /* output term */
  if (arrow) {
    parse_term(n, arrow + 2, (int)strlen(arrow + 2), &out);
    if (!out.ell && E > 0) error_node(n, "the output must contain '...' when the inputs do");
    expand(&out, E, E);
    for (int i = 0; i < out.n; i++) {
      if (out.lab[i] < 256 && !count[out.lab[i]]) error_node(n, "output label '%c' is in no input", out.lab[i]);
      for (int j = 0; j < i; j++)
        if (out.lab[j] == out.lab[i]) error_node(n, "output label '%c' repeated", out.lab[i]);
    }
  } else {
    memset(&out, 0, sizeof out);
    for (int k = 0; k < E; k++) out.lab[out.n++] = 256 + k;
    for (int l = 0; l < 256; l++)
      if (count[l] == 1) out.lab[out.n++] = l;
  }
  if (out.n > MAX_RANK) error_node(n, "output rank %d too large", out.n);
  /* loop space: output labels, then the others */
  EinsumP *p = xalloc(sizeof *p);
  int map[256 + MAX_RANK + 64];
  for (int l = 0; l < 256 + MAX_RANK + 64; l++) map[l] = -1;
  int64_t od[MAX_RANK];
  for (int i = 0; i < out.n; i++) {
    map[out.lab[i]] = p->nlab;
    p->dims[p->nlab++] = size[out.lab[i]];
    od[i] = size[out.lab[i]];
  }
  p->nout = p->nlab;
  for (int l = 0; l < 256 + MAX_RANK + 64; l++)
    if (count[l] && map[l] < 0) {
      if (p->nlab >= EMAX_LAB) error_node(n, "more than %d distinct labels", EMAX_LAB);
      map[l] = p->nlab;
      p->dims[p->nlab++] = size[l];
    }
  p->nin = nt;
  for (int k = 0; k < nt; k++) {
    Value *v = n->in[k];
    int64_t s = 1;
    for (int i = v->rank - 1; i >= 0; i--) {
      int l = map[t[k].lab[i]];
      if (v->dims[i] != 1 || p->dims[l] == 1) p->st[k * EMAX_LAB + l] += s;
      s *= v->dims[i];
    }
  }
  /* compact the stride table to nlab columns */
  int64_t tmp[EMAX_IN * EMAX_LAB];
  for (int k = 0; k < nt; k++)
    for (int l = 0; l < p->nlab; l++) tmp[k * p->nlab + l] = p->st[k * EMAX_LAB + l];
  memcpy(p->st, tmp, sizeof(int64_t) * nt * p->nlab);
  value_set_shape(n->out[0], dt, out.n, od);
  int64_t m = 1;
  for (int l = 0; l < p->nlab; l++) m *= p->dims[l];
  n->macs = m;
  n->p = p;
}

static void einsum_eval(Node *n, void *const *in, void *const *out) {
  EinsumP *p = n->p;
  switch (n->in[0]->dtype) {
  case DT_FLOAT: k_einsum_f32(p->nlab, p->nout, p->dims, p->nin, p->st, (const float *const *)in, out[0]); break;
  case DT_DOUBLE: k_einsum_f64(p->nlab, p->nout, p->dims, p->nin, p->st, (const double *const *)in, out[0]); break;
  case DT_INT32: k_einsum_i32(p->nlab, p->nout, p->dims, p->nin, p->st, (const int32_t *const *)in, out[0]); break;
  default: k_einsum_i64(p->nlab, p->nout, p->dims, p->nin, p->st, (const int64_t *const *)in, out[0]); break;
  }
}

static void einsum_emit(Node *n, Emitter *e) {
  EinsumP *p = n->p;
  DType dt = n->in[0]->dtype;
  emit_need(e, "k_einsum");
  Buf ins = {0};
  for (int k = 0; k < p->nin; k++) buf_printf(&ins, "%s%s", k ? ", " : "", eref(e, n->in[k]));
  emit(e, "{ const %s *ins[%d] = {%s};", dtype_ctype(dt), p->nin, ins.s);
  emit(e, "  k_einsum_%s(%d, %d, %s, %d, %s, ins, %s); }", dtype_tag(dt), p->nlab, p->nout, emit_i64s(e, p->dims, p->nlab),
       p->nin, emit_i64s(e, p->st, p->nin * p->nlab), eref(e, n->out[0]));
}

const OpDef opdef_Einsum = {"equation", 1, -1, 1, 1, einsum_infer, einsum_eval, einsum_emit, 0};
