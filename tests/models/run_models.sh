#!/bin/sh
# The models tier: the committed test models and the shipped example.
#
#   tests/models/run_models.sh [NAME...]
#
# For every tests/models/NAME/ holding model.onnx, input_0.npy and
# expected_0.npy (expected_K.npy for every output K; input_K.npy for every
# input K; mrtc_flags: extra mrtc options, optional):
#   compiled:    mrtc model.onnx -o prog; prog input_K.npy... -o DIR;
#                mrtc compare DIR/output_K.npy expected_K.npy --rtol 1e-3 --atol 1e-4
#   interpreter: mrtc run model.onnx input_K.npy... -o DIR; the same compare
# and the example: examples/digits/model.onnx compiled, run on the whole
# test set in one call (test_x.npy stacks N images), top-1 accuracy against
# test_y.npy (mrtc accuracy) must be >= 0.95.
# Prints one line per failure, ends with "N passed, N failed".
# Each model is compiled for every --cpu target of MODEL_CPUS (default
# "native generic": the SIMD kernels of this machine and the portable
# scalar path that a Cortex-M class target gets).
# Env: MRTC (default ./mrtc), MRTC_TEST_CFLAGS, TIMEOUT (seconds per step, 300), MODEL_CPUS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MRTC=${MRTC:-$root/mrtc}
case "$MRTC" in /*) ;; */*) MRTC=$(cd "$(dirname "$MRTC")" && pwd)/$(basename "$MRTC") ;; *) MRTC=$(command -v "$MRTC") ;; esac
to=${TIMEOUT:-300}
W=$(mktemp -d "${TMPDIR:-/tmp}/mrtc-models.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
masan="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" # mrtc never frees (by design)
sanre='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'
pass=0
fail=0
bad() { fail=$((fail + 1)); echo "FAIL models: $*" | cut -c1-400; }

mrtc() { ASAN_OPTIONS=$masan timeout "$to" "$MRTC" "$@"; }

# step NAME LOG CMD...: run, 0 when fine; on failure prints nothing (the caller does)
step() {
    log=$1
    shift
    "$@" >"$log.out" 2>"$log.err"
    rc=$?
    if grep -q -E "$sanre" "$log.err"; then
        echo "sanitizer report: $(grep -m1 -E "$sanre" "$log.err")" >"$log.why"
        return 1
    fi
    if [ $rc -ne 0 ]; then
        l=$(grep -m1 -E 'error|MISMATCH' "$log.err" "$log.out" 2>/dev/null | sed 's/^[^:]*://')
        [ -n "$l" ] || l=$(grep -m1 . "$log.err")
        [ $rc -eq 124 ] && l="timed out after ${to}s"
        [ $rc -gt 128 ] && [ $rc -ne 124 ] && l="killed by signal $((rc - 128)) $l"
        echo "$l" >"$log.why"
        return 1
    fi
    return 0
}
why() { cat "$1.why"; }

# compare every expected_K.npy of DIR with OUT/output_K.npy
compare_outputs() { # dir out log
    k=0
    while [ -f "$1/expected_$k.npy" ]; do
        if ! step "$3" mrtc compare "$2/output_$k.npy" "$1/expected_$k.npy" --rtol 1e-3 --atol 1e-4; then
            echo "output_$k: $(why "$3")" >"$3.why"
            return 1
        fi
        k=$((k + 1))
    done
    return 0
}

nargs=$#
cpus=${MODEL_CPUS:-native generic}
if [ $# -gt 0 ]; then names=$*; else names=$(ls "$here"); fi
for name in $names; do
    d=$here/$name
    [ -f "$d/model.onnx" ] && [ -f "$d/input_0.npy" ] && [ -f "$d/expected_0.npy" ] || continue
    w=$W/$name
    mkdir -p "$w/c" "$w/i"
    set --
    k=0
    while [ -f "$d/input_$k.npy" ]; do
        set -- "$@" "$d/input_$k.npy"
        k=$((k + 1))
    done
    # compiled, once per --cpu target (native: the SIMD kernels; generic: the portable scalar path);
    # NAME/mrtc_flags, when present, holds extra mrtc options for this model (e.g. --winograd 2)
    if [ -n "${MRTC_TEST_CFLAGS:-}" ]; then cf="--cflags"; else cf=""; fi
    xf=$(cat "$d/mrtc_flags" 2>/dev/null)
    for cpu in $cpus; do
        rm -rf "$w/c"
        mkdir -p "$w/c"
        label=$name
        [ "$cpu" = native ] || label="$name (--cpu $cpu)"
        # shellcheck disable=SC2086 # xf: options, split on purpose
        if ! step "$w/compile" mrtc "$d/model.onnx" -o "$w/prog" --cpu "$cpu" $xf ${cf:+"$cf"} ${cf:+"$MRTC_TEST_CFLAGS"}; then
            bad "$label: compile: $(why "$w/compile")"
        elif ! step "$w/run" timeout "$to" "$w/prog" "$@" -o "$w/c"; then
            bad "$label: run: $(why "$w/run")"
        elif ! compare_outputs "$d" "$w/c" "$w/cmp"; then
            bad "$label: compiled program: $(why "$w/cmp")"
        else
            pass=$((pass + 1))
        fi
    done
    # interpreter
    # shellcheck disable=SC2086
    if ! step "$w/interp" mrtc run "$d/model.onnx" $xf "$@" -o "$w/i"; then
        bad "$name (mrtc run): $(why "$w/interp")"
    elif ! compare_outputs "$d" "$w/i" "$w/icmp"; then
        bad "$name (mrtc run): $(why "$w/icmp")"
    else
        pass=$((pass + 1))
    fi
done

# the example: accuracy on the held-out digits, all images in one call
if [ "$nargs" -eq 0 ]; then
    ex=$root/examples/digits
    w=$W/digits
    mkdir -p "$w"
    if [ -n "${MRTC_TEST_CFLAGS:-}" ]; then cf="--cflags"; else cf=""; fi
    if ! step "$w/compile" mrtc "$ex/model.onnx" -o "$w/digits" ${cf:+"$cf"} ${cf:+"$MRTC_TEST_CFLAGS"}; then
        bad "examples/digits: compile: $(why "$w/compile")"
    elif ! step "$w/run" timeout "$to" "$w/digits" "$ex/test_x.npy" -o "$w"; then
        bad "examples/digits: run on test_x.npy: $(why "$w/run")"
    elif ! step "$w/acc" mrtc accuracy "$w/output_0.npy" "$ex/test_y.npy"; then
        bad "examples/digits: accuracy: $(why "$w/acc")"
    else
        acc=$(sed -n 's/^top-1 accuracy \([0-9.]*\).*/\1/p' "$w/acc.out")
        if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }'; then
            pass=$((pass + 1))
            echo "note: models: examples/digits top-1 accuracy $acc ($(sed -n 's/.*(\(.*\)).*/\1/p' "$w/acc.out"))"
        else
            bad "examples/digits: top-1 accuracy '${acc:-?}' < 0.95 ($(cat "$w/acc.out"))"
        fi
    fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
