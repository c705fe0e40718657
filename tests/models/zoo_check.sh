#!/usr/bin/env bash
# Compile and check every model of an exported zoo with mrtc.
#
#   tests/models/zoo_check.sh OUTDIR MRTC_BINARY [NAME...]
#
# For each OUTDIR/<name>/model.onnx (or only the NAMEs given):
#   $MRTC OUTDIR/<name>/model.onnx -o OUTDIR/<name>/prog
#   OUTDIR/<name>/prog OUTDIR/<name>/input_0.npy -o OUTDIR/<name>/out
#   npycmp.py out/output_0.npy expected_0.npy --rtol $RTOL --atol $ATOL
# prints one PASS/FAIL line per model and a final "N passed, N failed";
# exits 1 if anything failed. Logs: OUTDIR/<name>/{compile,run,cmp}.log
# Env: RTOL (1e-3), ATOL (1e-4), PYTHON (python3 with numpy), TIMEOUT (600 s per step).
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 OUTDIR MRTC_BINARY [NAME...]" >&2
    exit 2
fi
OUTDIR=${1%/}
MRTC=$2
shift 2
RTOL=${RTOL:-1e-3}
ATOL=${ATOL:-1e-4}
TIMEOUT=${TIMEOUT:-600}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NPYCMP="$HERE/../tools/npycmp.py"
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    if ! "$PYTHON" -c 'import numpy' 2>/dev/null && [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; fi
fi
case "$MRTC" in */*) MRTC=$(cd "$(dirname "$MRTC")" && pwd)/$(basename "$MRTC") ;; esac

if [ ! -d "$OUTDIR" ]; then echo "no such directory: $OUTDIR" >&2; exit 2; fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ $# -gt 0 ]; then
    NAMES=("$@")
else
    NAMES=()
    for m in "$OUTDIR"/*/model.onnx; do
        [ -e "$m" ] || continue
        NAMES+=("$(basename "$(dirname "$m")")")
    done
fi
if [ ${#NAMES[@]} -eq 0 ]; then echo "no models under $OUTDIR" >&2; exit 2; fi

pass=0
fail=0
for name in "${NAMES[@]}"; do
    d="$OUTDIR/$name"
    rm -rf "$d/prog" "$d/out"
    status=PASS
    detail=""
    ctime="-"
    rtime="-"
    if [ ! -f "$d/model.onnx" ] || [ ! -f "$d/input_0.npy" ] || [ ! -f "$d/expected_0.npy" ]; then
        status=FAIL; detail="missing model.onnx/input_0.npy/expected_0.npy"
    else
        t0=$(now)
        timeout "$TIMEOUT" "$MRTC" "$d/model.onnx" -o "$d/prog" >"$d/compile.log" 2>&1
        rc=$?
        t1=$(now)
        ctime="$(elapsed "$t0" "$t1")s"
        if [ $rc -ne 0 ] || [ ! -x "$d/prog" ]; then
            status=FAIL; detail="compile failed (rc=$rc): $(tail -n 1 "$d/compile.log")"
        else
            mkdir -p "$d/out"
            t0=$(now)
            timeout "$TIMEOUT" "$d/prog" "$d/input_0.npy" -o "$d/out" >"$d/run.log" 2>&1
            rc=$?
            t1=$(now)
            rtime="$(elapsed "$t0" "$t1")s"
            if [ $rc -ne 0 ] || [ ! -f "$d/out/output_0.npy" ]; then
                status=FAIL; detail="run failed (rc=$rc): $(tail -n 1 "$d/run.log")"
            else
                "$PYTHON" "$NPYCMP" "$d/out/output_0.npy" "$d/expected_0.npy" \
                    --rtol "$RTOL" --atol "$ATOL" >"$d/cmp.log" 2>&1
                rc=$?
                detail=$(tail -n 1 "$d/cmp.log")
                [ $rc -eq 0 ] || status=FAIL
            fi
        fi
    fi
    if [ "$status" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    printf '%-4s %-24s compile=%-8s run=%-8s %s\n' "$status" "$name" "$ctime" "$rtime" "$detail"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
