#!/bin/sh
# A full disk (include/ec/node.h "Store full"): 4 daemons, node 3's data
# directory on a 2 MiB tmpfs.  A transaction commits everywhere; then the
# tmpfs is filled and transactions are submitted until node 3 reports
# store.writes_paused.  While paused node 3 keeps running: 'ecctl status'
# answers, its stored transactions are still served as committed, the paused
# one is only decided, the log says "store full" once, and a transaction
# submitted meanwhile commits on the other three.  The filler is removed:
# node 3 resumes, commits what it had paused and what arrived meanwhile,
# then a new transaction commits on all four and node 3's chain verifies.
# Needs root (mount); prints a SKIP line and passes otherwise.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dfull.XXXXXX)
mnt="$tmp/net/n3"
mounted=0
cleanup() {
	ecnet_stop_all
	[ $mounted = 1 ] && umount -l "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 12 "$l" >&2; done
	exit 1
}
mkdir -p "$mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=2m tmpfs "$mnt" 2>/dev/null; then
	echo "SKIP daemon_full: needs root and a mountable tmpfs (size-limited file system)"
	exit 0
fi
mounted=1
N=4
ecnet_init "$tmp/net" $N 0 || fail "init"
ecnet_start_all $N || fail "start"
ecnet_wait_peers $N || fail "peers did not converge"
st() { ecnet_ctl 3 status --json | ecnet_field "$1"; }
state() { ecnet_ctl "$1" tx "$2" --json 2>/dev/null | ecnet_field state; }
state_is() { [ "$(state "$1" "$2")" = "$3" ]; }
paused_is() { [ "$(st writes_paused)" = "$1" ]; }
# wait_state TXID STATE SECONDS NODES...
wait_state() {
	_tx=$1 _want=$2 _sec=$3
	shift 3
	for _n in "$@"; do
		ecnet_until "$_sec" state_is "$_n" "$_tx" "$_want" || return 1
	done
}
"$BUILD/ecctl" keygen "$tmp/o.key" >/dev/null
create() { ecnet_ctl 0 token create --owner "$tmp/o.key" --submit --json | ecnet_field txid; }

t1=$(create)
wait_state "$t1" committed 15 0 1 2 3 || fail "first transaction did not commit on all four"

# fill node 3's file system, then commit until its store write fails
dd if=/dev/zero of="$mnt/filler" bs=4096 2>/dev/null
paused=""
paused_or_committed() { paused_is true || state_is 3 "$tp" committed; }
k=0
while [ $k -lt 30 ]; do
	tp=$(create)
	[ -n "$tp" ] || fail "submit"
	wait_state "$tp" committed 15 0 1 2 || fail "transaction $tp did not commit on 0-2"
	ecnet_until 5 paused_or_committed
	paused_is true && { paused=$tp; break; }
	k=$((k + 1))
done
[ -n "$paused" ] || fail "node 3 never reported store.writes_paused on a full disk"
echo "node 3 paused writing after $((k + 1)) transactions on a full disk"
kill -0 "$(cat "$tmp/net/n3.pid")" || fail "node 3 exited on a full disk"
[ "$(state 3 "$t1")" = committed ] || fail "node 3 no longer serves its stored commit"
s=$(state 3 "$paused")
[ "$s" = decided ] || fail "the paused transaction is '$s' on node 3, not decided"
[ "$(st waiting_height)" -ge 1 ] || fail "no waiting height in status"
# a transaction while paused: committed by the others, not by node 3
tm=$(create)
wait_state "$tm" committed 15 0 1 2 || fail "no commit on the others while node 3 is paused"
s=$(state 3 "$tm")
[ "$s" = committed ] && fail "node 3 committed while its store is full"
[ "$(grep -c "store full" "$tmp/net/n3.log")" = 1 ] || fail "'store full' not logged exactly once"
[ "$(st writes_paused)" = true ] || fail "node 3 resumed while the disk is still full"
echo "while paused: status answers, reads served, paused tx decided, others commit"

# space returns
rm -f "$mnt/filler"
ecnet_until 30 paused_is false || fail "node 3 did not resume after space returned"
ecnet_until 5 grep -q "store writable again" "$tmp/net/n3.log" || fail "resume not logged"
wait_state "$paused" committed 15 3 || fail "the paused transaction did not commit on node 3"
wait_state "$tm" committed 15 3 || fail "the transaction from the pause did not commit on node 3"
t2=$(create)
wait_state "$t2" committed 15 0 1 2 3 || fail "no commit on all four after the resume"
ecnet_ctl 3 walk --json >"$tmp/w.json" || fail "walk"
[ "$(ecnet_field verified <"$tmp/w.json")" = ok ] || fail "node 3's chain does not verify"
[ "$(ecnet_field complete <"$tmp/w.json")" = true ] || fail "node 3's chain incomplete"
echo "space returned: node 3 resumed, committed the paused and the later tx; chain verifies"
ecnet_stop 3 TERM
grep -q "ecnode info  stopped" "$tmp/net/n3.log" || fail "node 3 did not stop cleanly"
if grep -l "Sanitizer\|runtime error" "$tmp"/net/n*.log; then fail "sanitizer report"; fi
echo "PASS daemon_full"
