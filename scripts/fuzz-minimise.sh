#!/bin/sh
# Minimises the committed fuzz corpora after a campaign: for each target,
# libFuzzer's -merge=1 copies into a fresh directory the smallest set of
# inputs that keeps all the coverage of the committed corpus
# (fuzz/corpus/<name>/) and of what the campaign found
# (build/fuzz-campaign/corpus-<name>/, and any further directories given
# in EXTRA, e.g. EXTRA=build/fuzz-rerun), then that set replaces
# fuzz/corpus/<name>/.  Seeds with a name of their own (not a 40-digit
# content hash: hand-written cases and the inputs of fixed crashes) are
# kept whether or not they add coverage: they document a case.
# Prints one line per target: files and bytes before and after.
#   usage: scripts/fuzz-minimise.sh [TARGET...]   (needs make FUZZ=1)
set -u
cd "$(dirname "$0")/.." || exit 2
make FUZZ=1 -j2 >/dev/null || { echo "fuzz build failed" >&2; exit 2; }
targets=${*:-$(ls fuzz/fuzz_*.c | sed 's|fuzz/||; s|\.c$||')}
work=build/fuzz-minimise
status=0
for t in $targets; do
	name=${t#fuzz_}
	dirs="fuzz/corpus/$name"
	for d in build/fuzz-campaign ${EXTRA:-}; do
		[ -d "$d/corpus-$name" ] && dirs="$dirs $d/corpus-$name"
	done
	rm -rf "$work/$name"
	mkdir -p "$work/$name"
	before="$(ls fuzz/corpus/$name | wc -l) files $(cat fuzz/corpus/$name/* | wc -c) bytes"
	# shellcheck disable=SC2086
	if ! build/fuzz/"$t" -merge=1 -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
		"$work/$name" $dirs >"$work/$name.log" 2>&1; then
		echo "$t: merge failed (see $work/$name.log)" >&2
		status=1
		continue
	fi
	for f in fuzz/corpus/"$name"/*; do
		b=$(basename "$f")
		echo "$b" | grep -Eq '^[0-9a-f]{40}$' && continue
		cp "$f" "$work/$name/$b"
		# the merge names its copies by content (SHA-1): one copy only
		rm -f "$work/$name/$(sha1sum <"$f" | cut -c1-40)"
	done
	rm -rf "fuzz/corpus/$name"
	cp -r "$work/$name" "fuzz/corpus/$name"
	after="$(ls fuzz/corpus/$name | wc -l) files $(cat fuzz/corpus/$name/* | wc -c) bytes"
	printf '%-22s %s -> %s\n' "$t" "$before" "$after"
done
exit $status
