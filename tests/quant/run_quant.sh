#!/bin/sh
# The quant tier: precision config, calibration, int8 / fp16 code.
#
#   tests/quant/run_quant.sh
#
#   unit        tests/quant/test_int8.c: k_int8.h / k_fp16.h arithmetic against references
#   accuracy    the digits CNN (examples/digits), tests/models/mlp_digits and cnn_digits in
#               int8, calibrated on 200 training images (tests/quant/data): the COMPILED
#               executable on the whole held-out test set, top-1 within 0.5 points of fp32
#   bitexact    mrtc run --config (the quantized interpreter) and the executable write
#               byte-identical outputs (int8, fp16, mixed)
#   overrides   by_name / by_type change the report and the generated code; int8 weights
#               bytes < 0.3 x fp32 (NAME_WEIGHTS_BYTES); generated code -pedantic clean
#   config      MASE-style config, calibration cache, every calibrator, error messages
#   qdq         tests/quant/models/qdq_*.onnx (PyTorch fake quantization) on the int8 kernels
#   zoo         MRTC_QUANT_ZOO=DIR (e.g. /tmp/zoo): resnet18 int8 output SQNR >= 20 dB
#
# Prints PASS/FAIL lines and ends with "N passed, N failed".
# Env: MRTC (default ./mrtc), MRTC_TEST_CFLAGS, CC, MRTC_QUANT_ZOO, PYTHON (with numpy, for the zoo part).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MRTC=${MRTC:-$root/mrtc}
case "$MRTC" in /*) ;; */*) MRTC=$(cd "$(dirname "$MRTC")" && pwd)/$(basename "$MRTC") ;; *) MRTC=$(command -v "$MRTC") ;; esac
CC=${CC:-cc}
W=$(mktemp -d "${TMPDIR:-/tmp}/mrtc-quant.XXXXXX")
trap 'rm -rf "$W"' EXIT
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS quant: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL quant: $*" | cut -c1-400; }
# t NAME CMD...: PASS when CMD succeeds, else FAIL with the last lines of its output
t() {
    name=$1
    shift
    if "$@" >"$W/log" 2>&1; then ok "$name"; else bad "$name: $(tail -n 3 "$W/log" | tr '\n' ' ')"; fi
}
mrtc() { "$MRTC" "$@"; }
# mrtc_c: mrtc building a program, with the test C flags (sanitizers) when set
mrtc_c() { if [ -n "${MRTC_TEST_CFLAGS:-}" ]; then mrtc "$@" --cflags "$MRTC_TEST_CFLAGS"; else mrtc "$@"; fi; }

D=$root/examples/digits
Q=$here/data
cd "$W" || exit 1

# ------------------------------------------------------------------ unit
if $CC -std=c99 -Wall -Wextra -pedantic -Werror -O2 ${MRTC_TEST_CFLAGS:-} -I"$root/runtime" "$here/test_int8.c" -o "$W/t8" -lm \
    >"$W/cc.log" 2>&1; then
    "$W/t8" >"$W/t8.log" 2>&1
    grep '^FAIL' "$W/t8.log"
    p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$W/t8.log")
    f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$W/t8.log")
    [ -n "$p" ] || { p=0; f=1; echo "FAIL quant: test_int8 did not finish"; }
    pass=$((pass + p))
    fail=$((fail + f))
    [ "$f" = 0 ] && echo "PASS quant: kernel arithmetic ($p checks)"
else
    bad "test_int8.c does not build: $(head -n 3 "$W/cc.log" | tr '\n' ' ')"
fi

# ------------------------------------------------------------- accuracy
# top1 FILE: the accuracy as a number
top1() { mrtc accuracy "$1" "$2" | sed -n 's/^top-1 accuracy \([0-9.]*\).*/\1/p'; }

