#!/usr/bin/env bash
# Per-layer profile of one model compiled by mrtc.
#
#   bench/profile.sh MODEL.onnx [RUNS] [TOP] [IN.npy...]
#
# Compiles MODEL with mrtc (-o m.c, --report), injects a CPU-time mark
# before every node (bench/prof_inject.py), builds with the same flags mrtc
# uses for executables (-O2 -std=c99 -march=native, or $CPU_FLAGS), runs
# RUNS inferences (on the given inputs, else zeros: data can matter, e.g.
# denormals) and prints the TOP slowest nodes: time
# per run, share, MACs and GFLOP/s (2 * MACs / time; fused nodes count the
# MACs of their Conv/Gemm only).
# Env: MRTC (mrtc binary, default ./mrtc), WORK (scratch dir), MRTC_FLAGS
# (extra mrtc flags, e.g. --no-fuse), CPU_FLAGS (default -march=native).
set -eu
MODEL=$1
RUNS=${2:-10}
TOP=${3:-15}
shift 3 2>/dev/null || shift $#
HERE=$(cd "$(dirname "$0")" && pwd)
MRTC=${MRTC:-$HERE/../mrtc}
WORK=${WORK:-$(mktemp -d /tmp/mrtc_prof.XXXXXX)}
PY=${PYTHON:-python3}
CC=${CC:-cc}
mkdir -p "$WORK"
"$MRTC" "$MODEL" -o "$WORK/m.c" -n m --report "$WORK/r.json" ${MRTC_FLAGS:-}
"$PY" "$HERE/prof_inject.py" "$WORK/m.c" "$WORK/m.h" "$WORK/mp.c"
$CC -O2 -std=c99 ${CPU_FLAGS:--march=native} -I"$WORK" "$WORK/mp.c" -o "$WORK/prof" -lm
"$WORK/prof" "$RUNS" "$@" > "$WORK/times.tsv"
"$PY" - "$WORK/times.tsv" "$WORK/r.json" "$TOP" <<'PYEOF'
import json, sys
times = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rep = json.load(open(sys.argv[2]))
macs = {l["name"]: l.get("macs", 0) for l in rep["layers"]}
fused = {l["name"]: l.get("fused", "") for l in rep["layers"]}
total = sum(float(t[0]) for t in times)
top = int(sys.argv[3])
print("total %.3f ms (CPU time per run, sum over %d nodes)" % (total, len(times)))
print("%9s %6s %7s %8s  %-14s %s" % ("ms", "share", "MMACs", "GFLOP/s", "op", "node"))
for ms, op, name in sorted(times, key=lambda t: -float(t[0]))[:top]:
    ms = float(ms)
    m = macs.get(name, 0)
    gf = 2 * m / (ms * 1e6) if ms > 0 and m else 0
    f = fused.get(name, "")
    print("%9.3f %5.1f%% %7.1f %8.1f  %-14s %s%s" % (ms, 100 * ms / total if total else 0, m / 1e6, gf, op, name, " (+ " + f + ")" if f else ""))
PYEOF
