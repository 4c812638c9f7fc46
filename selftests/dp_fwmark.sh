#!/bin/bash
# Firewall-mark services, differential against the C ip_vs: packets marked by an nft rule reach
# the fwmark service whatever their port or protocol; TCP and UDP backend sequences, a
# persistent fwmark service (its templates are keyed by the mark, protocol IP), connection
# states and ipvsadm's listing.
. ./lib.sh
. ./topology.sh

scenario() {
	topo_up
	in_director nft add table ip marks
	in_director nft add chain ip marks pre '{ type filter hook prerouting priority -150; }'
	in_director nft add rule ip marks pre ip daddr $VIP tcp dport 9000-9001 meta mark set 7
	in_director nft add rule ip marks pre ip daddr $VIP udp dport 9053 meta mark set 8
	in_director nft add rule ip marks pre ip daddr $VIP tcp dport 80 meta mark set 9
	in_director ipvsadm -A -f 7 -s rr
	in_director ipvsadm -A -f 8 -s rr
	in_director ipvsadm -A -f 9 -s rr -p 60
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -f 7 -r $(rs_addr $rs):80 -m
		in_director ipvsadm -a -f 8 -r $(rs_addr $rs):53 -m
		in_director ipvsadm -a -f 9 -r $(rs_addr $rs):80 -m
	done
	local seq="" i
	for i in 1 2 3; do seq="$seq $(tcp_request 9000) $(tcp_request 9001)"; done
	echo "tcp, mark 7 (ports 9000 and 9001):$seq"
	seq=""
	for i in 1 2 3; do seq="$seq $(udp_request 9053)"; done
	echo "udp, mark 8:$seq"
	seq=""
	for i in 1 2 3 4; do seq="$seq $(tcp_request 80)"; done
	echo "tcp, mark 9, persistent:$seq"
	echo "unmarked port: $(tcp_request 9002 | grep -o 'Connection refused' | head -1)"
	in_director ipvsadm -Ln
	echo "connections and templates:"
	list_connections
	topo_down
}

differential "fwmark services" scenario
got_has '^tcp, mark 7 (ports 9000 and 9001): rs3 rs2 rs1 rs3 rs2 rs1$' "fwmark TCP sequence"
got_has '^udp, mark 8: rs3 rs2 rs1$' "fwmark UDP sequence"
echo "$got" | grep -qE '^tcp, mark 9, persistent: (rs[123]) \1 \1 \1$' || fail "persistent fwmark service"
log "identical to the C ip_vs"
exit $ksft_pass
