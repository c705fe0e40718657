#!/bin/sh
# demo.sh: the main job on the shipped example.  Compiles the digits CNN
# (examples/digits/model.onnx, trained by train.py on sklearn's digits) to a
# standalone executable, runs it on the whole held-out test set in one call,
# and prints top-1 accuracy and latency.
set -e
cd "$(dirname "$0")/.."
MRTC=${MRTC:-./mrtc}
OUT=${OUT:-out/digits}
mkdir -p "$OUT"
echo "== mrtc examples/digits/model.onnx -o $OUT/digits"
$MRTC examples/digits/model.onnx -o "$OUT/digits" -v
$MRTC examples/digits/model.onnx -o "$OUT/digits.c"
echo "== generated $OUT/digits.c ($(wc -c < "$OUT/digits.c") bytes) and $OUT/digits.h"
grep -E "define DIGITS_(ARENA|WEIGHTS)_BYTES" "$OUT/digits.h"
echo "== $OUT/digits examples/digits/test_x.npy -o $OUT   (360 images, one call)"
"$OUT/digits" examples/digits/test_x.npy -o "$OUT"
$MRTC accuracy "$OUT/output_0.npy" examples/digits/test_y.npy
echo "== latency (single image, 1000 runs)"
"$OUT/digits" --bench 1000 -o "$OUT"
