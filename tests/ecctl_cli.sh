#!/bin/sh
# ecctl offline commands other than 'chain': keygen and decode.
# Run by scripts/run-tests.sh with BUILD set and the repo root as cwd.
set -eu
ECCTL="${BUILD:-build}/ecctl"
tmp=$(mktemp -d /tmp/ec-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- keygen: 0600, never overwrites, prints key and key hash -------------
"$ECCTL" keygen --json "$tmp/a.key" >"$tmp/a.json"
[ "$(stat -c %a "$tmp/a.key")" = 600 ] || fail "key file mode is not 0600"
grep -q '"public_key": "[0-9a-f]\{64\}"' "$tmp/a.json" || fail "no public key in keygen output"
grep -q '"key_hash": "[0-9a-f]\{64\}"' "$tmp/a.json" || fail "no key hash in keygen output"
before=$(cat "$tmp/a.key")
if "$ECCTL" keygen "$tmp/a.key" 2>"$tmp/err"; then fail "keygen overwrote a key"; fi
grep -q "exists" "$tmp/err" || fail "keygen overwrite message unclear: $(cat "$tmp/err")"
[ "$before" = "$(cat "$tmp/a.key")" ] || fail "existing key file changed"
"$ECCTL" keygen "$tmp/b.key" >/dev/null
[ "$(sed -n 3p "$tmp/a.key")" != "$(sed -n 3p "$tmp/b.key")" ] || fail "two keygens gave the same key"

# --- decode: every valid corpus object decodes to its type ---------------
n=0
for dir in fuzz/corpus/*/; do
	type=$(basename "$dir")
	[ "$type" = chainfile ] && continue # a file container, not a protocol object
	for f in "$dir"valid-*; do
		[ -f "$f" ] || continue
		"$ECCTL" decode "$f" >"$tmp/out.json" || fail "decode $f failed"
		grep -q "\"type\": \"$type\"" "$tmp/out.json" || fail "decode $f: wrong type"
		if grep -q '"signature_check"' "$tmp/out.json" &&
			grep '"signature_check"' "$tmp/out.json" | grep -vq '"valid"'; then
			fail "decode $f: a signature does not verify"
		fi
		n=$((n + 1))
	done
done
[ "$n" -ge 11 ] || fail "only $n valid corpus objects decoded"

# --- decode: damaged inputs are rejected with the reason, exit 1 ---------
for f in fuzz/corpus/*/bad-*; do
	case $f in
	fuzz/corpus/chainfile/*) continue ;; # not a protocol object
	*/bad-short) kind=EC_ERR_SHORT ;;
	*/bad-trailing) kind=EC_ERR_TRAILING ;;
	*/bad-type) kind=EC_ERR_TYPE ;;
	*/bad-version) kind=EC_ERR_VERSION ;;
	*) continue ;;
	esac
	[ -f "$f" ] || continue
	set +e
	"$ECCTL" decode "$f" >/dev/null 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "decode $f: exit $rc, want 1"
	grep -q "$kind" "$tmp/err" || fail "decode $f: reason missing: $(cat "$tmp/err")"
done

# --- decode --hex: the same object as hex text, with whitespace ----------
f=$(ls fuzz/corpus/tx/valid-* | head -n 1)
od -An -tx1 -v "$f" >"$tmp/tx.hex"
"$ECCTL" decode --hex "$tmp/tx.hex" >"$tmp/hex.json"
"$ECCTL" decode "$f" >"$tmp/raw.json"
cmp -s "$tmp/hex.json" "$tmp/raw.json" || fail "--hex and raw decode differ"
echo "zz" >"$tmp/bad.hex"
if "$ECCTL" decode --hex "$tmp/bad.hex" 2>/dev/null; then fail "bad hex accepted"; fi
# stdin
"$ECCTL" decode - <"$f" | grep -q '"type": "tx"' || fail "decode from stdin"

# --- usage errors exit 2 --------------------------------------------------
set +e
"$ECCTL" nosuchcommand 2>/dev/null; [ $? = 2 ] || fail "unknown command exit"
"$ECCTL" decode 2>/dev/null; [ $? = 2 ] || fail "decode without file exit"
"$ECCTL" decode "$tmp/none" 2>/dev/null; [ $? = 2 ] || fail "decode missing file exit"
set -e
echo "ecctl_cli: ok ($n objects decoded)"
