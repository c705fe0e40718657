#!/bin/sh
# Every test tier of mrtc (`make test`; `make check-all` sets MRTC_FULL=1):
#
#   unit         tests/unit/: planner, kernels, fmt_float (C, against the compiler's objects)
#   cli          tests/cli/run_cli.sh: every option and documented error
#   models       tests/models/run_models.sh: the committed models and the example's accuracy
#   quant        tests/quant/run_quant.sh: precision config, calibration, int8/fp16 code (bit-exact, accuracy)
#   conformance  tests/onnx/run_conformance.sh: the ONNX node tests of tests/onnx/pass.list
#                (MRTC_FULL=1: every node test, and tests/onnx/results.txt is rewritten)
#
# Prints one line per failure, a summary line per tier, and ends with one
# line "N passed, N failed" (totals); exits 1 when anything failed.
# The node tests come from ../shared beside the repository (or $SHARED);
# without it the conformance tier is skipped, with a note.
# Env: MRTC (the binary; default $MRTC_BIN or ./mrtc), BUILD (the build
# directory with the compiler's objects, default build), SHARED, JOBS
# (parallel conformance cases, default 2), MRTC_TEST_CFLAGS (set by
# `make test SAN=1`: sanitizer flags for every program mrtc builds),
# CONF_SAMPLE (run every Nth case of the pass list; default 1, or 3 under
# sanitizers), TIERS (a subset, e.g. "unit cli").
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
MRTC=${MRTC:-${MRTC_BIN:-$root/mrtc}}
case "$MRTC" in /*) ;; */*) MRTC=$(cd "$(dirname "$MRTC")" && pwd)/$(basename "$MRTC") ;; *)
    if [ -x "$root/$MRTC" ]; then MRTC=$root/$MRTC; else MRTC=$(command -v "$MRTC"); fi ;;
esac
BUILD=${BUILD:-build}
SHARED=${SHARED:-$(dirname "$root")/shared}
MRTC_TEST_CFLAGS=${MRTC_TEST_CFLAGS:-}
export MRTC BUILD SHARED MRTC_TEST_CFLAGS
TIERS=${TIERS:-unit cli models quant conformance}
full=${MRTC_FULL:-0}
case "$MRTC_TEST_CFLAGS" in *sanitize*) san=1 ;; *) san=0 ;; esac
sample=${CONF_SAMPLE:-$([ $san = 1 ] && echo 3 || echo 1)}

logs=$(mktemp -d "${TMPDIR:-/tmp}/mrtc-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM
total_pass=0
total_fail=0
t_start=$(date +%s)

if [ ! -x "$MRTC" ]; then
    echo "run_all: no mrtc binary at $MRTC (run make first)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "run_all: $("$MRTC" --version 2>/dev/null) ($MRTC)${MRTC_TEST_CFLAGS:+, test C flags: $MRTC_TEST_CFLAGS}"
if [ ! -d "$SHARED/onnx-node-tests" ]; then
    echo "run_all: $SHARED/onnx-node-tests is missing: the conformance tier is skipped (set SHARED=DIR)"
fi

# tier NAME CMD...: runs one tier; its output ends with "N passed, N failed"
tier() {
    name=$1
    shift
    t0=$(date +%s)
    "$@" >"$logs/$name" 2>&1
    rc=$?
    t=$(($(date +%s) - t0))
    last=$(tail -n 1 "$logs/$name")
    p=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
    if [ -n "$p" ]; then
        sed '$d' "$logs/$name"
    else
        tail -n 15 "$logs/$name" | sed "s/^/$name: /"
        echo "FAIL $name: the tier did not finish (exit status $rc)"
        p=0
        f=1
    fi
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exit status $rc, yet no failure counted"
        f=1
    fi
    echo "== $name: $p passed, $f failed (${t} s)"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

unit_tier() {
    make -s --no-print-directory -f tests/unit/Makefile BUILD="$BUILD" unit || return 1
    # the compiler's objects never free their memory (by design): no leak checks
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" "$BUILD/tests/unit/unit_tests"
}

conformance_tier() {
    if [ "$full" = 1 ]; then
        sh tests/onnx/run_conformance.sh --all
    elif [ "$sample" -gt 1 ]; then
        echo "note: conformance: 1 in $sample cases of the pass list (CONF_SAMPLE=$sample$([ $san = 1 ] && echo ', the default under sanitizers'))"
        sh tests/onnx/run_conformance.sh --sample "$sample"
    else
        sh tests/onnx/run_conformance.sh
    fi
}

for t in $TIERS; do
    case $t in
    unit) tier unit unit_tier ;;
    cli) tier cli sh tests/cli/run_cli.sh ;;
    models) tier models sh tests/models/run_models.sh ;;
    quant) tier quant sh tests/quant/run_quant.sh ;;
    conformance) tier conformance conformance_tier ;;
    *) echo "run_all: unknown tier '$t'" ;;
    esac
done

echo "== all tiers: $(($(date +%s) - t_start)) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
