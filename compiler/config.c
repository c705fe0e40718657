/*
 * config.c: the precision / quantization config (--config FILE.json); the
 * only file that sees cJSON.
 *
 * Two spellings are read.  mrtc's own (../shared/DESIGN.md):
 *
 *   { "default":  { "precision": "int8" },
 *     "by_type":  { "Softmax": { "precision": "fp32" } },
 *     "by_name":  { "conv1": { "precision": "fp16", "calibrator": "max" } },
 *     "weights":     { "per_channel": true, "symmetric": true },
 *     "activations": { "calibrator": "entropy", "percentile": 99.99, "symmetric": false },
 *     "calibration": { "data": ["calib/input.npy"], "max_samples": 500, "cache": "c.cache" },
 *     "max_accuracy_drop": 0.005, "min_sqnr": 30 }
 *
 * and the layer-wise configs of the MASE quantize / TensorRT passes
 * (optionally wrapped in {"passes": {"<pass>": {...}}}):
 *
 *   { "by": "type",                                   or "name"
 *     "default": { "config": { "name": "integer" } },
 *     "conv2d":  { "config": { "name": "fp16" },
 *                  "input":  { "precision": 8, "calibrator": "entropy", "quantize_axis": false },
 *                  "weight": { "precision": 8, "quantize_axis": 0 } } }
 *
 * where "name" (or "precision") is int / integer / int8 / fp16 / float16 /
 * fp32 / float32 / auto, "quantize": false or "bypass": true mean fp32, and
 * MASE's PyTorch type names (conv2d, linear, relu, ...) map to ONNX ops.
 * Rule precedence (by_name > by_type > default) is applied in quantize.c,
 * which also rejects names that match no node.  Unknown keys, wrong types
 * and values mrtc does not implement are errors that name the key path.
 * Relative data paths are taken from the working directory, else from the
 * config file's directory.
 */
#include "mrtc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_path; /* for messages */

NORETURN static void cfg_error(const char *where, const char *f, ...) FMT(2, 3);
static void cfg_error(const char *where, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  Buf b = {0};
  buf_vprintf(&b, f, ap);
  va_end(ap);
  fatal("%s: '%s': %s", g_path ? g_path : "--config", where, b.s);
}

const char *prec_name(int prec) {
  switch (prec) {
  case PREC_FP16: return "fp16";
  case PREC_INT8: return "int8";
  case PREC_AUTO: return "auto";
  default: return "fp32";
  }
}

const char *calib_name(int c) {
  switch (c) {
  case CALIB_PERCENTILE: return "percentile";
  case CALIB_ENTROPY: return "entropy";
  case CALIB_MSE: return "mse";
  default: return "max";
  }
}

static int parse_prec(const char *where, const char *s) {
  if (!strcmp(s, "fp32") || !strcmp(s, "float32") || !strcmp(s, "float")) return PREC_FP32;
  if (!strcmp(s, "fp16") || !strcmp(s, "float16") || !strcmp(s, "half")) return PREC_FP16;
  if (!strcmp(s, "int8") || !strcmp(s, "int") || !strcmp(s, "integer")) return PREC_INT8;
  if (!strcmp(s, "auto")) return PREC_AUTO;
  cfg_error(where, "unknown precision '%s' (fp32, fp16, int8 or auto)", s);
}

static int parse_calib(const char *where, const char *s) {
  if (!strcmp(s, "max") || !strcmp(s, "minmax")) return CALIB_MAX;
  if (!strcmp(s, "percentile")) return CALIB_PERCENTILE;
  if (!strcmp(s, "entropy") || !strcmp(s, "kl") || !strcmp(s, "histogram")) return CALIB_ENTROPY;
  if (!strcmp(s, "mse")) return CALIB_MSE;
  cfg_error(where, "unknown calibrator '%s' (max, percentile, entropy or mse)", s);
}

static char *path_of(const char *parent, const char *key) { return parent[0] ? fmt("%s.%s", parent, key) : xstrdup(key); }

static const char *need_string(const cJSON *j, const char *where) {
  if (!cJSON_IsString(j)) cfg_error(where, "must be a string");
  return j->valuestring;
}

