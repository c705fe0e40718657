/*
 * mrtc_model.h: the contract of the code that mrtc generates.
 *
 * A worked example.  `mrtc net.onnx -o net.c` writes net.c and net.h:
 *
 *     #include "net.h"
 *     static float in[NET_IN0_SIZE], out[NET_OUT0_SIZE];
 *     ...fill in...
 *     net_run(in, out);                        // static arena inside net.c
 *
 *     // or reentrant, with memory you own (e.g. one arena per thread):
 *     static unsigned char arena[NET_ARENA_BYTES] __attribute__((aligned(64)));
 *     net_run_arena(arena, in, out);
 *
 * net.h declares, for a model with inputs in0.. and outputs out0.. in graph
 * order (the prefix is -n NAME, by default the output file's name):
 *
 *     int NAME_run(const T0 *in0, ..., U0 *out0, ...);           returns 0
 *     int NAME_run_arena(void *arena, const T0 *in0, ..., U0 *out0, ...);
 *     NAME_ARENA_BYTES      bytes of working memory (64-byte aligned)
 *     NAME_WEIGHTS_BYTES    bytes of constant weights (in .rodata)
 *     NAME_NUM_INPUTS, NAME_NUM_OUTPUTS
 *     NAME_IN<k>_NAME, _DTYPE, _RANK, _SHAPE {d0, d1, ...}, _SIZE (elements)
 *     NAME_OUT<k>_... the same for outputs
 *
 * T and U are the C types of the ONNX element types: float, double,
 * int8_t..int64_t, uint8_t..uint64_t; bool is uint8_t (0/1); float16 and
 * bfloat16 are uint16_t bit patterns.  _DTYPE is the ONNX TensorProto data
 * type number (below).
 *
 * Guarantees: C99; no malloc, no stdio, no global state beyond the static
 * arena used by NAME_run and static const weights; every symbol other than
 * NAME_run and NAME_run_arena is static, so several models link into one
 * program; the same inputs always give the same output bytes; needs only
 * libc and libm.  Each node's code opens with a comment naming the ONNX node
 * and op it came from.
 */
#ifndef MRTC_MODEL_H
#define MRTC_MODEL_H

#define MRTC_DTYPE_FLOAT 1
#define MRTC_DTYPE_UINT8 2
#define MRTC_DTYPE_INT8 3
#define MRTC_DTYPE_UINT16 4
#define MRTC_DTYPE_INT16 5
#define MRTC_DTYPE_INT32 6
#define MRTC_DTYPE_INT64 7
#define MRTC_DTYPE_BOOL 9
#define MRTC_DTYPE_FLOAT16 10
#define MRTC_DTYPE_DOUBLE 11
#define MRTC_DTYPE_UINT32 12
#define MRTC_DTYPE_UINT64 13
#define MRTC_DTYPE_BFLOAT16 16

#endif
