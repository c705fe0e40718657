/*
 * op_transpose.c: ops that are a strided view of their input followed by a
 * copy: Transpose, DepthToSpace, SpaceToDepth here, and (through the
 * exported sview_* hooks) Slice, Expand and Tile in op_slice.c and
 * op_expand.c.
 *
 * infer describes the output as a view of input 0: output dims, source
 * element strides per output dim (any sign; 0 repeats) and a start offset.
 * sview_set() collapses it (size-1 dims vanish, dims that the source walks
 * contiguously merge), so the kernel call carries a short literal shape.
 * The kernel, k_transpose / k_copy_strided (runtime/k_transpose.h,
 * k_copy.h), moves ESZ-byte elements with memcpy: every dtype works.
 */
#include "mrtc.h"
#include "k_transpose.h"

#include <string.h>

#define SV_MAX 16

typedef struct SView {
  int rank;               /* collapsed; 0 = nothing to copy (empty) */
  int64_t dims[SV_MAX], st[SV_MAX];
  int64_t dt[SV_MAX];     /* tiled: destination strides, dims in walking order */
  int64_t off;            /* elements */
  int esz;
  int tiled;              /* k_transpose rather than k_copy_strided */
} SView;

/* describe output 0 of N as a view of input 0; RANK may reach 16 (Tile) */
void sview_set(Node *n, int rank, const int64_t *dims, const int64_t *st, int64_t off, int tiled);
void sview_eval(Node *n, void *const *in, void *const *out);
void sview_emit(Node *n, Emitter *e);

void sview_set(Node *n, int rank, const int64_t *dims, const int64_t *st, int64_t off, int tiled) {
  SView *v = xalloc(sizeof *v);
  int r = 0;
  v->esz = dtype_size(n->in[0]->dtype);
  if (!v->esz) error_node(n, "input type %s is not supported", dtype_name(n->in[0]->dtype));
  v->off = off;
  v->tiled = tiled;
  int empty = 0;
  for (int d = 0; d < rank; d++) {
    if (dims[d] == 0) empty = 1;
    if (dims[d] == 1) continue;
    if (r > 0 && v->st[r - 1] == st[d] * dims[d]) {
      v->dims[r - 1] *= dims[d];
      v->st[r - 1] = st[d];
      continue;
    }
    v->dims[r] = dims[d];
    v->st[r] = st[d];
    r++;
  }
  if (!r) {
    v->dims[0] = 1;
    v->st[0] = 1;
    r = 1;
  }
  v->rank = empty ? 0 : r;
  n->p = v;
  if (!tiled || r < 2 || v->st[r - 1] == 1) {
    v->tiled = 0;
    return;
  }
  /* walk the source's contiguous dim second to last: tiles then read and
   * write whole cache lines */
  int64_t s = 1;
  for (int d = r - 1; d >= 0; d--) {
    v->dt[d] = s;
    s *= v->dims[d];
  }
  for (int p = 0; p < r - 2; p++)
    if (v->st[p] == 1) {
      int64_t d0 = v->dims[p], s0 = v->st[p], t0 = v->dt[p];
      for (int d = p; d < r - 2; d++) {
        v->dims[d] = v->dims[d + 1];
        v->st[d] = v->st[d + 1];
        v->dt[d] = v->dt[d + 1];
      }
      v->dims[r - 2] = d0;
      v->st[r - 2] = s0;
      v->dt[r - 2] = t0;
      break;
    }
}

void sview_eval(Node *n, void *const *in, void *const *out) {
  SView *v = n->p;
  if (!v->rank) return;
  const unsigned char *src = (const unsigned char *)in[0] + v->off * v->esz;
  if (v->tiled) k_transpose(v->rank, v->dims, v->st, v->dt, out[0], src, v->esz);
  else k_copy_strided(v->rank, v->dims, v->st, out[0], src, v->esz);
}

void sview_emit(Node *n, Emitter *e) {
  SView *v = n->p;
  if (!v->rank) {
    emit(e, "/* empty result */");
    return;
  }
  const char *x = eref(e, n->in[0]), *y = eref(e, n->out[0]);
  if (v->rank == 1 && v->st[0] == 1) {
    emit(e, "memcpy(%s, %s + %lld, %lld);", y, x, (long long)v->off, (long long)(v->dims[0] * v->esz));
    return;
  }
  if (v->tiled) {
    emit_need(e, "k_transpose");
    emit(e, "k_transpose(%d, %s, %s, %s, %s, %s + %lld, %d);", v->rank, emit_i64s(e, v->dims, v->rank),
         emit_i64s(e, v->st, v->rank), emit_i64s(e, v->dt, v->rank), y, x, (long long)v->off, v->esz);
    return;
  }
  emit_need(e, "k_copy");
  emit(e, "k_copy_strided(%d, %s, %s, %s, %s + %lld, %d);", v->rank, emit_i64s(e, v->dims, v->rank),
       emit_i64s(e, v->st, v->rank), y, x, (long long)v->off, v->esz);
}

