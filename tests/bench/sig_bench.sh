#!/bin/bash
# sig_bench.sh: verification cost per commit, the agent's way beside `git
# verify-commit` of the same commit with the same keys, in the same run,
# for OpenPGP and SSH signatures (docs/performance.md, "Signed commits"):
# sig.ssh is an Ed25519 key (checked natively), sig.ssh-rsa an RSA key
# (one ssh-keygen run).
#
#   tests/bench/sig_bench.sh [COUNT]      (default 50 interleaved runs)
#
# Keys are made for the run in a temporary GNUPGHOME (never ~/.gnupg);
# the commit is signed by the real `git commit -S`. Prints one FIGURE line
# per format: "FIGURE sig.<format> | agent p50 ms | git p50 ms | ratio |
# target <= 0.5 | met|missed". No time is asserted.
set -eu -o pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
COUNT=${1:-50}
TOOL=${RO_SIGBENCH:-${RO_BUILD_DIR:-$SRC/build}/tests/sigbench}
[ -x "$TOOL" ] || { echo "sig_bench: no $TOOL (build first)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ro-sigbench.XXXXXX")
trap 'gpgconf --homedir "$tmp/gnupg" --kill all >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
export GNUPGHOME=$tmp/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key 'Bench <bench@example.com>' \
    ed25519 sign 0 >/dev/null 2>&1
FPR=$(gpg --list-keys --with-colons bench@example.com |
    awk -F: '/^fpr/ { print $10; exit }')
gpg --armor --export "$FPR" > "$tmp/keys.asc"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$tmp/sshkey"
printf 'bench@example.com %s\n' "$(cat "$tmp/sshkey.pub")" > "$tmp/allowed"
# an RSA key: not checked natively, one `ssh-keygen -Y verify` per commit
ssh-keygen -q -t rsa -b 3072 -N '' -C bench-rsa -f "$tmp/rsakey"
printf 'bench@example.com %s\n' "$(cat "$tmp/rsakey.pub")" > "$tmp/allowed-rsa"
git init -q "$tmp/repo"
cd "$tmp/repo"
git config user.name Bench
git config user.email bench@example.com
echo a > a
git add a
git -c gpg.format=openpgp -c user.signingkey="$FPR" commit -q -S -m pgp
PGP=$(git rev-parse HEAD)
echo b > b
git add b
git -c gpg.format=ssh -c user.signingkey="$tmp/sshkey" commit -q -S -m ssh
SSH=$(git rev-parse HEAD)
echo c > c
git add c
git -c gpg.format=ssh -c user.signingkey="$tmp/rsakey" commit -q -S -m rsa
RSA=$(git rev-parse HEAD)
echo "sig_bench: $(nproc) CPUs, $COUNT runs each, $(gpg --version | head -1), $(ssh -V 2>&1), $(git --version)"
rc=0
for f in openpgp ssh ssh-rsa; do
	case $f in
	openpgp) c=$PGP; m=openpgp; k=$tmp/keys.asc ;;
	ssh) c=$SSH; m=ssh; k=$tmp/allowed ;;
	ssh-rsa) c=$RSA; m=ssh; k=$tmp/allowed-rsa ;;
	esac
	mkdir -p "$tmp/state-$f"
	out=$("$TOOL" --repo "$tmp/repo" --commit "$c" --mode $m --keys "$k" \
	    --state "$tmp/state-$f" --count "$COUNT") || { echo "MISSING sig.$f"; rc=1; continue; }
	a=$(awk '$1 == "agent" { print $3 }' <<<"$out")
	g=$(awk '$1 == "git" { print $3 }' <<<"$out")
	r=$(awk '$1 == "ratio" { print $2 }' <<<"$out")
	st=$(awk -v r="$r" 'BEGIN { print (r <= 0.5 ? "met" : "missed") }')
	echo "FIGURE sig.$f | ${a} ms | ${g} ms | ${r} | <= 0.5 | $st"
	echo "$out" | sed 's/^/  /'
done
exit $rc
