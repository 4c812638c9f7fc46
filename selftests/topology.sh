#!/bin/bash
# The NAT topology of the data-path tests and the demo (sourced), after the kernel's ipvs.sh:
#
#   client ns (10.0.0.2) --veth-- director ns (10.0.0.1 | 172.16.0.1, bridge br0)
#                                    |-- rs1 ns 172.16.0.11
#                                    |-- rs2 ns 172.16.0.12
#                                    `-- rs3 ns 172.16.0.13
#
# The virtual service is 10.0.0.1:80 (TCP) and 10.0.0.1:53 (UDP) on the director; the real
# servers answer with their name, so the client sees which one served it.

topo_ns_client=cl$$
topo_ns_director=dir$$
topo_real_servers=(rs1 rs2 rs3)
VIP=10.0.0.1

# Runs a command in a namespace of the topology.
in_client() { in_ns $topo_ns_client "$@"; }
in_director() { in_ns $topo_ns_director "$@"; }
in_rs() { local rs=$1; shift; in_ns ${rs}_$$ "$@"; }

# Builds the namespaces, links, addresses, routes and the real servers' listeners.
# (One ip process per namespace: ip_batch.)
topo_up() {
	local i=11 rs
	star_links $topo_ns_client $topo_ns_director _$$ "${topo_real_servers[@]}"
	ip_batch $topo_ns_client "link set lo up" "addr add 10.0.0.2/24 dev c0" "link set c0 up" \
		"route add default via 10.0.0.1"
	ip_batch $topo_ns_director "addr add 10.0.0.1/24 dev d0" "addr add 172.16.0.1/24 dev br0"
	in_director sysctl -qw net.ipv4.ip_forward=1
	for rs in "${topo_real_servers[@]}"; do
		ip_batch ${rs}_$$ "link set lo up" "addr add 172.16.0.$i/24 dev eth0" "link set eth0 up" \
			"route add default via 172.16.0.1"
		# TCP 80 and UDP 53 answer with the server's name: one process, no shell per
		# request (a fork per datagram could take seconds on a loaded debug kernel).
		in_rs $rs ipvsbench server --tcp-port 80 --udp-port 53 --udp-reply --threads 2 \
			--reply "$rs"$'\n' </dev/null >/dev/null 2>&1 &
		i=$((i + 1))
	done
	# Wait until every listener is up.
	for rs in "${topo_real_servers[@]}"; do
		for _ in $(seq 50); do
			in_rs $rs ss -ltn 2>/dev/null | grep -q ':80 ' && break
			sleep 0.1
		done
	done
}

# The virtual services most tests use: TCP $VIP:80 and UDP $VIP:${1:-53}, rr, each real server
# masqueraded on the same port.
rr_services_up() {
	local udp=${1:-53} rs
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -A -u $VIP:$udp -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 -m
		in_director ipvsadm -a -u $VIP:$udp -r $(rs_addr $rs):$udp -m
	done
}

# The client addresses 10.0.0.10 onwards, N of them, one per line.
client_addrs() {
	local c
	for c in $(seq 10 $((9 + $1))); do echo 10.0.0.$c; done
}

# Gives the client namespace N more addresses, 10.0.0.10 onwards (one ip process).
add_client_addrs() {
	client_addrs $1 | sed 's|.*|addr add &/24 dev c0|' | ip -n $topo_ns_client -batch -
}

# Starts fast responders in the real servers (one ipvsbench process per port instead of a
# shell per connection): TCP port 8080 replies with the server's name and closes, 8081
# replies and waits for the client to close (for connections held open); UDP port 8053
# counts datagrams into the file responder_count_file names.
responders_up() {
	local rs
	for rs in "${topo_real_servers[@]}"; do
		rm -f "$(responder_count_file $rs)"
		in_rs $rs ipvsbench server --tcp-port 8080 --udp-port 8053 --threads 1 --reply "$rs"$'\n' \
			--count-file "$(responder_count_file $rs)" </dev/null >/dev/null 2>&1 &
		in_rs $rs ipvsbench server --tcp-port 8081 --udp-port 8054 --threads 1 --reply "$rs"$'\n' \
			--wait-close </dev/null >/dev/null 2>&1 &
	done
	for rs in "${topo_real_servers[@]}"; do
		for _ in $(seq 100); do
			[ "$(in_rs $rs ss -ltn 2>/dev/null | grep -c -e ':8080 ' -e ':8081 ')" = 2 ] && break
			sleep 0.1
		done
	done
}

