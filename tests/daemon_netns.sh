#!/bin/sh
# Multi-process test in separate network namespaces (issue 7): 4 ecnode
# daemons, each in its own namespace with its own address on a bridge,
# commit a transaction; one is cut off (its link down): a transaction still
# commits on the other three and not on the cut one; the link is healed:
# the node is greeted again and a new transaction commits on all four.
# Needs root and 'ip netns'; otherwise prints SKIP and passes.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
skip() { echo "SKIP: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null 2>&1 || skip "no ip command"
id=$(($$ % 10000))
ns0="ect${id}n0"
ip netns add "$ns0" 2>/dev/null || skip "ip netns add not permitted"
ip netns del "$ns0"
tmp=$(mktemp -d /tmp/ec-dns.XXXXXX)
N=4
BR="ecb$id"
cleanup() {
	ecnet_stop_all
	i=0
	while [ $i -lt $N ]; do
		ip netns del "ect${id}n$i" 2>/dev/null
		ip link del "ech${id}$i" 2>/dev/null
		i=$((i + 1))
	done
	ip link del "$BR" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log; do echo "--- $l" >&2; tail -n 5 "$l" >&2; done
	exit 1
}
ip link add "$BR" type bridge 2>/dev/null || skip "cannot create a bridge"
ip link set "$BR" up
i=0
while [ $i -lt $N ]; do
	ns="ect${id}n$i"
	ip netns add "$ns" || fail "netns"
	ip link add "ech${id}$i" type veth peer name "ecp${id}$i" || skip "cannot create veth"
	ip link set "ecp${id}$i" netns "$ns"
	ip -n "$ns" addr add "10.231.$((id % 200)).$((i + 1))/24" dev "ecp${id}$i"
	ip -n "$ns" link set "ecp${id}$i" up
	ip -n "$ns" link set lo up
	ip link set "ech${id}$i" master "$BR"
	ip link set "ech${id}$i" up
	i=$((i + 1))
done
net="10.231.$((id % 200))"
ecnet_init "$tmp/net" $N 7000 || fail "init"
boot="$(awk '/kx_pk/{print $2}' "$tmp/net/n0.id")@$net.1:7000"
i=0
while [ $i -lt $N ]; do
	sed -i "s|^listen = .*|listen = $net.$((i + 1)):7000|; s|^bootstrap = .*|bootstrap = $boot|" \
		"$tmp/net/n$i.conf"
	ECNET_WRAP="ip netns exec ect${id}n$i" ecnet_start $i
	i=$((i + 1))
done
i=0
while [ $i -lt $N ]; do ecnet_wait_rpc $i || fail "node $i rpc"; i=$((i + 1)); done
ecnet_wait_peers $N 200 || fail "peers did not converge across namespaces"
ecnet_ctl 2 status --json | ecnet_field listen | grep -q "^$net.3:7000$" || fail "node 2 address"
echo "4 daemons in 4 namespaces ($net.1-4) know each other"

committed_on() { # NODE TXID
	[ "$(ecnet_ctl "$1" tx "$2" --json 2>/dev/null | ecnet_field state)" = committed ]
}
wait_on() { # TXID NODES...
	t=$1
	shift
	k=0
	while :; do
		ok=1
		for n in "$@"; do committed_on "$n" "$t" || ok=0; done
		[ $ok = 1 ] && return 0
		k=$((k + 1))
		[ $k -lt 300 ] || return 1
		sleep 0.1
	done
}
"$BUILD/ecctl" keygen "$tmp/o.key" >/dev/null
t1=$(ecnet_ctl 0 token create --owner "$tmp/o.key" --submit --json | ecnet_field txid)
wait_on "$t1" 0 1 2 3 || fail "first tx not committed on all 4"

ip link set "ech${id}3" down
t2=$(ecnet_ctl 0 token create --owner "$tmp/o.key" --submit --json | ecnet_field txid)
wait_on "$t2" 0 1 2 || fail "tx during the cut not committed on the connected three"
sleep 1
committed_on 3 "$t2" && fail "the cut-off node committed a tx it cannot have heard of"
echo "node 3 cut off: a tx commits on nodes 0-2 and not on node 3"

ip link set "ech${id}3" up
sleep 3 # the re-greeting interval of the local-network config is 2 s
t3=$(ecnet_ctl 1 token create --owner "$tmp/o.key" --submit --json | ecnet_field txid)
wait_on "$t3" 0 1 2 3 || fail "after healing, a new tx did not commit on all 4"
echo "healed: a new tx commits on all 4"
echo "PASS daemon_netns"
