#!/bin/bash
# Maglev hashing across directors, differential against the C ip_vs: two directors in two
# namespaces of one guest, each with its own client and real servers (the same addresses),
# configured alike, map 64 clients to the same real servers without sharing any state; deleting
# a real server on one of them moves only the clients that were on it (counted, compared with
# C's count).
. ./lib.sh
. ./topology.sh

NCLIENTS=64
CLIENTS=$(client_addrs $NCLIENTS | paste -s -d,)

# Points the topology helpers at director A (topology.sh's) or B (a copy with its own
# namespaces and real servers rb1-rb3 at rs1-rs3's addresses).
use_director() {
	case $1 in
	A) topo_ns_client=cl$$ topo_ns_director=dir$$ topo_real_servers=(rs1 rs2 rs3) ;;
	B) topo_ns_client=clb$$ topo_ns_director=dirb$$ topo_real_servers=(rb1 rb2 rb3) ;;
	esac
}

# The mh service on the current director: the real servers on port 8080 with weights 3, 1
# and 2, added in this order.
mh_service() {
	in_director ipvsadm -A -t $VIP:80 -s mh
	in_director ipvsadm -a -t $VIP:80 -r 172.16.0.11:8080 -m -w 3
	in_director ipvsadm -a -t $VIP:80 -r 172.16.0.12:8080 -m -w 1
	in_director ipvsadm -a -t $VIP:80 -r 172.16.0.13:8080 -m -w 2
}

# The real server of each of the clients in turn through the current director, source ports
# from FIRST-PORT, named rs1-rs3 on both directors.
mapping() {
	in_client ipvsbench sequence --target $VIP:80 --count $NCLIENTS --source $CLIENTS \
		--first-port $1 --timeout-ms 2000 2>&1 | sed "s/rb\([123]\)/rs\1/g"
}

scenario() {
	local d a b after
	for d in A B; do
		use_director $d
		topo_up
		add_client_addrs $NCLIENTS
		responders_up
		mh_service
	done
	use_director A
	a=$(mapping 40000)
	use_director B
	b=$(mapping 40000)
	echo "director A: $a"
	if [ "$a" = "$b" ]; then echo "director B: the same"; else echo "director B: $b"; fi
	in_director ipvsadm -d -t $VIP:80 -r 172.16.0.13:8080
	after=$(mapping 41000)
	echo "director B, rs3 deleted: $after"
	paste -d' ' <(echo "$a" | tr ' ' '\n') <(echo "$after" | tr ' ' '\n') |
		awk '$1 != "rs3" && $1 != $2 { n++ } $2 == "rs3" { bad++ }
			END { print "clients of rs1 and rs2 that moved:", n + 0, "still on rs3:", bad + 0 }'
	for d in A B; do
		use_director $d
		topo_down
	done
	use_director A
}

differential "mh across two directors" scenario
got_has '^director B: the same$' "the two directors map clients differently"
[ "$(echo "$got" | sed -n 's/^director A: //p' | wc -w)" = $NCLIENTS ] || fail "a request failed"
got_has 'still on rs3: 0$' "clients still reach the deleted real server"
log "identical to the C ip_vs"
exit $ksft_pass
