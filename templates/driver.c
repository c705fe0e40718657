/*
 * mrtc standalone driver (templates/driver.c), compiled beside model.c when
 * mrtc writes an executable.  It is the only generated code that uses
 * stdio.  The glue above this text defines MRTC_NIN/MRTC_NOUT, the shape
 * tables and mrtc_invoke().
 *
 *   prog [IN.npy|IN.pb ...] [-o DIR] [--bench N]
 *
 * Inputs come in graph-input order, as .npy or serialized onnx.TensorProto.
 * An .npy whose leading axis is K times the model's runs K inferences and
 * stacks the outputs.  Without inputs it runs on a fixed pseudo-random
 * input.  Output K goes to DIR/output_K.npy (with --bench, only when -o
 * is given).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *prog_name = "prog";

static void die(const char *what, const char *msg) {
  fprintf(stderr, "%s: error: %s: %s\n", prog_name, what, msg);
  exit(1);
}

static int dt_size(int dt) {
  switch (dt) {
  case 1: case 6: case 12: return 4;
  case 2: case 3: case 9: return 1;
  case 17: case 18: case 19: case 20: case 21: case 22: case 23: case 24: case 25: case 26: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 7: case 11: case 13: return 8;
  default: return 0;
  }
}

static const char *dt_descr(int dt) {
  switch (dt) {
  case 1: return "<f4"; case 2: return "|u1"; case 3: return "|i1"; case 4: return "<u2";
  case 5: return "<i2"; case 6: return "<i4"; case 7: return "<i8"; case 9: return "|b1";
  case 10: return "<f2"; case 11: return "<f8"; case 12: return "<u4"; case 13: return "<u8";
  case 16: return "<u2";
  /* the narrow types, unpacked one element per byte: int4 and int2 as int8,
   * the others (float8 / float4 bit patterns, uint4, uint2) as uint8 */
  case 22: case 26: return "|i1";
  case 17: case 18: case 19: case 20: case 21: case 23: case 24: case 25: return "|u1";
  default: return "|V1";
  }
}

/* bits per element of the types ONNX packs (uint4, int4, float4e2m1: two
 * to a byte; uint2, int2: four), first element in the low bits; 0 others */
static int dt_packed_bits(int dt) {
  switch (dt) {
  case 21: case 22: case 23: return 4;
  case 25: case 26: return 2;
  default: return 0;
  }
}

/* whether byte x is a valid unpacked element of narrow type dt */
static int dt_narrow_ok(int dt, unsigned char x) {
  signed char c = (signed char)x;
  switch (dt) {
  case 21: case 23: return x < 16;
  case 22: return c >= -8 && c <= 7;
  case 25: return x < 4;
  case 26: return c >= -2 && c <= 1;
  default: return 1;
  }
}

typedef struct {
  int dtype, rank;
  long long dims[8];
  unsigned char *data;
  size_t bytes;
} Tensor;

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path, "cannot open file");
  size_t cap = 1 << 16, n = 0;
  unsigned char *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) b = realloc(b, cap *= 2);
  }
  fclose(f);
  if (!b) die(path, "out of memory");
  *len = n;
  return b;
}

static void read_npy(const char *path, unsigned char *b, size_t len, Tensor *t) {
  size_t hl, ho;
  const char *d, *s;
  char descr[8] = {0};
  int i;
  if (len < 10 || memcmp(b, "\x93NUMPY", 6)) die(path, "not a .npy file");
  if (b[6] == 1) { hl = b[8] | (size_t)b[9] << 8; ho = 10; }
  else { if (len < 12) die(path, "truncated .npy"); hl = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16; ho = 12; }
  if (ho + hl > len) die(path, "truncated .npy header");
  {
    char *h = calloc(hl + 1, 1);
    memcpy(h, b + ho, hl);
    d = strstr(h, "'descr'");
    s = strstr(h, "'shape'");
    if (!d || !s || !strchr(d + 7, '\'') || !strchr(s, '(')) die(path, "malformed .npy header");
    d = strchr(d + 7, '\'') + 1;
    for (i = 0; i < 7 && d[i] && d[i] != '\''; i++) descr[i] = d[i];
    if (descr[0] == '=') descr[0] = '<';
    if (strstr(h, "'fortran_order': True")) die(path, "Fortran-order .npy is not supported");
    t->dtype = 0;
    for (i = 1; i <= 16; i++)
      if (dt_size(i) && !strcmp(dt_descr(i), descr) && i != 16) { t->dtype = i; break; }
    if (!t->dtype) die(path, "unsupported .npy dtype");
    s = strchr(s, '(') + 1;
    t->rank = 0;
    for (;;) {
      char *end;
      while (*s == ' ' || *s == ',') s++;
      if (*s == ')') break;
      if (t->rank == 8) die(path, "rank too large");
      t->dims[t->rank++] = strtoll(s, &end, 10);
      if (end == s) die(path, "malformed .npy shape");
      s = end;
    }
    free(h);
  }
  t->bytes = (size_t)dt_size(t->dtype);
  for (i = 0; i < t->rank; i++) t->bytes *= (size_t)t->dims[i];
  if (len - ho - hl != t->bytes) die(path, "data size does not match the .npy shape");
  t->data = malloc(t->bytes + 1);
  memcpy(t->data, b + ho + hl, t->bytes);
}

