#!/bin/bash
# Tunnels with IPv6, differential against the C ip_vs: an IPv6 service tunnelled to IPv6 real
# servers (IPv6 in IPv6, GUE and GRE over IPv6) and the mixed families C allows for tunnels
# only (an IPv6 service to IPv4 real servers: IPv6 in IPv4; an IPv4 service to IPv6 real
# servers: IPv4 in IPv6). Each shows the TCP rr sequence, what rs1 receives on the wire (a
# UDP datagram with traffic class 0x0b, ECN "congestion experienced": the outer header and
# its hop limit, class or TOS, next header), a 2 MB upload intact through the tunnel with the
# client's path MTU learnt from the director ("packet too big" or "fragmentation needed" with
# the tunnel's MTU), ipvsadm's listing and the connections in ipvsadm -Lcn. Mixed-family real
# servers of a NAT or DR service are refused as C refuses them.
. ./lib.sh

command -v tcpdump >/dev/null || skip "tcpdump is not in the guest"

VIP4=192.168.50.1
VIP6=fd02::1
ns_client=tc$$
ns_director=td$$
RS=(rs1 rs2)

in_client() { in_ns $ns_client "$@"; }
in_director() { in_ns $ns_director "$@"; }
in_rs() { local rs=$1; shift; in_ns ${rs}t_$$ "$@"; }
rs_addr4() { case $1 in rs1) echo 172.16.0.11 ;; rs2) echo 172.16.0.12 ;; esac; }
rs_addr6() { case $1 in rs1) echo fd01::11 ;; rs2) echo fd01::12 ;; esac; }

#   client 172.16.0.2 fd01::2 --+
#   director 172.16.0.1 fd01::1 (br0), VIPs on lo
#   rs1 .11 ::11, rs2 .12 ::12 --+ (VIPs on lo, decapsulating: tunl0, sit0, t6any, fou, ip6gre0)
# The client reaches both virtual addresses through the director and gets the real servers'
# answers directly on the link.
topology_up() {
	local rs i=11
	ns_add $ns_client
	ns_add $ns_director
	ip -n $ns_director link add br0 type bridge
	ip -n $ns_director addr add 172.16.0.1/24 dev br0
	ip -n $ns_director addr add fd01::1/64 dev br0 nodad
	ip -n $ns_director link set br0 up
	ip -n $ns_director addr add $VIP4/32 dev lo
	ip -n $ns_director addr add $VIP6/128 dev lo nodad
	in_director sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip link add cb netns $ns_client type veth peer name vcl netns $ns_director
	ip -n $ns_director link set vcl master br0 up
	ip -n $ns_client addr add 172.16.0.2/24 dev cb
	ip -n $ns_client addr add fd01::2/64 dev cb nodad
	ip -n $ns_client link set cb up
	ip -n $ns_client route add $VIP4/32 via 172.16.0.1
	ip -n $ns_client route add $VIP6/128 via fd01::1
	for rs in "${RS[@]}"; do
		ns_add ${rs}t_$$
		ip link add eth0 netns ${rs}t_$$ type veth peer name v$rs netns $ns_director
		ip -n $ns_director link set v$rs master br0 up
		ip -n ${rs}t_$$ addr add 172.16.0.$i/24 dev eth0
		ip -n ${rs}t_$$ addr add fd01::$i/64 dev eth0 nodad
		ip -n ${rs}t_$$ link set eth0 up
		in_rs $rs sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
		ip -n ${rs}t_$$ addr add $VIP4/32 dev lo
		ip -n ${rs}t_$$ addr add $VIP6/128 dev lo nodad
		# The fallback devices take IPv4 in IPv4 (tunl0), IPv6 in IPv4 (sit0), either in
		# IPv6 (ip6tnl0) and GRE over IPv6 (ip6gre0); fou hands GUE's inner packets to them.
		for dev in tunl0 sit0 ip6gre0; do
			ip -n ${rs}t_$$ link set $dev up
			in_rs $rs sysctl -qw net.ipv4.conf.$dev.rp_filter=0
		done
		# ip6tnl0 takes IPv6 in IPv6 only: a tunnel of mode "any" to this address from any
		# remote takes IPv4 in IPv6 too.
		ip -n ${rs}t_$$ -6 tunnel add t6any mode any local fd01::$i
		ip -n ${rs}t_$$ link set t6any up
		in_rs $rs ip fou add port 6080 gue -6
		in_rs $rs ip fou add port 6080 gue
		# Answers come from the virtual address the request was for.
		in_rs $rs ipvsbench server --bind $VIP4 --tcp-port 80 --udp-port 54 --threads 1 \
			--reply "$rs"$'\n' --udp-reply </dev/null >/dev/null 2>&1 &
		in_rs $rs ipvsbench server --bind $VIP6 --tcp-port 80 --udp-port 54 --threads 1 \
			--reply "$rs"$'\n' --udp-reply </dev/null >/dev/null 2>&1 &
		i=$((i + 1))
	done
	for rs in "${RS[@]}"; do
		wait_until 10 listening $rs "$VIP4:80"
		wait_until 10 listening $rs "\[$VIP6\]:80"
	done
}