static double need_number(const cJSON *j, const char *where) {
  if (!cJSON_IsNumber(j)) cfg_error(where, "must be a number");
  return j->valuedouble;
}

static int need_bool(const cJSON *j, const char *where) {
  if (!cJSON_IsBool(j)) cfg_error(where, "must be true or false");
  return cJSON_IsTrue(j);
}

static void need_object(const cJSON *j, const char *where) {
  if (!cJSON_IsObject(j)) cfg_error(where, "must be an object");
}

static double need_percentile(const cJSON *j, const char *where) {
  double p = need_number(j, where);
  if (!(p > 50 && p <= 100)) cfg_error(where, "percentile %g must be in (50, 100]", p);
  return p;
}

static void need_bits8(const cJSON *j, const char *where) {
  double b = need_number(j, where);
  if (b != 8) cfg_error(where, "%g-bit integers are not supported (8 is)", b);
}

/* quantize_axis: false / null = per tensor; true / 0 = per output channel */
static int parse_axis(const cJSON *j, const char *where, int weights) {
  if (cJSON_IsNull(j) || cJSON_IsFalse(j)) return 0;
  if ((cJSON_IsTrue(j) || (cJSON_IsNumber(j) && j->valuedouble == 0)) && weights) return 1;
  if (!weights) cfg_error(where, "activations are quantized per tensor only (use false)");
  cfg_error(where, "weights are quantized per tensor (false) or per output channel (0 or true)");
}

static QRule rule_unset(void) { return (QRule){-1, -1, 0, -1}; }

/* mrtc spelling: {"precision", "calibrator", "percentile", "per_channel"} */
static QRule parse_rule(const cJSON *o, const char *where, QConfig *c) {
  QRule r = rule_unset();
  need_object(o, where);
  for (const cJSON *k = o->child; k; k = k->next) {
    char *w = path_of(where, k->string);
    if (!strcmp(k->string, "precision")) r.precision = parse_prec(w, need_string(k, w));
    else if (!strcmp(k->string, "calibrator")) r.calibrator = parse_calib(w, need_string(k, w));
    else if (!strcmp(k->string, "percentile")) r.percentile = need_percentile(k, w);
    else if (!strcmp(k->string, "per_channel")) r.weight_per_channel = need_bool(k, w);
    else if (c && !strcmp(k->string, "max_accuracy_drop")) c->max_accuracy_drop = need_number(k, w);
    else if (c && !strcmp(k->string, "min_sqnr")) c->min_sqnr = need_number(k, w);
    else cfg_error(w, "unknown key (precision, calibrator, percentile, per_channel%s)",
                   c ? ", max_accuracy_drop, min_sqnr" : "");
  }
  return r;
}

