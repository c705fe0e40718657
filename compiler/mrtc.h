/*
 * mrtc.h: the one internal header of the mrtc compiler.
 *
 * It is also the table of contents: one section per .c file, in pipeline
 * order (util, load, ir, registry, shape, interp, plan, emit, main).  Data
 * flows one way:
 *
 *   onnx_load.c  model.onnx -> Graph (nodes + values, ONNX dim order)
 *   shape.c      shape/type inference, constant folding (Shape chains vanish)
 *   plan.c       tensor lifetimes from the schedule -> arena offsets
 *   interp.c     reference interpreter over the Graph (mrtc run, folding)
 *   emit_c.c     C source + header per the generated-code contract
 *   main.c       command line
 *
 * Ops live in compiler/ops/, one file per op family; compiler/ops.def is
 * the registry (one line per op) from which the op enum, names and hook
 * table derive.  Kernels live in runtime/ and are shared by the
 * interpreter (#include) and the generated code (pasted text).
 */
#ifndef MRTC_H
#define MRTC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MRTC_VERSION "0.1.0"
#define MAX_RANK 8

#define FMT(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))

/* ---------------------------------------------------------------- util.c */

void *xalloc(size_t n);  /* zeroed; never NULL; compiler memory lives until exit */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *fmt(const char *f, ...) FMT(1, 2);
NORETURN void fatal(const char *f, ...) FMT(1, 2);
void warn(const char *f, ...) FMT(1, 2);
void verbose(const char *f, ...) FMT(1, 2);
extern int g_verbose;
extern int g_winograd; /* 3x3 stride-1 convolutions by Winograd: 0 none, 2 F(2x2,3x3), 4 also F(4x4,3x3) (default; --winograd N) */
/* Files registered here are removed when fatal() runs: a failed compile
 * leaves no partial output behind. */
void cleanup_register(const char *path);
void cleanup_forget(const char *path);
char *read_file(const char *path, size_t *len);  /* NULL on failure */
int write_file_atomic(const char *path, const void *data, size_t len);
double now_sec(void);

/* A growable text buffer; the emitter's only primitive. */
typedef struct Buf {
  char *s;
  size_t len, cap;
} Buf;
void buf_printf(Buf *b, const char *f, ...) FMT(2, 3);
void buf_vprintf(Buf *b, const char *f, va_list ap);
void buf_puts(Buf *b, const char *s);
void buf_putn(Buf *b, const char *s, size_t n);

/* --------------------------------------------------------------- dtypes */

/* Numbers are ONNX TensorProto.DataType. */
typedef enum DType {
  DT_UNDEF = 0,
  DT_FLOAT = 1,
  DT_UINT8 = 2,
  DT_INT8 = 3,
  DT_UINT16 = 4,
  DT_INT16 = 5,
  DT_INT32 = 6,
  DT_INT64 = 7,
  DT_STRING = 8,
  DT_BOOL = 9,
  DT_FLOAT16 = 10,
  DT_DOUBLE = 11,
  DT_UINT32 = 12,
  DT_UINT64 = 13,
  DT_COMPLEX64 = 14,
  DT_COMPLEX128 = 15,
  DT_BFLOAT16 = 16,
  /* 17..26: float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz, uint4, int4, float4e2m1,
   * float8e8m0, uint2, int2 (no enum names; ir.c's table has them).  Stored one element per byte:
   * the float8/float4 types hold their bit pattern (uint8_t), int4/int2 are sign-extended int8_t,
   * uint4/uint2 uint8_t; the loader and the driver unpack packed 4-/2-bit data.  Only Cast,
   * CastLike, Quantize/DequantizeLinear compute on them; data-movement ops move the bytes.
   * elem_get_i64/elem_set_i64 read and write the float8/float4 bit patterns, elem_get_f64/
   * elem_set_f64 work by value. */
  DT_COUNT_ = 27
} DType;

