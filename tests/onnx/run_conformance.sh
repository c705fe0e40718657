#!/bin/sh
# The conformance tier: ONNX backend node tests (../shared/onnx-node-tests)
# through the real command line, one case per tests/onnx/run_case.sh.
#
#   run_conformance.sh            the cases of tests/onnx/pass.list
#   run_conformance.sh --all      every case (also MRTC_FULL=1); writes
#                                 tests/onnx/results.txt (or $RESULTS)
#   run_conformance.sh CASE...    the named cases (test_abs or a path)
#   run_conformance.sh --sample N every Nth case of the pass list
#
# Prints one line per case that does not pass, then "N passed, N failed";
# exits 1 when a case failed.  Env: MRTC (default ./mrtc), SHARED (default
# ../shared beside the repository), JOBS (parallel cases, default 2),
# TIMEOUT (seconds per step, default 60), MRTC_TEST_CFLAGS (passed to mrtc
# --cflags, e.g. sanitizers), KEEP=1 keeps the work directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MRTC=${MRTC:-$root/mrtc}
case "$MRTC" in /*) ;; */*) MRTC=$(cd "$(dirname "$MRTC")" && pwd)/$(basename "$MRTC") ;; *) MRTC=$(command -v "$MRTC") ;; esac
export MRTC
SHARED=${SHARED:-$(dirname "$root")/shared}
nt=$SHARED/onnx-node-tests
jobs=${JOBS:-2}

all=0
sample=0
[ "${MRTC_FULL:-0}" = 1 ] && all=1
while [ $# -gt 0 ]; do
    case "$1" in
    --all) all=1; shift ;;
    --sample) sample=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) break ;;
    esac
done

if [ ! -d "$nt" ]; then
    echo "conformance: $nt is missing: tier skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
if [ ! -x "$MRTC" ]; then
    echo "conformance: no mrtc binary at $MRTC"
    echo "0 passed, 1 failed"
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mrtc-conf.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "conformance: work directory $work"; else trap 'rm -rf "$work"' EXIT; fi
trap 'exit 130' INT TERM
list=$work/cases
if [ $# -gt 0 ]; then
    for c in "$@"; do basename "$c"; done >"$list"
    all=0
elif [ $all = 1 ]; then
    for c in "$nt"/test_*/; do basename "$c"; done >"$list"
else
    grep -v -e '^#' -e '^[[:space:]]*$' "$here/pass.list" | awk '{print $1}' >"$list"
    if [ "$sample" -gt 0 ]; then awk -v n="$sample" 'NR % n == 1 || n == 1' "$list" >"$list.s" && mv "$list.s" "$list"; fi
fi

# cases named but absent from the test data fail without running
: >"$work/missing"
while read -r c; do
    [ -d "$nt/$c" ] || echo "$c FAIL-missing no such case in $nt" >>"$work/missing"
done <"$list"

# run; each case leaves WORK/CASE/result
while read -r c; do if [ -d "$nt/$c" ]; then echo "$c"; fi; done <"$list" |
    xargs -r -P "$jobs" -I{} sh "$here/run_case.sh" "$nt/{}" "$work/{}" >/dev/null 2>&1

: >"$work/all"
while read -r c; do
    if [ -f "$work/$c/result" ]; then cat "$work/$c/result"
    elif [ -d "$nt/$c" ]; then echo "$c CRASH the case runner died"
    else grep "^$c " "$work/missing"
    fi
done <"$list" >"$work/all"

grep -v '^[^ ]* PASS' "$work/all"
pass=$(grep -c '^[^ ]* PASS' "$work/all")
fail=$(grep -vc '^[^ ]* PASS' "$work/all")
if [ $all = 1 ]; then
    out=${RESULTS:-$here/results.txt}
    {
        echo "# mrtc conformance: $(date -u +%Y-%m-%d) $("$MRTC" --version 2>/dev/null), $pass of $((pass + fail)) node tests pass"
        echo "# case status first-error-line"
        # the node tests' directory as ../shared, so the file names no path of this machine
        sort "$work/all" | sed "s#$nt/#../shared/onnx-node-tests/#g"
    } >"$out"
    echo "conformance: results written to $out"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
