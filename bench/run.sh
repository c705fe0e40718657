#!/usr/bin/env bash
# mrtc against ONNX Runtime, single-threaded, on the model zoo (`make bench`).
#
#   bench/run.sh [MODEL...]      default: resnet18 resnet50 mobilenet_v2 squeezenet1_1 transformer_encoder128
#
# For each model of the zoo (tests/models/export_zoo.py; reused from $ZOO,
# exported there first when missing) it compiles $ZOO/<m>/model.onnx with
# mrtc into $WORK/<m>/prog, checks its output on input_0.npy against
# ONNX Runtime's expected_0.npy (rtol 1e-3, atol 1e-4), then ROUNDS times
# alternately runs `prog --bench RUNS` and `ort_run.js --bench RUNS`
# (ORT with one intra-op and one inter-op thread) on the same input.  Each
# side's time is the median over rounds of the per-round medians, so a
# burst of load on a shared machine hits both sides alike; compare ratios,
# not absolute numbers, between machines or runs.
#
# Each round also takes the CPU time (user + sys, /usr/bin/time) per
# inference: (CPU of an N-run process - CPU of a 1-run process) / the extra
# runs, N chosen for about a second of CPU, so start-up (node, session
# creation, file reading) cancels.  On a
# loaded machine wall-clock medians mostly measure the scheduler; CPU time
# per inference stays close to what an idle machine shows.
#
# Table: wall ms (median) and CPU ms per inference for mrtc and ORT, the
# speedups ORT / mrtc (> 1: mrtc is faster) for both, GFLOP/s = 2 * MACs
# (mrtc inspect) / mrtc CPU time, then the geometric means.  With PROFILE=1 (default) the TOP slowest nodes of each
# model follow, timed one by one (bench/profile.sh: CPU time per node).
#
# Env: MRTC (default ./mrtc), ZOO (/tmp/zoo), WORK (/tmp/mrtc_bench),
# ROUNDS (5), RUNS (20), PROFILE (1), TOP (5), MRTC_FLAGS (extra compile
# flags, e.g. "--no-fuse" or "--cpu x86-64-v3"), ORT_DIR (onnxruntime-node;
# default: tests/tools/node_modules, then /tmp/ortpeer/node_modules),
# PYTHON (for the zoo export: /usr/bin/python3 with torch), NODE (node).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MRTC=${MRTC:-$ROOT/mrtc}
case "$MRTC" in /*) ;; *) MRTC=$(pwd)/$MRTC ;; esac
ZOO=${ZOO:-/tmp/zoo}
WORK=${WORK:-/tmp/mrtc_bench}
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-20}
PROFILE=${PROFILE:-1}
TOP=${TOP:-5}
NODE=${NODE:-node}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ $# -gt 0 ]; then MODELS=("$@"); else MODELS=(resnet18 resnet50 mobilenet_v2 squeezenet1_1 transformer_encoder128); fi
if [ -z "${ORT_DIR:-}" ]; then
    if [ -d "$ROOT/tests/tools/node_modules/onnxruntime-node" ]; then ORT_DIR=$ROOT/tests/tools/node_modules
    elif [ -d /tmp/ortpeer/node_modules/onnxruntime-node ]; then ORT_DIR=/tmp/ortpeer/node_modules; fi
fi
export ORT_DIR
[ -x "$MRTC" ] || { echo "bench: no mrtc binary at $MRTC (run make)" >&2; exit 2; }

missing=()
for m in "${MODELS[@]}"; do [ -f "$ZOO/$m/model.onnx" ] || missing+=("$m"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: exporting ${missing[*]} into $ZOO" >&2
    only=$(IFS=,; echo "${missing[*]}")
    "$PYTHON" "$ROOT/tests/models/export_zoo.py" "$ZOO" --only "$only" >&2 || { echo "bench: zoo export failed" >&2; exit 2; }
fi

# user + sys seconds of a command (its stdout goes to $2)
cputime() { local f=$1; shift; /usr/bin/time -f '%U %S' -o "$f.t" "$@" > "$f" 2>/dev/null; awk '{print $1 + $2}' "$f.t"; }
# ort_run.js warms up max(3, min(20, ceil(N / 10))) times
ortwarm() { awk -v n="$1" 'BEGIN { w = int((n + 9) / 10); if (w > 20) w = 20; if (w < 3) w = 3; print w }'; }
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
latency() { sed -n 's/.*latency_ms median=\([0-9.eE+-]*\).*/\1/p' | tail -n 1; }