int dtype_size(DType t);          /* bytes per element, 0 when unsupported */
const char *dtype_name(DType t);  /* ONNX spelling: "float", "int64" ... */
const char *dtype_ctype(DType t); /* C type in generated code: "float", "int64_t" */
const char *dtype_tag(DType t);   /* kernel suffix: f32 f64 i8 u8 i16 u16 i32 u32 i64 u64 b f16 bf16 */
int dtype_is_float(DType t);
int dtype_supported(DType t);     /* has a C representation in generated code */
/* Element conversions used by folding and the interpreter. */
double elem_get_f64(const void *p, DType t, int64_t i);
int64_t elem_get_i64(const void *p, DType t, int64_t i);
void elem_set_f64(void *p, DType t, int64_t i, double v);
void elem_set_i64(void *p, DType t, int64_t i, int64_t v);
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);

/* ------------------------------------------------------------------- IR */

typedef struct Node Node;
typedef struct Graph Graph;

typedef struct Value {
  char *name;
  int id;
  DType dtype;
  int rank;             /* -1 = unknown yet */
  int64_t dims[MAX_RANK];
  int64_t numel;
  void *data;           /* non-NULL: constant (initializer or folded) */
  int is_input;         /* a runtime graph input (not an initializer) */
  int input_index, output_index; /* -1 when not */
  Node *producer;
  int nuse;             /* number of consumer slots (+1 if graph output) */
  /* planner */
  int first, last;      /* schedule positions of birth and last use */
  int64_t offset;       /* arena offset; -1 = not in arena */
  struct Value *alias;  /* storage shared with this value (views, in-place, Concat parts) */
  int64_t alias_off;    /* byte offset of this value inside its alias's storage (a Concat part: its place in the output) */
  /* interpreter */
  void *rt;
  /* symbolic dim names from the model, for --shape */
  char *dim_param[MAX_RANK];
} Value;

typedef enum AttrType {
  AT_UNDEF = 0, AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_GRAPH = 5,
  AT_FLOATS = 6, AT_INTS = 7, AT_STRINGS = 8, AT_TENSORS = 9, AT_GRAPHS = 10,
  AT_SPARSE_TENSOR = 11, AT_SPARSE_TENSORS = 12, AT_TYPE_PROTO = 13, AT_TYPE_PROTOS = 14
} AttrType;

typedef struct Attr {
  char *name;
  AttrType type;
  int64_t i;
  float f;
  char *s;
  int64_t *ints;
  int nints;
  float *floats;
  int nfloats;
  char **strings;
  int nstrings;
  Value *t;            /* AT_TENSOR: a constant value (not in graph) */
  Graph *g;            /* AT_GRAPH */
  int used;
} Attr;

struct Node {
  char *name;
  char *op_type;
  char *domain;
  int op;               /* OpKind */
  int opset;            /* imported version of the node's domain */
  Value **in;           /* NULL entries for omitted optional inputs */
  int nin;
  Value **out;
  int nout;
  Attr *attrs;
  int nattrs;
  void *p;              /* op-private parameters, set by the op's infer hook */
  int index;            /* schedule position */
  int dead;             /* folded away or otherwise not emitted */
  int64_t scratch_bytes; /* temporary arena space the kernel needs (infer sets) */
  int64_t scratch_off;   /* planned offset of that space */
  int64_t macs;          /* multiply-accumulates (infer sets; for inspect) */
  /* fuse.c: an epilogue absorbed into this node (Conv, Gemm, MatMul) */
  int fuse_act;          /* FUSE_ACT_* (= MRTC_ACT_* of runtime/k_gemm.h), applied last */
  float fuse_p0, fuse_p1; /* its parameters: Clip min/max, LeakyRelu alpha, HardSigmoid alpha/beta */
  int fuse_res;          /* index in in[] of an added tensor shaped like the output (residual Add), 0 = none */
  int fuse_bias;         /* index in in[] of an added per-column bias (MatMul + Add), 0 = none */
  char *fused;           /* names of the absorbed nodes, "bn1 + relu1" (for -v and --report) */
  int64_t fuse_pool[8];  /* an absorbed MaxPool (pass_pool.c): pooled OH, OW, kernel KH, KW, strides SH, SW, begin pads
                          * PT, PL; fuse_pool[0] == 0: none */
  /* quantize.c: the precision the node runs in (PREC_*), why it was chosen
   * ("default", "type", "name", "auto", "qdq", plus any fallback reason), and a
   * JSON fragment of its quantization parameters for --report (or NULL) */
  int precision;
  const char *why;
  char *qinfo;
};

