#!/bin/sh
# Sync over real UDP (issue 7, "killed mid-sync restarts and finishes
# without refetching"): 8 daemons commit a workload; a fresh node with
# --sync chain catches up; a second fresh node is SIGKILLed mid-sync
# (progress 20-70 %), restarted from its data directory, and must finish
# with every followed chain complete, having fetched after the restart no
# block it had verified before the kill
# (blocks_fetched after + blocks_verified before <= target + one in-flight
# window; the same for bodies).
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
# what the node had verified and stored just before the kill (read before
# it: the kill can only find more verified, never less)
vb=$(ecnet_field blocks_verified <"$tmp/p.json")
hb=$(ecnet_field txs_held <"$tmp/p.json")
ecnet_stop $M KILL
echo "killed mid-sync at progress $p ($vb blocks verified, $hb bodies held)"
ecnet_start $M $SYNCF
ecnet_wait_rpc $M || fail "restart"
wait_caught_up $M 90 || fail "restarted node did not finish its sync"
ecnet_ctl $M sync --json >"$tmp/s.json"
after=$(ecnet_field bytes_recv <"$tmp/s.json")
grep -q '"complete": false' "$tmp/s.json" && fail "a followed chain is incomplete"
# Bytes are reported, not asserted: the second joiner's network is one peer
# larger (the first joiner) and a restart repeats head discovery, so at an
# early kill (~20 %) its bytes can pass the first joiner's; the block and
# body counts below are the exact "no refetch" check.
echo "restarted node finished with $after bytes received after the restart (first joiner: $full in all)"
# no verified block or body fetched again (issue 5 point 6): the blocks
# received after the restart plus those verified before the kill stay within
# the blocks the sync had to verify plus one in-flight window (W = 16
# requests x 2 blocks = 32: answers to requests that were sent again after a
# timeout); the same for bodies (one window of tx-batch ids, 16 x 64)
fa=$(ecnet_field blocks_fetched <"$tmp/s.json")
ta=$(ecnet_field blocks_target <"$tmp/s.json")
va=$(ecnet_field blocks_verified <"$tmp/s.json")
xa=$(ecnet_field txs_fetched <"$tmp/s.json")
ra=$(ecnet_field txs_referenced <"$tmp/s.json")
[ -n "$fa" ] && [ -n "$vb" ] && [ -n "$xa" ] || fail "sync_status lacks blocks_fetched / txs_fetched"
[ "$va" -eq "$ta" ] || fail "caught up with $va of $ta blocks verified"
[ "$vb" -gt 0 ] || fail "nothing verified before the kill"
[ $((fa + vb)) -le $((ta + 32)) ] ||
	fail "refetched: $fa blocks fetched after the restart + $vb verified before > $ta + 32"
[ $((xa + hb)) -le $((ra + 1024)) ] ||
	fail "refetched: $xa bodies fetched after the restart + $hb held before > $ra + 1024"
echo "restart fetched $fa blocks (+ $vb verified before the kill; target $ta) and $xa bodies (+ $hb held before; $ra referenced)"
echo "PASS daemon_sync"
