#!/usr/bin/env python3
"""Per-node timing for mrtc-generated C (used by bench/profile.sh).

    prof_inject.py MODEL.c MODEL.h OUT.c

The generated NAME_run_arena() is straight-line code in which every node
opens with a comment `/* node 'NAME' (OP) */`.  This script copies MODEL.c
with a timer mark before each such comment and before the final return,
and appends a main() that runs the model (`prof RUNS [IN.npy...]`, zero
inputs when none are given) and prints, per node, `ms<TAB>op<TAB>name`
(mean CPU time over the runs; with PROF_MIN set in the environment,
the minimum over the runs, steadier on a loaded machine).  Only the copy is changed:
the compiler and the code it generates know nothing of profiling.
"""
import re
import sys

src, hdr, out = sys.argv[1:4]
c = open(src).read()
h = open(hdr).read()
name = re.search(r"int (\w+)_run_arena\(", c).group(1)
up = name.upper()
nodes = []
lines = c.split("\n")
res = []
in_run = False
for ln in lines:
    if re.match(r"int \w+_run_arena\(", ln):
        in_run = True
    m = re.match(r"(\s*)/\* node '(.*)' \((\w+)\) \*/$", ln)
    if in_run and m:
        res.append("%smrtc_prof_mark(%d);" % (m.group(1), len(nodes)))
        nodes.append((m.group(2), m.group(3)))
    if in_run and ln == "  return 0;":
        res.append("  mrtc_prof_mark(%d);" % len(nodes))
        in_run = False
    res.append(ln)
pre = """#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define MRTC_PROF_N %d
static double mrtc_prof_acc[MRTC_PROF_N + 1], mrtc_prof_min[MRTC_PROF_N + 1], mrtc_prof_last;
static int mrtc_prof_cur = -1;
static void mrtc_prof_mark(int k) {
  struct timespec ts;
  double t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  t = ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
  if (mrtc_prof_cur >= 0) mrtc_prof_acc[mrtc_prof_cur] += t - mrtc_prof_last;
  mrtc_prof_cur = k < MRTC_PROF_N ? k : -1;
  mrtc_prof_last = t;
}
""" % len(nodes)
ins = [int(x) for x in re.findall(r"#define %s_IN\d+_SIZE (\d+)" % up, h)]
dts = [int(x) for x in re.findall(r"#define %s_IN\d+_DTYPE (\d+)" % up, h)]
outs = [int(x) for x in re.findall(r"#define %s_OUT\d+_SIZE (\d+)" % up, h)]
odts = [int(x) for x in re.findall(r"#define %s_OUT\d+_DTYPE (\d+)" % up, h)]
esize = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}
names = ",\n".join('  {"%s", "%s"}' % (n.replace('"', '\\"'), op) for n, op in nodes) or '  {"", ""}'
args = ", ".join(["(void *)b[%d]" % i for i in range(len(ins) + len(outs))])
post = """
static const char *const mrtc_prof_names[][2] = {
%s
};
int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 10, r, k;
  static const long long sz[] = {%s};
  unsigned char *b[%d];
  for (k = 0; k < %d; k++) b[k] = calloc((size_t)sz[k] + 1, 1);
  for (k = 0; k + 2 < argc; k++) { /* inputs: .npy files (version 1 header, the model's dtype) */
    FILE *f = fopen(argv[k + 2], "rb");
    unsigned char h[10];
    if (!f || fread(h, 1, 10, f) != 10 || fseek(f, 10 + (h[8] | h[9] << 8), SEEK_SET) || fread(b[k], 1, (size_t)sz[k], f) != (size_t)sz[k]) {
      fprintf(stderr, "prof: cannot read %%s\\n", argv[k + 2]);
      return 1;
    }
    fclose(f);
  }
  for (r = 0; r < 3; r++) %s_run(%s);
  for (k = 0; k <= MRTC_PROF_N; k++) mrtc_prof_acc[k] = 0;
  for (k = 0; k <= MRTC_PROF_N; k++) mrtc_prof_min[k] = 1e30;
  for (r = 0; r < runs; r++) {
    %s_run(%s);
    for (k = 0; k <= MRTC_PROF_N; k++) {
      if (mrtc_prof_acc[k] < mrtc_prof_min[k]) mrtc_prof_min[k] = mrtc_prof_acc[k];
      mrtc_prof_acc[k] = 0;
    }
  }
  if (getenv("PROF_MIN"))
    for (k = 0; k < MRTC_PROF_N; k++) mrtc_prof_acc[k] = mrtc_prof_min[k] * runs;
  else /* mean: run again, accumulating */
    for (r = 0; r < runs; r++) %s_run(%s);
  for (k = 0; k < MRTC_PROF_N; k++) printf("%%.4f\\t%%s\\t%%s\\n", mrtc_prof_acc[k] / runs, mrtc_prof_names[k][1], mrtc_prof_names[k][0]);
  return 0;
}
""" % (names,
       ", ".join(str(s * esize.get(d, 4)) for s, d in list(zip(ins, dts)) + list(zip(outs, odts))) or "0",
       len(ins) + len(outs) + 1, len(ins) + len(outs), name, args, name, args, name, args)
open(out, "w").write(pre + "\n".join(res) + post)