/* MASE / TensorRT layer entry: {"config": {...}, "input": {...}, "weight": {...}} */
static QRule parse_mase_rule(const cJSON *o, const char *where, QConfig *c) {
  QRule r = rule_unset();
  need_object(o, where);
  for (const cJSON *k = o->child; k; k = k->next) {
    char *w = path_of(where, k->string);
    if (!strcmp(k->string, "config")) {
      need_object(k, w);
      for (const cJSON *f = k->child; f; f = f->next) {
        char *fw = path_of(w, f->string);
        const char *key = f->string;
        if (!strcmp(key, "name") || !strcmp(key, "precision")) r.precision = parse_prec(fw, need_string(f, fw));
        else if (!strcmp(key, "quantize")) {
          if (!need_bool(f, fw)) r.precision = PREC_FP32;
          else if (r.precision < 0) r.precision = PREC_INT8;
        } else if (!strcmp(key, "bypass")) {
          if (need_bool(f, fw)) r.precision = PREC_FP32;
        } else if (!strcmp(key, "data_in_width") || !strcmp(key, "weight_width")) need_bits8(f, fw);
        else if (!strcmp(key, "bias_width")) {
          double b = need_number(f, fw);
          if (b != 8 && b != 32) cfg_error(fw, "bias is int32 (8 or 32 accepted)");
        } else if (!strcmp(key, "data_in_frac_width") || !strcmp(key, "weight_frac_width") || !strcmp(key, "bias_frac_width")) {
          need_number(f, fw);
          warn("%s: '%s': mrtc picks scales by calibration, not by a fixed fractional width", g_path, fw);
        } else if (!strcmp(key, "calibrator")) r.calibrator = parse_calib(fw, need_string(f, fw));
        else if (!strcmp(key, "percentile")) r.percentile = need_percentile(f, fw);
        else if (c && !strcmp(key, "max_accuracy_drop")) c->max_accuracy_drop = need_number(f, fw);
        else if (c && !strcmp(key, "min_sqnr")) c->min_sqnr = need_number(f, fw);
        else
          cfg_error(fw, "unknown key (name, precision, quantize, bypass, data_in_width, weight_width, bias_width, "
                        "*_frac_width, calibrator, percentile%s)",
                    c ? ", max_accuracy_drop, min_sqnr" : "");
      }
    } else if (!strcmp(k->string, "input") || !strcmp(k->string, "weight")) {
      int weights = k->string[0] == 'w';
      need_object(k, w);
      for (const cJSON *f = k->child; f; f = f->next) {
        char *fw = path_of(w, f->string);
        if (!strcmp(f->string, "precision") || !strcmp(f->string, "width")) need_bits8(f, fw);
        else if (!strcmp(f->string, "calibrator")) {
          int cal = parse_calib(fw, need_string(f, fw));
          if (!weights) r.calibrator = cal;
          else if (cal != CALIB_MAX && strcmp(f->valuestring, "histogram"))
            cfg_error(fw, "weights are calibrated by their maximum (max)");
        } else if (!strcmp(f->string, "quantize_axis")) {
          int pc = parse_axis(f, fw, weights);
          if (weights) r.weight_per_channel = pc;
        } else if (!strcmp(f->string, "percentile") && !weights) r.percentile = need_percentile(f, fw);
        else cfg_error(fw, "unknown key (precision, calibrator, quantize_axis%s)", weights ? "" : ", percentile");
      }
    } else
      cfg_error(w, "unknown key (config, input, weight)");
  }
  return r;
}

static void add_named(QNamed **arr, int *n, const char *key, const char *where, QRule r) {
  *arr = xrealloc(*arr, sizeof(QNamed) * (*n + 1));
  (*arr)[(*n)++] = (QNamed){xstrdup(key), xstrdup(where), r};
}

/* MASE / PyTorch module type names -> ONNX op types */
static const struct {
  const char *mase, *onnx;
} type_map[] = {
    {"conv1d", "Conv"}, {"conv2d", "Conv"}, {"conv", "Conv"}, {"linear", "Gemm"}, {"linear", "MatMul"},
    {"matmul", "MatMul"}, {"bmm", "MatMul"}, {"relu", "Relu"}, {"relu6", "Clip"}, {"add", "Add"}, {"sub", "Sub"},
    {"mul", "Mul"}, {"max_pool2d", "MaxPool"}, {"maxpool2d", "MaxPool"}, {"avg_pool2d", "AveragePool"},
    {"avgpool2d", "AveragePool"}, {"adaptive_avg_pool2d", "GlobalAveragePool"}, {"adaptiveavgpool2d", "GlobalAveragePool"},
    {"softmax", "Softmax"}, {"batch_norm2d", "BatchNormalization"}, {"batchnorm2d", "BatchNormalization"},
    {"layer_norm", "LayerNormalization"}, {"layernorm", "LayerNormalization"}, {"gelu", "Gelu"}, {"sigmoid", "Sigmoid"},
    {"tanh", "Tanh"}, {"hardswish", "HardSwish"}, {"hardsigmoid", "HardSigmoid"}, {"leaky_relu", "LeakyRelu"},
    {"flatten", "Flatten"}, {"cat", "Concat"}, {"concat", "Concat"}, {"view", "Reshape"}, {"reshape", "Reshape"},
};

