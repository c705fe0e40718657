#!/bin/sh
# The CLI tier: every option and documented error of mrtc and of the
# programs it writes.
#
#   tests/cli/run_cli.sh
#
# An error must exit with status 1, print exactly one line on stderr,
# starting "mrtc: error: " (or "PROG: error: " for a generated program),
# leave no output file behind, and (SAN=1) no sanitizer report.  The models
# and data it uses are tests/cli/models/, written by make_models.py.
# Prints one line per failed check and ends with "N passed, N failed".
# Env: MRTC (default ./mrtc), MRTC_TEST_CFLAGS (extra flags for the C
# compiler when mrtc builds objects and programs), CC (default cc).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MRTC=${MRTC:-$root/mrtc}
case "$MRTC" in /*) ;; */*) MRTC=$(cd "$(dirname "$MRTC")" && pwd)/$(basename "$MRTC") ;; *) MRTC=$(command -v "$MRTC") ;; esac
CC=${CC:-cc}
M=$here/models
W=$(mktemp -d "${TMPDIR:-/tmp}/mrtc-cli.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
cd "$W" || exit 1
pass=0
fail=0
# mrtc never frees its memory (by design): no leak checks on it under SAN=1
masan="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
sanre='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL cli: %s\n' "$*" | cut -c1-400; }

mrtc() { ASAN_OPTIONS=$masan timeout 120 "$MRTC" "$@"; }
# compile to an object or a program, with the test C flags (sanitizers)
mrtc_cc() {
    if [ -n "${MRTC_TEST_CFLAGS:-}" ]; then mrtc "$@" --cflags "$MRTC_TEST_CFLAGS"; else mrtc "$@"; fi
}

# expect_error NAME PREFIX "FILES THAT MUST NOT EXIST" CMD...
expect_error() {
    name=$1 prefix=$2 gone=$3
    shift 3
    "$@" >"$W/out" 2>"$W/err"
    rc=$?
    why=""
    [ $rc -eq 1 ] || why="exit status $rc, expected 1;"
    n=$(wc -l <"$W/err")
    [ "$n" -eq 1 ] || why="$why $n lines on stderr, expected 1;"
    case "$(head -n 1 "$W/err")" in "$prefix"*) ;; *) why="$why stderr does not start with '$prefix';" ;; esac
    for f in $gone; do [ ! -e "$f" ] || why="$why $f left behind;"; done
    if grep -q -E "$sanre" "$W/err"; then why="$why sanitizer report;"; fi
    if [ -z "$why" ]; then ok; else bad "$name: $why stderr: $(head -n 1 "$W/err")"; fi
    rm -f $gone
}

# expect_cc_error NAME "FILES THAT MUST NOT EXIST" CMD...: the C compiler
# failed; its own messages may come first, mrtc's error line is the last
expect_cc_error() {
    name=$1 gone=$2
    shift 2
    "$@" >"$W/out" 2>"$W/err"
    rc=$?
    why=""
    [ $rc -eq 1 ] || why="exit status $rc, expected 1;"
    case "$(tail -n 1 "$W/err")" in "$E"*) ;; *) why="$why the last line on stderr does not start with '$E';" ;; esac
    [ "$(grep -c "^$E" "$W/err")" -eq 1 ] || why="$why not exactly one '$E' line;"
    for f in $gone; do [ ! -e "$f" ] || why="$why $f left behind;"; done
    if grep -q -E "$sanre" "$W/err"; then why="$why sanitizer report;"; fi
    if [ -z "$why" ]; then ok; else bad "$name: $why stderr: $(tail -n 1 "$W/err")"; fi
    rm -f $gone
}

# expect_ok NAME CMD...: exit 0 and no sanitizer report; stdout in $W/out
expect_ok() {
    name=$1
    shift
    "$@" >"$W/out" 2>"$W/err"
    rc=$?
    if [ $rc -ne 0 ]; then bad "$name: exit status $rc: $(grep -m1 . "$W/err")"; return 1; fi
    if grep -q -E "$sanre" "$W/err"; then bad "$name: sanitizer report: $(grep -m1 -E "$sanre" "$W/err")"; return 1; fi
    ok
}