/* contiguous element strides of a value */
static void strides_of(const Value *x, int64_t *s) {
  int64_t st = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    s[d] = st;
    st *= x->dims[d];
  }
}

static void transpose_infer(Node *n) {
  Value *x = n->in[0];
  int64_t perm[MAX_RANK], dims[MAX_RANK], st[MAX_RANK], xs[MAX_RANK];
  int cnt = attr_ints(n, "perm", perm, MAX_RANK), seen[MAX_RANK] = {0};
  if (cnt < 0) {
    cnt = x->rank;
    for (int i = 0; i < cnt; i++) perm[i] = cnt - 1 - i;
  }
  if (cnt != x->rank) error_node(n, "perm has %d entries but the input %s has rank %d", cnt, shape_str(x), x->rank);
  for (int i = 0; i < cnt; i++) {
    if (perm[i] < 0 || perm[i] >= cnt || seen[perm[i]]) error_node(n, "perm is not a permutation of 0..%d", cnt - 1);
    seen[perm[i]] = 1;
  }
  strides_of(x, xs);
  for (int i = 0; i < cnt; i++) {
    dims[i] = x->dims[perm[i]];
    st[i] = xs[perm[i]];
  }
  value_set_shape(n->out[0], x->dtype, cnt, dims);
  sview_set(n, cnt, dims, st, 0, 1);
}

static int64_t blocksize(Node *n) {
  Value *x = n->in[0];
  int64_t b = attr_int(n, "blocksize", 0);
  if (b <= 0) error_node(n, "attribute 'blocksize' must be given and positive");
  if (x->rank != 4) error_node(n, "input must be 4-D (N,C,H,W), got %s", shape_str(x));
  return b;
}

static void depth_to_space_infer(Node *n) {
  Value *x = n->in[0];
  int64_t b = blocksize(n), N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  const char *mode = attr_str(n, "mode", "DCR");
  int crd = !strcmp(mode, "CRD");
  if (!crd && strcmp(mode, "DCR")) error_node(n, "mode '%s' is not DCR or CRD", mode);
  if (C % (b * b)) error_node(n, "channels (%lld) are not divisible by blocksize^2 (%lld)", (long long)C, (long long)(b * b));
  int64_t c = C / (b * b), HW = H * W;
  int64_t od[4] = {N, c, H * b, W * b};
  value_set_shape(n->out[0], x->dtype, 4, od);
  /* output viewed as [N, c, H, b1, W, b2] */
  int64_t dims[6] = {N, c, H, b, W, b};
  int64_t st[6];
  st[0] = C * HW;
  st[2] = W;
  st[4] = 1;
  if (crd) { /* channel = c*b*b + b1*b + b2 */
    st[1] = b * b * HW;
    st[3] = b * HW;
    st[5] = HW;
  } else { /* channel = b1*b*c + b2*c + c */
    st[1] = HW;
    st[3] = b * c * HW;
    st[5] = c * HW;
  }
  sview_set(n, 6, dims, st, 0, 1);
}

static void space_to_depth_infer(Node *n) {
  Value *x = n->in[0];
  int64_t b = blocksize(n), N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  if (H % b || W % b) error_node(n, "spatial dims of %s are not divisible by blocksize %lld", shape_str(x), (long long)b);
  int64_t od[4] = {N, C * b * b, H / b, W / b};
  value_set_shape(n->out[0], x->dtype, 4, od);
  /* output channel = (b1*b + b2)*C + c: output viewed as [N, b1, b2, C, H/b, W/b] */
  int64_t dims[6] = {N, b, b, C, H / b, W / b};
  int64_t st[6] = {C * H * W, W, 1, H * W, b * W, b};
  sview_set(n, 6, dims, st, 0, 1);
}

const OpDef opdef_Transpose = {"perm", 1, 1, 1, 1, transpose_infer, sview_eval, sview_emit, 0};
const OpDef opdef_DepthToSpace = {"blocksize,mode", 1, 1, 1, 1, depth_to_space_infer, sview_eval, sview_emit, 0};
const OpDef opdef_SpaceToDepth = {"blocksize", 1, 1, 1, 1, space_to_depth_infer, sview_eval, sview_emit, 0};
