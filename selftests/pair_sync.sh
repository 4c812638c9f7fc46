#!/bin/bash
# Connection sync between two directors (two guests: scripts/vm.sh --pair; the topology is in
# pair_topology.sh): guest a runs the master sync daemon, guest b the backup, on the sync link,
# with the same virtual services. A client in guest a opens TCP connections through director a
# (held open, so that their state stays ESTABLISHED) to a round-robin service and to a
# persistent one, and sends a UDP flow; director b must then list the same connections and
# persistence templates as director a (ipvsadm -Lnc without the expiry times: protocol, state,
# client, virtual service, real server). `ipvsadm -L --daemon` shows each daemon as the C
# ip_vs does. Run once per implementation pair of SYNC_PAIRS (pair_topology.sh).
. ./lib.sh
. ./pair.sh
. ./pair_topology.sh

# The held connections: client address and virtual port of each.
held=("10.0.0.21 80" "10.0.0.22 80" "10.0.0.21 80" "10.0.0.22 80" "10.0.0.21 81" "10.0.0.21 81"
	"10.0.0.22 81")
# What director a must list: connections by protocol, state and kind (C shows a persistence
# template's state as ASSURED).
want_kinds="TCP ASSURED template 2
TCP ESTABLISHED 7
UDP UDP 1"

# The connections of sync_conns, counted by protocol, state and kind (client port 0: a
# persistence template).
conn_kinds() {
	sync_conns | awk '{ split($3, c, ":"); n[$1 " " $2 (c[2] == "0" ? " template" : "")]++ }
		END { for (k in n) print k, n[k] }' | sort
}

# Guest a: the client's traffic through director a.
client_traffic() {
	local i src port
	for i in "${!held[@]}"; do
		read -r src port <<<"${held[i]}"
		rm -f /tmp/held.$i.$$
		in_pclient socat -T 600 TCP:$VIP:$port,bind=$src,connect-timeout=5 \
			SYSTEM:"echo hi; IFS= read -r l; echo \"\$l\" >/tmp/held.$i.$$; exec cat >/dev/null" \
			</dev/null >/dev/null 2>&1 &
		pair_on_exit "rm -f /tmp/held.$i.$$"
		# One at a time: the round-robin order, and so the listing, is the same every run.
		wait_until 30 test -s /tmp/held.$i.$$
	done
	# A UDP flow: five datagrams from one client port (C syncs a UDP connection at its third).
	in_pclient bash -c "for i in 1 2 3 4 5; do echo ping\$i | socat -u - UDP:$VIP:53,bind=10.0.0.22:42053; done" ||
		fail "the client's UDP flow"
}

# One run with the implementations MASTER/BACKUP; $2 names its messages.
scenario() {
	local pairing=$1 it=$2 daemon
	log "=== master ${pairing%/*} (guest a), backup ${pairing#*/} (guest b)"
	sync_load "$pairing"
	sync_topo_up
	sync_services_up
	sync_daemon_up
	daemon=$(ipvsadm -L --daemon 2>&1)
	log "ipvsadm -L --daemon: $daemon"
	expect_eq "ipvsadm -L --daemon" "$(sync_daemon_want)" "$daemon"
	# The backup must listen before the master sends.
	pair_barrier "$it.daemons"
	if [ "$(pair_role)" = a ]; then
		client_traffic
		wait_until_quiet 30 kinds_wanted
		expect_eq "director a's connections by kind" "$want_kinds" "$(conn_kinds)"
		sync_conns >/tmp/conns.$$
		pair_on_exit "rm -f /tmp/conns.$$"
		log "director a's connections:"
		cat /tmp/conns.$$
		pair_send "$it.conns" /tmp/conns.$$
	else
		pair_recv "$it.conns" /tmp/conns.$$
		pair_on_exit "rm -f /tmp/conns.$$"
		# The master sends its buffer when full or after about two seconds.
		wait_until_quiet 30 conns_synced
		expect_eq "director b's connections (from sync) vs director a's" "$(cat /tmp/conns.$$)" "$(sync_conns)"
		log "director b's connections:"
		sync_conns
	fi
	pair_barrier "$it.compared"
	sync_director_down
	sync_topo_down
	pair_barrier "$it.down"
}

kinds_wanted() { [ "$(conn_kinds)" = "$want_kinds" ]; }
conns_synced() { [ "$(sync_conns)" = "$(cat /tmp/conns.$$)" ]; }

pair_on_exit "sync_director_down; sync_topo_down"
n=0
for pairing in ${SYNC_PAIRS//,/ }; do
	n=$((n + 1))
	scenario "$pairing" "$n"
done
exit $ksft_pass