struct Graph {
  char *path;           /* the model file, for messages */
  char *dir;            /* its directory, for external data */
  Node **nodes;
  int nnodes;
  Value **values;
  int nvalues;
  Value **inputs;       /* runtime graph inputs, in order */
  int ninputs;
  Value **outputs;
  int noutputs;
  int opset;            /* default ("" / ai.onnx) domain version */
  int64_t ir_version;
  char *producer;
  Graph *parent;        /* subgraphs (If branches) */
};

Graph *graph_new(void);
Value *graph_value(Graph *g, const char *name);     /* find or create */
Value *graph_find(Graph *g, const char *name);      /* NULL if absent */
Value *value_new_const(Graph *g, const char *name, DType t, int rank, const int64_t *dims);
void value_set_shape(Value *v, DType t, int rank, const int64_t *dims);
int64_t shape_numel(int rank, const int64_t *dims);
char *shape_str(const Value *v);                    /* "float[1,3,224,224]" */
int64_t value_bytes(const Value *v);
void graph_toposort(Graph *g);                      /* errors on cycles */
void graph_dump(Graph *g, FILE *f);

/* ------------------------------------------------------------ onnx_load.c */

/* Loads a model; the only file that sees protobuf.  Errors are fatal and
 * name the file. */
Graph *onnx_load(const char *path);
/* Reads one serialized onnx.TensorProto (.pb) into a constant value. */
Value *onnx_load_tensor_pb(const char *path);

/* ----------------------------------------------------------------- npy.c */

/* .npy reader/writer (v1/v2 headers, little-endian, C order).  Returns
 * NULL and sets *err on failure. */
Value *npy_read(const char *path, char **err);
int npy_write(const char *path, DType t, int rank, const int64_t *dims, const void *data);
/* .npy or .pb by extension; fatal with the path on failure. */
Value *tensor_file_read(const char *path);

/* ------------------------------------------------------ registry (ops.c) */

typedef struct Emitter Emitter;

typedef enum OpKind {
#define OP(name, file) OP_##name,
#include "ops.def"
#undef OP
  OP_COUNT
} OpKind;

typedef struct OpDef {
  const char *attrs;     /* comma-separated attribute names the op understands */
  int min_in, max_in;    /* -1 = variadic */
  int min_out, max_out;
  /* check attributes and input types, set output dtype/shape, fill n->p.
   * May read constant inputs (v->data).  Errors via error_node(). */
  void (*infer)(Node *n);
  /* reference evaluation: in[i] data of input i (NULL if absent), out[j]
   * buffers sized from the inferred shapes. */
  void (*eval)(Node *n, void *const *in, void *const *out);
  /* writes the node's C code; see emit_c.c helpers */
  void (*emit)(Node *n, Emitter *e);
  int flags;
} OpDef;

enum {
  OPF_VIEW = 1,      /* output 0 is input 0's bytes reinterpreted (Reshape...) */
  OPF_INPLACE = 2,   /* output 0 may overwrite input 0 (elementwise) */
  OPF_NOFOLD = 4,    /* never constant-fold (e.g. too large a result) */
  OPF_FOLD_SHAPE = 8 /* folds once input shapes are known (Shape, Size) */
};

extern const OpDef *const op_defs[OP_COUNT];
extern const char *const op_names[OP_COUNT];
int op_lookup(const char *domain, const char *op_type); /* -1 if unknown */

