/*
 * npy.c: NumPy .npy files (format versions 1-3, little-endian, C order), the
 * data files of `mrtc run`, calibration and evaluation.  The header is a
 * Python dict literal; we read the three keys numpy writes ('descr',
 * 'fortran_order', 'shape') and refuse anything else.
 */
#include "mrtc.h"

#include <stdlib.h>
#include <string.h>

static const struct { const char *descr; DType t; } npy_types[] = {
    {"<f4", DT_FLOAT}, {"<f8", DT_DOUBLE}, {"<f2", DT_FLOAT16}, {"|i1", DT_INT8}, {"|u1", DT_UINT8},
    {"<i2", DT_INT16}, {"<u2", DT_UINT16}, {"<i4", DT_INT32}, {"<u4", DT_UINT32}, {"<i8", DT_INT64},
    {"<u8", DT_UINT64}, {"|b1", DT_BOOL},
};

/* numpy has no narrow types: they are written unpacked, one element per
 * byte, as uint8 (the float8 / float4 bit patterns, uint4, uint2) or int8
 * (int4, int2); `mrtc compare` reads them back as the expected file's type */
static const char *npy_descr(DType t) {
  if ((int)t >= 17 && (int)t <= 26) return t == 22 || t == 26 ? "|i1" : "|u1";
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
    if (npy_types[i].t == t) return npy_types[i].descr;
  return NULL;
}

Value *npy_read(const char *path, char **err) {
  size_t len;
  unsigned char *b = (unsigned char *)read_file(path, &len);
  if (!b) { *err = "cannot read file"; return NULL; }
  if (len < 10 || memcmp(b, "\x93NUMPY", 6)) { *err = "not a .npy file"; return NULL; }
  size_t hlen, hoff;
  if (b[6] == 1) { hlen = b[8] | (size_t)b[9] << 8; hoff = 10; }
  else if (len >= 12) { hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24; hoff = 12; }
  else { *err = "truncated .npy header"; return NULL; }
  if (hoff + hlen > len) { *err = "truncated .npy header"; return NULL; }
  char *h = xalloc(hlen + 1);
  memcpy(h, b + hoff, hlen);
  char *d = strstr(h, "'descr'"), *fo = strstr(h, "'fortran_order'"), *sh = strstr(h, "'shape'");
  if (!d || !fo || !sh) { *err = "malformed .npy header"; return NULL; }
  char *q = strchr(d + 7, '\'');
  if (!q) { *err = "malformed .npy header"; return NULL; }
  char descr[16] = {0};
  char *qe = strchr(q + 1, '\'');
  if (!qe || qe - q - 1 >= 15) { *err = "malformed .npy descr"; return NULL; }
  memcpy(descr, q + 1, qe - q - 1);
  if (descr[0] == '=') descr[0] = '<';
  if (!strcmp(descr, "<b1") || !strcmp(descr, "<i1") || !strcmp(descr, "<u1")) descr[0] = '|';
  DType t = DT_UNDEF;
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
    if (!strcmp(npy_types[i].descr, descr)) t = npy_types[i].t;
  if (!t) { *err = fmt("unsupported .npy dtype '%s'", descr); return NULL; }
  if (strstr(fo, "True") && strstr(fo, "True") < sh + 1000 && strstr(fo, "True") - fo < 24) {
    *err = "Fortran-order .npy files are not supported";
    return NULL;
  }
  char *p = strchr(sh, '(');
  if (!p) { *err = "malformed .npy shape"; return NULL; }
  p++;
  int64_t dims[MAX_RANK];
  int rank = 0;
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')') break;
    if (*p < '0' || *p > '9') { *err = "malformed .npy shape"; return NULL; }
    if (rank == MAX_RANK) { *err = "rank too large"; return NULL; }
    dims[rank++] = strtoll(p, &p, 10);
    if (*p == 'L') p++;
  }
  Value *v = value_new_const(NULL, path, t, rank, dims);
  size_t bytes = (size_t)value_bytes(v);
  if (hoff + hlen + bytes != len) {
    *err = fmt("data holds %zu bytes, shape %s needs %zu", len - hoff - hlen, shape_str(v), bytes);
    return NULL;
  }
  memcpy(v->data, b + hoff + hlen, bytes);
  free(b);
  return v;
}

int npy_write(const char *path, DType t, int rank, const int64_t *dims, const void *data) {
  const char *descr = npy_descr(t);
  if (!descr) return -1;
  Buf h = {0};
  buf_printf(&h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < rank; i++) buf_printf(&h, "%lld%s", (long long)dims[i], rank == 1 ? "," : i + 1 < rank ? ", " : "");
  buf_puts(&h, "), }");
  while ((10 + h.len + 1) % 64) buf_puts(&h, " ");
  buf_puts(&h, "\n");
  size_t bytes = (size_t)(shape_numel(rank, dims) * dtype_size(t));
  Buf out = {0};
  buf_putn(&out, "\x93NUMPY\x01\x00", 8);
  unsigned char hl[2] = {(unsigned char)(h.len & 255), (unsigned char)(h.len >> 8)};
  buf_putn(&out, (const char *)hl, 2);
  buf_putn(&out, h.s, h.len);
  buf_putn(&out, data, bytes);
  return write_file_atomic(path, out.s, out.len);
}

Value *tensor_file_read(const char *path) {
  size_t n = strlen(path);
  if (n > 3 && !strcmp(path + n - 3, ".pb")) return onnx_load_tensor_pb(path);
  char *err = NULL;
  Value *v = npy_read(path, &err);
  if (!v) fatal("%s: %s", path, err);
  return v;
}
