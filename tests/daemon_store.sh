#!/bin/sh
# A damaged store at the daemon (docs/STORAGE.md section 6): 3 daemons
# commit a token creation.  'ecnode --check-store' beside a running node
# says ok with the records per table (exit 0), in one read transaction
# without the page walk.  Node 2 is stopped and one
# byte of the token's state in its data.mdb is changed: --check-store names
# the table and key (exit 1), and the node refuses to start (exit 1,
# "store corrupt: tokens KEY", never "not found").  Node 0 is running when
# the same byte of its store changes under it: the next question about the
# token gets no answer and the node stops with exit status 1 naming the
# record.  Node 1 (intact) still answers.  Last, on a fresh network,
# --check-store beside node 0 committing under load (transactions
# submitted in a loop) says ok in each of 6 runs.
set -u
BUILD=${BUILD:-build}
. scripts/ecnet.sh
tmp=$(mktemp -d /tmp/ec-dstore.XXXXXX)
cleanup() { ecnet_stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	for l in "$tmp"/net/n*.log "$tmp"/load/n*.log; do echo "--- $l" >&2; tail -n 8 "$l" >&2; done
	exit 1
}
E="$BUILD/ecnode"
"$E" --help | grep -q -- "--check-store" || fail "--help does not explain --check-store"
N=3
ecnet_init "$tmp/net" $N 0 || fail "init"
ecnet_start_all $N || fail "start"
ecnet_wait_peers $N || fail "peers did not converge"

"$BUILD/ecctl" keygen "$tmp/alice.key" >/dev/null
ecnet_ctl 0 token create --owner "$tmp/alice.key" --submit --json >"$tmp/c.json" ||
	fail "create"
tok=$(ecnet_field token <"$tmp/c.json")
txid=$(ecnet_field txid <"$tmp/c.json")
k=0
for i in 0 1 2; do
	while [ "$(ecnet_ctl $i tx "$txid" --json 2>/dev/null | ecnet_field state)" != committed ]; do
		k=$((k + 1))
		[ $k -lt 300 ] || fail "creation not committed on node $i"
		sleep 0.1
	done
done
ecnet_ctl 0 mapping "$tok" --json | grep -q "$txid" || fail "mapping before the damage"
echo "token $tok committed on $N nodes"

# the offline check beside a running node: ok, exit 0
"$E" --check-store --data "$tmp/net/n0" >"$tmp/chk0" 2>"$tmp/chk0.err" ||
	fail "--check-store of an intact store: $(cat "$tmp/chk0" "$tmp/chk0.err")"
grep -q "store $tmp/net/n0/store: ok" "$tmp/chk0" || fail "no ok line: $(cat "$tmp/chk0")"
grep -Eq "^  tokens +[1-9][0-9]* records" "$tmp/chk0" || fail "no token count: $(cat "$tmp/chk0")"
grep -Eq "^  total +[1-9][0-9]* records verified" "$tmp/chk0" || fail "no total"
grep -q "a node is running .*page walk skipped, records checked in one read transaction" \
	"$tmp/chk0" || fail "no word of the live mode: $(cat "$tmp/chk0")"
echo "--check-store on a running node's store: ok"


