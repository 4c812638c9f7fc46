#!/bin/bash
# IPv6 twins of the scheduling and client tests, differential against the C ip_vs: wrr, sh
# (with sh-port and sh-fallback), wlc, persistence with /128 and /64 granularities over clients
# of two prefixes (their templates in ipvsadm -Lcn, a weight-0 server with and without
# expire_quiescent_template), conn_reuse_mode, 1,000 held connections spread by rr, a
# dual-stack pair of services (an IPv4 and an IPv6 virtual address for the same real servers,
# as kube-proxy programs them) balanced at once, conntrack=1 entries dropped with their IPv6
# connections, a client's ICMPv6 error about a reply translated for the real server, and the
# cache bypass for IPv6.
. ./lib.sh
. ./topology6.sh

command -v tcpdump >/dev/null && command -v conntrack >/dev/null ||
	skip "tcpdump or conntrack is not in the guest"

# Eight clients: four in the client link's /64, four in a second /64 the director routes there.
CLIENTS=fd00::20,fd00::21,fd00::22,fd00::23,fd00:0:0:1::20,fd00:0:0:1::21,fd00:0:0:1::22,fd00:0:0:1::23
NCLIENTS=8

# Adds the clients' addresses, the IPv4 half of the dual stack and the responders of the held
# connections.
extras_up() {
	local a rs i=11
	for a in ${CLIENTS//,/ }; do ip -n $ns_client addr add $a/64 dev c0 nodad; done
	in_director ip -6 route add fd00:0:0:1::/64 dev d0
	# IPv4 beside IPv6 on every link: client 10.0.0.2, director 10.0.0.1 | 172.16.0.1.
	ip -n $ns_client addr add 10.0.0.2/24 dev c0
	ip -n $ns_client route add default via 10.0.0.1
	ip -n $ns_director addr add 10.0.0.1/24 dev d0
	ip -n $ns_director addr add 172.16.0.1/24 dev br0
	in_director sysctl -qw net.ipv4.ip_forward=1
	for rs in "${RS[@]}"; do
		ip -n ${rs}6_$$ addr add 172.16.0.$i/24 dev eth0
		ip -n ${rs}6_$$ route add default via 172.16.0.1
		in_rs $rs ipvsbench server --bind :: --tcp-port 8081 --udp-port 8054 --threads 1 \
			--reply "$rs"$'\n' --wait-close </dev/null >/dev/null 2>&1 &
		i=$((i + 1))
	done
	for rs in "${RS[@]}"; do wait_until 10 listening $rs 8081; done
}

# PER requests from each client to [VIP]:PORT, one line per client ("client <addr>: rs...").
# The clients take turns; every request has its own fixed source port.
ROUND=0
round() {
	local port=$1 per=$2 c i line replies clients
	ROUND=$((ROUND + 1))
	read -r -a clients <<<"${CLIENTS//,/ }"
	read -r -a replies < <(in_client ipvsbench sequence --target "[$VIP]:$port" \
		--count $((NCLIENTS * per)) --source $CLIENTS --first-port $((20000 + ROUND * 100)) \
		--timeout-ms 3000 2>&1)
	[ ${#replies[@]} = $((NCLIENTS * per)) ] || echo "FAIL: round to port $port: ${replies[*]}"
	for c in $(seq 0 $((NCLIENTS - 1))); do
		line="client ${clients[$c]}:"
		for i in $(seq 0 $((per - 1))); do line="$line ${replies[$((i * NCLIENTS + c))]}"; done
		echo "$line"
	done
}

schedulers() {
	local port sched rs
	for port in 80 81 82 83 84 85 86; do
		case $port in
		80) sched="-s wrr" ;;
		81) sched="-s sh" ;;
		82) sched="-s sh -b sh-port" ;;
		83) sched="-s sh -b sh-fallback" ;;
		84) sched="-s wlc" ;;
		85) sched="-s rr -p 10800 -M 128" ;;
		86) sched="-s rr -p 10800 -M 64" ;;
		esac
		in_director ipvsadm -A -t "[$VIP]:$port" $sched
		in_director ipvsadm -a -t "[$VIP]:$port" -r "[$(rs_addr rs1)]:8080" -m -w 3
		in_director ipvsadm -a -t "[$VIP]:$port" -r "[$(rs_addr rs2)]:8080" -m -w 1
		in_director ipvsadm -a -t "[$VIP]:$port" -r "[$(rs_addr rs3)]:8080" -m -w 2
	done
	echo "== wrr (weights rs1 3, rs2 1, rs3 2)"
	round 80 2
	echo "== sh"
	round 81 2
	echo "== sh, sh-port"
	round 82 2
	in_director ipvsadm -e -t "[$VIP]:83" -r "[$(rs_addr rs2)]:8080" -m -w 0
	echo "== sh, sh-fallback, rs2 weight 0"
	round 83 1
	echo "== wlc"
	round 84 1
	echo "== persistent /128"
	round 85 2
	echo "== persistent /64"
	round 86 2
	echo "== persistent /128, rs2 weight 0 (templates keep clients)"
	in_director ipvsadm -e -t "[$VIP]:85" -r "[$(rs_addr rs2)]:8080" -m -w 0
	round 85 1
	echo "== persistent /128, rs2 weight 0, expire_quiescent_template=1"
	in_director sysctl -qw net.ipv4.vs.expire_quiescent_template=1
	round 85 1
	in_director sysctl -qw net.ipv4.vs.expire_quiescent_template=0
	echo "== templates (ipvsadm -Lcn, without expiry)"
	in_director ipvsadm -Lcn | awk '$4 ~ /:0$/ { print $1, $3, $4, $5, $6 }' | sort
	echo "== persist counts"
	in_director ipvsadm -Ln --persistent-conn -t "[$VIP]:85" |
		awk '$1 == "->" && NF >= 6 { print $1, $2, $3, $4, $5; next } { print }'
}

