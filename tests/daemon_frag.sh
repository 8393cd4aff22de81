#!/bin/sh
# Datagram budget over real UDP (issue 7: "split by the protocol, never by
# IP fragmentation"; PROTOCOL 16 "Fragments").  4 daemons with
# --datagram-max 600 commit 64 single-token creations in a burst (blocks of
# 32 transactions: 1,427 bytes encoded, over one datagram) and 8 six-token
# creations (588 bytes + 58 of envelope: over one datagram); a fresh node
# catches up by chain traversal (range answers of full blocks, tx-batches
# of bodies: all fragmented).  Then, for every daemon: no datagram sent
# over 600 bytes (its own counter), no EMSGSIZE, nothing oversize, no
# inconsistent or malformed fragment; fragments were sent and reassembled.
# Where root and 'ip netns' allow, every daemon runs in one network
# namespace whose loopback MTU is 628 (600 + 28 bytes of IPv4/UDP headers):
# the kernel itself then refuses any bigger datagram (the sockets set
# don't-fragment), so the budget is checked independently of our counters;
# a control daemon there with --datagram-max 1232 must hit EMSGSIZE (counted,
# logged, still serving).  Otherwise the same runs on the host's loopback.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dfrag.XXXXXX)
NS=""
cleanup() {
	ecnet_stop_all
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 5 "$l" >&2; done
	exit 1
}
B=600
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1; then
	NS="ecfrag$$"
	if ip netns add "$NS" 2>/dev/null && ip -n "$NS" link set lo up mtu $((B + 28)) 2>/dev/null; then
		ECNET_WRAP="ip netns exec $NS"
		echo "daemons in namespace $NS, loopback MTU $((B + 28))"
	else
		ip netns del "$NS" 2>/dev/null
		NS=""
	fi
fi
[ -n "$NS" ] || echo "no network namespace (not root or no 'ip netns'): host loopback, counters only"
N=4
ecnet_init "$tmp/net" $((N + 2)) 0 || fail "init"
ECNET_FLAGS="--datagram-max $B --block-interval 10000"
ecnet_start_all $N || fail "start"
"$BUILD/ecctl" keygen "$tmp/o.key" >/dev/null
# 64 creations built first, then submitted by 4 parallel streams, so that
# they reach node 0 well within one block interval (also under SAN)
i=0
while [ $i -lt 64 ]; do
	"$BUILD/ecctl" token create --owner "$tmp/o.key" --json | ecnet_field tx >"$tmp/tx$i" ||
		fail "build $i"
	i=$((i + 1))
done
# the 4 identity tokens first, so that the burst starts on an empty block
k=0
while [ "$(ecnet_ctl 0 status --json | ecnet_field txs_committed)" -lt 4 ]; do
	k=$((k + 1))
	[ $k -lt 300 ] || fail "identity tokens not committed"
	sleep 0.1
done
for s in 0 1 2 3; do
	(
		i=$s
		while [ $i -lt 64 ]; do
			ecnet_ctl 0 submit "$(cat "$tmp/tx$i")" >/dev/null 2>&1 || echo "$i" >>"$tmp/subfail"
			i=$((i + 4))
		done
	) &
	subs="${subs:-} $!"
done
# shellcheck disable=SC2086
wait $subs
[ -f "$tmp/subfail" ] && fail "submits failed: $(tr '\n' ' ' <"$tmp/subfail")"
i=0
while [ $i -lt 8 ]; do
	ecnet_ctl $((i % N)) token create --owner "$tmp/o.key" --tokens 6 --submit --json \
		>"$tmp/m.json" 2>&1 || fail "submit multi-token $i: $(cat "$tmp/m.json")"
	ecnet_field txid <"$tmp/m.json" >>"$tmp/multi.txt"
	i=$((i + 1))
done
# every node commits the 72 transactions (and the 4 identity tokens)
k=0
while :; do
	low=0
	i=0
	while [ $i -lt $N ]; do
		c=$(ecnet_ctl $i status --json | ecnet_field txs_committed)
		[ "${c:-0}" -ge 76 ] || low=1
		i=$((i + 1))
	done
	[ $low = 0 ] && break
	k=$((k + 1))
	[ $k -lt 300 ] || fail "not every node committed the workload (node $((i - 1)): $c)"
	sleep 0.2
