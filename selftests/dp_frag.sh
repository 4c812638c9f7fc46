#!/bin/bash
# IPv4 fragments on the reply path, differential against the C ip_vs: a director without
# conntrack forwards a real server's 60 KB UDP answer as the fragments it arrives in, and IPVS
# must gather them (C: ip_vs_gather_frags) to translate the whole datagram; a later fragment
# left untranslated keeps the real server's address and the client can never reassemble it.
# Then a fragmented ICMP error from a real server about the client's datagram, which must be
# gathered before it is classified and translated.
. ./lib.sh
. ./topology.sh

big=/tmp/big.$$
head -c 60000 /dev/urandom >$big

scenario() {
	topo_up
	in_rs rs1 socat -b 65535 UDP-RECVFROM:56,fork SYSTEM:"cat $big" </dev/null >/dev/null 2>&1 &
	in_director ipvsadm -A -u $VIP:56 -s rr
	in_director ipvsadm -a -u $VIP:56 -r $(rs_addr rs1):56 -m
	for _ in $(seq 50); do
		in_rs rs1 ss -lun | grep -q ':56 ' && break
		sleep 0.1
	done
	echo ping | in_client socat -b 65535 -T 5 -t 5 - UDP:$VIP:56,sourceport=43100 \
		>/tmp/got.$$ 2>/dev/null
	if cmp -s $big /tmp/got.$$; then
		echo "60 KB UDP answer: identical"
	else
		echo "60 KB UDP answer: DIFFERENT ($(wc -c </tmp/got.$$) bytes)"
	fi
	rm -f /tmp/got.$$
	echo "director's conntrack entries: $(in_director conntrack -C 2>/dev/null || echo none)"
	# Counters: the answer counts once, as the datagram it is.
	stats_counts
	# A fragmented ICMP error: on a 300-byte link to rs2, a 290-byte datagram passes, but the
	# port unreachable that quotes it (318 bytes) comes back in two fragments, which the
	# director gathers before it translates the error for the client, whose socket then
	# reports it (untranslated, the error would never reach the client's socket).
	in_director ipvsadm -A -u $VIP:57 -s rr
	in_director ipvsadm -a -u $VIP:57 -r $(rs_addr rs2):57 -m
	ip -n $topo_ns_director link set vrs2 mtu 300
	in_rs rs2 ip link set eth0 mtu 300
	echo "fragmented port unreachable: $(head -c 262 /dev/zero |
		in_client socat -T 3 -t 3 - UDP:$VIP:57,sourceport=43101 2>&1 | socat_messages |
		sed -E 's/0x[0-9a-f]+/0x.../g')"
	topo_down
}

differential "fragmented replies" scenario
got_has '^60 KB UDP answer: identical$' "the fragmented answer translated"
got_has '^fragmented port unreachable: .*Connection refused$' \
	"the fragmented ICMP error translated"
rm -f $big
log "identical to the C ip_vs"
exit $ksft_pass
