#!/bin/sh
# chain_cli.sh - 'ecctl chain gen|verify|seek', 'ecctl prove' and
# 'ecctl verify-proof' end to end: a 300-block chain verifies; every single
# byte of one block record (block and proof bytes, and its length fields)
# and a random byte of every other record, each flipped on its own, make
# 'verify' fail naming that block; truncated and extended files exit
# cleanly with 2; seek answers match the timestamps and heights; a proof
# verifies, and a flipped byte anywhere in it makes verify-proof exit 1.
# Run by scripts/run-tests.sh with BUILD set and the repo root as cwd.
set -u
E=${BUILD:-build}/ecctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F=$T/c.bin
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

N=300
K=4                       # txs per block
INT=3600000               # 1 h: 300 blocks span 12.5 days (1min..7d refs)
BLK=$((435 + 32 * K))     # version-2 block encoding
PRF=$((3 + 33 * K))       # zero-vote proof
REC=$((4 + BLK + 4 + PRF))
TARGET=30                 # every byte of this record is flipped

$E chain gen --out "$F" --blocks $N --interval-ms $INT --txs-per-block $K \
	--start-ms 1700000000000 || fail "gen"
size=$(wc -c <"$F")
[ "$size" -eq $((12 + N * REC)) ] || fail "file size $size"
$E chain verify "$F" >"$T/ok.json" || fail "verify of a good chain"
grep -q '"ok": true' "$T/ok.json" || fail "summary: ok"
grep -q '"blocks": 300' "$T/ok.json" || fail "summary: blocks"
grep -q '"last_height": 299' "$T/ok.json" || fail "summary: last_height"
grep -q "\"txs\": $((N * K))" "$T/ok.json" || fail "summary: txs"
grep -q "\"bytes\": $size" "$T/ok.json" || fail "summary: bytes"

# Same seed and flags -> same bytes; another seed -> other bytes.
$E chain gen --out "$T/again.bin" --blocks $N --interval-ms $INT \
	--txs-per-block $K --start-ms 1700000000000 || fail "gen again"
cmp -s "$F" "$T/again.bin" || fail "gen is not deterministic"
$E chain gen --out "$T/other.bin" --blocks 3 --seed \
	0202020202020202020202020202020202020202020202020202020202020202 ||
	fail "gen --seed"
$E chain verify "$T/other.bin" >/dev/null || fail "verify --seed chain"

# --key KEYFILE signs like --seed with the same seed.  The public key for
# the key file is read from the first block's signer_pk (offset 12 + 4 +
# 2 + 32 + 8 + 8 + 32 + 5 * 32 + 32 (skip) + 32 + 32).
S3=0303030303030303030303030303030303030303030303030303030303030303
$E chain gen --out "$T/s3.bin" --blocks 2 --seed $S3 || fail "gen --seed S3"
pk=$(od -An -v -tx1 -j 354 -N 32 "$T/s3.bin" | tr -d ' \n')
printf 'ec-secret-key-v1\n%s\n%s\n' $S3 "$pk" >"$T/key"
chmod 600 "$T/key"
$E chain gen --out "$T/k3.bin" --blocks 2 --key "$T/key" || fail "gen --key"
cmp -s "$T/s3.bin" "$T/k3.bin" || fail "--key and --seed differ"

# A segment above genesis (records 100..299) verifies, saying what it
# could not check.
perl -e '
	my ($src, $dst, $from, $rec) = @ARGV;
	open(my $f, "<:raw", $src) or die; my $b = do { local $/; <$f> };
	my $n = unpack("N", substr($b, 8, 4)) - $from;
	open(my $o, ">:raw", $dst) or die;
	print $o "ECCHAIN1", pack("N", $n), substr($b, 12 + $from * $rec);
' "$F" "$T/seg.bin" 100 $REC || fail "perl segment"
$E chain verify "$T/seg.bin" >"$T/out" || fail "segment verify"
grep -q '"from_genesis": false' "$T/out" || fail "segment: from_genesis"
grep -q '"first_height": 100' "$T/out" || fail "segment: first_height"
grep -q '"unchecked"' "$T/out" || fail "segment: unchecked"
$E chain seek "$T/seg.bin" --back 1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "seek on a segment: exit 2 expected"