/* errors and attribute access for op hooks */
NORETURN void error_node(const Node *n, const char *f, ...) FMT(2, 3);
void warn_node(const Node *n, const char *f, ...) FMT(2, 3);
Attr *attr_find(Node *n, const char *name);
int64_t attr_int(Node *n, const char *name, int64_t def);
float attr_float(Node *n, const char *name, float def);
const char *attr_str(Node *n, const char *name, const char *def);
/* list attributes: returns count (-1 if absent) and copies up to max */
int attr_ints(Node *n, const char *name, int64_t *out, int max);
int attr_floats(Node *n, const char *name, float *out, int max);
Value *attr_tensor(Node *n, const char *name);
/* input helpers */
Value *node_in(Node *n, int i);                 /* NULL when absent */
Value *need_const(Node *n, int i);              /* fatal if not constant, names --bind */
int64_t *const_ints(Node *n, int i, int *count); /* constant input as int64 list */
void need_float(Node *n, int i);                 /* fatal unless float32 */
void need_types(Node *n, int i, const DType *ok, int nok);
int norm_axis(Node *n, int64_t axis, int rank);  /* handles negatives, checks range */
/* broadcasting of k input shapes -> out shape, fatal when incompatible */
void broadcast_shapes(Node *n, Value **ins, int k, int *rank, int64_t *dims);

/* ----------------------------------------------------------------- blas.c */

/* row-major C = alpha * op(A) * op(B) + beta * C (OpenBLAS) */
void blas_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* conv/pool geometry shared by op files (ops/op_conv.c) */
void conv_pads(Node *n, int nsp, const int64_t *in, const int64_t *k, const int64_t *st, const int64_t *dil,
               int ceil_mode, int64_t *pb, int64_t *pe, int64_t *out);
void conv_geometry(Node *n, int nsp, const int64_t *wk, int64_t *k, int64_t *st, int64_t *dil);

/* typed elementwise engine (ops/op_elementwise2.c) for the dtypes that the
 * float fast paths of op_unary.c and op_binary.c do not cover */
int e2_unary_handles(Node *n);
int e2_binary_handles(Node *n);
void e2_infer(Node *n);
void e2_eval(Node *n, void *const *in, void *const *out);
void e2_emit(Node *n, Emitter *e);

/* ---------------------------------------------------------------- shape.c */

typedef struct ShapeOpt {
  char **shape_specs;    /* "NAME=1x3x224x224" */
  int nshape_specs;
  char **bind_specs;     /* "NAME=FILE" */
  int nbind_specs;
  int no_fold;
} ShapeOpt;

/* inference + folding + dead code; afterwards every value has a static shape */
void shape_infer(Graph *g, const ShapeOpt *o);

/* ----------------------------------------------------------------- fuse.c */

/* activation kinds of Node.fuse_act; the numbers are runtime/k_gemm.h's MRTC_ACT_* */
enum { FUSE_ACT_NONE, FUSE_ACT_RELU, FUSE_ACT_CLIP, FUSE_ACT_LEAKY, FUSE_ACT_HSIGMOID, FUSE_ACT_HSWISH,
       FUSE_ACT_SIGMOID, FUSE_ACT_TANH };

/* dead-code elimination (shape.c): counts each value's readers (nuse) and
 * marks nodes dead whose outputs nobody reads */
void graph_dce(Graph *g);

/* graph passes after shape inference (fuse.c runs them; one pass_*.c file
 * each): layout clean-up, BatchNormalization folded into Conv/Gemm,
 * activations / residual Add / bias Add absorbed into Conv, Gemm and MatMul
 * epilogues.  Absorbed nodes become dead; counted in fuse_stats. */
void fuse_graph(Graph *g);
typedef struct {
  int absorbed;                /* nodes absorbed into another (Node.fused lists them) */
  int layout, bn, add, act;    /* nodes removed or absorbed by each pass */
  int pool;                    /* MaxPools absorbed into the Conv before them (fuse_late) */
} FuseStats;
extern FuseStats fuse_stats;
int pass_layout(Graph *g);
int pass_bn(Graph *g);
int pass_add(Graph *g);
int pass_act(Graph *g);
/* after precision assignment (an int8 Conv must stay a Conv of its own):
 * a MaxPool absorbed into the float Conv before it (pass_pool.c) */
