/*
 * main.c: the command line.
 *
 *   mrtc MODEL.onnx -o model.c|model.o|prog [options]   compile
 *   mrtc run MODEL.onnx IN... [-o DIR]                  reference interpreter
 *   mrtc inspect MODEL.onnx                             graph, MACs, memory plan
 *   mrtc compare GOT EXPECTED [--rtol R] [--atol A]     compare two tensors
 *
 * Compilation runs the pipeline load -> shape -> plan -> emit and writes
 * files atomically; for .o and executables it then runs $CC (default cc).
 * On any error nothing is left behind.
 */
#include "mrtc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The compiler allocates and never frees (util.c); leak reports at exit
 * would be noise. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

typedef struct Opts {
  const char *cmd, *model, *out, *name, *target, *report, *cc, *opt, *cflags;
  const char **files;
  int nfiles;
  ShapeOpt so;
  int dump_ir, dump_plan, keep;
  int no_fuse;     /* skip fuse.c */
  int size_mode;   /* --size */
  int opt_given;   /* an -O option was given */
  const char *cpu; /* --cpu: -march for the C compiler */
  /* precision and quantization (quantize.c) */
  const char *config, *precision, *calib_cache, *labels;
  char **calib, **data;
  int ncalib, ndata;
  QConfig *qc;     /* NULL: fp32 throughout (but for QDQ pairs) */
  int float_only;  /* not even QDQ pairs on int8 kernels (eval's reference) */
  double rtol, atol;
} Opts;

static void usage(FILE *f) {
  fputs("usage: mrtc MODEL.onnx -o OUTPUT [options]      compile (OUTPUT: x.c, x.o, or an executable)\n"
        "       mrtc run MODEL.onnx IN... [-o DIR]       run the reference interpreter\n"
        "       mrtc inspect MODEL.onnx [options]        graph summary, MACs, weights, memory plan\n"
        "       mrtc compare GOT EXPECTED [--rtol R] [--atol A]\n"
        "       mrtc accuracy LOGITS.npy LABELS.npy      top-1 accuracy of stacked outputs\n"
        "       mrtc eval MODEL.onnx --config C.json --calib X.npy --data X.npy [--labels Y.npy]\n"
        "                                                top-1 and SQNR of the quantized model against fp32\n"
        "options:\n"
        "  -o FILE            output: .c (+ .h beside it), .o, or an executable\n"
        "  -n NAME            symbol prefix (default: from the output file name)\n"
        "  --shape NAME=DIMS  fix a graph input's shape or a symbolic dim (e.g. input=1x3x224x224, batch=4)\n"
        "  --bind NAME=FILE   fix a graph input's value at compile time (.npy or .pb)\n"
        "  --target c|cuda    code to generate (default c)\n"
        "  -O0 -O1 -O2 -O3 -Os optimization level for the C compiler (default -O2)\n"
        "  --cc CC            C compiler for .o and executables (default $CC or cc)\n"
        "  --cflags FLAGS     extra flags for that compiler\n"
        "  --cpu CPU          target of .o and executables: native (default), x86-64-v4 (AVX-512),\n"
        "                     x86-64-v3 (AVX2), generic (no -march); model.c itself builds anywhere\n"
        "  --no-fuse          keep BatchNorm, Add and activations as separate nodes (no fusion)\n"
        "  --no-winograd      3x3 stride-1 convolutions as implicit GEMM instead of Winograd\n"
        "  --winograd N       Winograd for 3x3 stride-1 convolutions: 0 none, 2 F(2x2,3x3) only, 4 also\n"
        "                     F(4x4,3x3) where its tiles fit the map (default 4)\n"
        "  --size             size mode: one shared out-of-line copy of each kernel, no Winograd, -Os\n"
        "  --config FILE.json precision/quantization config\n"
        "  --precision P      default precision of every layer: fp32, fp16, int8 or auto\n"
        "  --calib FILE.npy   calibration samples (one file per graph input, samples along the first axis;\n"
        "                     repeat the option or separate with commas; or a directory of .npy files)\n"
        "  --calib-cache FILE reuse (or write) the calibration statistics\n"
        "  --report FILE.json write a JSON report of the compile\n"
        "  --dump-ir          print the IR after shape inference and folding\n"
        "  --dump-plan        print the memory plan\n"
        "  -v                 verbose\n"
        "  --help, --version\n",
        f);
}

