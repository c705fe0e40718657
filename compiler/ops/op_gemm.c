/*
 * op_gemm.c: Gemm and MatMul.  Generated code calls k_gemm_f32
 * (runtime/k_gemm.h) with transposes expressed as strides; the reference
 * interpreter uses OpenBLAS (blas.c).  Gemm's C (bias) is broadcast into Y
 * first, then Y += alpha * A * B, with beta folded in.
 */
#include "mrtc.h"
#include "k_gemm.h"

#include <string.h>

typedef struct GemmP {
  int64_t M, N, K;
  int ta, tb;
  float alpha, beta;
  /* MatMul batches: per-batch element offsets of A, B, Y */
  int64_t nb;
  int64_t *offa, *offb;
  /* Gemm bias broadcast: C is (cm, cn) with dims 1 or M/N */
  int64_t cm, cn;
} GemmP;

static void gemm_infer(Node *n) {
  Value *a = n->in[0], *b = n->in[1], *c = node_in(n, 2);
  need_float(n, 0);
  need_float(n, 1);
  need_float(n, 2);
  GemmP *p = xalloc(sizeof *p);
  p->ta = (int)attr_int(n, "transA", 0);
  p->tb = (int)attr_int(n, "transB", 0);
  p->alpha = attr_float(n, "alpha", 1.0f);
  p->beta = attr_float(n, "beta", 1.0f);
  if (n->opset < 7) attr_int(n, "broadcast", 0);
  if (a->rank != 2 || b->rank != 2) error_node(n, "A and B must be 2-D (got %s, %s)", shape_str(a), shape_str(b));
  p->M = p->ta ? a->dims[1] : a->dims[0];
  p->K = p->ta ? a->dims[0] : a->dims[1];
  int64_t kb = p->tb ? b->dims[1] : b->dims[0];
  p->N = p->tb ? b->dims[0] : b->dims[1];
  if (kb != p->K) error_node(n, "inner dimensions differ (%s, %s)", shape_str(a), shape_str(b));
  p->cm = p->cn = 0;
  if (c) {
    if (c->rank > 2) error_node(n, "C must have rank <= 2");
    int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    if ((cm != 1 && cm != p->M) || (cn != 1 && cn != p->N)) error_node(n, "C %s does not broadcast to (%lld, %lld)", shape_str(c), (long long)p->M, (long long)p->N);
    p->cm = cm;
    p->cn = cn;
  }
  int64_t od[2] = {p->M, p->N};
  value_set_shape(n->out[0], DT_FLOAT, 2, od);
  p->nb = 1;
  n->macs = p->M * p->N * p->K;
  n->p = p;
}

static void matmul_infer(Node *n) {
  Value *a = n->in[0], *b = n->in[1];
  need_float(n, 0);
  need_float(n, 1);
  if (a->rank < 1 || b->rank < 1) error_node(n, "scalars are not valid MatMul inputs");
  GemmP *p = xalloc(sizeof *p);
  p->alpha = 1.0f;
  int ar = a->rank, br = b->rank;
  p->M = ar == 1 ? 1 : a->dims[ar - 2];
  p->K = a->dims[ar - 1];
  int64_t kb = br == 1 ? b->dims[0] : b->dims[br - 2];
  p->N = br == 1 ? 1 : b->dims[br - 1];
  if (kb != p->K) error_node(n, "inner dimensions differ (%s, %s)", shape_str(a), shape_str(b));
  /* batch broadcast */
  Value ba = *a, bb = *b;
  ba.rank = ar > 2 ? ar - 2 : 0;
  bb.rank = br > 2 ? br - 2 : 0;
  Value *bs[2] = {&ba, &bb};
  int r;
  int64_t bd[MAX_RANK];
  broadcast_shapes(n, bs, 2, &r, bd);
  int64_t od[MAX_RANK];
  int orank = 0;
  for (int d = 0; d < r; d++) od[orank++] = bd[d];
  if (ar > 1) od[orank++] = p->M;
  if (br > 1) od[orank++] = p->N;
  value_set_shape(n->out[0], DT_FLOAT, orank, od);
  p->nb = shape_numel(r, bd);
  p->offa = xalloc(sizeof(int64_t) * (p->nb + 1));
  p->offb = xalloc(sizeof(int64_t) * (p->nb + 1));
  int64_t idx[MAX_RANK] = {0};
  for (int64_t i = 0; i < p->nb; i++) {
    int64_t oa = 0, ob = 0, sa = 1, sb = 1;
    for (int d = r - 1; d >= 0; d--) {
      int da = d - (r - ba.rank), db = d - (r - bb.rank);
      if (da >= 0) {
        if (ba.dims[da] != 1) oa += idx[d] * sa;
        sa *= ba.dims[da];
      }
      if (db >= 0) {
        if (bb.dims[db] != 1) ob += idx[d] * sb;
        sb *= bb.dims[db];
      }
    }
    p->offa[i] = oa * p->M * p->K;
    p->offb[i] = ob * p->K * p->N;
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < bd[d]) break;
      idx[d] = 0;
    }
  }
  n->macs = p->nb * p->M * p->N * p->K;
  n->p = p;
}

