#!/bin/bash
# smoke_bench.sh: tests/bench/run with tiny sizes (label bench-smoke), so
# that every benchmark keeps working. The report goes to a temporary file,
# never to docs/. No time is asserted: only that every figure was measured
# (one FIGURE line each, no MISSING), that it carries a number, and that
# the report lists each one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ro-smoke-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# the tool sits next to the binaries under test (CTest sets RO_BIN)
if [ -n "${RO_BUILD_DIR:-}" ] && [ -z "${RO_BENCH_TOOL:-}" ]; then
	export RO_BENCH_TOOL=$RO_BUILD_DIR/tests/benchtool
fi
export RO_BENCH_NO_BUILD=1
rc=0
RO_BENCH_ROOMS=20 RO_BENCH_CONCURRENCY=4 RO_BENCH_GIT_SPECS=5,20,20s \
    RO_BENCH_COMMITS=2 RO_BENCH_PUSHES=3 RO_BENCH_EDITS=5 \
    RO_BENCH_IDLE_ROOMS=20 RO_BENCH_IDLE_S=1 RO_BENCH_POLL_S=2 \
    RO_BENCH_WRK_S=1 RO_BENCH_SYNC_TIMEOUT=60 \
    bash "$here/run" --out "$tmp/performance.md" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
fail() { echo "smoke_bench: $*" >&2; exit 1; }
[ "$rc" = 0 ] || fail "tests/bench/run exited with $rc"
! grep -q '^MISSING ' "$tmp/out" || fail "some figures were not measured"

# every benchmark of the run, with the sizes above
want="ceiling.get.c4 ceiling.write.c4 full.20.c4 noop.20.c4
git.initial.5 git.initial.20 git.initial.20s git.commit.5 git.commit.20
git.commit.20s restart.git.20
poll.bytes poll.cpu latency.webhook latency.poll latency.save
idle.rss.20 idle.wakeups.20 restart.folder.20"
n=0
for id in $want; do
	line=$(grep "^FIGURE $id |" "$tmp/out" || true)
	[ -n "$line" ] || fail "no figure $id"
	value=$(echo "$line" | cut -d'|' -f2)
	echo "$value" | grep -qE '[0-9]' || fail "$id: no number in '$value'"
	grep -q "^| \`$id\` |" "$tmp/performance.md" ||
	    fail "$id is not in the report"
	n=$((n + 1))
done
got=$(grep -c '^FIGURE ' "$tmp/out")
[ "$got" = "$n" ] || fail "$got figures printed, $n expected"
# the no-op pass sends GET state only (a count, not a time)
grep "^FIGURE noop.20.c4 |" "$tmp/out" | grep -q '20 GET state, 0 other' ||
    fail "the no-op pass sent more than GET state"
for h in '## Machine' '## Summary' '## 1. Sim ceiling' \
    '## 8. Restart with a warm state dir'; do
	grep -qx "$h" "$tmp/performance.md" || fail "report without '$h'"
done
echo "smoke_bench: $n figures measured"