listening() { in_rs $1 ss -ltn | grep -q "$2 "; }
exited() { ! kill -0 "$1" 2>/dev/null; }

topology_down() {
	local ns
	for ns in $ns_client $ns_director "${RS[@]/%/t_$$}"; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	true
}

# Starts tcpdump on rs1's link for one packet it receives matching FILTER and waits until it
# listens.
capture_start() {
	rm -f /tmp/t6cap.$$ /tmp/t6caperr.$$
	in_rs rs1 tcpdump -nn -vv -l -Z root -Q in -i eth0 -c 1 "$1" >/tmp/t6cap.$$ 2>/tmp/t6caperr.$$ &
	capture_pid=$!
	wait_until 5 grep -q 'listening on' /tmp/t6caperr.$$
}

# Waits for the capture (5 s at most) and prints it, what differs between runs masked (IP
# identification, the socket's flow label, checksums over the random source port).
capture_show() {
	local i
	for i in $(seq 100); do
		kill -0 $capture_pid 2>/dev/null || break
		sleep 0.05
	done
	kill $capture_pid 2>/dev/null
	wait $capture_pid 2>/dev/null
	sed -E -e 's/^[0-9:.]+ //' -e 's/id [0-9]+/id N/g' -e 's/(cksum|sum) 0x[0-9a-f]+/\1 X/g' \
		-e 's/flowlabel 0x[0-9a-f]+/flowlabel N/g' -e 's/-> 0x[0-9a-f]+/-> X/g' \
		-e 's/\.[0-9]{5} > /.SPORT > /g' /tmp/t6cap.$$
	rm -f /tmp/t6cap.$$ /tmp/t6caperr.$$
}

# The real servers' TCP :80 sequence through the service at VIP (its family's notation), 4
# connections from consecutive source ports.
sequence() {
	local target=$1 source=$2 first=$3
	in_client ipvsbench sequence --target "$target" --count 4 --source $source \
		--first-port $first --timeout-ms 3000 2>&1
}

# One UDP datagram from source port 43001 with traffic class 0x0b to the service VIP:54, as
# rs1 receives it (the family's socat address type in SOCAT).
datagram() {
	local socat_addr=$1
	capture_start "ip proto 4 or ip proto 41 or ip6 proto 41 or ip6 proto 4 or udp port 6080 or ip6 proto 47"
	local tos=ip-tos
	case $socat_addr in UDP6*) tos=ipv6-tclass ;; esac
	echo ping | in_client socat -u - "$socat_addr:54,sourceport=43001,$tos=0x0b"
	capture_show
}

# A 2 MB upload to rs1 through the service at TARGET (socat address), then the client's
# route to VIP with the path MTU it learnt.
upload() {
	local socat_addr=$1 vip=$2 listen=$3 receiver
	in_rs rs1 socat -u $listen:5001,reuseaddr CREATE:/tmp/t6_received.$$ </dev/null \
		>/dev/null 2>&1 &
	receiver=$!
	wait_until 10 listening rs1 ":5001"
	head -c 2000000 /dev/urandom >/tmp/t6_sent.$$
	in_client timeout 60 socat -u FILE:/tmp/t6_sent.$$ "$socat_addr:5001" || echo "client failed"
	wait_until 30 exited $receiver
	if cmp -s /tmp/t6_sent.$$ /tmp/t6_received.$$; then echo "2 MB upload: identical"; else
		echo "2 MB upload: DIFFERENT"; fi
	rm -f /tmp/t6_sent.$$ /tmp/t6_received.$$
	echo "client's path MTU: $(in_client ip route get $vip | grep -o 'mtu [0-9]*' || echo none)"
}