void fuse_late(Graph *g);
int pass_pool(Graph *g);
int conv_pool_fusable(const Node *conv);          /* op_conv.c: a Conv k_convpool_f32 can run */
int maxpool_geom2d(const Node *pool, int64_t g[8]); /* op_pool.c: a plain float 2-D MaxPool: OH OW KH KW SH SW PT PL */
/* helpers shared by the passes */
int pass_is_host(const Node *n);                  /* a live float Conv / Gemm / MatMul with one output */
int pass_is_graph_output(Graph *g, Value *v);
Node *pass_single_consumer(Graph *g, Value *v);   /* the one live reader of V (not a graph output), or NULL */
int pass_same_shape(const Value *a, const Value *b);
const float *pass_const_f32(const Value *v);      /* V's data when a float constant */
int pass_add_input(Node *n, Value *v);            /* appends an input; returns its index */
void pass_set_bias(Node *n, Value *b);            /* input 2 (Conv / Gemm bias) becomes B */
void pass_absorb(Node *host, Node *c);            /* HOST takes over C's output; C dies */
int pass_replace_uses(Graph *g, Value *from, Value *to); /* live readers of FROM read TO (never a graph output) */
void pass_reinfer(Node *n);                       /* reruns the op's infer after its inputs or attributes changed */

/* ------------------------------------- config.c, calibrate.c, quantize.c */

/* Precision of a node; PREC_AUTO only in configs (quantize.c resolves it). */
enum { PREC_FP32 = 0, PREC_FP16 = 1, PREC_INT8 = 2, PREC_AUTO = 3 };
enum { CALIB_MAX, CALIB_PERCENTILE, CALIB_ENTROPY, CALIB_MSE };
const char *prec_name(int prec);      /* "fp32" "fp16" "int8" "auto" */
const char *calib_name(int calibrator);

/* one layer rule: -1 / 0 where the config leaves a field unset */
typedef struct QRule {
  int precision;         /* PREC_* or -1 */
  int calibrator;        /* CALIB_* or -1: of the layer's output activation */
  double percentile;     /* 0 = unset */
  int weight_per_channel; /* -1 unset, 0 per tensor, 1 per output channel */
} QRule;

typedef struct QNamed {
  char *key;             /* node name or op type */
  char *where;           /* config key path, for messages: "by_name.conv1" */
  QRule r;
} QNamed;

/* The parsed --config (config.c, the only file that sees cJSON) plus the
 * command-line shortcuts. */
typedef struct QConfig {
  const char *path;      /* NULL: built from options only */
  QRule def;             /* "default" */
  QNamed *by_type, *by_name;
  int ntype, nname;
  int w_per_channel, w_symmetric;     /* "weights" */
  int a_calibrator, a_symmetric;      /* "activations" */
  double a_percentile;
  char **calib;          /* calibration files (one per graph input) or a directory */
  int ncalib;
  int max_samples;       /* 0 = all */
  const char *calib_cache;
  double max_accuracy_drop, min_sqnr; /* "auto" budget (< 0 = unset) */
  char *auto_labels;     /* labels for max_accuracy_drop ("calibration.labels") */
} QConfig;

/* Reads FILE.json (NULL: defaults); errors name the offending key. */
QConfig *config_load(const char *path);
/* --precision / --calib / --calib-cache on top of a config */
void config_apply_options(QConfig *c, const char *precision, char **calib, int ncalib, const char *cache);

/* Per-tensor statistics of the float graph over the calibration samples,
 * indexed by value id: min, max and a histogram of |x| over [0, amax]. */
#define CALIB_BINS 2048
typedef struct TStats {
  int valid;
  double min, max, amax;
  double hist[CALIB_BINS];
} TStats;
typedef struct Calib {
  TStats *t;
  int nvalues, nsamples;
} Calib;
/* Runs the reference interpreter over the samples (or reads --calib-cache). */
Calib *calibrate(Graph *g, const QConfig *c);
/* the clipping range [lo, hi] (lo <= 0 <= hi) a calibrator picks */
void calib_range(const TStats *t, int calibrator, double percentile, int nlevels, double *lo, double *hi);
/* loads the samples of the graph inputs from FILES (leading sample axis) */
Value **calib_load_samples(Graph *g, char **files, int nfiles, int max_samples, int *nsamples);
/* sample I of the stacked inputs, as values the interpreter can take */
void calib_sample(Graph *g, Value **stacked, int i, Value **one);
void calib_free_rt(Graph *g); /* releases the interpreter's buffers (Value.rt) */

