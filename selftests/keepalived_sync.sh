#!/bin/bash
# keepalived's lvs_sync_daemon: two directors (namespaces joined by a link) run keepalived with
# one VRRP instance; the sync daemon follows its state (master daemon on the VRRP master,
# backup daemon on the other). The master's keepalived stops: the other takes the virtual
# address over and turns its daemon into the master. A connection made through the first
# master is on the second's table before the failover. Differential against the C ip_vs.
. ./lib.sh

ns_a=ka$$
ns_b=kb$$
in_a() { in_ns $ns_a "$@"; }
in_b() { in_ns $ns_b "$@"; }

# keepalived's configuration for director $1 (a or b) on link $2 with VRRP priority $3.
write_conf() {
	cat >/tmp/ka.$1.$$.conf <<-EOF
	global_defs {
	    router_id director_$1
	    lvs_sync_daemon $2 inst VI_1 id 7
	}
	vrrp_instance VI_1 {
	    state BACKUP
	    interface $2
	    virtual_router_id 51
	    priority $3
	    advert_int 1
	    virtual_ipaddress {
	        10.251.0.100/24
	    }
	}
	virtual_server 10.0.0.1 80 {
	    lvs_sched rr
	    lvs_method NAT
	    protocol TCP
	    real_server 172.16.0.11 80 {
	        weight 1
	    }
	}
	EOF
}

# Starts keepalived in director $1's namespace.
start_ka() {
	in_ns ${2} keepalived -n -D -f /tmp/ka.$1.$$.conf -p /tmp/ka.$1.$$.pid \
		-r /tmp/ka.$1.$$.vrrp.pid -c /tmp/ka.$1.$$.chk.pid >/tmp/ka.$1.$$.log 2>&1 &
}

# Stops director $1's keepalived and waits for it to exit.
stop_ka() {
	local pid
	pid=$(cat /tmp/ka.$1.$$.pid 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	rm -f /tmp/ka.$1.$$.pid
}

daemons_are() { [ "$("$1" ipvsadm -L --daemon | awk '{ print $1 }' | xargs)" = "$2" ]; }

# Whether director $1's table has the connection of the client's port $2.
has_conn() { "$1" ipvsadm -Lcn | grep -q "10.0.0.2:$2 "; }

scenario() {
	ns_add $ns_a
	ns_add $ns_b
	ip link add syA netns $ns_a type veth peer name syB netns $ns_b
	ip -n $ns_a addr add 10.251.0.1/24 dev syA
	ip -n $ns_a link set syA up
	ip -n $ns_b addr add 10.251.0.2/24 dev syB
	ip -n $ns_b link set syB up
	write_conf a syA 150
	write_conf b syB 100
	trap 'stop_ka a; stop_ka b' EXIT
	start_ka a $ns_a
	wait_until 30 daemons_are in_a master
	start_ka b $ns_b
	wait_until 30 daemons_are in_b backup
	echo "a: $(in_a ipvsadm -L --daemon)"
	echo "b: $(in_b ipvsadm -L --daemon)"
	echo "a has the VIP: $(in_a ip -br addr show syA | grep -c 10.251.0.100)"
	# A client connection through a, as a's hooks see it (a local client of the virtual
	# service, NAT to a real server that never answers: the SYN is enough for a connection,
	# which is sent in ESTABLISHED only; the state is forced by sync_threshold).
	in_a sysctl -qw net.ipv4.vs.sync_threshold="1 0"
	in_a ip addr add 10.0.0.2/32 dev lo
	in_a ip route add 172.16.0.0/24 dev syA
	in_a ip route add 10.0.0.0/24 dev syA
	in_a ipvsadm -A -u 10.0.0.1:53 -s rr
	in_a ipvsadm -a -u 10.0.0.1:53 -r 172.16.0.11:53 -m
	in_b ipvsadm -A -u 10.0.0.1:53 -s rr
	in_b ipvsadm -a -u 10.0.0.1:53 -r 172.16.0.11:53 -m
	echo x | in_a socat -u - UDP:10.0.0.1:53,bind=10.0.0.2:40053
	wait_until 10 has_conn in_b 40053
	echo "b's table after the request:"
	in_b ipvsadm -Lcn | awk 'NR > 2 { print $1, $3, $4, $5, $6 }'
	stop_ka a
	wait_until 30 daemons_are in_b master
	echo "after a stopped: a: [$(in_a ipvsadm -L --daemon)] b: $(in_b ipvsadm -L --daemon)"
	echo "b has the VIP: $(in_b ip -br addr show syB | grep -c 10.251.0.100)"
	stop_ka b
	echo "after b stopped: [$(in_b ipvsadm -L --daemon)]"
	trap - EXIT
	rm -f /tmp/ka.*.$$.*
	in_a ipvsadm -C
	in_b ipvsadm -C
	ip netns del $ns_a
	ip netns del $ns_b
}

differential "keepalived lvs_sync_daemon" scenario
