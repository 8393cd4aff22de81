#!/bin/sh
# The operator's side of ecnode, ecctl and ecsim: --version prints the
# version of include/ec/version.h; every --help (and every ecctl
# subcommand's) exits 0; negative numbers are refused, not wrapped; key
# files and data directories with loose modes are named with their exact
# mode; log lines carry the ISO 8601 UTC date; host names work in --listen,
# --announce and --bootstrap; the whole configuration is checked before an
# identity is mined (bad addresses, a port in use, a live control socket);
# an identity mined for the other --pow setting is named as such; mining
# uses every core and logs progress with an ETA.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
E="$BUILD/ecnode"
C="$BUILD/ecctl"
tmp=$(mktemp -d /tmp/ec-ops.XXXXXX)
ECNET_DIR=$tmp
mpid=""
cleanup() {
	[ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
	ecnet_stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/*.err "$tmp"/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -n 8 "$l" >&2; }; done
	exit 1
}

# --- versions: one source -------------------------------------------------
v=$(sed -n 's/^#define EC_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/ec/version.h | paste -sd.)
echo "$v" | grep -qx '[0-9]*\.[0-9]*\.[0-9]*' || fail "no version in include/ec/version.h: '$v'"
[ "$("$E" --version)" = "ecnode $v" ] || fail "ecnode --version: $("$E" --version)"
[ "$("$C" --version)" = "ecctl $v" ] || fail "ecctl --version: $("$C" --version)"
[ "$("$BUILD/ecsim" --version)" = "ecsim $v" ] || fail "ecsim --version: $("$BUILD/ecsim" --version)"
echo "--version: $v everywhere"

# --- every --help exits 0 and prints a usage ------------------------------
for cmd in "$E" "$C" "$BUILD/ecsim"; do
	"$cmd" --help >"$tmp/h" 2>&1 || fail "$cmd --help: exit $?"
	grep -qi usage "$tmp/h" || fail "$cmd --help prints no usage"
done
subs=$("$C" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1}')
[ "$(echo "$subs" | wc -l)" -ge 12 ] || fail "ecctl --help lists too few commands: $subs"
for s in $subs "token create" "token transfer" "token destroy" "chain gen" "chain verify" \
	"chain seek" "swap status" "block fetch" "sync --watch"; do
	# shellcheck disable=SC2086
	"$C" $s --help >"$tmp/h" 2>&1 || fail "ecctl $s --help: exit $?"
	grep -qi usage "$tmp/h" || fail "ecctl $s --help prints no usage"
done
"$BUILD/ecsim" swarm --help >"$tmp/h" 2>&1 || fail "ecsim swarm --help: exit $?"
grep -q "ecsim swarm \[--seed N\]" "$tmp/h" || fail "ecsim swarm --help prints no usage"
echo "--help exits 0: ecnode, ecsim, ecsim swarm, ecctl and $(echo $subs | wc -w) subcommands"

# --- negative numbers ------------------------------------------------------
for o in network block-interval sync-delay hello-interval datagram-max rpc-max-clients; do
	"$E" --$o -1 --data "$tmp/none" 2>"$tmp/neg.err" && fail "--$o -1 accepted"
	grep -q "bad value '-1' for '$o': negative" "$tmp/neg.err" || fail "--$o -1: $(cat "$tmp/neg.err")"
done
printf 'network = -1\n' >"$tmp/neg.conf"
"$E" --config "$tmp/neg.conf" --data "$tmp/none" 2>"$tmp/neg.err" && fail "network = -1 accepted"
grep -q "neg.conf:1: bad value '-1' for 'network'" "$tmp/neg.err" || fail "config -1: $(cat "$tmp/neg.err")"
[ -e "$tmp/none" ] && fail "a refused configuration created the data directory"
echo "negative numbers refused, nothing created"

# --- modes, dates ------------------------------------------------------------
"$E" --init --data "$tmp/a" --pow test --network 9 --mine-threads 1 >"$tmp/a.id" 2>"$tmp/init.log" || fail "--init"
grep -q "mining identity (difficulty 4 bits.*) on 1 threads" "$tmp/init.log" || fail "--mine-threads 1 not used"
grep -q '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{3\}Z ecnode info  created' \
	"$tmp/init.log" || fail "log lines are not ISO 8601 dated: $(head -n 1 "$tmp/init.log")"
grep -q "mining identity (difficulty 4 bits.*) on [0-9]* threads" "$tmp/init.log" || fail "no mining line"
chmod 644 "$tmp/a/kx.key"
"$E" --init --data "$tmp/a" --pow test --network 9 2>"$tmp/mode.err" && fail "a 0644 key file accepted"
grep -q "key file $tmp/a/kx.key: mode 0644, expected 0600" "$tmp/mode.err" ||
	fail "key file mode message: $(cat "$tmp/mode.err")"
chmod 600 "$tmp/a/kx.key"
chmod 755 "$tmp/a"
"$E" --init --data "$tmp/a" --pow test --network 9 >/dev/null 2>"$tmp/mode.err" || fail "--init again"
grep -q "data directory $tmp/a: mode 0755, expected 0700" "$tmp/mode.err" ||
	fail "data directory mode message: $(cat "$tmp/mode.err")"
chmod 700 "$tmp/a"
echo "modes named exactly; log lines ISO 8601 dated"

# --- an identity of the other --pow setting ----------------------------------
"$E" --init --data "$tmp/a" --pow production --network 9 2>"$tmp/pow.err" && fail "a test identity accepted for production"
grep -q "mined for --pow test (difficulty 4 bits), this node is configured with --pow production (difficulty 24 bits)" \
	"$tmp/pow.err" || fail "difficulty message: $(cat "$tmp/pow.err")"
grep -q "out of range" "$tmp/pow.err" && fail "the raw error code is still shown"
echo "identity of the other difficulty: named"

# --- the configuration is checked before mining (production PoW: hours) -------
nomine() { # data dir, error file: nothing mined, nothing written but the lock
	grep -q "mining identity" "$2" && fail "mining started despite: $(cat "$2")"
	[ -e "$1/identity" ] && fail "an identity was written"
	return 0
}
"$E" --data "$tmp/b" --network 9 --listen 300.1.2.3:7 2>"$tmp/b1.err" && fail "bad listen accepted"
grep -q "bad listen address '300.1.2.3:7'" "$tmp/b1.err" || fail "bad listen: $(cat "$tmp/b1.err")"
nomine "$tmp/b" "$tmp/b1.err"
"$E" --data "$tmp/b" --network 9 --listen 127.0.0.1:0 \
	--bootstrap "$(printf '%064d' 1)@nonexistent.invalid:7700" --announce 'x:y' 2>"$tmp/b2.err" &&
	fail "bad bootstrap accepted"
grep -q "bootstrap .*nonexistent.invalid:7700': bad address" "$tmp/b2.err" || fail "bad bootstrap: $(cat "$tmp/b2.err")"
grep -q "bad announce address 'x:y'" "$tmp/b2.err" || fail "bad announce not reported with the rest"
nomine "$tmp/b" "$tmp/b2.err"
"$E" --init --data "$tmp/b" --network 9 --listen nonexistent.invalid:1 2>"$tmp/b4.err" && fail "--init with a bad listen"
grep -q "bad listen address 'nonexistent.invalid:1'" "$tmp/b4.err" || fail "--init bad listen: $(cat "$tmp/b4.err")"
nomine "$tmp/b" "$tmp/b4.err"
# a port in use and a live control socket: node 0 of a one-node network
ecnet_init "$tmp/net" 1 0 || fail "ecnet init"
ecnet_start 0
ecnet_wait_rpc 0 || fail "node 0 did not start"
port=$(ecnet_ctl 0 status --json | ecnet_field listen | sed 's/.*://')
"$E" --data "$tmp/b" --network 9 --listen "127.0.0.1:$port" --rpc "$tmp/net/n0/ecnode.sock" \
	2>"$tmp/b3.err" && fail "a port in use accepted"
grep -q "listen 127.0.0.1:$port: Address already in use" "$tmp/b3.err" || fail "port in use: $(cat "$tmp/b3.err")"
grep -q "control socket $tmp/net/n0/ecnode.sock: a running process answers" "$tmp/b3.err" ||
	fail "live control socket not reported with the port"
nomine "$tmp/b" "$tmp/b3.err"
echo "bad listen, bootstrap, announce, port in use, live socket: reported before mining"

# --- host names ----------------------------------------------------------------
kx0=$(awk '/kx_pk/{print $2}' "$tmp/net/n0.id")
"$E" --init --data "$tmp/hn" --pow test --network "$ECNET_NET" >/dev/null 2>&1 || fail "init h"
"$E" --data "$tmp/hn" --pow test --network "$ECNET_NET" --listen localhost:0 --announce localhost:7999 \
	--bootstrap "$kx0@localhost:$port" --hello-interval 500 --peer-dead-after 0 2>"$tmp/h.log" &
mpid=$!
hpeers() { "$C" peers --rpc "$tmp/hn/ecnode.sock" --json 2>/dev/null | grep -q '"bound": true'; }
ecnet_until 20 hpeers || fail "a node with host names in --listen/--bootstrap did not bind its bootstrap peer"
"$C" status --rpc "$tmp/hn/ecnode.sock" --json | grep -q '"listen": "\(127.0.0.1\|\[::1\]\):[1-9]' ||
	fail "localhost not resolved for --listen"
kill "$mpid"
wait "$mpid"
mpid=""
echo "host names resolved in --listen, --announce, --bootstrap"

# --- mining on every core, with progress and an ETA ------------------------------
"$E" --init --data "$tmp/m" --network 9 --pow production 2>"$tmp/m.log" >/dev/null &
mpid=$!
progressed() { grep -q "mining identity: [0-9]* attempts, [0-9.]*% of the 16777216 expected, [0-9.]*/s on [0-9]* threads, ETA " "$tmp/m.log"; }
ecnet_until 20 progressed || fail "no progress line while mining"
threads=$(sed -n 's/.*mining identity (.*) on \([0-9]*\) threads.*/\1/p' "$tmp/m.log")
[ "$threads" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "mining on $threads threads, not on every core"
kill "$mpid"
wait "$mpid"
mpid=""
[ -e "$tmp/m/identity" ] && fail "an interrupted mining wrote an identity"
echo "mining on $threads threads: $(grep -m1 'mining identity:' "$tmp/m.log" | sed 's/.*mining identity: //')"
echo PASS