/* minimal protobuf wire reader for onnx.TensorProto */
static unsigned long long varint(const char *path, const unsigned char **p, const unsigned char *end) {
  unsigned long long v = 0;
  int sh = 0;
  while (*p < end) {
    unsigned char c = *(*p)++;
    v |= (unsigned long long)(c & 127) << sh;
    if (!(c & 128)) return v;
    sh += 7;
    if (sh > 63) break;
  }
  die(path, "malformed TensorProto");
  return 0;
}

static void read_pb(const char *path, const unsigned char *p, size_t len, Tensor *t) {
  const unsigned char *end = p + len;
  const unsigned char *raw = NULL;
  size_t rawlen = 0, nvals = 0, cap = 0;
  double *vals = NULL;
  long long *ivals = NULL;
  int is_int = 0, i;
  t->rank = 0;
  t->dtype = 1;
  while (p < end) {
    unsigned long long key = varint(path, &p, end);
    int field = (int)(key >> 3), wt = (int)(key & 7);
    const unsigned char *q, *qe;
    if (wt == 2) {
      unsigned long long l = varint(path, &p, end);
      if (l > (unsigned long long)(end - p)) die(path, "malformed TensorProto");
      q = p; qe = p + l; p = qe;
    } else if (wt == 0) {
      q = p; varint(path, &p, end); qe = p;
    } else if (wt == 5) {
      if (end - p < 4) die(path, "malformed TensorProto");
      q = p; p += 4; qe = p;
    } else if (wt == 1) {
      if (end - p < 8) die(path, "malformed TensorProto");
      q = p; p += 8; qe = p;
    } else die(path, "malformed TensorProto");
    if (field == 1) {
      while (q < qe) {
        if (t->rank == 8) die(path, "rank too large");
        t->dims[t->rank++] = (long long)varint(path, &q, qe);
      }
    } else if (field == 2) {
      t->dtype = (int)varint(path, &q, qe);
    } else if (field == 9) {
      raw = q; rawlen = (size_t)(qe - q);
    } else if (field == 4 || field == 5 || field == 7 || field == 10 || field == 11) {
      while (q < qe) {
        if (nvals == cap) {
          cap = cap ? cap * 2 : 64;
          vals = realloc(vals, cap * sizeof *vals);
          ivals = realloc(ivals, cap * sizeof *ivals);
        }
        if (field == 4) { float f; memcpy(&f, q, 4); q += 4; vals[nvals] = f; ivals[nvals] = 0; }
        else if (field == 10) { double f; memcpy(&f, q, 8); q += 8; vals[nvals] = f; ivals[nvals] = 0; }
        else { ivals[nvals] = (long long)varint(path, &q, qe); vals[nvals] = 0; is_int = 1; }
        nvals++;
      }
    }
  }
  if (!dt_size(t->dtype)) die(path, "unsupported tensor data type");
  t->bytes = (size_t)dt_size(t->dtype);
  for (i = 0; i < t->rank; i++) t->bytes *= (size_t)t->dims[i];
  t->data = calloc(t->bytes + 1, 1);
  if (dt_packed_bits(t->dtype)) {
    /* packed in raw_data, or one byte per int32_data entry: unpack to one element per byte */
    int bits = dt_packed_bits(t->dtype), per = 8 / bits, sgn = t->dtype == 22 || t->dtype == 26;
    unsigned mask = (1u << bits) - 1u;
    size_t n = t->bytes, pbytes = (n * (size_t)bits + 7) / 8, k;
    if (raw ? rawlen != pbytes : nvals != pbytes) die(path, "packed data size does not match the shape");
    for (k = 0; k < n; k++) {
      unsigned byte = raw ? raw[k / (size_t)per] : (unsigned)(ivals[k / (size_t)per] & 255);
      unsigned x = (byte >> ((k % (size_t)per) * (size_t)bits)) & mask;
      if (sgn && (x & (1u << (bits - 1)))) x |= ~mask;
      t->data[k] = (unsigned char)x;
    }
  } else if (raw) {
    if (rawlen != t->bytes) die(path, "raw_data size does not match the shape");
    memcpy(t->data, raw, rawlen);
  } else {
    size_t n = t->bytes / (size_t)dt_size(t->dtype), k;
    if (nvals != n) die(path, "element count does not match the shape");
    for (k = 0; k < n; k++) {
      unsigned char *o = t->data + k * (size_t)dt_size(t->dtype);
      long long iv = is_int ? ivals[k] : (long long)vals[k];
      switch (t->dtype) {
      case 1: { float f = (float)vals[k]; memcpy(o, &f, 4); break; }
      case 11: { double f = vals[k]; memcpy(o, &f, 8); break; }
      case 2: case 3: case 9: *o = (unsigned char)iv; break;
      case 17: case 18: case 19: case 20: case 24: *o = (unsigned char)iv; break; /* float8 bits */
      case 4: case 5: case 10: case 16: { unsigned short s = (unsigned short)iv; memcpy(o, &s, 2); break; }
      case 6: case 12: { int s = (int)iv; memcpy(o, &s, 4); break; }
      default: memcpy(o, &iv, 8); break;
      }
    }
  }
  free(vals);
  free(ivals);
}