# model NAME ONNX CALIB TESTX: fp32 and int8 executables on the whole test set
model() {
    name=$1 onnx=$2 cal=$3 tx=$4
    mkdir -p "$W/$name/f" "$W/$name/q" "$W/$name/r"
    cat >"$W/$name/int8.json" <<EOF
{ "default": { "precision": "int8" },
  "activations": { "calibrator": "percentile", "percentile": 99.99 },
  "calibration": { "data": ["$cal"] } }
EOF
    if ! mrtc_c "$onnx" -o "$W/$name/fp32" >"$W/log" 2>&1 ||
        ! mrtc_c "$onnx" -o "$W/$name/int8" --config "$W/$name/int8.json" --report "$W/$name/r.json" >>"$W/log" 2>&1 ||
        ! "$W/$name/fp32" "$tx" -o "$W/$name/f" >>"$W/log" 2>&1 ||
        ! "$W/$name/int8" "$tx" -o "$W/$name/q" >>"$W/log" 2>&1; then
        bad "$name int8: compile or run failed: $(tail -n 2 "$W/log" | tr '\n' ' ')"
        return
    fi
    af=$(top1 "$W/$name/f/output_0.npy" "$D/test_y.npy")
    aq=$(top1 "$W/$name/q/output_0.npy" "$D/test_y.npy")
    if awk -v a="$af" -v b="$aq" 'BEGIN { exit !(a - b <= 0.005 + 1e-9) }'; then
        ok "$name int8 executable top-1 $aq vs fp32 $af (360 test images)"
    else
        bad "$name int8 executable top-1 $aq vs fp32 $af: more than 0.5 points lost"
    fi
    # the quantized interpreter and the generated code agree bit for bit
    if mrtc run "$onnx" --config "$W/$name/int8.json" "$tx" -o "$W/$name/r" >"$W/log" 2>&1 &&
        cmp -s "$W/$name/q/output_0.npy" "$W/$name/r/output_0.npy"; then
        ok "$name int8: interpreter and executable bit-identical"
    else
        bad "$name int8: interpreter and executable differ $(tail -n 2 "$W/log" | tr '\n' ' ')"
    fi
}

model digits_cnn "$D/model.onnx" "$Q/calib_x.npy" "$D/test_x.npy"
model mlp_digits "$root/tests/models/mlp_digits/model.onnx" "$Q/calib_mlp_x.npy" "$Q/mlp_test_x.npy"
model cnn_digits "$root/tests/models/cnn_digits/model.onnx" "$Q/calib_x.npy" "$D/test_x.npy"

# weights bytes: int8 < 0.3 x fp32
for m in digits_cnn mlp_digits cnn_digits; do
    case $m in
    digits_cnn) onnx=$D/model.onnx ;;
    *) onnx=$root/tests/models/$m/model.onnx ;;
    esac
    if mrtc "$onnx" -o "$W/$m/f32.c" -n f32 >/dev/null 2>&1 &&
        mrtc "$onnx" -o "$W/$m/i8.c" -n i8 --config "$W/$m/int8.json" >/dev/null 2>&1; then
        bf=$(sed -n 's/^#define F32_WEIGHTS_BYTES //p' "$W/$m/f32.h")
        bq=$(sed -n 's/^#define I8_WEIGHTS_BYTES //p' "$W/$m/i8.h")
        if awk -v a="$bq" -v b="$bf" 'BEGIN { exit !(a < 0.3 * b) }'; then ok "$m weights bytes int8 $bq < 0.3 x fp32 $bf"
        else bad "$m weights bytes int8 $bq not < 0.3 x fp32 $bf"; fi
        if $CC -std=c99 -Wall -Wextra -pedantic -Werror -O2 -c "$W/$m/i8.c" -o "$W/$m/i8.o" >"$W/log" 2>&1; then
            ok "$m int8 model.c clean under -std=c99 -Wall -Wextra -pedantic -Werror"
        else bad "$m int8 model.c warnings: $(head -n 3 "$W/log" | tr '\n' ' ')"; fi
    else
        bad "$m: compile to .c failed"
    fi
done

