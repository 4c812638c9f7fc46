#!/bin/bash
# NAT load balancing through the hooks, differential: the same topology, configuration and
# client traffic with the C ip_vs and with rust_ipvs must give the same backend sequences,
# connection states and counters; a 10 MB transfer arrives intact; many concurrent connections
# all succeed; a service without destinations answers with ICMP port unreachable.
. ./lib.sh
. ./topology.sh

# Concurrent connections in one client; fewer on the debug kernel, where each costs about
# 50 ms and KASAN watches the same paths at 250 as at 1000.
concurrent=1000
debug_kernel && concurrent=250

# The scenario; prints what the client observed and what the director shows.
scenario() {
	topo_up
	rr_services_up
	local seq="" i
	for i in $(seq 9); do seq="$seq $(tcp_request)"; done
	echo "tcp rr:$seq"
	seq=""
	for i in $(seq 9); do seq="$seq $(udp_request)"; done
	echo "udp rr:$seq"
	# Weight 0 quiesces a destination; deleting one takes it out of the rotation.
	in_director ipvsadm -e -t $VIP:80 -r $(rs_addr rs2):80 -m -w 0
	seq=""
	for i in $(seq 4); do seq="$seq $(tcp_request)"; done
	echo "tcp rr, rs2 weight 0:$seq"
	in_director ipvsadm -d -t $VIP:80 -r $(rs_addr rs3):80
	seq=""
	for i in $(seq 3); do seq="$seq $(tcp_request)"; done
	echo "tcp rr, rs3 deleted:$seq"
	# Connection states and timeouts, without the random client ports.
	echo "connections:"
	list_connections
	c_estimator_settle
	echo "counters:"
	stats_counts
	in_director ipvsadm -Ln
	# A 10 MB transfer through the service, checked end to end.
	in_director ipvsadm -A -t $VIP:8080 -s rr
	in_director ipvsadm -a -t $VIP:8080 -r $(rs_addr rs1):8080 -m
	echo "10 MB transfer: $(upload 8080 10485760)"
	# One client port reaching one real server through two services: the real server's replies
	# match both connections, and belong to the newer one (C keeps a hash chain newest first).
	for port in 84 85; do
		in_director ipvsadm -A -t $VIP:$port -s rr
		in_director ipvsadm -a -t $VIP:$port -r $(rs_addr rs1):80 -m
	done
	local shared=""
	for port in 84 85; do
		shared="$shared $(in_client socat -T 3 - TCP:$VIP:$port,sourceport=40000,reuseaddr,connect-timeout=3 </dev/null 2>&1 | tr -d '\n')"
	done
	echo "shared reply tuple:$shared"
	# $concurrent concurrent connections over all three real servers' fast responders.
	responders_up
	in_director ipvsadm -A -t $VIP:82 -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:82 -r $(rs_addr $rs):8080 -m
	done
	# One client process opens them all, each with its request, before reading any reply
	# (bash /dev/tcp, no fork each).
	local answered
	answered=$(in_client bash -c '
		ulimit -n 4096
		fds=()
		for i in $(seq '$concurrent'); do
			exec {fd}<>/dev/tcp/'$VIP'/82 || break
			echo ping >&$fd
			fds+=($fd)
		done
		n=0
		for fd in "${fds[@]}"; do
			read -t 20 -r line <&$fd && [[ $line == rs* ]] && n=$((n + 1))
		done
		echo $n')
	echo "$concurrent concurrent connections: $answered answered"
	# No destination: ICMP port unreachable, which the client sees as connection refused.
	in_director ipvsadm -A -t $VIP:81 -s rr
	echo "no destination: $(tcp_request 81 | grep -o 'Connection refused' | head -1)"
	topo_down
}

differential "NAT scenario" scenario
got_has '^tcp rr: rs3 rs2 rs1 rs3 rs2 rs1 rs3 rs2 rs1$' "TCP backend sequence"
got_has '^shared reply tuple: rs1 rs1$' "replies on a shared reply tuple"
got_has '^udp rr: rs3 rs2 rs1 rs3 rs2 rs1 rs3 rs2 rs1$' "UDP backend sequence"
got_has '^10 MB transfer: identical$' "10 MB transfer"
got_has "^$concurrent concurrent connections: $concurrent answered\$" "concurrent connections"
got_has '^no destination: Connection refused$' "ICMP port unreachable"
log "identical to the C ip_vs"
exit $ksft_pass
