#!/bin/sh
# Dead peers (issue 7; PROTOCOL 16 "Dead peers"): 4 daemons with
# --hello-interval 300 --peer-dead-after 2000.  Node 3 is frozen (SIGSTOP):
# within a few seconds the others declare it dead (status dead_peers = 1,
# the core's peer set one smaller, 'ecctl peers' shows "state dead"), and a
# transaction still commits on the three live nodes.  Node 3 is thawed
# (SIGCONT): its datagrams bring it back (peers_revived, dead_peers 0, the
# peer set whole again on every node) and a new transaction commits on all
# four.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-ddead.XXXXXX)
cleanup() {
	[ -f "$tmp/net/n3.pid" ] && kill -CONT "$(cat "$tmp/net/n3.pid")" 2>/dev/null
	ecnet_stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 8 "$l" >&2; done
	exit 1
}
N=4
ecnet_init "$tmp/net" $N 0 || fail "init"
ECNET_FLAGS="--hello-interval 300 --peer-dead-after 2000"
ecnet_start_all $N || fail "start"
st() { ecnet_ctl "$1" status --json | ecnet_field "$2"; }
# until node $1's field $2 equals $3 (seconds $4)
wait_field() {
	_k=0
	while [ "$(st "$1" "$2")" != "$3" ]; do
		_k=$((_k + 1))
		[ $_k -lt $(($4 * 10)) ] || return 1
		sleep 0.1
	done
}
i=0
while [ $i -lt $N ]; do
	wait_field $i peers 3 15 || fail "node $i has $(st $i peers) peers, not 3"
	i=$((i + 1))
done
"$BUILD/ecctl" keygen "$tmp/o.key" >/dev/null
# commits_on NODES...: submit a creation to the first, wait for it on all
commits_on() {
	t=$(ecnet_ctl "$1" token create --owner "$tmp/o.key" --submit --json | ecnet_field txid)
	[ -n "$t" ] || return 1
	for n in "$@"; do
		_k=0
		while [ "$(ecnet_ctl "$n" tx "$t" --json | ecnet_field state)" != committed ]; do
			_k=$((_k + 1))
			[ $_k -lt 150 ] || return 1
			sleep 0.1
		done
	done
}
commits_on 0 1 2 3 || fail "a transaction did not commit on all four"

kill -STOP "$(cat "$tmp/net/n3.pid")"
t0=$(date +%s)
for i in 0 1 2; do
	wait_field $i dead_peers 1 10 || fail "node $i did not declare the frozen node dead"
	[ "$(st $i peers)" = 2 ] || fail "node $i still has $(st $i peers) peers in its set"
done
echo "frozen node declared dead by all three after about $(($(date +%s) - t0)) s"
grep -h "dead:" "$tmp"/net/n0.log "$tmp"/net/n1.log | head -n 2
pid3=$(ecnet_peer_id 3)
ecnet_ctl 0 peers >"$tmp/peers.txt"
awk -v id="$(echo "$pid3" | cut -c1-16).." '$1 == id {print $3}' "$tmp/peers.txt" |
	grep -qx dead || fail "ecctl peers does not show node 3 as dead: $(cat "$tmp/peers.txt")"
[ "$(awk 'NR > 1 && $3 == "alive"' "$tmp/peers.txt" | wc -l)" -eq 2 ] ||
	fail "ecctl peers does not show the two others alive"
commits_on 0 1 2 || fail "no commit among the three live nodes while one is dead"
echo "a transaction committed on the three live nodes"

kill -CONT "$(cat "$tmp/net/n3.pid")"
for i in 0 1 2 3; do
	wait_field $i peers 3 10 || fail "node $i did not take the thawed node back ($(st $i peers) peers)"
	wait_field $i dead_peers 0 10 || fail "node $i still lists a dead peer"
done
for i in 0 1 2; do
	[ "$(st $i peers_revived)" -ge 1 ] || fail "node $i counted no revival"
done
commits_on 3 0 1 2 || fail "no commit on all four after the thaw"
echo "thawed node back on every node; a transaction committed on all four"
echo "PASS daemon_dead"
