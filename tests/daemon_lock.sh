#!/bin/sh
# One process per data directory, and a control socket nobody else's
# process loses: a second ecnode (and ecnode --init) on a live data
# directory exits 1 naming the first one's pid, and the first one's socket
# still answers, also after the second exited; a second node with another
# data directory but the live socket's path (--rpc) is refused, as is a path
# that is not a socket; a socket replaced under a running node is left to
# its new owner when the node stops; a killed node's stale socket is
# replaced at restart.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
E="$BUILD/ecnode"
tmp=$(mktemp -d /tmp/ec-dlock.XXXXXX)
xpid=""
cleanup() {
	[ -n "$xpid" ] && kill "$xpid" 2>/dev/null && wait "$xpid" 2>/dev/null
	ecnet_stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log "$tmp"/*.err; do [ -f "$l" ] && { echo "--- $l" >&2; tail -n 8 "$l" >&2; }; done
	exit 1
}
ecnet_init "$tmp/net" 1 0 || fail "init"
ecnet_start 0
ecnet_wait_rpc 0 || fail "node 0 did not start"
D="$tmp/net/n0"
sock="$D/ecnode.sock"
pid0=$(cat "$tmp/net/n0.pid")
ino=$(stat -c %i "$sock")
id0=$(ecnet_ctl 0 status --json | ecnet_field peer_id)

# a second daemon on the same data directory
timeout 30 "$E" --config "$tmp/net/n0.conf" 2>"$tmp/second.err"
rc=$?
[ $rc = 1 ] || fail "second ecnode on a live data directory: exit $rc, not 1"
grep -q "data directory $D is in use by pid $pid0" "$tmp/second.err" ||
	fail "second ecnode's message does not name pid $pid0: $(cat "$tmp/second.err")"
[ "$(stat -c %i "$sock" 2>/dev/null)" = "$ino" ] || fail "the first node's socket was replaced"
[ "$(ecnet_ctl 0 status --json | ecnet_field peer_id)" = "$id0" ] ||
	fail "ecctl status on the first node does not answer after the second exited"
timeout 30 "$E" --init --data "$D" --pow test --network 42 >/dev/null 2>"$tmp/init.err"
rc=$?
[ $rc = 1 ] && grep -q "in use by pid $pid0" "$tmp/init.err" || fail "--init on a live data directory: exit $rc"
echo "second ecnode and --init on a live data directory: exit 1, 'in use by pid $pid0'"

# another data directory, the live socket's path
timeout 30 "$E" --data "$tmp/x" --pow test --network 42 --listen 127.0.0.1:0 --rpc "$sock" \
	2>"$tmp/third.err"
rc=$?
[ $rc != 0 ] || fail "a node took over a live control socket"
grep -q "a running process answers on it" "$tmp/third.err" || fail "no clear error: $(cat "$tmp/third.err")"
[ "$(stat -c %i "$sock" 2>/dev/null)" = "$ino" ] || fail "the live socket was unlinked"
[ "$(ecnet_ctl 0 status --json | ecnet_field peer_id)" = "$id0" ] || fail "node 0 lost its socket"
: >"$tmp/plain"
timeout 30 "$E" --data "$tmp/x" --pow test --network 42 --listen 127.0.0.1:0 --rpc "$tmp/plain" \
	2>"$tmp/plain.err"
rc=$?
[ $rc != 0 ] && grep -q "is not a socket" "$tmp/plain.err" && [ -f "$tmp/plain" ] ||
	fail "a plain file at the socket path: exit $rc"
echo "a live socket and a plain file at --rpc: refused, left alone"

# the socket path taken over while node 0 runs: node 0 leaves it at exit
rm -f "$sock"
"$E" --data "$tmp/x" --pow test --network 42 --listen 127.0.0.1:0 --rpc "$sock" 2>"$tmp/x.err" &
xpid=$!
x_up() { "$BUILD/ecctl" status --rpc "$sock" >/dev/null 2>&1; }
ecnet_until 10 x_up || fail "node x did not start"
idx=$("$BUILD/ecctl" status --json --rpc "$sock" | ecnet_field peer_id)
[ "$idx" != "$id0" ] || fail "node x answers with node 0's id"
ecnet_stop 0 TERM
grep -q "is no longer ours: left in place" "$tmp/net/n0.log" || fail "node 0 did not notice"
[ "$("$BUILD/ecctl" status --json --rpc "$sock" | ecnet_field peer_id)" = "$idx" ] ||
	fail "node 0 removed node x's socket when it stopped"
kill "$xpid"
wait "$xpid"
rc=$?
xpid=""
[ $rc = 0 ] || fail "node x exit $rc"
[ -e "$sock" ] && fail "node x left its own socket behind"
echo "a socket replaced under a running node: left to its new owner at exit"

# a killed node's stale socket is replaced at restart
ecnet_start 0
ecnet_wait_rpc 0 || fail "node 0 did not restart"
ecnet_stop 0 KILL
[ -S "$sock" ] || fail "no stale socket after SIGKILL (test set-up)"
ecnet_start 0
ecnet_wait_rpc 0 || fail "node 0 did not start over its stale socket"
grep -q "removed the stale control socket" "$tmp/net/n0.log" || fail "stale socket not reported"
echo "stale socket of a killed node replaced at restart"
ecnet_stop 0 TERM
if grep -l "Sanitizer\|runtime error" "$tmp"/net/n*.log "$tmp"/*.err; then fail "sanitizer report"; fi
echo "PASS daemon_lock"
