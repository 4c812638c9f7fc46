#!/bin/bash
# Helpers shared by the rust_ipvs selftests (sourced).

# SELFTEST_PROFILE=1 (vm.sh --env SELFTEST_PROFILE=1): at the test's end, the commands that
# took its time, from a timestamped xtrace (the time from one traced command to the next is
# charged to the first; what a command substitution runs is charged line by line).
if [ "${SELFTEST_PROFILE:-0}" = 1 ] && [ -z "${selftest_profile_fd:-}" ]; then
	exec {selftest_profile_fd}>/tmp/xtrace.$$
	BASH_XTRACEFD=$selftest_profile_fd
	PS4='+ ${EPOCHREALTIME} '
	selftest_profile_report() {
		set +x
		awk '$2 ~ /^[0-9]+\.[0-9]+$/ {
			if (prev != "") { t[prev] += $2 - pt; n[prev]++; all += $2 - pt }
			cmd = $3; for (i = 4; i <= NF && i <= 8; i++) cmd = cmd " " $i
			prev = substr(cmd, 1, 70); pt = $2
		} END {
			for (c in t) printf "%8.2f %5d %s\n", t[c], n[c], c
			printf "%8.2f %5d (all)\n", all, 0
		}' /tmp/xtrace.$$ | sort -rn | head -60 | sed 's/^/profile: /'
	}
	trap selftest_profile_report EXIT
	set -x
fi

# kselftest exit codes.
ksft_pass=0
ksft_fail=1
ksft_skip=4

# The implementation under test: "rust" (rust_ipvs) or "c" (the kernel's ip_vs).
IPVS_IMPL=${IPVS_IMPL:-rust}

log() { echo "$*"; }

fail() {
	echo "FAIL: $*"
	exit $ksft_fail
}

skip() {
	echo "SKIP: $*"
	exit $ksft_skip
}

# Runs a command, failing the test with its output if it fails.
run() {
	local out
	if ! out=$("$@" 2>&1); then
		echo "$out"
		fail "command failed: $*"
	fi
	[ -z "$out" ] || echo "$out"
}

# Polls COMMAND every 50 ms until it succeeds, for at most SECONDS; fails the test if it never
# does. For states no event announces (a socket listening, a conntrack entry's TCP state).
wait_until() {
	local seconds=$1
	shift
	local deadline=$((${EPOCHREALTIME/./} + seconds * 1000000))
	until "$@" >/dev/null 2>&1; do
		[ ${EPOCHREALTIME/./} -lt $deadline ] || fail "timed out after ${seconds}s waiting for: $*"
		sleep 0.05
	done
}

# Expects two strings to be equal; shows a diff otherwise.
expect_eq() {
	local what=$1 want=$2 got=$3
	if [ "$want" != "$got" ]; then
		echo "--- want ($what)"
		echo "$want"
		echo "+++ got"
		echo "$got"
		fail "$what differs"
	fi
}

# Fails the test with message $2 unless the output in $got (what `differential` left, or what
# the test captured there) has a line matching the basic regular expression $1.
got_has() {
	grep -q -- "$1" <<<"$got" || fail "$2"
}

# Fails the test with message $2 if the output in $got has a line matching $1.
got_lacks() {
	! grep -q -- "$1" <<<"$got" || fail "$2"
}

# Whether this is the debug kernel (KASAN, lockdep, kmemleak: the debug set's kernel).
debug_kernel() { [ -e /sys/kernel/debug/kmemleak ]; }

# Runs the function SCENARIO with the C ip_vs loaded, then with rust_ipvs; prints what it
# printed under rust_ipvs, which is left in $got, and fails with both outputs unless they are
# identical. On the debug kernel SCENARIO runs under rust_ipvs alone (DIFFERENTIAL_ON_DEBUG=1
# keeps the C run): there the kernel's checks watch rust_ipvs's memory and locking, while the
# comparison with C is the perf kernel's run of the same test; the C half would double the
# debug set's time and check nothing of ours.
differential() {
	local what=$1 scenario=$2 want
	if debug_kernel && [ "${DIFFERENTIAL_ON_DEBUG:-0}" != 1 ]; then
		IPVS_IMPL=rust ipvs_load
		got=$($scenario 2>&1)
		unload_after rust_ipvs "$got"
		echo "$got"
		log "$what: rust_ipvs alone on the debug kernel (compared with C on the perf kernel)"
		return 0
	fi
	IPVS_IMPL=c ipvs_load
	want=$($scenario 2>&1)
	unload_after "C ip_vs" "$want"
	IPVS_IMPL=rust ipvs_load
	got=$($scenario 2>&1)
	unload_after rust_ipvs "$got"
	echo "$got"
	expect_eq "$what (C ip_vs vs rust_ipvs)" "$want" "$got"
}

# Waits for the C ip_vs's rate estimator to run (every 2 s): C's listings and ZERO use the
# counters as of its last run, rust_ipvs's are current (no wait).
c_estimator_settle() {
	if [ -d /sys/module/ip_vs ]; then sleep "${1:-3}"; fi
}

# Unloads the implementation a scenario ran with; if it cannot be (a scenario that failed
# halfway leaves its namespaces and services behind), fails with what the scenario printed.
unload_after() {
	local impl=$1 output=$2 unload
	unload=$( (ipvs_unload) 2>&1) && return 0
	echo "--- $impl run:"
	echo "$output"
	echo "$unload"
	fail "$impl did not unload after the scenario"
}

# The C ip_vs scheduler modules, loaded with it (the kernel would load them on demand).
C_SCHEDULERS="ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_sh ip_vs_dh ip_vs_mh ip_vs_sed ip_vs_nq
	ip_vs_fo ip_vs_ovf ip_vs_twos"

