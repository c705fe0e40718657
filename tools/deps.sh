#!/bin/sh
# The Debian 12 packages mrtc needs to build (`make`) and test (`make test`).
#
#   sh tools/deps.sh      (make deps)
#
# Checks them with dpkg; as root it installs the missing ones (apt-get update
# and apt-get install), otherwise it prints the exact apt-get line and exits 1.
set -u
# build: C compiler, protobuf-c (+ protoc-c for onnx.proto from libonnx-dev),
# cJSON, OpenBLAS; tests: python3 (model facts without python3-onnx), numpy
# (tests/tools), binutils' nm (comes with gcc)
PKGS="gcc libc6-dev make libprotobuf-c-dev protobuf-c-compiler libonnx-dev libcjson-dev libopenblas-dev python3 python3-numpy"

if ! command -v dpkg >/dev/null 2>&1; then
    echo "deps: no dpkg here (not Debian?); mrtc needs: $PKGS"
    exit 1
fi
missing=""
for p in $PKGS; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then missing="$missing $p"; fi
done
if [ -z "$missing" ]; then
    echo "deps: all installed ($PKGS)"
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing"
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
    exit $?
fi
echo "deps: missing:$missing"
echo "install them as root with:"
echo "  apt-get install -y --no-install-recommends$missing"
exit 1