static void add_type(QConfig *c, const char *key, const char *where, QRule r) {
  int hit = 0;
  for (size_t i = 0; i < sizeof type_map / sizeof *type_map; i++)
    if (!strcmp(type_map[i].mase, key)) {
      add_named(&c->by_type, &c->ntype, type_map[i].onnx, where, r);
      hit = 1;
    }
  if (hit) return;
  int op = -1;
  for (int i = 0; i < OP_COUNT; i++)
    if (!strcmp(op_names[i], key) && strncmp(key, "Mrtc", 4)) op = i;
  if (op < 0) cfg_error(where, "no operator type '%s' (ONNX names such as Conv, or MASE names such as conv2d)", key);
  add_named(&c->by_type, &c->ntype, key, where, r);
}

static void add_calib_path(QConfig *c, const char *dir, const char *p) {
  char *path = xstrdup(p);
  if (p[0] != '/' && access(p, F_OK) != 0 && dir) path = fmt("%s/%s", dir, p);
  c->calib = xrealloc(c->calib, sizeof(char *) * (c->ncalib + 1));
  c->calib[c->ncalib++] = path;
}

static void parse_mase(QConfig *c, const cJSON *root, const char *where0) {
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(root, "by");
  char *bw = path_of(where0, "by");
  const char *bys = need_string(by, bw);
  int by_name = !strcmp(bys, "name");
  if (!by_name && strcmp(bys, "type")) cfg_error(bw, "must be \"name\" or \"type\"");
  for (const cJSON *k = root->child; k; k = k->next) {
    char *w = path_of(where0, k->string);
    if (!strcmp(k->string, "by")) continue;
    QRule r = parse_mase_rule(k, w, !strcmp(k->string, "default") ? c : NULL);
    if (!strcmp(k->string, "default")) c->def = r;
    else if (by_name) add_named(&c->by_name, &c->nname, k->string, w, r);
    else add_type(c, k->string, w, r);
  }
}

