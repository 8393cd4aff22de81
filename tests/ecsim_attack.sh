#!/bin/sh
# ecsim_attack.sh - peer swapping against an attacker in ecsim (issue 8):
# tests/data/ecsim_attack.yaml (48 peers, 8 attacker peers in the peer sets
# of 8 victims, a swap round every ~10 s; INSECURE fake signatures, which
# this scenario does not depend on: nobody forges anything).
#   - swapping on: every victim loses a held position (held_final 0, a
#     t95 exists), swaps were done;
#   - swapping off (the same file, enabled: false): every victim still
#     holds every position (held_final 1, no t50), no swap was done, and
#     the attacker share of the victims' peer tables stays above the share
#     with swapping on;
#   - determinism: the swap-enabled run twice with one seed gives
#     byte-identical summary.json and attack.csv; another seed does not.
# Run by scripts/run-tests.sh with BUILD set and the repo root as cwd.
set -u
E=${BUILD:-build}/ecsim
S=tests/data/ecsim_attack.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# a number after "key": in summary.json (first occurrence)
num() { # file key
	sed -n "s/^ *\"$2\": \([-0-9.e+]*\|null\),\{0,1\}$/\1/p" "$1" | head -1
}

$E "$S" --quiet --fake-signatures --out "$T/on" >"$T/on.log" 2>&1 || fail "run on: exit $?"
sed 's/^  enabled: true/  enabled: false/' "$S" >"$T/off.yaml"
grep -q '^  enabled: false' "$T/off.yaml" || fail "could not turn swapping off"
$E "$T/off.yaml" --quiet --fake-signatures --out "$T/off" >"$T/off.log" 2>&1 ||
	fail "run off: exit $?"
for d in on off; do
	[ -s "$T/$d/summary.json" ] && [ -s "$T/$d/attack.csv" ] && [ -s "$T/$d/attack_survival.svg" ] ||
		fail "$d: outputs missing"
done

on_held=$(num "$T/on/summary.json" held_final)
on_t95=$(num "$T/on/summary.json" t95_ms)
on_done=$(num "$T/on/summary.json" done)
on_share=$(num "$T/on/summary.json" table_share_final)
off_held=$(num "$T/off/summary.json" held_final)
off_t50=$(num "$T/off/summary.json" t50_ms)
off_done=$(num "$T/off/summary.json" done)
off_share=$(num "$T/off/summary.json" table_share_final)
echo "on: held_final $on_held t95 $on_t95 ms swaps $on_done share $on_share"
echo "off: held_final $off_held t50 $off_t50 swaps $off_done share $off_share"
[ "$on_held" = "0.0" ] || fail "swapping on: held_final '$on_held', want 0.0"
case "$on_t95" in '' | null) fail "swapping on: no t95" ;; esac
[ -n "$on_done" ] && [ "$on_done" != null ] && [ "$on_done" -gt 0 ] || fail "swapping on: done '$on_done'"
[ "$off_held" = "1.0" ] || fail "swapping off: held_final '$off_held', want 1.0"
[ "$off_t50" = "null" ] || fail "swapping off: t50 '$off_t50', want null"
[ "$off_done" = "0" ] || fail "swapping off: done '$off_done'"
awk -v a="$on_share" -v b="$off_share" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }' ||
	fail "attacker table share with swapping ($on_share) not below without ($off_share)"
# the survival curve in attack.csv starts held and ends lost
first=$(sed -n 2p "$T/on/attack.csv" | cut -d, -f3)
last=$(tail -1 "$T/on/attack.csv" | cut -d, -f3)
[ "$first" = "1" ] && [ "$last" = "0" ] || fail "attack.csv held column '$first' .. '$last'"

$E "$S" --quiet --fake-signatures --out "$T/on2" >/dev/null 2>&1 || fail "second run"
for f in summary.json attack.csv attack_survival.svg; do
	cmp -s "$T/on/$f" "$T/on2/$f" || fail "$f differs between two runs of one seed"
done
$E "$S" --quiet --fake-signatures --seed 4 --out "$T/s4" >/dev/null 2>&1 || fail "seed 4 run"
cmp -s "$T/on/attack.csv" "$T/s4/attack.csv" && fail "attack.csv identical for another seed"

[ "$fails" -eq 0 ] || exit 1
echo "ok"
