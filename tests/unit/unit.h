/*
 * unit.h: the unit tier's tiny test framework.  A test is a function
 * registered in unit.c's table; CHECK records a failure (one line, with
 * file and line) and goes on.  The runner prints one line per failed test
 * and ends with "N passed, N failed".
 */
#ifndef MRTC_UNIT_H
#define MRTC_UNIT_H

#include "mrtc.h"

extern int u_failed; /* failures in the current test */
void u_fail(const char *file, int line, const char *f, ...) FMT(3, 4);

#define CHECK(cond, ...)                                            \
  do {                                                              \
    if (!(cond)) u_fail(__FILE__, __LINE__, __VA_ARGS__);           \
  } while (0)

/* deterministic pseudo-random numbers (xorshift64*) */
uint64_t u_rand(void);
void u_seed(uint64_t s);
int u_randint(int lo, int hi);  /* inclusive */
float u_randf(void);            /* uniform in [-1, 1) */

#endif
