#!/bin/sh
# One ONNX node-test case through the real command line:
#
#   run_case.sh CASE_DIR WORK_DIR
#
#   $MRTC CASE_DIR/model.onnx -o WORK/prog [--cflags "$MRTC_TEST_CFLAGS"]
#   WORK/prog CASE_DIR/test_data_set_0/input_K.pb ... -o WORK
#   $MRTC compare WORK/output_K.npy CASE_DIR/test_data_set_0/output_K.pb --rtol R --atol A   (every K)
#
# When the compile fails with a hint `--bind NAME=FILE` (an input decides a
# shape), every NAME it gives is bound to its test input (input_K.pb, K the
# input's position in graph.input) and the compile retried; the program then
# gets only the inputs that are not bound.  Tolerances: rtol
# 1e-3, atol 1e-4 (float16 outputs: rtol 1e-2); integers and bools exact
# (mrtc compare ignores the tolerances for them).
#
# Prints one line "CASE STATUS DETAIL" (DETAIL: the first error line) to
# WORK/result and stdout, STATUS one of PASS FAIL-compile FAIL-run
# FAIL-compare TIMEOUT CRASH (a signal or a sanitizer report on stderr).
# Env: MRTC (mrtc binary, absolute), MRTC_TEST_CFLAGS (sanitizers, for SAN=1), TIMEOUT (60 s per step),
# PYTHON (python3; used to map a bound input's name to its index).
set -u
case_dir=${1%/}
w=$2
name=$(basename "$case_dir")
d=$case_dir/test_data_set_0
to=${TIMEOUT:-60}
here=$(cd "$(dirname "$0")" && pwd)
# mrtc never frees its memory (by design): no leak checks on it under SAN=1;
# the generated programs keep them
masan="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
rm -rf "$w"
mkdir -p "$w"

result() {
    detail=$(printf '%s' "$2" | tr '\t\r\n' '   ' | sed "s#$w/#DIR/#g" | cut -c1-300)
    printf '%s %s%s\n' "$name" "$1" "${detail:+ $detail}" | tee "$w/result"
    exit 0
}

# first line of a step's stderr that says what went wrong
errline() {
    l=$(grep -m1 -E 'error|ERROR|runtime error' "$1" 2>/dev/null)
    [ -n "$l" ] || l=$(grep -m1 . "$1" 2>/dev/null)
    [ -n "$l" ] || l="exit status $2"
    printf '%s' "$l"
}

# TIMEOUT / CRASH verdicts common to every step; returns when neither
check_abnormal() { # rc stderr step
    if [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; then result TIMEOUT "$3 took more than ${to}s"; fi
    s=$(grep -m1 -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|stack smashing|double free|malloc\(\)|free\(\)' "$2" 2>/dev/null)
    if [ -n "$s" ]; then result CRASH "$3: $s"; fi
    if [ "$1" -gt 128 ]; then result CRASH "$3: killed by signal $(($1 - 128)): $(errline "$2" "$1")"; fi
}

[ -f "$case_dir/model.onnx" ] || result FAIL-compile "no model.onnx in $case_dir"

# index of a graph input by name, from the model (python3), else (no
# python3) from the error message's node input index: right for one-node
# models whose inputs are in node order, as most node tests are
input_index() { # name errmsg
    if info=$(${PYTHON:-python3} "$here/onnx_info.py" inputs "$case_dir/model.onnx" 2>/dev/null); then
        printf '%s\n' "$info" | awk -v n="$1" '$2 == n && $3 != "init" { print $1; exit }'
    else
        printf '%s' "$2" | sed -n "s/.*input \([0-9][0-9]*\) ('$1').*/\1/p"
    fi
}

bound=""   # "K:NAME" items
tries=0
while :; do
    set -- "$case_dir/model.onnx" -o "$w/prog"
    if [ -n "${MRTC_TEST_CFLAGS:-}" ]; then set -- "$@" --cflags "$MRTC_TEST_CFLAGS"; fi
    for b in $bound; do set -- "$@" --bind "${b#*:}=$d/input_${b%%:*}.pb"; done
    ASAN_OPTIONS=$masan timeout -k 5 "$to" "$MRTC" "$@" >"$w/compile.out" 2>"$w/compile.err"
    rc=$?
    check_abnormal $rc "$w/compile.err" compile
    [ $rc -eq 0 ] && break
    msg=$(errline "$w/compile.err" $rc)
    # bind every input the hint names (that is not bound yet), and retry
    names=$(printf '%s' "$msg" | grep -o -e '--bind [^ =][^ =]*=' | sed 's/^--bind //; s/=$//')
    added=0
    if [ -n "$names" ] && [ $tries -lt 16 ]; then
        for bn in $names; do
            case " $bound " in *":$bn "*) continue ;; esac
            k=$(input_index "$bn" "$msg")
            if [ -n "$k" ] && [ -f "$d/input_$k.pb" ]; then
                bound="$bound $k:$bn"
                added=1
            fi
        done
    fi
    if [ $added = 1 ]; then
        tries=$((tries + 1))
        continue
    fi
    result FAIL-compile "$msg"
done

set --
k=0
while [ -f "$d/input_$k.pb" ]; do
    case " $bound " in *" $k:"*) ;; *) set -- "$@" "$d/input_$k.pb" ;; esac
    k=$((k + 1))
done
timeout -k 5 "$to" "$w/prog" "$@" -o "$w" >"$w/run.out" 2>"$w/run.err"
rc=$?
check_abnormal $rc "$w/run.err" run
[ $rc -eq 0 ] || result FAIL-run "$(errline "$w/run.err" $rc)"

k=0
while [ -f "$d/output_$k.pb" ]; do
    got=$w/output_$k.npy
    [ -f "$got" ] || result FAIL-run "the program wrote no output_$k.npy"
    rtol=1e-3
    if head -c 128 "$got" | grep -q "'<f2'"; then rtol=1e-2; fi
    ASAN_OPTIONS=$masan timeout -k 5 "$to" "$MRTC" compare "$got" "$d/output_$k.pb" --rtol $rtol --atol 1e-4 >"$w/cmp$k.out" 2>"$w/cmp$k.err"
    rc=$?
    check_abnormal $rc "$w/cmp$k.err" compare
    if [ $rc -ne 0 ]; then
        l=$(grep -m1 MISMATCH "$w/cmp$k.out")
        [ -n "$l" ] || l=$(errline "$w/cmp$k.err" $rc)
        result FAIL-compare "output_$k: $l"
    fi
    k=$((k + 1))
done
[ $k -gt 0 ] || result FAIL-compare "no output_K.pb in $d"
result PASS ""
