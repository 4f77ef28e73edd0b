#!/bin/bash
# agent_sizing.sh: the figures of the sizing table in docs/deploy.md.
#
#   tests/bench/agent_sizing.sh ROOMS [SHARDS]     (from the source root)
#
# SHARDS agents (default 1; --shard i/SHARDS, separate state dirs,
# --push-notes, --interval 1s) on one file:// repository of ROOMS
# generated specs (2 entities and policies each) against one
# roomserver-sim on this host. Prints, per agent: rooms applied, VmRSS
# after the first sync and after a commit changing every spec (from
# /proc/PID/status), CPU seconds; the wall time of both passes; and, with
# one agent, push -> converged for 7 one-spec commits (push until the
# agent's cursor names the commit; the interval is 1 s, so about 0.5 s
# of each is the wait for the next poll). Not run by CTest.
#
# Environment: RO_BUILD_DIR (default ./build-bench, else ./build).
set -eu

N=${1:?usage: agent_sizing.sh ROOMS [SHARDS]}
S=${2:-1}
B=${RO_BUILD_DIR:-}
if [ -z "$B" ]; then
	B=./build-bench
	[ -x "$B/roomops" ] || B=./build
fi
B=$(cd "$B" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/agent-sizing.XXXXXX")
PIDS=""
SIM=""
cleanup() {
	for p in $PIDS $SIM; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

git init -q --bare -b main "$W/origin.git"
git clone -q "$W/origin.git" "$W/work" 2>/dev/null
cd "$W/work"
git config user.email sizing@example.invalid
git config user.name sizing
mkdir rooms

spec() {	# spec INDEX GENERATION
	printf 'metadata: {name: r%05d, version: %d}\nspec:\n  roomId: room-bench-%05d\n  entities:\n    - {id: E-bot-%05d, kind: agent, displayName: Bot v%d}\n    - {id: E-human-%05d, kind: human, displayName: Human}\n  policies: {dmVisibilityDefault: team, allowResourceCreation: false, maxArtifactsPerEntity: 10}\n' \
	    "$1" "$2" "$1" "$1" "$2" "$1" >"rooms/r$(printf %05d "$1").yaml"
}
commit() {	# commit MESSAGE: print the new head
	git add -A && git commit -qm "$1" && git push -q origin HEAD:main
	git rev-parse HEAD
}
gen() {
	for i in $(seq 0 $((N - 1))); do spec "$i" "$1"; done
	commit "generation $1"
}
now() { date +%s.%N; }
wait_all() {	# every agent's cursor names $1 (bounded: 10 minutes)
	for i in $(seq 0 $((S - 1))); do
		for _ in $(seq 60000); do
			[ "$(head -c40 "$W/st$i/cursor" 2>/dev/null)" = "$1" ] &&
			    break
			sleep 0.01
		done
		[ "$(head -c40 "$W/st$i/cursor" 2>/dev/null)" = "$1" ] ||
		    { echo "agent $i never reached $1" >&2; exit 1; }
	done
}
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
cpu() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$1/stat"; }

C1=$(gen 1)
"$B/roomserver-sim" --listen 127.0.0.1:0 --data-dir "$W/sim" >"$W/sim.out" \
    2>"$W/sim.err" &
SIM=$!
for _ in $(seq 100); do grep -q listening "$W/sim.out" && break; sleep 0.1; done
URL=http://$(sed 's/listening on //' "$W/sim.out")

t0=$(now)
for i in $(seq 0 $((S - 1))); do
	"$B/roomops" agent --repo "file://$W/origin.git" --path rooms \
	    --server "$URL" --state-dir "$W/st$i" --shard "$i/$S" \
	    --push-notes --listen 127.0.0.1:0 --interval 1s \
	    >"$W/agent$i.log" 2>&1 &
	PIDS="$PIDS $!"
done
wait_all "$C1"
t1=$(now)
sleep 3
declare -a R1
i=0
for p in $PIDS; do R1[i]=$(rss "$p"); i=$((i + 1)); done

C2=$(gen 2)
t2=$(now)
wait_all "$C2"
t3=$(now)
sleep 3

printf 'host: %s CPUs, %s\n' "$(nproc)" "$(uname -r)"
printf '%d rooms, %d agent(s): first sync %.1f s, a commit changing every spec %.1f s\n' \
    "$N" "$S" "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)"
i=0
for p in $PIDS; do
	printf '  shard %d/%d: %d rooms, VmRSS %d kB after the first sync, %d kB after the second commit, %s CPU s\n' \
	    "$i" "$S" "$(grep -c "\"rev\":\"$C1\"" "$W/st$i/audit.jsonl")" \
	    "${R1[i]}" "$(rss "$p")" "$(cpu "$p")"
	i=$((i + 1))
done
printf '  origin note of the first commit: %d records\n' \
    "$(git --git-dir="$W/origin.git" notes --ref=roomops show "$C1" | wc -l)"

if [ "$S" -eq 1 ]; then
	lat=""
	for j in 1 2 3 4 5 6 7; do
		spec "$j" $((10 + j))
		C=$(commit "one spec, $j")
		s=$(now)
		wait_all "$C"
		lat="$lat $(printf '%.2f' "$(echo "$(now) - $s" | bc)")"
		sleep "$(awk -v r="$RANDOM" 'BEGIN { print r / 32768 }')"
	done
	printf '  push -> converged, one spec, --interval 1s (s):%s\n' "$lat"
	for p in $PIDS; do
		printf '  at the end: VmRSS %d kB, VmHWM %d kB\n' "$(rss "$p")" \
		    "$(awk '/VmHWM/{print $2}' "/proc/$p/status")"
	done
fi