# Whether real server RS listens on SCTP PORT.
sctp_listening() { in_rs $1 ss -lnS | grep -q ":$2 "; }

# The file where a real server's responder counts its UDP datagrams.
responder_count_file() { echo /tmp/udp.$1.$$; }

# The director's counters (ipvsadm -Ln --stats) of each service and real server: protocol or
# "->", address, connections, then packets in and out. UDP's packets are exact; a TCP
# connection's depend on how the two hosts' stacks interleave its close (a FIN alone or with
# data, an ACK delayed or not), which differs from run to run on a fast kernel, so TCP's are
# "+" (some) or "0" (none).
stats_counts() {
	in_director ipvsadm -Ln --stats | awk 'NR > 3 {
		if ($1 != "->") proto = $1
		in_pkts = $4; out_pkts = $5
		if (proto == "TCP") {
			in_pkts = in_pkts > 0 ? "+" : "0"
			out_pkts = out_pkts > 0 ? "+" : "0"
		}
		print $1, $2, $3, in_pkts, out_pkts
	}'
}

# The address of a real server.
rs_addr() {
	case $1 in rs1) echo 172.16.0.11 ;; rs2) echo 172.16.0.12 ;; rs3) echo 172.16.0.13 ;; esac
}

# socat's messages without their time and process id, which differ from run to run.
socat_messages() {
	sed -E 's#^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]+ socat\[[0-9]+\] #socat #'
}

# One TCP request from the client to the virtual service: prints the real server's name.
# The answer gets 10 s (a debug kernel under TCG on a loaded host is slow).
tcp_request() {
	in_client socat -T 10 - TCP:$VIP:${1:-80},connect-timeout=3 </dev/null 2>&1 | socat_messages
}

# One UDP request from the client (a fresh source port each time): the answer, as soon as it
# comes, or nothing after UDP_REPLY_WAIT seconds (default 1: a real server forking a shell per
# datagram can take long on a loaded host).
udp_request() {
	in_client ipvsbench udp-request --target $VIP:${1:-53} --bind 0.0.0.0:$(next_udp_port) \
		--wait ${UDP_REPLY_WAIT:-1} 2>&1
}

# A client port no earlier UDP request of this test used: an ephemeral port, which the kernel
# picks at random, can repeat one that a live IPVS connection still has, and the request
# then joins that connection instead of being scheduled.
next_udp_port() {
	local file=/tmp/udp_port.$$ port
	port=$(cat $file 2>/dev/null || echo 42000)
	[ "$port" -lt 60000 ] || port=42000
	echo $((port + 1)) >$file
	echo $port
}

# The director's connections, counted by protocol, state, client address (its random ports
# dropped), virtual service and real server.
list_connections() {
	in_director ipvsadm -Lcn | awk 'NR > 2 { split($4, s, ":"); print $1, $3, s[1], $5, $6 }' |
		sort | uniq -c
}

# The director's conntrack entries (arguments go to conntrack -L), counted by their tuples,
# with five-digit (ephemeral) ports shown as C; entries without ports (the IGMP reports of
# the director's bridge, sent when they happen to be) are left out.
list_conntrack() {
	in_director conntrack -L "$@" 2>/dev/null | awk '/ sport=/ {
		tuples = ""
		for (i = 1; i <= NF; i++) {
			if ($i !~ /^(src|dst|sport|dport)=/) continue
			field = $i
			if (field ~ /port=[0-9][0-9][0-9][0-9][0-9]$/) sub(/=.*/, "=C", field)
			tuples = tuples " " field
		}
		print tuples
	}' | sort | uniq -c
}

