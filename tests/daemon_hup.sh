#!/bin/sh
# SIGHUP: a node logging to --log-file (set in its config file) survives
# SIGHUP, reopens the file (logrotate style: the old file is moved away,
# new lines go to a new file at the configured path, none to the moved one)
# and re-reads the config file: hello-interval and rate-scale change at once
# (the local mapping queries that all passed before are rate limited after
# rate-scale 0.01), a setting that needs a restart (network) is named in the
# log, log-level changes what is logged, and a file with errors changes
# nothing.  SIGTERM then stops it cleanly (exit 0, control socket removed).
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dhup.XXXXXX)
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n0.log "$tmp"/node.log "$tmp"/node.log.1; do
		[ -f "$l" ] && { echo "--- $l" >&2; tail -n 12 "$l" >&2; }
	done
	exit 1
}
ecnet_init "$tmp/net" 1 0 || fail "init"
conf="$tmp/net/n0.conf"
log="$tmp/node.log"
echo "log-file = $log" >>"$conf"
ecnet_start 0
ecnet_wait_rpc 0 || fail "node did not start"
pid=$(cat "$tmp/net/n0.pid")
sock="$tmp/net/n0/ecnode.sock"
grep -q "ecnode info  peer .* listening on" "$log" || fail "nothing logged to --log-file"
grep -q "^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T" "$log" || fail "log lines are not dated"
# count PATTERN FILE: matching lines (0 when the file is missing)
count() { if [ -f "$2" ]; then grep -c "$1" "$2"; else echo 0; fi; }
# wait_log PATTERN N: until the log holds N lines matching (5 s)
log_has() { [ "$(count "$1" "$log")" -ge "$2" ]; }
wait_log() { ecnet_until 5 log_has "$1" "$2"; }
tok=0000000000000000000000000000000000000000000000000000000000000001
mappings() { # how many of 10 quick local mapping queries are answered
	_ok=0
	for _q in 1 2 3 4 5 6 7 8 9 10; do
		ecnet_ctl 0 mapping $tok >/dev/null 2>&1 && _ok=$((_ok + 1))
	done
	echo $_ok
}
[ "$(mappings)" = 10 ] || fail "mapping queries refused before any change"

# logrotate: move the file, change settings, HUP
mv "$log" "$log.1"
sed "s/^network = .*/network = 43/; s/^hello-interval = .*/hello-interval = 1000/" "$conf" >"$conf.new"
echo "rate-scale = 0.01" >>"$conf.new"
mv "$conf.new" "$conf"
kill -HUP "$pid"
wait_log "SIGHUP: rate-scale 1 -> 0.01" 1 || fail "HUP 1 not logged in the new file"
kill -0 "$pid" 2>/dev/null || fail "SIGHUP stopped the node"
grep -q "SIGHUP: log file $log reopened" "$log" || fail "reopen not logged"
grep -q "SIGHUP: hello-interval 2000 -> 1000" "$log" || fail "hello-interval change not logged"
grep -q "SIGHUP: network changed in the configuration: takes effect at the next start" "$log" ||
	fail "restart-only change not named"
[ "$(count SIGHUP "$log.1")" = 0 ] || fail "lines after the HUP went to the moved file"
[ "$(ecnet_ctl 0 status --json | ecnet_field network)" = 42 ] || fail "network changed at run time"
[ "$(mappings)" -lt 10 ] || fail "rate-scale 0.01 did not limit the local mapping queries"
echo "HUP 1: new log file, hello-interval and rate-scale applied, network named for restart"

# log-level warn: info lines stop, warnings go on
echo "log-level = warn" >>"$conf"
kill -HUP "$pid"
wait_log "SIGHUP: log-level info -> warn" 1 || fail "log-level change not logged"
reopened=$(count "reopened" "$log")
kill -HUP "$pid"
wait_log "SIGHUP: network changed" 3 || fail "HUP 3: warning not logged"
[ "$(count "reopened" "$log")" = "$reopened" ] || fail "info lines still logged at log-level warn"
echo "HUP 2, 3: log-level warn applied"

# a file with errors: nothing changes, the node runs on
echo "this line is wrong" >>"$conf"
kill -HUP "$pid"
wait_log "not applied: it has errors" 1 || fail "bad config file not reported"
grep -q "expected 'key = value'" "$log" || fail "the config error is not in the log"
kill -0 "$pid" 2>/dev/null || fail "a bad config file stopped the node"
ecnet_ctl 0 status >/dev/null || fail "status after a bad config file"
echo "HUP 4: a config file with errors changes nothing"

kill -TERM "$pid"
wait "$pid"
rc=$?
rm -f "$tmp/net/n0.pid"
[ $rc = 0 ] || fail "SIGTERM: exit $rc"
[ -e "$sock" ] && fail "control socket left behind after SIGTERM"
if grep -l "Sanitizer\|runtime error" "$tmp"/net/n0.log "$log" "$log.1"; then fail "sanitizer report"; fi
echo "PASS daemon_hup"
