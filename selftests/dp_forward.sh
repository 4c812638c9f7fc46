#!/bin/bash
# Direct routing (-g) and tunnelling (-i: IP-in-IP, GUE and GRE, with their checksum
# options), differential against the C ip_vs. The client reaches the virtual address
# 192.168.50.1 through the director over the real servers' segment; the real servers hold the
# virtual address on lo (ARP-silent) and answer the client directly, so the director sees only
# the client's half of each connection. Each method shows: the TCP and UDP rr sequences, what
# rs1 receives on the wire (a UDP datagram sent with TOS 0x0b, ECN "congestion experienced",
# and a TCP SYN: TTL, TOS, flags, lengths, link-layer destination, the tunnel's outer header
# and encapsulation bytes, checksums verified by tcpdump), the connections and their
# input-only TCP states, ipvsadm's listing, and a 2 MB upload intact (through a tunnel with
# path MTU discovery, then with pmtu_disc=0, when the director fragments the tunnel packets).
. ./lib.sh
. ./topology.sh

command -v tcpdump >/dev/null && command -v ethtool >/dev/null ||
	skip "tcpdump or ethtool is not in the guest"

VIP=192.168.50.1

# The topology with the client on the real servers' segment (172.16.0.2) and the services of
# forwarding method $1 (ipvsadm's -g, or -i with its tunnel options): TCP :80 and UDP :54 rr
# to every real server, and TCP :5001 and UDP :5353 to rs1 alone (the upload and the
# captures). The real servers decapsulate IP-in-IP on tunl0, GUE on UDP port 6080 (fou) and
# GRE on gre0 (with checksums, on a tunnel from the director that expects them).
forward_up() {
	local method=$1 rs
	topo_up
	ip link add cb netns $topo_ns_client type veth peer name vcl netns $topo_ns_director
	ip -n $topo_ns_director link set vcl master br0 up
	ip -n $topo_ns_client addr add 172.16.0.2/24 dev cb
	ip -n $topo_ns_client link set cb up
	# Complete checksums on the wire, which tcpdump verifies (veth leaves them to a device).
	in_client ethtool -K cb tx off >/dev/null
	ip -n $topo_ns_client route add $VIP/32 via 172.16.0.1 dev cb
	in_director ip addr add $VIP/32 dev lo
	for rs in "${topo_real_servers[@]}"; do
		# No IPv6: a tunnel device's router solicitation, which the director answers with an
		# ICMP error, would show in the captures.
		in_rs $rs sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		in_rs $rs ip addr add $VIP/32 dev lo
		# A UDP answer must come from the virtual address, which the wildcard listener on
		# :53 would not use as its source: a responder bound to it answers every datagram.
		in_rs $rs ipvsbench server --bind $VIP --tcp-port 8054 --udp-port 54 --threads 1 \
			--reply "$rs"$'\n' --udp-reply </dev/null >/dev/null 2>&1 &
		case "$method" in
		*gre*--tun-csum*)
			# GRE with checksums reaches a tunnel that expects them, not gre0.
			in_rs $rs ip link add gre1 type gre local $(rs_addr $rs) remote 172.16.0.1 icsum
			in_rs $rs ip link set gre1 up
			in_rs $rs sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.gre1.rp_filter=0
			;;
		*gre*)
			in_rs $rs ip link set gre0 up
			in_rs $rs sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.gre0.rp_filter=0
			;;
		-i*)
			in_rs $rs ip link set tunl0 up
			in_rs $rs sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
			case "$method" in *gue*) in_rs $rs ip fou add port 6080 gue ;; esac
			;;
		esac
	done
	for rs in "${topo_real_servers[@]}"; do
		for _ in $(seq 50); do
			in_rs $rs ss -lun | grep -q "$VIP:54 " && break
			sleep 0.1
		done
	done
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -A -u $VIP:54 -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 $method
		in_director ipvsadm -a -u $VIP:54 -r $(rs_addr $rs):54 $method
	done
	in_director ipvsadm -A -t $VIP:5001 -s rr
	in_director ipvsadm -a -t $VIP:5001 -r $(rs_addr rs1):5001 $method
	in_director ipvsadm -A -u $VIP:5353 -s rr
	in_director ipvsadm -a -u $VIP:5353 -r $(rs_addr rs1):5353 $method
}

