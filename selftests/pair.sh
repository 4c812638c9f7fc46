#!/bin/bash
# shellcheck shell=bash
# The two-guest side of the harness (scripts/vm.sh --pair): sourced by the pair tests after
# lib.sh; run by the guest's init as `pair.sh init`.
#
# Two guests, "a" and "b", run the same list of tests (selftests/PAIR_TESTS) in the same order,
# joined by three virtio-net links that init names (by their MAC addresses, which vm.sh
# assigns: 52:54:00:fa:0L:0R, L the link, R the role):
#
#   ctl   the harness's messages: 10.250.0.1 (a) and 10.250.0.2 (b), up before any test
#   lan   the client-facing segment the tests share (up, no address: the tests set it up)
#   sync  for connection-sync traffic (up, no address: the tests set it up)
#
# The guests talk through a message service on ctl (TCP port 7700, socat): pair_send NAME
# delivers a message into the peer's inbox and returns once the peer has stored it;
# pair_recv NAME takes the oldest message of that name from the own inbox, waiting for one.
# Names are per test run (the test's file name is prepended), and messages of one name are kept
# in order, so a guest may send ahead. pair_barrier NAME is a message each way.
#
# Every wait ends after PAIR_TIMEOUT seconds (default 120; settable with
# `vm.sh --env PAIR_TIMEOUT=S`) with a message naming what was awaited. A test that exits
# non-zero tells the peer, whose next wait then ends at once: a failure in one guest fails the
# test in the other too instead of leaving it waiting, and a skip skips it there too.
#
# Tests register their clean-up with pair_on_exit (pair.sh owns the EXIT trap).

PAIR_PORT=${PAIR_PORT:-7700}
PAIR_TIMEOUT=${PAIR_TIMEOUT:-120}
PAIR_STATE=${PAIR_STATE:-/run/pair}
PAIR_LINKS=(ctl lan sync)

# This guest's role, a or b (from the kernel command line's rust_ipvs_role).
pair_role() {
	if [ -z "${rust_ipvs_role:-}" ]; then
		rust_ipvs_role=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^rust_ipvs_role=//p')
	fi
	echo "$rust_ipvs_role"
}

# The other guest's role.
pair_peer_role() {
	case $(pair_role) in a) echo b ;; b) echo a ;; esac
}

# 1 for guest a, 2 for guest b (of ROLE, default this guest's): the last byte of its addresses.
pair_index() {
	case ${1:-$(pair_role)} in a) echo 1 ;; b) echo 2 ;; esac
}

# This guest's and the peer's addresses on ctl.
pair_ip() { echo "10.250.0.$(pair_index)"; }
pair_peer_ip() { echo "10.250.0.$(pair_index "$(pair_peer_role)")"; }

# Microseconds since the epoch.
_pair_now() { echo "${EPOCHREALTIME/./}"; }

# The inbox key of message NAME: the test's name and NAME, in characters safe in a file name.
_pair_key() {
	local key="$PAIR_TEST.$1"
	echo "${key//[^A-Za-z0-9._-]/_}"
}

# pair_send NAME [FILE]: sends FILE (default: standard input) to the peer as message NAME and
# returns once the peer has stored it (retrying while the peer's message service is not up,
# unless the peer gave up on this test).
pair_send() {
	local name=$1 file=${2:--} key tmp reply deadline id
	key=$(_pair_key "$name")
	id=$(pair_role)-$(_pair_now)-$$-$RANDOM
	tmp=$(mktemp /tmp/pair_send.XXXXXX)
	{ echo "$key $id"; cat -- "$file"; } >"$tmp" || { rm -f "$tmp"; fail "pair_send $name: cannot read $file"; }
	deadline=$(($(_pair_now) + PAIR_TIMEOUT * 1000000))
	while :; do
		reply=$(socat -t 30 -T 30 - TCP:"$(pair_peer_ip)":$PAIR_PORT,connect-timeout=2 <"$tmp" 2>/dev/null)
		[ "$reply" = ok ] && break
		_pair_check_abort "pair_send $name"
		if [ "$(_pair_now)" -ge $deadline ]; then
			rm -f "$tmp"
			fail "pair_send $name: guest $(pair_peer_role)'s message service ($(pair_peer_ip):$PAIR_PORT) did not take the message within ${PAIR_TIMEOUT}s"
		fi
		sleep 0.2
	done
	rm -f "$tmp"
}

