#!/bin/bash
# rust_ipvs on Debian's stock kernel (run by scripts/debian-vm.sh in a guest booted on Debian's
# own vmlinuz): the module built by scripts/debian-kernel.sh loads with insmod once its
# dependencies are modprobed, Debian's ipvsadm configures a NAT service on it, TCP and UDP pass
# between network namespaces, and it unloads.
#
#   client ns             director ns                       server ns
#   10.0.1.2  --veth--  10.0.1.1, VIP 10.0.1.100
#                       10.0.2.1                --veth--  10.0.2.2 (rs1), 10.0.2.3 (rs2)
#
# The virtual-service traffic first runs with the kernel's own ip_vs, which proves the scenario
# on this kernel. Through rust_ipvs it must then pass the same way; while the data path is not
# implemented (no reply and no connection in /proc/net/ip_vs_conn) that part prints
# "SKIP traffic: data path not implemented" and the test exits 4 (skip) after the unload.
. ./lib.sh

rel=$(uname -r)
ko=${RUST_IPVS_KO:-/root/rust_ipvs-$rel.ko}
[ -f "$ko" ] || skip "no $ko (scripts/debian-vm.sh installs it)"

C=dkc$$ D=dkd$$ S=dks$$
VIP=10.0.1.100 RS1=10.0.2.2 RS2=10.0.2.3

cleanup() {
	local ns
	for ns in $C $D $S; do
		kill $(ip netns pids $ns 2>/dev/null) 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
}
trap cleanup EXIT

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# One request from the client namespace: prints the reply (the serving real server's tag and the
# token), nothing if none came. UDP has no end of stream: socat waits -t seconds for the reply.
request() {
	local proto=$1 addr=$2 port=$3 token=$4
	case $proto in
	tcp) echo "$token" | in_ns $C timeout 15 socat -t 5 -T 10 - "TCP:$addr:$port,connect-timeout=5" 2>/dev/null ;;
	udp) echo "$token" | in_ns $C timeout 15 socat -t 3 -T 10 - "UDP:$addr:$port" 2>/dev/null ;;
	esac
}

# ---- the namespaces, the veth links and the real servers
modprobe veth || fail "modprobe veth"
ns_add $C
ns_add $D
ns_add $S
ip link add veth0 netns $C type veth peer name vc netns $D || fail "veth client-director"
ip link add veth0 netns $S type veth peer name vs netns $D || fail "veth director-server"
ip -n $C addr add 10.0.1.2/24 dev veth0
ip -n $C link set veth0 up
ip -n $C route add default via 10.0.1.1
ip -n $D addr add 10.0.1.1/24 dev vc
ip -n $D addr add $VIP/32 dev vc
ip -n $D addr add 10.0.2.1/24 dev vs
ip -n $D link set vc up
ip -n $D link set vs up
in_ns $D sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
ip -n $S addr add $RS1/24 dev veth0
ip -n $S addr add $RS2/24 dev veth0
ip -n $S link set veth0 up
ip -n $S route add default via 10.0.2.1

