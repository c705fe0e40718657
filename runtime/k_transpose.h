/*
 * k_transpose.h: k_transpose(rank, dims, st, dt, dst, src, esz) copies a
 * strided view of SRC (element strides ST) into DST (element strides DT),
 * walking DIMS in the given order.  It serves Transpose, DepthToSpace and
 * SpaceToDepth.  The compiler orders the dims so that the last one is the
 * output's innermost (DT = 1) and the one before it is the source's
 * contiguous dim when there is one; the last two dims are then walked in
 * 32x32 tiles, so that both the reads and the writes stay in cache.
 */
#ifndef MRTC_K_TRANSPOSE_H
#define MRTC_K_TRANSPOSE_H
#include "k_copy.h"

MRTC_FN void k_transpose(int rank, const int64_t *dims, const int64_t *st, const int64_t *dt, void *dst, const void *src,
                         int esz) {
  int64_t idx[16] = {0}, na, nb, sa, sb, da, ia, ib, i;
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *sp = (const unsigned char *)src;
  if (rank < 2) {
    k_copy_strided(rank, dims, st, dst, src, esz);
    return;
  }
  na = dims[rank - 2];
  nb = dims[rank - 1];
  sa = st[rank - 2];
  sb = st[rank - 1];
  da = dt[rank - 2];
  for (;;) {
    int64_t so = 0, dof = 0;
    int k;
    for (k = 0; k < rank - 2; k++) {
      so += idx[k] * st[k];
      dof += idx[k] * dt[k];
    }
    for (ia = 0; ia < na; ia += 32)
      for (ib = 0; ib < nb; ib += 32) {
        int64_t ea = ia + 32 < na ? ia + 32 : na, eb = ib + 32 < nb ? ib + 32 : nb;
        for (i = ia; i < ea; i++)
          k_copy_elems(d + (dof + i * da + ib) * esz, sp + (so + i * sa + ib * sb) * esz, eb - ib, sb, esz);
      }
    if (rank == 2 || !k_next_index(rank - 2, dims, idx)) break;
  }
}

#endif
