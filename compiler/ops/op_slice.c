/*
 * op_slice.c: Slice, as a strided view of the input (sview_* hooks from
 * op_transpose.c).  Opset < 10 takes starts/ends/axes attributes; from 10
 * they are inputs (starts, ends, axes, steps), which must be constant
 * because they decide the output shape.  Negative steps walk backwards;
 * starts and ends are clamped as the spec says, so INT64_MAX / INT64_MIN
 * ends mean "to the end".
 */
#include "mrtc.h"

#include <string.h>

void sview_set(Node *n, int rank, const int64_t *dims, const int64_t *st, int64_t off, int tiled);
void sview_eval(Node *n, void *const *in, void *const *out);
void sview_emit(Node *n, Emitter *e);

static int get_list(Node *n, int in, const char *attr, int64_t *out, int *given) {
  int cnt;
  *given = 0;
  if (n->opset < 10) {
    cnt = attr_ints(n, attr, out, MAX_RANK);
    if (cnt >= 0) *given = 1;
    return cnt;
  }
  if (!node_in(n, in)) return -1;
  int64_t *v = const_ints(n, in, &cnt);
  if (cnt > MAX_RANK) error_node(n, "input '%s' has %d entries, more than rank %d allows", n->in[in]->name, cnt, MAX_RANK);
  memcpy(out, v, sizeof(int64_t) * cnt);
  *given = 1;
  return cnt;
}

static void slice_infer(Node *n) {
  Value *x = n->in[0];
  int64_t starts[MAX_RANK], ends[MAX_RANK], axes[MAX_RANK], steps[MAX_RANK];
  int g, ns = get_list(n, 1, "starts", starts, &g);
  if (!g) error_node(n, "starts are required");
  int ne = get_list(n, 2, "ends", ends, &g);
  if (!g) error_node(n, "ends are required");
  if (ns != ne) error_node(n, "starts (%d) and ends (%d) differ in length", ns, ne);
  int na = get_list(n, 3, "axes", axes, &g);
  if (!g) {
    if (ns > x->rank) error_node(n, "%d starts for an input of rank %d", ns, x->rank);
    for (int i = 0; i < ns; i++) axes[i] = i;
  } else if (na != ns) error_node(n, "axes (%d) and starts (%d) differ in length", na, ns);
  if (n->opset >= 10 && node_in(n, 4)) {
    int nst = get_list(n, 4, "steps", steps, &g);
    if (nst != ns) error_node(n, "steps (%d) and starts (%d) differ in length", nst, ns);
  } else
    for (int i = 0; i < ns; i++) steps[i] = 1;
  int64_t dims[MAX_RANK], st[MAX_RANK], xs[MAX_RANK], off = 0, s = 1;
  int seen[MAX_RANK] = {0};
  for (int d = x->rank - 1; d >= 0; d--) {
    xs[d] = s;
    s *= x->dims[d];
    dims[d] = x->dims[d];
    st[d] = xs[d];
  }
  for (int i = 0; i < ns; i++) {
    int a = norm_axis(n, axes[i], x->rank);
    if (seen[a]) error_node(n, "axis %d is sliced twice", a);
    seen[a] = 1;
    int64_t dim = x->dims[a], b = starts[i], e = ends[i], step = steps[i], cnt;
    if (step == 0 || step == INT64_MIN) error_node(n, "invalid step on axis %d", a);
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      b = b < 0 ? 0 : b > dim ? dim : b;
      e = e < 0 ? 0 : e > dim ? dim : e;
      cnt = e > b ? (e - b - 1) / step + 1 : 0;
    } else {
      b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
      cnt = b > e ? (b - e - 1) / (-step) + 1 : 0;
    }
    dims[a] = cnt;
    st[a] = cnt > 1 ? xs[a] * step : xs[a];
    if (cnt > 0) off += b * xs[a];
  }
  value_set_shape(n->out[0], x->dtype, x->rank, dims);
  if (n->out[0]->numel == 0) off = 0;
  sview_set(n, x->rank, dims, st, off, 0);
}

const OpDef opdef_Slice = {"starts,ends,axes", 1, 5, 1, 1, slice_infer, sview_eval, sview_emit, 0};
