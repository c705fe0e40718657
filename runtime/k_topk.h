/*
 * k_topk.h: TopK.
 *
 * k_topk_<T>(largest, outer, n, inner, k, x, vals, idx, scratch): the input
 * is viewed as [outer, n, inner] around the axis; for every (outer, inner)
 * line the K largest (LARGEST = 0: smallest) elements are written in order
 * to VALS and their axis indices to IDX, both [outer, k, inner].  Equal
 * values keep the lower index first (the spec's tie-break); NaN orders above
 * every number, as in numpy's sort.  SCRATCH holds n int64 indices: a heap
 * of the line is built in O(n) and popped k times, so any k costs
 * O(n + k log n) per line.
 */
#ifndef MRTC_K_TOPK_H
#define MRTC_K_TOPK_H
#include "k_common.h"

#define MRTC_TOPK(T, tag, ISNAN)                                                                     \
  /* 1 when element a of the line must come before element b */                                    \
  MRTC_FN int k_topk_before_##tag(const T *p, int64_t inner, int largest, int64_t a, int64_t b) {   \
    T va = p[a * inner], vb = p[b * inner];                                                         \
    int na = ISNAN(va), nb = ISNAN(vb);                                                             \
    if (na || nb) {                                                                                 \
      if (na && nb) return a < b;                                                                   \
      return largest ? na : nb;                                                                     \
    }                                                                                               \
    if (va != vb) return largest ? va > vb : va < vb;                                               \
    return a < b;                                                                                   \
  }                                                                                                 \
  MRTC_FN void k_topk_sift_##tag(const T *p, int64_t inner, int largest, int64_t *h, int64_t len,   \
                                 int64_t i) {                                                       \
    for (;;) {                                                                                      \
      int64_t l = 2 * i + 1, best = i, t;                                                           \
      if (l < len && k_topk_before_##tag(p, inner, largest, h[l], h[best])) best = l;               \
      if (l + 1 < len && k_topk_before_##tag(p, inner, largest, h[l + 1], h[best])) best = l + 1;   \
      if (best == i) return;                                                                        \
      t = h[i];                                                                                     \
      h[i] = h[best];                                                                               \
      h[best] = t;                                                                                  \
      i = best;                                                                                     \
    }                                                                                               \
  }                                                                                                 \
  MRTC_FN void k_topk_##tag(int largest, int64_t outer, int64_t n, int64_t inner, int64_t k,        \
                            const T *x, T *vals, int64_t *idx, int64_t *h) {                        \
    int64_t o, i, j, len;                                                                           \
    for (o = 0; o < outer; o++)                                                                     \
      for (i = 0; i < inner; i++) {                                                                 \
        const T *p = x + o * n * inner + i;                                                         \
        T *vq = vals + o * k * inner + i;                                                           \
        int64_t *iq = idx + o * k * inner + i;                                                      \
        for (j = 0; j < n; j++) h[j] = j;                                                           \
        for (j = n / 2 - 1; j >= 0; j--) k_topk_sift_##tag(p, inner, largest, h, n, j);             \
        for (j = 0, len = n; j < k; j++) {                                                          \
          vq[j * inner] = p[h[0] * inner];                                                          \
          iq[j * inner] = h[0];                                                                     \
          h[0] = h[--len];                                                                          \
          k_topk_sift_##tag(p, inner, largest, h, len, 0);                                          \
        }                                                                                           \
      }                                                                                             \
  }

#define MRTC_TOPK_FNAN(v) ((v) != (v))
#define MRTC_TOPK_INAN(v) 0
MRTC_TOPK(float, f32, MRTC_TOPK_FNAN)
MRTC_TOPK(double, f64, MRTC_TOPK_FNAN)
MRTC_TOPK(int8_t, i8, MRTC_TOPK_INAN)
MRTC_TOPK(uint8_t, u8, MRTC_TOPK_INAN)
MRTC_TOPK(int16_t, i16, MRTC_TOPK_INAN)
MRTC_TOPK(uint16_t, u16, MRTC_TOPK_INAN)
MRTC_TOPK(int32_t, i32, MRTC_TOPK_INAN)
MRTC_TOPK(uint32_t, u32, MRTC_TOPK_INAN)
MRTC_TOPK(int64_t, i64, MRTC_TOPK_INAN)
MRTC_TOPK(uint64_t, u64, MRTC_TOPK_INAN)

#endif
