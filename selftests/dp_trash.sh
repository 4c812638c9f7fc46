#!/bin/bash
# Destinations deleted while a connection uses them wait on C's trash list: an open TCP
# connection through a real server that is deleted stops (its packets are dropped) and carries
# on once the same server is added back, with its active count, also when the whole service
# was deleted and added again. Differential against the C ip_vs.
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
echo "$got" | grep -q '^and then: five$' || fail "the connection did not survive the service's re-creation"
echo "$got" | grep -A1 '^counters of the re-created service:$' | grep -q "^TCP $VIP:7 0 + +$" ||
	fail "a revived destination's packets count in its new service"
log "identical to the C ip_vs"
exit $ksft_pass
