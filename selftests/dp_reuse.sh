#!/bin/bash
# conn_reuse_mode, expire_nodest_conn and conntrack: a client reusing its source port while the
# old connection is in TIME_WAIT, with each setting, differential against the C ip_vs
# (backend sequences, connection states, the conntrack=1 reschedule once conntrack reopens the
# old entry, and conntrack entries that go with their expired connections).
. ./lib.sh
. ./topology.sh

# A request from a fixed client port; prints the backend.
req_port() {
	in_client socat -T 4 - TCP:$VIP:80,sourceport=40000,reuseaddr,connect-timeout=4 </dev/null 2>&1
}

# The same, noting in /tmp/reuse_ms.$$.{c,rust} how long the reply took (a dropped SYN is
# retransmitted after a second). Not compared: it is timing, see the log line at the end.
req_port_timed() {
	local start=${EPOCHREALTIME/./} out
	out=$(req_port)
	local impl=c
	[ -d /sys/module/rust_ipvs ] && impl=rust
	echo "$(((${EPOCHREALTIME/./} - start) / 1000))" >/tmp/reuse_ms.$$.$impl
	echo "$out"
}

# Succeeds when the conntrack entry of the fixed client port is in TCP state STATE.
ct_state_is() {
	in_director conntrack -L -p tcp --sport 40000 2>/dev/null | grep -q " $1 "
}

scenario() {
	topo_up
	in_director ipvsadm -A -t $VIP:80 -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 -m
	done
	local mode
	for mode in 1 0 2; do
		in_director sysctl -qw net.ipv4.vs.conn_reuse_mode=$mode
		echo "conn_reuse_mode=$mode: $(req_port) $(req_port) $(req_port)"
	done
	in_director sysctl -qw net.ipv4.vs.conn_reuse_mode=0
	in_director sysctl -qw net.ipv4.vs.expire_nodest_conn=1
	local first
	first=$(req_port)
	in_director ipvsadm -e -t $VIP:80 -r $(rs_addr $first):80 -m -w 0
	echo "expire_nodest_conn=1, $first quiesced: $(req_port)"
	in_director ipvsadm -e -t $VIP:80 -r $(rs_addr $first):80 -m -w 1
	in_director sysctl -qw net.ipv4.vs.expire_nodest_conn=0
	in_director sysctl -qw net.ipv4.vs.conn_reuse_mode=1
	# Conntrack tracks a namespace's packets only once something there needs it, as
	# kube-proxy's iptables rules do; here, an nft rule matching on ct state.
	in_director nft add table ip ct_on
	in_director nft add chain ip ct_on ctchain '{ type filter hook forward priority 0; }'
	in_director nft add rule ip ct_on ctchain ct state invalid counter
	in_director sysctl -qw net.ipv4.vs.conntrack=1
	# Whether the next SYN is dropped depends on the old conntrack entry: confirmed and in
	# LAST_ACK (the client's last ACK not yet through), conntrack ignores the SYN and IPVS
	# drops it (ip_vs_conn_uses_old_conntrack); in TIME_WAIT, conntrack reopens the entry and
	# IPVS reschedules at once. The last ACK races the next SYN across CPUs, so the test
	# waits for TIME_WAIT, the state a client reusing its port meets in practice.
	local first_ct
	first_ct=$(req_port)
	wait_until 10 ct_state_is TIME_WAIT
	echo "conntrack=1: $first_ct $(req_port_timed)"
	echo "conntrack entries (tuples):"
	list_conntrack -p tcp
	echo "connections:"
	in_director ipvsadm -Lcn | awk 'NR > 2 { print $1, $3, $4, $5, $6 }' | sort | uniq -c
	# Still conntrack=1: a connection that expires takes its conntrack entry along
	# (ip_vs_conn_drop_conntrack), long before conntrack's own 30 s UDP timeout.
	in_director ipvsadm --set 0 0 6
	in_director ipvsadm -A -u $VIP:53 -s rr
	in_director ipvsadm -a -u $VIP:53 -r $(rs_addr rs1):53 -m
	echo "UDP request: $(udp_request)"
	echo "UDP conntrack entries while connected: $(in_director conntrack -L -p udp 2>/dev/null | grep -c 'dport=53')"
	# The connection expires 6 s after its datagram (its conntrack entry with it).
	wait_until 15 eval '[ "$(in_director ipvsadm -Lcn | grep -c UDP)" = 0 ]'
	echo "UDP connections after expiry: $(in_director ipvsadm -Lcn | grep -c UDP)"
	echo "UDP conntrack entries after expiry: $(in_director conntrack -L -p udp 2>/dev/null | grep -c 'dport=53')"
	topo_down
}

differential "connection reuse" scenario
# Open question (session 5 note): with the old conntrack entry in TIME_WAIT, rust_ipvs
# sometimes answers the reused-port SYN only after its retransmission, C has done so once.
log "reused-port SYN answered after: C $(cat /tmp/reuse_ms.$$.c) ms, rust_ipvs $(cat /tmp/reuse_ms.$$.rust) ms"
rm -f /tmp/reuse_ms.$$.*
got_has '^UDP conntrack entries while connected: 1$' "UDP conntrack entry"
got_has '^UDP conntrack entries after expiry: 0$' "conntrack dropped on expiry"
log "identical to the C ip_vs"
exit $ksft_pass
