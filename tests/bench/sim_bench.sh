#!/bin/bash
# sim_bench.sh: requests per second of roomserver-sim with keep-alive, by
# wrk: GET /room/{id}/state, and join/kick pairs (POST join + DELETE
# entity, pipelined on one connection so a kick never overtakes its join)
# on one room and spread over 64 rooms; at 1, 8 and 64 connections; plus
# the sim's RSS. Prints one table; exits 1 if any request failed.
#
#   tests/bench/sim_bench.sh [--sim PATH] [--duration SECONDS]
#       [--connections "1 8 64"] [--threads N]
#
# The sim binary: --sim, else $RO_SIM, else build/roomserver-sim. It runs
# on 127.0.0.1:0 with a temporary data dir (removed at the end) on the
# same disk as $TMPDIR, so join/kick figures are fsync latency figures.
set -eu

SIM=${RO_SIM:-}
DURATION=10
CONNS="1 8 64"
THREADS=
SPREAD=64			# rooms for the spread join/kick run
ENTITIES=10			# in the GET state room
ARTIFACTS=3

while [ $# -gt 0 ]; do
	case $1 in
	--sim) SIM=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--connections) CONNS=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	*) echo "usage: $0 [--sim PATH] [--duration S] [--connections LIST]" \
	    "[--threads N]" >&2; exit 2 ;;
	esac
done
if [ -z "$SIM" ]; then
	SIM=$(cd "$(dirname "$0")/../.." && pwd)/build/roomserver-sim
fi
[ -x "$SIM" ] || { echo "sim_bench: no roomserver-sim at $SIM" >&2; exit 2; }
command -v wrk >/dev/null || { echo "sim_bench: wrk not installed" >&2; exit 2; }
command -v curl >/dev/null || { echo "sim_bench: curl not installed" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sim-bench.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID"
		for _ in $(seq 1 100); do
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

args=(--listen 127.0.0.1:0 --data-dir "$TMP/data")
[ -n "$THREADS" ] && args+=(--threads "$THREADS")
"$SIM" "${args[@]}" >"$TMP/stdout" 2>"$TMP/stderr" &
PID=$!
PORT=
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$TMP/stdout" 2>/dev/null || true)
	[ -n "$PORT" ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$PORT" ]; then
	echo "sim_bench: the sim did not start:" >&2
	cat "$TMP/stderr" >&2
	exit 1
fi
URL=http://127.0.0.1:$PORT
ROOM=room-bench-state

# the GET state room: entities, artifacts, policies (a realistic body)
for i in $(seq 1 "$ENTITIES"); do
	curl -sf -o /dev/null -X POST "$URL/room/$ROOM/join" \
	    -H 'Content-Type: application/json' \
	    -d "{\"entityId\":\"E-agent-$i\",\"kind\":\"agent\",\"displayName\":\"Agent $i\",\"visibility\":\"team\",\"capabilities\":[\"read_artifacts\",\"post_messages\"],\"policy\":{\"allow_commands_from\":\"orchestrator\",\"sandbox_mode\":true,\"env_whitelist\":[\"PATH\"],\"scopes\":[\"rooms:read\"]}}"
done
for i in $(seq 1 "$ARTIFACTS"); do
	head -c 2048 /dev/urandom >"$TMP/a$i"
	curl -sf -o /dev/null -F "name=doc-$i" -F type=document \
	    -F workspace=shared -F tags=planning,bench -F "file=@$TMP/a$i" \
	    "$URL/room/$ROOM/artifacts/seed"
done
curl -sf -o /dev/null -X PUT "$URL/room/$ROOM/policies" \
    -H 'Content-Type: application/json' \
    -d '{"dmVisibilityDefault":"team","allowResourceCreation":false,"maxArtifactsPerEntity":100}'
STATE_BYTES=$(curl -sf "$URL/room/$ROOM/state" | wc -c)

cat >"$TMP/joinkick.lua" <<'EOF'
-- join/kick pairs: both requests pipelined on one connection
local counter = 1
function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
end
function init(args)
	rooms = tonumber(args[1]) or 1
	n = 0
end
function request()
	n = n + 1
	local room = string.format("room-bench-jk-%03d", (n + tid) % rooms)
	local id = string.format("E-t%d-%d", tid, n)
	return wrk.format("POST", "/room/" .. room .. "/join",
	    { ["Content-Type"] = "application/json" },
	    '{"entityId":"' .. id .. '","kind":"agent"}') ..
	    wrk.format("DELETE", "/room/" .. room .. "/entities/" .. id)
end
EOF

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status"; }
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status"; }

FAILED=0
# run NAME CONNECTIONS [wrk args...]: one line of the table
run() {
	local name=$1 c=$2 t out rps p50 p99 bad
	shift 2
	t=$((c < 2 ? 1 : 2))
	out=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency "$@")
	rps=$(echo "$out" | sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\)/\1/p')
	p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
	bad=$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\)/\1/p')
	if echo "$out" | grep -q "Socket errors"; then
		echo "$out" | grep "Socket errors" >&2
		FAILED=1
	fi
	if [ -n "$bad" ] && [ "$bad" != 0 ]; then
		echo "sim_bench: $name c=$c: $bad failed responses" >&2
		FAILED=1
	fi
	printf '%-26s %5s %12s %10s %10s %9s\n' "$name" "$c" "$rps" \
	    "$p50" "$p99" "$(rss_kb)"
}

echo "roomserver-sim benchmark: $(nproc) CPUs, wrk ${DURATION}s per run," \
    "sim $("$SIM" --version), threads ${THREADS:-default}"
echo "GET state body: $STATE_BYTES bytes ($ENTITIES entities," \
    "$ARTIFACTS artifacts); join/kick counts both requests of a pair"
printf '%-26s %5s %12s %10s %10s %9s\n' "workload" "conns" "requests/s" \
    "p50" "p99" "RSS(KiB)"
for c in $CONNS; do
	run "GET state" "$c" "$URL/room/$ROOM/state"
done
for c in $CONNS; do
	run "join/kick, 1 room" "$c" -s "$TMP/joinkick.lua" "$URL" -- 1
done
for c in $CONNS; do
	run "join/kick, $SPREAD rooms" "$c" -s "$TMP/joinkick.lua" "$URL" \
	    -- "$SPREAD"
done
echo "peak RSS (VmHWM): $(hwm_kb) KiB"
exit $FAILED