# check NAME COND...: a shell test
check() {
    name=$1
    shift
    if "$@"; then ok; else bad "$name"; fi
}

E="mrtc: error: "

# ---------------------------------------------------------------- help, version
expect_ok "--help" mrtc --help && check "--help prints the usage on stdout" grep -q '^usage: mrtc' "$W/out"
expect_ok "--version" mrtc --version && check "--version prints 'mrtc VERSION'" grep -q '^mrtc [0-9]' "$W/out"
mrtc >/dev/null 2>&1
check "no arguments: exit status 1" [ $? -eq 1 ]

# ---------------------------------------------------------------- compile errors
printf 'this is a text file, not a model\n' >"$W/text.onnx"
head -c 100 "$root/tests/models/mlp_digits/model.onnx" >"$W/trunc.onnx"
head -c 100 "$M/mlp.onnx" >"$W/trunc2.onnx"
: >"$W/empty.onnx"
for t in c o exe; do
    case $t in c) o=$W/t.c gone="$W/t.c $W/t.h" ;; o) o=$W/t.o gone=$W/t.o ;; exe) o=$W/t gone=$W/t ;; esac
    expect_error "missing model (-o .$t)" "$E" "$gone" mrtc "$W/nonexistent.onnx" -o "$o"
    expect_error "truncated model (-o .$t)" "$E" "$gone" mrtc "$W/trunc.onnx" -o "$o"
    expect_error "unknown op (-o .$t)" "$E" "$gone" mrtc_cc "$M/unknown_op.onnx" -o "$o"
done
expect_error "truncated small model" "$E" "$W/t.c $W/t.h" mrtc "$W/trunc2.onnx" -o "$W/t.c"
expect_error "text file as model" "$E" "$W/t.c $W/t.h" mrtc "$W/text.onnx" -o "$W/t.c"
expect_error "empty file as model" "$E" "$W/t.c $W/t.h" mrtc "$W/empty.onnx" -o "$W/t.c"
expect_error "directory as model" "$E" "$W/t.c $W/t.h" mrtc "$W" -o "$W/t.c"
expect_error "op of an unknown domain" "$E" "$W/t.c $W/t.h" mrtc "$M/unknown_domain.onnx" -o "$W/t.c"
expect_error "attribute of the wrong type" "$E" "$W/t.c $W/t.h" mrtc "$M/bad_attr_type.onnx" -o "$W/t.c"
expect_error "unknown attribute" "$E" "$W/t.c $W/t.h" mrtc "$M/unknown_attr.onnx" -o "$W/t.c"
expect_error "missing required attribute" "$E" "$W/t.c $W/t.h" mrtc "$M/missing_attr.onnx" -o "$W/t.c"
expect_error "inconsistent shapes (Add [2,3] + [4])" "$E" "$W/t" mrtc_cc "$M/bad_shapes.onnx" -o "$W/t"
expect_error "cyclic graph" "$E" "$W/t.c $W/t.h" mrtc "$M/cycle.onnx" -o "$W/t.c"
expect_error "external data outside the model directory" "$E" "$W/t.o" mrtc_cc "$M/extdata_outside.onnx" -o "$W/t.o"
expect_error "no -o" "$E" "" mrtc "$M/add.onnx"
expect_error "-o without its argument" "$E" "" mrtc "$M/add.onnx" -o
expect_error "unknown option" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --frobnicate
expect_error "-n not a C identifier" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" -n 9lives
expect_error "--target cuda" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --target cuda
expect_error "--target unknown" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --target fpga
expect_error "--config file that does not exist" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --config "$W/c.json"
expect_error "--shape bad dims" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --shape x=2xq
expect_error "--shape wrong rank" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --shape x=6
expect_error "--shape unknown input" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --shape nosuch=2x3
expect_error "--shape without =" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --shape 2x3
expect_error "--bind unknown input" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --bind nosuch="$M/x23.npy"
expect_error "--bind unreadable file" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --bind y="$W/nonexistent.npy"
expect_error "--bind not a .npy" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --bind y="$M/garbage.npy"
expect_error "--bind wrong dtype" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --bind y="$M/x23_i32.npy"
expect_error "--bind wrong shape" "$E" "$W/t.c $W/t.h" mrtc "$M/add.onnx" -o "$W/t.c" --bind y="$M/x4.npy"
expect_cc_error "--cc that fails" "$W/t" mrtc "$M/add.onnx" -o "$W/t" --cc false
expect_cc_error "--cc that does not exist" "$W/t.o" mrtc "$M/add.onnx" -o "$W/t.o" --cc "$W/no-such-cc"
expect_cc_error "--cflags the compiler rejects" "$W/t" mrtc "$M/add.onnx" -o "$W/t" --cflags --no-such-flag
expect_error "-o in a missing directory" "$E" "$W/nodir/t.c $W/nodir/t.h" mrtc "$M/add.onnx" -o "$W/nodir/t.c"
expect_error "inspect: missing model" "$E" "" mrtc inspect "$W/nonexistent.onnx"
expect_error "inspect: text file" "$E" "" mrtc inspect "$W/text.onnx"

