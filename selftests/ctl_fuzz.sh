#!/bin/bash
# Malformed generic netlink requests against rust_ipvs. nlfuzz sends thousands of mutated
# requests to the "IPVS" family; as root every request that writes carries a defect the C ip_vs
# certainly rejects, so the configuration made with ipvsadm must read back exactly as before.
# The same runs against the C ip_vs first check the fuzzer itself: there the configuration must
# not change either and every answer must be the one nlfuzz predicts. Then an unprivileged
# caller: ipvsadm, ipvsctl and nlfuzz (valid FLUSH included) must all get EPERM and change
# nothing. No kernel report, no leak.
. ./lib.sh

command -v nlfuzz >/dev/null || skip "nlfuzz not installed"

seeds="1 2"
# Requests per seed: 2,000 on the debug kernel (5,000 took 160 s there, the perf kernel's
# run sends them all).
count=5000
debug_kernel && count=2000

# The configuration: a TCP rr service with three NAT dests of different weights, a persistent
# UDP wrr one, an fwmark sh one, an IPv6 one, and non-default timeouts.
configure() {
	run ipvsadm -A -t 10.0.0.1:80 -s rr
	run ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 1
	run ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 2
	run ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.3:8080 -m -w 5
	run ipvsadm -A -u 10.0.0.1:53 -s wrr -p 600
	run ipvsadm -a -u 10.0.0.1:53 -r 10.0.1.1:53 -m -w 3
	run ipvsadm -a -u 10.0.0.1:53 -r 10.0.1.2:53 -m -w 1
	run ipvsadm -A -f 7 -s sh
	run ipvsadm -a -f 7 -r 10.0.1.9 -m -w 4
	run ipvsadm -A -t [2001:db8::1]:80 -s rr
	run ipvsadm -a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -m
	run ipvsadm --set 100 20 30
}

# Everything the configuration reads back as, with exit statuses.
snapshot() {
	local cmd
	for cmd in "ipvsadm -S -n" "ipvsadm -Ln --nosort -t 10.0.0.1:80" "ipvsadm -L --timeout" \
		"ipvsadm -L --daemon"; do
		echo "\$ $cmd"
		$cmd 2>&1
		echo "[exit $?]"
	done
}

# Runs nlfuzz with one seed, logging one line per request to $2; fails on an exit status other
# than 0, or on a request the kernel accepted although the C ip_vs rejects it.
fuzz() {
	local seed=$1 log=$2 out rc
	out=$(nlfuzz --count $count --seed "$seed" --log "$log" 2>&1)
	rc=$?
	echo "$out"
	[ $rc -eq 0 ] || fail "nlfuzz --seed $seed exited $rc"
	case $(echo "$out" | tail -n 1) in
	*" unexpected_ok=0 "*) ;;
	*) fail "nlfuzz --seed $seed: the kernel accepted requests the C ip_vs rejects" ;;
	esac
	case $(echo "$out" | tail -n 1) in
	*" timeout=0 "*) ;;
	*) fail "nlfuzz --seed $seed: requests got no answer" ;;
	esac
}

# Compares two nlfuzz logs of the same requests: one line per kind of difference (command and
# both answers) with its count and the first request index.
answer_diff() {
	local re='^([0-9]+) (cmd=[0-9]+) .* got=(.*) [A-Z_a-z]+$'
	paste -d'|' <(sed -E "s/$re/\\1|\\2|\\3/" "$1") <(sed -E "s/$re/\\3/" "$2") |
		awk -F'|' '$3 != $4 {
			key = sprintf("%-7s C=%-14s rust=%s", $2, $3, $4)
			if (!(key in n)) first[key] = $1
			n[key]++
		}
		END { for (k in n) printf "%6d  %s  (first #%s)\n", n[k], k, first[k] }' | sort -rn
}