# ------------------------------------------------------------- fp16, mixed
cat >"$W/fp16.json" <<EOF
{ "default": { "precision": "fp16" } }
EOF
cat >"$W/mixed.json" <<EOF
{ "default":  { "precision": "int8" },
  "by_type":  { "Gemm": { "precision": "fp32" } },
  "by_name":  { "/features/features.0/Conv": { "precision": "fp16" } },
  "calibration": { "data": ["$Q/calib_x.npy"] } }
EOF
# (mixed: its fp32 Gemm runs OpenBLAS in the interpreter, so float rounding may differ slightly)
for c in fp16 mixed; do
    mkdir -p "$W/$c/q" "$W/$c/r"
    if [ $c = fp16 ]; then same="cmp -s"; what="bit-identical"; else same="mrtc compare --rtol 1e-5 --atol 1e-5"; what="agree"; fi
    if mrtc_c "$D/model.onnx" --config "$W/$c.json" -o "$W/$c/prog" >"$W/log" 2>&1 &&
        "$W/$c/prog" "$D/test_x.npy" -o "$W/$c/q" >>"$W/log" 2>&1 &&
        mrtc run "$D/model.onnx" --config "$W/$c.json" "$D/test_x.npy" -o "$W/$c/r" >>"$W/log" 2>&1 &&
        $same "$W/$c/q/output_0.npy" "$W/$c/r/output_0.npy" >>"$W/log" 2>&1; then
        ok "digits $c: interpreter and executable $what"
    else
        bad "digits $c: $(tail -n 2 "$W/log" | tr '\n' ' ')"
    fi
    a=$(top1 "$W/$c/q/output_0.npy" "$D/test_y.npy")
    if awk -v a="$a" 'BEGIN { exit !(a >= 0.98) }'; then ok "digits $c top-1 $a"; else bad "digits $c top-1 $a < 0.98"; fi
done

# ------------------------------------------------------------- overrides
# the report and the code of the mixed config against plain int8
mrtc "$D/model.onnx" --config "$W/mixed.json" -o "$W/mixed.c" --report "$W/mixed.r.json" >"$W/log" 2>&1
prec() { # report node -> precision and why
    grep -F "\"name\": \"$2\"," "$1" | sed -n 's/.*"precision": "\([a-z0-9]*\)", "why": "\([^"]*\)".*/\1 \2/p'
}
r1=$(prec "$W/mixed.r.json" /features/features.0/Conv)
r2=$(prec "$W/mixed.r.json" /classifier/classifier.1/Gemm)
r3=$(prec "$W/mixed.r.json" /features/features.2/Conv)
r0=$(prec "$W/digits_cnn/r.json" /features/features.0/Conv)
[ "$r0" = "int8 default" ] && case $r1 in "fp16 name"*) true ;; *) false ;; esac &&
    ok "by_name override in the report: '$r0' -> '$r1'" || bad "by_name override in the report: '$r0' -> '$r1'"
case $r2 in "fp32 type"*) ok "by_type override in the report: '$r2'" ;; *) bad "by_type override in the report: '$r2'" ;; esac
[ "$r3" = "int8 default" ] && ok "default rule in the report: '$r3'" || bad "default rule: '$r3'"
if $CC -std=c99 -Wall -Wextra -pedantic -Werror -O2 -c "$W/mixed.c" -o "$W/mixed.o" >"$W/log" 2>&1; then
    ok "mixed int8 / fp16 / fp32 model.c clean under -std=c99 -Wall -Wextra -pedantic -Werror"
else bad "mixed model.c warnings: $(head -n 3 "$W/log" | tr '\n' ' ')"; fi
n_h=$(grep -c 'k_hconv(&s' "$W/mixed.c")
n_qc=$(grep -c 'k_qconv_i8(&s' "$W/mixed.c")
n_qg=$(grep -c 'k_qgemm_i8(&s' "$W/mixed.c")
n_fg=$(grep -c 'k_gemm\|k_qgemm' "$W/mixed.c")
if [ "$n_h" = 1 ] && [ "$n_qc" = 1 ] && [ "$n_qg" = 0 ] && [ "$n_fg" -gt 0 ]; then
    ok "overrides visible in the generated code (1 fp16 conv, 1 int8 conv, float Gemm)"