# ---------------------------------------------------------------- mrtc run errors
mkdir -p "$W/r"
expect_error "run: missing input file" "$E" "$W/r/output_0.npy" mrtc run "$M/add.onnx" "$W/nonexistent.npy" "$M/x23.npy" -o "$W/r"
expect_error "run: unreadable input (not a .npy)" "$E" "$W/r/output_0.npy" mrtc run "$M/add.onnx" "$M/garbage.npy" "$M/x23.npy" -o "$W/r"
expect_error "run: wrong-shaped input" "$E" "$W/r/output_0.npy" mrtc run "$M/add.onnx" "$M/x4.npy" "$M/x23.npy" -o "$W/r"
expect_error "run: wrong dtype" "$E" "$W/r/output_0.npy" mrtc run "$M/add.onnx" "$M/x23_i32.npy" "$M/x23.npy" -o "$W/r"
expect_error "run: too few inputs" "$E" "$W/r/output_0.npy" mrtc run "$M/add.onnx" "$M/x23.npy" -o "$W/r"
expect_error "run: unknown op" "$E" "$W/r/output_0.npy" mrtc run "$M/unknown_op.onnx" "$M/x23.npy" -o "$W/r"

# ---------------------------------------------------------------- compare
expect_ok "compare: equal files" mrtc compare "$M/x23.npy" "$M/x23.npy" && check "compare: says OK" grep -q '^OK' "$W/out"
mrtc compare "$M/x23.npy" "$M/x23.npy" --rtol 0 --atol 0 >/dev/null 2>&1
check "compare --rtol 0 --atol 0 on equal files: exit 0" [ $? -eq 0 ]
mrtc run "$M/add.onnx" "$M/x23.npy" "$M/x23.npy" -o "$W/r" >/dev/null 2>&1
mrtc compare "$W/r/output_0.npy" "$M/x23.npy" >"$W/out" 2>&1
check "compare: different values: exit 1 and MISMATCH" [ $? -eq 1 ] && check "compare: MISMATCH line" grep -q MISMATCH "$W/out"
rm -f "$W/r/output_0.npy"
expect_error "compare: shapes differ" "$E" "" mrtc compare "$M/x23.npy" "$M/x46.npy"
expect_error "compare: dtypes differ" "$E" "" mrtc compare "$M/x23.npy" "$M/x23_i32.npy"
expect_error "compare: not a .npy" "$E" "" mrtc compare "$M/garbage.npy" "$M/x23.npy"
expect_error "compare: one file" "$E" "" mrtc compare "$M/x23.npy"
expect_error "accuracy: one file" "$E" "" mrtc accuracy "$M/x23.npy"
expect_error "accuracy: labels do not match" "$E" "" mrtc accuracy "$M/x23.npy" "$M/x4.npy"

