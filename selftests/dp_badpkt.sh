#!/bin/bash
# Bad and unusual packets at the virtual service, differential against the C ip_vs: truncated
# TCP/UDP headers, bogus ICMP errors (truncated embedded headers, unknown connections, bad
# checksums), IP options, fragmented datagrams, and a UDP checksum that NAT makes 0. No kernel report (the runner checks), and
# the same outcome, connections and counters as C.
. ./lib.sh
. ./topology.sh

# Answers to UDP requests get 3 s (a real server forks a shell per datagram), not socat's 0.5.
UDP_REPLY_WAIT=3

# Sends raw IP payload bytes (printf escapes) to the VIP with IP protocol $1.
raw() {
	printf "$2" | in_client socat -u - IP4-SENDTO:$VIP:$1 2>&1
}

scenario() {
	topo_up
	rr_services_up
	echo "first: $(tcp_request)"
	# Truncated transport headers.
	raw 6 '\x30\x39'
	raw 6 '\x30\x39\x00\x50\x00\x00\x00\x01\x00\x00\x00\x00'
	raw 17 '\x30\x39'
	# ICMP port unreachable with a truncated embedded header.
	raw 1 '\x03\x03\x00\x00\x00\x00\x00\x00\x45\x00\x00'
	# ... with an embedded TCP header but no ports.
	raw 1 '\x03\x03\x00\x00\x00\x00\x00\x00\x45\x00\x00\x28\x00\x00\x00\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02'
	# ... about a connection that does not exist (bad checksum too).
	raw 1 '\x03\x03\xde\xad\x00\x00\x00\x00\x45\x00\x00\x28\x00\x00\x00\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x50\x30\x39\x00\x00\x00\x00'
	# ... an echo request and an unknown type.
	raw 1 '\x08\x00\xf7\xff\x00\x00\x00\x00'
	raw 1 '\x2a\x00\xd5\xff\x00\x00\x00\x00'
	echo "after bad packets: $(tcp_request)"
	# IP options (router alert) on a real connection.
	echo "ip options: $(in_client socat -T 3 - TCP:$VIP:80,connect-timeout=3,ip-options='\x94\x04\x00\x00' </dev/null 2>&1)"
	# A fragmented datagram: 4000 bytes over a 1500 MTU, reassembled before the hooks.
	echo "fragmented udp: $(head -c 4000 /dev/zero | in_client socat -T 2 -t $UDP_REPLY_WAIT - \
		UDP:$VIP:53 2>&1)"
	echo "after: $(tcp_request) $(udp_request)"
	# A UDP datagram with a full checksum (a raw socket's, not offloaded) that NAT to rs1:53
	# turns into 0, which UDP reads as "no checksum": C writes 0xffff (CSUM_MANGLED_0). From
	# 10.0.0.2:40002 to port 5300, payload "hi" and two bytes chosen for that sum.
	in_director ipvsadm -A -u $VIP:5300 -s rr
	in_director ipvsadm -a -u $VIP:5300 -r $(rs_addr rs1):53 -m
	in_rs rs1 nft add table ip csum
	in_rs rs1 nft add chain ip csum in '{ type filter hook input priority 0; }'
	in_rs rs1 nft add rule ip csum in udp dport 53 udp checksum 0 counter
	in_rs rs1 nft add rule ip csum in udp dport 53 udp checksum 0xffff counter
	# rs1 answers to 10.0.0.2:40002, where nothing listens: the client drops that answer, or
	# its ICMP port unreachable (sent or not as its rate limit allows) counts as a packet in.
	in_client nft add table ip quiet
	in_client nft add chain ip quiet in '{ type filter hook input priority 0; }'
	in_client nft add rule ip quiet in udp sport 5300 drop
	raw 17 '\x9c\x42\x14\xb4\x00\x0c\x8d\x9b\x68\x69\x44\xd8'
	wait_until 5 eval "in_rs rs1 nft list chain ip csum in | grep -q 'packets [1-9]'"
	echo "udp checksum at the real server:" $(in_rs rs1 nft list chain ip csum in |
		sed -n 's/.*checksum \([0-9a-fx]*\) counter packets \([0-9]*\).*/\1:\2/p')
	# rs1's answer through the director, and every TCP connection closed (TIME_WAIT), before
	# the counters and connections are shown.
	wait_until 30 eval "in_director ipvsadm -Ln --stats -u $VIP:5300 | awk 'NR == 4 { exit !(\$5 > 0) }'"
	wait_until 10 eval "! in_director ipvsadm -Lcn | grep TCP | grep -qv TIME_WAIT"
	stats_counts
	echo "connections:"
	list_connections
	topo_down
}

differential "bad packets" scenario
got_has '^udp checksum at the real server: 0:0 ' "a UDP checksum of 0 left as no checksum"
log "identical to the C ip_vs"
exit $ksft_pass
