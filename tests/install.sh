#!/bin/sh
# make install: PREFIX and DESTDIR honoured; programs, libec.a, the public
# headers, libec.pc, man pages, the systemd unit, the sysusers.d file and a
# commented /etc/ec/ecnode.conf (never overwritten) land where they should;
# a small C program builds against the installed library with
# `pkg-config --cflags --libs libec` and prints ec_version(); the man pages
# name every option and command --help names; `systemd-analyze verify`
# accepts the unit (SKIP line when systemd-analyze is absent).
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/ec-inst.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
# a make of our own, not the jobserver of the make running the tests
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory BUILD="$BUILD" "$@"; }
v=$(sed -n 's/^#define EC_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/ec/version.h | paste -sd.)

R="$tmp/root"
mk install DESTDIR="$R" PREFIX=/usr >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "make install"; }
for f in usr/bin/ecctl usr/bin/ecsim usr/sbin/ecnode; do
	[ -x "$R/$f" ] || fail "$f not installed executable"
done
for f in usr/lib/libec.a usr/include/ec/ec.h usr/include/ec/version.h usr/include/ec/node.h \
	usr/lib/pkgconfig/libec.pc usr/lib/systemd/system/ecnode.service usr/lib/sysusers.d/ec.conf \
	etc/ec/ecnode.conf; do
	[ -f "$R/$f" ] || fail "$f not installed"
done
[ "$(ls "$R/usr/include/ec" | wc -l)" = "$(ls include/ec/*.h | wc -l)" ] || fail "not every public header installed"
[ "$("$R/usr/sbin/ecnode" --version)" = "ecnode $v" ] || fail "installed ecnode --version"
grep -q '^ExecStart=/usr/sbin/ecnode --config /etc/ec/ecnode.conf --data /var/lib/ec$' \
	"$R/usr/lib/systemd/system/ecnode.service" || fail "unit ExecStart: $(grep ExecStart "$R/usr/lib/systemd/system/ecnode.service")"
for o in Type=notify User=ec NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/ec \
	PrivateTmp=yes StateDirectory=ec; do
	grep -qx "$o" "$R/usr/lib/systemd/system/ecnode.service" || fail "unit lacks $o"
done
grep -v '^#' "$R/etc/ec/ecnode.conf" | grep -q '[^[:space:]]' && fail "ecnode.conf has uncommented settings"
# every commented setting is one ecnode knows: uncommented, the file loads
sed -n 's/^#\([a-z-]* = .*\)/\1/p' "$R/etc/ec/ecnode.conf" | grep -v '^\(bootstrap\|log-file\)' >"$tmp/all.conf"
[ "$(wc -l <"$tmp/all.conf")" -ge 8 ] || fail "ecnode.conf documents too few settings"
"$BUILD/ecnode" --config "$tmp/all.conf" --help >/dev/null || fail "the example settings do not load"
"$BUILD/ecnode" --config "$tmp/all.conf" --data "$tmp/none" --listen 300.0.0.0:1 2>"$tmp/conf.err"
grep -q "bad listen address '300.0.0.0:1'" "$tmp/conf.err" || fail "example settings: $(cat "$tmp/conf.err")"
echo "make install DESTDIR PREFIX=/usr: $(find "$R" -type f | wc -l) files"

# the operator's configuration survives a second install
echo "# mine" >>"$R/etc/ec/ecnode.conf"
mk install DESTDIR="$R" PREFIX=/usr >"$tmp/install2.log" 2>&1 || fail "second make install"
tail -n 1 "$R/etc/ec/ecnode.conf" | grep -qx '# mine' || fail "a second install overwrote ecnode.conf"
grep -q "ecnode.conf exists: left as it is" "$tmp/install2.log" || fail "no note about the kept ecnode.conf"

