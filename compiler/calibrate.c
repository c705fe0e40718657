/*
 * calibrate.c: activation statistics for int8 quantization.
 *
 * The reference interpreter runs the float graph (after fusion, before
 * quantization) over the calibration samples twice: the first pass finds
 * each tensor's min and max, the second fills a histogram of |x| with
 * CALIB_BINS bins over [0, max |x|].  From those, a calibrator picks the
 * clipping range [lo, hi] of a tensor (calib_range):
 *
 *   max         [min, max]
 *   percentile  |x| <= T for the given percentile of the samples (99.99)
 *   entropy     T minimizing the KL divergence between the clipped
 *               histogram and its quantized version (TensorRT's method as
 *               NVIDIA's pytorch-quantization computes it: candidates from
 *               nlevels to CALIB_BINS bins; nlevels levels spread evenly over
 *               the candidate's bins; each level's mass spread over its
 *               non-empty bins; both smoothed with eps = 1e-4 counts)
 *   mse         T minimizing the expected squared error: clipping error of
 *               the bins above T plus step^2 / 12 rounding error below
 *
 * and then [lo, hi] = [max(min, -T), min(max, T)].  nlevels is 256 for a
 * non-negative tensor quantized asymmetrically (its whole int8 range covers
 * [0, T]), else 128.
 *
 * Samples: one .npy per graph input with a leading sample axis (the file's
 * element count a multiple of the input's), or a directory whose .npy files
 * (in name order) all hold samples of a single-input model.
 *
 * The calibration cache (--calib-cache FILE, or calibration.cache) holds the
 * statistics as text, with a hash of the model file and one of the sample
 * files (paths, sizes, times) and max_samples: a recompile with another
 * precision assignment or calibrator reads it instead of running the
 * samples again; other samples (or none given) mean recalibrating (or
 * trusting the cache).
 */
#include "mrtc.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void calib_free_rt(Graph *g) {
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->rt && !v->is_input) free(v->rt);
    v->rt = NULL;
  }
}

/* ------------------------------------------------------------- samples */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* DIR -> its .npy files, sorted */
static char **list_dir(const char *dir, int *n) {
  DIR *d = opendir(dir);
  if (!d) fatal("%s: cannot read the directory", dir);
  char **names = NULL;
  int k = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".npy")) continue;
    names = xrealloc(names, sizeof(char *) * (k + 1));
    names[k++] = fmt("%s/%s", dir, e->d_name);
  }
  closedir(d);
  if (!k) fatal("%s: no .npy files in the calibration directory", dir);
  qsort(names, k, sizeof *names, cmp_str);
  *n = k;
  return names;
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* file contents as samples of input V (converted between float types) */
static Value *as_samples(Value *f, Value *v, const char *path) {
  if (f->dtype != v->dtype) {
    if (!(dtype_is_float(f->dtype) && dtype_is_float(v->dtype)))
      fatal("%s: holds %s, the model's input '%s' is %s", path, dtype_name(f->dtype), v->name, dtype_name(v->dtype));
    Value *c = value_new_const(NULL, f->name, v->dtype, f->rank, f->dims);
    for (int64_t i = 0; i < f->numel; i++) elem_set_f64(c->data, v->dtype, i, elem_get_f64(f->data, f->dtype, i));
    f = c;
  }
  if (!v->numel || f->numel % v->numel || !f->numel)
    fatal("%s: holds %s, not a whole number of samples of the input '%s' %s", path, shape_str(f), v->name, shape_str(v));
  return f;
}

