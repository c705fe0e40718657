/*
 * op_gemm.c: Gemm and MatMul.
 *
 * Generated code uses the packed GEMM of runtime/k_gemm.h: the left
 * operand A is packed into MR-row panels (at compile time when it is a
 * constant, else at run time into the node's scratch), the right operand
 * B is read in place as a K x N row-major matrix (a constant transposed B
 * is transposed at compile time, a run-time one into scratch), and the
 * epilogue applies alpha, Gemm's C (prescaled by beta when constant: a
 * per-column bias, a per-row bias or a full matrix) and whatever fuse.c
 * absorbed (a bias Add, a residual Add, an activation) while the tile is in
 * registers.  MatMul batches whose B is shared and whose A is contiguous
 * are one taller GEMM.  A Gemm whose C is a run-time tensor scaled by
 * beta != 1 (or a run-time scalar) keeps the simple kernel k_gemm_f32.
 * The reference interpreter uses OpenBLAS (blas.c) and then the same
 * epilogue.
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
  int64_t pack_a, pack_b; /* scratch floats: run-time packed A, transposed B */
} GemmP;

static int64_t round_mr(int64_t m) { return (m + MRTC_MR - 1) / MRTC_MR * MRTC_MR; }

/* MatMul batches that are one GEMM of nb * M rows: shared B, contiguous A */
static int one_gemm(const GemmP *p) {
  for (int64_t i = 0; i < p->nb; i++)
    if (p->offb[i] != 0 || p->offa[i] != i * p->M * p->K) return 0;
  return 1;
}

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
  p->pack_a = a->data ? 0 : round_mr(p->M) * p->K;
  p->pack_b = p->tb && !b->data ? p->K * p->N : 0;
  n->scratch_bytes = (p->pack_a + p->pack_b) * 4;
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
  p->pack_a = a->data && one_gemm(p) ? 0 : round_mr(one_gemm(p) ? p->nb * p->M : p->M) * p->K;
  n->scratch_bytes = p->pack_a * 4;
  n->p = p;
}

/* the fused epilogue (fuse.c) on a finished output: rows x N, row stride N */
static KEpi fused_epi(Node *n, void *const *in) {
  KEpi e = {0};
  e.alpha = 1.0f;
  e.act = n->fuse_act;
  e.p0 = n->fuse_p0;
  e.p1 = n->fuse_p1;
  if (n->fuse_bias) e.bias_n = in[n->fuse_bias];
  if (n->fuse_res) {
    e.res = in[n->fuse_res];
    e.ldr = n->out[0]->dims[n->out[0]->rank - 1];
  }
  return e;
}

static void gemm_eval(Node *n, void *const *in, void *const *out) {
  GemmP *p = n->p;
  const float *A = in[0], *B = in[1], *C = n->nin > 2 ? in[2] : NULL;
  float *Y = out[0];
  KEpi e = fused_epi(n, in);
  if (n->op == OP_Gemm) {
    for (int64_t i = 0; i < p->M; i++)
      for (int64_t j = 0; j < p->N; j++)
        Y[i * p->N + j] = C ? p->beta * C[(p->cm == 1 ? 0 : i) * p->cn + (p->cn == 1 ? 0 : j)] : 0.0f;
    blas_sgemm(p->ta, p->tb, p->M, p->N, p->K, p->alpha, A, p->ta ? p->M : p->K, B, p->tb ? p->K : p->N, 1.0f, Y, p->N);
  } else
    for (int64_t bi = 0; bi < p->nb; bi++)
      blas_sgemm(0, 0, p->M, p->N, p->K, 1.0f, A + p->offa[bi], p->K, B + p->offb[bi], p->N, 0.0f, Y + bi * p->M * p->N, p->N);
  if (e.act || e.bias_n || e.res) k_epi_block_f32(p->nb * p->M, p->N, Y, p->N, &e);
}

static int all_equal_steps(const int64_t *o, int64_t nb, int64_t *step) {
  *step = nb > 1 ? o[1] - o[0] : 0;
  for (int64_t i = 1; i < nb; i++)
    if (o[i] - o[i - 1] != *step) return 0;
  return 1;
}

