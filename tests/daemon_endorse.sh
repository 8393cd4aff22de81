#!/bin/sh
# Block fetches with endorsement collection over real UDP (issues 4 + 7):
# 4 daemons commit a few transactions; node B fetches node A's head block
# from A (fetch_block RPC / ecctl block fetch): B's answer lists A's
# endorsement; node C fetches it from B: C's answer lists at least A's and
# B's endorsements, C then holds the block and get_block on C lists the
# same endorsements.  A fetch from a peer that does not hold the block is
# refused (stored false, held false, the daemon keeps running), one from a
# stopped peer times out (about 5 s); bad
# parameters and an unknown peer are JSON-RPC errors.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dendo.XXXXXX)
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 5 "$l" >&2; done
	exit 1
}
N=4
ecnet_init "$tmp/net" $N 0 || fail "init" # ephemeral ports
ecnet_start_all $N || fail "start"
ecnet_wait_peers $N || fail "peers did not converge"

"$BUILD/ecctl" keygen "$tmp/o.key" >/dev/null
txs=""
i=0
while [ $i -lt 6 ]; do
	ecnet_ctl $((i % N)) token create --owner "$tmp/o.key" --submit --json >"$tmp/c.json" ||
		fail "create via node $((i % N))"
	txs="$txs $(ecnet_field txid <"$tmp/c.json")"
	i=$((i + 1))
done
for t in $txs; do
	k=0
	until [ "$(ecnet_ctl 0 tx "$t" --json 2>/dev/null | ecnet_field state)" = committed ]; do
		k=$((k + 1))
		[ $k -lt 300 ] || fail "tx $t not committed on node 0"
		sleep 0.1
	done
done
echo "6 transactions committed"

# A = node 0, B = node 1, C = node 2
A=$(ecnet_ctl 0 status --json | ecnet_field peer_id)
B=$(ecnet_ctl 1 status --json | ecnet_field peer_id)
C=$(ecnet_ctl 2 status --json | ecnet_field peer_id)
blk=$(ecnet_ctl 0 status --json | ecnet_field head)
[ ${#blk} = 64 ] || fail "node 0 has no head block ($blk)"
ecnet_ctl 0 block "$blk" --json >/dev/null || fail "node 0 does not hold its own head"

# B fetches from A: answered, A's endorsement kept
ecnet_ctl 1 block fetch "$blk" --peer "$A" --json >"$tmp/fb.json" || fail "fetch on B"
[ "$(ecnet_field outcome <"$tmp/fb.json")" = answered ] || fail "B's fetch: $(cat "$tmp/fb.json")"
[ "$(ecnet_field held <"$tmp/fb.json")" = true ] || fail "B does not hold the block after the fetch"
grep -q "\"peer\": \"$A\"" "$tmp/fb.json" || fail "B's answer lacks A's endorsement: $(cat "$tmp/fb.json")"
nb=$(ecnet_field n <"$tmp/fb.json")
[ "$nb" -ge 1 ] || fail "B kept $nb endorsements"
echo "B fetched A's head from A: $nb endorsement(s), stored=$(ecnet_field stored <"$tmp/fb.json")"

# C fetches from B: B serves its own endorsement plus A's
ecnet_ctl 2 block fetch "$blk" --peer "$B" --json >"$tmp/fc.json" || fail "fetch on C"
[ "$(ecnet_field outcome <"$tmp/fc.json")" = answered ] || fail "C's fetch: $(cat "$tmp/fc.json")"
nc=$(ecnet_field n <"$tmp/fc.json")
[ "$nc" -ge 2 ] || fail "C's answer lists $nc endorsements (want >= 2): $(cat "$tmp/fc.json")"
grep -q "\"peer\": \"$A\"" "$tmp/fc.json" || fail "C's answer lacks A's endorsement"
grep -q "\"peer\": \"$B\"" "$tmp/fc.json" || fail "C's answer lacks B's endorsement"
grep -q "\"peer\": \"$C\"" "$tmp/fc.json" && fail "C lists an endorsement of its own"
ecnet_ctl 2 block "$blk" --json >"$tmp/gc.json" || fail "C does not hold the block after the fetch"
[ "$(ecnet_field id <"$tmp/gc.json")" = "$blk" ] || fail "get_block on C: wrong block"
grep -q "\"peer\": \"$A\"" "$tmp/gc.json" && grep -q "\"peer\": \"$B\"" "$tmp/gc.json" ||
	fail "get_block on C does not list A's and B's endorsements"
# human output
ecnet_ctl 2 block fetch "$blk" --peer "$B" >"$tmp/h.txt" || fail "human fetch"
grep -q "^outcome *answered" "$tmp/h.txt" && grep -q "^held *yes" "$tmp/h.txt" &&
	grep -q "  $A" "$tmp/h.txt" || fail "human output: $(cat "$tmp/h.txt")"
echo "C fetched it from B: $nc endorsements (A and B), stored on C, listed by get_block"

# a peer that does not hold the block refuses: stored false, held false
fake=0000000000000000000000000000000000000000000000000000000000000001
ecnet_ctl 2 block fetch "$fake" --peer "$A" --json >"$tmp/fr.json" || fail "refused fetch errored"
[ "$(ecnet_field outcome <"$tmp/fr.json")" = refused ] || fail "not refused: $(cat "$tmp/fr.json")"
[ "$(ecnet_field stored <"$tmp/fr.json")" = false ] || fail "refused fetch stored something"
[ "$(ecnet_field held <"$tmp/fr.json")" = false ] || fail "refused fetch: held"
[ "$(ecnet_field n <"$tmp/fr.json")" = 0 ] || fail "refused fetch: endorsements"
ecnet_ctl 2 block "$fake" >/dev/null 2>&1 && fail "a refused block is stored"
echo "fetch from a peer without the block: refused, nothing stored"

# a peer that does not answer (stopped): the call ends with the core's
# 5 s fetch timeout, nothing stored
D=$(ecnet_ctl 3 status --json | ecnet_field peer_id)
ecnet_stop 3
ecnet_ctl 2 block fetch "$fake" --peer "$D" --json >"$tmp/ft.json" || fail "timed-out fetch errored"
[ "$(ecnet_field outcome <"$tmp/ft.json")" = timeout ] || fail "not a timeout: $(cat "$tmp/ft.json")"
[ "$(ecnet_field held <"$tmp/ft.json")" = false ] || fail "timed-out fetch: held"
echo "fetch from a stopped peer: timeout, nothing stored"

# errors: unknown peer, ourselves, bad ids (ecctl usage)
ecnet_ctl 2 block fetch "$blk" --peer "$fake" >/dev/null 2>"$tmp/e1" && fail "unknown peer accepted"
grep -q "error -32001" "$tmp/e1" || fail "unknown peer: $(cat "$tmp/e1")"
ecnet_ctl 2 block fetch "$blk" --peer "$C" >/dev/null 2>"$tmp/e2" && fail "fetch from self accepted"
grep -q "error -32602" "$tmp/e2" || fail "self: $(cat "$tmp/e2")"
ecnet_ctl 2 block fetch "$blk" >/dev/null 2>&1
[ $? = 2 ] || fail "fetch without --peer: not a usage error"
ecnet_ctl 2 block fetch xyz --peer "$A" >/dev/null 2>&1
[ $? = 2 ] || fail "bad id: not a usage error"
# every daemon still answers
i=0
while [ $i -lt 3 ]; do
	ecnet_ctl $i status >/dev/null || fail "node $i died"
	i=$((i + 1))
done
echo "errors: unknown peer -32001, self -32602, bad arguments rejected; nodes 0-2 alive"
echo "PASS daemon_endorse"
