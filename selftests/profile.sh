#!/bin/bash
# Where the director's CPU time goes, C ip_vs vs rust_ipvs (not a test: not listed in TESTS;
# run it with `scripts/vm.sh --kernel $(scripts/kernel.sh --print perf) profile.sh`).
#
# For each implementation in turn, a spoofed SYN flood (every SYN a new connection, as a
# connection-rate benchmark's first packet) and a UDP new-flow flood go through the NAT
# service while `perf record` samples every CPU (cpu-clock: TCG emulates no PMU); the report
# lists the kernel symbols with the most samples, the module's own first. PROFILE_SYNS (60000)
# and PROFILE_SECONDS (10) size the loads.
. ./lib.sh
. ./topology.sh

syns=${PROFILE_SYNS:-60000}
secs=${PROFILE_SECONDS:-10}
command -v perf >/dev/null || skip "no perf in the guest (install linux-perf on the host)"

# Samples the whole guest while "$@" runs, then prints the top symbols.
profiled() {
	local data=/tmp/perf.$$.data
	perf record -q -a -g -e cpu-clock -o $data -- "$@" >/dev/null 2>&1
	perf report -i $data --stdio --no-children --sort sym --kallsyms=/proc/kallsyms 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -30
	echo "module share: $(perf report -i $data --stdio --no-children --sort dso 2>/dev/null |
		grep -E '\[(ip_vs|rust_ipvs|ip_vs_rr)\]' | awk '{ s += $1 } END { print s + 0 "%" }')"
	rm -f $data
}

run() {
	local impl=$1 out
	IPVS_IMPL=$impl ipvs_load
	topo_up
	rr_services_up 9000
	echo "=== $impl: $syns spoofed SYNs"
	profiled ip netns exec $topo_ns_client ipvsbench syn-flood --target $VIP:80 --count $syns
	echo "=== $impl: UDP new flows for $secs s"
	profiled ip netns exec $topo_ns_client ipvsbench udp-flood --target $VIP:9000 --seconds $secs --threads 2
	topo_down
	ipvs_unload
}

run c
run rust
exit $ksft_pass