QConfig *config_load(const char *path) {
  QConfig *c = xalloc(sizeof *c);
  c->def = rule_unset();
  c->w_per_channel = 1;
  c->w_symmetric = 1;
  c->a_calibrator = -1;
  c->a_percentile = 99.99;
  c->max_accuracy_drop = c->min_sqnr = -1;
  if (!path) return c;
  g_path = path;
  c->path = path;
  size_t len;
  char *text = read_file(path, &len);
  if (!text) fatal("%s: cannot read the config file", path);
  cJSON *root = cJSON_ParseWithLength(text, len);
  if (!root) {
    const char *at = cJSON_GetErrorPtr();
    int line = 1;
    for (const char *p = text; at && p < at && *p; p++) line += *p == '\n';
    fatal("%s:%d: not valid JSON", path, line);
  }
  if (!cJSON_IsObject(root)) fatal("%s: the config must be a JSON object", path);
  char *dir = xstrdup(path), *sl = strrchr(dir, '/');
  if (sl) *sl = 0;
  else dir = NULL;
  const cJSON *passes = cJSON_GetObjectItemCaseSensitive(root, "passes");
  if (passes) {
    need_object(passes, "passes");
    if (!passes->child || passes->child->next || root->child->next)
      cfg_error("passes", "expected one pass: {\"passes\": {\"quantize\": {...}}}");
    char *w = fmt("passes.%s", passes->child->string);
    need_object(passes->child, w);
    parse_mase(c, passes->child, w);
    return c;
  }
  if (cJSON_GetObjectItemCaseSensitive(root, "by")) {
    parse_mase(c, root, "");
    return c;
  }
  for (const cJSON *k = root->child; k; k = k->next) {
    const char *key = k->string;
    if (!strcmp(key, "default")) c->def = parse_rule(k, key, c);
    else if (!strcmp(key, "precision")) c->def.precision = parse_prec(key, need_string(k, key));
    else if (!strcmp(key, "by_type") || !strcmp(key, "by_name")) {
      need_object(k, key);
      for (const cJSON *e = k->child; e; e = e->next) {
        char *w = path_of(key, e->string);
        QRule r = parse_rule(e, w, NULL);
        if (key[3] == 't') add_type(c, e->string, w, r);
        else add_named(&c->by_name, &c->nname, e->string, w, r);
      }
    } else if (!strcmp(key, "weights")) {
      need_object(k, key);
      for (const cJSON *f = k->child; f; f = f->next) {
        char *w = path_of(key, f->string);
        if (!strcmp(f->string, "per_channel")) c->w_per_channel = need_bool(f, w);
        else if (!strcmp(f->string, "symmetric")) {
          if (!need_bool(f, w)) cfg_error(w, "weights are symmetric (asymmetric weights are not implemented)");
        } else if (!strcmp(f->string, "bits") || !strcmp(f->string, "precision")) need_bits8(f, w);
        else cfg_error(w, "unknown key (per_channel, symmetric, bits)");
      }
    } else if (!strcmp(key, "activations")) {
      need_object(k, key);
      for (const cJSON *f = k->child; f; f = f->next) {
        char *w = path_of(key, f->string);
        if (!strcmp(f->string, "calibrator")) c->a_calibrator = parse_calib(w, need_string(f, w));
        else if (!strcmp(f->string, "percentile")) c->a_percentile = need_percentile(f, w);
        else if (!strcmp(f->string, "symmetric")) c->a_symmetric = need_bool(f, w);
        else if (!strcmp(f->string, "bits") || !strcmp(f->string, "precision")) need_bits8(f, w);
        else if (!strcmp(f->string, "per_channel")) {
          if (need_bool(f, w)) cfg_error(w, "activations are quantized per tensor only");
        } else cfg_error(w, "unknown key (calibrator, percentile, symmetric, per_channel, bits)");
      }
    } else if (!strcmp(key, "calibration")) {
      need_object(k, key);
      for (const cJSON *f = k->child; f; f = f->next) {
        char *w = path_of(key, f->string);
        if (!strcmp(f->string, "data")) {
          if (cJSON_IsString(f)) add_calib_path(c, dir, f->valuestring);
          else if (cJSON_IsArray(f)) {
            int i = 0;
            for (const cJSON *e = f->child; e; e = e->next, i++) add_calib_path(c, dir, need_string(e, fmt("%s[%d]", w, i)));
          } else
            cfg_error(w, "must be a file name or a list of them (one per graph input)");
        } else if (!strcmp(f->string, "max_samples")) {
          double m = need_number(f, w);
          if (m < 1 || m != (int)m) cfg_error(w, "must be a positive integer");
          c->max_samples = (int)m;
        } else if (!strcmp(f->string, "cache")) {
          const char *s = need_string(f, w);
          c->calib_cache = s[0] != '/' && dir ? fmt("%s/%s", dir, s) : xstrdup(s);
        } else if (!strcmp(f->string, "labels")) {
          const char *s = need_string(f, w);
          c->auto_labels = s[0] != '/' && access(s, F_OK) != 0 && dir ? fmt("%s/%s", dir, s) : xstrdup(s);
        } else
          cfg_error(w, "unknown key (data, max_samples, cache, labels)");
      }
    } else if (!strcmp(key, "max_accuracy_drop")) c->max_accuracy_drop = need_number(k, key);
    else if (!strcmp(key, "min_sqnr")) c->min_sqnr = need_number(k, key);
    else
      cfg_error(key, "unknown key (default, by_type, by_name, weights, activations, calibration, max_accuracy_drop, "
                     "min_sqnr; or \"by\" for a MASE-style config)");
  }
  cJSON_Delete(root);
  return c;
}

void config_apply_options(QConfig *c, const char *precision, char **calib, int ncalib, const char *cache) {
  if (precision) {
    if (!strcmp(precision, "fp32")) c->def.precision = PREC_FP32;
    else if (!strcmp(precision, "fp16")) c->def.precision = PREC_FP16;
    else if (!strcmp(precision, "int8")) c->def.precision = PREC_INT8;
    else if (!strcmp(precision, "auto")) c->def.precision = PREC_AUTO;
    else fatal("--precision '%s': expected fp32, fp16, int8 or auto", precision);
  }
  if (ncalib) {
    c->calib = calib;
    c->ncalib = ncalib;
  }
  if (cache) c->calib_cache = cache;
}
