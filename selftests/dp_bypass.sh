#!/bin/bash
# The director as its own real server, and the cache bypass, differential against the C ip_vs:
# a NAT real server at one of the director's addresses (DNAT to a local listener), a direct
# routing one (the packet delivered as it came), a local-node one (IP_VS_CONN_F_LOCALNODE,
# which only ipvsctl sets) and rr between a remote and a local real server; then a cache
# cluster's fwmark service with no real server, for the director's own marked traffic (the
# guest kernel has no policy routing to bring clients' traffic to it): port unreachable
# without cache_bypass, and with it TCP and UDP flows go on to their own destinations
# (ip_vs_bypass_xmit), as connections to 0.0.0.0:0.
. ./lib.sh
. ./topology.sh

# A listener in the director on PORT answering NAME.
director_listener() {
	in_director socat TCP-LISTEN:$1,fork,reuseaddr SYSTEM:"echo $2" </dev/null >/dev/null 2>&1 &
}

listening() { in_director ss -ltn | grep -q ":$1 "; }

udp_listening() { in_rs $1 ss -lun | grep -q ":$2 "; }

scenario() {
	topo_up
	responders_up
	director_listener 9090 director-nat
	director_listener 91 director-dr
	director_listener 92 director-local
	for port in 9090 91 92; do wait_until 10 listening $port; done
	in_director ipvsadm -A -t $VIP:90 -s rr
	in_director ipvsadm -a -t $VIP:90 -r $VIP:9090 -m
	in_director ipvsadm -A -t $VIP:91 -s rr
	in_director ipvsadm -a -t $VIP:91 -r $VIP:91 -g
	in_director ipvsctl service add --tcp $VIP:92 --scheduler rr
	in_director ipvsctl dest add --tcp $VIP:92 --real $VIP:92 --local
	in_director ipvsadm -A -t $VIP:93 -s rr
	in_director ipvsadm -a -t $VIP:93 -r $(rs_addr rs1):8080 -m
	in_director ipvsadm -a -t $VIP:93 -r 172.16.0.1:9090 -m
	echo "== the director as real server"
	echo "NAT: $(tcp_request 90)"
	echo "DR: $(tcp_request 91)"
	echo "local node: $(tcp_request 92)"
	echo "rr, remote and local: $(for _ in 1 2 3 4; do tcp_request 93; done | paste -s -d ' ')"
	in_director ipvsadm -Ln
	list_connections

	echo "== cache cluster without real servers"
	# The director's own web and DNS traffic is marked, as a transparent cache's clients' would
	# be (routed to it): IPVS meets it at LOCAL_OUT.
	in_director nft -f - <<-EOF
		table ip cache {
			chain out {
				type route hook output priority mangle; policy accept;
				ip daddr 172.16.0.0/24 tcp dport 8080 meta mark set 1
				ip daddr 172.16.0.0/24 udp dport 5353 meta mark set 1
			}
		}
	EOF
	in_rs rs2 ipvsbench server --tcp-port 9080 --udp-port 5353 --threads 1 --reply "rs2"$'\n' \
		--udp-reply </dev/null >/dev/null 2>&1 &
	wait_until 10 udp_listening rs2 5353
	in_director ipvsadm -A -f 1 -s rr
	echo "cache_bypass=0: $(in_director socat -T 5 - TCP:$(rs_addr rs1):8080,connect-timeout=3 </dev/null 2>&1 | socat_messages)"
	in_director sysctl -qw net.ipv4.vs.cache_bypass=1
	echo "cache_bypass=1, TCP: $(in_director socat -T 5 - TCP:$(rs_addr rs1):8080,connect-timeout=3 </dev/null 2>&1 | socat_messages)"
	echo "cache_bypass=1, UDP: $(echo ping | in_director socat -T 2 -t 2 - UDP:$(rs_addr rs2):5353,sourceport=42000 2>&1 | socat_messages)"
	# The flows' connections, to no real server.
	in_director ipvsadm -Lcn | awk 'NR > 2 && $6 == "0.0.0.0:0" { split($4, c, ":"); print $1, $3, c[1], $5, $6 }' | sort
	in_director ipvsadm -Ln -f 1
	topo_down
}

differential "local real servers and cache bypass" scenario
got_has '^NAT: director-nat$' "NAT to a local real server"
got_has '^local node: director-local$' "local node"
got_has '^cache_bypass=1, TCP: rs1$' "TCP cache bypass"
got_has '^cache_bypass=1, UDP: rs2$' "UDP cache bypass"
got_has '^cache_bypass=0: .*Connection refused$' "port unreachable without bypass"
log "identical to the C ip_vs"
exit $ksft_pass
