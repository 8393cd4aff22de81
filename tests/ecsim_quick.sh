#!/bin/sh
# ecsim_quick.sh - the simulator end to end:
#   - scenarios/quick.yaml runs (fake signatures: 1.5 M events), commits most
#     of its workload with no conflicting owners... as far as the node core
#     allows (the count is checked against the txs, not assumed 0), and
#     writes summary.json, timeseries.csv and the four SVG plots;
#   - determinism: the same scenario and seed twice give byte-identical
#     summary.json, timeseries.csv and plots; another --seed does not;
#   - tests/data/ecsim_tiny.yaml under real Ed25519 and under the fake
#     provider: summary.json identical but for "signatures" (5 peers, so
#     every neighbourhood and every vote fan-out target set is the whole set
#     and ids cannot move witnesses or targets);
#   - topologies ring and random (partial peer sets): everything commits,
#     every neighbourhood agrees, the chain-sync joiner completes; and a ring
#     under churn keeps every peer's ring neighbours known;
#   - a malformed scenario: "FILE:LINE: field '...'" on stderr, exit 2, and
#     no output directory written.
# Run by scripts/run-tests.sh with BUILD set and the repo root as cwd.
set -u
E=${BUILD:-build}/ecsim
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# value of a top-level section's integer key in summary.json (4-space indent)
key() { # file section key
	sed -n "/^  \"$2\": {/,/^  }/p" "$1" | sed -n "s/^    \"$3\": \([0-9]*\),\{0,1\}$/\1/p"
}

$E scenarios/quick.yaml --quiet --fake-signatures --out "$T/a" >"$T/a.log" 2>&1 ||
	fail "quick run exit $?"
grep -q 'seed 0x0000000000000000000000000000000000000000000000000000000000000001' \
	"$T/a.log" || fail "seed not printed"
for f in summary.json timeseries.csv coverage_time.svg coverage_messages.svg \
	commit_latency_hist.svg commit_latency_cdf.svg; do
	[ -s "$T/a/$f" ] || fail "missing $f"
done
sub=$(key "$T/a/summary.json" txs submitted)
com=$(key "$T/a/summary.json" txs committed)
ds=$(key "$T/a/summary.json" txs double_signed)
conf=$(key "$T/a/summary.json" txs conflicting_owners)
echo "quick: submitted $sub committed $com double-signed $ds conflicting $conf"
[ -n "$sub" ] && [ "$sub" -ge 290 ] || fail "submitted '$sub'"
# every tx commits except at most one twin of each double-signed pair and
# a few in flight at a crash
[ -n "$com" ] && [ "$com" -ge $((sub - ds - 10)) ] || fail "committed '$com' of '$sub'"
[ -n "$conf" ] && [ "$conf" -le "$ds" ] || fail "conflicting '$conf' > double-signed '$ds'"
grep -q '"signatures": "fake"' "$T/a/summary.json" || fail "signatures not named"
grep -q '"engine": "' "$T/a/summary.json" || fail "sync engine state not reported"
head -1 "$T/a/timeseries.csv" | grep -q '^t_ms,online_peers,submitted,committed' ||
	fail "timeseries header"
rows=$(($(wc -l <"$T/a/timeseries.csv") - 1))
[ "$rows" -eq 81 ] || fail "timeseries rows $rows (want 81: 0..40 s every 500 ms)"

$E scenarios/quick.yaml --quiet --fake-signatures --out "$T/b" >/dev/null 2>&1 ||
	fail "second quick run"
for f in summary.json timeseries.csv coverage_time.svg coverage_messages.svg \
	commit_latency_hist.svg commit_latency_cdf.svg; do
	cmp -s "$T/a/$f" "$T/b/$f" || fail "$f differs between two runs of one seed"
done

$E tests/data/ecsim_tiny.yaml --quiet --seed 8 --out "$T/s8" >/dev/null 2>&1 ||
	fail "tiny --seed 8"
$E tests/data/ecsim_tiny.yaml --quiet --out "$T/real" >/dev/null 2>&1 || fail "tiny real"
$E tests/data/ecsim_tiny.yaml --quiet --fake-signatures --out "$T/fake" >/dev/null 2>&1 ||
	fail "tiny fake"
grep -q '"signatures": "ed25519"' "$T/real/summary.json" || fail "real run not named"
sed 's/"signatures": "[a-z0-9]*"//' "$T/real/summary.json" >"$T/r.json"
sed 's/"signatures": "[a-z0-9]*"//' "$T/fake/summary.json" >"$T/f.json"
cmp -s "$T/r.json" "$T/f.json" || fail "real and fake signatures give different counts"
[ "$(key "$T/real/summary.json" txs committed)" -ge 55 ] || fail "tiny commits"
cmp -s "$T/real/summary.json" "$T/s8/summary.json" && fail "--seed 8 changed nothing"