# Starts tcpdump on rs1's link for COUNT packets it receives matching FILTER (not its own,
# such as the IPv6 router solicitation its GRE device sends) and waits until it listens.
capture_start() {
	local count=$1 filter=$2
	rm -f /tmp/cap.$$ /tmp/caperr.$$
	in_rs rs1 tcpdump -nn -vv -e -x -l -Z root -Q in -i eth0 -c $count "$filter" >/tmp/cap.$$ \
		2>/tmp/caperr.$$ &
	capture_pid=$!
	for _ in $(seq 100); do
		grep -q 'listening on' /tmp/caperr.$$ 2>/dev/null && break
		sleep 0.05
	done
}

# Waits for the capture (5 s at most) and prints it: rs1's own link address shown as RS1-MAC,
# the others as MAC, and what differs from run to run (IP identification, TCP sequence
# number, timestamps, checksums over them) masked. The tunnel header between the outer and
# the inner IPv4 header (its first ENCAP_LEN bytes, checksum fields masked) is shown in hex.
capture_show() {
	local mac
	for _ in $(seq 100); do
		kill -0 $capture_pid 2>/dev/null || break
		sleep 0.05
	done
	kill $capture_pid 2>/dev/null
	wait $capture_pid 2>/dev/null
	mac=$(in_rs rs1 ip -br link show dev eth0 | awk '{ print $3 }')
	grep -v $'^\t0x' /tmp/cap.$$ | sed -E -e "s/$mac/RS1-MAC/g" \
		-e 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g' -e 's/^[0-9:.]+ //' -e 's/id [0-9]+/id N/g' \
		-e 's/seq [0-9]+/seq N/' -e 's/TS val [0-9]+/TS val N/' \
		-e 's/(cksum|sum) 0x[0-9a-f]+/\1 X/g' -e 's/-> 0x[0-9a-f]+/-> X/g' \
		-e 's/172\.16\.0\.1\.[0-9]+ > /172.16.0.1.SPORT > /'
	if [ "${ENCAP_LEN:-0}" -gt 0 ]; then
		grep $'^\t0x' /tmp/cap.$$ | sed -E 's/^\t0x[0-9a-f]+: +//; s/ //g' | tr -d '\n' |
			awk -v len=$ENCAP_LEN -v mask="$ENCAP_MASK" '{
				# After the outer IPv4 header (tcpdump -x leaves the link header out).
				hex = substr($0, 2 * 20 + 1, 2 * len)
				n = split(mask, m, ",")
				for (i = 1; i <= n; i++) if (m[i] != "")
					hex = substr(hex, 1, 2 * m[i]) "XXXX" substr(hex, 2 * m[i] + 5)
				print "encapsulation: " hex
			}'
	fi
	rm -f /tmp/cap.$$ /tmp/caperr.$$
}

