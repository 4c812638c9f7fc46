#!/bin/bash
# The connection table grows and shrinks with its count as C 7.3's (conn_lfactor, the
# conn_tab_bits ceiling), differential against the C ip_vs: the size GET_INFO and
# /proc/net/ip_vs report, grown right after a burst of 2,000 new UDP connections (the insert
# that crosses the threshold queues the resize at once, as C's ip_vs_conn_hash does; a
# periodic check would leave the burst on 256 chains for up to its period), connections that
# all survive the move to the grown table, a second and third pass of the same client tuples (the second racing the resize)
# that find every connection again (2,000 connections counted, not more), the shrink once
# they expired, and the conn_lfactor sysctl and its range; /proc/net/ip_vs_conn and
# ip_vs_conn_sync, listed chain by chain, with every connection; and (perf kernel) the size of
# a connection in rust_ipvs's own slab cache, at most 192 bytes.
. ./lib.sh
. ./topology.sh

command -v ipvsbench >/dev/null || skip "ipvsbench is not in the guest"
port=8053

# The table size from GET_INFO (ipvsadm's banner) and from /proc/net/ip_vs.
sizes() {
	echo "$(in_director ipvsadm -Ln | head -1 | grep -o 'size=[0-9]*')" \
		"$(in_director head -1 /proc/net/ip_vs | grep -o 'size=[0-9]*')"
}

size_is() { [ "$(sizes)" = "size=$1 size=$1" ]; }

# Connections in /proc/net/ip_vs_conn.
conn_count() { echo $(($(in_director cat /proc/net/ip_vs_conn | wc -l) - 1)); }

# The service's connection and packet counters.
counted() {
	in_director ipvsadm -Ln --stats | awk '$1 == "UDP" { print "counted:", $3, "connections,", $4, "packets" }'
}

# Whether the table is back at its smallest size with every connection gone: the shrink is
# queued when the count falls below the threshold, while the last connections still expire.
expired_all() { size_is 256 && [ "$(conn_count)" = 0 ]; }

# Whether the counters show the three passes.
counted_all() { [ "$(counted)" = "counted: 2000 connections, 6000 packets" ]; }

flood() {
	local out
	out=$(in_client ipvsbench udp-conns --target $VIP:$port --count 2000) || fail "udp-conns: $out"
}

scenario() {
	topo_up
	responders_up
	local rs
	echo "conn_lfactor: $(in_director sysctl -n net.ipv4.vs.conn_lfactor)"
	echo "conn_lfactor=9: $(in_director sysctl -qw net.ipv4.vs.conn_lfactor=9 2>&1 | grep -o 'Invalid argument')"
	echo "before any service: $(sizes)"
	# Long enough for the slow debug kernel to list them all; a fourth pass with a 2 s
	# timeout (UDP connections take the current timeout at each packet) expires them.
	in_director ipvsadm --set 0 0 120
	in_director ipvsadm -A -u $VIP:$port -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -u $VIP:$port -r $(rs_addr $rs):$port -m
	done
	echo "first service: $(sizes)"
	flood
	echo "right after 2000 new connections: $(sizes)"
	flood
	wait_until 10 size_is 4096
	flood
	echo "2000 connections: $(sizes), $(conn_count) in the table"
	# Both listings, streamed chain by chain: their headers, line counts and first lines in
	# order of the client tuple, the expiry masked.
	local file
	for file in ip_vs_conn ip_vs_conn_sync; do
		in_director head -1 /proc/net/$file
		echo "$file: $(in_director cat /proc/net/$file | wc -l) lines"
		in_director tail -n +2 /proc/net/$file | awk '{ $NF = "-"; print }' | sort | head -3
	done
	# C sums its per-CPU counters at each estimation (every 2 s): wait for the last pass.
	wait_until 10 counted_all
	counted
	in_director ipvsadm --set 0 0 2
	flood
	wait_until 60 expired_all
	echo "expired: $(sizes), $(conn_count) in the table"
	topo_down
}

differential "connection table size" scenario
got_has '^right after 2000 new connections: size=4096 size=4096$' "growth at once"
got_has '^2000 connections: size=4096 size=4096, 2000 in the table$' "grown table"
got_has '^counted: 2000 connections, 6000 packets$' "lookups across the resize"
got_has '^ip_vs_conn: 2001 lines$' "/proc/net/ip_vs_conn"
got_has '^ip_vs_conn_sync: 2001 lines$' "/proc/net/ip_vs_conn_sync"
# A connection takes 184 bytes of rust_ipvs's own slab cache (C: 320 of ip_vs_conn); the
# debug kernel's lock and slab debugging make both bigger.
if ! debug_kernel; then
	IPVS_IMPL=rust ipvs_load
	size=$(cat /sys/kernel/slab/rust_ipvs_conn/slab_size 2>/dev/null)
	ipvs_unload
	[ -n "$size" ] && [ "$size" -le 192 ] ||
		fail "a connection's slab object: ${size:-no rust_ipvs_conn cache} bytes (at most 192)"
	log "a connection takes $size bytes of the rust_ipvs_conn slab cache"
fi
log "identical to the C ip_vs"
exit $ksft_pass
