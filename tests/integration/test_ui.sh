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
. "$(dirname "$0")/../ui/preflight.sh"
args=()
[ -n "${RO_UI_SCREENSHOTS:-}" ] && args=(--screenshots "$RO_UI_SCREENSHOTS")
exec timeout -k 10 240 node "$src/tests/ui/ui_test.js" "$src/specs" "${args[@]}"