# The sequences, captures, connections, listing and uploads of forwarding method $1.
scenario() {
	local method="$*" i out
	forward_up "$method"
	out=""
	for i in 1 2 3 4 5 6; do
		out="$out $(tcp_request | grep -oE 'rs[123]' || echo none)"
	done
	echo "tcp:$out"
	out=""
	for i in 1 2 3 4 5 6; do
		out="$out $(udp_request 54 | grep -oE 'rs[123]' || echo none)"
	done
	echo "udp:$out"

	echo "--- a UDP datagram, TOS 0x0b, as rs1 receives it"
	capture_start 1 "udp port 5353 or ip proto 4 or ip proto 47 or udp port 6080"
	echo ping | in_client socat -u - UDP:$VIP:5353,sourceport=43001,ip-tos=0x0b
	capture_show
	# A port unreachable from the client about that datagram's connection (as if rs1's
	# answer from the virtual address had found no socket) goes to rs1 the same way.
	echo "--- the client's ICMP error about it, as rs1 receives it"
	capture_start 1 "icmp or ip proto 4 or ip proto 47 or udp port 6080"
	printf '\x03\x03\x40\x0d\x00\x00\x00\x00\x45\x00\x00\x21\x00\x00\x40\x00\x40\x11\x9c\x10\xc0\xa8\x32\x01\xac\x10\x00\x02\x14\xe9\xa7\xf9\x00\x0d\x00\x00' |
		in_client socat -u - IP4-SENDTO:$VIP:1
	capture_show
	echo "--- a TCP SYN, as rs1 receives it"
	capture_start 1 "tcp port 5001 or ip proto 4 or ip proto 47 or udp port 6080"
	in_client socat -T 2 - TCP:$VIP:5001,connect-timeout=2,sourceport=43002 </dev/null \
		>/dev/null 2>&1
	capture_show

	case "$method" in *remcsum*)
		# The director's own SYN: its checksum is left to the device (CHECKSUM_PARTIAL), so
		# remote checksum offload applies and the GUE header carries the option.
		echo "--- a TCP SYN from the director itself, as rs1 receives it"
		capture_start 1 "udp port 6080"
		in_director socat -T 1 - TCP:$VIP:5001,connect-timeout=1 </dev/null >/dev/null 2>&1
		ENCAP_LEN=20 capture_show
		;;
	esac
	echo "--- connections"
	list_connections
	echo "--- ipvsadm -Ln"
	in_director ipvsadm -Ln
	echo "--- 2 MB upload: $(upload 5001 2000000)"
	# Without path MTU discovery, once (the encapsulations share the fragmentation).
	case "$method" in -i)
		in_director sysctl -qw net.ipv4.vs.pmtu_disc=0
		# A new client address: the client cached the tunnel's path MTU for the first.
		ip -n $topo_ns_client addr add 172.16.0.3/24 dev cb
		ip -n $topo_ns_client route replace $VIP/32 via 172.16.0.1 dev cb src 172.16.0.3
		echo "--- 2 MB upload with pmtu_disc=0: $(upload 5001 2000000)"
		;;
	esac
	topo_down
}

differential "direct routing" "scenario -g"
got_has '^tcp: rs[123] rs[123] rs[123] rs[123] rs[123] rs[123]$' \
	"DR: every TCP request served"
got_has '^udp: rs[123] rs[123] rs[123] rs[123] rs[123] rs[123]$' \
	"DR: every UDP request served"
got_has '^--- 2 MB upload: identical$' "DR: upload intact"
echo "$got" | grep -A1 "^--- the client's ICMP error" | grep -q 'RS1-MAC.*proto ICMP' ||
	fail "DR: the client's ICMP error about a connection forwarded to its real server"
got_has '172.16.0.2.43001 > 192.168.50.1.5353: \[udp sum ok\]' \
	"DR: the datagram reaches rs1's MAC with the virtual address, checksum intact"

differential "IP-in-IP tunnel" "scenario -i"
got_has '^udp: rs[123] rs[123] rs[123] rs[123] rs[123] rs[123]$' \
	"TUN: every UDP request served"
got_has 'length 67: (tos 0xa,ECT(0), ttl 63, .* proto IPIP (4), length 53)' \
	"TUN: the datagram reaches rs1 in IP-in-IP, ECN CE encapsulated as ECT(0)"
got_has '^ *172.16.0.1 > 172.16.0.11: (tos 0xb,CE, ttl 63, ' \
	"TUN: the outer header from the director to rs1, the inner packet's TOS kept"
got_has '^--- 2 MB upload with pmtu_disc=0: identical$' \
	"TUN: upload intact without path MTU discovery"

# GUE and GRE, with and without their checksums (and GUE's remote checksum offload): the
# encapsulation header in hex, with GUE's UDP source port (a hash of the sender socket's
# random flow hash) and UDP checksum (over the inner IP identification) masked.
for tun in "gue --tun-port 6080" "gue --tun-port 6080 --tun-csum" \
	"gue --tun-port 6080 --tun-remcsum" "gre" "gre --tun-csum"; do
	case "$tun" in
	gue*) export ENCAP_LEN=12 ENCAP_MASK=0,6 ;;
	*csum*) export ENCAP_LEN=8 ENCAP_MASK=4 ;;
	*) export ENCAP_LEN=4 ENCAP_MASK= ;;
	esac
	differential "tunnel type $tun" "scenario -i --tun-type $tun"
	got_has '^tcp: rs[123] rs[123] rs[123] rs[123] rs[123] rs[123]$' \
		"$tun: every TCP request served"
	got_has '^--- 2 MB upload: identical$' "$tun: upload intact"
done
log "identical to the C ip_vs"
exit $ksft_pass
