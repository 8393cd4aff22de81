#!/bin/sh
# Runs every benchmark binary in $BUILD/bench; each prints its own table of
# ratios against raw baselines measured in the same run.
# bench_sim runs the two full ecsim scenarios (steady-2000, sync-100k: 30-45
# min on this 2-core machine, nice'd, progress line on stderr, outputs in build/bench/sim/);
# BENCH_QUICK=1 runs the scaled-down ones instead (quick, sync-10k).
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
