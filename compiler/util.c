/*
 * util.c: memory, errors, files and the text buffer.
 *
 * The compiler is short-lived: memory is allocated and never freed.  Errors
 * are fatal: one "mrtc: error: ..." line on stderr, exit status 1, and every
 * output file registered with cleanup_register() is removed first, so a
 * failed compile never leaves a partial output behind.
 */
#include "mrtc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int g_verbose;

void *xalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) fatal("out of memory (%zu bytes)", n);
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) fatal("out of memory (%zu bytes)", n);
  return p;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xalloc(n), s, n);
}

char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  Buf b = {0};
  buf_vprintf(&b, f, ap);
  va_end(ap);
  return b.s ? b.s : xstrdup("");
}

#define MAX_CLEANUP 16
static char *cleanup_paths[MAX_CLEANUP];

void cleanup_register(const char *path) {
  for (int i = 0; i < MAX_CLEANUP; i++)
    if (!cleanup_paths[i]) {
      cleanup_paths[i] = xstrdup(path);
      return;
    }
}

void cleanup_forget(const char *path) {
  for (int i = 0; i < MAX_CLEANUP; i++)
    if (cleanup_paths[i] && !strcmp(cleanup_paths[i], path)) cleanup_paths[i] = NULL;
}

void fatal(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  fputs("mrtc: error: ", stderr);
  vfprintf(stderr, f, ap);
  fputc('\n', stderr);
  va_end(ap);
  for (int i = 0; i < MAX_CLEANUP; i++)
    if (cleanup_paths[i]) unlink(cleanup_paths[i]);
  exit(1);
}

void warn(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  fputs("mrtc: warning: ", stderr);
  vfprintf(stderr, f, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void verbose(const char *f, ...) {
  if (!g_verbose) return;
  va_list ap;
  va_start(ap, f);
  fputs("mrtc: ", stderr);
  vfprintf(stderr, f, ap);
  fputc('\n', stderr);
  va_end(ap);
}

char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct stat st;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
    fclose(f);
    return NULL;
  }
  size_t n = (size_t)st.st_size;
  char *p = xalloc(n + 1);
  if (fread(p, 1, n, f) != n) {
    fclose(f);
    free(p);
    return NULL;
  }
  fclose(f);
  *len = n;
  return p;
}

/* Writes to PATH.tmp then renames, so readers never see half a file. */
int write_file_atomic(const char *path, const void *data, size_t len) {
  char *tmp = fmt("%s.tmp%d", path, (int)getpid());
  cleanup_register(tmp);
  FILE *f = fopen(tmp, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, len, f);
  if (fclose(f) || w != len || rename(tmp, path)) {
    unlink(tmp);
    cleanup_forget(tmp);
    return -1;
  }
  cleanup_forget(tmp);
  return 0;
}

double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void buf_vprintf(Buf *b, const char *f, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, f, ap2);
  va_end(ap2);
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  vsnprintf(b->s + b->len, n + 1, f, ap);
  b->len += n;
}

void buf_printf(Buf *b, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  buf_vprintf(b, f, ap);
  va_end(ap);
}

void buf_putn(Buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

void buf_puts(Buf *b, const char *s) { buf_putn(b, s, strlen(s)); }