# Byte flips.  Spawning a process costs ~10-25 ms on the test machine, so
# the variants are written by one perl (Debian: perl-base is essential)
# per batch and checked by one 'ecctl chain verify FILE...' per batch.
# Spec lines: HEIGHT OFFSET STRICT.  Every flip must be named at its own
# record (STRICT=1): proofs are decoded strictly while the file is read, so
# even a damaged proof_length is caught where it is.  STRICT=0 would also
# accept HEIGHT+1.
start=$((12 + TARGET * REC))
awk -v n=$N -v rec=$REC -v blk=$BLK -v prf=$PRF -v t=$TARGET \
	-v start=$start 'BEGIN {
	for (i = 0; i < rec; i++)            # every byte of record TARGET
		print t, start + i, 1
	srand(12345)                          # a block or proof byte of each
	for (h = 0; h < n; h++) {             # other record
		if (h == t) continue
		k = int(rand() * (blk + prf))
		print h, 12 + h * rec + 4 + (k < blk ? k : k + 4), 1
	}
}' >"$T/specs"
[ "$(wc -l <"$T/specs")" -eq $((REC + N - 1)) ] || fail "spec count"
split -l 160 "$T/specs" "$T/batch."
checked=0
for batch in "$T"/batch.*; do
	rm -rf "$T/v"
	mkdir "$T/v"
	perl -e '
		my ($src, $dir, $specs) = @ARGV;
		open(my $f, "<:raw", $src) or die; my $orig = do { local $/; <$f> };
		open(my $s, "<", $specs) or die;
		while (<$s>) {
			my ($h, $off, $strict) = split;
			my $b = $orig;
			substr($b, $off, 1) = chr(ord(substr($b, $off, 1)) ^ 0xa5);
			open(my $o, ">:raw", "$dir/v_${h}_${off}_${strict}.bin") or die;
			print $o $b; close $o;
		}' "$F" "$T/v" "$batch" || fail "perl"
	$E chain verify "$T"/v/v_*.bin >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] || [ $rc -eq 2 ] || fail "batch $batch: exit $rc"
	grep -q '"ok": true' "$T/out" && fail "a flipped file verified: $(grep file "$T/out")"
	# Every variant has exactly one line naming its height (or record).
	awk '
	{
		if (!match($0, /v_[0-9]+_[0-9]+_[01][.]bin/)) { print "stray: " $0; next }
		split(substr($0, RSTART + 2, RLENGTH - 6), p, "_")
		h = p[1]; seen[p[1] "_" p[2]]++
		ok = index($0, "height " h " ") || index($0, "height " h ")") ||
		     index($0, "record " h " ")
		if (!ok && p[3] == 0)
			ok = index($0, "record " (h + 1) " ")
		if (!ok) print "wrong block: " $0
		n++
	}
	END {
		for (k in seen) if (seen[k] != 1) print "twice: " k
		print "count", n + 0
	}' "$T/err" >"$T/check"
	grep -v '^count ' "$T/check" | head -5 | while read -r line; do
		echo "FAIL: $line"
	done
	grep -qv '^count ' "$T/check" && fail "batch $batch"
	n=$(sed -n 's/^count //p' "$T/check")
	[ "$n" -eq "$(wc -l <"$batch")" ] ||
		fail "batch $batch: $n reports for $(wc -l <"$batch") files"
	checked=$((checked + n))
done
[ $checked -eq $((REC + N - 1)) ] || fail "checked $checked flips"
rm -rf "$T/v"

# Truncations and an extension: exit 2, a message, no crash.
for cut in 0 1 7 11 12 13 100 $((12 + REC)) $((12 + 5 * REC + 700)) \
	$((size - PRF - 4)) $((size - 1)); do
	head -c "$cut" "$F" >"$T/t.bin"
	$E chain verify "$T/t.bin" >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq 2 ] || fail "truncated at $cut: exit $rc"
	[ -s "$T/err" ] || fail "truncated at $cut: no message"
