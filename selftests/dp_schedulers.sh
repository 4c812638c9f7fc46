#!/bin/bash
# The schedulers beyond rr/wrr/sh/wlc through the data path, differential against the C
# ip_vs: lc, sed, nq, fo, ovf, dh, mh (with mh-port and mh-fallback; across two directors in
# dp_mh.sh) and twos (lblc and lblcr are dp_locality.sh). Each service has the three real
# servers (weights rs1 3, rs2 1, rs3 2) and gets a fixed series of clients (addresses and
# source ports), with connections held open where the active counts matter, then weight
# changes, a weight-0 destination, a destination deleted and re-added, and an upper
# threshold. twos is random: its share per real server over 3,000 UDP flows must be within 5
# points of C's.
. ./lib.sh
. ./topology.sh

NCLIENTS=64
CLIENTS=$(client_addrs $NCLIENTS | paste -s -d,)
TWOS_FLOWS=3000

# A service on $VIP:PORT with SCHED-ARGS and the three real servers on RS-PORT.
service() {
	local port=$1 rsport=$2
	shift 2
	in_director ipvsadm -A -t $VIP:$port "$@"
	in_director ipvsadm -a -t $VIP:$port -r $(rs_addr rs1):$rsport -m -w 3
	in_director ipvsadm -a -t $VIP:$port -r $(rs_addr rs2):$rsport -m -w 1
	in_director ipvsadm -a -t $VIP:$port -r $(rs_addr rs3):$rsport -m -w 2
}

# The real servers of a service with their weights and active connections.
dests_of() {
	in_director ipvsadm -Ln -t $VIP:$1 | awk '$1 == "->" { print $2, $4, $5 }'
}

