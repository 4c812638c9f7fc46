#!/bin/bash
# The other ways through the director, differential against the C ip_vs: a client on the
# director itself (request at LOCAL_OUT, reply at LOCAL_IN); a real server's ICMP port
# unreachable reaching the client as if from the virtual service (ip_vs_out_icmp at FORWARD);
# nat_icmp_send, which answers a NAT real server's packet without a connection with ICMP port
# unreachable and drops it instead of forwarding it (and stops when an edit makes it direct
# routing); and sloppy_tcp, with which a lone ACK starts a connection; one-packet
# scheduling.
. ./lib.sh
. ./topology.sh

scenario() {
	topo_up
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -A -u $VIP:5353 -s rr
	in_director ipvsadm -A -u $VIP:8888 -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 -m
	done
	# Nothing listens on these ports of rs1.
	in_director ipvsadm -a -u $VIP:5353 -r $(rs_addr rs1):5353 -m
	in_director ipvsadm -a -u $VIP:8888 -r $(rs_addr rs1):8888 -m
	local seq="" i
	for i in 1 2 3 4; do
		seq="$seq $(in_director socat -T 3 - TCP:$VIP:80,connect-timeout=3 </dev/null 2>&1)"
	done
	echo "client on the director:$seq"
	echo "client on the director, from 172.16.0.1: $(in_director socat -T 3 - \
		TCP:$VIP:80,bind=172.16.0.1,connect-timeout=3 </dev/null 2>&1)"
	echo "routed client after them: $(tcp_request)"
	echo "closed real server port: $(echo ping | in_client socat -T 2 - UDP:$VIP:5353 2>&1 |
		grep -o 'Connection refused' | head -1)"
	# nat_icmp_send applies to NAT real servers (the real-server table, which an edit of the
	# method hashes again): rs1's port 8888 as direct routing (1/-g), then NAT again (1/-m).
	local mode
	for mode in 0 1 1/-g 1/-m; do
		case $mode in
		*/*) in_director ipvsadm -e -u $VIP:8888 -r $(rs_addr rs1):8888 ${mode#*/} ;;
		esac
		in_director sysctl -qw net.ipv4.vs.nat_icmp_send=${mode%/*}
		in_client timeout 4 socat -u UDP-RECV:7777 - >/tmp/client.$$ 2>/dev/null &
		local receiver=$! rs_side
		sleep 0.5
		rs_side=$(echo "from rs1" | in_rs rs1 socat -T 2 - UDP:10.0.0.2:7777,sourceport=8888 2>&1 |
			grep -o 'Connection refused' | head -1)
		wait $receiver
		echo "nat_icmp_send=$mode: client received '$(cat /tmp/client.$$)', rs1 saw '$rs_side'"
	done
	rm -f /tmp/client.$$
	# sloppy_tcp: a TCP connection may start with any packet but RST, here a lone ACK (raw, its
	# checksum left 0) from port 4242 (sloppy_tcp=0) and 4243 (sloppy_tcp=1).
	local sport
	for mode in 0 1; do
		in_director sysctl -qw net.ipv4.vs.sloppy_tcp=$mode
		sport=$(printf '\\x10\\x%02x' $((0x92 + mode)))
		printf "$sport"'\x00\x50\x00\x00\x00\x01\x00\x00\x00\x01\x50\x10\x72\x10\x00\x00\x00\x00' |
			in_client socat -u - IP4-SENDTO:$VIP:6
	done
	in_director sysctl -qw net.ipv4.vs.sloppy_tcp=0
	echo "lone ACKs: $(in_director ipvsadm -Lcn | awk 'NR > 2 && $4 ~ /:424[23]$/ { print $1, $3, $4 }')"
	# One-packet scheduling (-o): each UDP datagram is scheduled on its own, even four from one
	# socket, and leaves no connection behind.
	in_director ipvsadm -A -u $VIP:5454 -s rr -o
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -u $VIP:5454 -r $(rs_addr $rs):53 -m
	done
	in_client bash -c "exec 3>/dev/udp/$VIP/5454; for i in 1 2 3 4; do echo \$i >&3; done"
	echo "one-packet connections listed: $(in_director ipvsadm -Lcn | grep -c "$VIP:5454")"
	in_director ipvsadm -Ln -u $VIP:5454
	c_estimator_settle
	stats_counts
	echo "connections:"
	list_connections
	topo_down
}

differential "director-local client, ICMP and nat_icmp_send" scenario
got_has '^client on the director: rs3 rs2 rs1 rs3$' "client on the director"
got_has '^closed real server port: Connection refused$' "ICMP from a real server"
got_has "^nat_icmp_send=0: client received 'from rs1', rs1 saw ''$" "nat_icmp_send=0"
got_has "^nat_icmp_send=1: client received '', rs1 saw 'Connection refused'$" \
	"nat_icmp_send=1"
got_has "^nat_icmp_send=1/-g: client received 'from rs1', rs1 saw ''$" \
	"nat_icmp_send=1, the real server edited to direct routing"
got_has "^nat_icmp_send=1/-m: client received '', rs1 saw 'Connection refused'$" \
	"nat_icmp_send=1, the real server edited back to NAT"
got_has '^lone ACKs: TCP [A-Z_]* 10.0.0.2:4243$' "sloppy_tcp"
got_has '^one-packet connections listed: 0$' "one-packet connections listed"
echo "$got" | grep -A3 '^UDP 10.0.0.1:5454' | grep -q '^-> 172.16.0.13:53 2 2' || fail "one-packet scheduling"
log "identical to the C ip_vs"
exit $ksft_pass