done
while read -r t; do
	i=0
	while [ $i -lt $N ]; do
		s=$(ecnet_ctl $i tx "$t" --json | ecnet_field state)
		[ "$s" = committed ] || fail "multi-token tx $t is '$s' on node $i"
		i=$((i + 1))
	done
done <"$tmp/multi.txt"
# the largest block of node 0's chain holds 32 transactions
h=$(ecnet_ctl 0 status --json | ecnet_field height)
full=0
while [ "$h" -ge 0 ]; do
	n=$(ecnet_ctl 0 block --height "$h" --json |
		awk '/"txids"/{on=1; next} on && /\]/{on=0} on && /"[0-9a-f][0-9a-f]*"/{c++} END{print c+0}')
	[ "$n" -gt "$full" ] && full=$n
	h=$((h - 1))
done
[ "$full" -eq 32 ] || fail "no full block of 32 transactions on node 0 (largest: $full)"
echo "committed: 64 + 8 six-token transactions on $N nodes, a block of 32 on node 0"

# a fresh node catches up by chain traversal under the same budget
ecnet_start $N --sync chain --sync-delay 500
ecnet_wait_rpc $N || fail "syncing node rpc"
k=0
while [ "$(ecnet_ctl $N sync --json | ecnet_field phase)" != caught_up ]; do
	k=$((k + 1))
	[ $k -lt 600 ] || fail "the fresh node did not catch up"
	sleep 0.1
done
ecnet_ctl $N sync --json >"$tmp/s.json"
grep -q '"complete": false' "$tmp/s.json" && fail "a followed chain is incomplete"
echo "fresh node caught up: $(ecnet_field blocks_verified <"$tmp/s.json") blocks," \
	"$(ecnet_field txs_held <"$tmp/s.json") bodies"

sent=0
i=0
while [ $i -le $N ]; do
	ecnet_ctl $i status --json >"$tmp/st$i.json"
	v() { ecnet_field "$1" <"$tmp/st$i.json"; }
	[ "$(v datagram_max)" = $B ] || fail "node $i: datagram_max $(v datagram_max)"
	[ "$(v max_datagram_tx)" -le $B ] || fail "node $i sent a datagram of $(v max_datagram_tx) bytes"
	[ "$(v send_emsgsize)" = 0 ] || fail "node $i: $(v send_emsgsize) datagrams refused by the kernel (EMSGSIZE)"
	[ "$(v send_errors)" = 0 ] || fail "node $i: $(v send_errors) send errors"
	[ "$(v dropped_oversize)" = 0 ] || fail "node $i dropped $(v dropped_oversize) oversize messages"
	[ "$(v frag_inconsistent)" = 0 ] && [ "$(v frag_malformed)" = 0 ] ||
		fail "node $i: inconsistent/malformed fragments"
	echo "node $i: largest datagram $(v max_datagram_tx) B, $(v frag_msgs_tx) messages sent in" \
		"$(v frag_dgrams_tx) fragments, $(v frag_msgs_rx) reassembled, $(v frag_timed_out) timed out"
	sent=$((sent + $(v frag_msgs_tx)))
	i=$((i + 1))
done
[ "$sent" -gt 0 ] || fail "no message was fragmented"
[ "$(ecnet_field frag_msgs_rx <"$tmp/st$N.json")" -gt 0 ] || fail "the syncing node reassembled nothing"

if [ -n "$NS" ]; then
	# control: a daemon in the same namespace that ignores the path MTU
	C=$((N + 1))
	ECNET_FLAGS="--block-interval 10000"
	ecnet_start $C --datagram-max 1232
	ecnet_wait_rpc $C || fail "control node rpc"
	sleep 1.5
	ecnet_ctl $C token create --owner "$tmp/o.key" --tokens 6 --submit >/dev/null 2>&1 ||
		fail "control submit"
	sleep 1
	e=$(ecnet_ctl $C status --json | ecnet_field send_emsgsize)
	[ "${e:-0}" -gt 0 ] || fail "control node with --datagram-max 1232 under MTU $((B + 28)) saw no EMSGSIZE"
	echo "control node (--datagram-max 1232): $e datagrams refused by the kernel, counted; still serving"
fi
echo "PASS daemon_frag"