else
    bad "overrides in the generated code: k_hconv x$n_h, k_qconv_i8 x$n_qc, k_qgemm_i8 x$n_qg"
fi

# ------------------------------------------------------------- config
cat >"$W/mase.json" <<EOF
{ "by": "type",
  "default": { "config": { "name": "integer", "data_in_width": 8, "weight_width": 8 },
               "input": { "calibrator": "max", "quantize_axis": false },
               "weight": { "quantize_axis": 0 } },
  "linear": { "config": { "name": "fp32" } } }
EOF
mrtc "$D/model.onnx" --config "$W/mase.json" --calib "$Q/calib_x.npy" -o "$W/mase.c" --report "$W/mase.r.json" >"$W/log" 2>&1
m1=$(prec "$W/mase.r.json" /features/features.2/Conv)
m2=$(prec "$W/mase.r.json" /classifier/classifier.3/Gemm)
case "$m1|$m2" in "int8 default|fp32 type"*) ok "MASE-style config: conv '$m1', linear '$m2'" ;;
*) bad "MASE-style config: conv '$m1', linear '$m2' $(tail -n 1 "$W/log")" ;; esac

# calibration cache: the second compile reads it (no --calib) and gives the same program output
mkdir -p "$W/c1" "$W/c2"
if mrtc "$D/model.onnx" --precision int8 --calib "$Q/calib_x.npy" --calib-cache "$W/cal.cache" -o "$W/c1/p" >"$W/log" 2>&1 &&
    mrtc "$D/model.onnx" --precision int8 --calib-cache "$W/cal.cache" -o "$W/c2/p" >>"$W/log" 2>&1 &&
    "$W/c1/p" "$D/test_x.npy" -o "$W/c1" && "$W/c2/p" "$D/test_x.npy" -o "$W/c2" &&
    cmp -s "$W/c1/output_0.npy" "$W/c2/output_0.npy"; then
    ok "calibration cache reused without samples, same output"
else
    bad "calibration cache: $(tail -n 2 "$W/log" | tr '\n' ' ')"
fi

# every calibrator: eval reports top-1 and SQNR, >= 30 dB on digits
for c in max percentile entropy mse; do
    echo "{\"default\": {\"precision\": \"int8\"}, \"activations\": {\"calibrator\": \"$c\"}}" >"$W/cal_$c.json"
    if mrtc eval "$D/model.onnx" --config "$W/cal_$c.json" --calib-cache "$W/cal.cache" --data "$D/test_x.npy" \
        --labels "$D/test_y.npy" >"$W/eval_$c.log" 2>&1; then
        s=$(sed -n 's/^output 0 SQNR: *\([-0-9.inf]*\) dB.*/\1/p' "$W/eval_$c.log")
        q=$(sed -n 's/^top-1 quantized: *\([0-9.]*\).*/\1/p' "$W/eval_$c.log")
        if awk -v s="$s" 'BEGIN { exit !(s >= 30) }'; then ok "eval, calibrator $c: top-1 $q, SQNR $s dB"
        else bad "eval, calibrator $c: SQNR $s dB < 30"; fi
    else
        bad "eval, calibrator $c: $(tail -n 2 "$W/eval_$c.log" | tr '\n' ' ')"
    fi
done
grep -q "per-layer SQNR" "$W/eval_max.log" && grep -q "/features/features.2/Conv *Conv *int8" "$W/eval_max.log" &&
    ok "eval prints the per-layer SQNR table" || bad "eval: no per-layer SQNR table"

