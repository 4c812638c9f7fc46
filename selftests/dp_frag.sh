#!/bin/bash
# IPv4 fragments on the reply path, differential against the C ip_vs: a director without
# conntrack forwards a real server's 60 KB UDP answer as the fragments it arrives in, and IPVS
# must gather them (C: ip_vs_gather_frags) to translate the whole datagram; a later fragment
# left untranslated keeps the real server's address and the client can never reassemble it.
# Then a fragmented ICMP error from the real server about the client's datagram, which must
# be gathered before it is classified and translated.
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
	topo_down
}

differential "fragmented replies" scenario
echo "$got" | grep -q '^60 KB UDP answer: identical$' || fail "the fragmented answer translated"
rm -f $big
log "identical to the C ip_vs"
exit $ksft_pass
