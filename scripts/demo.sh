#!/bin/sh
# The main job on a fresh Debian 12 machine: install packages, build,
# start roomserver-sim on a free loopback port (temporary data dir), run
# `roomops agent` on specs/ (local folder mode), show the rooms converge
# (status, audit, and a plan that prints "converged"), then either stay up
# until Ctrl-C (on a terminal) or stop (no terminal, e.g. CI).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/install-deps.sh"
sh "$top/scripts/build.sh" release >/dev/null
bin=$top/build/roomops
sim=$top/build/roomserver-sim
specs=$(cd "${1:-$top/specs}" && pwd)
work=$(mktemp -d)
cleanup() {
	[ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "${sim_pid:-}" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for() {	# wait_for FILE PATTERN: up to 10 s
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "timed out waiting for $2 in $1" >&2; cat "$1" >&2; exit 1; }
		sleep 0.1
	done
}

echo "== roomops validate $specs"
"$bin" validate "$specs"

"$sim" --listen 127.0.0.1:0 --data-dir "$work/sim" >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
wait_for "$work/sim.out" '^listening on '
server="http://$(sed -n 's/^listening on //p' "$work/sim.out" | head -n 1)"
echo "== roomserver-sim at $server"

"$bin" agent --watch "$specs" --server "$server" --state-dir "$work/state" \
	--listen 127.0.0.1:0 >"$work/agent.out" 2>"$work/agent.log" &
agent_pid=$!
wait_for "$work/agent.out" 'API on '
api=$(sed -n 's|.*API on \(http://[^,]*\),.*|\1|p' "$work/agent.out" | head -n 1)
echo "== roomops agent: API $api, metrics $api/metrics, dashboard $api/ui"
i=0
until curl -sf "$api/ready" >/dev/null; do
	i=$((i + 1)); [ $i -le 100 ] || { cat "$work/agent.log" >&2; exit 1; }
	sleep 0.1
done
echo "== rooms (GET $api/status)"
"$bin" status --api "$api"
echo
echo "== audit trail ($work/state/audit.jsonl)"
"$bin" audit --state-dir "$work/state"
echo
echo "== roomops plan --server $server (the rooms match the files)"
"$bin" plan --server "$server" "$specs"

if [ -t 0 ]; then
	echo
	echo "The agent keeps watching $specs: edit a spec and see it applied."
	echo "API $api   metrics $api/metrics   dashboard $api/ui   Ctrl-C stops."
	wait "$agent_pid"
fi