# Uploads BYTES random bytes from the client to VIP:PORT, which must lead to rs1:PORT, and
# checks them end to end: prints "identical", "DIFFERENT" or "client failed".
upload() {
	local port=$1 bytes=$2 receiver
	in_rs rs1 socat -u TCP-LISTEN:$port,reuseaddr CREATE:/tmp/received.$$ </dev/null >/dev/null &
	receiver=$!
	head -c $bytes /dev/urandom >/tmp/sent.$$
	wait_until 10 in_rs rs1 bash -c "ss -ltn | grep -q ':$port '"
	in_client timeout 120 socat -u FILE:/tmp/sent.$$ TCP:$VIP:$port || echo -n "client failed, "
	for _ in $(seq 600); do
		kill -0 $receiver 2>/dev/null || break
		sleep 0.05
	done
	kill $receiver 2>/dev/null
	if cmp -s /tmp/sent.$$ /tmp/received.$$; then echo "identical"; else echo "DIFFERENT"; fi
	rm -f /tmp/sent.$$ /tmp/received.$$
}

# The benchmark's IPv6 (bench.sh, profile.sh), on the same links: the client fd00::2 and
# the addresses given, the director VIP6 on d0 and fd01::1 on br0, each real server
# rs_addr6 routed through it.
VIP6=fd00::1
rs_addr6() { echo "fd01::1${1#rs}"; }
topo_ipv6_up() {
	local a rs
	for a in fd00::2 "$@"; do
		ip -n $topo_ns_client addr add $a/64 dev c0 nodad || fail "ip addr add $a"
	done
	ip -n $topo_ns_client route add default via $VIP6
	ip -n $topo_ns_director addr add $VIP6/64 dev d0 nodad
	ip -n $topo_ns_director addr add fd01::1/64 dev br0 nodad
	in_director sysctl -qw net.ipv6.conf.all.forwarding=1
	for rs in "${topo_real_servers[@]}"; do
		ip -n ${rs}_$$ addr add "$(rs_addr6 $rs)"/64 dev eth0 nodad
		ip -n ${rs}_$$ route add default via fd01::1
	done
}

# Tears the topology down.
topo_down() {
	local rs
	# Processes left in them would keep the namespaces, and their services, alive.
	ns_del "${topo_real_servers[@]/%/_$$}" $topo_ns_client $topo_ns_director
	for rs in "${topo_real_servers[@]}"; do rm -f "$(responder_count_file $rs)"; done
}

# COUNT connections to $VIP:PORT from the client addresses in $CLIENTS (comma-separated) in
# turn, source ports from FIRST-PORT; further arguments go to ipvsbench (--hold). Prints the
# real server of each, and FAIL unless there is one word per connection.
seq_to() {
	local port=$1
	shift
	seq_at $VIP:$port "$@"
}

# The same to TARGET (address:port).
seq_at() {
	local target=$1 count=$2 first=$3 out
	shift 3
	out=$(in_client ipvsbench sequence --target $target --count $count --source $CLIENTS \
		--first-port $first --timeout-ms 2000 "$@" 2>&1)
	echo "$out"
	[ "$(echo "$out" | wc -w)" = "$count" ] || echo "FAIL: sequence to $target: $out"
}

# Waits until no connection of the service on $VIP:PORT is active: the held connections of
# the last sequence were closed when it exited, and their FINs must have reached the
# director before the next sequence is scheduled, or the active counts it sees would race.
wait_idle() {
	wait_idle_service -t $VIP:$1
}

# The same for the service ipvsadm's arguments name (-t ADDR:PORT, -f MARK).
wait_idle_service() {
	local i
	for i in $(seq 100); do
		in_director ipvsadm -Ln "$@" | awk '$1 == "->" { a += $5 } END { exit a != 0 }' &&
			return 0
		sleep 0.1
	done
	fail "connections to $* still active"
}

