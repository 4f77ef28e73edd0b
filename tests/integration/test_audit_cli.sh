#!/bin/bash
# test_audit_cli.sh: `roomops audit` reads records through the one filter
# (common/audit.c), whatever it reads: the notes of a real Git repository
# (--repo) or a JSON-lines log (--audit-log).
#   - --room room-1 is room-1 only, not room-10 or room-11;
#   - --rev takes a revision or its unique prefix, on both readers;
#   - an ambiguous prefix is an error (exit 2), not a mix of revisions.
set -u

src=${RO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RO_BUILD_DIR:-$src/build}
bin=${RO_BIN:-$build/roomops}
fails=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roomops-auditcli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

# rooms of `roomops audit ... --output json`, sorted, comma-separated
rooms() {
	"$bin" audit "$@" --output json 2>"$tmp/err" | python3 -c '
import json, sys
print(",".join(sorted(e["room"] for e in json.load(sys.stdin)["entries"])))'
}

expect() {	# what, want, got
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"
		cat "$tmp/err"; fi
}

rec() {		# room rev outcome
	printf '{"ts":"2026-12-01T10:00:0%s.000Z","id":"%s-%s","correlationId":"c","room":"%s","rev":"%s","source":"git","outcome":"%s","diff":{},"errors":[],"warnings":[]}\n' \
	    "$((n = ${n:-0} + 1))" "$1" "$n" "$1" "$2" "$3"
}

repo=$tmp/repo
git init -q -b main "$repo" || exit 1
git -C "$repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
git -C "$repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m two
c1=$(git -C "$repo" rev-parse HEAD~1)
c2=$(git -C "$repo" rev-parse HEAD)
{ rec room-1 "$c1" applied; rec room-10 "$c1" applied
  rec room-11 "$c1" converged; } >"$tmp/note1"
rec room-1 "$c2" applied >"$tmp/note2"
git -C "$repo" -c user.name=t -c user.email=t@t notes --ref=roomops add \
    -F "$tmp/note1" "$c1" || exit 1
git -C "$repo" -c user.name=t -c user.email=t@t notes --ref=roomops add \
    -F "$tmp/note2" "$c2" || exit 1
cat "$tmp/note1" "$tmp/note2" >"$tmp/audit.jsonl"

for src_args in "--repo $repo" "--audit-log $tmp/audit.jsonl"; do
	# shellcheck disable=SC2086
	expect "$src_args --room room-1" "room-1,room-1" \
	    "$(rooms $src_args --room room-1)"
	# shellcheck disable=SC2086
	expect "$src_args --rev (40 hex)" "room-1,room-10,room-11" \
	    "$(rooms $src_args --rev "$c1")"
	# shellcheck disable=SC2086
	expect "$src_args --rev (short)" "room-1,room-10,room-11" \
	    "$(rooms $src_args --rev "${c1:0:10}")"
	# shellcheck disable=SC2086
	expect "$src_args --room room-1 --rev (short)" "room-1" \
	    "$(rooms $src_args --room room-1 --rev "${c2:0:10}")"
done

# an ambiguous prefix: two revisions start with "ab"
{ rec room-1 abcdef0000000000000000000000000000000000 applied
  rec room-2 ab12340000000000000000000000000000000000 applied; } \
    >"$tmp/amb.jsonl"
"$bin" audit --audit-log "$tmp/amb.jsonl" --rev ab >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q ambiguous "$tmp/err"; then
	ok "an ambiguous revision prefix is an error"
else
	bad "ambiguous prefix: exit $rc, $(cat "$tmp/err")"
fi
expect "--rev abc (unique)" "room-1" \
    "$(rooms --audit-log "$tmp/amb.jsonl" --rev abc)"

exit $((fails > 0))
