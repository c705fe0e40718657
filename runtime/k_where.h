/*
 * k_where.h: selection and masking, dtype-generic (ESZ-byte elements).
 *
 * k_where(rank, dims, sc, sx, sy, c, x, y, out, esz): out = c ? x : y over
 *     the (collapsed) output shape DIMS, reading c, x, y with element
 *     strides SC, SX, SY (0 along broadcast dims).
 * k_trilu(nmat, rows, cols, k, upper, dst, src, esz): per matrix, keeps
 *     elements with j - i >= k (upper) or j - i <= k (lower), zeros the rest.
 * k_eyelike(rows, cols, k, one, dst, esz): zeros with ONE on diagonal k.
 */
#ifndef MRTC_K_WHERE_H
#define MRTC_K_WHERE_H
#include "k_common.h"

#define MRTC_WHERE_LOOP(sz)                                                                              \
  for (i = 0; i < n; i++) {                                                                              \
    const unsigned char *p = c[oc + i * scn] ? xp + (ox + i * sxn) * (sz) : yp + (oy + i * syn) * (sz); \
    memcpy(d + i * (sz), p, (size_t)(sz));                                                               \
  }

MRTC_FN void k_where(int rank, const int64_t *dims, const int64_t *sc, const int64_t *sx, const int64_t *sy,
                     const uint8_t *c, const void *x, const void *y, void *out, int esz) {
  int64_t idx[8] = {0}, n = dims[rank - 1], scn = sc[rank - 1], sxn = sx[rank - 1], syn = sy[rank - 1], i;
  unsigned char *d = (unsigned char *)out;
  const unsigned char *xp = (const unsigned char *)x, *yp = (const unsigned char *)y;
  for (;;) {
    int64_t oc = 0, ox = 0, oy = 0;
    int k;
    for (k = 0; k < rank - 1; k++) {
      oc += idx[k] * sc[k];
      ox += idx[k] * sx[k];
      oy += idx[k] * sy[k];
    }
    switch (esz) {
    case 1: MRTC_WHERE_LOOP(1) break;
    case 2: MRTC_WHERE_LOOP(2) break;
    case 4: MRTC_WHERE_LOOP(4) break;
    case 8: MRTC_WHERE_LOOP(8) break;
    default: MRTC_WHERE_LOOP(esz) break;
    }
    d += n * esz;
    if (rank == 1 || !k_next_index(rank - 1, dims, idx)) break;
  }
}

MRTC_FN void k_trilu(int64_t nmat, int64_t rows, int64_t cols, int64_t k, int upper, void *dst, const void *src, int esz) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  int64_t m, i;
  if (k > rows + cols) k = rows + cols;
  if (k < -(rows + cols)) k = -(rows + cols);
  for (m = 0; m < nmat; m++)
    for (i = 0; i < rows; i++) {
      /* kept columns are [a, b) */
      int64_t a, b, off = (m * rows + i) * cols;
      if (upper) {
        a = i + k;
        b = cols;
      } else {
        a = 0;
        b = i + k + 1;
      }
      if (a < 0) a = 0;
      if (a > cols) a = cols;
      if (b < a) b = a;
      if (b > cols) b = cols;
      memset(d + off * esz, 0, (size_t)(a * esz));
      if (b > a) memcpy(d + (off + a) * esz, s + (off + a) * esz, (size_t)((b - a) * esz));
      memset(d + (off + b) * esz, 0, (size_t)((cols - b) * esz));
    }
}

MRTC_FN void k_eyelike(int64_t rows, int64_t cols, int64_t k, const void *one, void *dst, int esz) {
  unsigned char *d = (unsigned char *)dst;
  int64_t i;
  memset(d, 0, (size_t)(rows * cols * esz));
  for (i = 0; i < rows; i++)
    if (i + k >= 0 && i + k < cols) memcpy(d + (i * cols + i + k) * esz, one, (size_t)esz);
}

#endif