# Waits for message KEY in the inbox and leaves the path of the oldest in $pair_msg; fails
# after PAIR_TIMEOUT seconds with WHAT as the reason, or at once if the peer gave up on this
# test. (Not in a subshell: its failure must end the test.)
_pair_wait() {
	local key=$1 what=$2 deadline msgs
	deadline=$(($(_pair_now) + PAIR_TIMEOUT * 1000000))
	while :; do
		msgs=("$PAIR_STATE/inbox/$key"/*)
		[ -e "${msgs[0]}" ] && break
		_pair_check_abort "$what"
		[ "$(_pair_now)" -lt $deadline ] ||
			fail "$what: nothing from guest $(pair_peer_role) within ${PAIR_TIMEOUT}s (it is behind, stuck or ran another test)"
		sleep 0.05
	done
	pair_msg=${msgs[0]}
}

# Fails (or skips) at once if the peer has exited this test with a failure (or a skip).
_pair_check_abort() {
	local msgs status
	msgs=("$PAIR_STATE/inbox/$(_pair_key _exit)"/*)
	[ -e "${msgs[0]}" ] || return 0
	status=$(cat "${msgs[0]}")
	[ "$status" = 4 ] && skip "$1: guest $(pair_peer_role) skipped this test"
	fail "$1: guest $(pair_peer_role) failed this test (exit $status)"
}

# pair_recv NAME [FILE]: waits for message NAME from the peer and writes it to FILE (default:
# standard output).
pair_recv() {
	local name=$1 out=${2:--}
	_pair_wait "$(_pair_key "$name")" "pair_recv $name"
	if [ "$out" = - ]; then cat "$pair_msg"; else cp "$pair_msg" "$out"; fi
	rm -f "$pair_msg"
}

# pair_pending NAME: whether a message NAME from the peer is waiting (does not take it).
pair_pending() {
	local msgs
	msgs=("$PAIR_STATE/inbox/$(_pair_key "$1")"/*)
	[ -e "${msgs[0]}" ]
}

# pair_barrier NAME: returns once both guests have reached NAME.
pair_barrier() {
	local name=$1
	pair_send "barrier.$name" </dev/null
	_pair_wait "$(_pair_key "barrier.$name")" "pair_barrier $name"
	rm -f "$pair_msg"
}

# pair_on_exit COMMAND: runs COMMAND (a string, eval'd) when the test exits, the last
# registered first.
PAIR_ON_EXIT=()
pair_on_exit() {
	PAIR_ON_EXIT=("$1" "${PAIR_ON_EXIT[@]}")
}

_pair_exit() {
	local rc=$? cmd
	trap - EXIT
	for cmd in "${PAIR_ON_EXIT[@]}"; do
		(eval "$cmd") >/dev/null 2>&1
	done
	# Tell the peer, so that it stops waiting for this guest (a few tries: the peer may be
	# gone already).
	if [ $rc -ne 0 ]; then
		echo $rc | PAIR_TIMEOUT=10 pair_send _exit >/dev/null 2>&1
	fi
	exit $rc
}

# The message service's handler (`pair.sh handle`, run by socat for each connection), one
# connection per message: the first line is
# "KEY ID", the rest the message. The message is stored under inbox/KEY/ by arrival time (once
# per ID: a sender retrying after a lost answer does not store it twice), then "ok" is
# answered.
_pair_handle() {
	local key id tmp
	IFS=' ' read -r key id || exit 1
	[[ "$key" =~ ^[A-Za-z0-9._-]+$ && "$id" =~ ^[A-Za-z0-9._-]+$ ]] || exit 1
	mkdir -p "$PAIR_STATE/inbox/$key" "$PAIR_STATE/seen"
	if [ -e "$PAIR_STATE/seen/$id" ]; then
		cat >/dev/null
	else
		tmp=$PAIR_STATE/tmp.$$
		cat >"$tmp" || exit 1
		mv "$tmp" "$PAIR_STATE/inbox/$key/$(_pair_now).$id"
		: >"$PAIR_STATE/seen/$id"
	fi
	echo ok
}

# At boot (`pair.sh init`, from init): names the links by their MAC addresses, addresses ctl,
# and starts the message service. A failure is kept in init_error, for the tests to report.
_pair_init() {
	local out rc
	mkdir -p "$PAIR_STATE"
	out=$(_pair_init_links 2>&1)
	rc=$?
	echo "$out"
	[ $rc = 0 ] || echo "$out" >"$PAIR_STATE/init_error"
	return $rc
}

_pair_init_links() {
	local role index dev mac link i deadline found
	role=$(pair_role)
	index=$(pair_index "$role")
	[ -n "$index" ] || { echo "# pair: unknown role '$role'"; return 1; }
	# The virtio devices are probed before init runs; wait a little in case they are not.
	deadline=$(($(_pair_now) + 10000000))
	while :; do
		found=0
		for dev in /sys/class/net/*; do
			mac=$(cat "$dev/address")
			case $mac in 52:54:00:fa:0[1-3]:0"$index") found=$((found + 1)) ;; esac
		done
		[ $found = ${#PAIR_LINKS[@]} ] && break
		[ "$(_pair_now)" -lt $deadline ] || { echo "# pair: found $found of the ${#PAIR_LINKS[@]} links"; return 1; }
		sleep 0.05
	done
	for dev in /sys/class/net/*; do
		mac=$(cat "$dev/address")
		case $mac in 52:54:00:fa:0[1-3]:0"$index") ;; *) continue ;; esac
		i=${mac:13:1}
		link=${PAIR_LINKS[i - 1]}
		ip link set "${dev##*/}" name "$link" || return 1
		ip link set "$link" up || return 1
	done
	ip link set lo up
	ip addr add "$(pair_ip)/24" dev ctl || return 1
	mkdir -p "$PAIR_STATE/inbox" "$PAIR_STATE/seen"
	setsid socat -t 30 -T 60 TCP-LISTEN:$PAIR_PORT,bind="$(pair_ip)",reuseaddr,fork,backlog=64 \
		EXEC:"/bin/bash /selftests/pair.sh handle" </dev/null >/dev/null 2>&1 &
	deadline=$(($(_pair_now) + 10000000))
	until ss -ltn | grep -q "$(pair_ip):$PAIR_PORT "; do
		[ "$(_pair_now)" -lt $deadline ] || { echo "# pair: the message service did not start"; return 1; }
		sleep 0.05
	done
	echo "# pair: guest $role, ctl $(pair_ip), peer $(pair_peer_ip); links: $(ip -br link | awk '$1 ~ /^(ctl|lan|sync)$/ { printf "%s %s  ", $1, $3 }')"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# Run as a command.
	case ${1:-} in
	init) _pair_init ;;
	handle) _pair_handle ;;
	*) echo "usage: pair.sh init|handle" >&2; exit 2 ;;
	esac
	exit
fi

# Sourced by a test.
[ -n "$(pair_role)" ] || skip "a pair test: it needs two guests (scripts/vm.sh --pair)"
[ ! -e "$PAIR_STATE/init_error" ] || fail "the links to the other guest were not set up at boot: $(cat "$PAIR_STATE/init_error")"
# The messages' prefix: the test's name and how many times this guest has started it (both
# guests run the same list), so that a test listed twice does not see its first run's messages.
PAIR_TEST=${PAIR_TEST:-$(basename "$0" .sh)}
mkdir -p "$PAIR_STATE/runs"
pair_run=$(($(cat "$PAIR_STATE/runs/$PAIR_TEST" 2>/dev/null || echo 0) + 1))
echo $pair_run >"$PAIR_STATE/runs/$PAIR_TEST"
PAIR_TEST=$PAIR_TEST-$pair_run
trap _pair_exit EXIT
