#!/bin/bash
# lblc and lblcr through the data path, differential against the C ip_vs. Both cache by
# destination address: firewall-mark services for 192.0.2.1-4, each address sent held
# connections until its cached server (set) overloads, then an upper threshold, a weight-0
# server, a server deleted and re-added at once (C's trash list gives it back with its cache
# entries and counters), and one deleted under traffic and re-added; the lblc_expiration and
# lblcr_expiration sysctls; ipvsadm's listing of the services.
. ./lib.sh
. ./topology.sh

NCLIENTS=64
CLIENTS=$(client_addrs $NCLIENTS | paste -s -d,)

# A firewall-mark service MARK with SCHED-ARGS and the three real servers on port 8081.
mark_service() {
	local mark=$1
	shift
	in_director ipvsadm -A -f $mark "$@"
	in_director ipvsadm -a -f $mark -r $(rs_addr rs1):8081 -m -w 3
	in_director ipvsadm -a -f $mark -r $(rs_addr rs2):8081 -m -w 1
	in_director ipvsadm -a -f $mark -r $(rs_addr rs3):8081 -m -w 2
}

# lblc or lblcr (SCHED) on firewall mark MARK for TCP port PORT of 192.0.2.1-4, source ports
# from FIRST.
locality() {
	local sched=$1 mark=$2 port=$3 first=$4 a
	in_director nft add rule ip locality pre ip daddr 192.0.2.0/29 tcp dport $port meta mark set $mark
	mark_service $mark -s $sched
	echo "== $sched, held, to 192.0.2.1"
	seq_at 192.0.2.1:$port 9 $first --hold
	wait_idle_service -f $mark
	echo "== $sched, held, to 192.0.2.2"
	seq_at 192.0.2.2:$port 6 $((first + 20)) --hold
	wait_idle_service -f $mark
	# A cached server over its upper threshold still takes its addresses (lblc checks only
	# its own overload on a hit); the least-connection pick skips it.
	in_director ipvsadm -e -f $mark -r $(rs_addr rs1):8081 -m -w 3 -x 1
	echo "== $sched, rs1 upper threshold 1, held, to 192.0.2.1, 2 and 3"
	for a in 1 2 3; do seq_at 192.0.2.$a:$port 3 $((first + 30 + a * 4)) --hold; done
	wait_idle_service -f $mark
	in_director ipvsadm -e -f $mark -r $(rs_addr rs1):8081 -m -w 3 -x 0
	echo "== $sched, closed, to 192.0.2.1-4"
	for a in 1 2 3 4; do seq_at 192.0.2.$a:$port 3 $((first + 60 + a * 5)); done
	dests_of_mark $mark
	in_director ipvsadm -e -f $mark -r $(rs_addr rs3):8081 -m -w 0
	echo "== $sched, rs3 weight 0, held, to 192.0.2.1-4"
	for a in 1 2 3 4; do seq_at 192.0.2.$a:$port 2 $((first + 100 + a * 5)) --hold; done
	wait_idle_service -f $mark
	in_director ipvsadm -e -f $mark -r $(rs_addr rs3):8081 -m -w 2
	in_director ipvsadm -d -f $mark -r $(rs_addr rs1):8081
	in_director ipvsadm -a -f $mark -r $(rs_addr rs1):8081 -m -w 3
	echo "== $sched, rs1 deleted and re-added at once, to 192.0.2.1-4"
	for a in 1 2 3 4; do seq_at 192.0.2.$a:$port 2 $((first + 120 + a * 5)); done
	in_director ipvsadm -d -f $mark -r $(rs_addr rs1):8081
	echo "== $sched, rs1 deleted, to 192.0.2.1-4"
	for a in 1 2 3 4; do seq_at 192.0.2.$a:$port 2 $((first + 140 + a * 5)); done
	in_director ipvsadm -a -f $mark -r $(rs_addr rs1):8081 -m -w 3
	echo "== $sched, rs1 re-added, held, to 192.0.2.1-4"
	for a in 1 2 3 4; do seq_at 192.0.2.$a:$port 3 $((first + 180 + a * 5)) --hold; done
	dests_of_mark $mark
}

# The real servers of firewall-mark service MARK with their weights and active connections.
dests_of_mark() {
	in_director ipvsadm -Ln -f $1 | awk '$1 == "->" { print $2, $4, $5 }'
}

scenario() {
	topo_up
	add_client_addrs $NCLIENTS
	responders_up
	in_director nft add table ip locality
	in_director nft add chain ip locality pre '{ type filter hook prerouting priority -150; }'
	for c in 1 2 3 4; do in_director ip addr add 192.0.2.$c/32 dev lo; done
	locality lblc 20 92 34000
	locality lblcr 21 93 35000
	# The caches' sysctls, in seconds as proc_dointvec_jiffies shows them.
	echo "== lblc_expiration $(in_director sysctl -n net.ipv4.vs.lblc_expiration)," \
		"lblcr_expiration $(in_director sysctl -n net.ipv4.vs.lblcr_expiration)"
	in_director sysctl -qw net.ipv4.vs.lblc_expiration=3600
	in_director sysctl -qw net.ipv4.vs.lblcr_expiration=1
	echo "== set to $(in_director sysctl -n net.ipv4.vs.lblc_expiration)," \
		"$(in_director sysctl -n net.ipv4.vs.lblcr_expiration)"
	echo "== ipvsadm -Sn"
	in_director ipvsadm -Sn
	topo_down
}

differential "lblc and lblcr" scenario
got_lacks '^FAIL' "a sequence failed"
log "identical to the C ip_vs"
exit $ksft_pass
