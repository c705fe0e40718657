/*
 * test_fmt.c: fmt_float (compiler/emit_c.c), the float literals of the
 * generated code.  For many random floats: the literal reads back as
 * exactly the same float (bit for bit, -0 included), it is a float
 * literal (ends in f, has a '.' or an exponent), and it is the shortest
 * such decimal: no decimal with one significant digit fewer reads back as
 * the float.  Then a C compiler reads a few thousand of them.
 */
#include "unit.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static float bits_float(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}

static uint32_t float_bits(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  return b;
}

/* significant digits of a decimal literal: "-1.25e-3f" -> 3, ".001f" -> 1 */
static int sig_digits(const char *s) {
  int n = 0, started = 0, trailing0 = 0;
  for (; *s && *s != 'e' && *s != 'E' && *s != 'f'; s++) {
    if (*s < '0' || *s > '9') continue;
    if (*s != '0') started = 1;
    if (!started) continue;
    n++;
    trailing0 = *s == '0' ? trailing0 + 1 : 0;
  }
  return n - trailing0;
}

/* does some decimal with D significant digits read back as F? The two
 * D-digit decimals around F are the only candidates. */
static int has_shorter(float f, int d) {
  if (d < 1) return 0;
  char s[64];
  snprintf(s, sizeof s, "%.*e", d - 1, (double)f); /* nearest D-digit decimal */
  if (strtof(s, NULL) == f) return 1;
  /* its neighbour on the other side of F */
  char *e = strchr(s, 'e');
  int exp10 = atoi(e + 1);
  *e = 0;
  double m = fabs(strtod(s, NULL)); /* 1 <= m < 10 with D digits */
  double step = pow(10.0, -(d - 1));
  double near = m * pow(10.0, exp10), x = fabs((double)f);
  double other = (near < x ? m + step : m - step) * pow(10.0, exp10);
  snprintf(s, sizeof s, "%.*e", d + 2, f < 0 ? -other : other);
  return strtof(s, NULL) == f;
}

static void check_one(float f) {
  const char *s = fmt_float(f);
  size_t n = strlen(s);
  char buf[64];
  CHECK(n > 1 && n < sizeof buf && s[n - 1] == 'f', "fmt_float(%.9g) = '%s': not a float literal", (double)f, s);
  if (!(n > 1 && n < sizeof buf)) return;
  memcpy(buf, s, n - 1);
  buf[n - 1] = 0;
  CHECK(strpbrk(buf, ".e") != NULL, "fmt_float(%.9g) = '%s': neither '.' nor an exponent", (double)f, s);
  float back = strtof(buf, NULL);
  CHECK(float_bits(back) == float_bits(f), "fmt_float(%.9g) = '%s' reads back as %.9g", (double)f, s, (double)back);
  int d = sig_digits(buf);
  CHECK((d >= 1 || f == 0) && d <= 9, "fmt_float(%.9g) = '%s': %d significant digits", (double)f, s, d);
  if (f != 0) CHECK(!has_shorter(f, d - 1), "fmt_float(%.9g) = '%s' is not the shortest (%d digits do)", (double)f, s, d - 1);
}

void test_fmt_float_roundtrip(void) {
  for (int i = 0; i < 200000 && u_failed < 5; i++) {
    float f;
    switch (i % 4) {
    case 0: f = bits_float((uint32_t)u_rand()); break;                   /* any bit pattern */
    case 1: f = u_randf() * 100.0f; break;                                /* everyday weights */
    case 2: f = (float)u_randint(-100000, 100000) / 1000.0f; break;       /* short decimals */
    default: f = bits_float(((uint32_t)u_rand() & 0x807fffffu) | (uint32_t)u_randint(0, 8) << 23); /* denormals, tiny */
    }
    if (isnan(f) || isinf(f)) continue;
    check_one(f);
  }
}

void test_fmt_float_special(void) {
  const float v[] = {0.0f, 1.0f, -1.0f, 0.1f, 0.5f, 2.0f, 10.0f, 1e10f, 1e-5f, 3.14159274f, 0.2f, 0.3f, 100.0f, 123456.0f,
                     1234567.0f, 16777216.0f, 16777217.0f, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_EPSILON, 1e-45f, 1.4e-45f,
                     1e-40f, 0.333333343f, 2.71828183f, 1e38f, 8388608.0f};
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) check_one(v[i]);
  CHECK(!strcmp(fmt_float(0.5f), ".5f") || !strcmp(fmt_float(0.5f), "0.5f"), "fmt_float(0.5) = '%s'", fmt_float(0.5f));
  CHECK(!strcmp(fmt_float(1.0f), "1.f") || !strcmp(fmt_float(1.0f), "1.0f"), "fmt_float(1) = '%s'", fmt_float(1.0f));
  const char *nz = fmt_float(-0.0f);
  CHECK(signbit(strtof(nz, NULL)) && strtof(nz, NULL) == 0, "fmt_float(-0) = '%s' loses the sign", nz);
  CHECK(!strcmp(fmt_float(INFINITY), "INFINITY"), "fmt_float(inf) = '%s'", fmt_float(INFINITY));
  CHECK(!strcmp(fmt_float(-INFINITY), "-INFINITY"), "fmt_float(-inf) = '%s'", fmt_float(-INFINITY));
  CHECK(!strcmp(fmt_float(NAN), "NAN"), "fmt_float(nan) = '%s'", fmt_float(NAN));
}

/* the literals through a real C compiler (-std=c99 -pedantic): each must
 * give the same bits */
void test_fmt_float_c_compiler(void) {
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  char dir[] = "/tmp/mrtc-unit.XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(0, "cannot create a temporary directory");
    return;
  }
  char *src = fmt("%s/lit.c", dir), *exe = fmt("%s/lit", dir);
  FILE *f = fopen(src, "w");
  if (!f) {
    CHECK(0, "cannot write %s", src);
    return;
  }
  enum { N = 4000 };
  fputs("#include <math.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n", f);
  fputs("static const float v[] = {\n", f);
  uint32_t *bits = malloc(sizeof(uint32_t) * N);
  for (int i = 0; i < N; i++) {
    float x;
    do x = i % 2 ? bits_float((uint32_t)u_rand()) : u_randf() * 10.0f;
    while (isnan(x));
    bits[i] = float_bits(x);
    fprintf(f, "%s,\n", fmt_float(x));
  }
  fputs("};\nstatic const uint32_t b[] = {\n", f);
  for (int i = 0; i < N; i++) fprintf(f, "%luUL,\n", (unsigned long)bits[i]);
  fputs("};\nint main(void) {\n  int i, bad = 0;\n  for (i = 0; i < (int)(sizeof v / sizeof *v); i++) {\n"
        "    uint32_t x;\n    memcpy(&x, &v[i], 4);\n"
        "    if (x != b[i] && bad++ < 3) printf(\"literal %d: bits %08lx, expected %08lx\\n\", i, (unsigned long)x, "
        "(unsigned long)b[i]);\n  }\n  return bad != 0;\n}\n",
        f);
  fclose(f);
  free(bits);
  char *cmd = fmt("%s -std=c99 -pedantic -Wall -Werror -o %s %s 2>&1 && %s", cc, exe, src, exe);
  int rc = system(cmd);
  CHECK(rc == 0, "the C compiler disagrees with fmt_float (or rejects its literals): %s", cmd);
  unlink(src);
  unlink(exe);
  rmdir(dir);
}