# damage: the byte after the token's key in the tokens table (its record
# version byte).  The leaf node before the key holds its length: 32, 0.
flip_token() { # data.mdb
	pat="\\x20\\x00$(echo "$tok" | sed 's/../\\x&/g')\\x01"
	off=$(LC_ALL=C grep -obUaP "$pat" "$1" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	off=$((off + 2 + 32))
	printf '\003' | dd of="$1" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

ecnet_stop 2
flip_token "$tmp/net/n2/store/data.mdb" || fail "token record not found in node 2's data.mdb"
set +e
"$E" --check-store --data "$tmp/net/n2" >"$tmp/chk2" 2>"$tmp/chk2.err"
rc=$?
set -e
[ $rc = 1 ] || fail "--check-store of a damaged store: exit $rc"
grep -q "store corrupt: tokens $tok: checksum mismatch" "$tmp/chk2.err" ||
	fail "--check-store does not name the record: $(cat "$tmp/chk2.err")"
grep -q "damaged, 1 problem found" "$tmp/chk2" || fail "no problem count: $(cat "$tmp/chk2")"
grep -q "page walk skipped" "$tmp/chk2" && fail "the walk skipped with no node running"
echo "--check-store names the damaged record, exit 1"

set +e
"$E" --config "$tmp/net/n2.conf" 2>"$tmp/start2.err"
rc=$?
set -e
[ $rc = 1 ] || fail "node 2 on a damaged store: exit $rc"
grep -q "store corrupt: tokens $tok: checksum mismatch" "$tmp/start2.err" ||
	fail "node 2's message: $(cat "$tmp/start2.err")"
grep -q "not found" "$tmp/start2.err" && fail "'not found' for a damaged store"
echo "node 2 refuses its damaged store: exit 1, the record named"

# damage under a running node: no answer, the node stops with exit 1
pid0=$(cat "$tmp/net/n0.pid")
flip_token "$tmp/net/n0/store/data.mdb" || fail "token record not found in node 0's data.mdb"
set +e
ecnet_ctl 0 mapping "$tok" --json >"$tmp/m0.json" 2>&1
rc=$?
wait "$pid0"
st=$?
set -e
[ $rc != 0 ] || fail "a mapping answered from a damaged record: $(cat "$tmp/m0.json")"
grep -q "$txid" "$tmp/m0.json" && fail "the damaged state was served"
[ $st = 1 ] || fail "node 0 exit status $st"
grep -q "store corrupt: tokens $tok: checksum mismatch" "$tmp/net/n0.log" ||
	fail "node 0 does not name the record"
rm -f "$tmp/net/n0.pid"
echo "node 0, its store damaged while running: no answer, exit 1, the record named"

ecnet_ctl 1 mapping "$tok" --json | grep -q "$txid" || fail "node 1 lost its answer"
echo "node 1 (intact) still answers"

# beside a node committing under load: a consistent snapshot every time
# (the page walk, made outside any LMDB transaction, would read pages the
# commits reuse)
ecnet_stop_all
ecnet_init "$tmp/load" $N 0 || fail "init (load)"
ecnet_start_all $N || fail "start (load)"
ecnet_wait_peers $N || fail "peers did not converge (load)"
(
	while [ ! -e "$tmp/stop_load" ]; do
		ecnet_ctl 0 token create --owner "$tmp/alice.key" --submit >/dev/null 2>&1
		ecnet_ctl 1 token create --owner "$tmp/alice.key" --submit >/dev/null 2>&1
	done
) &
load=$!
for run in 1 2 3 4 5 6; do
	"$E" --check-store --data "$tmp/load/n0" >"$tmp/chkl" 2>"$tmp/chkl.err" || {
		touch "$tmp/stop_load"; wait $load
		fail "--check-store under load, run $run: $(cat "$tmp/chkl" "$tmp/chkl.err")"
	}
	grep -q "store $tmp/load/n0/store: ok" "$tmp/chkl" || {
		touch "$tmp/stop_load"; wait $load; fail "run $run: $(cat "$tmp/chkl")"
	}
	sed -n 's/.*format [0-9]*, commit \([0-9]*\)$/\1/p' "$tmp/chkl" >>"$tmp/commits"
	sleep 0.3
done
touch "$tmp/stop_load"
wait $load
[ "$(sort -u "$tmp/commits" | wc -l)" -ge 2 ] ||
	fail "the store did not change during the checks (commits $(tr '\n' ' ' <"$tmp/commits"))"
echo "--check-store beside a committing node: ok in 6 runs (commits $(tr '\n' ' ' <"$tmp/commits"))"
