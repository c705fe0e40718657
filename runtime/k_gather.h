/*
 * k_gather.h: indexed data movement, dtype-generic (ESZ-byte elements moved
 * with memcpy), one function per index type (i32, i64).  Negative indices
 * count from the end; an index still out of range reads zeros (gather) or
 * is skipped (scatter): ONNX leaves that case undefined, and generated code
 * must not read or write outside its tensors.
 *
 * k_gather_<it>(outer, n, inner_bytes, nidx, idx, dst, src)
 *     Gather: src is [outer, n, inner]; dst is [outer, nidx, inner].
 * k_gather_elements_<it>(rank, dims, dstr, axis, n, idx, dst, src, esz)
 *     GatherElements: DIMS = indices shape, DSTR = data element strides.
 * k_scatter_elements_<it>(rank, dims, dstr, axis, n, idx, upd, dst, esz, red, vt)
 *     ScatterElements (dst already holds a copy of data).
 * k_gathernd(nbatch, ntup, k, kdims, kstr, slice_bytes, batch_bytes, idx, dst, src)
 * k_scatternd(ntup, k, kdims, kstr, slice, idx, upd, dst, esz, red, vt)
 *     GatherND / ScatterND with int64 index tuples of length K; KDIMS and
 *     KSTR (in slices of SLICE elements) describe the indexed dims.
 * k_onehot_<it>(outer, depth, inner, idx, vals, dst, esz)
 *     OneHot: dst [outer, depth, inner] = vals[1] where idx[outer, inner]
 *     (truncated to an integer, negative counts from DEPTH) names the row,
 *     else vals[0].  Index types i8 u8 i16 u16 i32 u32 i64 u64 f32 f64.
 * RED: 0 none, 1 add, 2 mul, 3 max, 4 min.  VT, the value type for the
 * reductions: 1 float, 2 double, 3 int32, 4 int64, 5 uint8, 6 int8.
 */
#ifndef MRTC_K_GATHER_H
#define MRTC_K_GATHER_H
#include "k_common.h"

#define MRTC_RED_CASE(T, code)                                     \
  case code: {                                                     \
    T a, b;                                                        \
    memcpy(&a, d, sizeof a);                                       \
    memcpy(&b, s, sizeof b);                                       \
    if (red == 1) a = (T)(a + b);                                  \
    else if (red == 2) a = (T)(a * b);                             \
    else if (red == 3) a = b > a ? b : a;                          \
    else a = b < a ? b : a;                                        \
    memcpy(d, &a, sizeof a);                                       \
    return;                                                        \
  }

/* d = d (red) s for one element */
MRTC_FN void k_combine(unsigned char *d, const unsigned char *s, int esz, int red, int vt) {
  if (!red) {
    memcpy(d, s, (size_t)esz);
    return;
  }
  switch (vt) {
    MRTC_RED_CASE(float, 1)
    MRTC_RED_CASE(double, 2)
    MRTC_RED_CASE(int32_t, 3)
    MRTC_RED_CASE(int64_t, 4)
    MRTC_RED_CASE(uint8_t, 5)
    MRTC_RED_CASE(int8_t, 6)
  default: memcpy(d, s, (size_t)esz);
  }
}

#define MRTC_GATHER(IT, tag)                                                                                      \
  MRTC_FN void k_gather_##tag(int64_t outer, int64_t n, int64_t inner, int64_t nidx, const IT *idx, void *dst,    \
                              const void *src) {                                                                  \
    unsigned char *d = (unsigned char *)dst;                                                                      \
    const unsigned char *s = (const unsigned char *)src;                                                          \
    int64_t o, i;                                                                                                 \
    for (o = 0; o < outer; o++)                                                                                   \
      for (i = 0; i < nidx; i++) {                                                                                \
        int64_t k = (int64_t)idx[i];                                                                              \
        if (k < 0) k += n;                                                                                        \
        if (k < 0 || k >= n) memset(d, 0, (size_t)inner);                                                         \
        else memcpy(d, s + (o * n + k) * inner, (size_t)inner);                                                   \
        d += inner;                                                                                               \
      }                                                                                                           \
  }                                                                                                               \
  MRTC_FN void k_gather_elements_##tag(int rank, const int64_t *dims, const int64_t *dstr, int axis, int64_t n,  \
                                       const IT *idx, void *dst, const void *src, int esz) {                      \
    int64_t ix[8] = {0}, i = 0;                                                                                   \
    unsigned char *d = (unsigned char *)dst;                                                                      \
    const unsigned char *s = (const unsigned char *)src;                                                          \
    if (rank > 0 && !dims[0]) return;                                                                             \
    for (;;) {                                                                                                    \
      int64_t off = 0, k = (int64_t)idx[i];                                                                       \
      int a;                                                                                                      \
      if (k < 0) k += n;                                                                                          \
      for (a = 0; a < rank; a++) off += (a == axis ? k : ix[a]) * dstr[a];                                        \
      if (k < 0 || k >= n) memset(d + i * esz, 0, (size_t)esz);                                                   \
      else memcpy(d + i * esz, s + off * esz, (size_t)esz);                                                       \
      i++;                                                                                                        \
      if (rank == 0 || !k_next_index(rank, dims, ix)) break;                                                      \
    }                                                                                                             \
  }                                                                                                               \
  MRTC_FN void k_scatter_elements_##tag(int rank, const int64_t *dims, const int64_t *dstr, int axis, int64_t n, \
                                        const IT *idx, const void *upd, void *dst, int esz, int red, int vt) {    \
    int64_t ix[8] = {0}, i = 0;                                                                                   \
    unsigned char *d = (unsigned char *)dst;                                                                      \
    const unsigned char *u = (const unsigned char *)upd;                                                          \
    if (rank > 0 && !dims[0]) return;                                                                             \
    for (;;) {                                                                                                    \
      int64_t off = 0, k = (int64_t)idx[i];                                                                       \
      int a;                                                                                                      \
      if (k < 0) k += n;                                                                                          \
      for (a = 0; a < rank; a++) off += (a == axis ? k : ix[a]) * dstr[a];                                        \
      if (k >= 0 && k < n) k_combine(d + off * esz, u + i * esz, esz, red, vt);                                   \
      i++;                                                                                                        \
      if (rank == 0 || !k_next_index(rank, dims, ix)) break;                                                      \
    }                                                                                                             \
  }