# a program built against the installed library, through pkg-config
cat >"$tmp/hello.c" <<'EOC'
#include <stdio.h>
#include <string.h>
#include <ec/crypto.h>
#include <ec/ec.h>
#include <ec/store.h>
#include <ec/version.h>
int main(int argc, char **argv)
{
	ec_id h;
	ec_store *st;
	if (argc < 2 || ec_crypto_init() != EC_OK)
		return 1;
	ec_hash(&h, "ec/v1/example", "ec", 2);
	if (ec_store_open_lmdb(&st, argv[1], NULL) != EC_OK)
		return 1;
	ec_store_close(st);
	printf("libec %s (headers %s) %s\n", ec_version(), EC_VERSION_STRING,
	       ec_strerror(EC_ERR_PERM));
	return strcmp(ec_version(), EC_VERSION_STRING) != 0;
}
EOC
PC="pkg-config --define-variable=prefix=$R/usr"
export PKG_CONFIG_PATH="$R/usr/lib/pkgconfig"
[ "$($PC --modversion libec)" = "$v" ] || fail "pkg-config --modversion libec: $($PC --modversion libec)"
# a sanitizer build's library (make SAN=1) needs the sanitizer runtimes
san=""
nm "$R/usr/lib/libec.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046,SC2086
cc -std=c11 $san -o "$tmp/hello" "$tmp/hello.c" $($PC --cflags --libs libec) 2>"$tmp/cc.err" ||
	fail "building against the installed libec: $(cat "$tmp/cc.err")"
mkdir "$tmp/store"
out=$("$tmp/hello" "$tmp/store") || fail "the program against libec failed: $out"
[ "$out" = "libec $v (headers $v) permission problem" ] || fail "program printed: $out"
echo "built with \`pkg-config --cflags --libs libec\`: $out"

# man pages: installed, and naming what --help names
if command -v scdoc >/dev/null; then
	for m in man1/ecctl.1 man1/ecsim.1 man8/ecnode.8; do
		[ -s "$R/usr/share/man/$m" ] || fail "$m not installed"
	done
	for o in $("$BUILD/ecnode" --help | grep -o '^  --[a-z-]*'); do
		grep -q -- "^\*$o\*" docs/man/ecnode.8.scd || fail "ecnode(8) does not describe $o"
	done
	for o in $("$BUILD/ecsim" --help | grep -o '^  --[a-z-]*'); do
		grep -q -- "^\*$o\*" docs/man/ecsim.1.scd || fail "ecsim(1) does not describe $o"
	done
	for c in $("$BUILD/ecctl" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1}'); do
		grep -q "^\*$c\*" docs/man/ecctl.1.scd || fail "ecctl(1) does not describe $c"
	done
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$R/usr/share/man/man8/ecnode.8" 2>"$tmp/man.err" | grep -q "ecnode - the EC protocol daemon" ||
			fail "ecnode.8 does not render: $(cat "$tmp/man.err")"
	fi
	echo "man pages installed and naming every option and command of --help"
else
	grep -q "scdoc not found: man pages not built nor installed" "$tmp/install.log" ||
		fail "without scdoc install says nothing about the man pages"
	echo "SKIP: scdoc is missing: man pages not checked (sh scripts/setup.sh installs it)"
fi

# the unit, with a prefix where its programs exist
if command -v systemd-analyze >/dev/null && [ -x /bin/kill ]; then
	P="$tmp/prefix"
	mk install PREFIX="$P" SYSCONFDIR="$P/etc" >"$tmp/install3.log" 2>&1 || fail "make install PREFIX=$P"
	if command -v man >/dev/null && command -v scdoc >/dev/null; then
		man="--man=yes"
	else
		man="--man=no"
	fi
	MANPATH="$P/share/man" systemd-analyze verify $man "$P/lib/systemd/system/ecnode.service" \
		>"$tmp/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
	[ -s "$tmp/verify.log" ] && fail "systemd-analyze verify warns: $(cat "$tmp/verify.log")"
	echo "systemd-analyze verify ($man): clean"
else
	echo "SKIP: systemd-analyze (or /bin/kill, the unit's ExecReload) is absent: unit not verified"
fi
echo PASS
