#!/bin/sh
# Runs every libFuzzer target (make FUZZ=1) for SECONDS each, PARALLEL at a
# time, starting from the committed corpus, and records per target: wall
# minutes, total executions, final coverage (libFuzzer's cov = edges, ft =
# features), corpus size, and crashes (inputs written to the artifacts
# directory, plus sanitizer reports in its log).
#   usage: scripts/fuzz-campaign.sh [SECONDS=600] [PARALLEL=2] [TARGET...]
# The binaries are copied to build/fuzz-campaign/bin before the first run,
# so that rebuilding build/fuzz while a campaign runs changes nothing in it.
# New interesting inputs go to build/fuzz-campaign/corpus-<name>/ (not
# committed: minimise them into fuzz/corpus/<name>/ with -merge=1);
# crashers to build/fuzz-campaign/artifacts/; logs to .../logs/.
# The table (tab-separated) is build/fuzz-campaign/summary.tsv; the script
# exits 1 when any target found something.  UBSan reports count as crashes
# (halt_on_error), as do ASan ones.  On a shared machine, run it under
# `nice -n 10`; the niceness is recorded in the summary's header.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:-600}
par=${2:-2}
[ $# -ge 2 ] && shift 2 || shift $#
make FUZZ=1 -j2 >/dev/null || { echo "fuzz build failed" >&2; exit 2; }
targets=${*:-$(ls fuzz/fuzz_*.c | sed 's|fuzz/||; s|\.c$||')}
out=build/fuzz-campaign
mkdir -p "$out/bin" "$out/artifacts" "$out/logs"
for t in $targets; do
	cp "build/fuzz/$t" "$out/bin/$t" || { echo "no binary $t" >&2; exit 2; }
done
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_one() {
	t=$1
	name=${t#fuzz_}
	mkdir -p "$out/corpus-$name"
	rm -f "$out/artifacts/$t-"*
	s=$(date +%s)
	"$out/bin/$t" -max_total_time="$secs" -max_len=70000 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" \
		"$out/corpus-$name" "fuzz/corpus/$name" \
		>"$out/logs/$t.log" 2>&1
	echo $? >"$out/logs/$t.rc"
	echo $(($(date +%s) - s)) >"$out/logs/$t.secs"
}
{
	printf '# scripts/fuzz-campaign.sh %s %s  commit %s  niceness %s  started %s\n' \
		"$secs" "$par" "$(git rev-parse --short HEAD)" "$(nice)" \
		"$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'target\tminutes\texecs\tcov\tft\tcorpus\tcrashes\trc\n'
} >"$out/summary.tsv"
i=0
for t in $targets; do
	run_one "$t" &
	i=$((i + 1))
	[ $((i % par)) -eq 0 ] && wait
done
wait
status=0
for t in $targets; do
	log=$out/logs/$t.log
	rc=$(cat "$out/logs/$t.rc")
	mins=$(awk '{ printf "%.1f", $1 / 60 }' "$out/logs/$t.secs")
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	# the last status line (#N DONE / pulse / NEW) carries the final counts
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
	ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
	corp=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*$')
	crashes=$(ls "$out/artifacts/$t-"* 2>/dev/null | wc -l)
	reports=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log")
	[ "$reports" -gt "$crashes" ] && crashes=$reports
	[ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] && status=1
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$mins" "${runs:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$crashes" "$rc" >>"$out/summary.tsv"
done
printf '# finished %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" >>"$out/summary.tsv"
grep '^#' "$out/summary.tsv"
grep -v '^#' "$out/summary.tsv" | { column -t -s "$(printf '\t')" 2>/dev/null || cat; }
exit $status
