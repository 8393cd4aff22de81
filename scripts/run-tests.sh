#!/bin/sh
# Runs every test of the project and prints one closing line
# "N passed, N failed".  Called by `make test` with BUILD set.
#   - each unit-test binary $BUILD/tests/test_*   (cmocka)
#   - each fuzz target's committed corpus, replayed: fuzz/corpus/<target>/
#   - each shell test tests/*.sh  (gets BUILD and the repo root as cwd)
# TESTS="pattern" limits the run to names matching the shell pattern.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
pattern=${TESTS:-*}
pass=0
fail=0
failed=""

run() { # name, command...
	name=$1
	shift
	case "$name" in $pattern) ;; *) return 0 ;; esac
	start=$(date +%s)
	if "$@" >"$BUILD/test-logs/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $name ($(($(date +%s) - start)) s)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name ($(($(date +%s) - start)) s) -- log follows"
		tail -n 60 "$BUILD/test-logs/$name.log" | sed 's/^/    /'
	fi
}

mkdir -p "$BUILD/test-logs"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
for f in "$BUILD"/fuzz-replay/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	run "replay-$n" "$f" "fuzz/corpus/${n#fuzz_}"
done
for s in tests/*.sh; do
	[ -f "$s" ] || continue
	run "$(basename "$s" .sh)" env BUILD="$BUILD" sh "$s"
done

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
