#!/bin/sh
# The control socket's limits (PROTOCOL 16.1 "Limits"): 1,000 idle
# connections, 500 x 1 MB unterminated lines and a client that does not
# read its answers leave ecnode's peak resident memory within a bound of
# its size at start, with `ecctl status` answering throughout; each limit
# answers with a JSON-RPC error (-32005) and closes.  The work is done by
# tests/rpc_limits.py (python3, standard library only).  Run by
# scripts/run-tests.sh with BUILD set.
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/ec-drpc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# the options: explained, checked
"$BUILD/ecnode" --help >"$tmp/help" || fail "--help"
for o in rpc-max-clients rpc-idle-timeout rpc-line-max rpc-buffer-total; do
	grep -q -- "--$o" "$tmp/help" || fail "--help does not explain --$o"
done
for bad in "--rpc-max-clients 0" "--rpc-idle-timeout 99" "--rpc-line-max 100" \
	"--rpc-line-max 1048576 --rpc-buffer-total 1048576"; do
	# shellcheck disable=SC2086
	"$BUILD/ecnode" --data "$tmp/none" $bad 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] || fail "ecnode $bad: exit $rc, want 2"
done
grep -q "rpc-buffer-total 1048576 is under --rpc-line-max 1048576 + 65536" "$tmp/err" ||
	fail "buffer total under one line: $(cat "$tmp/err")"
[ ! -e "$tmp/none" ] || fail "a refused configuration created the data directory"

# The bound on the peak over the size at start: the socket's buffers with
# the default limits come to about 9 MiB (PROTOCOL 16.1 "Limits").  A
# sanitizer build adds its own bookkeeping per allocation and keeps freed
# memory in a quarantine (kept small here): a wider bound there.
case "$BUILD" in
*san*) bound=96 ;;
*) bound=32 ;;
esac
RPC_RSS_BOUND_MIB=$bound ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=8} \
	python3 tests/rpc_limits.py "$BUILD" "$tmp"
