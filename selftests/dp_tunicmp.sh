#!/bin/bash
# A router's "fragmentation needed" about the director's tunnel packets (C: the tunnel case of
# ip_vs_in_icmp), differential against the C ip_vs. The real server is behind a router whose
# far link takes 1300 bytes. For an IP-in-IP, a GUE and a GRE tunnel in turn, the router's
# error about a tunnel packet reaches the director, which lowers its path MTU to the real
# server and tells the client, as the virtual service, the room the tunnel leaves: the errors
# the client receives, in order, and the counters. Then a TCP upload through IP-in-IP.
. ./lib.sh

command -v tcpdump >/dev/null || skip "tcpdump is not in the guest"

# A virtual address and a real server address for each tunnel: path MTUs are learnt per
# destination, and each tunnel must start from the links' MTU.
VIPS=(192.168.60.1 192.168.60.2 192.168.60.3)
FARS=(172.17.0.2 172.17.0.3 172.17.0.4)
ns_client=tc$$
ns_director=td$$
ns_router=tr$$
ns_far=tf$$


#   client 172.16.0.2 --br0-- director 172.16.0.1 (VIPs on lo)
#                       `---- router 172.16.0.50 | 172.17.0.1 --1300-- far 172.17.0.2-4 (VIPs on lo)
topology_up() {
	local ns vip far
	for ns in $ns_client $ns_director $ns_router $ns_far; do ns_add $ns; done
	ip -n $ns_director link add br0 type bridge
	ip -n $ns_director addr add 172.16.0.1/24 dev br0
	ip -n $ns_director link set br0 up
	for vip in "${VIPS[@]}"; do
		ip -n $ns_director addr add $vip/32 dev lo
		ip -n $ns_far addr add $vip/32 dev lo
	done
	ip link add cb netns $ns_client type veth peer name vcl netns $ns_director
	ip link add r0 netns $ns_router type veth peer name vrt netns $ns_director
	ip -n $ns_director link set vcl master br0 up
	ip -n $ns_director link set vrt master br0 up
	ip -n $ns_client addr add 172.16.0.2/24 dev cb
	ip -n $ns_client link set cb up
	ip -n $ns_client route add 192.168.60.0/24 via 172.16.0.1
	ip -n $ns_router addr add 172.16.0.50/24 dev r0
	ip -n $ns_router link set r0 up
	ip link add r1 netns $ns_router mtu 1300 type veth peer name f0 netns $ns_far mtu 1300
	ip -n $ns_router addr add 172.17.0.1/24 dev r1
	ip -n $ns_router link set r1 up
	in_ns $ns_router sysctl -qw net.ipv4.ip_forward=1
	ip -n $ns_director route add 172.17.0.0/24 via 172.16.0.50
	for far in "${FARS[@]}"; do ip -n $ns_far addr add $far/24 dev f0; done
	ip -n $ns_far link set f0 up
	ip -n $ns_far route add default via 172.17.0.1
	ip -n $ns_far link set tunl0 up
	ip -n $ns_far link set gre0 up
	in_ns $ns_far ip fou add port 6080 gue
	in_ns $ns_far sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0 \
		net.ipv4.conf.gre0.rp_filter=0
}

topology_down() {
	local ns
	for ns in $ns_client $ns_director $ns_router $ns_far; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	true
}

