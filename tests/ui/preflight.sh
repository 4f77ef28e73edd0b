# preflight.sh: sourced by the browser tests (tests/integration/test_ui*.sh):
# where the sources, the tools and the binaries are, and exit 77 (CTest's
# SKIP_RETURN_CODE: reported as skipped) when node, chromium or the pinned
# puppeteer-core (scripts/install-test-tools.sh) is missing.
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
