#!/bin/bash
# schedule_icmp, differential against the C ip_vs: an ICMP error from a client about a packet
# of no connection (port unreachable, quoting a packet from the virtual service to the client)
# is left alone while the sysctl is 0; with 1 the quoted packet's connection is scheduled (rr:
# each error to the next real server, TCP and UDP) and the error reaches that real server,
# rewritten by NAT. A quote with a bad ICMP checksum still schedules, and is then dropped; a
# one-packet service's connection ends with its error.
. ./lib.sh
. ./topology.sh

# Sends the client's ICMP port unreachable to the VIP quoting an IPv4 packet of protocol $1
# from the VIP's port $2 to the client's port $3; $4, if given, replaces the checksum.
icmp_error() {
	local hex sum=0 i
	hex=$(printf '0303000000000000450000280000000040%02x00000a0000010a000002%04x%04x00000000' \
		"$1" "$2" "$3")
	for ((i = 0; i < ${#hex}; i += 4)); do sum=$((sum + 16#${hex:i:4})); done
	while ((sum >> 16)); do sum=$(((sum & 0xffff) + (sum >> 16))); done
	hex=${hex:0:4}$(printf '%04x' "${4:-$((~sum & 0xffff))}")${hex:8}
	printf "$(echo "$hex" | sed 's/../\\x&/g')" | in_client socat -u - IP4-SENDTO:$VIP:1 2>&1
}

# The ICMP destination-unreachable messages each real server has received.
received() {
	local rs
	for rs in "${topo_real_servers[@]}"; do
		echo -n "$rs:$(unreachables ip in_rs $rs) "
	done
	echo
}

# Whether the real servers received $1 errors in all.
received_all() { [ "$(received | tr ' ' '\n' | awk -F: '{ s += $2 } END { print s }')" = "$1" ]; }

scenario() {
	topo_up
	rr_services_up
	local rs
	for rs in "${topo_real_servers[@]}"; do count_unreachables ip in_rs $rs; done
	icmp_error 6 80 40001
	echo "schedule_icmp=0: $(($(in_director ipvsadm -Lcn | wc -l) - 2)) connections"
	in_director sysctl -qw net.ipv4.vs.schedule_icmp=1
	icmp_error 6 80 40001
	icmp_error 6 80 40002
	icmp_error 17 53 40003
	wait_until 10 received_all 3
	icmp_error 6 80 40004 4660
	# A one-packet service's connection ends with the error it was scheduled for.
	in_director ipvsadm -A -u $VIP:54 -s rr -o
	in_director ipvsadm -a -u $VIP:54 -r $(rs_addr rs1):53 -m
	icmp_error 17 54 40005
	wait_until 10 received_all 4
	echo "one-packet: $(in_director ipvsadm -Ln -u $VIP:54 | awk '$1 == "->" && $2 != "RemoteAddress:Port" { print $5, $6 }'), $(in_director cat /proc/net/ip_vs_conn | grep -c ' 0036 ') listed"
	echo "received: $(received)"
	# The connections an error makes see no state transition and expire within seconds (the
	# debug kernel's process starts outlast them): their counts stand for them.
	c_estimator_settle
	in_director ipvsadm -Ln --stats | awk 'NR > 3 { print $1, $2, $3, $4, $5 }'
	topo_down
}

differential "schedule_icmp" scenario
got_has '^schedule_icmp=0: 0 connections$' "an ICMP error scheduled with schedule_icmp=0"
got_has '^UDP 10.0.0.1:53 1 1 0$' "the UDP error's connection and packet counted"
got_has '^TCP 10.0.0.1:80 3 2 0$' "the TCP errors' connections and packets counted"
got_has '^received: rs1:1 rs2:1 rs3:2 $' "the errors at their real servers"
got_has '^one-packet: 0 0, 0 listed$' "a one-packet connection left by its error"
log "identical to the C ip_vs"
exit $ksft_pass
