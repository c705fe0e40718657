/*
 * k_pad.h: Pad, dtype-generic (ESZ-byte elements).
 *
 * k_pad(rank, idims, odims, pb, mode, cval, dst, src, esz): output index o
 * along dim d reads input index o - pb[d] (pb may be negative: cropping);
 * outside the input, MODE decides: 0 constant (the element CVAL), 1 reflect
 * (mirror about the edge elements, periodic for wide pads), 2 edge (clamp),
 * 3 wrap (modulo).  Rows (the innermost dim) are copied in three runs:
 * left pad, the contiguous middle, right pad.
 */
#ifndef MRTC_K_PAD_H
#define MRTC_K_PAD_H
#include "k_copy.h"

/* input index for padded index I in a dim of N, or -1 for the constant */
MRTC_FN int64_t k_pad_map(int64_t i, int64_t n, int mode) {
  int64_t p;
  if (i >= 0 && i < n) return i;
  if (mode == 0 || n <= 0) return -1;
  if (mode == 2) return i < 0 ? 0 : n - 1;
  if (mode == 3) {
    i %= n;
    return i < 0 ? i + n : i;
  }
  if (n == 1) return 0;
  p = 2 * (n - 1);
  i %= p;
  if (i < 0) i += p;
  return i < n ? i : p - i;
}

MRTC_FN void k_pad(int rank, const int64_t *idims, const int64_t *odims, const int64_t *pb, int mode, const void *cval,
                   void *dst, const void *src, int esz) {
  int64_t idx[8] = {0}, istr[8], st = 1, on, in, lo, hi, o;
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  int k;
  for (k = 0; k < rank; k++)
    if (!odims[k]) return;
  for (k = rank - 1; k >= 0; k--) {
    istr[k] = st;
    st *= idims[k];
  }
  on = odims[rank - 1];
  in = idims[rank - 1];
  /* output columns [lo, hi) read input columns [lo - pb, hi - pb) */
  lo = pb[rank - 1] > 0 ? pb[rank - 1] : 0;
  hi = pb[rank - 1] + in < on ? pb[rank - 1] + in : on;
  if (hi < lo) hi = lo;
  for (;;) {
    int64_t off = 0;
    int outside = 0;
    for (k = 0; k < rank - 1; k++) {
      int64_t j = k_pad_map(idx[k] - pb[k], idims[k], mode);
      if (j < 0) outside = 1;
      else off += j * istr[k];
    }
    if (outside || (mode == 0 && in == 0)) k_fill(d, on, cval, esz);
    else {
      const unsigned char *row = s + off * esz;
      for (o = 0; o < lo && o < on; o++) {
        int64_t j = k_pad_map(o - pb[rank - 1], in, mode);
        if (j < 0) memcpy(d + o * esz, cval, (size_t)esz);
        else memcpy(d + o * esz, row + j * esz, (size_t)esz);
      }
      if (hi > lo) memcpy(d + lo * esz, row + (lo - pb[rank - 1]) * esz, (size_t)((hi - lo) * esz));
      for (o = hi > lo ? hi : lo; o < on; o++) {
        int64_t j = k_pad_map(o - pb[rank - 1], in, mode);
        if (j < 0) memcpy(d + o * esz, cval, (size_t)esz);
        else memcpy(d + o * esz, row + j * esz, (size_t)esz);
      }
    }
    d += on * esz;
    if (rank == 1 || !k_next_index(rank - 1, odims, idx)) break;
  }
}

#endif