static void write_npy(const char *path, int dtype, int rank, const long long *dims, long long lead, const void *data,
                      size_t bytes) {
  char h[512];
  int n, i;
  FILE *f;
  n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", dt_descr(dtype));
  for (i = 0; i < rank; i++)
    n += snprintf(h + n, sizeof h - n, "%lld%s", i == 0 ? lead : dims[i], rank == 1 ? "," : i + 1 < rank ? ", " : "");
  n += snprintf(h + n, sizeof h - n, "), }");
  while ((10 + n + 1) % 64) h[n++] = ' ';
  h[n++] = '\n';
  f = fopen(path, "wb");
  if (!f) die(path, "cannot write output file");
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(n & 255, f);
  fputc(n >> 8, f);
  fwrite(h, 1, (size_t)n, f);
  if (fwrite(data, 1, bytes, f) != bytes || fclose(f)) die(path, "write failed");
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *files[64];
  int nfiles = 0, bench = 0, i, k;
  const char *dir = ".";
  int dir_given = 0;
  long long reps = 1;
  void *in[MRTC_NIN + 1], *out[MRTC_NOUT + 1];
  Tensor tin[MRTC_NIN + 1];
  prog_name = argv[0];
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-o") && i + 1 < argc) dir = argv[++i], dir_given = 1;
    else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("usage: %s [INPUT.npy|INPUT.pb ...] [-o DIR] [--bench N]\n", argv[0]);
      for (k = 0; k < MRTC_NIN; k++) printf("  input %d: %s\n", k, mrtc_in_names[k]);
      for (k = 0; k < MRTC_NOUT; k++) printf("  output %d: %s -> DIR/output_%d.npy\n", k, mrtc_out_names[k], k);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1]) die(argv[i], "unknown option");
    else if (nfiles < 64) files[nfiles++] = argv[i];
  }
  if (nfiles && nfiles != MRTC_NIN) {
    fprintf(stderr, "%s: error: the model takes %d inputs, %d given\n", prog_name, MRTC_NIN, nfiles);
    exit(1); /* not return: keeps buffers reachable for leak checkers */
  }
  for (k = 0; k < MRTC_NIN; k++) {
    Tensor *t = &tin[k];
    size_t want = (size_t)dt_size(mrtc_in_dtype[k]) * (size_t)mrtc_in_size[k];
    if (nfiles) {
      size_t len, n = strlen(files[k]);
      unsigned char *b = slurp(files[k], &len);
      if (n > 3 && !strcmp(files[k] + n - 3, ".pb")) read_pb(files[k], b, len, t);
      else read_npy(files[k], b, len, t);
      free(b);
      /* .npy has no narrow types: they come as int8 (int4, int2) or uint8, one element per byte */
      if (mrtc_in_dtype[k] >= 17 && mrtc_in_dtype[k] <= 26 && t->dtype == (strcmp(dt_descr(mrtc_in_dtype[k]), "|i1") ? 2 : 3)) {
        size_t j;
        for (j = 0; j < t->bytes; j++)
          if (!dt_narrow_ok(mrtc_in_dtype[k], t->data[j])) die(files[k], "a value is out of the range of the input's type");
        t->dtype = mrtc_in_dtype[k];
      }
      if (t->dtype != mrtc_in_dtype[k] && !(t->dtype == 4 && mrtc_in_dtype[k] == 16)) {
        fprintf(stderr, "%s: error: %s: element type %d, the model's input %d ('%s') wants %d\n", prog_name, files[k],
                t->dtype, k, mrtc_in_names[k], mrtc_in_dtype[k]);
        exit(1); /* not return: keeps buffers reachable for leak checkers */
      }
      {
        long long r = 1;
        if (t->bytes == want) {
          /* same element count: fine whatever the dims' spelling */
        } else if (want && t->bytes % want == 0 && mrtc_in_rank[k] > 0 && t->rank == mrtc_in_rank[k]) {
          int d;
          r = (long long)(t->bytes / want);
          for (d = 1; d < t->rank; d++)
            if (t->dims[d] != mrtc_in_dims[k][d]) break;
          if (d < t->rank || t->dims[0] != r * mrtc_in_dims[k][0]) r = 0;
        } else
          r = 0;
        if (!r) {
          fprintf(stderr, "%s: error: %s: shape does not match the model's input %d ('%s')\n", prog_name, files[k], k,
                  mrtc_in_names[k]);
          exit(1); /* not return: keeps buffers reachable for leak checkers */
        }
        if (k > 0 && r != reps) die(files[k], "inputs hold different numbers of samples");
        reps = r;
      }
    } else {
      unsigned int s = 12345u + (unsigned)k;
      size_t j, n = (size_t)mrtc_in_size[k];
      t->dtype = mrtc_in_dtype[k];
      t->bytes = want;
      t->data = calloc(want + 1, 1);
      for (j = 0; j < n; j++) {
        s = s * 1103515245u + 12345u;
        if (t->dtype == 1) ((float *)t->data)[j] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
        else if (t->dtype == 11) ((double *)t->data)[j] = (double)((s >> 8) & 0xffff) / 32768.0 - 1.0;
        else if (dt_size(t->dtype) == 1) t->data[j] = (unsigned char)((s >> 16) & 1);
      }
    }
  }
  {
    unsigned char *outbuf[MRTC_NOUT + 1];
    size_t obytes[MRTC_NOUT + 1];
    long long r;
    for (k = 0; k < MRTC_NOUT; k++) {
      obytes[k] = (size_t)dt_size(mrtc_out_dtype[k]) * (size_t)mrtc_out_size[k];
      outbuf[k] = calloc(obytes[k] * (size_t)reps + 1, 1);
    }
    for (r = 0; r < reps; r++) {
      for (k = 0; k < MRTC_NIN; k++) in[k] = tin[k].data + (size_t)r * (tin[k].bytes / (size_t)reps);
      for (k = 0; k < MRTC_NOUT; k++) out[k] = outbuf[k] + (size_t)r * obytes[k];
      if (mrtc_invoke(in, out)) die("model", "run failed");
    }
    if (bench > 0) {
      double *t = malloc(sizeof(double) * (size_t)bench), med;
      for (k = 0; k < MRTC_NIN; k++) in[k] = tin[k].data;
      for (k = 0; k < MRTC_NOUT; k++) out[k] = outbuf[k];
      mrtc_invoke(in, out);
      for (i = 0; i < bench; i++) {
        double t0 = now_ms();
        mrtc_invoke(in, out);
        t[i] = now_ms() - t0;
      }
      qsort(t, (size_t)bench, sizeof *t, cmp_d);
      med = bench % 2 ? t[bench / 2] : (t[bench / 2 - 1] + t[bench / 2]) / 2;
      printf("latency_ms median=%.4f min=%.4f runs=%d\n", med, t[0], bench);
      free(t);
    }
    for (k = 0; k < MRTC_NOUT; k++) {
      char path[4096];
      long long lead = mrtc_out_rank[k] > 0 ? mrtc_out_dims[k][0] * reps : reps;
      snprintf(path, sizeof path, "%s/output_%d.npy", dir, k);
      if (!bench || dir_given) /* a timing run writes outputs only where -o asks */
        write_npy(path, mrtc_out_dtype[k], mrtc_out_rank[k], mrtc_out_dims[k], lead, outbuf[k], obytes[k] * (size_t)reps);
      free(outbuf[k]);
    }
  }
  for (k = 0; k < MRTC_NIN; k++) free(tin[k].data);
  return 0;
}
