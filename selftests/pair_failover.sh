#!/bin/bash
# Failover between two directors (two guests: scripts/vm.sh --pair; the topology is in
# pair_topology.sh): the client in guest a holds one TCP connection to the echo service
# VIP:90 through director a, whose master sync daemon passes it to director b's backup. Then
# director a gives up the VIP and its services (as if it had failed), director b takes the VIP
# (adds it to lan and announces it with a gratuitous ARP), and the same connection carries on
# through b: every line the client sends is echoed, b's service counts the packets without
# having scheduled a connection of its own (the one it forwards came from the sync), and b
# still lists the connection, established. With DR the real server answers the client
# directly, so only the director in front changes. Run once per implementation pair of
# SYNC_PAIRS (pair_topology.sh).
. ./lib.sh
. ./pair.sh
. ./pair_topology.sh

# A write to the client's FIFO after it died must fail, not kill the test.
trap '' PIPE

# Guest a: the client's long-lived connection to VIP:90, held by a bash in the client's
# namespace (on its fd 3) that sends each line it reads from a FIFO and prints the echo (or
# "LOST" and exits); the test writes to it on fd 5 and reads its answers on fd 6.
echo_client_up() {
	rm -f /tmp/echo_in.$$ /tmp/echo_out.$$
	mkfifo /tmp/echo_in.$$ /tmp/echo_out.$$ || fail "mkfifo"
	in_pclient bash -c "exec 3<>/dev/tcp/$VIP/90 || exit 1
		while IFS= read -r line; do
			echo \"\$line\" >&3
			IFS= read -r -t 30 reply <&3 || { echo \"LOST: no echo of '\$line'\"; exit 1; }
			echo \"\$reply\"
		done" </tmp/echo_in.$$ >/tmp/echo_out.$$ 2>&1 &
	exec 5>/tmp/echo_in.$$ 6</tmp/echo_out.$$
}

echo_client_down() {
	exec 5>&- 6<&-
	rm -f /tmp/echo_in.$$ /tmp/echo_out.$$
}

# Sends COUNT lines tagged TAG over the long-lived connection; each must come back.
round_trips() {
	local tag=$1 count=$2 i reply
	for i in $(seq "$count"); do
		echo "$tag $i" >&5 || fail "the client has lost its connection (sending '$tag $i')"
		IFS= read -r -t 40 reply <&6 || fail "the client has lost its connection (no answer to '$tag $i')"
		[ "$reply" = "$tag $i" ] || fail "the client sent '$tag $i' and got: $reply"
	done
}

# The counters of director b's service VIP:90: connections scheduled, packets in.
svc_counts() {
	ipvsadm -Ln --stats --exact -t $VIP:90 | awk '$1 == "TCP" { print $3, $4 }'
}

# Whether director b's service has counted at least $1 packets in.
inpkts_at_least() {
	local counts
	read -r -a counts <<<"$(svc_counts)"
	[ "${counts[1]:-0}" -ge "$1" ]
}

# Whether this director lists the connection in /tmp/conn.$$.
has_conn() { sync_conns | grep -qxF "$(cat /tmp/conn.$$)"; }

# One run with the implementations MASTER/BACKUP; $2 names its messages.
scenario() {
	local pairing=$1 it=$2 daemon counts
	log "=== master ${pairing%/*} (guest a), backup ${pairing#*/} (guest b)"
	sync_load "$pairing"
	sync_topo_up
	sync_services_up
	sync_daemon_up
	daemon=$(ipvsadm -L --daemon 2>&1)
	expect_eq "ipvsadm -L --daemon" "$(sync_daemon_want)" "$daemon"
	pair_barrier "$it.daemons"
	if [ "$(pair_role)" = a ]; then
		echo_client_up
		round_trips "through a" 5
		sync_conns | grep " $VIP:90 " >/tmp/conn.$$
		[ "$(wc -l </tmp/conn.$$)" = 1 ] || fail "director a lists $(wc -l </tmp/conn.$$) connections to $VIP:90, not 1"
		log "director a: $(cat /tmp/conn.$$)"
		pair_send "$it.conn" /tmp/conn.$$
		pair_barrier "$it.synced"
		# Director a drops out.
		run ip addr del $VIP/32 dev br-lan
		run ipvsadm -C
		pair_barrier "$it.released"
		pair_barrier "$it.taken"
		round_trips "through b" 10
		log "the client's neighbour entry for the VIP: $(in_pclient ip neigh show $VIP)"
		pair_barrier "$it.traffic"
	else
		pair_recv "$it.conn" /tmp/conn.$$
		wait_until_quiet 30 has_conn ||
			expect_eq "director b's connection to $VIP:90 (from sync)" "$(cat /tmp/conn.$$)" "$(sync_conns)"
		log "director b: $(cat /tmp/conn.$$)"
		pair_barrier "$it.synced"
		pair_barrier "$it.released"
		# Director b takes over.
		counts=$(svc_counts)
		expect_eq "director b's service before the failover (connections, packets in)" "0 0" "$counts"
		run ip addr add $VIP/32 dev lan
		arping -U -c 1 -I lan $VIP >/dev/null 2>&1
		pair_barrier "$it.taken"
		pair_barrier "$it.traffic"
		# Ten lines in, each one packet at least (counters lag by up to 2 s: C's estimator).
		wait_until_quiet 10 inpkts_at_least 10
		read -r -a counts <<<"$(svc_counts)"
		log "director b's service after the failover: ${counts[0]} connections scheduled, ${counts[1]} packets in"
		[ "${counts[0]}" = 0 ] || fail "director b scheduled ${counts[0]} connections of its own"
		[ "${counts[1]}" -ge 10 ] || fail "director b's service counted ${counts[1]} packets in, not the client's 10 or more"
		has_conn || expect_eq "director b's connection to $VIP:90 after the failover" "$(cat /tmp/conn.$$)" "$(sync_conns)"
	fi
	pair_barrier "$it.checked"
	[ "$(pair_role)" = a ] && echo_client_down
	sync_director_down
	sync_topo_down
	pair_barrier "$it.down"
}

pair_on_exit "rm -f /tmp/conn.$$; echo_client_down; sync_director_down; sync_topo_down"
n=0
for pairing in ${SYNC_PAIRS//,/ }; do
	n=$((n + 1))
	scenario "$pairing" "$n"
done
exit $ksft_pass
