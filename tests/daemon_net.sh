#!/bin/sh
# Multi-process test (issue 7): 8 ecnode daemons on loopback, each in its own
# data directory, find each other from one bootstrap contact; transactions
# built from key files and submitted through ecctl (create, transfer,
# destroy) commit on every node; mappings are signed and verify (own query
# service and a remote peer over UDP); chains walk and verify (store and a
# remote peer); a node killed with SIGKILL restarts from its data directory,
# keeps its chain, rejoins and commits new transactions; SIGTERM stops
# every node cleanly.  Run by scripts/run-tests.sh with BUILD set.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dnet.XXXXXX)
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 5 "$l" >&2; done
	exit 1
}
N=8
ecnet_init "$tmp/net" $N 0 || fail "init" # ephemeral ports
ecnet_start_all $N || fail "start"

# every node learns the other 7 from the single bootstrap contact
ecnet_wait_peers $N || fail "peers did not converge"
echo "8 nodes, each knows 7 peers"

# wait_committed TXID: every node holds TXID committed (30 s)
wait_committed() {
	k=0
	while :; do
		ok=1
		i=0
		while [ $i -lt $N ]; do
			s=$(ecnet_ctl $i tx "$1" --json 2>/dev/null | ecnet_field state)
			[ "$s" = committed ] || { ok=0; break; }
			i=$((i + 1))
		done
		[ $ok = 1 ] && return 0
		k=$((k + 1))
		[ $k -lt 300 ] || return 1
		sleep 0.1
	done
}

"$BUILD/ecctl" keygen "$tmp/alice.key" >/dev/null
"$BUILD/ecctl" keygen --json "$tmp/bob.key" >"$tmp/bob.json"
bobhash=$(ecnet_field key_hash <"$tmp/bob.json")

# creations through different nodes
toks=""
txs=""
i=0
while [ $i -lt $N ]; do
	ecnet_ctl $i token create --owner "$tmp/alice.key" --submit --json >"$tmp/c$i.json" ||
		fail "create via node $i"
	toks="$toks $(ecnet_field token <"$tmp/c$i.json")"
	txs="$txs $(ecnet_field txid <"$tmp/c$i.json")"
	i=$((i + 1))
done
for t in $txs; do wait_committed "$t" || fail "creation $t not committed on all 8 nodes"; done
echo "8 creations submitted via ecctl committed on all 8 nodes"

tok=$(echo $toks | cut -d' ' -f1)
tx0=$(echo $txs | cut -d' ' -f1)
ecnet_ctl 3 mapping "$tok" --json >"$tmp/m.json" || fail "mapping"
[ "$(ecnet_field signature <"$tmp/m.json")" = valid ] || fail "mapping signature"
[ "$(ecnet_field txid <"$tmp/m.json")" = "$tx0" ] || fail "mapping txid"
p5=$(ecnet_peer_id 5)
ecnet_ctl 3 mapping "$tok" --peer "$p5" --json >"$tmp/m5.json" || fail "remote mapping"
[ "$(ecnet_field responder <"$tmp/m5.json")" = "$p5" ] || fail "remote responder"
[ "$(ecnet_field signature <"$tmp/m5.json")" = valid ] || fail "remote mapping signature"
[ "$(ecnet_field lamppost_key <"$tmp/m5.json")" = current ] || fail "remote lamppost key not current"
[ "$(ecnet_field txid <"$tmp/m5.json")" = "$tx0" ] || fail "remote mapping txid"
echo "mapping: signed, verified, same answer from node 3 and (over UDP) node 5"

# transfer alice -> bob (prev resolved through the node), then destroy
ecnet_ctl 1 token transfer --token "$tok" --key "$tmp/alice.key" --to "$tmp/bob.key" \
	--submit --json >"$tmp/t.json" || fail "transfer"
