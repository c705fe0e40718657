/*
 * k_common.h: what every mrtc kernel shares.  Kernels are written once here
 * under runtime/ and used twice: the reference interpreter #includes them,
 * and the C emitter pastes the ones a model uses into model.c (their
 * #include "k_*.h" lines tell it which others to paste first).  So they are
 * plain C99, use no malloc and no stdio, and are static inline: unused ones
 * cost nothing and raise no warning.
 */
#ifndef MRTC_K_COMMON_H
#define MRTC_K_COMMON_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MRTC_FN static inline

/* Steps a multi-index IDX over DIMS (innermost last); returns 0 when done. */
MRTC_FN int k_next_index(int rank, const int64_t *dims, int64_t *idx) {
  int d;
  for (d = rank - 1; d >= 0; d--) {
    if (++idx[d] < dims[d]) return 1;
    idx[d] = 0;
  }
  return 0;
}

#endif
