#!/bin/sh
# Install every package the build, the demo and the test suite need on
# Debian 12. Used by the README's commands and by .ci/run; the runtime part
# of this list is mirrored in deploy/docker/Dockerfile.
set -eu
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential cmake pkg-config ca-certificates \
	libgit2-dev libyaml-dev libcurl4-openssl-dev libcjson-dev libssl-dev \
	libmicrohttpd-dev libcmocka-dev libgpgme-dev \
	clang libclang-rt-14-dev \
	git curl openssl procps psmisc util-linux \
	lighttpd fcgiwrap openssh-server openssh-client \
	gpg gpg-agent gnupg \
	lighttpd-mod-openssl \
	inotify-tools wrk hyperfine valgrind python3 >/dev/null
# The dashboard's browser tests and benchmark (tests/integration/test_ui.sh,
# tests/bench/ui_bench.sh) drive Debian's chromium headless.
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
# kubectl renders the kustomize overlays offline (deploy tests); it comes
# from the machine's configured Kubernetes apt source.
$SUDO apt-get install -y -qq --no-install-recommends kubectl >/dev/null ||
	echo "warning: kubectl is not installable here" >&2
# Deployment checks (tests/integration/test_deploy.sh): the man page
# linters, then the offline Kubernetes manifest validator from npm.
$SUDO apt-get install -y -qq --no-install-recommends groff-base mandoc \
	>/dev/null
sh "$(dirname "$0")/install-test-tools.sh"