static void gemm_eval(Node *n, void *const *in, void *const *out) {
  GemmP *p = n->p;
  const float *A = in[0], *B = in[1], *C = n->nin > 2 ? in[2] : NULL;
  float *Y = out[0];
  if (n->op == OP_Gemm) {
    for (int64_t i = 0; i < p->M; i++)
      for (int64_t j = 0; j < p->N; j++)
        Y[i * p->N + j] = C ? p->beta * C[(p->cm == 1 ? 0 : i) * p->cn + (p->cn == 1 ? 0 : j)] : 0.0f;
    blas_sgemm(p->ta, p->tb, p->M, p->N, p->K, p->alpha, A, p->ta ? p->M : p->K, B, p->tb ? p->K : p->N, 1.0f, Y, p->N);
    return;
  }
  for (int64_t bi = 0; bi < p->nb; bi++)
    blas_sgemm(0, 0, p->M, p->N, p->K, 1.0f, A + p->offa[bi], p->K, B + p->offb[bi], p->N, 0.0f, Y + bi * p->M * p->N, p->N);
}

static int all_equal_steps(const int64_t *o, int64_t nb, int64_t *step) {
  *step = nb > 1 ? o[1] - o[0] : 0;
  for (int64_t i = 1; i < nb; i++)
    if (o[i] - o[i - 1] != *step) return 0;
  return 1;
}

static void gemm_emit(Node *n, Emitter *e) {
  GemmP *p = n->p;
  emit_need(e, "k_gemm");
  const char *A = eref(e, n->in[0]), *B = NULL, *Y = eref(e, n->out[0]);
  long long M = p->M, N = p->N, K = p->K;
  if (n->op == OP_Gemm) {
    Value *c = node_in(n, 2);
    if (c)
      emit(e, "{ int64_t i, j; for (i = 0; i < %lld; i++) for (j = 0; j < %lld; j++) %s[i * %lld + j] = %s * %s[%s + %s]; }", M, N,
           Y, N, fmt_float(p->beta), eref(e, c), p->cm == 1 ? "0" : fmt("i * %lld", (long long)p->cn),
           p->cn == 1 ? "0" : "j");
    else
      emit(e, "memset(%s, 0, %lld);", Y, M * N * 4);
    int tb = p->tb;
    if (tb && n->in[1]->data) { /* constant B: transpose at compile time so the kernel streams rows */
      const float *w = n->in[1]->data;
      float *t = xalloc(sizeof(float) * (size_t)(K * N + 1));
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++) t[k * N + j] = w[j * K + k];
      int64_t d[2] = {K, N};
      B = emit_const(e, DT_FLOAT, 2, d, t);
      tb = 0;
    } else
      B = eref(e, n->in[1]);
    emit(e, "k_gemm_f32(%lld, %lld, %lld, %s, %s, %lld, %lld, %s, %lld, %lld, %s, %lld);", M, N, K, fmt_float(p->alpha), A,
         p->ta ? 1LL : K, p->ta ? M : 1LL, B, tb ? 1LL : N, tb ? K : 1LL, Y, N);
    return;
  }
  B = eref(e, n->in[1]);
  emit(e, "memset(%s, 0, %lld);", Y, (long long)p->nb * M * N * 4);
  int64_t sa, sb;
  if (p->nb > 1 && all_equal_steps(p->offa, p->nb, &sa) && all_equal_steps(p->offb, p->nb, &sb))
    emit(e, "{ int64_t b; for (b = 0; b < %lld; b++) k_gemm_f32(%lld, %lld, %lld, 1.0f, %s + b * %lld, %lld, 1, %s + b * %lld, %lld, 1, %s + b * %lld, %lld); }",
         (long long)p->nb, M, N, K, A, (long long)sa, K, B, (long long)sb, N, Y, M * N, N);
  else
    for (int64_t bi = 0; bi < p->nb; bi++)
      emit(e, "k_gemm_f32(%lld, %lld, %lld, 1.0f, %s + %lld, %lld, 1, %s + %lld, %lld, 1, %s + %lld, %lld);", M, N, K, A,
           (long long)p->offa[bi], K, B, (long long)p->offb[bi], N, Y, (long long)(bi * M * N), N);
}

const OpDef opdef_Gemm = {"alpha,beta,transA,transB,broadcast", 2, 3, 1, 1, gemm_infer, gemm_eval, gemm_emit, 0};
const OpDef opdef_MatMul = {"", 2, 2, 1, 1, matmul_infer, gemm_eval, gemm_emit, 0};
