#!/bin/sh
# Sync over real UDP (issue 7, "killed mid-sync restarts and finishes
# without refetching"): 8 daemons commit a workload; a fresh node with
# --sync chain catches up; a second fresh node is SIGKILLed mid-sync
# (progress 20-70 %), restarted from its data directory, and must finish
# having received fewer sync bytes after the restart than the uninterrupted
# node needed in all (what it had verified is not fetched again), with
# every followed chain complete.
# Depends on the sync engine (issue 5): where ec_node_sync_start reports
# no engine (the placeholder), this test prints SKIP and passes.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dsync.XXXXXX)
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 5 "$l" >&2; done
	exit 1
}
N=8
ecnet_init "$tmp/net" $((N + 2)) 0 || fail "init" # ephemeral ports
# is there a sync engine?  ask a throwaway start of the first fresh node
ecnet_start $N --sync chain --sync-delay 100
ecnet_wait_rpc $N || fail "probe node rpc"
sleep 0.5
avail=$(ecnet_ctl $N sync --json | ecnet_field available)
err=$(ecnet_ctl $N sync --json | ecnet_field error)
ecnet_stop $N
if [ "$avail" != true ]; then
	echo "SKIP: sync not available in this build ($err); the kill-mid-sync check runs once the sync engine is merged"
	exit 0
fi
rm -rf "$tmp/net/n$N/store" # start it fresh again below

# the servers' rate limits at 0.5 % (sync class: 1 range request/s per
# requester, burst 2) and 2-block ranges, so that a sync lasts a few
# seconds and can be interrupted in its middle on a fast machine
ECNET_FLAGS="--rate-scale 0.005"
ecnet_start_all $N || fail "start"
ECNET_FLAGS=""
SYNCF="--sync chain --sync-delay 500 --sync-range-blocks 2"
sleep 2
"$BUILD/ecctl" keygen "$tmp/o.key" >/dev/null
i=0
while [ $i -lt 160 ]; do
	ecnet_ctl $((i % N)) token create --owner "$tmp/o.key" --submit >/dev/null 2>&1
	i=$((i + 1))
done
sleep 4

# wait_caught_up NODE SECONDS
wait_caught_up() {
	k=0
	while [ $k -lt $(($2 * 10)) ]; do
		[ "$(ecnet_ctl "$1" sync --json | ecnet_field phase)" = caught_up ] && return 0
		sleep 0.1
		k=$((k + 1))
	done
	return 1
}
# the uninterrupted reference
ecnet_start $N $SYNCF
ecnet_wait_rpc $N || fail "node $N rpc"
wait_caught_up $N 90 || fail "fresh node did not catch up"
full=$(ecnet_ctl $N sync --json | ecnet_field bytes_recv)
echo "uninterrupted sync: caught up, $full bytes received"

# killed mid-sync
M=$((N + 1))
ecnet_start $M $SYNCF
ecnet_wait_rpc $M || fail "node $M rpc"
k=0
while :; do
	ecnet_ctl $M sync --json >"$tmp/p.json"
	p=$(ecnet_field progress <"$tmp/p.json")
	[ "$(ecnet_field phase <"$tmp/p.json")" = caught_up ] &&
		fail "the sync finished before it could be interrupted (progress $p)"
	case "$p" in 0.[2-6]*) break ;; esac
	k=$((k + 1))
	[ $k -lt 1500 ] || fail "no sync progress to interrupt"
	sleep 0.02
done
ecnet_stop $M KILL
echo "killed mid-sync at progress $p"
ecnet_start $M $SYNCF
ecnet_wait_rpc $M || fail "restart"
wait_caught_up $M 90 || fail "restarted node did not finish its sync"
ecnet_ctl $M sync --json >"$tmp/s.json"
after=$(ecnet_field bytes_recv <"$tmp/s.json")
grep -q '"complete": false' "$tmp/s.json" && fail "a followed chain is incomplete"
[ "$after" -lt "$full" ] || fail "restart refetched: $after bytes after restart >= $full of a full sync"
echo "restarted node finished with $after bytes after the restart (< $full)"
echo "PASS daemon_sync"
