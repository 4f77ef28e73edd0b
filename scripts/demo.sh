#!/bin/sh
# The main job on a fresh Debian 12 machine: install packages, build,
# start roomserver-sim on a free loopback port with a temporary data dir,
# validate specs/, plan against the empty server, apply, plan again (it
# prints "converged"), show one room's state, and stop the sim.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/install-deps.sh"
sh "$top/scripts/build.sh" release >/dev/null
bin=$top/build/roomops
sim=$top/build/roomserver-sim
specs=${1:-$top/specs}
work=$(mktemp -d)
cleanup() {
	[ -n "${sim_pid:-}" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$sim" --listen 127.0.0.1:0 --data-dir "$work/sim" >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
i=0
while ! grep -q '^listening on ' "$work/sim.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || { echo "roomserver-sim did not start:" >&2; cat "$work/sim.log" >&2; exit 1; }
	sleep 0.1
done
url="http://$(sed -n 's/^listening on //p' "$work/sim.out" | head -n 1)"
echo "== roomserver-sim at $url"

echo "== roomops validate $specs"
"$bin" validate "$specs"
echo
echo "== roomops plan --server $url (empty server)"
"$bin" plan --server "$url" "$specs" || [ $? -eq 1 ]
echo
echo "== roomops apply --server $url"
"$bin" apply --server "$url" --audit-log "$work/audit.jsonl" "$specs"
echo
echo "== roomops plan --server $url (after apply)"
"$bin" plan --server "$url" "$specs"
echo
echo "== roomops audit"
"$bin" audit --audit-log "$work/audit.jsonl"
echo
echo "== state of room-ai-lab-01 on the server"
curl -sf "$url/room/room-ai-lab-01/state" | head -c 600; echo