# The same services as kube-proxy's nftables mode programs them (pkg/proxy/nftables: a
# "service-ips" verdict map on address . protocol . port, a chain per service picking an
# endpoint with `numgen random mod N vmap`, a chain per endpoint that DNATs, the masquerade
# mark for clients outside the cluster CIDR (the client here is inside: no SNAT, as IPVS NAT),
# and the filter hooks' checks of new connections against empty maps), in one table per
# family: "ip" for the IPv4 services, "ip6" for the IPv6 ones. The services are the
# arguments after the fourth, PROTO:PORT each, on VIP (the real servers listen on the same
# port).
nft_rules() {
	local family=$1 vip=$2 cidr=$3 addr_type=$4 rs proto port service n i addr elements=
	shift 4
	echo "table $family kube-proxy {"
	echo "	chain mark-for-masquerade { meta mark set meta mark | 0x00004000; }"
	echo "	chain masquerading { meta mark & 0x00004000 == 0 return; meta mark set meta mark ^ 0x00004000; masquerade fully-random; }"
	echo "	map firewall-ips { type $addr_type . inet_proto . inet_service : verdict; }"
	echo "	map no-endpoint-services { type $addr_type . inet_proto . inet_service : verdict; }"
	echo "	chain firewall-check { $family daddr . meta l4proto . th dport vmap @firewall-ips; }"
	echo "	chain service-endpoints-check { $family daddr . meta l4proto . th dport vmap @no-endpoint-services; }"
	echo "	chain filter-prerouting { type filter hook prerouting priority dstnat - 10; policy accept; ct state new jump firewall-check; }"
	echo "	chain filter-forward { type filter hook forward priority -110; policy accept; ct state new jump service-endpoints-check; }"
	echo "	chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }"
	echo "	chain nat-output { type nat hook output priority -100; policy accept; jump services; }"
	echo "	chain nat-postrouting { type nat hook postrouting priority srcnat; policy accept; jump masquerading; }"
	for service in "$@"; do
		proto=${service%:*} port=${service#*:}
		n=0
		for rs in "${topo_real_servers[@]}"; do
			if [ "$family" = ip ]; then addr=$(rs_addr $rs); else addr=$(rs_addr6 $rs); fi
			echo "	chain endpoint-$proto$port-$rs { $family saddr $addr jump mark-for-masquerade; meta l4proto $proto dnat to $([ $family = ip ] && echo "$addr" || echo "[$addr]"):$port; }"
			n=$((n + 1))
		done
		printf '	chain service-%s%s { %s daddr %s %s dport %s %s saddr != %s jump mark-for-masquerade; numgen random mod %d vmap { ' \
			$proto $port $family "$vip" $proto $port $family "$cidr" $n
		i=0
		for rs in "${topo_real_servers[@]}"; do
			printf '%s%d : goto endpoint-%s%s-%s' "$([ $i = 0 ] || echo ', ')" $i $proto $port $rs
			i=$((i + 1))
		done
		echo ' }; }'
		elements="${elements:+$elements, }$vip . $proto . $port : goto service-$proto$port"
	done
	echo "	map service-ips { type $addr_type . inet_proto . inet_service : verdict; elements = { $elements }; }"
	echo "	chain services { $family daddr . meta l4proto . th dport vmap @service-ips; }"
	echo "}"
}

# Loads the services given (PROTO:PORT each) on $VIP and $VIP6 as kube-proxy's nftables mode
# programs them, instead of IPVS.
nft_load() {
	{
		nft_rules ip $VIP 10.0.0.0/24 ipv4_addr "$@"
		nft_rules ip6 $VIP6 fd00::/64 ipv6_addr "$@"
	} >/tmp/nft_rules.$$
	in_director nft -f /tmp/nft_rules.$$ || fail "nft -f: the kube-proxy ruleset"
	rm -f /tmp/nft_rules.$$
}

# Removes the nftables services and their connections.
nft_unload() {
	in_director nft delete table ip kube-proxy 2>/dev/null
	in_director nft delete table ip6 kube-proxy 2>/dev/null
	in_director conntrack -F >/dev/null 2>&1
	return 0
}
