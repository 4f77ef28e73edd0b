#!/bin/bash
# test_ui_readtoken.sh: the dashboard of an agent that asks a token for
# reads (--api-read-token-file) in a real browser: Debian's chromium,
# headless, driven by puppeteer-core (tests/ui/ui_readtoken_test.js)
# against roomserver-sim and an agent watching a copy of specs/.
#
# Skipped (exit 77, CTest SKIP_RETURN_CODE) when node, chromium or the
# pinned puppeteer-core (scripts/install-test-tools.sh) is missing.
set -u
. "$(dirname "$0")/../ui/preflight.sh"
exec timeout -k 10 240 node "$src/tests/ui/ui_readtoken_test.js" "$src/specs"
