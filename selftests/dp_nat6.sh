#!/bin/bash
# The IPv6 data path, differential against the C ip_vs: through NAT a TCP rr sequence over
# three real servers, UDP requests, persistence with a /64 granularity across two clients of
# one prefix, a director-local client, a service without real servers answering "port
# unreachable" and a 2 MB upload intact; a real server's ICMPv6 port unreachable translated
# for the client; a direct routing rr sequence; the connections in ipvsadm -Lcn and the
# counters; with schedule_icmp, a client's ICMPv6 errors about packets of no connection
# scheduled to the real servers.
. ./lib.sh
. ./topology6.sh

scenario() {
	topology_up
	local rs
	in_director ipvsadm -A -t "[$VIP]:80" -s rr
	in_director ipvsadm -A -u "[$VIP]:53" -s rr
	in_director ipvsadm -A -t "[$VIP]:81" -s rr -p 60 -M 64
	in_director ipvsadm -A -t "[$VIP]:82" -s rr
	for rs in "${RS[@]}"; do
		in_director ipvsadm -a -t "[$VIP]:80" -r "[$(rs_addr $rs)]:8080" -m
		in_director ipvsadm -a -u "[$VIP]:53" -r "[$(rs_addr $rs)]:8053" -m
		in_director ipvsadm -a -t "[$VIP]:81" -r "[$(rs_addr $rs)]:8080" -m
	done
	echo "== TCP rr"
	sequence 80 6 fd00::10,fd00::11 30000
	echo "== UDP rr"
	echo "$(udp_request 40001) $(udp_request 40002) $(udp_request 40003)"
	echo "== persistence, one /64"
	sequence 81 6 fd00::10,fd00::11 30100
	echo "== director-local client"
	echo "$(in_director ipvsbench sequence --target "[$VIP]:80" --count 2 --timeout-ms 3000 2>&1)"
	echo "== no real server"
	in_client socat -T 3 - "TCP6:[$VIP]:82,connect-timeout=3" </dev/null 2>&1 | socat_messages
	echo "== 2 MB upload"
	in_director ipvsadm -A -t "[$VIP]:5001" -s rr
	in_director ipvsadm -a -t "[$VIP]:5001" -r "[$(rs_addr rs1)]:5001" -m
	in_rs rs1 socat -u TCP6-LISTEN:5001,reuseaddr CREATE:/tmp/nat6_received.$$ </dev/null \
		>/dev/null 2>&1 &
	local receiver=$!
	wait_until 10 listening rs1 5001
	head -c 2000000 /dev/urandom >/tmp/nat6_sent.$$
	in_client timeout 60 socat -u FILE:/tmp/nat6_sent.$$ "TCP6:[$VIP]:5001" || echo "client failed"
	wait_until 30 exited $receiver
	if cmp -s /tmp/nat6_sent.$$ /tmp/nat6_received.$$; then echo "identical"; else echo "DIFFERENT"; fi
	rm -f /tmp/nat6_sent.$$ /tmp/nat6_received.$$
	echo "== ICMPv6 errors"
	# A real server's port unreachable reaches the client, translated (its socket reports it).
	in_director ipvsadm -A -u "[$VIP]:54" -s rr
	in_director ipvsadm -a -u "[$VIP]:54" -r "[$(rs_addr rs1)]:8054" -m
	echo "from a real server: $(echo ping | in_client socat -T 2 - "UDP6:[$VIP]:54,sourceport=40010" 2>&1 |
		socat_messages | sed -E 's/0x[0-9a-f]+/0x.../g')"
	echo "== direct routing"
	# The client also on the real servers' link, so that their replies reach it directly;
	# the virtual address on the director's and the real servers' loopback.
	ip link add cb netns $ns_client type veth peer name vcl netns $ns_director
	ip -n $ns_director link set vcl master br0 up
	ip -n $ns_client addr add fd01::2/64 dev cb nodad
	ip -n $ns_client link set cb up
	ip -n $ns_client route add fd02::1/128 via fd01::1
	ip -n $ns_director addr add fd02::1/128 dev lo nodad
	in_director ipvsadm -A -t "[fd02::1]:8080" -s rr
	for rs in "${RS[@]}"; do
		ip -n ${rs}6_$$ addr add fd02::1/128 dev lo nodad
		in_director ipvsadm -a -t "[fd02::1]:8080" -r "[$(rs_addr $rs)]:8080" -g
	done
	in_client ipvsbench sequence --target "[fd02::1]:8080" --count 3 --source fd01::2 \
		--first-port 30200 --timeout-ms 3000 2>&1
	echo "== connections"
	list_connections6
	echo "== counters"
	stats_counts6
	echo "== schedule_icmp"
	# A client's port unreachable about a packet of no connection, quoting [VIP]:80 (TCP) and
	# [VIP]:53 (UDP) to its port 40021, 40022: scheduled, and sent on to the real server (the
	# raw socket fills in the checksum).
	in_director sysctl -qw net.ipv4.vs.schedule_icmp=1
	for rs in "${RS[@]}"; do count_unreachables ip6 in_rs $rs; done
	local quote proto port cport
	for quote in 06:0050:9c55 11:0035:9c56; do
		IFS=: read -r proto port cport <<<"$quote"
		printf "$(echo "0104000000000000600000000008${proto}40fd000000000000000000000000000001fd000000000000000000000000000002${port}${cport}00000000" |
			sed 's/../\\x&/g')" | in_client socat -u - "IP6-SENDTO:[$VIP]:58" 2>&1
	done
	wait_until 10 errors6_are 2
	echo "received: $(errors6)"
	topology_down
}

# The ICMPv6 destination-unreachable messages each real server received.
errors6() {
	local rs
	for rs in "${RS[@]}"; do
		echo -n "$rs:$(unreachables ip6 in_rs $rs) "
	done
}

# Whether the real servers received $1 of them in all.
errors6_are() { [ "$(errors6 | tr ' ' '\n' | awk -F: '{ s += $2 } END { print s }')" = "$1" ]; }

differential "IPv6 NAT" scenario
got_lacks '^FAIL' "a sequence failed"
expect_eq "TCP rr" "rs3 rs2 rs1 rs3 rs2 rs1" "$(echo "$got" | sed -n '/^== TCP rr$/{n;p}')"
expect_eq "DR rr" "rs3 rs2 rs1" "$(echo "$got" | sed -n '/^== direct routing$/{n;p}')"
got_has '^identical$' "the upload arrived damaged"
got_has '^from a real server: .*Connection refused$' "ICMPv6 from a real server"
echo "$got" | sed -n '/^== persistence/{n;p}' | {
	read -r a b c d e f
	[ "$a $b $c $d $e $f" = "$a $a $a $a $a $a" ] || fail "a /64 not kept on one server: $a $b $c $d $e $f"
}
log "identical to the C ip_vs"
exit $ksft_pass