static const char *need_arg(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) fatal("option '%s' needs an argument", argv[*i]);
  return argv[++*i];
}

static void add_spec(char ***arr, int *n, const char *s) {
  *arr = xrealloc(*arr, sizeof(char *) * (*n + 1));
  (*arr)[(*n)++] = xstrdup(s);
}

static void parse_args(int argc, char **argv, Opts *o) {
  o->target = "c";
  o->opt = "-O2";
  o->rtol = 1e-3;
  o->atol = 1e-4;
  o->files = xalloc(sizeof(char *) * (argc + 1));
  int i = 1;
  if (argc > 1 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "inspect") || !strcmp(argv[1], "compare") ||
                   !strcmp(argv[1], "accuracy") || !strcmp(argv[1], "eval"))) {
    o->cmd = argv[1];
    i = 2;
  }
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-o")) o->out = need_arg(argc, argv, &i);
    else if (!strcmp(a, "-n")) o->name = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--shape")) add_spec(&o->so.shape_specs, &o->so.nshape_specs, need_arg(argc, argv, &i));
    else if (!strcmp(a, "--bind")) add_spec(&o->so.bind_specs, &o->so.nbind_specs, need_arg(argc, argv, &i));
    else if (!strcmp(a, "--target")) o->target = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--report")) o->report = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--cc")) o->cc = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--cflags")) o->cflags = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--config")) o->config = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--precision")) o->precision = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--calib-cache")) o->calib_cache = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--labels")) o->labels = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--calib") || !strcmp(a, "--data")) {
      int cal = a[2] == 'c';
      char *list = xstrdup(need_arg(argc, argv, &i));
      for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        if (cal) add_spec(&o->calib, &o->ncalib, t);
        else add_spec(&o->data, &o->ndata, t);
      }
    }
    else if (!strcmp(a, "--rtol")) o->rtol = atof(need_arg(argc, argv, &i));
    else if (!strcmp(a, "--atol")) o->atol = atof(need_arg(argc, argv, &i));
    else if (!strcmp(a, "--dump-ir")) o->dump_ir = 1;
    else if (!strcmp(a, "--dump-plan")) o->dump_plan = 1;
    else if (!strcmp(a, "--no-fold")) o->so.no_fold = 1;
    else if (!strcmp(a, "--no-fuse")) o->no_fuse = 1;
    else if (!strcmp(a, "--no-winograd")) g_winograd = 0;
    else if (!strcmp(a, "--winograd")) {
      const char *v = need_arg(argc, argv, &i);
      if (strcmp(v, "0") && strcmp(v, "2") && strcmp(v, "4")) fatal("--winograd takes 0, 2 or 4, not '%s'", v);
      g_winograd = atoi(v);
    }
    else if (!strcmp(a, "--size")) o->size_mode = 1, g_winograd = 0;
    else if (!strcmp(a, "--cpu")) o->cpu = need_arg(argc, argv, &i);
    else if (!strcmp(a, "--keep")) o->keep = 1;
    else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2") || !strcmp(a, "-O3") || !strcmp(a, "-Os"))
      o->opt = a, o->opt_given = 1;
    else if (!strcmp(a, "-v")) g_verbose = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("mrtc %s\n", MRTC_VERSION);
      exit(0);
    } else if (a[0] == '-' && a[1]) fatal("unknown option '%s' (see mrtc --help)", a);
    else if (!o->model && (!o->cmd || (strcmp(o->cmd, "compare") && strcmp(o->cmd, "accuracy")))) o->model = a;
    else o->files[o->nfiles++] = a;
  }
}

static const char *ext(const char *path) {
  const char *s = strrchr(path, '/'), *d = strrchr(path, '.');
  return d && (!s || d > s) ? d : "";
}

static char *default_name(const char *out) {
  const char *b = strrchr(out, '/');
  b = b ? b + 1 : out;
  char *n = xstrdup(b);
  char *d = strchr(n, '.');
  if (d) *d = 0;
  for (char *p = n; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) *p = '_';
  if (!n[0] || (n[0] >= '0' && n[0] <= '9')) n = fmt("m_%s", n);
  return n;
}

