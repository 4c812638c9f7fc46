#!/bin/bash
# Connection sync between two directors in one guest: the topology's director is the master,
# a second namespace the backup, joined by a veth "sync link"; both run the same module (the
# daemon is per namespace). Differential against the C ip_vs: the daemons as `ipvsadm -L
# --daemon` shows them, and the connections and persistence templates the backup holds once
# it caught up with the master (`ipvsadm -Lcn` without ports and expiry), in version 1 and
# version 0 messages, then over an IPv6 group with other settings; the daemons' errors; their
# threads' names ("ipvs-m:<namespace generation>:<id>") and what they log when started and
# stopped.
. ./lib.sh
. ./topology.sh

ns_backup=bk$$
in_backup() { in_ns $ns_backup "$@"; }

# Protocol, state, client address, virtual service and real server of each connection or
# template of a director, sorted.
view() {
	"$@" ipvsadm -Lcn | awk 'NR > 2 { split($4, c, ":"); print $1, $3, c[1], $5, $6 }' | sort
}

# Whether the backup holds what the master does.
caught_up() {
	local master backup
	master=$(view in_director)
	backup=$(view in_backup)
	[ -n "$master" ] && [ "$master" = "$backup" ]
}

services() {
	"$@" ipvsadm -A -t $VIP:80 -s rr
	"$@" ipvsadm -A -t $VIP:8080 -s rr -p 60
	local rs
	for rs in rs1 rs2 rs3; do
		"$@" ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 -m
		"$@" ipvsadm -a -t $VIP:8080 -r $(rs_addr $rs):80 -m
	done
}

# The sync threads' names, sorted.
sync_threads() {
	local comm name
	for comm in /proc/[0-9]*/comm; do
		{ read -r name <$comm; } 2>/dev/null && [[ $name == ipvs-[mb]:* ]] && echo $name
	done | sort | paste -sd ' '
}

scenario() {
	local logged
	logged=$(dmesg | wc -l)
	topo_up
	ns_add $ns_backup
	ip link add sy0 netns $topo_ns_director type veth peer name sy1 netns $ns_backup
	ip -n $topo_ns_director addr add 10.251.0.1/24 dev sy0
	ip -n $topo_ns_director link set sy0 up
	ip -n $ns_backup addr add 10.251.0.2/24 dev sy1
	ip -n $ns_backup link set sy1 up
	services in_director
	services in_backup
	in_backup ipvsadm --start-daemon backup --mcast-interface sy1 --syncid 7
	in_director ipvsadm --start-daemon master --mcast-interface sy0 --syncid 7
	echo "master: $(in_director ipvsadm -L --daemon)"
	echo "backup: $(in_backup ipvsadm -L --daemon)"
	echo "threads: $(sync_threads)"
	echo "second master: $(in_director ipvsadm --start-daemon master --mcast-interface sy0 2>&1)"
	echo "unknown interface: $(in_backup ipvsadm --start-daemon master --mcast-interface nosuch 2>&1)"

	local i
	for i in 1 2 3; do
		tcp_request 80
	done
	for i in 1 2; do
		tcp_request 8080
	done
	wait_until 20 caught_up
	echo "backup connections:"
	view in_backup
	# Version 0 messages (no timeouts: the backup's own).
	in_director sysctl -qw net.ipv4.vs.sync_version=0
	tcp_request 80
	tcp_request 8080
	wait_until 20 caught_up
	echo "after version 0: $(view in_backup | wc -l) entries"
	in_director sysctl -qw net.ipv4.vs.sync_version=1
	echo "master stopped: $(in_director ipvsadm --stop-daemon master 2>&1)"
	echo "again: $(in_director ipvsadm --stop-daemon master 2>&1)"
	echo "backup stopped: $(in_backup ipvsadm --stop-daemon backup 2>&1)"
	# An IPv6 group, another port and TTL, a smaller message size.
	in_backup ipvsadm --start-daemon backup --mcast-interface sy1 --syncid 7 \
		--mcast-group ff02::81 --mcast-port 9000
	in_director ipvsadm --start-daemon master --mcast-interface sy0 --syncid 7 \
		--mcast-group ff02::81 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 200
	echo "master: $(in_director ipvsadm -L --daemon)"
	echo "backup: $(in_backup ipvsadm -L --daemon)"
	for i in 1 2 3; do
		tcp_request 80
	done
	wait_until 20 caught_up
	echo "after IPv6: $(view in_backup | wc -l) entries"
	in_director ipvsadm --stop-daemon master
	in_backup ipvsadm --stop-daemon backup
	echo "daemons: $(in_director ipvsadm -L --daemon)$(in_backup ipvsadm -L --daemon)"
	echo "threads: $(sync_threads)"
	# What the daemons logged (thread IDs masked; the threads log their starts in any order).
	dmesg | tail -n +$((logged + 1)) | grep -E 'IPVS: (sync thread|stopping [mb]|Unknown mcast)' |
		sed -E 's/^\[[^]]*\] //; s/thread [0-9]+ /thread PID /' | sort
	ip netns del $ns_backup
	topo_down
}

differential "sync between namespaces" scenario