# The C ip_vs: the fuzzer's own check. Its predictions must hold and nothing may change. On
# the debug kernel (as differential in lib.sh) only the configuration is taken from C: the
# requests go to rust_ipvs alone, checked against nlfuzz's predictions; the answer-by-answer
# comparison with C is the perf kernel's.
fuzz_c=1
debug_kernel && [ "${DIFFERENTIAL_ON_DEBUG:-0}" != 1 ] && fuzz_c=0
IPVS_IMPL=c ipvs_load
configure
want=$(snapshot)
if [ $fuzz_c = 1 ]; then
	for seed in $seeds; do
		log "C ip_vs, seed $seed:"
		fuzz "$seed" "/tmp/nlfuzz.c.$seed"
	done
	expect_eq "C ip_vs configuration after fuzzing" "$want" "$(snapshot)"
	for seed in $seeds; do
		n=$(grep -c -v ' ok$' "/tmp/nlfuzz.c.$seed")
		if [ "$n" -ne 0 ]; then
			grep -v ' ok$' "/tmp/nlfuzz.c.$seed" | head -20
			fail "nlfuzz's model of the C ip_vs is wrong for $n requests (seed $seed)"
		fi
	done
fi
# The C schedulers stay in use while services exist.
run ipvsadm -C
ipvs_unload

# rust_ipvs: the same configuration, the same requests.
IPVS_IMPL=rust ipvs_load
configure
got=$(snapshot)
expect_eq "configuration (rust_ipvs vs C ip_vs)" "$want" "$got"
for seed in $seeds; do
	log "rust_ipvs, seed $seed:"
	fuzz "$seed" "/tmp/nlfuzz.rust.$seed"
	# Same requests, so the answers should match the C ip_vs's line for line. Differences
	# that cannot change the configuration (another errno, an error for a read) are listed;
	# they fail the test only with CTL_FUZZ_STRICT=1.
	if [ $fuzz_c = 1 ] && ! cmp -s "/tmp/nlfuzz.c.$seed" "/tmp/nlfuzz.rust.$seed"; then
		diffs=$(answer_diff "/tmp/nlfuzz.c.$seed" "/tmp/nlfuzz.rust.$seed")
		n=$(echo "$diffs" | awk '{ n += $1 } END { print n }')
		log "rust_ipvs answers $n requests of seed $seed unlike the C ip_vs" \
			"(count, command, answers, first request):"
		echo "$diffs"
		# The first request of each kind, with its bytes (sending it again is as safe).
		for index in $(echo "$diffs" | sed -n 's/.*(first #\([0-9]*\))$/\1/p' | head -8); do
			nlfuzz --seed "$seed" --only "$index" --verbose | grep -v '^nlfuzz: seed='
		done
		[ "${CTL_FUZZ_STRICT:-0}" = 1 ] && fail "answers differ from the C ip_vs (seed $seed)"
	fi
done
expect_eq "rust_ipvs configuration after fuzzing" "$want" "$(snapshot)"

# Unprivileged callers: EPERM for everything, nothing changes.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
unprivileged() {
	local out rc
	out=$(as_nobody "$@" 2>&1)
	rc=$?
	log "nobody\$ $* -> exit $rc: $out"
	[ $rc -ne 0 ] || fail "unprivileged '$*' succeeded"
	case $out in
	*"Permission denied"*) ;;
	*) fail "unprivileged '$*': no 'Permission denied' in: $out" ;;
	esac
}
unprivileged ipvsadm -A -t 10.9.9.9:80 -s rr
unprivileged ipvsadm -C
unprivileged ipvsadm -Ln
[ -x /usr/bin/ipvsctl ] && unprivileged ipvsctl flush
# nlfuzz without CAP_NET_ADMIN sends valid writes too, FLUSH included; --strict: every answer
# must be EPERM (or the EOPNOTSUPP / EINVAL the core gives before the permission check).
out=$(as_nobody nlfuzz --count 1000 --seed 3 --strict 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "unprivileged nlfuzz: answers other than EPERM (exit $rc)"
expect_eq "configuration after unprivileged requests" "$want" "$(snapshot)"

# Unloaded with the configuration in place: module exit frees it all.
ipvs_unload
rm -f /tmp/nlfuzz.c.* /tmp/nlfuzz.rust.*
exit $ksft_pass