static Graph *front(Opts *o, Plan *plan) {
  if (!o->model) fatal("no model given (see mrtc --help)");
  Graph *g = onnx_load(o->model);
  shape_infer(g, &o->so);
  if (!o->no_fuse) fuse_graph(g);
  if (o->qc || !o->float_only) quantize_graph(g, o->qc); /* without a config: only a model's QDQ pairs */
  if (!o->no_fuse) fuse_late(g);
  plan_memory(g, plan);
  if (o->dump_ir) graph_dump(g, stdout);
  if (o->dump_plan) plan_dump(g, plan, stdout);
  return g;
}

static int run_cmd(char *const argv[]) {
  if (g_verbose) {
    fputs("mrtc:", stderr);
    for (int i = 0; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
    fputc('\n', stderr);
  }
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127); /* reported by the parent */
  }
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void glue(Graph *g, const char *name, const char *header, Buf *m) {
  buf_printf(m, "/* driver glue: generated by mrtc %s */\n#define _POSIX_C_SOURCE 199309L\n#include \"%s\"\n", MRTC_VERSION, header);
  buf_printf(m, "#define MRTC_NIN %d\n#define MRTC_NOUT %d\n", g->ninputs, g->noutputs);
  const char *kind[2] = {"in", "out"};
  for (int s = 0; s < 2; s++) {
    int n = s ? g->noutputs : g->ninputs;
    Value **vs = s ? g->outputs : g->inputs;
    buf_printf(m, "static const char *const mrtc_%s_names[%d] = {", kind[s], n + 1);
    for (int i = 0; i < n; i++) buf_printf(m, "\"%s\", ", vs[i]->name);
    buf_printf(m, "0};\nstatic const int mrtc_%s_dtype[%d] = {", kind[s], n + 1);
    for (int i = 0; i < n; i++) buf_printf(m, "%d, ", vs[i]->dtype);
    buf_printf(m, "0};\nstatic const int mrtc_%s_rank[%d] = {", kind[s], n + 1);
    for (int i = 0; i < n; i++) buf_printf(m, "%d, ", vs[i]->rank);
    buf_printf(m, "0};\nstatic const long long mrtc_%s_size[%d] = {", kind[s], n + 1);
    for (int i = 0; i < n; i++) buf_printf(m, "%lldLL, ", (long long)vs[i]->numel);
    buf_printf(m, "0};\nstatic const long long mrtc_%s_dims[%d][8] = {", kind[s], n + 1);
    for (int i = 0; i < n; i++) {
      buf_puts(m, "{");
      for (int k = 0; k < vs[i]->rank; k++) buf_printf(m, "%lldLL, ", (long long)vs[i]->dims[k]);
      buf_puts(m, "0}, ");
    }
    buf_puts(m, "{0}};\n");
  }
  buf_printf(m, "static int mrtc_invoke(void *const *in, void *const *out) {\n  (void)in; (void)out;\n  return %s_run(", name);
  for (int i = 0; i < g->ninputs; i++) buf_printf(m, "%s(const %s *)in[%d]", i ? ", " : "", dtype_ctype(g->inputs[i]->dtype), i);
  for (int i = 0; i < g->noutputs; i++)
    buf_printf(m, "%s(%s *)out[%d]", g->ninputs || i ? ", " : "", dtype_ctype(g->outputs[i]->dtype), i);
  buf_puts(m, ");\n}\n\n");
  buf_puts(m, runtime_source("tpl:driver.c"));
}

static void write_or_die(const char *path, Buf *b) {
  cleanup_register(path);
  if (write_file_atomic(path, b->s ? b->s : "", b->len)) fatal("%s: cannot write file", path);
}

