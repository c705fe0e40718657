/*
 * k_copy.h: dtype-generic data movement.  Elements are ESZ bytes and are
 * moved with fixed-size memcpy (no type punning), so every dtype works.
 *
 * k_copy_strided(rank, dims, st, dst, src, esz): dst (contiguous, shape
 * DIMS) = the strided view of SRC with element strides ST (any sign, 0 for
 * broadcast).  SRC points at the view's first element.  The compiler
 * collapses dims first, so rank is usually small; at most 16.
 * k_copy_rows: ROWS blocks of BYTES from src to dst with byte strides.
 * k_fill: N copies of the one element VAL.
 */
#ifndef MRTC_K_COPY_H
#define MRTC_K_COPY_H
#include "k_common.h"

/* n elements: d[i] = s[i * step] */
MRTC_FN void k_copy_elems(unsigned char *d, const unsigned char *s, int64_t n, int64_t step, int esz) {
  int64_t i;
  if (step == 1) {
    memcpy(d, s, (size_t)(n * esz));
    return;
  }
  switch (esz) {
  case 1: for (i = 0; i < n; i++) d[i] = s[i * step]; break;
  case 2: for (i = 0; i < n; i++) memcpy(d + 2 * i, s + 2 * i * step, 2); break;
  case 4: for (i = 0; i < n; i++) memcpy(d + 4 * i, s + 4 * i * step, 4); break;
  case 8: for (i = 0; i < n; i++) memcpy(d + 8 * i, s + 8 * i * step, 8); break;
  default: for (i = 0; i < n; i++) memcpy(d + esz * i, s + esz * i * step, (size_t)esz); break;
  }
}

MRTC_FN void k_copy_strided(int rank, const int64_t *dims, const int64_t *st, void *dst, const void *src, int esz) {
  int64_t idx[16] = {0}, n, s;
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *sp = (const unsigned char *)src;
  if (rank <= 0) {
    memcpy(d, sp, (size_t)esz);
    return;
  }
  n = dims[rank - 1];
  s = st[rank - 1];
  for (;;) {
    int64_t off = 0;
    int k;
    for (k = 0; k < rank - 1; k++) off += idx[k] * st[k];
    k_copy_elems(d, sp + off * esz, n, s, esz);
    d += n * esz;
    if (rank == 1 || !k_next_index(rank - 1, dims, idx)) break;
  }
}

MRTC_FN void k_copy_rows(int64_t rows, int64_t bytes, void *dst, int64_t dstride, const void *src, int64_t sstride) {
  int64_t r;
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if (bytes <= 0) return;
  for (r = 0; r < rows; r++) memcpy(d + r * dstride, s + r * sstride, (size_t)bytes);
}

MRTC_FN void k_fill(void *dst, int64_t n, const void *val, int esz) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *v = (const unsigned char *)val;
  int64_t i;
  int k, zero = 1;
  for (k = 0; k < esz; k++)
    if (v[k]) zero = 0;
  if (zero) {
    memset(d, 0, (size_t)(n * esz));
    return;
  }
  for (i = 0; i < n; i++) memcpy(d + i * esz, v, (size_t)esz);
}

#endif
