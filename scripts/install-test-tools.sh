#!/bin/sh
# Install the test tools that come from the npm registry rather than from
# Debian: the offline Kubernetes manifest validator of
# tests/integration/test_deploy.sh (deploy/tools/kubevalidate, pinned by
# its package-lock.json). Called by scripts/install-deps.sh; safe to run
# again (npm ci replaces the folder's node_modules).
#
# Also the browser driver of the dashboard tests (tests/ui: puppeteer-core,
# pinned by its package-lock.json) into $RO_TOOLS_DIR/ui; it drives Debian's
# chromium (scripts/install-deps.sh) and never downloads a browser.
#
# Installs into $RO_TOOLS_DIR/kubevalidate (default
# /usr/local/lib/roomops-tools/kubevalidate), outside the work tree, so
# that every clone and build directory on the machine shares it and the
# test runs offline.
set -eu
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/deploy/tools/kubevalidate
dest=${RO_TOOLS_DIR:-/usr/local/lib/roomops-tools}/kubevalidate

# Node.js and npm: the machine image may carry its own (newer) Node.js
# with npm bundled; Debian's npm package would conflict with that, so
# install Debian's pair only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq --no-install-recommends nodejs npm \
	    >/dev/null
fi

$SUDO mkdir -p "$dest"
$SUDO cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
$SUDO npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    --loglevel=error >/dev/null
echo "kubevalidate installed in $dest"

ui_src=$root/tests/ui
ui_dest=${RO_TOOLS_DIR:-/usr/local/lib/roomops-tools}/ui
$SUDO mkdir -p "$ui_dest"
$SUDO cp "$ui_src/package.json" "$ui_src/package-lock.json" "$ui_dest/"
cd "$ui_dest"
$SUDO env PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_DOWNLOAD=1 \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    --loglevel=error >/dev/null
echo "puppeteer-core installed in $ui_dest"