/* "{ KEpi ep = {...};" with the fused parts; bias_m/bias_n/res are C expressions or "0" */
static void emit_epi(Node *n, Emitter *e, const char *bias_m, const char *bias_n, const char *res, long long ldr,
                     float alpha) {
  emit(e, "{ const KEpi ep = {%s, %s, %s, %lld, %s, %d, %s, %s};", bias_m, bias_n, res, ldr, fmt_float(alpha), n->fuse_act,
       fmt_float(n->fuse_p0), fmt_float(n->fuse_p1));
}

/* packed A: a compile-time constant, or packed into scratch at run time */
static const char *emit_pack_a(Node *n, Emitter *e, int64_t M, int64_t K, int64_t sam, int64_t sak) {
  Value *a = n->in[0];
  if (a->data) {
    float *ap = xalloc(sizeof(float) * (size_t)(round_mr(M) * K + 1));
    k_pack_a_f32(M, K, a->data, sam, sak, ap);
    int64_t d[1] = {round_mr(M) * K};
    return emit_const(e, DT_FLOAT, 1, d, ap);
  }
  const char *ap = fmt("((float *)(A + %lld))", (long long)n->scratch_off);
  emit(e, "k_pack_a_f32(%lld, %lld, %s, %lld, %lld, %s);", (long long)M, (long long)K, eref(e, a), (long long)sam,
       (long long)sak, ap);
  return ap;
}

/* Gemm with a run-time C scaled by beta != 1 (or broadcast from a scalar): the simple kernel */
static void gemm_emit_simple(Node *n, Emitter *e) {
  GemmP *p = n->p;
  long long M = p->M, N = p->N, K = p->K;
  const char *Y = eref(e, n->out[0]);
  Value *c = node_in(n, 2);
  emit(e, "{ int64_t i, j; for (i = 0; i < %lld; i++) for (j = 0; j < %lld; j++) %s[i * %lld + j] = %s * %s[%s + %s]; }", M, N,
       Y, N, fmt_float(p->beta), eref(e, c), p->cm == 1 ? "0" : fmt("i * %lld", (long long)p->cn), p->cn == 1 ? "0" : "j");
  emit(e, "k_gemm_f32(%lld, %lld, %lld, %s, %s, %lld, %lld, %s, %lld, %lld, %s, %lld);", M, N, K, fmt_float(p->alpha),
       eref(e, n->in[0]), p->ta ? 1LL : K, p->ta ? M : 1LL, eref(e, n->in[1]), p->tb ? 1LL : N, p->tb ? K : 1LL, Y, N);
  if (n->fuse_act || n->fuse_bias || n->fuse_res) {
    emit_epi(n, e, "0", n->fuse_bias ? eref(e, n->in[n->fuse_bias]) : "0", n->fuse_res ? eref(e, n->in[n->fuse_res]) : "0", N,
             1.0f);
    emit(e, "  k_epi_block_f32(%lld, %lld, %s, %lld, &ep); }", M, N, Y, N);
  }
}

