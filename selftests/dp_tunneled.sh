#!/bin/bash
# A client reaching a virtual service through an IP-in-IP tunnel to the director, with
# ignore_tunneled 0 and 1, differential against the C ip_vs. The tunnel packet is of a protocol
# IPVS does not balance; with ignore_tunneled=1 both mark it (skb->ipvs_property), but the
# kernel's tunnel receive path scrubs the mark (skb_scrub_packet -> ipvs_reset), so in 7.3 the
# decapsulated SYN is scheduled either way: rr goes on rs3, rs2, rs1 across the three settings.
. ./lib.sh
. ./topology.sh

TVIP=10.0.9.1

scenario() {
	topo_up
	in_director ip addr add $TVIP/32 dev lo
	in_director ip link set tunl0 up
	in_client ip tunnel add ipvs_t mode ipip local 10.0.0.2 remote $VIP
	in_client ip link set ipvs_t up
	in_client ip route add $TVIP/32 dev ipvs_t src 10.0.0.2
	in_director ipvsadm -A -t $TVIP:80 -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $TVIP:80 -r $(rs_addr $rs):80 -m
	done
	local mode
	for mode in 0 1 0; do
		in_director sysctl -qw net.ipv4.vs.ignore_tunneled=$mode
		echo "ignore_tunneled=$mode: $(in_client socat -T 3 - TCP:$TVIP:80,connect-timeout=3 \
			</dev/null 2>&1 | socat_messages | grep -oE 'rs[123]|Connection refused' | head -1)"
	done
	echo "connections: $(in_director ipvsadm -Lcn | awk 'NR > 2' | wc -l)"
	topo_down
}

differential "ignore_tunneled" scenario
got_has '^ignore_tunneled=0: rs3$' "tunneled SYN scheduled"
got_has '^ignore_tunneled=1: rs2$' "tunneled SYN after the scrubbed mark"
got_has '^connections: 3$' "one connection per tunneled SYN"
log "identical to the C ip_vs"
exit $ksft_pass