Value **calib_load_samples(Graph *g, char **files, int nfiles, int max_samples, int *nsamples) {
  Value **st = xalloc(sizeof(Value *) * (g->ninputs + 1));
  if (nfiles == 1 && is_dir(files[0])) {
    if (g->ninputs != 1)
      fatal("%s: a calibration directory serves single-input models; give one .npy per graph input (%d)", files[0], g->ninputs);
    int n;
    char **names = list_dir(files[0], &n);
    Value *v = g->inputs[0];
    int64_t total = 0;
    Value **parts = xalloc(sizeof(Value *) * n);
    for (int i = 0; i < n; i++) {
      parts[i] = as_samples(tensor_file_read(names[i]), v, names[i]);
      total += parts[i]->numel / v->numel;
    }
    int64_t dims[MAX_RANK + 1] = {total};
    for (int d = 0; d < v->rank; d++) dims[d + 1] = v->dims[d];
    Value *all = value_new_const(NULL, v->name, v->dtype, v->rank + 1 <= MAX_RANK ? v->rank + 1 : 1, dims);
    if (v->rank + 1 > MAX_RANK) value_set_shape(all, v->dtype, 1, (int64_t[]){total * v->numel});
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
      memcpy((char *)all->data + off, parts[i]->data, (size_t)value_bytes(parts[i]));
      off += value_bytes(parts[i]);
    }
    st[0] = all;
  } else {
    if (nfiles != g->ninputs)
      fatal("calibration data: %d file(s) given, the model has %d input(s) (one .npy per input, samples along the first axis)",
            nfiles, g->ninputs);
    for (int k = 0; k < nfiles; k++) st[k] = as_samples(tensor_file_read(files[k]), g->inputs[k], files[k]);
  }
  int64_t ns = -1;
  for (int k = 0; k < g->ninputs; k++) {
    int64_t s = st[k]->numel / g->inputs[k]->numel;
    if (ns >= 0 && s != ns) fatal("calibration data: the inputs' files hold different numbers of samples (%lld and %lld)",
                                  (long long)ns, (long long)s);
    ns = s;
  }
  if (ns < 0) ns = 1; /* no inputs */
  if (max_samples > 0 && ns > max_samples) ns = max_samples;
  *nsamples = (int)ns;
  return st;
}

void calib_sample(Graph *g, Value **stacked, int i, Value **one) {
  for (int k = 0; k < g->ninputs; k++) {
    Value *v = g->inputs[k], *o = xalloc(sizeof *o);
    *o = *v;
    o->data = (char *)stacked[k]->data + (size_t)i * (size_t)value_bytes(v);
    one[k] = o;
  }
}

/* ---------------------------------------------------------- statistics */

static int tracked(Value *v) { return v && !v->data && v->dtype == DT_FLOAT && v->numel > 0; }

static void pass_minmax(TStats *t, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    double v = x[i];
    if (v != v) continue;
    if (!t->valid) {
      t->min = t->max = v;
      t->valid = 1;
    }
    if (v < t->min) t->min = v;
    if (v > t->max) t->max = v;
  }
}

static void pass_hist(TStats *t, const float *x, int64_t n) {
  if (!(t->amax > 0)) return;
  double k = CALIB_BINS / t->amax;
  for (int64_t i = 0; i < n; i++) {
    double a = fabs((double)x[i]) * k;
    if (a != a) continue;
    int b = a >= CALIB_BINS ? CALIB_BINS - 1 : (int)a;
    t->hist[b] += 1;
  }
}

static void visit(Calib *c, Value *v, int pass) {
  if (!tracked(v) || v->id >= c->nvalues) return;
  TStats *t = &c->t[v->id];
  const float *x = v->rt;
  if (!x) return;
  if (pass == 0) pass_minmax(t, x, v->numel);
  else pass_hist(t, x, v->numel);
}

static void progress(const char *what, int i, int n) {
  if (!isatty(2)) return;
  int w = 30, k = n ? (int)((int64_t)w * i / n) : w;
  fprintf(stderr, "\r%s [", what);
  for (int j = 0; j < w; j++) fputc(j < k ? '#' : ' ', stderr);
  fprintf(stderr, "] %d/%d", i, n);
  if (i == n) fputc('\n', stderr);
  fflush(stderr);
}

