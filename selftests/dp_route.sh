#!/bin/bash
# The route toward a real server (C: __ip_vs_get_out_rt), differential against the C ip_vs:
# path MTU discovery across a link smaller than the client's ("fragmentation needed" from the
# director lets a bulk upload through), a real server without a route (host unreachable to the
# client), and a packet whose TTL runs out at the director (time exceeded to the client).
. ./lib.sh
. ./topology.sh

scenario() {
	topo_up
	# The real servers' side of the director takes 1280-byte packets; the client sends 1500.
	ip -n $topo_ns_director link set br0 mtu 1280
	in_director ipvsadm -A -t $VIP:8080 -s rr
	in_director ipvsadm -a -t $VIP:8080 -r $(rs_addr rs1):8080 -m
	echo "300 KB upload across a 1280-byte link: $(upload 8080 300000)"
	echo "client's path MTU to the VIP: $(in_client ip route get $VIP | grep -o 'mtu [0-9]*')"
	# A real server the director has no route to.
	in_director ipvsadm -A -t $VIP:8082 -s rr
	in_director ipvsadm -a -t $VIP:8082 -r 192.0.2.7:80 -m
	echo "unroutable real server: $(tcp_request 8082 | grep -o 'No route to host' | head -1)"
	# TTL 1: the director may deliver the packet to itself but not forward it.
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -a -t $VIP:80 -r $(rs_addr rs2):80 -m
	echo "TTL 1: $(in_client socat -T 3 - TCP:$VIP:80,ttl=1,connect-timeout=3 </dev/null 2>&1 |
		grep -o 'No route to host' | head -1)"
	echo "TTL 2: $(in_client socat -T 3 - TCP:$VIP:80,ttl=2,connect-timeout=3 </dev/null 2>&1)"
	topo_down
}

differential "route scenario" scenario
echo "$got" | grep -q '^300 KB upload across a 1280-byte link: identical$' || fail "PMTU upload"
echo "$got" | grep -q "^client's path MTU to the VIP: mtu 1280$" || fail "fragmentation needed"
echo "$got" | grep -q '^unroutable real server: No route to host$' || fail "host unreachable"
echo "$got" | grep -q '^TTL 1: No route to host$' || fail "time exceeded"
echo "$got" | grep -q '^TTL 2: rs2$' || fail "TTL 2 forwarded"
log "identical to the C ip_vs"
exit $ksft_pass
