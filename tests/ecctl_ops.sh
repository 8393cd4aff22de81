#!/bin/sh
# ecctl for an operator, against a four-node network: the control socket
# found from --data DIR, --config FILE or the working directory's
# ecnode-data without --rpc; peer ids shortened to a unique prefix; times
# in ISO 8601 UTC (JSON keeps epoch ms); a peers table; 'sync --watch' on a
# node without sync exits at once; 'token create --tokens N' prints all N
# ids; 'submit --file' takes the hex (or the whole output) 'token create'
# prints; the node logs its chain height, a sync's phases and 'sync
# finished'; errors name the command typed; a loose key file's mode is named.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
C="$(pwd)/$BUILD/ecctl"
case $BUILD in /*) C="$BUILD/ecctl" ;; esac
tmp=$(mktemp -d /tmp/ec-ctlops.XXXXXX)
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log "$tmp"/*.err; do [ -f "$l" ] && { echo "--- $l" >&2; tail -n 8 "$l" >&2; }; done
	exit 1
}
ecnet_init "$tmp/net" 4 0 || fail "init" # four: enough voters to commit
ecnet_start_all 4 || fail "start"
id0=$(ecnet_peer_id 0)
id1=$(ecnet_peer_id 1)
bound() { [ "$(ecnet_ctl 0 peers --json | grep -c '"bound": true')" -ge 3 ]; }
ecnet_until 30 bound || fail "nodes 1..3 never bound at node 0"

# --- finding the socket -------------------------------------------------------
unset ECCTL_RPC
[ "$("$C" status --data "$tmp/net/n0" --json | ecnet_field peer_id)" = "$id0" ] || fail "--data DIR"
[ "$("$C" status --config "$tmp/net/n1.conf" --json | ecnet_field peer_id)" = "$id1" ] || fail "--config FILE"
printf 'rpc = %s\n' "$tmp/net/n1/ecnode.sock" >"$tmp/rpc.conf"
[ "$("$C" status --config "$tmp/rpc.conf" --json | ecnet_field peer_id)" = "$id1" ] || fail "--config with rpc ="
mkdir -p "$tmp/cwd"
ln -s "$tmp/net/n0" "$tmp/cwd/ecnode-data"
[ "$(cd "$tmp/cwd" && "$C" status --json | ecnet_field peer_id)" = "$id0" ] || fail "./ecnode-data by default"
(cd "$tmp" && "$C" status --data "$tmp/nowhere" 2>"$tmp/noreach.err") && fail "a missing socket answered"
grep -q "ecctl status: cannot reach ecnode at $tmp/nowhere/ecnode.sock: No such file or directory (is it running?" \
	"$tmp/noreach.err" || fail "missing socket message: $(cat "$tmp/noreach.err")"
"$C" status --config "$tmp/absent.conf" 2>"$tmp/noconf.err" && fail "an absent --config accepted"
grep -q "ecctl status: --config $tmp/absent.conf: No such file" "$tmp/noconf.err" || fail "absent config: $(cat "$tmp/noconf.err")"
echo "socket found from --data, --config and ./ecnode-data"

# --- peers table, shortened peer ids ---------------------------------------------
ecnet_ctl 0 peers >"$tmp/peers"
head -n 1 "$tmp/peers" | grep -q '^PEER  *ADDRESS  *STATE  *BOUND  *BOOTSTRAP  *RX  *TX  *LAST HEARD' ||
	fail "peers table header: $(head -n 1 "$tmp/peers")"
short1=$(echo "$id1" | cut -c1-16)
grep -q "^$short1\.\. *127\.0\.0\.1:[0-9]* *alive *yes " "$tmp/peers" || fail "peers table row: $(cat "$tmp/peers")"
echo "peers table: $(sed -n 2p "$tmp/peers")"

# --- times, sync --watch, token create --tokens N, submit --file ---------------------
"$C" keygen "$tmp/k.key" >/dev/null
"$C" token create --owner "$tmp/k.key" --tokens 3 >"$tmp/create"
[ "$(grep -c '^token [0-9a-f]\{64\}$' "$tmp/create")" = 3 ] || fail "--tokens 3 printed: $(cat "$tmp/create")"
"$C" token create --owner "$tmp/k.key" --tokens 3 --json | grep -c '"[0-9a-f]\{64\}"' >"$tmp/n"
[ "$(cat "$tmp/n")" -ge 5 ] || fail "--tokens 3 --json lacks the tokens array" # 3 tokens + token + txid
sed -n 's/^tx  *//p' "$tmp/create" >"$tmp/tx.hex"
txid=$(sed -n 's/^txid *//p' "$tmp/create")
ecnet_ctl 0 submit --file "$tmp/tx.hex" --wait 30 >"$tmp/sub" || fail "submit --file HEX: $(cat "$tmp/sub")"
grep -q "^committed: $txid in block [0-9a-f]\{64\}" "$tmp/sub" || fail "submit --file: $(cat "$tmp/sub")"
"$C" token create --owner "$tmp/k.key" >"$tmp/create2"
ecnet_ctl 0 submit --file "$tmp/create2" --wait 30 >"$tmp/sub2" || fail "submit --file OUTPUT: $(cat "$tmp/sub2")"
printf 'not hex at all\n' >"$tmp/junk"
ecnet_ctl 0 submit --file "$tmp/junk" 2>"$tmp/junk.err" && fail "junk text submitted"
grep -q "ecctl submit: $tmp/junk: hex text that is not a transaction" "$tmp/junk.err" || fail "junk: $(cat "$tmp/junk.err")"
echo "--tokens 3 printed 3 ids; submit --file with hex and with token create's output"
block=$(sed -n 's/.* in block //p' "$tmp/sub")
ecnet_ctl 0 block "$block" >"$tmp/blk"
grep -q '^timestamp  *20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]*\.[0-9]\{3\}Z$' "$tmp/blk" ||
	fail "block timestamp not ISO 8601: $(grep timestamp "$tmp/blk")"
