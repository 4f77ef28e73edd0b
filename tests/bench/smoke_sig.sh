#!/bin/bash
# smoke_sig.sh: tests/bench/sig_bench.sh with 3 runs (label bench-smoke):
# both formats are measured (a FIGURE line each, no MISSING). No time is
# asserted.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(bash "$here/sig_bench.sh" 3)
echo "$out"
for f in openpgp ssh ssh-rsa; do
	grep -q "^FIGURE sig.$f | [0-9.]* ms | [0-9.]* ms | [0-9.]* |" <<<"$out" ||
	    { echo "smoke_sig: sig.$f not measured" >&2; exit 1; }
done