static void write_report(const char *path, Graph *g, const Plan *p, double secs) {
  Buf r = {0};
  buf_printf(&r, "{\n  \"mrtc_version\": \"%s\",\n  \"model\": \"%s\",\n  \"compile_seconds\": %.3f,\n", MRTC_VERSION, g->path, secs);
  buf_printf(&r, "  \"arena_bytes\": %lld,\n  \"arena_lower_bound\": %lld,\n  \"weights_bytes\": %lld,\n", (long long)p->arena_bytes,
             (long long)p->lower_bound, (long long)p->weights_bytes);
  buf_puts(&r, "  \"layers\": [\n");
  int first = 1;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    int64_t wb = 0;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] && n->in[k]->data) wb += value_bytes(n->in[k]);
    Value *o = NULL; /* first named output (RNN's Y may be unnamed) */
    for (int k = n->nout - 1; k >= 0; k--)
      if (n->out[k]) o = n->out[k];
    buf_printf(&r, "%s    {\"name\": \"%s\", \"op\": \"%s\", \"precision\": \"%s\", \"why\": \"%s\", \"macs\": %lld, "
                   "\"weights_bytes\": %lld, \"output\": \"%s\"%s%s%s%s%s}",
               first ? "" : ",\n", n->name, n->op_type, prec_name(n->precision), n->why ? n->why : "default",
               (long long)n->macs, (long long)wb, o ? shape_str(o) : "", n->fused ? ", \"fused\": \"" : "",
               n->fused ? n->fused : "", n->fused ? "\"" : "", n->qinfo ? ", " : "", n->qinfo ? n->qinfo : "");
    first = 0;
  }
  buf_puts(&r, "\n  ]\n}\n");
  write_or_die(path, &r);
}

static int cmd_compile(Opts *o) {
  if (!o->out) fatal("no output given: use -o model.c, -o model.o or -o PROGRAM");
  if (strcmp(o->target, "c")) {
    if (!strcmp(o->target, "cuda")) fatal("--target cuda is not implemented in this version");
    fatal("unknown target '%s' (c or cuda)", o->target);
  }
  double t0 = now_sec();
  Plan plan;
  Graph *g = front(o, &plan);
  const char *name = o->name ? o->name : default_name(o->out);
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_') ||
        (p == name && *p >= '0' && *p <= '9'))
      fatal("-n '%s': not a C identifier", name);
  const char *e = ext(o->out);
  int is_c = !strcmp(e, ".c"), is_o = !strcmp(e, ".o");
  char *stem = xstrdup(o->out);
  if (is_c || is_o) stem[strlen(stem) - 2] = 0;
  char *hname = fmt("%s.h", name);
  Buf c = {0}, h = {0};
  EmitOpt eo = {.name = name, .header_name = is_c ? fmt("%s.h", strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem) : hname,
                .size_mode = o->size_mode};
  if (o->size_mode && !o->opt_given) o->opt = "-Os";
  emit_c(g, &plan, &eo, &c, &h);
  if (is_c) {
    write_or_die(fmt("%s.h", stem), &h);
    write_or_die(o->out, &c);
  } else {
    char tmpl[] = "/tmp/mrtc.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) fatal("cannot create a temporary directory");
    char *cpath = fmt("%s/%s.c", dir, name), *hpath = fmt("%s/%s", dir, hname), *mpath = fmt("%s/main.c", dir);
    write_or_die(cpath, &c);
    write_or_die(hpath, &h);
    const char *cc = o->cc ? o->cc : getenv("CC") ? getenv("CC") : "cc";
    char *argv[64];
    int ac = 0;
    argv[ac++] = (char *)cc;
    argv[ac++] = (char *)o->opt;
    argv[ac++] = "-std=c99";
    /* --cpu: the kernels pick AVX-512 / AVX2 / portable code from the target macros */
    const char *cpu = o->cpu ? o->cpu : "native";
    if (strcmp(cpu, "native") && strcmp(cpu, "x86-64-v4") && strcmp(cpu, "x86-64-v3") && strcmp(cpu, "generic"))
      fatal("unknown --cpu '%s' (native, x86-64-v4, x86-64-v3 or generic)", cpu);
    if (strcmp(cpu, "generic")) argv[ac++] = fmt("-march=%s", cpu);
    if (o->cflags) {
      char *fl = xstrdup(o->cflags);
      for (char *t = strtok(fl, " "); t && ac < 50; t = strtok(NULL, " ")) argv[ac++] = t;
    }
    cleanup_register(o->out);
    if (is_o) {
      argv[ac++] = "-c";
      argv[ac++] = cpath;
    } else {
      /* the driver (file I/O, argument parsing) is compiled on its own at
       * -O0: it is most of the C compiler's work on small models */
      Buf m = {0};
      glue(g, name, hname, &m);
      write_or_die(mpath, &m);
      char *opath = fmt("%s/main.o", dir), *dargv[64];
      int dc = 0;
      for (int i = 0; i < ac; i++) dargv[dc++] = i == 1 ? "-O0" : argv[i];
      dargv[dc++] = "-c";
      dargv[dc++] = mpath;
      dargv[dc++] = "-o";
      dargv[dc++] = opath;
      dargv[dc] = NULL;
      cleanup_register(opath);
      int drc = run_cmd(dargv);
      if (drc == 127) fatal("%s: cannot run the C compiler '%s' (not found? set --cc or $CC)", o->out, cc);
      if (drc) fatal("%s: the C compiler '%s' failed on the driver (status %d)", o->out, cc, drc);
      argv[ac++] = cpath;
      argv[ac++] = opath;
    }
    argv[ac++] = "-o";
    argv[ac++] = (char *)o->out;
    if (!is_o) argv[ac++] = "-lm";
    argv[ac] = NULL;
    int rc = run_cmd(argv);
    if (!o->keep) {
      unlink(cpath);
      unlink(hpath);
      unlink(mpath);
      unlink(fmt("%s/main.o", dir));
      rmdir(dir);
      cleanup_forget(cpath);
      cleanup_forget(hpath);
      cleanup_forget(mpath);
    } else fprintf(stderr, "mrtc: kept sources in %s\n", dir);
    if (rc == 127) fatal("%s: cannot run the C compiler '%s' (not found? set --cc or $CC)", o->out, cc);
    if (rc) fatal("%s: the C compiler '%s' failed (status %d)", o->out, cc, rc);
  }
  if (o->report) write_report(o->report, g, &plan, now_sec() - t0);
  verbose("compiled %s in %.2f s: arena %lld bytes (lower bound %lld), weights %lld bytes", o->model, now_sec() - t0,
          (long long)plan.arena_bytes, (long long)plan.lower_bound, (long long)plan.weights_bytes);
  return 0;
}