# Loads the implementation under test (exactly one of the two at a time).
ipvs_load() {
	ipvs_unload
	case $IPVS_IMPL in
	rust)
		# As a user installs it: `modprobe ip_vs` (moby/ipvs, keepalived, kube-proxy) then
		# loads rust_ipvs, not the C ip_vs beside it.
		if [ -f /usr/share/rust_ipvs/rust_ipvs.modprobe.conf ]; then
			mkdir -p /etc/modprobe.d
			cp /usr/share/rust_ipvs/rust_ipvs.modprobe.conf /etc/modprobe.d/rust_ipvs.conf
		fi
		modprobe rust_ipvs || fail "modprobe rust_ipvs"
		;;
	c) modprobe -a ip_vs $C_SCHEDULERS || fail "modprobe ip_vs $C_SCHEDULERS" ;;
	esac
}

# Unloads whichever implementation is loaded. Deleted namespaces are dismantled
# asynchronously, and the C scheduler modules stay in use until their services are gone:
# retry for a while (30 s: a loaded host slows the guest's namespace cleanup).
ipvs_unload() {
	local m i
	rm -f /etc/modprobe.d/rust_ipvs.conf
	for m in $C_SCHEDULERS ip_vs rust_ipvs; do
		[ -d /sys/module/$m ] || continue
		for i in $(seq 150); do
			rmmod $m 2>/dev/null && break
			sleep 0.2
		done
		[ -d /sys/module/$m ] && { rmmod $m; fail "rmmod $m"; }
	done
	return 0
}

# Network namespace helpers: names carry the test's pid so tests never collide.

# Runs a command in network namespace NS (made by ns_add). nsenter joins the namespace alone:
# `ip netns exec` also unshares the mount namespace and mounts a sysfs of NS's devices, which
# made it 70 ms a command under TCG against nsenter's 13. /sys/class/net therefore shows the
# initial namespace's devices: read a namespace's devices with `ip -n NS`. The command goes
# by its path, as busybox's nsenter would run its own applet of a name it has (ip, timeout).
in_ns() {
	local ns=$1 cmd
	shift
	cmd=$1
	shift
	# The path from bash's table of commands (no subshell).
	[[ $cmd == */* ]] || ! hash "$cmd" 2>/dev/null || cmd=${BASH_CMDS[$cmd]}
	nsenter --net=/run/netns/$ns "$cmd" "$@"
}

# Starts counting the ICMP destination-unreachable messages (family ip) or ICMPv6 ones (ip6)
# that a host receives, in an nft counter: count_unreachables FAMILY COMMAND..., where
# COMMAND... runs a command there (in_rs rs1, say).
count_unreachables() {
	local family=$1 proto=icmp
	shift
	[ "$family" = ip6 ] && proto=icmpv6
	printf '%s\n' "add table $family unreach" \
		"add chain $family unreach in { type filter hook input priority 0; }" \
		"add rule $family unreach in $proto type destination-unreachable counter" | "$@" nft -f -
}

# How many count_unreachables has counted: unreachables FAMILY COMMAND...
unreachables() {
	local family=$1
	shift
	"$@" nft list chain "$family" unreach in | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# Runs ip commands (each argument one, as "link set lo up") in one ip process (one is about
# 75 ms under TCG), in namespace NS or with "-" in the test's own; fails the test on an error.
ip_batch() {
	local ns=$1 out
	shift
	local opts=(-batch -)
	[ "$ns" = - ] || opts=(-n "$ns" -batch -)
	out=$(printf '%s\n' "$@" | ip "${opts[@]}" 2>&1) || { echo "$out"; fail "ip -batch in $ns: $*"; }
}

# The namespaces and links of a star topology: CLIENT's c0 to DIRECTOR's d0, and each real
# server RS's eth0 (in namespace RS$SUFFIX) to the director's vRS, a port of its bridge br0;
# the director's links are up (the caller adds the addresses and the other namespaces' links).
star_links() {
	local client=$1 director=$2 suffix=$3 rs links=() ports=()
	shift 3
	for rs; do
		links+=("netns add $rs$suffix"
			"link add eth0 netns $rs$suffix type veth peer name v$rs netns $director")
		ports+=("link set v$rs master br0 up")
	done
	ip_batch - "netns add $client" "netns add $director" \
		"link add c0 netns $client type veth peer name d0 netns $director" "${links[@]}"
	ip_batch $director "link set lo up" "link set d0 up" "link add br0 type bridge" \
		"link set br0 up" "${ports[@]}"
}

# Kills what runs in the namespaces named and deletes them (those already gone are skipped).
ns_del() {
	printf 'netns pids %s\n' "$@" | ip -force -batch - 2>/dev/null | xargs -r kill 2>/dev/null
	printf 'netns del %s\n' "$@" | ip -force -batch - 2>/dev/null
	true
}

ns_add() {
	ip netns add "$1" || fail "ip netns add $1"
	ip -n "$1" link set lo up
}

# The `ipvsadm -R` input of $1 TCP services with three real servers each, one netlink
# message per service and per real server as kube-proxy programs them (the benchmark's and
# profile.sh's control-plane load).
services_rules() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			vip = sprintf("10.%d.%d.%d", 100 + int(i / 65536), int(i / 256) % 256, i % 256)
			printf "-A -t %s:80 -s rr\n", vip
			for (r = 11; r <= 13; r++) printf "-a -t %s:80 -r 172.16.0.%d:8080 -m -w 1\n", vip, r
		}
	}'
}