# ---------------------------------------------------------------- the generated program's errors
if expect_ok "build the add program" mrtc_cc "$M/add.onnx" -o "$W/addp"; then
    P="$W/addp: error: "
    mkdir -p "$W/po"
    O="$W/po/output_0.npy"
    expect_error "prog: missing input file" "$P" "$O" "$W/addp" "$W/nonexistent.npy" "$M/x23.npy" -o "$W/po"
    expect_error "prog: unreadable input (not a .npy)" "$P" "$O" "$W/addp" "$M/garbage.npy" "$M/x23.npy" -o "$W/po"
    expect_error "prog: wrong-shaped input" "$P" "$O" "$W/addp" "$M/x4.npy" "$M/x23.npy" -o "$W/po"
    expect_error "prog: wrong dtype" "$P" "$O" "$W/addp" "$M/x23_i32.npy" "$M/x23.npy" -o "$W/po"
    expect_error "prog: too few inputs" "$P" "$O" "$W/addp" "$M/x23.npy" -o "$W/po"
    expect_error "prog: unknown option" "$P" "$O" "$W/addp" "$M/x23.npy" "$M/x23.npy" --frobnicate
    expect_error "prog: inputs with different sample counts" "$P" "$O" "$W/addp" "$M/x46.npy" "$M/x23.npy" -o "$W/po"
    expect_error "prog: -o in a missing directory" "$P" "$W/nodir/output_0.npy" "$W/addp" "$M/x23.npy" "$M/x23.npy" -o "$W/nodir"
    expect_ok "prog --help" "$W/addp" --help
    expect_ok "prog: run" "$W/addp" "$M/x23.npy" "$M/x23.npy" -o "$W/po" &&
        mrtc run "$M/add.onnx" "$M/x23.npy" "$M/x23.npy" -o "$W/r" >/dev/null 2>&1 &&
        expect_ok "prog: output equals mrtc run's" mrtc compare "$W/po/output_0.npy" "$W/r/output_0.npy"
    expect_ok "prog: no inputs (built-in pseudo-random input)" "$W/addp" -o "$W/po"
    expect_ok "prog --bench 5" "$W/addp" "$M/x23.npy" "$M/x23.npy" --bench 5 -o "$W/po" &&
        check "prog --bench prints 'latency_ms median='" grep -q 'latency_ms median=' "$W/out"
fi