ecnet_ctl 0 block "$block" --json | grep -q '"timestamp": [0-9]\{13\}' || fail "JSON timestamp not in ms"
# peer ids as the log prints them (16 digits and "..."), and shorter
logged=$(grep -o "peer $(echo "$id1" | cut -c1-16)\.\.\. bound" "$tmp/net/n0.log" | head -n 1 | cut -d' ' -f2)
[ -n "$logged" ] || fail "node 0's log does not print node 1's id shortened"
short0=$(echo "$id0" | cut -c1-16)
ecnet_ctl 0 walk "$short0..." --json >"$tmp/walk" || fail "walk with the prefix $short0..."
grep -q "\"creator\": \"$id0\"" "$tmp/walk" || fail "walk did not expand $short0: $(head -c 300 "$tmp/walk")"
ecnet_ctl 0 walk "$(echo "$id0" | cut -c1-6)" --json >/dev/null || fail "walk with a 6-digit prefix"
# node 1's logged id reaches the node (node 1's chain, or the node's error that it
# holds none: about the chain, not the id)
ecnet_ctl 0 walk "$logged" --json >"$tmp/w1" 2>"$tmp/w1.err"
grep -q "\"creator\": \"$id1\"" "$tmp/w1" ||
	grep -q "ecctl walk: error -32001: no stored chain of that peer" "$tmp/w1.err" ||
	fail "walk $logged: $(cat "$tmp/w1.err")"
nomatch=$(echo "0123456789abcdef" | tr -d "$(echo "$id0" | cut -c1)$(echo "$id1" | cut -c1)" | cut -c1)
ecnet_ctl 0 walk "${nomatch}000" 2>"$tmp/pfx.err" && fail "a prefix nobody has accepted"
grep -q "ecctl walk: no peer of this node has an id starting with '${nomatch}000'" "$tmp/pfx.err" ||
	fail "no-match message: $(cat "$tmp/pfx.err")"
ecnet_ctl 0 walk abc 2>"$tmp/pfx.err" && fail "a 3-digit prefix accepted"
echo "peer ids by unique prefix: $short0..., $logged, 6 digits"
echo "block timestamp: $(grep '^timestamp' "$tmp/blk" | sed 's/  */ /')"
st=$(date +%s)
ecnet_ctl 0 sync --watch >/dev/null 2>"$tmp/sync.err"
rc=$?
[ $rc = 1 ] || fail "sync --watch with sync off: exit $rc"
[ $(($(date +%s) - st)) -lt 20 ] || fail "sync --watch with sync off took $(($(date +%s) - st)) s"
grep -q "ecctl sync: sync is off on this node" "$tmp/sync.err" || fail "sync off message: $(cat "$tmp/sync.err")"
echo "sync --watch with sync off: exit 1 at once"

# --- progress in the log: the height, a sync's phases and its end -----------------
heightlog() { grep -q "ecnode info  chain: height [0-9]* (+[0-9]* blocks since the last report), [0-9]* peers" "$tmp/net/n0.log"; }
ecnet_until 20 heightlog || fail "node 0 never logged its chain height"
"$BUILD/ecnode" --init --data "$tmp/net/n4" --pow test --network "$ECNET_NET" >/dev/null 2>&1 || fail "init n4"
sed "s|$tmp/net/n1\$|$tmp/net/n4|" "$tmp/net/n1.conf" >"$tmp/net/n4.conf"
printf 'sync = chain\nsync-delay = 500\n' >>"$tmp/net/n4.conf"
ecnet_start 4
ecnet_wait_rpc 4 || fail "node 4 did not start"
ecnet_ctl 4 sync --watch --timeout 60 >/dev/null 2>"$tmp/watch.err" || fail "sync --watch on a syncing node: $(tail -c 300 "$tmp/watch.err")"
finished() { grep -q "ecnode info  sync finished: caught up after [0-9.]* s, [0-9]* blocks and [0-9]* transactions verified" "$tmp/net/n4.log"; }
ecnet_until 20 finished || fail "no 'sync finished' line in node 4's log"
echo "log: $(grep -m1 'chain: height' "$tmp/net/n0.log" | cut -d' ' -f4-); $(grep -m1 'sync finished' "$tmp/net/n4.log" | cut -d' ' -f4-)"

# --- errors name the command ------------------------------------------------------
ecnet_ctl 0 block "$(printf '%064d' 7)" 2>"$tmp/blk.err" && fail "an unknown block found"
grep -q "^ecctl block: error -[0-9]*: " "$tmp/blk.err" || fail "block error: $(cat "$tmp/blk.err")"
grep -q "get_block" "$tmp/blk.err" && fail "the error names the RPC method"
chmod 644 "$tmp/k.key"
"$C" token create --owner "$tmp/k.key" 2>"$tmp/mode.err" && fail "a 0644 key used"
grep -q "ecctl token create: key file $tmp/k.key: mode 0644, expected 0600" "$tmp/mode.err" ||
	fail "key mode message: $(cat "$tmp/mode.err")"
echo "errors: $(cat "$tmp/blk.err"); $(cat "$tmp/mode.err")"
echo PASS
