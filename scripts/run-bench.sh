#!/bin/sh
# Runs every benchmark binary in $BUILD/bench; each prints its own table of
# ratios against raw baselines measured in the same run.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
status=0
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" || status=1
done
exit $status
