#!/bin/bash
# ui_bench.sh: the dashboard's figures in headless chromium
# (tests/bench/ui_bench.js): page load to first rows, and a change to its
# row (quiet, and during a full resync), at 10 and 10,000 rooms by
# default. The figures in docs/performance.md come from:
#
#   sh scripts/build.sh release
#   bash tests/bench/ui_bench.sh [--sizes 10,10000] [--runs 7] [--events 40] [--json]
#
# Needs node, chromium and puppeteer-core (scripts/install-deps.sh); the
# binaries from $RO_BIN and $RO_SIM, else build/.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
export RO_BIN=${RO_BIN:-$src/build/roomops}
export RO_SIM=${RO_SIM:-$src/build/roomserver-sim}
exec timeout -k 10 1200 node "$src/tests/bench/ui_bench.js" "$@"
