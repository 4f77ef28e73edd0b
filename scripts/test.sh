#!/bin/sh
# The whole test suite on a fresh Debian 12 machine: install packages,
# build, run every test (unit, integration, bench-smoke) in a release
# build and again under AddressSanitizer + UBSan, then run each libFuzzer
# target for a bounded time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/install-deps.sh"
fuzz_seconds=${RO_FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
skipped=0
# After `ctest ... | tee "$log"` (sh has no pipefail): ctest's closing
# "N% tests passed, F tests failed out of T" decides; none is a failure.
tally() {
	set -- $(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' "$log" | tail -n 1)
	if [ $# -ne 2 ] || [ "$1" -ne 0 ]; then
		echo "== $1 test(s) failed (of ${2:-?})" >&2
		exit 1
	fi
	# CTest counts a test that exited with its SKIP_RETURN_CODE among
	# the passed ones and lists it as "(Skipped)": report it as skipped
	n_skip=$(grep -c '(Skipped)$' "$log" || true)
	passed=$((passed + $2 - n_skip))
	skipped=$((skipped + n_skip))
}

echo "== release build"
sh "$top/scripts/build.sh" release
(cd "$top/build" && ctest --output-on-failure -j "$jobs") 2>&1 | tee "$log"
tally

echo "== ASan + UBSan build"
sh "$top/scripts/build.sh" asan
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions="$top/tests/lsan.supp":print_suppressions=0 \
	ctest --output-on-failure -j "$jobs") 2>&1 | tee "$log"
tally

if command -v clang >/dev/null 2>&1; then
	echo "== fuzzing, ${fuzz_seconds}s per target"
	sh "$top/scripts/build.sh" fuzz
	for f in "$top"/build-fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus="$top/tests/fuzz/corpus/${name#fuzz_}"
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
		echo "-- $name"
		"$f" -max_total_time="$fuzz_seconds" -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 "$work" \
			2>"$work.log" || { tail -n 40 "$work.log"; exit 1; }
		grep -E "stat::number_of_executed_units" "$work.log" || true
		rm -rf "$work" "$work.log"
		passed=$((passed + 1))
	done
fi
echo "== all tests passed"
echo "tests: $passed passed, 0 failed, $skipped skipped"