static int cmd_run(Opts *o) {
  Plan plan;
  Graph *g = front(o, &plan);
  if (o->nfiles != g->ninputs) fatal("%s: the model takes %d inputs, %d given", o->model, g->ninputs, o->nfiles);
  Value **ins = xalloc(sizeof(Value *) * (g->ninputs + 1)), **one = xalloc(sizeof(Value *) * (g->ninputs + 1));
  /* like the executable: a file holding K times the input runs K inferences, outputs stacked */
  int64_t reps = 1;
  for (int i = 0; i < g->ninputs; i++) {
    ins[i] = tensor_file_read(o->files[i]);
    int64_t n = g->inputs[i]->numel, r = n && ins[i]->numel % n == 0 ? ins[i]->numel / n : 0;
    if (!n && !ins[i]->numel) r = i ? reps : 1; /* an empty input: one run (as many as the others) */
    if (ins[i]->dtype != g->inputs[i]->dtype || !r || (i && r != reps))
      fatal("%s: holds %s, the model's input %d ('%s') is %s", o->files[i], shape_str(ins[i]), i, g->inputs[i]->name,
            shape_str(g->inputs[i]));
    reps = r;
  }
  char **outs = xalloc(sizeof(char *) * (g->noutputs + 1));
  for (int r = 0; r < reps; r++) {
    calib_sample(g, ins, r, one);
    interp_run(g, one);
    for (int i = 0; i < g->noutputs; i++) {
      Value *v = g->outputs[i];
      size_t nb = (size_t)value_bytes(v);
      if (!r) outs[i] = xalloc(nb * (size_t)reps + 1);
      memcpy(outs[i] + nb * (size_t)r, v->data ? v->data : v->rt, nb);
    }
    if (reps > 1) calib_free_rt(g);
  }
  const char *dir = o->out ? o->out : ".";
  mkdir(dir, 0777);
  for (int i = 0; i < g->noutputs; i++) {
    Value *v = g->outputs[i];
    const char *path = fmt("%s/output_%d.npy", dir, i);
    int64_t dims[MAX_RANK + 1];
    int rank = v->rank ? v->rank : 1;
    for (int d = 0; d < v->rank; d++) dims[d] = v->dims[d];
    if (!v->rank) dims[0] = 1;
    dims[0] *= reps;
    if (npy_write(path, v->dtype, reps > 1 ? rank : v->rank, dims, outs[i])) fatal("%s: cannot write file", path);
  }
  return 0;
}