# 1,000 connections held open at once, then closed: their real servers, counted.
held() {
	local rs
	in_director ipvsadm -A -t "[$VIP]:90" -s rr
	for rs in "${RS[@]}"; do in_director ipvsadm -a -t "[$VIP]:90" -r "[$(rs_addr $rs)]:8081" -m; done
	echo "== 1000 held connections"
	ulimit -n 4096
	in_client ipvsbench sequence --target "[$VIP]:90" --count 1000 --source fd00::2 \
		--first-port 40000 --hold --timeout-ms 5000 2>&1 | tr ' ' '\n' | sort | uniq -c
	in_director ipvsadm -Ln -t "[$VIP]:90" | awk '$1 == "->" { print $2, $3, $4 }'
}

# An IPv4 and an IPv6 virtual address for the same real servers, each with a sequence of six
# running at the same time.
dual_stack() {
	local rs v4 v6
	in_director ipvsadm -A -t 10.0.0.1:80 -s rr
	in_director ipvsadm -A -t "[$VIP]:91" -s rr
	for rs in "${RS[@]}"; do
		in_director ipvsadm -a -t 10.0.0.1:80 -r 172.16.0.1${rs#rs}:8080 -m
		in_director ipvsadm -a -t "[$VIP]:91" -r "[$(rs_addr $rs)]:8080" -m
	done
	echo "== dual stack"
	in_client ipvsbench sequence --target 10.0.0.1:80 --count 6 --source 10.0.0.2 \
		--first-port 41000 --timeout-ms 3000 >/tmp/ds4.$$ 2>&1 &
	v4=$!
	in_client ipvsbench sequence --target "[$VIP]:91" --count 6 --source fd00::2 \
		--first-port 41000 --timeout-ms 3000 >/tmp/ds6.$$ 2>&1 &
	v6=$!
	wait $v4 $v6
	echo "IPv4: $(tr '\n' ' ' </tmp/ds4.$$)"
	echo "IPv6: $(tr '\n' ' ' </tmp/ds6.$$)"
	rm -f /tmp/ds4.$$ /tmp/ds6.$$
	in_director ipvsadm -Ln -t 10.0.0.1:80
	in_director ipvsadm -Ln -t "[$VIP]:91"
}

# conntrack=1: an IPv6 UDP connection's conntrack entry goes with it when it expires.
conntrack_drop() {
	local rs
	in_director sysctl -qw net.ipv4.vs.conntrack=1
	# Conntrack runs in a namespace once a rule needs it (as kube-proxy's masquerading does).
	in_director nft -f - <<-EOF
		table inet track {
			chain pre {
				type filter hook prerouting priority 0; policy accept;
				ct state new counter
			}
		}
	EOF
	in_director ipvsadm --set 0 0 4
	in_director ipvsadm -A -u "[$VIP]:53" -s rr
	for rs in "${RS[@]}"; do in_director ipvsadm -a -u "[$VIP]:53" -r "[$(rs_addr $rs)]:8053" -m; done
	echo "== conntrack=1"
	echo "answer: $(udp_request 40100)"
	echo "conntrack entries while the connection lives: $(in_director conntrack -L -f ipv6 -p udp --orig-port-src 40100 2>/dev/null | wc -l)"
	wait_until 20 eval "! in_director ipvsadm -Lcn | grep -q '^UDP'"
	echo "conntrack entries after it expired: $(in_director conntrack -L -f ipv6 -p udp --orig-port-src 40100 2>/dev/null | wc -l)"
	in_director sysctl -qw net.ipv4.vs.conntrack=0
	in_director ipvsadm --set 0 0 300
}

# A port unreachable from the client about rs1's answer (as if the answer had found no
# socket) reaches rs1 translated: the quoted answer from rs1's address, not the virtual one.
client_icmp() {
	local answer
	echo "== the client's ICMPv6 error about an answer, as rs1 receives it"
	in_director ipvsadm -A -u "[$VIP]:55" -s rr
	in_director ipvsadm -a -u "[$VIP]:55" -r "[$(rs_addr rs1)]:8053" -m
	answer=$(udp_request_to 55 40200)
	echo "answer: $answer"
	rm -f /tmp/s6cap.$$ /tmp/s6caperr.$$
	in_rs rs1 tcpdump -nn -vv -x -l -Z root -i eth0 -c 1 icmp6 and 'ip6[40] == 1' >/tmp/s6cap.$$ \
		2>/tmp/s6caperr.$$ &
	local pid=$!
	wait_until 5 grep -q 'listening on' /tmp/s6caperr.$$
	# Port unreachable, quoting [VIP]:55 -> [fd00::2]:40200 UDP "rs1\n" (the kernel computes
	# the ICMPv6 checksum of a raw ICMPv6 socket).
	printf '\x01\x04\x00\x00\x00\x00\x00\x00\x60\x00\x00\x00\x00\x0c\x11\x40\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x37\x9d\x08\x00\x0c\x00\x00rs1\n' |
		in_client socat -u - "IP6-SENDTO:[$VIP]:58"
	for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	grep -v $'^\t0x' /tmp/s6cap.$$ | sed -E 's/^[0-9:.]+ //'
	# The quoted packet's source address and port (after the IPv6 and ICMPv6 headers).
	grep $'^\t0x' /tmp/s6cap.$$ | sed -E 's/^\t0x[0-9a-f]+: +//; s/ //g' | tr -d '\n' |
		awk '{ print "quoted source: " substr($0, 2 * 56 + 1, 32) " port " substr($0, 2 * 88 + 1, 4) }'
	rm -f /tmp/s6cap.$$ /tmp/s6caperr.$$
}

# One UDP request to [VIP]:PORT from [fd00::2]:SPORT: the real server's answer.
udp_request_to() {
	in_client ipvsbench udp-request --target "[$VIP]:$1" --bind "[fd00::2]:$2" --wait 1 2>&1
}

# A fwmark service without real servers for the director's own IPv6 traffic to the real
# servers' link (a transparent cache's): refused without cache_bypass, passed on with it.
cache_bypass() {
	echo "== IPv6 cache bypass"
	in_director nft -f - <<-EOF
		table ip6 cache {
			chain out {
				type route hook output priority mangle; policy accept;
				ip6 daddr fd01::/64 tcp dport 8080 meta mark set 1
				ip6 daddr fd01::/64 udp dport 8053 meta mark set 1
			}
		}
	EOF
	in_director ipvsadm -A -f 1 -6 -s rr
	echo "cache_bypass=0: $(in_director socat -T 5 - "TCP6:[$(rs_addr rs1)]:8080,connect-timeout=3" </dev/null 2>&1 | socat_messages)"
	in_director sysctl -qw net.ipv4.vs.cache_bypass=1
	echo "cache_bypass=1, TCP: $(in_director socat -T 5 - "TCP6:[$(rs_addr rs1)]:8080,connect-timeout=3" </dev/null 2>&1 | socat_messages)"
	echo "cache_bypass=1, UDP: $(echo ping | in_director socat -T 2 -t 2 - "UDP6:[$(rs_addr rs2)]:8053,sourceport=42000" 2>&1 | socat_messages)"
	in_director ipvsadm -Lcn | awk 'NR > 2 && $6 ~ /^\[::\]:0$/ { c = $4; sub(/:[0-9]+$/, "", c); print $1, $3, c, $5, $6 }' | sort
	in_director ipvsadm -Ln -f 1
	in_director sysctl -qw net.ipv4.vs.cache_bypass=0
}

# A client reusing its source port while its previous connection is in TIME_WAIT, with each
# conn_reuse_mode: rescheduled (1, 2) or kept on its server (0).
reuse() {
	local rs mode
	in_director ipvsadm -A -t "[$VIP]:92" -s rr
	for rs in "${RS[@]}"; do in_director ipvsadm -a -t "[$VIP]:92" -r "[$(rs_addr $rs)]:8080" -m; done
	echo "== conn_reuse_mode"
	for mode in 1 0 2; do
		in_director sysctl -qw net.ipv4.vs.conn_reuse_mode=$mode
		echo "conn_reuse_mode=$mode: $(reuse_req) $(reuse_req) $(reuse_req)"
	done
	in_director sysctl -qw net.ipv4.vs.conn_reuse_mode=1
}

# One request to [VIP]:92 from [fd00::2]:40400: the real server's answer.
reuse_req() {
	in_client socat -T 4 - "TCP6:[$VIP]:92,bind=[fd00::2]:40400,reuseaddr,connect-timeout=4" \
		</dev/null 2>&1 | socat_messages
}

scenario() {
	topology_up
	extras_up
	schedulers
	reuse
	held
	dual_stack
	conntrack_drop
	client_icmp
	cache_bypass
	topology_down
}

differential "IPv6 scheduling and clients" scenario
got_lacks '^FAIL' "a sequence failed"
expect_eq "dual stack" "IPv4: rs3 rs2 rs1 rs3 rs2 rs1 
IPv6: rs3 rs2 rs1 rs3 rs2 rs1 " "$(echo "$got" | grep '^IPv[46]: ')"
expect_eq "held connections" "    334 rs3
    333 rs1
    333 rs2" "$(echo "$got" | sed -n '/^== 1000 held/,/^[^ ]/p' | grep '^ *[0-9]* rs' | sort -k1,1nr -k2)"
got_has '^conntrack entries while the connection lives: 1$' "no conntrack entry"
got_has '^conntrack entries after it expired: 0$' "conntrack entry not dropped"
got_has '^cache_bypass=1, TCP: rs1$' "IPv6 TCP cache bypass"
got_has '^quoted source: fd010000000000000000000000000011 port 1f75$' \
	"the client's ICMPv6 error translated for rs1"
log "identical to the C ip_vs"
exit $ksft_pass
