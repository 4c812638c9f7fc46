#!/bin/bash
# Connection expiry at scale, differential against the C ip_vs: 10,000 UDP connections from
# distinct client tuples, sent twice more while the first ones expire (lookups racing the
# expiry of the connections they find), then left to expire. Every real server must be back
# at 0 active / 0 inactive connections and the connection table empty, under both modules:
# a connection unlinked under a packet using it, or counted after its release, leaves the
# counts wrong for good.
. ./lib.sh
. ./topology.sh

command -v ipvsbench >/dev/null || skip "ipvsbench is not in the guest"
port=8053

# The real servers' columns of the listing: address, forwarding, weight, active, inactive.
listing() {
	in_director ipvsadm -Ln | awk 'NR > 3 { print $1, $2, $3, $4, $5, $6 }'
}

# Whether every real server is at 0 active and 0 inactive and no connection is left.
all_expired() {
	[ -z "$(in_director ipvsadm -Ln | awk 'NR > 3 && $1 == "->" && ($5 != 0 || $6 != 0)')" ] &&
		[ "$(in_director cat /proc/net/ip_vs_conn | wc -l)" = 1 ]
}

scenario() {
	topo_up
	responders_up
	local rs
	in_director ipvsadm --set 0 0 4
	in_director ipvsadm -A -u $VIP:$port -s wlc
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -u $VIP:$port -r $(rs_addr $rs):$port -m
	done
	local pass out
	for pass in 1 2 3; do
		out=$(in_client ipvsbench udp-conns --target $VIP:$port --count 10000) ||
			fail "udp-conns: $out"
		echo "pass $pass: $(echo "$out" | tr ' ' '\n' | grep '^sent=')"
	done
	[ "$(in_director cat /proc/net/ip_vs_conn | wc -l)" -gt 1 ] || fail "no connection after the flood"
	wait_until 60 all_expired
	echo "after expiry:"
	listing
	echo "connections left: $(($(in_director cat /proc/net/ip_vs_conn | wc -l) - 1))"
	topo_down
}

differential "expiry of 10,000 connections" scenario
got_has '^connections left: 0$' "connections left after expiry"
log "identical to the C ip_vs"
exit $ksft_pass