# Echo servers naming themselves; -T ends a UDP flow's child after 5 s without a datagram. They
# must not hold the test's output open (cleanup kills every process in the namespaces).
for rs in rs1:$RS1 rs2:$RS2; do
	tag=${rs%%:*} addr=${rs#*:}
	in_ns $S socat -T 10 TCP-LISTEN:8080,bind=$addr,fork,reuseaddr "SYSTEM:read l; echo $tag-\$l" \
		</dev/null >/dev/null 2>>/tmp/servers.log &
	in_ns $S socat -T 5 UDP-RECVFROM:5353,bind=$addr,fork "SYSTEM:read l; echo $tag-\$l" \
		</dev/null >/dev/null 2>>/tmp/servers.log &
done
# The servers are up once a direct request is answered.
for i in $(seq 20); do
	[ "$(request tcp $RS2 8080 up)" = rs2-up ] && break
	sleep 0.5
done

# Plain routed TCP and UDP from the client to both real servers through the director.
plain_traffic() {
	local what=$1 proto rs want got
	for proto in tcp udp; do
		for rs in rs1:$RS1 rs2:$RS2; do
			want=${rs%%:*}-plain
			port=8080
			[ $proto = udp ] && port=5353
			got=$(request $proto ${rs#*:} $port plain)
			[ "$got" = "$want" ] ||
				fail "traffic: plain $proto client -> ${rs#*:}:$port ($what): got '$got', want '$want'"
		done
	done
	log "traffic: plain TCP and UDP client -> $RS1, $RS2 through the director ($what): ok"
}

# The virtual services, configured with Debian's ipvsadm in the director's namespace.
configure() {
	run in_ns $D ipvsadm -A -t $VIP:80 -s rr
	run in_ns $D ipvsadm -a -t $VIP:80 -r $RS1:8080 -m
	run in_ns $D ipvsadm -a -t $VIP:80 -r $RS2:8080 -m
	run in_ns $D ipvsadm -A -u $VIP:53 -s rr
	run in_ns $D ipvsadm -a -u $VIP:53 -r $RS1:5353 -m
	run in_ns $D ipvsadm -a -u $VIP:53 -r $RS2:5353 -m
}

# 4 TCP connections and 2 UDP flows to the VIP; prints the replies, one a line.
vs_traffic() {
	local i
	for i in 1 2 3 4; do echo "tcp $(request tcp $VIP 80 t$i)"; done
	for i in 1 2; do echo "udp $(request udp $VIP 53 u$i)"; done
}

# Round robin over two real servers: each one answers half of each protocol's requests.
vs_traffic_ok() {
	local replies=$1
	[ "$(echo "$replies" | grep -c -E '^tcp rs1-t[0-9]$')" = 2 ] &&
		[ "$(echo "$replies" | grep -c -E '^tcp rs2-t[0-9]$')" = 2 ] &&
		[ "$(echo "$replies" | grep -c -E '^udp rs1-u[0-9]$')" = 1 ] &&
		[ "$(echo "$replies" | grep -c -E '^udp rs2-u[0-9]$')" = 1 ]
}

connections() {
	in_ns $D cat /proc/net/ip_vs_conn 2>/dev/null | tail -n +2 | grep -c .
}

# ---- reference: the same services and traffic with the kernel's ip_vs
ref_listing=""
if modinfo ip_vs >/dev/null 2>&1; then
	ipvs_unload
	modprobe ip_vs && modprobe ip_vs_rr || fail "reference: modprobe ip_vs ip_vs_rr"
	configure
	ref_listing=$(in_ns $D ipvsadm -Ln)
	replies=$(vs_traffic)
	vs_traffic_ok "$replies" || {
		echo "$replies"
		in_ns $D ipvsadm -Lnc
		fail "reference: the kernel's ip_vs did not balance the traffic: the scenario is broken"
	}
	log "reference: kernel ip_vs, TCP x4 and UDP x2 to $VIP balanced over rs1 and rs2: ok"
	in_ns $D ipvsadm -C
	modprobe -r ip_vs_rr ip_vs || fail "reference: modprobe -r ip_vs_rr ip_vs"
else
	log "reference: no ip_vs module, skipped"
fi

# ---- load
deps=$(modinfo -F depends "$ko" | tr ',' ' ')
for m in $deps; do
	modprobe "$m" || fail "load: modprobe $m (a dependency of rust_ipvs)"
done
log "load: dependencies modprobed: ${deps:-none} (+ veth for the test)"
before=$(dmesg | wc -l)
insmod "$ko" || fail "load: insmod $ko"
[ -d /sys/module/rust_ipvs ] || fail "load: no /sys/module/rust_ipvs after insmod"
log "load: insmod $(basename "$ko"): ok (vermagic $(modinfo -F vermagic "$ko" | sed 's/ *$//'), taint $(cat /proc/sys/kernel/tainted))"
dmesg | tail -n +"$((before + 1))" | sed 's/^/load: dmesg: /'

# ---- control plane: Debian's ipvsadm (and ipvsctl) on rust_ipvs
configure
listing=$(in_ns $D ipvsadm -Ln) || fail "ipvsadm -Ln"
echo "ipvsadm -Ln:"
echo "$listing"
echo "$listing" | grep -q -E "^TCP  $VIP:80 rr" || fail "ipvsadm -Ln: no TCP service $VIP:80"
echo "$listing" | grep -q -E "^UDP  $VIP:53 rr" || fail "ipvsadm -Ln: no UDP service $VIP:53"
[ "$(echo "$listing" | grep -c -E -- "-> 10\.0\.2\.[23]:(8080|5353) +Masq +1 +0 +0")" = 4 ] ||
	fail "ipvsadm -Ln: want 4 Masq real servers of weight 1"
if [ -n "$ref_listing" ]; then
	expect_eq "ipvsadm -Ln (rust_ipvs vs the kernel's ip_vs)" "$ref_listing" "$listing"
	log "ctl: ipvsadm -Ln output identical to the kernel's ip_vs"
fi
if [ -x /usr/bin/ipvsctl ]; then
	out=$(in_ns $D ipvsctl list 2>&1) || { echo "$out"; fail "ipvsctl list"; }
	echo "ipvsctl list:"
	echo "$out"
	echo "$out" | grep -q "$VIP:80" || fail "ipvsctl list: no service $VIP:80"
fi
log "ctl: ipvsadm -A/-a configured TCP $VIP:80 and UDP $VIP:53 (rr, 2 Masq real servers each); ipvsadm -Ln lists them"

# ---- traffic
plain_traffic "rust_ipvs loaded"
traffic_rc=0
replies=$(vs_traffic)
if vs_traffic_ok "$replies"; then
	log "traffic: virtual service TCP x4 and UDP x2 to $VIP through rust_ipvs balanced over rs1 and rs2: ok"
	in_ns $D ipvsadm -Lnc
elif [ "$(connections)" = 0 ] && ! echo "$replies" | grep -q -E '^(tcp|udp) .'; then
	log "SKIP traffic: data path not implemented (no reply from $VIP, no connection in /proc/net/ip_vs_conn)"
	traffic_rc=$ksft_skip
else
	echo "$replies"
	in_ns $D ipvsadm -Lnc
	fail "traffic: virtual service $VIP through rust_ipvs: wrong or missing replies (the kernel's ip_vs balanced them)"
fi

# ---- unload, with the services still configured
rmmod rust_ipvs || fail "unload: rmmod rust_ipvs"
[ -d /sys/module/rust_ipvs ] && fail "unload: rust_ipvs still loaded after rmmod"
log "unload: rmmod rust_ipvs: ok"
plain_traffic "after rmmod"
exit $traffic_rc
