/*
 * pass_pool.c: a MaxPool right after a float Conv (the CNN stem: Conv
 * 7x7/2 or 3x3/2 with its ReLU, then MaxPool 3x3/2) joins the Conv's
 * kernel: runtime/k_convpool.h computes the convolution's output a band of
 * rows at a time and pools each band at once, so the full-size map (3 MB
 * for resnet's stem, more than the L2 cache) is never written and read
 * back.  Only where the Conv computes its output row by row anyway (one K
 * block, a wide map: conv_pool_fusable) and the MaxPool is a plain float
 * 2-D one (no Indices, no dilation: maxpool_geom2d); the Conv's output must
 * have no other reader.  Results are the same bit for bit: the same row
 * GEMM and the same pooling kernel run, in a different order.
 */
#include "mrtc.h"

#include <string.h>

static int fuse_pool(Graph *g, Node *pool) {
  int64_t geom[8];
  if (pool->dead || pool->op != OP_MaxPool || !pool->in[0] || !maxpool_geom2d(pool, geom)) return 0;
  Node *h = pool->in[0]->producer;
  if (!h || h->dead || h->op != OP_Conv || h->fuse_pool[0] || !conv_pool_fusable(h) ||
      pass_single_consumer(g, pool->in[0]) != pool)
    return 0;
  memcpy(h->fuse_pool, geom, sizeof geom);
  pass_absorb(h, pool);
  pass_reinfer(h); /* output: the pooled shape; scratch: the band */
  return 1;
}

int pass_pool(Graph *g) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++) n += fuse_pool(g, g->nodes[i]);
  return n;
}