/* FNV-1a of the model file: the cache belongs to that model */
static uint64_t model_hash(Graph *g) {
  size_t len;
  char *b = read_file(g->path, &len);
  uint64_t h = 1469598103934665603ULL;
  if (!b) return 0;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
  free(b);
  return h ^ len;
}

/* the calibration samples: their paths, sizes and modification times, and max_samples */
static uint64_t samples_hash(const QConfig *cfg) {
  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < cfg->ncalib; i++) {
    struct stat st;
    const char *p = cfg->calib[i];
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    if (stat(cfg->calib[i], &st) == 0) h = (h ^ (uint64_t)st.st_size ^ ((uint64_t)st.st_mtime << 20)) * 1099511628211ULL;
  }
  return (h ^ (uint64_t)cfg->max_samples) * 1099511628211ULL;
}

static void write_cache(Graph *g, Calib *c, const char *path, const QConfig *cfg) {
  Buf b = {0};
  buf_printf(&b, "mrtc-calib-cache 1\nmodel %016llx %d\nsamples %016llx\n", (unsigned long long)model_hash(g), c->nsamples,
             (unsigned long long)samples_hash(cfg));
  for (int i = 0; i < c->nvalues; i++) {
    TStats *t = &c->t[i];
    if (!t->valid) continue;
    buf_printf(&b, "T\t%.17g\t%.17g\t%.17g\t%s\nH", t->min, t->max, t->amax, g->values[i]->name);
    for (int k = 0; k < CALIB_BINS; k++)
      if (t->hist[k]) buf_printf(&b, " %d:%.17g", k, t->hist[k]);
    buf_puts(&b, "\n");
  }
  if (write_file_atomic(path, b.s, b.len)) fatal("%s: cannot write the calibration cache", path);
  verbose("wrote the calibration cache %s", path);
}

/* 1 when the cache holds statistics for every tracked value */
static int read_cache(Graph *g, Calib *c, const char *path, const QConfig *cfg) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return 0;
  char *save = NULL, *line = strtok_r(text, "\n", &save);
  if (!line || strcmp(line, "mrtc-calib-cache 1")) {
    warn("%s: not an mrtc calibration cache; recalibrating", path);
    return 0;
  }
  unsigned long long h = 0;
  int ns = 0;
  line = strtok_r(NULL, "\n", &save);
  if (!line || sscanf(line, "model %llx %d", &h, &ns) != 2) {
    warn("%s: damaged calibration cache; recalibrating", path);
    return 0;
  }
  if (h != (unsigned long long)model_hash(g)) {
    warn("%s: the calibration cache was made for another model file; recalibrating", path);
    return 0;
  }
  unsigned long long sh = 0;
  line = strtok_r(NULL, "\n", &save);
  if (!line || sscanf(line, "samples %llx", &sh) != 1) {
    warn("%s: damaged calibration cache; recalibrating", path);
    return 0;
  }
  if (cfg->ncalib && sh != (unsigned long long)samples_hash(cfg)) {
    warn("%s: the calibration cache was made from other samples; recalibrating", path);
    return 0;
  }
  TStats *cur = NULL;
  while ((line = strtok_r(NULL, "\n", &save))) {
    if (line[0] == 'T' && line[1] == '\t') {
      double mn, mx, am;
      char *p = line + 2, *end;
      mn = strtod(p, &end);
      mx = strtod(end + 1, &end);
      am = strtod(end + 1, &end);
      if (*end != '\t') return 0;
      Value *v = graph_find(g, end + 1);
      cur = v && v->id < c->nvalues ? &c->t[v->id] : NULL;
      if (cur) *cur = (TStats){1, mn, mx, am, {0}};
    } else if (line[0] == 'H') {
      char *p = line + 1;
      while (*p == ' ') {
        char *end;
        long k = strtol(p + 1, &end, 10);
        if (*end != ':' || k < 0 || k >= CALIB_BINS) return 0;
        double cnt = strtod(end + 1, &end);
        if (cur) cur->hist[k] = cnt;
        p = end;
      }
    } else
      return 0;
  }
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    for (int k = 0; k < n->nout && !n->dead; k++) {
      Value *v = n->out[k];
      if (tracked(v) && v->id < c->nvalues && !c->t[v->id].valid) {
        warn("%s: the calibration cache has no statistics for tensor '%s'; recalibrating", path, v->name);
        memset(c->t, 0, sizeof(TStats) * (size_t)c->nvalues);
        return 0;
      }
    }
  }
  c->nsamples = ns;
  verbose("read the calibration cache %s (%d samples)", path, ns);
  return 1;
}

