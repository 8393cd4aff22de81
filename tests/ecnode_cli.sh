#!/bin/sh
# ecnode's command line, configuration and data directory: --help names
# every option; unknown options, bad values and bad config lines exit 2
# with the place named; --init creates 0600 keys and an identity; a key
# file readable by others is refused; the control socket is 0600; a config
# file's values are used (flags win); two nodes talk over IPv6 loopback
# when the machine has it.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
E="$BUILD/ecnode"
tmp=$(mktemp -d /tmp/ec-ncli.XXXXXX)
ECNET_DIR=$tmp
ECNET_FLAGS=""
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

"$E" --help >"$tmp/help" || fail "--help exit"
for o in config listen announce data rpc bootstrap network pow block-interval rate-limit \
	rate-scale sync sync-delay sync-range-blocks hello-interval log-level log-file init \
	datagram-max message-max reassembly-timeout answer-datagrams peer-dead-after; do
	grep -q -- "--$o" "$tmp/help" || fail "--help does not explain --$o"
done
set +e
"$E" --frobnicate 1 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown option 'frobnicate'" "$tmp/err" || fail "unknown option: $rc $(cat "$tmp/err")"
"$E" --block-interval abc 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "bad value 'abc'" "$tmp/err" || fail "bad value: $rc"
"$E" --sync sometimes 2>"$tmp/err"; rc=$?
[ $rc = 2 ] || fail "bad sync strategy accepted"
# the datagram budget: below 256 or over 65,507 refused; dead-after under 2 x hello refused
"$E" --datagram-max 255 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "bad value '255'" "$tmp/err" || fail "datagram-max 255 accepted: $rc"
"$E" --datagram-max 65508 2>"$tmp/err"; rc=$?
[ $rc = 2 ] || fail "datagram-max 65508 accepted"
"$E" --hello-interval 1000 --peer-dead-after 1999 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "under 2 x --hello-interval" "$tmp/err" || fail "peer-dead-after under 2 x hello accepted: $rc"
printf 'network = 3\nthis line is wrong\n' >"$tmp/bad.conf"
"$E" --config "$tmp/bad.conf" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "bad.conf:2: expected 'key = value'" "$tmp/err" || fail "bad config line: $(cat "$tmp/err")"
set -e

"$E" --init --data "$tmp/n0" --pow test --network 3 >"$tmp/id" 2>/dev/null || fail "--init"
[ "$(stat -c %a "$tmp/n0/node.key")" = 600 ] || fail "node.key not 0600"
[ "$(stat -c %a "$tmp/n0/kx.key")" = 600 ] || fail "kx.key not 0600"
[ "$(stat -c %a "$tmp/n0")" = 700 ] || fail "data dir not 0700"
grep -q "^peer_id [0-9a-f]\{64\}$" "$tmp/id" || fail "--init output"
# a second --init keeps the identity
"$E" --init --data "$tmp/n0" --pow test --network 3 >"$tmp/id2" 2>/dev/null
cmp -s "$tmp/id" "$tmp/id2" || fail "--init changed an existing identity"
# another network id than the identity's: refused
set +e
"$E" --init --data "$tmp/n0" --pow test --network 4 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "identity is for network 3" "$tmp/err" || fail "network mismatch accepted"
chmod 644 "$tmp/n0/node.key"
"$E" --init --data "$tmp/n0" --pow test --network 3 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "node.key" "$tmp/err" || fail "group-readable key accepted"
chmod 600 "$tmp/n0/node.key"
set -e

# config file values are used, flags win
cat >"$tmp/n0.conf" <<EOC
listen = 127.0.0.1:0
data = $tmp/n0
network = 3
pow = test
log-level = debug
block-interval = 777
EOC
ecnet_start 0 --log-level info
ecnet_wait_rpc 0 || fail "node did not start from its config file"
"$BUILD/ecctl" status --json --rpc "$tmp/n0/ecnode.sock" >"$tmp/st"
[ "$(ecnet_field network <"$tmp/st")" = 3 ] || fail "network from config"
[ "$(stat -c %a "$tmp/n0/ecnode.sock")" = 600 ] || fail "control socket not 0600"
grep -q "ecnode debug" "$tmp/n0.log" && fail "the --log-level flag did not win over the file"
ecnet_stop 0

# IPv6 loopback, where available
if ip -6 addr show dev lo 2>/dev/null | grep -q "::1"; then
	"$E" --init --data "$tmp/n1" --pow test --network 3 >/dev/null 2>&1
	sed "s|^listen = .*|listen = [::1]:0|" "$tmp/n0.conf" >"$tmp/n0.conf.6"
	mv "$tmp/n0.conf.6" "$tmp/n0.conf"
	ecnet_start 0
	ecnet_wait_rpc 0 || fail "IPv6 node 0"
	contact=$("$BUILD/ecctl" status --json --rpc "$tmp/n0/ecnode.sock" | ecnet_field contact)
	case $contact in *"@[::1]:"*) ;; *) fail "IPv6 contact: $contact" ;; esac
	sed "s|^data = .*|data = $tmp/n1|" "$tmp/n0.conf" >"$tmp/n1.conf"
	echo "bootstrap = $contact" >>"$tmp/n1.conf"
	ecnet_start 1
	ecnet_wait_rpc 1 || fail "IPv6 node 1"
	k=0
	until [ "$("$BUILD/ecctl" status --json --rpc "$tmp/n1/ecnode.sock" | ecnet_field bound_peers)" = 1 ]; do
		k=$((k + 1))
		[ $k -lt 100 ] || fail "no peering over IPv6"
		sleep 0.1
	done
	echo "two nodes peered over [::1]"
else
	echo "no IPv6 loopback: IPv6 part skipped"
fi
echo "PASS ecnode_cli"