mkdir -p "$WORK"
RESULTS=$WORK/results.tsv
: > "$RESULTS"
echo "mrtc: $MRTC ${MRTC_FLAGS:-}   ORT: ${ORT_DIR:-(searched by ort_run.js)}   rounds $ROUNDS x $RUNS runs, single thread" >&2
for m in "${MODELS[@]}"; do
    d=$ZOO/$m
    w=$WORK/$m
    mkdir -p "$w/out"
    if ! "$MRTC" "$d/model.onnx" -o "$w/prog" ${MRTC_FLAGS:-} > "$w/compile.log" 2>&1; then
        echo "bench: $m: compile failed: $(tail -n 1 "$w/compile.log")" >&2
        printf '%s\tFAIL\t-\t-\t-\t-\tcompile\n' "$m" >> "$RESULTS"
        continue
    fi
    check=ok
    if ! "$w/prog" "$d/input_0.npy" -o "$w/out" > "$w/run.log" 2>&1 ||
       ! "$MRTC" compare "$w/out/output_0.npy" "$d/expected_0.npy" --rtol 1e-3 --atol 1e-4 > "$w/cmp.log" 2>&1; then
        check=MISMATCH
        echo "bench: $m: output check failed: $(tail -n 1 "$w/cmp.log" "$w/run.log" 2>/dev/null | tail -n 1)" >&2
    fi
    macs=$("$MRTC" inspect "$d/model.onnx" ${MRTC_FLAGS:-} 2>/dev/null | sed -n 's/^MACs: *\([0-9]*\).*/\1/p')
    : > "$w/mrtc.txt"
    : > "$w/ort.txt"
    : > "$w/mrtc_cpu.txt"
    : > "$w/ort_cpu.txt"
    # enough runs for about a second of CPU per process (/usr/bin/time counts in 10 ms steps)
    est=$("$w/prog" "$d/input_0.npy" --bench 5 2>/dev/null | latency)
    n=$(awk -v t="${est:-1}" -v r="$RUNS" 'BEGIN { n = int(1000 / (t > 0.01 ? t : 0.01)); if (n < r) n = r; if (n > 20000) n = 20000; print n }')
    extra_ort=$((n - 1 + $(ortwarm "$n") - $(ortwarm 1)))
    for r in $(seq "$ROUNDS"); do
        c1=$(cputime "$w/m1.out" "$w/prog" "$d/input_0.npy" --bench 1)
        cn=$(cputime "$w/mn.out" "$w/prog" "$d/input_0.npy" --bench "$n")
        "$w/prog" "$d/input_0.npy" --bench "$RUNS" 2>/dev/null | latency >> "$w/mrtc.txt"
        awk -v a="$c1" -v b="$cn" -v n=$((n - 1)) 'BEGIN { print (b - a) * 1000 / n }' >> "$w/mrtc_cpu.txt"
        c1=$(cputime "$w/o1.out" "$NODE" "$ROOT/tests/tools/ort_run.js" "$d/model.onnx" "$d/input_0.npy" --bench 1)
        cn=$(cputime "$w/on.out" "$NODE" "$ROOT/tests/tools/ort_run.js" "$d/model.onnx" "$d/input_0.npy" --bench "$n")
        "$NODE" "$ROOT/tests/tools/ort_run.js" "$d/model.onnx" "$d/input_0.npy" --bench "$RUNS" 2>/dev/null | latency >> "$w/ort.txt"
        awk -v a="$c1" -v b="$cn" -v n="$extra_ort" 'BEGIN { print (b - a) * 1000 / n }' >> "$w/ort_cpu.txt"
    done
    tm=$(median < "$w/mrtc.txt")
    to=$(median < "$w/ort.txt")
    cm=$(median < "$w/mrtc_cpu.txt")
    co=$(median < "$w/ort_cpu.txt")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$tm" "$to" "${macs:-0}" "$cm" "$co" "$check" >> "$RESULTS"
    echo "bench: $m done (wall: mrtc $tm ms, ORT $to ms; CPU per run: mrtc $cm ms, ORT $co ms)" >&2
done

echo
awk -F'\t' '
BEGIN {
    printf "%-24s %21s %21s %19s %8s\n", "", "wall ms (median)", "CPU ms / inference", "speedup ORT/mrtc", ""
    printf "%-24s %10s %10s %10s %10s %9s %9s %8s  %s\n", "model", "mrtc", "ORT", "mrtc", "ORT", "wall", "CPU", "GFLOP/s", "check"
    n = 0; sw = 0; sc = 0
}
{
    if ($2 == "FAIL" || $2 == "nan" || $3 == "nan" || $3 == "" || $5 <= 0 || $6 <= 0) { printf "%-24s %10s %10s %10s %10s %9s %9s %8s  %s\n", $1, $2, $3, $5, $6, "-", "-", "-", $7; next }
    w = $3 / $2; c = $6 / $5; gf = 2 * $4 / ($5 * 1e6)
    printf "%-24s %10.2f %10.2f %10.2f %10.2f %8.2fx %8.2fx %8.1f  %s\n", $1, $2, $3, $5, $6, w, c, gf, $7
    sw += log(w); sc += log(c); n++
}
END { if (n) printf "%-24s %10s %10s %10s %10s %8.2fx %8.2fx  (> 1: mrtc faster)\n", "geomean", "", "", "", "", exp(sw / n), exp(sc / n) }
' "$RESULTS"

if [ "$PROFILE" = 1 ]; then
    for m in "${MODELS[@]}"; do
        [ -f "$ZOO/$m/model.onnx" ] || continue
        echo
        echo "== $m: slowest $TOP nodes (CPU time per node; GFLOP/s from the node's MACs)"
        MRTC=$MRTC WORK=$WORK/$m/prof bash "$HERE/profile.sh" "$ZOO/$m/model.onnx" 10 "$TOP" "$ZOO/$m/input_0.npy" 2>&1 | sed 's/^/  /'
    done
fi