Calib *calibrate(Graph *g, const QConfig *cfg) {
  Calib *c = xalloc(sizeof *c);
  c->nvalues = g->nvalues;
  c->t = xalloc(sizeof(TStats) * (size_t)(g->nvalues + 1));
  if (cfg->calib_cache && (!cfg->ncalib || access(cfg->calib_cache, F_OK) == 0) && read_cache(g, c, cfg->calib_cache, cfg))
    return c;
  if (!cfg->ncalib)
    fatal("int8 needs calibration data: give --calib FILE.npy (one per graph input, samples along the first axis), "
          "calibration.data in the config, or an existing --calib-cache");
  int ns;
  Value **st = calib_load_samples(g, cfg->calib, cfg->ncalib, cfg->max_samples, &ns);
  Value **one = xalloc(sizeof(Value *) * (g->ninputs + 1));
  double t0 = now_sec();
  for (int pass = 0; pass < 2; pass++) {
    for (int s = 0; s < ns; s++) {
      progress(pass ? "calibrating (histograms)" : "calibrating (ranges)    ", s, ns);
      calib_sample(g, st, s, one);
      for (int k = 0; k < g->ninputs; k++) {
        g->inputs[k]->rt = one[k]->data;
        visit(c, g->inputs[k], pass);
      }
      for (int i = 0; i < g->nnodes; i++) {
        Node *n = g->nodes[i];
        if (n->dead) continue;
        interp_eval_node(n);
        for (int k = 0; k < n->nout; k++) visit(c, n->out[k], pass);
      }
      calib_free_rt(g);
    }
    progress(pass ? "calibrating (histograms)" : "calibrating (ranges)    ", ns, ns);
    if (pass == 0)
      for (int i = 0; i < c->nvalues; i++) c->t[i].amax = fmax(fabs(c->t[i].min), fabs(c->t[i].max));
  }
  c->nsamples = ns;
  verbose("calibrated on %d sample(s) in %.2f s", ns, now_sec() - t0);
  if (cfg->calib_cache) write_cache(g, c, cfg->calib_cache, cfg);
  return c;
}

/* ---------------------------------------------------------- calibrators */

static double smooth(double x, double eps, double eps1) { return x > 0 ? x - eps1 : eps; }

