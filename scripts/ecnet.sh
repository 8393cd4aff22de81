# ecnet.sh - shell functions to run a local network of ecnode processes on
# loopback (sourced by scripts/run.sh and the daemon tests).
#   ecnet_init DIR N PORT0 [extra ecnode flags...]  data dirs + config files;
#                                 PORT0 = 0: every node binds an ephemeral port
#                                 and the bootstrap contact is filled in by
#                                 ecnet_start_all once node 0 runs
#   ecnet_start_all K             start nodes 0..K-1 and wait for their RPC
#   ecnet_start I [extra flags]   start node I (log DIR/nI.log, pid DIR/nI.pid)
#   ecnet_stop I [SIG]            signal node I (TERM) and wait for it
#   ecnet_ctl I ARGS...           ecctl against node I's control socket
#   ecnet_wait_rpc I              until node I answers 'status' (10 s)
#   ecnet_until SECONDS CMD...    until CMD (a command or shell function)
#                                 succeeds, polling every 0.1 s; 1 if it never did
#   ecnet_stop_all                every node started here
# Needs BUILD (build dir) and ECNET_NET (network id, default 42);
# ECNET_WRAP, when set, prefixes ecnode (e.g. 'ip netns exec NS').
ECNET_NET=${ECNET_NET:-42}

ecnet_init() {
	ECNET_DIR=$1
	ECNET_N=$2
	ECNET_PORT0=$3
	shift 3
	ECNET_FLAGS="$*"
	mkdir -p "$ECNET_DIR"
	_ei=0
	while [ $_ei -lt "$ECNET_N" ]; do
		"$BUILD/ecnode" --init --data "$ECNET_DIR/n$_ei" --pow test \
			--network "$ECNET_NET" >"$ECNET_DIR/n$_ei.id" 2>>"$ECNET_DIR/init.log" || return 1
		_ei=$((_ei + 1))
	done
	# node 0 is everyone's bootstrap peer
	ECNET_BOOT="$(awk '/kx_pk/{print $2}' "$ECNET_DIR/n0.id")@127.0.0.1:$ECNET_PORT0"
	_eport() { [ "$ECNET_PORT0" = 0 ] && echo 0 || echo $((ECNET_PORT0 + $1)); }
	_ei=0
	while [ $_ei -lt "$ECNET_N" ]; do
		cat >"$ECNET_DIR/n$_ei.conf" <<EOC
# ecnode $_ei of a local network (scripts/ecnet.sh)
listen = 127.0.0.1:$(_eport $_ei)
data = $ECNET_DIR/n$_ei
network = $ECNET_NET
pow = test
block-interval = 300
hello-interval = 2000
EOC
		[ "$ECNET_PORT0" = 0 ] || echo "bootstrap = $ECNET_BOOT" >>"$ECNET_DIR/n$_ei.conf"
		_ei=$((_ei + 1))
	done
}

ecnet_start_all() {
	ecnet_start 0
	ecnet_wait_rpc 0 || return 1
	if [ "$ECNET_PORT0" = 0 ]; then
		ECNET_BOOT=$(ecnet_ctl 0 status --json | ecnet_field contact)
		_ei=1
		while [ $_ei -lt "$ECNET_N" ]; do
			grep -q '^bootstrap' "$ECNET_DIR/n$_ei.conf" ||
				echo "bootstrap = $ECNET_BOOT" >>"$ECNET_DIR/n$_ei.conf"
			_ei=$((_ei + 1))
		done
	fi
	_ei=1
	while [ $_ei -lt "$1" ]; do
		ecnet_start $_ei
		_ei=$((_ei + 1))
	done
	_ei=1
	while [ $_ei -lt "$1" ]; do
		ecnet_wait_rpc $_ei || return 1
		_ei=$((_ei + 1))
	done
}

ecnet_peer_id() { awk '/peer_id/{print $2}' "$ECNET_DIR/n$1.id"; }

ecnet_start() {
	_ei=$1
	shift
	# shellcheck disable=SC2086
	${ECNET_WRAP:-} "$BUILD/ecnode" --config "$ECNET_DIR/n$_ei.conf" $ECNET_FLAGS "$@" \
		2>>"$ECNET_DIR/n$_ei.log" &
	echo $! >"$ECNET_DIR/n$_ei.pid"
}

ecnet_ctl() {
	_ei=$1
	shift
	"$BUILD/ecctl" "$@" --rpc "$ECNET_DIR/n$_ei/ecnode.sock"
}

ecnet_until() {
	_eu=$(($1 * 10))
	shift
	until "$@"; do
		_eu=$((_eu - 1))
		[ $_eu -gt 0 ] || return 1
		sleep 0.1
	done
}

ecnet_wait_rpc() {
	_ek=0
	while [ $_ek -lt 100 ]; do
		ecnet_ctl "$1" status >/dev/null 2>&1 && return 0
		sleep 0.1
		_ek=$((_ek + 1))
	done
	return 1
}

# Waits until nodes 0..N-1 each report N-1 peers; polls every 0.1 s, at
# most TRIES times (default 150).  0 when they did, 1 when they did not.
ecnet_wait_peers() {
	_ek=0
	while [ $_ek -lt "${2:-150}" ]; do
		_eok=1
		_ei2=0
		while [ $_ei2 -lt "$1" ]; do
			[ "$(ecnet_ctl $_ei2 status --json | ecnet_field peers)" = $(($1 - 1)) ] || _eok=0
			_ei2=$((_ei2 + 1))
		done
		[ $_eok = 1 ] && return 0
		_ek=$((_ek + 1))
		sleep 0.1
	done
	return 1
}

ecnet_stop() {
	[ -f "$ECNET_DIR/n$1.pid" ] || return 0
	_epid=$(cat "$ECNET_DIR/n$1.pid")
	kill -"${2:-TERM}" "$_epid" 2>/dev/null
	_ek=0
	while kill -0 "$_epid" 2>/dev/null && [ $_ek -lt 100 ]; do
		sleep 0.1
		_ek=$((_ek + 1))
	done
	rm -f "$ECNET_DIR/n$1.pid"
}

ecnet_stop_all() {
	for _ef in "$ECNET_DIR"/n*.pid; do
		[ -f "$_ef" ] || continue
		_en=${_ef##*/n}
		ecnet_stop "${_en%.pid}"
	done
}

# First value of "FIELD": in an ecctl --json answer on stdin (quotes
# stripped); no jq or python needed.
ecnet_field() {
	grep -o "\"$1\": *[^,}]*" | head -n 1 | sed 's/^[^:]*: *//; s/"//g; s/ *$//'
}
