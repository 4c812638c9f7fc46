#!/bin/bash
# The IPv6 topology of the IPv6 data-path tests (sourced after lib.sh):
#
#   client fd00::2, ::10, ::11 --veth-- director fd00::1 | fd01::1 (br0) -- rs1-3 fd01::11-13
#
# The virtual address is the director's fd00::1; each real server answers TCP :8080 and
# UDP :8053 with its name (ipvsbench server).

VIP=fd00::1
ns_client=c6$$
ns_director=d6$$
RS=(rs1 rs2 rs3)

# Commands in the client's, the director's and a real server's namespace.
in_client() { in_ns $ns_client "$@"; }
in_director() { in_ns $ns_director "$@"; }
in_rs() { local rs=$1; shift; in_ns ${rs}6_$$ "$@"; }
# The address of a real server.
rs_addr() { case $1 in rs1) echo fd01::11 ;; rs2) echo fd01::12 ;; rs3) echo fd01::13 ;; esac; }

# Builds the topology and waits for the real servers' responders.
topology_up() {
	local rs i=11
	star_links $ns_client $ns_director 6_$$ "${RS[@]}"
	ip_batch $ns_client "link set lo up" "addr add fd00::2/64 dev c0 nodad" \
		"addr add fd00::10/64 dev c0 nodad" "addr add fd00::11/64 dev c0 nodad" "link set c0 up" \
		"route add default via $VIP"
	ip_batch $ns_director "addr add $VIP/64 dev d0 nodad" "addr add fd01::1/64 dev br0 nodad"
	in_director sysctl -qw net.ipv6.conf.all.forwarding=1
	for rs in "${RS[@]}"; do
		ip_batch ${rs}6_$$ "link set lo up" "addr add fd01::$i/64 dev eth0 nodad" \
			"link set eth0 up" "route add default via fd01::1"
		in_rs $rs ipvsbench server --bind :: --tcp-port 8080 --udp-port 8053 --threads 1 \
			--reply "$rs"$'\n' --udp-reply </dev/null >/dev/null 2>&1 &
		i=$((i + 1))
	done
	for rs in "${RS[@]}"; do wait_until 10 listening $rs 8080; done
}

# Conditions for wait_until: a real server listens on a TCP port; a process has exited.
listening() { in_rs $1 ss -ltn | grep -q ":$2 "; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# Removes the topology, killing what runs in it.
topology_down() {
	ns_del $ns_client $ns_director "${RS[@]/%/6_$$}"
}

# socat's messages without their time and process id.
socat_messages() {
	sed -E 's#^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]+ socat\[[0-9]+\] #socat #'
}

# COUNT TCP connections to [VIP]:PORT from SOURCES (comma-separated) in turn, source ports
# from FIRST: the real server of each.
sequence() {
	local port=$1 count=$2 sources=$3 first=$4 out
	out=$(in_client ipvsbench sequence --target "[$VIP]:$port" --count $count --source $sources \
		--first-port $first --timeout-ms 3000 2>&1)
	echo "$out"
	[ "$(echo "$out" | wc -w)" = "$count" ] || echo "FAIL: sequence to $port: $out"
}

# One UDP request from source port PORT: the real server's answer.
udp_request() {
	in_client ipvsbench udp-request --target "[$VIP]:53" --bind "[::]:$1" --wait 1 2>&1
}

# The director's connections, counted by protocol, state, client address (ports dropped),
# virtual service and real server.
list_connections6() {
	in_director ipvsadm -Lcn | awk 'NR > 2 { c = $4; sub(/:[0-9]+$/, "", c); print $1, $3, c, $5, $6 }' |
		sort | uniq -c
}

# The counters of every service and real server after C's estimator tick (every 2 s): TCP's
# packet counts (retransmissions, delayed acknowledgements) as seen or not.
stats_counts6() {
	c_estimator_settle
	in_director ipvsadm -Ln --stats | awk 'NR > 3 {
		if ($1 != "->") proto = $1
		in_pkts = $4; out_pkts = $5
		if (proto == "TCP") { in_pkts = in_pkts > 0 ? "+" : "0"; out_pkts = out_pkts > 0 ? "+" : "0" }
		print $1, $2, $3, in_pkts, out_pkts
	}'
}