/* Assigns a precision to every live node (by_name > by_type > default),
 * calibrates if needed, lowers int8 / fp16 nodes onto the internal Mrtc*
 * ops and inserts the conversions at precision boundaries. */
void quantize_graph(Graph *g, const QConfig *c);
/* parameters of the internal ops MrtcQuantize / MrtcDequantize / MrtcToF16 (scale
 * unused) and MrtcQConcat (ops/op_int8.c), filled in by quantize.c */
typedef struct QScale {
  float scale;
  int32_t zp;
} QScale;
typedef struct QConcatP {
  int64_t outer, ldy;     /* blocks before the axis; output row length */
  int n;
  int64_t *inner, *off;   /* per input: row length, offset in the output row */
  int32_t *zx, *mult, *shift;
  int32_t zy;
} QConcatP;
/* `mrtc eval`: top-1 and SQNR of the quantized graph QG (the last one
 * quantize_graph made) against the float graph FG on the samples in DATA
 * (one .npy per input, stacked); LABELS may be NULL.  Prints the tables. */
void quant_eval(Graph *fg, Graph *qg, char **data, int ndata, const char *labels);

/* --------------------------------------------------------------- interp.c */

void interp_eval_node(Node *n);   /* inputs' rt set; allocates outputs' rt */
/* runs the graph on inputs (one constant value per graph input), returns
 * output values (rt filled) */
void interp_run(Graph *g, Value **inputs);

/* ----------------------------------------------------------------- plan.c */

typedef struct Plan {
  int64_t arena_bytes;
  int64_t lower_bound;   /* max over time of sum of live sizes */
  int64_t weights_bytes;
  int ntensors;
} Plan;

void plan_memory(Graph *g, Plan *p);
int concat_part_offsets(const Node *n, int64_t *off); /* op_concat.c: parts contiguous in the output? their byte offsets */
static inline int64_t alias_chain_off(const Value *v) { /* byte offset of v inside the storage of its root */
  int64_t o = 0;
  for (; v->alias; v = v->alias) o += v->alias_off;
  return o;
}
void plan_dump(Graph *g, const Plan *p, FILE *f);

/* --------------------------------------------------------------- emit_c.c */

typedef struct EmitOpt {
  const char *name;      /* symbol prefix */
  const char *header_name; /* "model.h" */
  int with_main;         /* append the standalone driver */
  int size_mode;         /* --size: MRTC_SIZE_MODE (kernels out of line, shared by all layers) */
} EmitOpt;

struct Emitter {
  Buf *b;                /* current function body */
  Buf consts;            /* static const weights */
  Graph *g;
  const EmitOpt *o;
  unsigned char used_kernels[64];
  int tmp;               /* counter for unique local names */
  int indent;
};

/* emitter primitives for op hooks */
void emit(Emitter *e, const char *f, ...) FMT(2, 3);  /* one line, indented */
const char *eref(Emitter *e, Value *v);   /* pointer expression for v, typed */
const char *eref_void(Emitter *e, Value *v);
void emit_need(Emitter *e, const char *kernel); /* paste runtime/<kernel>.h */
const char *emit_i64s(Emitter *e, const int64_t *v, int n); /* static const int64 array name */
const char *emit_f32s(Emitter *e, const float *v, int n);
/* a derived constant tensor (e.g. weights transposed at compile time), written like a weight */
const char *emit_const(Emitter *e, DType t, int rank, const int64_t *dims, const void *data);
const char *fmt_float(float f);     /* shortest exact literal */

void emit_c(Graph *g, const Plan *p, const EmitOpt *o, Buf *c, Buf *h);
/* runtime/ and templates/ text embedded at build time */
const char *runtime_source(const char *name);

#endif
