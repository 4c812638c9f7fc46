#!/bin/bash
# conntrack=1 with MASQUERADE, as kube-proxy runs IPVS: the director masquerades what it sends
# to the real servers, so they see it as the client and answer it; conntrack undoes the
# masquerade and IPVS the DNAT on the way back. Differential against the C ip_vs: what the real
# server saw, what the client got, and the conntrack entries and connections on the director.
. ./lib.sh
. ./topology.sh

scenario() {
	topo_up
	in_director sysctl -qw net.ipv4.vs.conntrack=1
	in_director nft add table ip nat
	in_director nft add chain ip nat post '{ type nat hook postrouting priority srcnat; }'
	in_director nft add rule ip nat post ip daddr 172.16.0.0/24 masquerade
	local rs
	for rs in rs1 rs2; do
		in_rs $rs socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:"echo $rs saw \$SOCAT_PEERADDR" \
			</dev/null >/dev/null 2>&1 &
		# socat's forking UDP responder now and then drops a first datagram unanswered.
		in_rs $rs ipvsbench server --tcp-port 8154 --udp-port 54 --threads 1 \
			--reply "$rs saw " --udp-reply-peer </dev/null >/dev/null 2>&1 &
	done
	for rs in rs1 rs2; do
		for _ in $(seq 50); do
			in_rs $rs ss -ltn | grep -q ':81 ' && in_rs $rs ss -lun | grep -q ':54 ' && break
			sleep 0.1
		done
	done
	in_director ipvsadm -A -t $VIP:81 -s rr
	in_director ipvsadm -A -u $VIP:54 -s rr
	in_director ipvsadm -A -t $VIP:8080 -s rr
	in_director ipvsadm -a -t $VIP:8080 -r $(rs_addr rs1):8080 -m
	for rs in rs1 rs2; do
		in_director ipvsadm -a -t $VIP:81 -r $(rs_addr $rs):81 -m
		in_director ipvsadm -a -u $VIP:54 -r $(rs_addr $rs):54 -m
	done
	local i
	for i in 1 2 3; do
		echo "tcp: $(tcp_request 81)"
	done
	for i in 1 2; do
		echo "udp: $(udp_request 54)"
	done
	echo "200 KB upload: $(upload 8080 200000)"
	echo "conntrack entries:"
	list_conntrack
	echo "connections:"
	list_connections
	topo_down
}

differential "conntrack=1 with MASQUERADE" scenario
got_has '^tcp: rs2 saw 172.16.0.1$' "masqueraded TCP"
got_has '^udp: rs2 saw 172.16.0.1$' "masqueraded UDP"
got_has '^200 KB upload: identical$' "masqueraded upload"
log "identical to the C ip_vs"
exit $ksft_pass
