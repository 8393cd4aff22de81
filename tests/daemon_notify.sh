#!/bin/sh
# ecnode speaks systemd's readiness protocol (sd_notify): with NOTIFY_SOCKET
# set it sends READY=1 only once its UDP socket and control socket answer,
# a STATUS= line, RELOADING=1 and READY=1 again around a SIGHUP, STOPPING=1
# at SIGTERM; without NOTIFY_SOCKET it runs as usual (every other daemon
# test).  A Python listener stands in for systemd.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
E="$BUILD/ecnode"
tmp=$(mktemp -d /tmp/ec-notify.XXXXXX)
npid=""
lpid=""
cleanup() {
	[ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/node.log "$tmp"/msgs; do [ -f "$l" ] && { echo "--- $l" >&2; tail -n 20 "$l" >&2; }; done
	exit 1
}
stop_node() { # SIGTERM, and a clean exit
	kill -TERM "$npid"
	wait "$npid"
	_rc=$?
	npid=""
	[ $_rc = 0 ] || fail "ecnode $1: exit $_rc"
}
command -v python3 >/dev/null || { echo "SKIP: python3 is missing"; exit 0; }
"$E" --init --data "$tmp/d" --pow test --network 42 >/dev/null 2>&1 || fail "init"
cat >"$tmp/n.conf" <<EOC
listen = 127.0.0.1:0
data = $tmp/d
network = 42
pow = test
EOC
python3 tests/notify_listen.py "$tmp/notify" "$tmp/msgs" 60 &
lpid=$!
ecnet_until 10 test -S "$tmp/notify" || fail "the listener did not bind"
NOTIFY_SOCKET="$tmp/notify" "$E" --config "$tmp/n.conf" 2>"$tmp/node.log" &
npid=$!
ready() { grep -qx 'READY=1' "$tmp/msgs"; }
ecnet_until 20 ready || fail "no READY=1 within 20 s"
# READY=1 came after the sockets: the control socket answers at once
"$BUILD/ecctl" status --rpc "$tmp/d/ecnode.sock" --json >"$tmp/status" ||
	fail "READY=1 sent but the control socket does not answer"
grep -q '"listen": "127.0.0.1:[1-9]' "$tmp/status" || fail "no bound UDP port in status"
grep -q '^STATUS=height [0-9]*, [0-9]* peers, listening on 127.0.0.1:[1-9]' "$tmp/msgs" ||
	fail "no STATUS= line naming height, peers and the address"
echo "READY=1 after the sockets are up; $(grep -m1 '^STATUS=' "$tmp/msgs")"

kill -HUP "$npid"
reloaded() { grep -qx 'RELOADING=1' "$tmp/msgs" && [ "$(grep -cx 'READY=1' "$tmp/msgs")" -ge 2 ]; }
ecnet_until 20 reloaded || fail "SIGHUP: no RELOADING=1 then READY=1"
stop_node "after SIGTERM"
wait "$lpid"
lpid=""
grep -qx 'STOPPING=1' "$tmp/msgs" || fail "no STOPPING=1 at SIGTERM"
echo "SIGHUP: RELOADING=1, READY=1; SIGTERM: STOPPING=1"

# without NOTIFY_SOCKET the node runs as usual
"$E" --config "$tmp/n.conf" 2>"$tmp/node.log" &
npid=$!
ecnet_until 20 "$BUILD/ecctl" status --rpc "$tmp/d/ecnode.sock" --json >/dev/null ||
	fail "without NOTIFY_SOCKET the node does not answer"
stop_node "without NOTIFY_SOCKET, after SIGTERM"
echo "PASS"
