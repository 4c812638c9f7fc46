#!/bin/bash
# Destinations deleted while a connection uses them wait on C's trash list: an open TCP
# connection through a real server that is deleted stops (its packets are dropped) and carries
# on once the same server is added back, with its active count, also when the whole service
# was deleted and added again; a whole configuration flushed and added again brings every real
# server back with its connections. Differential against the C ip_vs.
. ./lib.sh
. ./topology.sh

# Sends LINE on the client's connection and prints the echo, "none" after SECONDS without one.
echo_line() {
	local line=$1 seconds=$2 reply=""
	echo "$line" >&"${CLIENT[1]}"
	read -r -t "$seconds" reply <&"${CLIENT[0]}"
	echo "${reply:-none}"
}

# Waits for the echo of a line sent earlier, for up to SECONDS (TCP retransmits with backoff).
echo_late() {
	local reply=""
	read -r -t "$1" reply <&"${CLIENT[0]}"
	echo "${reply:-none}"
}

# The real servers of the echo service with their weights and connection counts.
echo_dests() {
	in_director ipvsadm -Ln -t $VIP:7 | awk '$1 == "->" { print $2, $3, $4, $5, $6 }'
}

scenario() {
	topo_up
	in_rs rs1 socat TCP-LISTEN:7,fork,reuseaddr EXEC:cat </dev/null >/dev/null 2>&1 &
	wait_until 10 eval "in_rs rs1 ss -ltn | grep -q ':7 '"
	# Another service keeps the hooks registered while the echo service is gone.
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -a -t $VIP:80 -r $(rs_addr rs2):80 -m
	in_director ipvsadm -A -t $VIP:7 -s rr
	in_director ipvsadm -a -t $VIP:7 -r $(rs_addr rs1):7 -m -w 2
	coproc CLIENT { in_client socat - TCP:$VIP:7,connect-timeout=4 2>/dev/null; }
	echo "open connection: $(echo_line one 10)"
	echo_dests

	in_director ipvsadm -d -t $VIP:7 -r $(rs_addr rs1):7
	echo "real server deleted: $(echo_line two 1)"
	in_director ipvsadm -a -t $VIP:7 -r $(rs_addr rs1):7 -m -w 3
	echo "real server added again: $(echo_late 20)"
	echo "and then: $(echo_line three 10)"
	echo_dests

	in_director ipvsadm -D -t $VIP:7
	echo "service deleted: $(echo_line four 1)"
	in_director ipvsadm -A -t $VIP:7 -s wrr
	in_director ipvsadm -a -t $VIP:7 -r $(rs_addr rs1):7 -m -w 1
	echo "service and real server added again: $(echo_late 20)"
	echo "and then: $(echo_line five 10)"
	echo_dests
	# The connection's packets since count in the re-created service (C's dest->svc), whose
	# own connection count stays 0. C shows counters as of its estimator's last run (2 s).
	# Not the real server's line: C stops a trashed destination's estimator, and the
	# connection count its revival zeroes to is the one of that estimator's last run.
	c_estimator_settle
	echo "counters of the re-created service:"
	stats_counts | grep "^TCP $VIP:7 "

	kill "$CLIENT_PID" 2>/dev/null
	wait "$CLIENT_PID" 2>/dev/null
	topo_down
}

differential "trashed destinations" scenario
got_has '^and then: five$' "the connection did not survive the service's re-creation"
echo "$got" | grep -A1 '^counters of the re-created service:$' | grep -q "^TCP $VIP:7 0 + +$" ||
	fail "a revived destination's packets count in its new service"

# A configuration reloaded (`ipvsadm -C` then the services added again, in another order):
# every real server comes back from the trash, each with the connections it had. 40 UDP
# services of three real servers, with 1 to 3 connections each (79 in all), so that the trash
# holds 120 destinations and revivals take them out of its middle.
reload_services=40
# The real servers' connection counts of every service, one line per real server, sorted.
udp_dests() {
	in_director ipvsadm -Ln | awk '$1 == "UDP" { svc = $2 } $1 == "->" && svc { print svc, $2, $5, $6 }' |
		sort
}
# The `ipvsadm -R` rules of those services, their real servers in the order given, for the
# service indices on standard input.
reload_rules() {
	local i rs
	while read -r i; do
		echo "-A -u $VIP:$((1000 + i)) -s rr"
		for rs in "$@"; do
			echo "-a -u $VIP:$((1000 + i)) -r $(rs_addr $rs):5000 -m"
		done
	done
}
reload_scenario() {
	local rs
	topo_up
	for rs in rs1 rs2 rs3; do
		in_rs $rs socat -u UDP-RECV:5000 /dev/null </dev/null >/dev/null 2>&1 &
	done
	seq 0 $((reload_services - 1)) | reload_rules rs1 rs2 rs3 | in_director ipvsadm -R
	# Service i gets i % 3 + 1 connections (a socket, so a source port, each).
	in_client bash -c "for i in \$(seq 0 $((reload_services - 1))); do
		for c in \$(seq 0 \$((i % 3))); do echo x >/dev/udp/$VIP/\$((1000 + i)); done
	done"
	wait_until 10 eval "[ \$(in_director ipvsadm -Lnc | grep -c '^UDP') -ge 79 ]"
	local before
	before=$(udp_dests)
	in_director ipvsadm -C
	seq $((reload_services - 1)) -1 0 | reload_rules rs3 rs2 rs1 | in_director ipvsadm -R
	echo "connections per real server before the flush and after the reload:"
	udp_dests
	echo "connections: $(udp_dests | awk '{ n += $3 + $4 } END { print n }')"
	[ "$(udp_dests)" = "$before" ] || echo "reload changed the connection counts"
	topo_down
}
differential "reloaded configuration" reload_scenario
got_has "^connections: 79$" "revived real servers lost connections"
got_lacks "^reload changed" "the reload changed the connection counts"
log "identical to the C ip_vs"
exit $ksft_pass
