/*
 * k_tscatter.h: TensorScatter (the KV-cache update).
 *
 * The cache is viewed as [outer, maxs, inner] bytes-wise (outer: the dims
 * before the sequence axis, whose first is the batch; inner: the bytes of
 * one sequence position), the update as [outer, seq, inner].
 * k_tscatter(outer, per_batch, maxs, seq, inner, past, upd, wi, circular, y):
 * y = past, then y[o, p, :] = upd[o, s, :] with p = wi[o / per_batch] + s,
 * modulo maxs when circular (never negative); in linear mode a position
 * outside [0, maxs) is skipped (the spec leaves it undefined).  wi may be
 * NULL (all zeros); y may be past.
 */
#ifndef MRTC_K_TSCATTER_H
#define MRTC_K_TSCATTER_H
#include "k_common.h"

MRTC_FN void k_tscatter(int64_t outer, int64_t per_batch, int64_t maxs, int64_t seq, int64_t inner,
                        const unsigned char *past, const unsigned char *upd, const int64_t *wi, int circular,
                        unsigned char *y) {
  int64_t o, s;
  if (y != past) memcpy(y, past, (size_t)(outer * maxs * inner));
  for (o = 0; o < outer; o++) {
    int64_t w = wi ? wi[o / per_batch] : 0;
    for (s = 0; s < seq; s++) {
      int64_t pos = w + s;
      if (circular) {
        pos %= maxs;
        if (pos < 0) pos += maxs;
      } else if (pos < 0 || pos >= maxs)
        continue;
      memcpy(y + (o * maxs + pos) * inner, upd + (o * seq + s) * inner, (size_t)inner);
    }
  }
}

#endif