listening() { in_ns $ns_far ss -ltn | grep -q ":$1 "; }
capturing() { grep -q 'listening on' /tmp/tunicmp_caperr.$$; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# The "fragmentation needed" errors the client has received.
icmp_count() { grep -c 'need to frag' /tmp/tunicmp_cap.$$; }
received() { [ "$(icmp_count)" -ge "$1" ]; }

# Two 1400-byte UDP datagrams with DF to VIP:5000, through a tunnel of ipvsadm's options to
# FAR.
# The first crosses the director (whose route says 1500) and meets the router's 1300-byte
# link: the router's error comes back to the director, which passes it on to the client with
# the room the tunnel left on the route it used. The second meets the director's own check
# against the path MTU it has just learnt. Prints the errors the client received, in order.
probe_through() {
	local vip=$1 far=$2 capture
	shift 2
	in_ns $ns_director ipvsadm -A -u $vip:5000 -s rr
	in_ns $ns_director ipvsadm -a -u $vip:5000 -r $far:5000 "$@"
	# The files go first: the previous probe's "listening on" would otherwise pass the wait
	# below before this capture's shell truncates them (a probe then lost its first error).
	rm -f /tmp/tunicmp_cap.$$ /tmp/tunicmp_caperr.$$
	in_ns $ns_client tcpdump -t -nn -l -Z root -i cb icmp >/tmp/tunicmp_cap.$$ \
		2>/tmp/tunicmp_caperr.$$ &
	capture=$!
	wait_until 10 capturing
	head -c 1372 /dev/zero | in_ns $ns_client socat -u - \
		UDP:$vip:5000,sourceport=40000,mtudiscover=2
	wait_until 10 received 1
	head -c 1372 /dev/zero | in_ns $ns_client socat -u - \
		UDP:$vip:5000,sourceport=40000,mtudiscover=2 2>&1 | socat_messages
	wait_until 10 received 2
	kill $capture
	wait $capture 2>/dev/null
	sed 's/, length [0-9]*$//' /tmp/tunicmp_cap.$$
	rm -f /tmp/tunicmp_cap.$$ /tmp/tunicmp_caperr.$$
	# C sums its counters on the estimator's tick, every 2 s.
	wait_until 10 counted $vip
	in_ns $ns_director ipvsadm -Ln --stats -u $vip:5000 | tail -n +4
}

# Whether the director's counters show the service at VIP:5000 sent its two datagrams.
counted() {
	in_ns $ns_director ipvsadm -Ln --stats -u $1:5000 | awk '$1 == "->" && $4 == 2 { f = 1 } END { exit !f }'
}

# socat's messages without their time and process id.
socat_messages() {
	sed -E 's#^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]+ socat\[[0-9]+\] #socat #'
}

# A 300 KB TCP upload through IP-in-IP across the router: the client learns the path MTU
# and the upload arrives intact (how many errors it took depends on the segments in flight).
upload_through_ipip() {
	local receiver
	in_ns $ns_director ipvsadm -A -t ${VIPS[0]}:5001 -s rr
	in_ns $ns_director ipvsadm -a -t ${VIPS[0]}:5001 -r ${FARS[0]}:5001 -i
	in_ns $ns_far socat -u TCP-LISTEN:5001,reuseaddr CREATE:/tmp/tunicmp_received.$$ \
		</dev/null >/dev/null 2>&1 &
	receiver=$!
	wait_until 10 listening 5001
	head -c 300000 /dev/urandom >/tmp/tunicmp_sent.$$
	in_ns $ns_client timeout 60 socat -u FILE:/tmp/tunicmp_sent.$$ TCP:${VIPS[0]}:5001 ||
		echo "client failed"
	wait_until 30 exited $receiver
	if cmp -s /tmp/tunicmp_sent.$$ /tmp/tunicmp_received.$$; then
		echo "upload: identical"
	else
		echo "upload: DIFFERENT"
	fi
	rm -f /tmp/tunicmp_sent.$$ /tmp/tunicmp_received.$$
}

scenario() {
	topology_up
	echo "== IP-in-IP"
	probe_through ${VIPS[0]} ${FARS[0]} -i
	echo "== GUE"
	probe_through ${VIPS[1]} ${FARS[1]} -i --tun-type gue --tun-port 6080
	echo "== GRE"
	probe_through ${VIPS[2]} ${FARS[2]} -i --tun-type gre
	echo "== TCP through IP-in-IP"
	upload_through_ipip
	topology_down
}

differential "router errors about tunnel packets" scenario
got_has '^upload: identical$' "the upload failed"
got_has "^IP ${VIPS[0]} > 172.16.0.2: ICMP ${VIPS[0]} unreachable - need to frag (mtu 1480)$" \
	"the router's error about IP-in-IP not translated"
log "identical to the C ip_vs"
exit $ksft_pass