# partial peer sets (topology ring / random, tests/data/ecsim_{ring,random}.yaml,
# fake signatures): each peer knows only its 4 ring neighbours a side (and
# 2 random peers), so txs, votes and the joiner's sync travel hop by hop;
# every tx commits, every live token's neighbourhood holds its head, the
# chain-sync joiner completes
for topo in ring random; do
	o="$T/$topo"
	$E "tests/data/ecsim_$topo.yaml" --quiet --fake-signatures --out "$o" >/dev/null 2>&1 ||
		fail "$topo run exit $?"
	s="$o/summary.json"
	sub=$(key "$s" txs submitted)
	com=$(key "$s" txs committed)
	ssub=$(key "$s" txs setup_submitted)
	scom=$(key "$s" txs setup_committed)
	toks=$(key "$s" agreement tokens)
	maj=$(key "$s" agreement majority)
	una=$(key "$s" agreement unanimous)
	kmax=$(key "$s" agreement known_peers_max)
	echo "$topo: committed $com of $sub (setup $scom of $ssub), tokens $toks," \
		"majority $maj, unanimous $una, known peers <= $kmax"
	[ -n "$sub" ] && [ "$sub" -ge 190 ] && [ "$com" = "$sub" ] ||
		fail "$topo: committed '$com' of '$sub'"
	[ -n "$ssub" ] && [ "$scom" = "$ssub" ] || fail "$topo: setup '$scom' of '$ssub'"
	[ -n "$toks" ] && [ "$toks" -ge 100 ] && [ "$maj" = "$toks" ] && [ "$una" = "$toks" ] ||
		fail "$topo: agreement $maj / $una of $toks tokens"
	# partial: 8 ring neighbours (+ 2 random, + those who drew this peer,
	# + the joiner) of 64, not everyone
	[ -n "$kmax" ] && [ "$kmax" -ge 8 ] && [ "$kmax" -le 24 ] ||
		fail "$topo: known peers max '$kmax'"
	sed -n '/^    "chain": {/,/^    }/p' "$s" | grep -q '^      "complete": true,' ||
		fail "$topo: chain-sync joiner did not complete"
	grep -q "\"topology\": \"$topo\"" "$s" || fail "$topo: topology not in the summary"
done

# ring under churn (tests/data/ecsim_ring_churn.yaml: 4 leave, 3 join, 2 crash,
# 2 return): everything commits, a majority of every neighbourhood holds each
# head, and every online peer still knows >= 2 x degree = 8 peers (the ring
# neighbours around a leaver learn their new neighbours; without that the
# leaver's neighbours end with 7)
o="$T/churn"
$E tests/data/ecsim_ring_churn.yaml --quiet --fake-signatures --out "$o" >/dev/null 2>&1 ||
	fail "ring churn run exit $?"
s="$o/summary.json"
sub=$(key "$s" txs submitted)
com=$(key "$s" txs committed)
toks=$(key "$s" agreement tokens)
maj=$(key "$s" agreement majority)
kmin=$(key "$s" agreement known_peers_min)
left=$(key "$s" peers left)
echo "ring churn: committed $com of $sub, $left left, tokens $toks, majority $maj," \
	"known peers >= $kmin"
[ -n "$sub" ] && [ "$sub" -ge 190 ] && [ "$com" = "$sub" ] ||
	fail "ring churn: committed '$com' of '$sub'"
[ "$left" = 4 ] || fail "ring churn: left '$left'"
[ -n "$toks" ] && [ "$toks" -ge 100 ] && [ "$maj" = "$toks" ] ||
	fail "ring churn: majority $maj of $toks tokens"
[ -n "$kmin" ] && [ "$kmin" -ge 8 ] || fail "ring churn: a peer knows only '$kmin' peers"

# malformed scenario: the line and the field, exit 2, nothing written
printf 'meta: {name: bad}\nduration_ms: 1000\npeers:\n  count: 0\nreport: {dir: %s}\n' \
	"$T/bad-out" >"$T/bad.yaml"
$E "$T/bad.yaml" --quiet >"$T/bad.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "malformed scenario exit $rc"
grep -q "^$T/bad.yaml:4: field 'peers.count'" "$T/bad.log" ||
	fail "malformed scenario message: $(cat "$T/bad.log")"
[ -e "$T/bad-out" ] && fail "malformed scenario wrote output"
printf 'meta: {name: bad}\nduration_ms: 1000\npeers: {count: 4}\nworkload: {tx_rat: 3}\n' \
	>"$T/bad2.yaml"
$E "$T/bad2.yaml" --quiet >"$T/bad2.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "unknown key exit $rc"
grep -q "bad2.yaml:4: field 'workload.tx_rat'" "$T/bad2.log" ||
	fail "unknown key message: $(cat "$T/bad2.log")"
$E >/dev/null 2>&1
[ $? -eq 2 ] || fail "no arguments: exit != 2"

[ "$fails" -eq 0 ] && echo "ecsim_quick: all checks passed"
[ "$fails" -eq 0 ]