ttx=$(ecnet_field txid <"$tmp/t.json")
wait_committed "$ttx" || fail "transfer not committed on all nodes"
ecnet_ctl 6 mapping "$tok" --json >"$tmp/m2.json"
[ "$(ecnet_field owner_key_hash <"$tmp/m2.json")" = "$bobhash" ] || fail "owner after transfer"
if ecnet_ctl 2 token transfer --token "$tok" --key "$tmp/alice.key" --to-hash "$bobhash" \
	--submit >/dev/null 2>&1; then
	dtx=$(ecnet_ctl 2 mapping "$tok" --json | ecnet_field txid)
	[ "$dtx" = "$ttx" ] || fail "a transfer signed by the old owner changed the token"
fi
ecnet_ctl 2 token destroy --token "$tok" --key "$tmp/bob.key" --submit --json >"$tmp/d.json" ||
	fail "destroy"
dtx=$(ecnet_field txid <"$tmp/d.json")
wait_committed "$dtx" || fail "destruction not committed"
ecnet_ctl 7 mapping "$tok" --json >"$tmp/m3.json"
[ "$(ecnet_field txid <"$tmp/m3.json")" = "$dtx" ] || fail "mapping after destroy"
[ "$(ecnet_field owner_key_hash <"$tmp/m3.json")" = \
	0000000000000000000000000000000000000000000000000000000000000000 ] ||
	fail "destroyed token still has an owner"
echo "transfer and destruction committed; mapping follows"

# chains: walk and verify, from the store and from a peer over UDP
ecnet_ctl 4 walk --json >"$tmp/w.json" || fail "walk"
[ "$(ecnet_field verified <"$tmp/w.json")" = ok ] || fail "own chain does not verify"
[ "$(ecnet_field complete <"$tmp/w.json")" = true ] || fail "own chain incomplete"
ecnet_ctl 4 walk "$p5" --remote --json >"$tmp/w5.json" || fail "remote walk"
[ "$(ecnet_field verified <"$tmp/w5.json")" = ok ] || fail "node 5's chain over UDP"
[ "$(ecnet_field source <"$tmp/w5.json")" = peer ] || fail "remote walk source"
[ "$(ecnet_field complete <"$tmp/w5.json")" = true ] || fail "remote walk did not reach genesis"
[ "$(ecnet_field blocks <"$tmp/w5.json")" = $(($(ecnet_field height <"$tmp/w5.json") + 1)) ] ||
	fail "remote walk: blocks != height + 1"
h5=$(ecnet_field height <"$tmp/w5.json")
[ "$h5" -ge 0 ] || fail "remote walk found no blocks"
echo "chains verify: own from the store, node 5's over UDP ($((h5 + 1)) blocks)"

# SIGKILL node 3, restart from its data dir: chain kept, rejoins, commits
before=$(ecnet_ctl 3 status --json | ecnet_field height)
ecnet_stop 3 KILL
ecnet_start 3
ecnet_wait_rpc 3 || fail "node 3 did not restart"
after=$(ecnet_ctl 3 status --json | ecnet_field height)
[ "$after" -ge "$before" ] || fail "restarted node lost blocks ($before -> $after)"
ecnet_ctl 3 walk --json | ecnet_field verified | grep -qx ok || fail "chain after restart"
ecnet_ctl 0 token create --owner "$tmp/alice.key" --submit --json >"$tmp/c9.json" ||
	fail "create after restart"
wait_committed "$(ecnet_field txid <"$tmp/c9.json")" || fail "restarted node did not rejoin"
echo "node 3 SIGKILLed and restarted: height $before -> $after, rejoined, commits"

# SIGTERM: every node stops cleanly
i=0
while [ $i -lt $N ]; do
	ecnet_stop $i TERM
	grep -q "ecnode info  stopped" "$tmp/net/n$i.log" || fail "node $i did not stop cleanly"
	i=$((i + 1))
done
# under make SAN=1: no sanitizer report from any daemon (incl. leaks at exit)
if grep -l "Sanitizer\|runtime error" "$tmp"/net/n*.log; then fail "sanitizer report"; fi
echo "PASS daemon_net"
