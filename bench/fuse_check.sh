#!/usr/bin/env bash
# Fused against unfused code.
#
#   bench/fuse_check.sh [MODEL...]
#
# 1. On the zoo: for each model, compile with and without --no-fuse, run
#    both on input_0.npy and compare the outputs with a tight tolerance
#    (fusion may only change float rounding).
# 2. On the small models of bench/make_fuse_models.py (every fusion
#    pattern: BatchNorm folding, constant and residual Add, each activation,
#    depthwise and grouped conv, Gemm/MatMul epilogues, a fusable value that
#    is a graph output): fused, unfused and the interpreter (mrtc run)
#    against ONNX Runtime (rtol 1e-3, atol 1e-4).
# Env: MRTC, ZOO (/tmp/zoo), WORK, RTOL (1e-5), ATOL (1e-6), PYTHON (with
# onnx; /usr/bin/python3), NODE, ORT_DIR (see tests/tools/ort_run.js).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MRTC=${MRTC:-$HERE/../mrtc}
ZOO=${ZOO:-/tmp/zoo}
WORK=${WORK:-/tmp/mrtc_fuse_check}
RTOL=${RTOL:-1e-5}
ATOL=${ATOL:-1e-6}
if [ $# -gt 0 ]; then MODELS=("$@"); else MODELS=(); for m in "$ZOO"/*/model.onnx; do MODELS+=("$(basename "$(dirname "$m")")"); done; fi
pass=0 fail=0
for m in "${MODELS[@]}"; do
    w=$WORK/$m
    mkdir -p "$w/f" "$w/n"
    nf=$("$MRTC" "$ZOO/$m/model.onnx" -o "$w/pf" -v 2>&1 | sed -n 's/.*fusion: \([0-9]*\) nodes absorbed.*/\1/p')
    "$MRTC" "$ZOO/$m/model.onnx" -o "$w/pn" --no-fuse &&
    "$w/pf" "$ZOO/$m/input_0.npy" -o "$w/f" > /dev/null && "$w/pn" "$ZOO/$m/input_0.npy" -o "$w/n" > /dev/null &&
    r=$("$MRTC" compare "$w/f/output_0.npy" "$w/n/output_0.npy" --rtol "$RTOL" --atol "$ATOL")
    if [ $? -eq 0 ]; then pass=$((pass + 1)); s=PASS; else fail=$((fail + 1)); s=FAIL; fi
    printf '%-4s %-24s %3s nodes fused  %s\n' "$s" "$m" "${nf:-?}" "${r:-}"
done
PYTHON=${PYTHON:-/usr/bin/python3}
fm=$WORK/fuse_models
if [ $# -eq 0 ] && "$PYTHON" "$HERE/make_fuse_models.py" "$fm" 2>/dev/null; then
    for d in "$fm"/*/; do
        d=${d%/}
        m=$(basename "$d")
        mkdir -p "$d/ort" "$d/f" "$d/n" "$d/i"
        if ! ${NODE:-node} "$HERE/../tests/tools/ort_run.js" "$d/model.onnx" "$d/input_0.npy" -o "$d/ort" > /dev/null 2>&1; then
            printf 'SKIP %-24s (ONNX Runtime could not run it)\n' "$m"
            continue
        fi
        fused=$("$MRTC" "$d/model.onnx" -o "$d/pf" -v 2>&1 | sed -n 's/^mrtc: fused //p' | paste -sd ';' -)
        ok=1
        "$MRTC" "$d/model.onnx" -o "$d/pn" --no-fuse && "$d/pf" "$d/input_0.npy" -o "$d/f" > /dev/null &&
            "$d/pn" "$d/input_0.npy" -o "$d/n" > /dev/null && "$MRTC" run "$d/model.onnx" "$d/input_0.npy" -o "$d/i" || ok=0
        for e in "$d"/ort/output_*.npy; do
            k=$(basename "$e")
            for v in f n i; do "$MRTC" compare "$d/$v/$k" "$e" > /dev/null 2>&1 || ok=0; done
        done
        if [ $ok = 1 ]; then pass=$((pass + 1)); s=PASS; else fail=$((fail + 1)); s=FAIL; fi
        printf '%-4s %-24s fused, unfused, interpreter = ORT; fused: %s\n' "$s" "$m" "$fused"
    done
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
