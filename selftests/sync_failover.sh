#!/bin/bash
# Failover of a long-lived TCP connection between two directors, as keepalived moves a
# virtual address: director A (sync master) and director B (sync backup) on one LAN with the
# client and a direct-routing real server; the client's connection is made through A; the
# virtual address moves to B, and the same connection carries on through B, which knows it
# only from A's sync messages (without them B's stack would reset it). Differential against
# the C ip_vs. With backup_only set, the backup does not balance.
#
# A persistent client carries on too: its template, synced, sends its new connection
# through B to the real server it had through A, though B's scheduler alone would pick the
# other one.
#
#   client cl 10.0.0.2 --+
#   director A 10.0.0.11 -+- bridge (ns sw) -- real servers 10.0.0.21, 10.0.0.22 (VIP on lo)
#   director B 10.0.0.12 -+
#   A sy0 10.251.0.1 -- veth -- sy1 10.251.0.2 B   (the sync link)
. ./lib.sh

VIP=10.0.0.100
sw=sw$$ cl=cl$$ da=da$$ db=db$$ rs=rs$$ rs2=rt$$

# Attaches namespace $1 to the LAN with address $2.
attach() {
	ns_add $1
	ip link add lan netns $1 type veth peer name p$1 netns $sw
	ip -n $sw link set p$1 master br0 up
	ip -n $1 addr add $2/24 dev lan
	ip -n $1 link set lan up
}

# The services of director $1: the echo service, and a persistent one whose real servers
# are added in the order $2 $3 (rr starts with the one added last, as C lists them).
services() {
	in_ns $1 ipvsadm -A -t $VIP:80 -s rr
	in_ns $1 ipvsadm -a -t $VIP:80 -r 10.0.0.21:80 -g
	in_ns $1 ipvsadm -A -t $VIP:81 -s rr -p 300
	in_ns $1 ipvsadm -a -t $VIP:81 -r $2:81 -g
	in_ns $1 ipvsadm -a -t $VIP:81 -r $3:81 -g
}

# One request to the persistent service: the real server's name.
persistent_request() {
	in_ns $cl socat -T 10 - TCP:$VIP:81,connect-timeout=3 </dev/null 2>&1
}

# Whether director B holds the client's persistence template.
b_has_template() {
	in_ns $db ipvsadm -Lcn | awk -v v=$VIP:81 '$4 == "10.0.0.2:0" && $5 == v' |
		grep -q .
}

# Whether director B holds the client's connection in ESTABLISHED.
b_has_it() {
	in_ns $db ipvsadm -Lcn |
		awk -v v=$VIP:80 '$3 == "ESTABLISHED" && $4 == "10.0.0.2:40080" && $5 == v' | grep -q .
}

# Sends a line on the client's connection and prints the echo.
say() {
	local line
	echo "$1" >&"${CL[1]}"
	read -r -t 10 line <&"${CL[0]}" || line="(no answer)"
	echo "$line"
}

scenario() {
	ns_add $sw
	ip -n $sw link add br0 type bridge
	ip -n $sw link set br0 up
	attach $cl 10.0.0.2
	attach $da 10.0.0.11
	attach $db 10.0.0.12
	attach $rs 10.0.0.21
	attach $rs2 10.0.0.22
	local r
	for r in $rs $rs2; do
		ip -n $r addr add $VIP/32 dev lo
		in_ns $r sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2
	done
	in_ns $rs socat TCP-LISTEN:80,fork,reuseaddr EXEC:cat </dev/null >/dev/null 2>&1 &
	in_ns $rs ipvsbench server --tcp-port 81 --udp-port 5381 --threads 1 \
		--reply $'rs1\n' </dev/null >/dev/null 2>&1 &
	in_ns $rs2 ipvsbench server --tcp-port 81 --udp-port 5381 --threads 1 \
		--reply $'rs2\n' </dev/null >/dev/null 2>&1 &
	ip link add sy0 netns $da type veth peer name sy1 netns $db
	ip -n $da addr add 10.251.0.1/24 dev sy0
	ip -n $da link set sy0 up
	ip -n $db addr add 10.251.0.2/24 dev sy1
	ip -n $db link set sy1 up
	services $da 10.0.0.21 10.0.0.22
	services $db 10.0.0.22 10.0.0.21
	in_ns $db ipvsadm --start-daemon backup --mcast-interface sy1
	in_ns $da ipvsadm --start-daemon master --mcast-interface sy0
	ip -n $da addr add $VIP/32 dev lan
	wait_until 10 eval "in_ns $rs ss -ltn | grep -q ':80 '"
	wait_until 10 eval "in_ns $rs ss -ltn | grep -q ':81 '"
	wait_until 10 eval "in_ns $rs2 ss -ltn | grep -q ':81 '"
	echo "persistent, through A: $(persistent_request)"
	wait_until 20 b_has_template

	coproc CL { in_ns $cl socat - TCP:$VIP:80,sourceport=40080 2>&1; }
	echo "through A: $(say one) $(say two)"
	wait_until 20 b_has_it
	# The address moves: A lets it go, B takes it, the client learns B's address.
	ip -n $da addr del $VIP/32 dev lan
	ip -n $db addr add $VIP/32 dev lan
	ip -n $cl neigh flush dev lan
	echo "through B: $(say three) $(say four)"
	echo "persistent, through B: $(persistent_request)"
	# backup_only: while its backup daemon runs, B does not balance (its own stack answers
	# the virtual address, which has no listener); off again, it does.
	in_ns $db sysctl -qw net.ipv4.vs.backup_only=1
	echo "B backup_only: $(persistent_request | grep -o 'Connection refused')"
	in_ns $db sysctl -qw net.ipv4.vs.backup_only=0
	echo "B balancing again: $(persistent_request)"
	echo "B's echo connection and template:"
	in_ns $db ipvsadm -Lcn |
		awk 'NR > 2 && ($4 == "10.0.0.2:40080" || $4 ~ /:0$/) { print $1, $3, $4, $5, $6 }' | sort
	echo "B's real servers:"
	in_ns $db ipvsadm -Ln | awk '/->.*Route/ { print $2, $3, $4 }'
	eval "exec ${CL[1]}>&-"
	wait "$CL_PID" 2>/dev/null
	in_ns $da ipvsadm --stop-daemon master
	in_ns $db ipvsadm --stop-daemon backup
	local ns
	for ns in $rs $rs2 $cl $da $db $sw; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $ns
	done
}

differential "failover through the sync backup" scenario
