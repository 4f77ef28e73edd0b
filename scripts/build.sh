#!/bin/sh
# Configure and build one flavour: scripts/build.sh [release|asan|fuzz]
# into build/, build-asan/ or build-fuzz/ under the source tree.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}
jobs=$(nproc 2>/dev/null || echo 2)
case "$flavour" in
release) dir=$top/build; set -- -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
asan)	dir=$top/build-asan; set -- -DCMAKE_BUILD_TYPE=Debug -DRO_SANITIZE=ON ;;
fuzz)	dir=$top/build-fuzz; set -- -DCMAKE_BUILD_TYPE=Debug -DRO_FUZZ=ON \
		-DCMAKE_C_COMPILER=clang -DRO_TESTS=OFF ;;
*)	echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S "$top" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j "$jobs"