# The connections of ipvsadm -Lcn, client ports dropped.
connections() {
	in_director ipvsadm -Lcn | awk 'NR > 2 { c = $4; sub(/:[0-9]+$/, "", c); print $1, $3, c, $5, $6 }' |
		sort | uniq -c
}

# One tunnel scenario: services at VIP (either family), real servers of family RSF (4 or 6)
# with the tunnel options that follow.
scenario() {
	local vip=$1 rsf=$2 opts="${*:3}" target socat_addr listen src rs addr
	topology_up
	case $vip in
	*:*) target="[$vip]"; socat_addr="UDP6:[$vip]"; listen=TCP6-LISTEN; src=fd01::2 ;;
	*) target=$vip; socat_addr="UDP4:$vip"; listen=TCP4-LISTEN; src=172.16.0.2 ;;
	esac
	in_director ipvsadm -A -t $target:80 -s rr
	in_director ipvsadm -A -u $target:54 -s rr
	in_director ipvsadm -A -t $target:5001 -s rr
	for rs in "${RS[@]}"; do
		if [ $rsf = 6 ]; then addr="[$(rs_addr6 $rs)]"; else addr=$(rs_addr4 $rs); fi
		in_director ipvsadm -a -t $target:80 -r $addr:80 -i $opts
	done
	# The datagram and the upload go to rs1, where the capture runs.
	if [ $rsf = 6 ]; then addr="[$(rs_addr6 rs1)]"; else addr=$(rs_addr4 rs1); fi
	in_director ipvsadm -a -u $target:54 -r $addr:54 -i $opts
	in_director ipvsadm -a -t $target:5001 -r $addr:5001 -i $opts
	echo "tcp: $(sequence "$target:80" $src 30000 | tr '\n' ' ')"
	echo "--- a UDP datagram, traffic class 0x0b, as rs1 receives it"
	datagram "${socat_addr}"
	echo "--- upload"
	upload "${socat_addr/UDP/TCP}" $vip $listen
	echo "--- ipvsadm -Ln"
	in_director ipvsadm -Ln
	echo "--- connections"
	connections
	echo "--- /proc/net/ip_vs_conn, UDP"
	in_director grep '^UDP' /proc/net/ip_vs_conn | awk '{ print $1, $2, $4, $5, $6, $7, $8 }'
	topology_down
}

# Mixed families without a tunnel: refused, as C refuses them.
refusals() {
	topology_up
	in_director ipvsadm -A -t $VIP4:80 -s rr
	in_director ipvsadm -A -t "[$VIP6]:80" -s rr
	echo "NAT v4 -> v6: $(in_director ipvsadm -a -t $VIP4:80 -r [fd01::11]:80 -m 2>&1)"
	echo "DR v4 -> v6: $(in_director ipvsadm -a -t $VIP4:80 -r [fd01::11]:80 -g 2>&1)"
	echo "NAT v6 -> v4: $(in_director ipvsadm -a -t [$VIP6]:80 -r 172.16.0.11:80 -m 2>&1)"
	echo "TUN v6 -> v4: $(in_director ipvsadm -a -t [$VIP6]:80 -r 172.16.0.11:80 -i 2>&1) ok"
	echo "then edited to DR: $(in_director ipvsadm -e -t [$VIP6]:80 -r 172.16.0.11:80 -g 2>&1)"
	in_director ipvsadm -Ln
	topology_down
}

differential "IPv6 in IPv6" "scenario $VIP6 6"
differential "GUE over IPv6" "scenario $VIP6 6 --tun-type gue --tun-port 6080"
differential "GRE over IPv6" "scenario $VIP6 6 --tun-type gre"
differential "IPv6 in IPv4" "scenario $VIP6 4"
differential "IPv4 in IPv6" "scenario $VIP4 6"
differential "mixed families refused without a tunnel" refusals
log "identical to the C ip_vs"
exit $ksft_pass
