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

/* speed mode (default): kernels are static inline, so the C compiler may
 * specialize each call (per layer) on its constant shapes; size mode
 * (mrtc --size defines MRTC_SIZE_MODE): one out-of-line copy of each kernel
 * shared by every layer */
#if defined(MRTC_SIZE_MODE) && defined(__GNUC__)
#define MRTC_FN static __attribute__((noinline, unused))
#elif defined(MRTC_SIZE_MODE)
#define MRTC_FN static
#else
#define MRTC_FN static inline
#endif

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