static void gemm_emit(Node *n, Emitter *e) {
  GemmP *p = n->p;
  emit_need(e, "k_gemm");
  long long M = p->M, N = p->N, K = p->K;
  if (n->op == OP_Gemm) {
    Value *c = node_in(n, 2), *b = n->in[1];
    if (c && !c->data && (p->beta != 1.0f || (p->cm == 1 && p->cn == 1))) {
      gemm_emit_simple(n, e);
      return;
    }
    const char *bm = "0", *bn = n->fuse_bias ? eref(e, n->in[n->fuse_bias]) : "0";
    const char *res = n->fuse_res ? eref(e, n->in[n->fuse_res]) : "0";
    if (c) { /* C as an epilogue term: constant ones prescaled by beta */
      /* its role: a full matrix, one value per row, or one per column (scalars broadcast) */
      int role = p->cm == M && M > 1 ? (p->cn == N ? 2 : 1) : 0;
      int64_t len = role == 2 ? M * N : role == 1 ? M : N;
      const char *cref;
      if (c->data) {
        float *t = xalloc(sizeof(float) * (size_t)(len + 1));
        for (int64_t i = 0; i < len; i++) t[i] = p->beta * ((const float *)c->data)[role == 0 && p->cn == 1 ? 0 : i];
        int64_t d[1] = {len};
        cref = emit_const(e, DT_FLOAT, 1, d, t);
      } else
        cref = eref(e, c); /* beta == 1 and not a scalar here */
      if (role == 2) res = cref; /* fuse.c fuses no Add into a Gemm that has C */
      else if (role == 1) bm = cref;
      else bn = cref;
    }
    const char *B;
    if (p->tb && b->data) { /* constant B: transpose at compile time so the kernel streams rows */
      const float *w = b->data;
      float *t = xalloc(sizeof(float) * (size_t)(K * N + 1));
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++) t[k * N + j] = w[j * K + k];
      int64_t d[2] = {K, N};
      B = emit_const(e, DT_FLOAT, 2, d, t);
    } else if (p->tb) {
      B = fmt("((float *)(A + %lld))", (long long)(n->scratch_off + p->pack_a * 4));
      emit(e, "{ int64_t k, j; for (k = 0; k < %lld; k++) for (j = 0; j < %lld; j++) %s[k * %lld + j] = %s[j * %lld + k]; }", K, N,
           B, N, eref(e, b), K);
    } else
      B = eref(e, b);
    const char *ap = emit_pack_a(n, e, M, K, p->ta ? 1 : K, p->ta ? M : 1);
    emit_epi(n, e, bm, bn, res, N, p->alpha);
    emit(e, "  k_gemm_packed_f32(%lld, %lld, %lld, %s, %s, %lld, %s, %lld, &ep); }", M, N, K, ap, B, N, eref(e, n->out[0]), N);
    return;
  }
  const char *B = eref(e, n->in[1]), *Y = eref(e, n->out[0]);
  const char *bn = n->fuse_bias ? eref(e, n->in[n->fuse_bias]) : "0", *res = n->fuse_res ? eref(e, n->in[n->fuse_res]) : "0";
  if (one_gemm(p)) {
    long long MM = p->nb * M;
    const char *ap = emit_pack_a(n, e, MM, K, K, 1);
    emit_epi(n, e, "0", bn, res, N, 1.0f);
    emit(e, "  k_gemm_packed_f32(%lld, %lld, %lld, %s, %s, %lld, %s, %lld, &ep); }", MM, N, K, ap, B, N, Y, N);
    return;
  }
  const char *A = eref(e, n->in[0]), *ap = fmt("((float *)(A + %lld))", (long long)n->scratch_off);
  int64_t sa, sb;
  if (p->nb > 1 && all_equal_steps(p->offa, p->nb, &sa) && all_equal_steps(p->offb, p->nb, &sb)) {
    emit(e, "{ int64_t b; for (b = 0; b < %lld; b++) {", (long long)p->nb);
    e->indent++;
    emit(e, "KEpi ep = {0, %s, %s, %lld, 1.f, %d, %s, %s};", bn, res, N, n->fuse_act, fmt_float(n->fuse_p0), fmt_float(n->fuse_p1));
    if (n->fuse_res) emit(e, "ep.res += b * %lld;", M * N);
    emit(e, "k_pack_a_f32(%lld, %lld, %s + b * %lld, %lld, 1, %s);", M, K, A, (long long)sa, K, ap);
    emit(e, "k_gemm_packed_f32(%lld, %lld, %lld, %s, %s + b * %lld, %lld, %s + b * %lld, %lld, &ep);", M, N, K, ap, B,
         (long long)sb, N, Y, M * N, N);
    e->indent--;
    emit(e, "} }");
  } else
    for (int64_t bi = 0; bi < p->nb; bi++) {
      emit(e, "k_pack_a_f32(%lld, %lld, %s + %lld, %lld, 1, %s);", M, K, A, (long long)p->offa[bi], K, ap);
      emit_epi(n, e, "0", bn, n->fuse_res ? fmt("%s + %lld", res, (long long)(bi * M * N)) : "0", N, 1.0f);
      emit(e, "  k_gemm_packed_f32(%lld, %lld, %lld, %s, %s + %lld, %lld, %s + %lld, %lld, &ep); }", M, N, K, ap, B,
           (long long)p->offb[bi], N, Y, (long long)(bi * M * N), N);
    }
}

const OpDef opdef_Gemm = {"alpha,beta,transA,transB,broadcast", 2, 3, 1, 1, gemm_infer, gemm_eval, gemm_emit, 0};
const OpDef opdef_MatMul = {"", 2, 2, 1, 1, matmul_infer, gemm_eval, gemm_emit, 0};