static int cmd_inspect(Opts *o) {
  Plan plan;
  Graph *g = front(o, &plan);
  int64_t macs = 0;
  int live = 0, counts[OP_COUNT] = {0};
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) {
      macs += g->nodes[i]->macs;
      live++;
      counts[g->nodes[i]->op]++;
    }
  printf("model:    %s (opset %d, producer '%s')\n", g->path, g->opset, g->producer);
  for (int i = 0; i < g->ninputs; i++) printf("input %d:  %s %s\n", i, g->inputs[i]->name, shape_str(g->inputs[i]));
  for (int i = 0; i < g->noutputs; i++) printf("output %d: %s %s\n", i, g->outputs[i]->name, shape_str(g->outputs[i]));
  printf("nodes:    %d in the model, %d after folding and fusion\n", g->nnodes, live);
  if (!o->no_fuse) {
    printf("fusion:   %d nodes absorbed into epilogues (%d BatchNormalization, %d Add, %d activations, %d MaxPool), %d layout nodes removed\n",
           fuse_stats.absorbed, fuse_stats.bn, fuse_stats.add, fuse_stats.act, fuse_stats.pool, fuse_stats.layout);
    for (int i = 0; i < g->nnodes; i++)
      if (!g->nodes[i]->dead && g->nodes[i]->fused) printf("  fused:  %s + %s\n", g->nodes[i]->name, g->nodes[i]->fused);
  }
  int prec[4] = {0};
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) prec[g->nodes[i]->precision & 3]++;
  if (prec[PREC_INT8] || prec[PREC_FP16])
    printf("precision: %d int8, %d fp16, %d fp32 nodes (conversions included; --report has each node's)\n", prec[PREC_INT8],
           prec[PREC_FP16], prec[PREC_FP32]);
  printf("ops:     ");
  for (int k = 0; k < OP_COUNT; k++)
    if (counts[k]) printf(" %s x%d", op_names[k], counts[k]);
  printf("\nMACs:     %lld (%.3f G)\n", (long long)macs, macs / 1e9);
  printf("weights:  %lld bytes\n", (long long)plan.weights_bytes);
  printf("arena:    %lld bytes\n", (long long)plan.arena_bytes);
  printf("lower bound: %lld bytes (arena is %.2f%% above)\n", (long long)plan.lower_bound,
         plan.lower_bound ? 100.0 * (plan.arena_bytes - plan.lower_bound) / plan.lower_bound : 0.0);
  return 0;
}