# errors: E NAME EXPECTED-TEXT JSON
E() {
    name=$1 want=$2
    printf '%s\n' "$3" >"$W/e.json"
    if mrtc "$D/model.onnx" --config "$W/e.json" --calib "$Q/calib_x.npy" -o "$W/e.c" >"$W/e.log" 2>&1; then
        bad "config error $name: accepted"
    elif grep -q -F -- "$want" "$W/e.log" && [ ! -e "$W/e.c" ]; then
        ok "config error $name: $(head -n 1 "$W/e.log")"
    else
        bad "config error $name: '$(head -n 1 "$W/e.log")' does not say '$want'"
    fi
}
E "unknown key" "'activations.calibratr': unknown key" '{"activations": {"calibratr": "max"}}'
E "wrong type" "'default.precision': must be a string" '{"default": {"precision": 8}}'
E "bad precision" "unknown precision 'int4'" '{"default": {"precision": "int4"}}'
E "no such node" "'by_name.conv9': no node named 'conv9'" '{"by_name": {"conv9": {"precision": "fp16"}}}'
E "no such type" "'by_type.Convolution': no operator type" '{"by_type": {"Convolution": {"precision": "fp16"}}}'
E "bad calibrator" "unknown calibrator 'magic'" '{"activations": {"calibrator": "magic"}}'
E "not JSON" "not valid JSON" '{"default": '
E "MASE bits" "16-bit integers are not supported" '{"by": "name", "default": {"input": {"precision": 16}}}'
E "top-level key" "'defaults': unknown key" '{"defaults": {}}'
if mrtc "$D/model.onnx" --precision int8 -o "$W/nocal.c" >"$W/log" 2>&1; then bad "int8 without calibration data accepted"
elif grep -q "int8 needs calibration data" "$W/log"; then ok "int8 without calibration data: $(head -n 1 "$W/log")"
else bad "int8 without calibration data: $(head -n 1 "$W/log")"; fi
if mrtc "$D/model.onnx" --precision int4 -o "$W/p.c" >"$W/log" 2>&1; then bad "--precision int4 accepted"
elif grep -q "expected fp32, fp16, int8 or auto" "$W/log"; then ok "--precision int4: $(head -n 1 "$W/log")"
else bad "--precision int4: $(head -n 1 "$W/log")"; fi
if [ -f "$here/models/mrtc_op.onnx" ]; then
    if mrtc "$here/models/mrtc_op.onnx" -o "$W/mo.c" >"$W/log" 2>&1; then bad "a model naming an internal Mrtc op was accepted"
    elif grep -q "unsupported operator" "$W/log"; then ok "internal ops cannot be named by a model: $(head -n 1 "$W/log")"
    else bad "internal op in a model: $(head -n 1 "$W/log")"; fi
fi

# ------------------------------------------------------------- auto
cat >"$W/auto.json" <<EOF
{ "default": { "precision": "auto" }, "min_sqnr": 45,
  "calibration": { "data": ["$Q/calib_x.npy"], "labels": "$Q/calib_y.npy" } }
EOF
if mrtc "$D/model.onnx" --config "$W/auto.json" -o "$W/auto.c" --report "$W/auto.r.json" >"$W/log" 2>&1 &&
    mrtc eval "$D/model.onnx" --config "$W/auto.json" --data "$D/test_x.npy" --labels "$D/test_y.npy" >"$W/auto.log" 2>&1; then
    s=$(sed -n 's/^output 0 SQNR: *\([-0-9.inf]*\) dB.*/\1/p' "$W/auto.log")
    nr=$(grep -c '"why": "auto: raised' "$W/auto.r.json")
    n8=$(grep -c '"precision": "int8", "why": "auto' "$W/auto.r.json")
    if [ "$nr" -gt 0 ] && [ "$n8" -gt 0 ] && awk -v s="$s" 'BEGIN { exit !(s >= 43) }'; then
        ok "auto (min_sqnr 45): $n8 layers int8, $nr raised; test-set SQNR $s dB"
    else
        bad "auto (min_sqnr 45): $n8 int8, $nr raised, test-set SQNR $s dB"
    fi
else
    bad "auto: $(tail -n 2 "$W/log" "$W/auto.log" 2>/dev/null | tr '\n' ' ')"