done
cp "$F" "$T/t.bin"
printf 'x' >>"$T/t.bin"
$E chain verify --json "$T/t.bin" >"$T/out" 2>/dev/null
[ $? -eq 2 ] || fail "trailing byte not rejected"
grep -q '"error": "EC_ERR_TRAILING"' "$T/out" || fail "trailing: json"
$E chain verify "$T/missing.bin" 2>/dev/null
[ $? -eq 2 ] || fail "missing file"

# --json on a bad chain names the same block.
W=$T/w.bin
cp "$F" "$W"
printf 'Z' | dd of="$W" bs=1 seek=$((start + 4 + 200)) conv=notrunc 2>/dev/null
$E chain verify --json "$W" >"$T/out" 2>/dev/null
[ $? -eq 1 ] || fail "json: exit"
grep -q "\"height\": $TARGET," "$T/out" || fail "json: height"

# Seek: 1 day back from the head (ts 1700000000000 + 299 h) is exactly
# height 275, one 1d hop; 90 s back is height 298; 1000 days back is none;
# 1 h back from height 100 is height 99.
$E chain seek "$F" --back 86400 >"$T/seek" || fail "seek exit"
grep -q '^found  height 275 ' "$T/seek" || fail "seek 1 day: $(cat "$T/seek")"
grep -q '^1 .* 1d ' "$T/seek" || fail "seek 1 day: via 1d"
grep -q '^hops   1$' "$T/seek" || fail "seek 1 day: one hop"
$E chain seek "$F" --back 90 --json >"$T/seek" || fail "seek json exit"
tr -d ' \n' <"$T/seek" | grep -q '"found":{"height":298,' ||
	fail "seek 90 s: $(cat "$T/seek")"
$E chain seek "$F" --back 86400000 >"$T/seek" || fail "seek none exit"
grep -q '^found  none' "$T/seek" || fail "seek none"
$E chain seek "$F" --back 3600 --from 100 >"$T/seek" || fail "seek --from"
grep -q '^found  height 99 ' "$T/seek" || fail "seek --from: $(cat "$T/seek")"

# Seek by height: every hop printed, the target reached, within the
# proven bound 3 * floor(log2(299 + 2)) - 2 = 22 hops; skip references used.
for h in 0 1 7 150 298 299; do
	$E chain seek "$F" --height $h >"$T/seek" || fail "seek --height $h"
	grep -q "^found  height $h " "$T/seek" || fail "seek --height $h: found"
	hops=$(sed -n 's/^hops   //p' "$T/seek")
	[ "$hops" -le 22 ] || fail "seek --height $h: $hops hops"
	[ "$(grep -c '^[0-9]' "$T/seek")" -eq "$hops" ] ||
		fail "seek --height $h: hop lines"
done
$E chain seek "$F" --height 1 | grep -q ' skip ' || fail "seek --height: skip"
$E chain seek "$F" --height 5 --json | tr -d ' \n' |
	grep -q '"found":{"height":5,' || fail "seek --height --json"

# Inclusion proofs.  The first txid of block H starts at 12 + H * REC + 4 +
# 371 (after the fixed fields and n_txs of a version-2 block).
txid_at() {
	od -An -v -tx1 -j $((12 + $1 * REC + 4 + 371 + 32 * $2)) -N 32 "$F" |
		tr -d ' \n'
}
for hk in "0 0" "3 1" "150 3" "299 2"; do
	# shellcheck disable=SC2086
	tx=$(txid_at $hk)
	$E prove "$tx" --chain "$F" --out "$T/p.bin" >"$T/prove" ||
		fail "prove $hk: $(cat "$T/prove")"
	h=${hk% *}
	grep -q "^block  height $h index ${hk#* }" "$T/prove" || fail "prove $hk: block"
	$E verify-proof "$T/p.bin" >"$T/vp" || fail "verify-proof $hk"
	grep -q "valid" "$T/vp" || fail "verify-proof $hk: valid"
	grep -q "^block  height $h " "$T/vp" || fail "verify-proof $hk: height"
	bytes=$(wc -c <"$T/p.bin")
	grep -q "blocks, $bytes bytes" "$T/vp" || fail "verify-proof $hk: size"