static int cmd_compare(Opts *o) {
  if (o->nfiles != 2) fatal("compare takes two tensor files: GOT EXPECTED");
  Value *a = tensor_file_read(o->files[0]), *b = tensor_file_read(o->files[1]);
  /* .npy has no bfloat16: executables write its bits as uint16 */
  if (a->dtype == DT_UINT16 && b->dtype == DT_BFLOAT16) a->dtype = DT_BFLOAT16;
  /* nor the narrow types: executables write them unpacked, one element per
   * byte, as int8 (int4, int2) or uint8 (the float8 / float4 bit patterns,
   * uint4, uint2); they are compared exactly (by value for the float types,
   * NaN equal to NaN) */
  int narrow = (int)b->dtype >= 17 && (int)b->dtype <= 26;
  if (narrow && a->dtype == (b->dtype == 22 || b->dtype == 26 ? DT_INT8 : DT_UINT8)) a->dtype = b->dtype;
  if (narrow) o->rtol = o->atol = 0;
  if (a->dtype != b->dtype) fatal("%s: type %s, expected %s", o->files[0], dtype_name(a->dtype), dtype_name(b->dtype));
  if (a->numel != b->numel || a->rank != b->rank) fatal("%s: shape %s, expected %s", o->files[0], shape_str(a), shape_str(b));
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) fatal("%s: shape %s, expected %s", o->files[0], shape_str(a), shape_str(b));
  int fl = dtype_is_float(a->dtype);
  double maxabs = 0;
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < a->numel; i++) {
    if (fl) {
      double x = elem_get_f64(a->data, a->dtype, i), y = elem_get_f64(b->data, b->dtype, i);
      if (isnan(x) && isnan(y)) continue;
      if (isinf(y) && x == y) continue;
      double d = fabs(x - y);
      if (!(d <= o->atol + o->rtol * fabs(y))) {
        if (first < 0) first = i;
        bad++;
      }
      if (d > maxabs || d != d) maxabs = d;
    } else {
      int64_t x = elem_get_i64(a->data, a->dtype, i), y = elem_get_i64(b->data, b->dtype, i);
      double d = x > y ? (double)x - (double)y : (double)y - (double)x;
      if (d > maxabs) maxabs = d;
      if (x != y) {
        if (first < 0) first = i;
        bad++;
      }
    }
  }
  if (bad) {
    printf("MISMATCH %lld of %lld elements (first at %lld: got %g, expected %g), max abs err %g\n", (long long)bad,
           (long long)a->numel, (long long)first, elem_get_f64(a->data, a->dtype, first), elem_get_f64(b->data, b->dtype, first),
           maxabs);
    return 1;
  }
  printf("OK %lld elements, max abs err %g\n", (long long)a->numel, maxabs);
  return 0;
}

static int cmd_accuracy(Opts *o) {
  if (o->nfiles != 2) fatal("accuracy takes two files: LOGITS.npy LABELS.npy");
  Value *a = tensor_file_read(o->files[0]), *l = tensor_file_read(o->files[1]);
  if (a->rank < 1 || !a->dims[0]) fatal("%s: expected [N, classes] logits, got %s", o->files[0], shape_str(a));
  int64_t n = a->dims[0], c = a->numel / n, ok = 0;
  if (l->numel != n) fatal("%s: holds %lld labels for %lld outputs", o->files[1], (long long)l->numel, (long long)n);
  for (int64_t i = 0; i < n; i++) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; j++)
      if (elem_get_f64(a->data, a->dtype, i * c + j) > elem_get_f64(a->data, a->dtype, i * c + best)) best = j;
    ok += best == elem_get_i64(l->data, l->dtype, i);
  }
  printf("top-1 accuracy %.4f (%lld/%lld)\n", (double)ok / n, (long long)ok, (long long)n);
  return 0;
}

/* mrtc eval: the float and the quantized graph side by side on --data */
static int cmd_eval(Opts *o) {
  if (!o->qc) o->qc = config_load(NULL); /* a QDQ model: its own int8 layers */
  if (!o->ndata) fatal("eval: give the evaluation samples with --data X.npy (one per graph input, samples along the first axis)");
  Plan plan;
  QConfig *qc = o->qc;
  o->qc = NULL;
  o->float_only = 1;
  Graph *fg = front(o, &plan);
  o->qc = qc;
  o->float_only = 0;
  Graph *qg = front(o, &plan);
  quant_eval(fg, qg, o->data, o->ndata, o->labels);
  return 0;
}

int main(int argc, char **argv) {
  Opts o = {0};
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  parse_args(argc, argv, &o);
  if (o.config || o.precision) {
    o.qc = config_load(o.config);
    config_apply_options(o.qc, o.precision, o.calib, o.ncalib, o.calib_cache);
  } else if (o.ncalib || o.calib_cache)
    fatal("--calib and --calib-cache need --config FILE.json or --precision int8");
  if (!o.cmd) return cmd_compile(&o);
  if (!strcmp(o.cmd, "run")) return cmd_run(&o);
  if (!strcmp(o.cmd, "inspect")) return cmd_inspect(&o);
  if (!strcmp(o.cmd, "accuracy")) return cmd_accuracy(&o);
  if (!strcmp(o.cmd, "eval")) return cmd_eval(&o);
  return cmd_compare(&o);
}
