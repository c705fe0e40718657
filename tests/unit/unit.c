/*
 * unit.c: runs every unit test (or those named on the command line) and
 * prints one line per failing test, then "N passed, N failed".  Exit
 * status 1 when a test failed.  Run from the repository root (the planner
 * tests load the committed models under tests/).
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

int u_failed;
static const char *u_current;

void u_fail(const char *file, int line, const char *f, ...) {
  if (u_failed++ >= 5) return; /* enough said about one test */
  va_list ap;
  va_start(ap, f);
  printf("FAIL %s: %s:%d: ", u_current, file, line);
  vprintf(f, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
}

static uint64_t u_state = 0x9e3779b97f4a7c15ULL;
void u_seed(uint64_t s) { u_state = s ? s : 1; }
uint64_t u_rand(void) {
  u_state ^= u_state >> 12;
  u_state ^= u_state << 25;
  u_state ^= u_state >> 27;
  return u_state * 0x2545f4914f6cdd1dULL;
}
int u_randint(int lo, int hi) { return lo + (int)(u_rand() % (uint64_t)(hi - lo + 1)); }
float u_randf(void) { return (float)((u_rand() >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f; }

#define TESTS(X)                                                                                    \
  X(plan_chain) X(plan_best_fit) X(plan_alias) X(plan_no_inplace_when_input_lives) X(plan_same_input_twice) \
  X(plan_scratch) \
  X(plan_random_graphs) X(plan_models) X(gemm_vs_naive) X(conv2d_vs_naive) X(bcast_vs_naive)      \
  X(fmt_float_roundtrip) X(fmt_float_special) X(fmt_float_c_compiler)

#define DECL(name) void test_##name(void);
TESTS(DECL)
#define ENTRY(name) {#name, test_##name},
static const struct {
  const char *name;
  void (*fn)(void);
} tests[] = {TESTS(ENTRY)};

int main(int argc, char **argv) {
  int pass = 0, fail = 0;
  for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
    if (argc > 1) {
      int want = 0;
      for (int a = 1; a < argc; a++) want |= !strcmp(argv[a], tests[i].name);
      if (!want) continue;
    }
    u_current = tests[i].name;
    u_failed = 0;
    u_seed(0x1234567ULL + i);
    tests[i].fn();
    if (u_failed) fail++;
    else pass++;
    if (getenv("UNIT_VERBOSE")) printf("%s %s\n", u_failed ? "FAIL" : "ok  ", tests[i].name);
  }
  printf("%d passed, %d failed\n", pass, fail);
  return fail != 0;
}
