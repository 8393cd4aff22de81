#!/bin/sh
# Runs every libFuzzer target (make FUZZ=1) for SECONDS each, PARALLEL at a
# time, starting from the committed corpus, and prints one line per target:
# runs, executions per second, corpus size, and whether it found anything.
# New interesting inputs go to build/fuzz/corpus-<target>/ (not committed);
# crashers are written to build/fuzz/artifacts/ and make the script fail.
#   usage: scripts/fuzz-campaign.sh [SECONDS=600] [PARALLEL=2] [TARGET...]
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:-600}
par=${2:-2}
[ $# -ge 2 ] && shift 2 || shift $#
make FUZZ=1 -j2 >/dev/null || { echo "fuzz build failed" >&2; exit 2; }
targets=${*:-$(ls fuzz/fuzz_*.c | sed 's|fuzz/||; s|\.c$||')}
mkdir -p build/fuzz/artifacts build/fuzz/logs
run_one() {
	t=$1
	name=${t#fuzz_}
	mkdir -p "build/fuzz/corpus-$name"
	build/fuzz/"$t" -max_total_time="$secs" -max_len=70000 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/"$t"- \
		"build/fuzz/corpus-$name" "fuzz/corpus/$name" \
		>"build/fuzz/logs/$t.log" 2>&1
	echo $? >"build/fuzz/logs/$t.rc"
}
i=0
for t in $targets; do
	run_one "$t" &
	i=$((i + 1))
	[ $((i % par)) -eq 0 ] && wait
done
wait
status=0
for t in $targets; do
	rc=$(cat "build/fuzz/logs/$t.rc")
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/logs/$t.log" | grep -o '[0-9]*$')
	eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "build/fuzz/logs/$t.log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "build/fuzz/logs/$t.log" | tail -n 1)
	res=ok
	[ "$rc" -ne 0 ] && { res="FINDING (rc $rc, see build/fuzz/logs/$t.log)"; status=1; }
	printf '%-22s %6ss  runs %10s  exec/s %7s  %s  %s\n' "$t" "$secs" "${runs:-?}" "${eps:-?}" "${cov:-}" "$res"
done
exit $status