/* TensorRT's entropy calibration: the number of bins to keep */
static int kl_bins(const double *h0, int nlevels) {
  double *p = xalloc(sizeof(double) * CALIB_BINS), *q = xalloc(sizeof(double) * CALIB_BINS);
  double *h = xalloc(sizeof(double) * CALIB_BINS);
  /* the first bin holds every exact zero (a Relu's output is half zeros): as
   * pytorch-quantization does, count it like its neighbour, or the zero spike
   * decides the threshold */
  memcpy(h, h0, sizeof(double) * CALIB_BINS);
  h[0] = h[1];
  double total = 0, best = INFINITY;
  int best_i = CALIB_BINS;
  for (int k = 0; k < CALIB_BINS; k++) total += h[k];
  double above = total; /* counts in bins >= i */
  for (int k = 0; k < nlevels && k < CALIB_BINS; k++) above -= h[k];
  for (int i = nlevels; i <= CALIB_BINS; i++) {
    if (i > nlevels) above -= h[i - 1];
    memcpy(p, h, sizeof(double) * i);
    p[i - 1] += above;
    /* level j takes the bins k with k * nlevels / i == j: groups of i / nlevels bins
     * spread evenly (as a linspace over [0, i)), not a remainder piled on the last */
    for (int s = 0, e; s < i; s = e) {
      int j = (int)((int64_t)s * nlevels / i), nz = 0;
      double sum = 0;
      for (e = s; e < i && (int)((int64_t)e * nlevels / i) == j; e++) {
        sum += h[e];
        nz += h[e] != 0;
      }
      for (int k = s; k < e; k++) q[k] = h[k] != 0 ? sum / nz : 0;
    }
    /* smoothing (eps counts for empty bins), then KL(P || Q) on the normalized distributions */
    int pz = 0, qz = 0;
    for (int k = 0; k < i; k++) {
      pz += p[k] == 0;
      qz += q[k] == 0;
    }
    if (pz == i || qz == i) continue;
    double eps = 1e-4, pe1 = eps * pz / (i - pz), qe1 = eps * qz / (i - qz), ps = 0, qs = 0, kl = 0;
    for (int k = 0; k < i; k++) {
      p[k] = smooth(p[k], eps, pe1);
      q[k] = smooth(q[k], eps, qe1);
      ps += p[k];
      qs += q[k];
    }
    for (int k = 0; k < i; k++)
      if (p[k] > 0 && q[k] > 0) kl += p[k] / ps * log((p[k] / ps) / (q[k] / qs));
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  free(p);
  free(q);
  free(h);
  return best_i;
}

/* the threshold minimizing clipping + rounding squared error */
static int mse_bins(const double *h, int nlevels) {
  double w = 1.0 / CALIB_BINS; /* in units of amax */
  double sh[CALIB_BINS + 1], shc[CALIB_BINS + 1], shc2[CALIB_BINS + 1];
  sh[CALIB_BINS] = shc[CALIB_BINS] = shc2[CALIB_BINS] = 0;
  for (int k = CALIB_BINS - 1; k >= 0; k--) {
    double c = (k + 0.5) * w;
    sh[k] = sh[k + 1] + h[k];
    shc[k] = shc[k + 1] + h[k] * c;
    shc2[k] = shc2[k + 1] + h[k] * c * c;
  }
  double best = INFINITY;
  int best_i = CALIB_BINS;
  for (int i = nlevels / 4 > 0 ? nlevels / 4 : 1; i <= CALIB_BINS; i++) {
    double T = i * w, step = T / (nlevels - 1);
    double clip = shc2[i] - 2 * T * shc[i] + T * T * sh[i];
    double err = (sh[0] - sh[i]) * step * step / 12 + clip;
    if (err < best) {
      best = err;
      best_i = i;
    }
  }
  return best_i;
}

void calib_range(const TStats *t, int calibrator, double percentile, int nlevels, double *lo, double *hi) {
  double mn = t->valid ? t->min : 0, mx = t->valid ? t->max : 0;
  if (mn > 0) mn = 0;
  if (mx < 0) mx = 0;
  *lo = mn;
  *hi = mx;
  if (calibrator == CALIB_MAX || !t->valid || !(t->amax > 0)) return;
  double w = t->amax / CALIB_BINS, T = t->amax;
  if (calibrator == CALIB_PERCENTILE) {
    double total = 0, cum = 0;
    for (int k = 0; k < CALIB_BINS; k++) total += t->hist[k];
    double target = total * (percentile > 0 ? percentile : 99.99) / 100.0;
    for (int k = 0; k < CALIB_BINS; k++) {
      cum += t->hist[k];
      if (cum >= target) {
        T = (k + 1) * w;
        break;
      }
    }
  } else if (calibrator == CALIB_ENTROPY)
    T = kl_bins(t->hist, nlevels) * w;
  else if (calibrator == CALIB_MSE)
    T = mse_bins(t->hist, nlevels) * w;
  if (*lo < -T) *lo = -T;
  if (*hi > T) *hi = T;
}
