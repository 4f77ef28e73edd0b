#!/bin/bash
# test_ui.sh: the dashboard (GET /ui) in a real browser: Debian's chromium,
# headless, driven by puppeteer-core (tests/ui/ui_test.js) against
# roomserver-sim and an agent watching a copy of specs/.
#
# Skipped (exit 77, CTest SKIP_RETURN_CODE) when node, chromium or the
# pinned puppeteer-core (scripts/install-test-tools.sh) is missing.
#
# RO_UI_SCREENSHOTS=DIR also writes DIR/ui-overview.png and
# DIR/ui-room.png (docs/img/ holds the ones the README shows).
set -u
src=${RO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tools=${RO_TOOLS_DIR:-/usr/local/lib/roomops-tools}
chromium=${RO_CHROMIUM:-/usr/bin/chromium}
export RO_BIN=${RO_BIN:-$src/build/roomops}
export RO_SIM=${RO_SIM:-$src/build/roomserver-sim}

for need in node "$chromium"; do
	if ! command -v "$need" >/dev/null 2>&1; then
		echo "skip: $need is not installed (scripts/install-deps.sh)"
		exit 77
	fi
done
if [ ! -d "$tools/ui/node_modules/puppeteer-core" ]; then
	echo "skip: puppeteer-core is not installed in $tools/ui" \
	    "(scripts/install-test-tools.sh)"
	exit 77
fi
args=()
[ -n "${RO_UI_SCREENSHOTS:-}" ] && args=(--screenshots "$RO_UI_SCREENSHOTS")
exec timeout -k 10 240 node "$src/tests/ui/ui_test.js" "$src/specs" "${args[@]}"
