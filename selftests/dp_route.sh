#!/bin/bash
# The route toward a real server (C: __ip_vs_get_out_rt), differential against the C ip_vs:
# path MTU discovery across a link smaller than the client's ("fragmentation needed" from the
# director lets a bulk upload through), a real server without a route (host unreachable to the
# client), and a packet whose TTL runs out at the director (time exceeded to the client).
# Then the route a real server's packets leave by, which both cache per real server (C:
# dest_dst): a routing change (a blackhole route), the real servers' link going down and up,
# an edit of the real server, and the link deleted while its route is cached (whose device
# must not be held: the deletion would hang).
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

# The first line of the answer to one request to :80, or how it failed.
answer() { tcp_request | grep -o 'No route to host\|Connection refused\|timed out\|rs[0-9]' | head -1; }

cache_scenario() {
	topo_up
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -a -t $VIP:80 -r $(rs_addr rs1):80 -m
	echo "cached: $(answer) $(answer)"
	in_director ip route add blackhole $(rs_addr rs1)/32
	echo "blackhole route: $(answer)"
	in_director ip route del blackhole $(rs_addr rs1)/32
	echo "route back: $(answer)"
	ip -n $topo_ns_director link set br0 down
	echo "link down: $(answer)"
	ip -n $topo_ns_director link set br0 up
	echo "link up: $(answer)"
	# An edit empties the cache: the next packet looks the route up again.
	in_director ipvsadm -e -t $VIP:80 -r $(rs_addr rs1):80 -m -w 2
	echo "edited: $(answer)"
	in_director ipvsadm -Ln | sed -n '4,$p'
	ip -n $topo_ns_director link del br0
	echo "link deleted: $(answer)"
	topo_down
}

differential "route scenario" scenario
got_has '^300 KB upload across a 1280-byte link: identical$' "PMTU upload"
got_has "^client's path MTU to the VIP: mtu 1280$" "fragmentation needed"
got_has '^unroutable real server: No route to host$' "host unreachable"
got_has '^TTL 1: No route to host$' "time exceeded"
got_has '^TTL 2: rs2$' "TTL 2 forwarded"
differential "route cache scenario" cache_scenario
got_has '^cached: rs1 rs1$' "cached route"
got_has '^blackhole route: No route to host$' "routing change"
got_has '^route back: rs1$' "route back"
got_has '^link down: No route to host$' "link down"
got_has '^link up: rs1$' "link up"
got_has '^edited: rs1$' "edited"
got_has '^link deleted: No route to host$' "link deleted"
log "identical to the C ip_vs"
exit $ksft_pass
