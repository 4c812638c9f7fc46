#!/bin/bash
# The main job: load rust_ipvs, build a client / director / three real servers topology in
# network namespaces, configure a NAT virtual service and balance real traffic through it.
. ./lib.sh
. ./topology.sh

say() { echo "demo: $*"; }
show() { say "\$ $*"; "$@" 2>&1 | sed 's/^/demo:   /'; }

IPVS_IMPL=rust ipvs_load
say "rust_ipvs loaded: $(grep -c rust_ipvs /proc/modules) module, $(modinfo -F description rust_ipvs)"
topo_up
trap topo_down EXIT

show in_director ipvsadm -A -t $VIP:80 -s rr
for rs in "${topo_real_servers[@]}"; do
	show in_director ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 -m -w 1
done
show in_director ipvsctl service add --udp $VIP:53 --scheduler rr
for rs in "${topo_real_servers[@]}"; do
	show in_director ipvsctl dest add --udp $VIP:53 --real $(rs_addr $rs):53 --masq
done
show in_director ipvsadm -Ln

say "six TCP connections from the client to $VIP:80:"
seq_tcp=""
for i in $(seq 6); do seq_tcp="$seq_tcp $(tcp_request)"; done
say "  served by:$seq_tcp"
say "six UDP requests from the client to $VIP:53:"
seq_udp=""
for i in $(seq 6); do seq_udp="$seq_udp $(udp_request)"; done
say "  served by:$seq_udp"
show in_director ipvsadm -Ln --stats
show in_director ipvsadm -Lcn
show in_director ipvsctl list

[ "$seq_tcp" = " rs3 rs2 rs1 rs3 rs2 rs1" ] || fail "TCP round robin: got$seq_tcp"
[ "$seq_udp" = " rs3 rs2 rs1 rs3 rs2 rs1" ] || fail "UDP round robin: got$seq_udp"
topo_down
trap - EXIT
ipvs_unload
say "traffic balanced round robin over rs3 rs2 rs1 (newest destination first, as the C ip_vs); module unloaded"