MRTC_GATHER(int32_t, i32)
MRTC_GATHER(int64_t, i64)

/* offset (in slices) of index tuple T, or -1 when out of range */
MRTC_FN int64_t k_nd_offset(int k, const int64_t *kdims, const int64_t *kstr, const int64_t *t) {
  int64_t off = 0;
  int j;
  for (j = 0; j < k; j++) {
    int64_t v = t[j];
    if (v < 0) v += kdims[j];
    if (v < 0 || v >= kdims[j]) return -1;
    off += v * kstr[j];
  }
  return off;
}

MRTC_FN void k_gathernd(int64_t nbatch, int64_t ntup, int k, const int64_t *kdims, const int64_t *kstr,
                        int64_t slice_bytes, int64_t batch_bytes, const int64_t *idx, void *dst, const void *src) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  int64_t b, t;
  for (b = 0; b < nbatch; b++)
    for (t = 0; t < ntup; t++) {
      int64_t off = k_nd_offset(k, kdims, kstr, idx + (b * ntup + t) * k);
      if (off < 0) memset(d, 0, (size_t)slice_bytes);
      else memcpy(d, s + b * batch_bytes + off * slice_bytes, (size_t)slice_bytes);
      d += slice_bytes;
    }
}

MRTC_FN void k_scatternd(int64_t ntup, int k, const int64_t *kdims, const int64_t *kstr, int64_t slice,
                         const int64_t *idx, const void *upd, void *dst, int esz, int red, int vt) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *u = (const unsigned char *)upd;
  int64_t t, i;
  for (t = 0; t < ntup; t++) {
    int64_t off = k_nd_offset(k, kdims, kstr, idx + t * k);
    if (off < 0) continue;
    if (!red) memcpy(d + off * slice * esz, u + t * slice * esz, (size_t)(slice * esz));
    else
      for (i = 0; i < slice; i++) k_combine(d + (off * slice + i) * esz, u + (t * slice + i) * esz, esz, red, vt);
  }
}

#define MRTC_ONEHOT(IT, tag)                                                                                 \
  MRTC_FN void k_onehot_##tag(int64_t outer, int64_t depth, int64_t inner, const IT *idx, const void *vals,  \
                              void *dst, int esz) {                                                          \
    unsigned char *d = (unsigned char *)dst;                                                                 \
    const unsigned char *v = (const unsigned char *)vals;                                                    \
    int64_t o, i, j, n = outer * depth * inner;                                                              \
    for (j = 0; j < n; j++) memcpy(d + j * esz, v, (size_t)esz);                                             \
    for (o = 0; o < outer; o++)                                                                              \
      for (i = 0; i < inner; i++) {                                                                          \
        IT x = idx[o * inner + i];                                                                           \
        int64_t k;                                                                                           \
        if (!(x > -9.2e18 && x < 9.2e18)) continue;                                                          \
        k = (int64_t)x;                                                                                      \
        if (k < 0) k += depth;                                                                               \
        if (k >= 0 && k < depth) memcpy(d + ((o * depth + k) * inner + i) * esz, v + esz, (size_t)esz);      \
      }                                                                                                      \
  }
MRTC_ONEHOT(int8_t, i8)
MRTC_ONEHOT(uint8_t, u8)
MRTC_ONEHOT(int16_t, i16)
MRTC_ONEHOT(uint16_t, u16)
MRTC_ONEHOT(int32_t, i32)
MRTC_ONEHOT(uint32_t, u32)
MRTC_ONEHOT(int64_t, i64)
MRTC_ONEHOT(uint64_t, u64)
MRTC_ONEHOT(float, f32)
MRTC_ONEHOT(double, f64)

#endif
