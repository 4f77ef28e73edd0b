#!/bin/bash
# test_valgrind.sh: the main integration scenario under valgrind (fault
# suite, label faults).
#
# One `roomops agent` with both sources, a Git repository (file:// origin,
# --path specs) and a watched folder, against roomserver-sim:
#   1. the first sync applies a room from each source;
#   2. a commit edits the Git room, an atomic save edits the folder room,
#      and a POST /apply adds a third room through the HTTP API; all three
#      converge;
#   3. SIGTERM: the agent drains and exits 0.
# The agent runs under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --error-exitcode=1
# and the test asserts exit 0 from it, "ERROR SUMMARY: 0 errors" and no
# definitely or indirectly lost bytes. tests/valgrind.supp holds the
# suppressions for leaks inside third-party libraries (each explained
# there); none is for RoomOps code.
#
# An AddressSanitizer build cannot run under valgrind: there the test
# says so and passes (the release build runs it).
set -u

src=${RO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RO_BUILD_DIR:-$src/build}
bin=${RO_BIN:-$build/roomops}
sim=${RO_SIM:-$build/roomserver-sim}
supp=$src/tests/valgrind.supp
wait_s=${RO_VALGRIND_WAIT_S:-120}	# longest wait for one step

if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok - valgrind is not installed (scripts/install-deps.sh)"
	exit 1
fi
if grep -q '^RO_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null ||
    nm -D "$bin" 2>/dev/null | grep -q '__asan_init'; then
	echo "skipped: $bin is an AddressSanitizer build (valgrind" \
	    "cannot run it); the release build runs this test"
	exit 77		# CTest's SKIP_RETURN_CODE: reported as skipped
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roomops-valgrind.XXXXXX") || exit 1
simpid=
agentpid=
cleanup() {
	[ -n "$agentpid" ] && kill -KILL "$agentpid" 2>/dev/null
	[ -n "$simpid" ] && kill -KILL "$simpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "not ok - $*"
	for f in "$tmp/agent.log" "$tmp/vg.log"; do
		[ -f "$f" ] && { echo "---- $f (last 80 lines)"; tail -n 80 "$f"; }
	done
	exit 1
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
	local limit=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$limit" ] && return 1
		sleep 0.2
	done
}

spec() {	# spec ROOM LEAD-NAME
	cat <<EOF
metadata:
  version: 1
spec:
  roomId: $1
  entities:
    - {id: E-lead, kind: human, displayName: "$2"}
    - {id: E-bot, kind: agent, displayName: Bot}
  artifacts:
    - {name: handbook, type: document, workspace: shared,
       seedFrom: handbook.md, promoteAfterSeed: true}
EOF
}

# room_has ROOM TEXT: the sim's state of ROOM contains TEXT
room_has() {
	curl -sf "$simurl/room/$1/state" | grep -q "$2"
}

# --- the sim ------------------------------------------------------------
mkdir -p "$tmp/simdata"
coproc SIM { exec "$sim" --listen 127.0.0.1:0 --data-dir "$tmp/simdata" \
    2>"$tmp/sim.log"; }
simpid=$SIM_PID
read -r -t 10 line <&"${SIM[0]}" || fail "the sim did not start"
simurl="http://${line#listening on }"
echo "# sim at $simurl"

# --- a Git origin and a folder -------------------------------------------
git init -q --bare -b main "$tmp/origin.git" || fail "git init"
git clone -q "$tmp/origin.git" "$tmp/work" 2>/dev/null || fail "git clone"
git -C "$tmp/work" config user.name "Valgrind Test"
git -C "$tmp/work" config user.email vg@example.invalid
mkdir -p "$tmp/work/specs" "$tmp/folder"
spec room-vg-git-01 "Git Lead v1" >"$tmp/work/specs/git.yaml"
echo "# git handbook v1" >"$tmp/work/specs/handbook.md"
git -C "$tmp/work" add -A && git -C "$tmp/work" commit -q -m one &&
    git -C "$tmp/work" push -q origin HEAD:main || fail "git push"
