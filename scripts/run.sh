#!/bin/sh
# make run: a local EC network on loopback.
#   1. 8 ecnode daemons, each with its own data directory (keys 0600, LMDB),
#      finding each other from one bootstrap contact;
#   2. a transaction workload through ecctl: token creations, transfers and
#      destructions built from key files, submitted to different nodes;
#   3. a signed mapping query and a chain walk verified over UDP;
#   4. a fresh 9th node that catches up by chain traversal (--sync chain)
#      while a progress bar shows it, then its completeness report.
# Ctrl-C stops every daemon cleanly (SIGTERM, after the current batch).
# Environment: BUILD (build dir), RUN_DIR (default build/run: wiped first),
# RUN_TXS (creations, default 96), RUN_PORT (first UDP port; default 0 =
# ephemeral ports).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
RUN_DIR=${RUN_DIR:-$BUILD/run}
TXS=${RUN_TXS:-96}
N=8
PORT0=${RUN_PORT:-0} # 0: ephemeral ports, nothing to collide with
. scripts/ecnet.sh

stop_all() {
	trap - INT TERM EXIT
	echo
	echo "== stopping every node (SIGTERM)"
	ecnet_stop_all
	exit "${1:-0}"
}
trap 'stop_all 130' INT TERM
trap 'stop_all $?' EXIT
say() { printf '\n== %s\n' "$*"; }
die() {
	echo "run: $*" >&2
	for l in "$RUN_DIR"/n*.log; do echo "--- $l" >&2; tail -n 5 "$l" >&2; done
	exit 1
}

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
say "1. starting $N ecnode daemons on 127.0.0.1 (data in $RUN_DIR)"
ecnet_init "$RUN_DIR" $((N + 1)) "$PORT0" || die "init failed"
ecnet_start_all $N || die "the nodes did not start (see $RUN_DIR/n*.log)"
ecnet_wait_peers $N 200 || die "nodes did not find each other"
echo "every node knows the other $((N - 1)) (one bootstrap contact: node 0)"
i=0
while [ $i -lt $N ]; do
	printf '  node %d  %s\n' $i "$(ecnet_ctl $i status --json | ecnet_field listen)"
	i=$((i + 1))
done
echo "node 0 config ($RUN_DIR/n0.conf):"
sed 's/^/    /' "$RUN_DIR/n0.conf"

say "2. workload through ecctl: $TXS creations, then transfers and destructions"
for o in alice bob carol; do "$BUILD/ecctl" keygen "$RUN_DIR/$o.key" >/dev/null; done
: >"$RUN_DIR/tokens"
i=0
while [ $i -lt "$TXS" ]; do
	n=$((i % N))
	ecnet_ctl $n token create --owner "$RUN_DIR/alice.key" --submit --json \
		>"$RUN_DIR/tx.json" 2>/dev/null &&
		ecnet_field token <"$RUN_DIR/tx.json" >>"$RUN_DIR/tokens"
	i=$((i + 1))
	[ $((i % 16)) = 0 ] && printf '  submitted %d\n' $i
done
sleep 2
transfers=0
destroys=0
i=0
for t in $(head -n $((TXS / 2)) "$RUN_DIR/tokens"); do
	n=$((i % N))
	if [ $((i % 4)) = 3 ]; then
		ecnet_ctl $n token destroy --token "$t" --key "$RUN_DIR/alice.key" --submit \
			>/dev/null 2>&1 && destroys=$((destroys + 1))
	else
		ecnet_ctl $n token transfer --token "$t" --key "$RUN_DIR/alice.key" \
			--to "$RUN_DIR/bob.key" --submit >/dev/null 2>&1 && transfers=$((transfers + 1))
	fi
	i=$((i + 1))
done
echo "  submitted $transfers transfers, $destroys destructions"
sleep 3
printf '\n  %-5s %-18s %7s %14s %10s\n' node peer height txs_committed served
i=0
while [ $i -lt $N ]; do
	ecnet_ctl $i status --json >"$RUN_DIR/st.json"
	printf '  %-5s %-18s %7s %14s %10s\n' $i "$(ecnet_field peer_id <"$RUN_DIR/st.json" | cut -c1-16).." \
		"$(ecnet_field height <"$RUN_DIR/st.json")" \
		"$(ecnet_field txs_committed <"$RUN_DIR/st.json")" \
		"$(ecnet_field queries_served <"$RUN_DIR/st.json")"
	i=$((i + 1))
done

say "3. a signed mapping and a chain, verified over UDP"
t=$(head -n 1 "$RUN_DIR/tokens")
p5=$(ecnet_peer_id 5)
echo "ecctl mapping $t --peer ${p5%????????????????????????????????????????????????}.. (asked by node 2)"
ecnet_ctl 2 mapping "$t" --peer "$p5" | sed 's/^/    /'
echo "ecctl walk ${p5%????????????????????????????????????????????????}.. --remote (node 2 fetches node 5's chain and verifies it)"
ecnet_ctl 2 walk "$p5" --remote | sed 's/^/    /'

say "4. a fresh node joins and catches up by chain traversal"
ecnet_start $N --sync chain --sync-delay 1000
ecnet_wait_rpc $N || die "fresh node did not start"
sleep 1.5
ecnet_ctl $N sync --watch --timeout "${RUN_SYNC_TIMEOUT:-120}" --json >"$RUN_DIR/sync.json"
if [ "$(ecnet_field available <"$RUN_DIR/sync.json")" = true ]; then
	s=$(ecnet_field started <"$RUN_DIR/sync.json")
	e=$(ecnet_field caught_up_at <"$RUN_DIR/sync.json")
	[ "$e" -gt 0 ] 2>/dev/null && echo "caught up in $((e - s)) ms:" \
		"$(ecnet_field blocks_verified <"$RUN_DIR/sync.json") blocks verified," \
		"$(ecnet_field txs_held <"$RUN_DIR/sync.json") transactions held," \
		"$(ecnet_field round_trips <"$RUN_DIR/sync.json") round trips," \
		"$(ecnet_field bytes_recv <"$RUN_DIR/sync.json") bytes received"
fi
say "completeness report of the fresh node"
ecnet_ctl $N sync | sed 's/^/    /'
echo
echo "logs and data: $RUN_DIR   (query a node: $BUILD/ecctl status --rpc $RUN_DIR/n0/ecnode.sock)"