# ---------------------------------------------------------------- the generated C
# -o x.c writes x.c and x.h; they compile cleanly as strict C99; no malloc, no stdio
srcs=""
for m in "$M/add.onnx" "$M/mlp.onnx" "$M/extdata_ok.onnx" "$root/examples/digits/model.onnx" "$root"/tests/models/*/model.onnx; do
    [ -f "$m" ] || continue
    n=$(basename "$(dirname "$m")")_$(basename "$m" .onnx)
    case "$m" in "$M"/*) n=cli_$(basename "$m" .onnx) ;; esac
    mkdir -p "$W/c/$n"
    if ! mrtc "$m" -o "$W/c/$n/model.c" >"$W/out" 2>"$W/err"; then
        case "$m" in
        "$root"/tests/models/*) echo "note: cli: $m does not compile yet (the models tier reports it): $(head -n 1 "$W/err")" ;;
        *) bad "-o x.c for $m: $(head -n 1 "$W/err")" ;;
        esac
        continue
    fi
    ok
    check "-o x.c writes x.h beside x.c ($n)" [ -f "$W/c/$n/model.h" ]
    if ${CC} -std=c99 -Wall -Wextra -pedantic -Werror -c -o "$W/c/$n/model.o" "$W/c/$n/model.c" 2>"$W/err"; then ok
    else bad "generated C for $n does not compile cleanly (-std=c99 -Wall -Wextra -pedantic -Werror): $(grep -m1 -E 'error|warning' "$W/err")"
    fi
    if grep -n -E '(^|[^a-z_])(malloc|calloc|realloc|free|printf|fprintf|fopen|puts) *\(|#include *<stdio\.h>|FILE *\*|std(out|err)' \
        "$W/c/$n/model.c" "$W/c/$n/model.h" >"$W/out"; then
        bad "generated C for $n uses malloc or stdio: $(head -n 1 "$W/out")"
    else ok
    fi
    srcs="$srcs $n"
done

# determinism: the same model compiled twice gives the same bytes
for m in "$M/mlp.onnx" "$root/examples/digits/model.onnx"; do
    mkdir -p "$W/det1" "$W/det2"
    if mrtc "$m" -o "$W/det1/m.c" 2>/dev/null && mrtc "$m" -o "$W/det2/m.c" 2>/dev/null; then
        if cmp -s "$W/det1/m.c" "$W/det2/m.c" && cmp -s "$W/det1/m.h" "$W/det2/m.h"; then ok
        else bad "compiling $m twice gives different output"
        fi
    else bad "determinism: $m does not compile"
    fi
done

# -o x.o: the only global symbols are NAME_run and NAME_run_arena
if expect_ok "-o x.o" mrtc_cc "$M/mlp.onnx" -o "$W/m1.o" -n m1; then
    syms=$(nm -g --defined-only "$W/m1.o" | awk '{print $NF}' | sort | tr '\n' ' ')
    check "-o x.o defines exactly m1_run and m1_run_arena (got: $syms)" [ "$syms" = "m1_run m1_run_arena " ]
fi

# two models with different -n link into one program
if mrtc_cc "$M/add.onnx" -o "$W/m2.o" -n m2 2>"$W/err" && mrtc "$M/add.onnx" -o "$W/m2.c" -n m2 2>>"$W/err" &&
    mrtc "$M/mlp.onnx" -o "$W/m1.c" -n m1 2>>"$W/err"; then
    cat >"$W/two.c" <<'EOF'
#include <stdio.h>
#include "m1.h"
#include "m2.h"
static unsigned char arena[M1_ARENA_BYTES + 1] __attribute__((aligned(64)));
int main(void) {
  float x[6] = {0.5f, -1.0f, 2.0f, 0.0f, 3.5f, -2.5f}, y[6] = {1, 2, 3, 4, 5, 6}, z[6], h[8], h2[8];
  int i, bad = 0;
  if (m2_run(x, y, z) || m1_run(x, h) || m1_run_arena(arena, x, h2)) return 2;
  for (i = 0; i < 6; i++) bad |= z[i] != x[i] + y[i];
  for (i = 0; i < 8; i++) bad |= h[i] != h2[i] || h[i] < 0;
  if (M1_NUM_INPUTS != 1 || M2_NUM_INPUTS != 2 || M1_OUT0_SIZE != 8 || M2_OUT0_SIZE != 6) bad = 1;
  if (bad) printf("wrong results\n");
  return bad;
}
EOF
    # shellcheck disable=SC2086
    if ${CC} -std=c99 -Wall -Wextra -pedantic ${MRTC_TEST_CFLAGS:-} -I"$W" -o "$W/two" "$W/two.c" "$W/m1.o" "$W/m2.o" -lm 2>"$W/err"; then
        expect_ok "two models (-n m1, -n m2) in one program: results" "$W/two"
    else bad "two models (-n m1, -n m2) do not link into one program: $(grep -m1 -E 'error|multiple' "$W/err")"
    fi
else bad "two models: compile failed: $(head -n 1 "$W/err")"
fi

# ---------------------------------------------------------------- other options
expect_ok "--report FILE.json" mrtc "$M/mlp.onnx" -o "$W/rep.c" --report "$W/rep.json" &&
    check "--report writes JSON with arena_bytes" grep -q '"arena_bytes"' "$W/rep.json"
if command -v python3 >/dev/null 2>&1 && [ -f "$W/rep.json" ]; then
    check "--report JSON parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/rep.json"
fi
expect_ok "--dump-ir" mrtc "$M/mlp.onnx" -o "$W/d.c" --dump-ir && check "--dump-ir prints the graph" grep -q MatMul "$W/out"
expect_ok "--dump-plan" mrtc "$M/mlp.onnx" -o "$W/d.c" --dump-plan && check "--dump-plan prints the plan" grep -q 'memory plan' "$W/out"
expect_ok "inspect" mrtc inspect "$M/mlp.onnx" && check "inspect prints MACs" grep -q 'MACs' "$W/out"
# every graph pass fires on tests/models/fuse_patterns (its outputs are checked by the models tier)
FP=$root/tests/models/fuse_patterns/model.onnx
if expect_ok "inspect fuse_patterns" mrtc inspect "$FP"; then
    check "passes: 3 BatchNormalization, 2 Add, 4 activations folded" grep -q 'fusion: *9 nodes absorbed into epilogues (3 BatchNormalization, 2 Add, 4 activations, 0 MaxPool), 6 layout nodes removed' "$W/out"
    check "passes: conv + bn + residual + clip in one node" grep -q 'fused: *conv2 + bn2 + res2 + clip2' "$W/out"
    check "passes: Gemm + BatchNormalization + LeakyRelu in one node" grep -q 'fused: *gemm1 + bn3 + leaky3' "$W/out"
    check "passes: 22 nodes become 6" grep -q '22 in the model, 6 after' "$W/out"
fi
# a stem's MaxPool joins its Conv (pass_pool.c) where the Conv's output has no other reader
SP=$root/tests/models/stem_pool/model.onnx
if expect_ok "inspect stem_pool" mrtc inspect "$SP"; then
    check "pass_pool: four MaxPools absorbed" grep -q 'activations, 4 MaxPool)' "$W/out"
    check "pass_pool: conv + relu + maxpool in one node" grep -q 'fused: *b_conv + b_act + b_pool' "$W/out"
    check "pass_pool: a Conv output read twice keeps its MaxPool apart" grep -q 'fused: *e_conv + e_act$' "$W/out"
fi
# Winograd F(2x2,3x3) for 3x3 stride-1 convolutions unless --no-winograd
WC=$root/tests/models/winograd_conv/model.onnx
if expect_ok "compile winograd_conv --winograd 2" mrtc "$WC" -o "$W/wc.c" --winograd 2; then
    check "3x3 convolutions run by k_wino_f32" [ "$(grep -c 'k_wino_f32(&s' "$W/wc.c")" -eq 2 ]
fi
if expect_ok "compile winograd_conv" mrtc "$WC" -o "$W/wc.c"; then
    check "13x11 maps: F(4x4,3x3) by default (fewer multiplies than F(2x2) even with partial tiles)" [ "$(grep -c 'k_wino4_f32(&s' "$W/wc.c")" -eq 2 ]
fi
if expect_ok "compile winograd_conv --no-winograd" mrtc "$WC" -o "$W/wc.c" --no-winograd; then
    check "--no-winograd: implicit GEMM instead" sh -c "! grep -q 'k_wino_f32(&s' '$W/wc.c' && grep -q 'k_conv_gemm_f32(&s' '$W/wc.c'"
fi
if expect_ok "compile winograd_conv --size" mrtc "$WC" -o "$W/wc.c" --size; then
    check "--size: size mode, no Winograd" sh -c "grep -q '#define MRTC_SIZE_MODE 1' '$W/wc.c' && ! grep -q 'k_wino_f32(&s' '$W/wc.c'"
fi
# F(4x4,3x3) on 35 x 70 maps; --winograd 2 keeps F(2x2,3x3) only
W4=$root/tests/models/winograd4_conv/model.onnx
if expect_ok "compile winograd4_conv" mrtc "$W4" -o "$W/wc.c"; then
    check "3x3 convolutions on wide maps run by k_wino4_f32" [ "$(grep -c 'k_wino4_f32(&s' "$W/wc.c")" -eq 2 ]
fi
if expect_ok "compile winograd4_conv --winograd 2" mrtc "$W4" -o "$W/wc.c" --winograd 2; then
    check "--winograd 2: F(2x2,3x3) only" sh -c "! grep -q 'k_wino4_f32(&s' '$W/wc.c' && [ \"\$(grep -c 'k_wino_f32(&s' '$W/wc.c')\" -eq 2 ]"
fi
rm -f "$W/wc.c" "$W/wc.h"
expect_error "--winograd 3 is refused" "mrtc: error:" "$W/wc.c $W/wc.h" mrtc "$W4" -o "$W/wc.c" --winograd 3
WD=$root/tests/models/winograd_conv
if expect_ok "size-mode executable" mrtc "$WD/model.onnx" -o "$W/wcs" --size ${MRTC_TEST_CFLAGS:+--cflags "$MRTC_TEST_CFLAGS"}; then
    mkdir -p "$W/wcs_out"
    expect_ok "size-mode executable runs" "$W/wcs" "$WD/input_0.npy" "$WD/input_1.npy" -o "$W/wcs_out" &&
        expect_ok "size-mode output matches ONNX Runtime" mrtc compare "$W/wcs_out/output_0.npy" "$WD/expected_0.npy"
fi
rm -rf "$W/wc.c" "$W/wc.h" "$W/wcs" "$W/wcs_out"
if expect_ok "inspect fuse_patterns --no-fuse" mrtc inspect "$FP" --no-fuse; then
    check "--no-fuse: no fusion line" sh -c "! grep -q 'fused:' '$W/out'"
fi
expect_ok "-v" mrtc "$M/mlp.onnx" -o "$W/d.c" -v && check "-v says something on stderr" grep -q . "$W/err"
for O in -O0 -O1 -O2 -O3 -Os; do
    expect_ok "$O" mrtc_cc "$M/mlp.onnx" -o "$W/opt" $O
done
rm -f "$W/opt"
expect_ok "--cc cc" mrtc_cc "$M/add.onnx" -o "$W/cc.o" --cc "$CC"
expect_ok "--shape x=2x3 (the model's own)" mrtc "$M/add.onnx" -o "$W/s.c" --shape x=2x3
expect_ok "--no-fold" mrtc "$M/mlp.onnx" -o "$W/nf.c" --no-fold
expect_ok "--keep" mrtc_cc "$M/add.onnx" -o "$W/keep" --keep
kd=$(sed -n 's/^mrtc: kept sources in //p' "$W/err")
check "--keep keeps the sources" [ -n "$kd" ] && [ -f "$kd/keep.c" ]
case "$kd" in /tmp/mrtc.*) rm -rf "$kd" ;; esac

# --bind: an input fixed at compile time; the program takes the others
if expect_ok "--bind y=FILE" mrtc_cc "$M/add.onnx" -o "$W/bound" --bind y="$M/x23.npy"; then
    expect_ok "--bind: the program takes the unbound input" "$W/bound" "$M/x23.npy" -o "$W/po" &&
        mrtc run "$M/add.onnx" "$M/x23.npy" "$M/x23.npy" -o "$W/r" >/dev/null 2>&1 &&
        expect_ok "--bind: same result as mrtc run" mrtc compare "$W/po/output_0.npy" "$W/r/output_0.npy"
fi

# mrtc run against the program; external data beside the model; stacked samples
for m in mlp extdata_ok; do
    if expect_ok "$m: build" mrtc_cc "$M/$m.onnx" -o "$W/$m"; then
        expect_ok "$m: run" "$W/$m" "$M/x23.npy" -o "$W/po" &&
            expect_ok "$m: mrtc run" mrtc run "$M/$m.onnx" "$M/x23.npy" -o "$W/r" &&
            expect_ok "$m: program and interpreter agree" mrtc compare "$W/po/output_0.npy" "$W/r/output_0.npy"
    fi
done
if [ -x "$W/mlp" ]; then
    expect_ok "prog: stacked samples (float[4,3] for input float[2,3])" "$W/mlp" "$M/x46.npy" -o "$W/po" &&
        check "prog: stacked samples give output float[4,4]" grep -q "'shape': (4, 4)" "$W/po/output_0.npy"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
