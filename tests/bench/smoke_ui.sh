#!/bin/bash
# smoke_ui.sh: the dashboard benchmark runs and reports its figures (label
# bench-smoke): 10 rooms, 2 page loads, 3 changes. No timing is asserted,
# only that every figure is there and every row seen. Skipped (77) without
# node, chromium or puppeteer-core.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tools=${RO_TOOLS_DIR:-/usr/local/lib/roomops-tools}
for need in node "${RO_CHROMIUM:-/usr/bin/chromium}"; do
	command -v "$need" >/dev/null 2>&1 ||
		{ echo "skip: $need is not installed"; exit 77; }
done
[ -d "$tools/ui/node_modules/puppeteer-core" ] ||
	{ echo "skip: puppeteer-core is not installed in $tools/ui"; exit 77; }
out=$(bash "$here/ui_bench.sh" --sizes 10 --runs 2 --events 3 --json) || {
	echo "$out"
	echo "smoke_ui: the benchmark failed" >&2
	exit 1
}
echo "$out"
echo "$out" | node -e '
let s = "";
process.stdin.on("data", (b) => s += b).on("end", () => {
	const o = JSON.parse(s.trim().split("\n").pop());
	const num = (x) => typeof x === "number" && x >= 0;
	const ok = o.rooms === 10 && o.rows_in_page === 10 &&
	    o.first_rows_ms.n === 2 && num(o.first_rows_ms.p50) &&
	    o.event_to_row_ms.n === 3 && num(o.event_to_row_ms.p50) &&
	    o.event_to_row_resync_ms.n >= 1 && o.live_after === "live";
	console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
	process.exit(ok ? 0 : 1);
});'
