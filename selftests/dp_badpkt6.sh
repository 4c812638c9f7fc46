#!/bin/bash
# Bad and unusual IPv6 packets at the virtual service, differential against the C ip_vs:
# truncated IPv6, TCP and UDP headers, extension chains (hop-by-hop, eight destination
# options, one longer than the packet, "no next header"), lone fragments, a fragmented
# datagram, and bogus ICMPv6 payloads (truncated quoted headers, no ports, unknown
# connections, informational and unknown types). No kernel report (the runner checks), and
# the same outcome, connections and counters as C.
. ./lib.sh
. ./topology6.sh

command -v socat >/dev/null || skip "socat is not in the guest"

# The client's and the director's link addresses, hex without colons.
SMAC=
DMAC=

# Sends an Ethernet frame carrying the IPv6 packet in hex (no spaces) from the client's link.
frame() {
	local hex="$DMAC$SMAC"86dd"$1"
	printf "$(echo "$hex" | sed 's/../\\x&/g')" | in_client socat -u - INTERFACE:c0
}

# The hex of an IPv6 header from fd00::2 to the virtual address fd00::1 with next header NH
# (two hex digits) and payload length LEN (four hex digits).
ip6hdr() {
	echo "60000000$2${1}40fd000000000000000000000000000002fd000000000000000000000000000001"
}

# Sends an ICMPv6 message (hex: type, code, checksum 0, rest) to the virtual address; the
# kernel computes the checksum of a raw ICMPv6 socket.
icmp6() {
	printf "$(echo "$1" | sed 's/../\\x&/g')" | in_client socat -u - "IP6-SENDTO:[$VIP]:58"
}

scenario() {
	topology_up
	local rs
	in_director ipvsadm -A -t "[$VIP]:80" -s rr
	in_director ipvsadm -A -u "[$VIP]:53" -s rr
	for rs in "${RS[@]}"; do
		in_director ipvsadm -a -t "[$VIP]:80" -r "[$(rs_addr $rs)]:8080" -m
		in_director ipvsadm -a -u "[$VIP]:53" -r "[$(rs_addr $rs)]:8053" -m
	done
	SMAC=$(in_client ip -br link show dev c0 | awk '{ print $3 }' | tr -d ':')
	DMAC=$(in_director ip -br link show dev d0 | awk '{ print $3 }' | tr -d ':')
	echo "first: $(sequence 80 1 fd00::2 30000)"
	# A truncated IPv6 header; truncated TCP and UDP headers.
	frame "6000000000140640fd00000000000000"
	frame "$(ip6hdr 06 0002)3039"
	frame "$(ip6hdr 11 0002)3039"
	frame "$(ip6hdr 06 000c)30390050000000010000"
	# Hop-by-hop options (PadN), then a UDP datagram to :53 (checksum 0, which IPv6 forbids:
	# the real server drops it, the director schedules it).
	frame "$(ip6hdr 00 0012)110001040000000030390035000a00006869"
	# Eight destination-options headers, then UDP.
	local chain="" i
	for i in 1 2 3 4 5 6 7; do chain="${chain}3c00010400000000"; done
	frame "$(ip6hdr 3c 004a)${chain}1100010400000000303a0035000a00006869"
	# A destination-options header longer than the packet; "no next header"; an unknown one.
	frame "$(ip6hdr 3c 0008)1105010400000000"
	frame "$(ip6hdr 3b 0000)"
	frame "$(ip6hdr fd 0004)01020304"
	# A later fragment alone, and a first fragment alone (never completed).
	frame "$(ip6hdr 2c 0010)110000081234567800000000deadbeef"
	frame "$(ip6hdr 2c 0018)1100000112345679303b0035001800006869000000000000"
	# ICMPv6: truncated quoted header; a quoted TCP header without ports; about connections
	# that do not exist; "packet too big" about one; echo request; an unknown type.
	icmp6 "010400000000000060000000"
	icmp6 "01040000000000006000000000140640fd000000000000000000000000000001fd000000000000000000000000000002"
	icmp6 "01040000000000006000000000140640fd000000000000000000000000000001fd0000000000000000000000000000020050303900000000"
	icmp6 "01040000000000006000000000081140fd000000000000000000000000000001fd0000000000000000000000000000020035303900080000"
	icmp6 "02000000000005006000000000140640fd000000000000000000000000000001fd0000000000000000000000000000020050303900000000"
	icmp6 "8000000000000000"
	icmp6 "c800000000000000"
	echo "after bad packets: $(sequence 80 1 fd00::2 30001)"
	# A datagram of 3000 bytes over the 1500-byte link: fragmented by the client,
	# reassembled before the hooks.
	echo "fragmented udp: $(head -c 3000 /dev/zero | in_client socat -T 2 -t 2 - "UDP6:[$VIP]:53,sourceport=40300" 2>&1)"
	echo "after: $(sequence 80 1 fd00::2 30002) $(udp_request 40301)"
	wait_until 10 eval "! in_director ipvsadm -Lcn | grep TCP | grep -qv TIME_WAIT"
	echo "== connections"
	list_connections6
	echo "== counters"
	stats_counts6
	topology_down
}

differential "bad IPv6 packets" scenario
got_lacks '^FAIL' "a sequence failed"
got_has '^after bad packets: rs[123]$' "the service after bad packets"
got_has '^fragmented udp: rs[123]$' "a fragmented datagram"
log "identical to the C ip_vs"
exit $ksft_pass