scenario() {
	topo_up
	local c
	add_client_addrs $NCLIENTS
	responders_up

	service 81 8081 -s lc
	in_director ipvsadm -e -t $VIP:81 -r $(rs_addr rs2):8081 -m -w 1 -x 2
	echo "== lc, held (rs2 upper threshold 2)"
	seq_to 81 10 30000 --hold
	wait_idle 81
	echo "== lc, closed"
	seq_to 81 6 30100
	dests_of 81

	service 82 8081 -s sed
	echo "== sed, held"
	seq_to 82 12 30200 --hold
	wait_idle 82
	in_director ipvsadm -e -t $VIP:82 -r $(rs_addr rs1):8081 -m -w 0
	echo "== sed, held, rs1 weight 0"
	seq_to 82 6 30300 --hold

	service 83 8081 -s nq
	echo "== nq, held"
	seq_to 83 12 30400 --hold
	wait_idle 83
	echo "== nq, closed"
	seq_to 83 6 30500

	service 84 8080 -s fo
	echo "== fo"
	seq_to 84 4 30600
	in_director ipvsadm -e -t $VIP:84 -r $(rs_addr rs1):8080 -m -w 0
	echo "== fo, rs1 weight 0"
	seq_to 84 4 30700
	in_director ipvsadm -d -t $VIP:84 -r $(rs_addr rs3):8080
	echo "== fo, rs1 weight 0, rs3 deleted"
	seq_to 84 3 30800
	in_director ipvsadm -a -t $VIP:84 -r $(rs_addr rs3):8080 -m -w 5
	echo "== fo, rs3 re-added with weight 5"
	seq_to 84 3 30900

	service 85 8081 -s ovf
	echo "== ovf, held: overflow when active connections exceed the weight"
	seq_to 85 11 31000 --hold

	service 86 8080 -s dh
	echo "== dh"
	seq_to 86 6 31100
	in_director ipvsadm -d -t $VIP:86 -r $(rs_addr rs1):8080
	echo "== dh, rs1 deleted"
	seq_to 86 6 31200
	in_director ipvsadm -a -t $VIP:86 -r $(rs_addr rs1):8080 -m -w 3
	echo "== dh, rs1 re-added"
	seq_to 86 6 31300

	service 87 8080 -s mh
	service 88 8080 -s mh -b mh-port
	service 89 8080 -s mh -b mh-fallback
	echo "== mh"
	seq_to 87 32 31400
	echo "== mh, mh-port"
	seq_to 88 32 31500
	in_director ipvsadm -e -t $VIP:89 -r $(rs_addr rs2):8080 -m -w 0
	echo "== mh, mh-fallback, rs2 weight 0"
	seq_to 89 32 31600
	in_director ipvsadm -e -t $VIP:87 -r $(rs_addr rs2):8080 -m -w 0
	echo "== mh, rs2 weight 0 (no fallback)"
	seq_to 87 32 31700
	in_director ipvsadm -e -t $VIP:87 -r $(rs_addr rs2):8080 -m -w 1
	in_director ipvsadm -e -t $VIP:87 -r $(rs_addr rs1):8080 -m -w 6
	echo "== mh, rs1 weight 6"
	seq_to 87 32 31800

	# Without the header's connection table size, which rust_ipvs does not report as C yet.
	echo "== ipvsadm -Ln"
	in_director ipvsadm -Ln | awk 'NR == 1 { next } $1 != "->" || NF < 6 { print; next }
		{ print $1, $2, $3, $4 }'
	echo "== ipvsadm -Sn"
	in_director ipvsadm -Sn

	# twos over UDP flows of one datagram each, counted by the real servers: each flow is
	# a connection (inactive, as C counts UDP), cheap enough for thousands of them.
	in_director ipvsadm -A -u $VIP:90 -s twos
	in_director ipvsadm -a -u $VIP:90 -r $(rs_addr rs1):8053 -m -w 3
	in_director ipvsadm -a -u $VIP:90 -r $(rs_addr rs2):8053 -m -w 1
	in_director ipvsadm -a -u $VIP:90 -r $(rs_addr rs3):8053 -m -w 2
	in_client ipvsbench udp-conns --target $VIP:90 --count $TWOS_FLOWS >/dev/null
	local i total line
	for i in $(seq 100); do
		total=0 line=""
		for rs in "${topo_real_servers[@]}"; do
			c=$(cat $(responder_count_file $rs) 2>/dev/null || echo 0)
			total=$((total + c)) line="$line $rs=$c"
		done
		[ $total -ge $TWOS_FLOWS ] && break
		sleep 0.1
	done
	echo "== twos"
	echo $line
	topo_down
}

# twos is random: compare its shares, not its sequence.
twos_share() {
	sed -n '/^== twos$/{n;p}' | tr ' ' '\n' | awk -F= '{ count[$1] = $2; total += $2 }
		END { for (rs in count) printf "%s %.1f\n", rs, 100 * count[rs] / total }' | sort
}

IPVS_IMPL=c ipvs_load
want=$(scenario 2>&1)
ipvs_unload
IPVS_IMPL=rust ipvs_load
got=$(scenario 2>&1)
ipvs_unload
echo "$got"
without_twos() { sed '/^== twos$/{n;d}'; }
expect_eq "scheduling (C ip_vs vs rust_ipvs)" "$(echo "$want" | without_twos)" "$(echo "$got" | without_twos)"
c_share=$(echo "$want" | twos_share)
rust_share=$(echo "$got" | twos_share)
echo "twos share, C:" $c_share
echo "twos share, rust_ipvs:" $rust_share
[ "$(echo "$c_share" | wc -l)" = 3 ] || fail "twos: C did not use the three real servers: $c_share"
paste -d' ' <(echo "$c_share") <(echo "$rust_share") | while read -r rs c r_rs r; do
	[ "$rs" = "$r_rs" ] || fail "twos: real servers differ: $c_share / $rust_share"
	awk -v c="$c" -v r="$r" 'BEGIN { d = c - r; exit !(d <= 5 && d >= -5) }' ||
		fail "twos: $rs got $r% under rust_ipvs, $c% under C"
done || exit $ksft_fail
echo "$want$got" | grep -q '^FAIL' && fail "a sequence failed"
log "identical to the C ip_vs"
exit $ksft_pass
