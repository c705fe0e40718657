/*
 * k_transpose.h: k_transpose(rank, dims, st, dst, src, esz) is
 * k_copy_strided for permutations (Transpose, DepthToSpace, SpaceToDepth):
 * when the innermost output dim is not contiguous in the source, the last
 * two output dims are walked in 32x32 tiles so that both the reads and the
 * writes stay in cache.
 */
#ifndef MRTC_K_TRANSPOSE_H
#define MRTC_K_TRANSPOSE_H
#include "k_copy.h"

MRTC_FN void k_transpose(int rank, const int64_t *dims, const int64_t *st, void *dst, const void *src, int esz) {
  int64_t idx[16] = {0}, na, nb, sa, sb, ia, ib, i;
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *sp = (const unsigned char *)src;
  if (rank < 2 || st[rank - 1] == 1) {
    k_copy_strided(rank, dims, st, dst, src, esz);
    return;
  }
  na = dims[rank - 2];
  nb = dims[rank - 1];
  sa = st[rank - 2];
  sb = st[rank - 1];
  for (;;) {
    int64_t off = 0;
    int k;
    for (k = 0; k < rank - 2; k++) off += idx[k] * st[k];
    for (ia = 0; ia < na; ia += 32)
      for (ib = 0; ib < nb; ib += 32) {
        int64_t ea = ia + 32 < na ? ia + 32 : na, eb = ib + 32 < nb ? ib + 32 : nb;
        for (i = ia; i < ea; i++)
          k_copy_elems(d + (i * nb + ib) * esz, sp + (off + i * sa + ib * sb) * esz, eb - ib, sb, esz);
      }
    d += na * nb * esz;
    if (rank == 2 || !k_next_index(rank - 2, dims, idx)) break;
  }
}

#endif
