#!/bin/sh
# Installs the Debian 12 packages the project needs, if any are missing.
# Used by both README commands and by .ci/run.  Idempotent and quiet when
# everything is present; needs root (or sudo) only when it must install.
set -eu
PKGS="build-essential pkg-config libsodium-dev liblmdb-dev libuv1-dev \
libyaml-dev libjansson-dev libcmocka-dev libssl-dev libsystemd-dev scdoc"
[ "${EC_SETUP_FUZZ:-0}" = 1 ] && PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "setup: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done" >&2