spec room-vg-dir-01 "Dir Lead v1" >"$tmp/folder/dir.yaml"
echo "# folder handbook v1" >"$tmp/folder/handbook.md"

# --- the agent under valgrind ------------------------------------------------
supp_arg=
[ -f "$supp" ] && supp_arg="--suppressions=$supp"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --error-exitcode=1 \
    --track-fds=no --num-callers=30 ${RO_VALGRIND_ARGS:-} $supp_arg --log-file="$tmp/vg.log" \
    "$bin" agent --repo "file://$tmp/origin.git" --path specs \
    --watch "$tmp/folder" --server "$simurl" --state-dir "$tmp/state" \
    --listen 127.0.0.1:0 --interval 1s --resync 0 --profile test \
    >"$tmp/agent.out" 2>"$tmp/agent.log" &
agentpid=$!
api_up() { grep -q "API on http://127.0.0.1:" "$tmp/agent.out"; }
wait_for "$wait_s" api_up || fail "the agent's API did not come up"
api=$(sed -n 's/.*API on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' \
    "$tmp/agent.out" | head -n 1)
echo "# agent (under valgrind) at $api"

# 1. the first sync
wait_for "$wait_s" room_has room-vg-git-01 "Git Lead v1" ||
    fail "the Git room was not applied"
wait_for "$wait_s" room_has room-vg-dir-01 "Dir Lead v1" ||
    fail "the folder room was not applied"
echo "ok - first sync: a room from each source"

# 2. edits from both sources and an apply through the API
spec room-vg-git-01 "Git Lead v2" >"$tmp/work/specs/git.yaml"
echo "# git handbook v2" >"$tmp/work/specs/handbook.md"
git -C "$tmp/work" commit -q -am two && git -C "$tmp/work" push -q origin \
    HEAD:main || fail "git push"
spec room-vg-dir-01 "Dir Lead v2" >"$tmp/folder/.dir.yaml.tmp"
mv "$tmp/folder/.dir.yaml.tmp" "$tmp/folder/dir.yaml"
status=$(curl -s -o "$tmp/apply.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --max-time "$wait_s" \
    --data '{"spec": {"metadata": {"version": 1}, "spec": {"roomId":
    "room-vg-api-01", "entities": [{"id": "E-api", "kind": "npc"}]}}}' \
    "$api/apply")
[ "$status" = 200 ] || fail "POST /apply answered $status: $(cat \
    "$tmp/apply.json")"
wait_for "$wait_s" room_has room-vg-git-01 "Git Lead v2" ||
    fail "the Git edit was not applied"
wait_for "$wait_s" room_has room-vg-dir-01 "Dir Lead v2" ||
    fail "the folder edit was not applied"
room_has room-vg-api-01 E-api || fail "the API apply did not land"
curl -sf "$api/status" >/dev/null || fail "GET /status"
curl -sf "$api/metrics" >/dev/null || fail "GET /metrics"
curl -sf "$api/audit?count=5" >/dev/null || fail "GET /audit"
echo "ok - edits from Git, the folder and the API converged"

# 3. SIGTERM: drain and exit
kill -TERM "$agentpid"
limit=$(($(date +%s) + wait_s))
while kill -0 "$agentpid" 2>/dev/null; do
	[ "$(date +%s)" -ge "$limit" ] && fail "no exit after SIGTERM"
	sleep 0.2
done
wait "$agentpid"
rc=$?
agentpid=
[ "$rc" = 0 ] || fail "valgrind/agent exited $rc (1: valgrind found errors" \
    "or leaks)"
grep -q "ERROR SUMMARY: [1-9]" "$tmp/vg.log" && fail "valgrind errors"
grep -Eq "(definitely|indirectly) lost: [1-9]" "$tmp/vg.log" &&
    fail "valgrind found leaks"
echo "ok - SIGTERM: exit 0, valgrind reports no errors and no leaks"
exit 0
