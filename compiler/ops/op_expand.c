/*
 * op_expand.c: Expand and Tile, as strided views of the input (sview_*
 * hooks from op_transpose.c).  Expand broadcasts with stride 0; Tile views
 * the output as [r0, d0, r1, d1, ...] with stride 0 along each repeat.
 * The shape/repeats inputs must be constant (they decide the shape).
 */
#include "mrtc.h"

#include <string.h>

void sview_set(Node *n, int rank, const int64_t *dims, const int64_t *st, int64_t off, int tiled);
void sview_eval(Node *n, void *const *in, void *const *out);
void sview_emit(Node *n, Emitter *e);

static void strides_of(const Value *x, int64_t *s) {
  int64_t st = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    s[d] = st;
    st *= x->dims[d];
  }
}

static void expand_infer(Node *n) {
  Value *x = n->in[0];
  int cnt;
  int64_t *shape = const_ints(n, 1, &cnt);
  if (n->in[1]->rank != 1) error_node(n, "shape must be 1-D, got %s", shape_str(n->in[1]));
  int r = cnt > x->rank ? cnt : x->rank;
  if (r > MAX_RANK) error_node(n, "result rank %d too large", r);
  int64_t dims[MAX_RANK], st[MAX_RANK], xs[MAX_RANK];
  strides_of(x, xs);
  for (int d = 0; d < r; d++) {
    int sd = d - (r - cnt), xd = d - (r - x->rank);
    int64_t a = sd >= 0 ? shape[sd] : 1, b = xd >= 0 ? x->dims[xd] : 1;
    if (a < 0) error_node(n, "negative dimension %lld in shape", (long long)a);
    if (a != b && a != 1 && b != 1)
      error_node(n, "cannot expand %s to shape entry %lld at dim %d", shape_str(x), (long long)a, d);
    dims[d] = a == 1 ? b : a;
    st[d] = (xd < 0 || b == 1) ? 0 : xs[xd];
  }
  value_set_shape(n->out[0], x->dtype, r, dims);
  sview_set(n, r, dims, st, 0, 0);
}

static void tile_infer(Node *n) {
  Value *x = n->in[0];
  int64_t rep[MAX_RANK];
  int cnt;
  if (n->opset < 6) {
    if (n->nin != 3) error_node(n, "Tile-1 takes inputs input, tiles, axis");
    int c1, c2;
    int64_t *t = const_ints(n, 1, &c1), *ax = const_ints(n, 2, &c2);
    if (c1 != 1 || c2 != 1) error_node(n, "tiles and axis must be scalars");
    int a = norm_axis(n, ax[0], x->rank);
    for (int d = 0; d < x->rank; d++) rep[d] = d == a ? t[0] : 1;
    cnt = x->rank;
  } else {
    if (n->nin != 2) error_node(n, "takes inputs input, repeats");
    int64_t *r = const_ints(n, 1, &cnt);
    if (cnt != x->rank) error_node(n, "repeats has %d entries, the input %s has rank %d", cnt, shape_str(x), x->rank);
    memcpy(rep, r, sizeof(int64_t) * cnt);
  }
  int64_t dims[MAX_RANK], vd[2 * MAX_RANK], vs[2 * MAX_RANK], xs[MAX_RANK];
  strides_of(x, xs);
  for (int d = 0; d < cnt; d++) {
    if (rep[d] < 0) error_node(n, "negative repeat %lld", (long long)rep[d]);
    dims[d] = x->dims[d] * rep[d];
    vd[2 * d] = rep[d];
    vs[2 * d] = 0;
    vd[2 * d + 1] = x->dims[d];
    vs[2 * d + 1] = xs[d];
  }
  value_set_shape(n->out[0], x->dtype, cnt, dims);
  sview_set(n, 2 * cnt, vd, vs, 0, 0);
}

const OpDef opdef_Expand = {"", 2, 2, 1, 1, expand_infer, sview_eval, sview_emit, 0};
const OpDef opdef_Tile = {"", 2, 3, 1, 1, tile_infer, sview_eval, sview_emit, 0};