fi
cat >"$W/auto2.json" <<EOF
{ "default": { "precision": "auto", "max_accuracy_drop": 0.005 },
  "calibration": { "data": ["$Q/calib_x.npy"], "labels": "$Q/calib_y.npy" } }
EOF
if mrtc "$D/model.onnx" --config "$W/auto2.json" -o "$W/auto2.c" --report "$W/auto2.r.json" >"$W/log" 2>&1 &&
    ! grep -q '"why": "auto: raised' "$W/auto2.r.json" && grep -q '"precision": "int8", "why": "auto: int8 (within budget)"' "$W/auto2.r.json"; then
    ok "auto (max_accuracy_drop 0.005): every layer stays int8"
else
    bad "auto (max_accuracy_drop 0.005): $(tail -n 1 "$W/log")"
fi

# ------------------------------------------------------------- qdq
for m in "$here"/models/qdq_*.onnx; do
    [ -f "$m" ] || continue
    b=$(basename "$m" .onnx)
    exp=$here/models/$b.expected.npy
    inp=$here/models/$b.input.npy
    mkdir -p "$W/$b"
    if mrtc_c "$m" -o "$W/$b/prog" --precision int8 --report "$W/$b/r.json" >"$W/log" 2>&1 &&
        "$W/$b/prog" "$inp" -o "$W/$b" >>"$W/log" 2>&1; then
        n8=$(grep -c '"precision": "int8", "why": "qdq' "$W/$b/r.json")
        if mrtc compare "$W/$b/output_0.npy" "$exp" --atol "$(cat "$here/models/$b.atol")" --rtol 0 >"$W/cmp.log" 2>&1 && [ "$n8" -gt 0 ]; then
            ok "$b: $n8 QDQ layers on the int8 kernels, matches ONNX Runtime ($(cat "$W/cmp.log"))"
        else
            bad "$b: $(cat "$W/cmp.log") ($n8 int8 layers from QDQ)"
        fi
    else
        bad "$b: $(tail -n 2 "$W/log" | tr '\n' ' ')"
    fi
done

# ------------------------------------------------------------- zoo
Z=${MRTC_QUANT_ZOO:-}
PY=${PYTHON:-python3}
if ! "$PY" -c 'import numpy' 2>/dev/null && [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; fi
if [ -n "$Z" ] && [ ! -f "$Z/resnet18/model.onnx" ]; then bad "MRTC_QUANT_ZOO=$Z: no resnet18/model.onnx there"; fi
if [ -n "$Z" ] && [ -f "$Z/resnet18/model.onnx" ] && ! "$PY" -c 'import numpy' 2>/dev/null; then bad "zoo: needs python3 with numpy"; fi
if [ -n "$Z" ] && [ -f "$Z/resnet18/model.onnx" ] && "$PY" -c 'import numpy' 2>/dev/null; then
    "$PY" -c "
import numpy as np
np.save('$W/r_cal.npy', np.random.default_rng(1).standard_normal((32, 3, 224, 224), dtype=np.float32))
np.save('$W/r_eval.npy', np.random.default_rng(2).standard_normal((8, 3, 224, 224), dtype=np.float32))"
    for c in percentile entropy; do
        echo "{\"default\": {\"precision\": \"int8\"}, \"activations\": {\"calibrator\": \"$c\"}}" >"$W/z_$c.json"
        if mrtc eval "$Z/resnet18/model.onnx" --config "$W/z_$c.json" --calib "$W/r_cal.npy" --calib-cache "$W/r18.cache" \
            --data "$W/r_eval.npy" >"$W/z.log" 2>&1; then
            s=$(sed -n 's/^output 0 SQNR: *\([-0-9.inf]*\) dB.*/\1/p' "$W/z.log")
            if awk -v s="$s" 'BEGIN { exit !(s >= 20) }'; then ok "resnet18 int8 ($c): output SQNR $s dB"
            else bad "resnet18 int8 ($c): output SQNR $s dB < 20"; fi
        else
            bad "resnet18 int8 ($c): $(tail -n 2 "$W/z.log" | tr '\n' ' ')"
        fi
    done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