done
tx=$(txid_at 7 2)
$E prove "$tx" --chain "$F" --out "$T/p.bin" >/dev/null || fail "prove 7"
$E verify-proof --json "$T/p.bin" | grep -q '"ok": true' || fail "proof json"
# every byte of the proof's head part (magic, txid, index, audit path,
# count) and every 11th byte after it, flipped on its own: exit 1 (never 0,
# never a crash).  test_chain covers each kind of tampering in-process.
plen=$(wc -c <"$T/p.bin")
rm -rf "$T/pv"
mkdir "$T/pv"
perl -e '
	my ($src, $dir) = @ARGV;
	open(my $f, "<:raw", $src) or die; my $orig = do { local $/; <$f> };
	for my $i (0 .. length($orig) - 1) {
		next if $i >= 4 + 1 + 32 + 2 + 32 * 5 + 2 && $i % 11;
		my $b = $orig;
		substr($b, $i, 1) = chr(ord(substr($b, $i, 1)) ^ 0x21);
		open(my $o, ">:raw", "$dir/p_$i.bin") or die; print $o $b; close $o;
	}' "$T/p.bin" "$T/pv" || fail "perl proof flips"
bad=0
for v in "$T"/pv/p_*.bin; do
	$E verify-proof "$v" >/dev/null 2>&1
	rc=$?
	[ $rc -eq 1 ] || { bad=$((bad + 1)); echo "flip $v: exit $rc"; }
done
[ $bad -eq 0 ] || fail "$bad proof flips not rejected"
[ "$(ls "$T/pv" | wc -l)" -gt $((plen / 11)) ] || fail "proof flips: too few"
rm -rf "$T/pv"
head -c $((plen - 1)) "$T/p.bin" >"$T/pt.bin"
$E verify-proof "$T/pt.bin" >/dev/null
[ $? -eq 1 ] || fail "truncated proof"
$E prove "$(echo "$tx" | tr 0-9a-f 1-9a-f0)" --chain "$F" --out "$T/p2.bin" \
	>/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "prove of an unknown txid: exit 1 expected"
grep -q "no block" "$T/err" || fail "prove unknown: message"

# Usage errors: exit 2 with a message; --help exits 0.
for args in "chain" "chain bogus" "chain gen --blocks 3" \
	"chain gen --out $T/x --blocks 0" "chain gen --out $T/x --blocks 3 --txs-per-block 33" \
	"chain gen --out $T/x --blocks 3 --seed 12" "chain gen --out $T/x --blocks" \
	"chain verify" "chain verify --bogus $F" "chain seek $F" \
	"chain seek $F --back -1" "chain seek $F --back 1.2345" \
	"chain seek $F --back 1 --from 300" "chain seek $F --height 300" \
	"chain seek $F --back 1 --height 3" "chain seek $F --height 9 --from 5" \
	"prove" "prove 12 --chain $F --out $T/x" "prove $tx --out $T/x" \
	"prove $tx --chain $T/missing --out $T/x" "verify-proof" \
	"verify-proof $T/missing"; do
	# shellcheck disable=SC2086
	$E $args >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq 2 ] || fail "'$args': exit $rc"
	[ -s "$T/err" ] || fail "'$args': no message"
done
for sub in gen verify seek; do
	$E chain $sub --help | grep -q usage || fail "$sub --help"
done
$E prove --help | grep -q usage || fail "prove --help"
$E verify-proof --help | grep -q usage || fail "verify-proof --help"

[ $fails -eq 0 ] || {
	echo "$fails failure(s)"
	exit 1
}
echo "chain_cli: ok"
