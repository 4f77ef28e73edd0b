#!/bin/bash
# smoke_sim.sh: the roomserver-sim benchmark runs and prints numbers
# (label bench-smoke). One second per run, 1 and 8 connections; no timing
# is asserted, only that every run reported a rate and no request failed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(bash "$here/sim_bench.sh" --duration 1 --connections "1 8")
echo "$out"
rows=$(echo "$out" | grep -cE '^(GET state|join/kick).* [0-9]+\.[0-9]+ ' || true)
if [ "$rows" -ne 6 ]; then
	echo "smoke_sim: expected 6 result rows, got $rows" >&2
	exit 1
fi
echo "$out" | grep -qE '^peak RSS \(VmHWM\): [0-9]+ KiB$' || {
	echo "smoke_sim: no RSS figure" >&2
	exit 1
}
