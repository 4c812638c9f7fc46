#!/bin/bash
# github.com/moby/ipvs, the library kube-proxy (IPVS mode) and Docker Swarm program IPVS with,
# driving the director as kube-proxy does (tools/mobyipvs), differential against the C ip_vs:
# ClusterIP services with endpoints (TCP, UDP, SCTP), sessionAffinity: ClientIP (persistent,
# timeout 10800), a terminating endpoint's weight set to 0 and then the endpoint deleted, a
# fwmark service, an IPv6 service, the timeouts (GetConfig/SetConfig), the errors kube-proxy
# meets (a service or endpoint added twice, deleted when absent, an unknown scheduler), and
# Flush; what the library reads back and real traffic after each step.
. ./lib.sh
. ./topology.sh

moby() { in_director mobyipvs "$@" 2>&1; }

# Runs one library call and prints it with what it returned.
step() {
	local out
	out=$(moby "$@")
	echo "$* => ${out:-ok}"
}

# Every service and destination as the library reads them back.
table() {
	echo "-- list"
	moby list
}

scenario() {
	topo_up
	local web=tcp:$VIP:80:rr affinity=tcp:$VIP:8080:rr:0x1:10800:0xffffffff dns=udp:$VIP:53:rr
	local rs
	step add-service $web
	for rs in rs1 rs2 rs3; do step add-dest $web $(rs_addr $rs):80:1:masq; done
	step add-service $affinity
	for rs in rs1 rs2 rs3; do step add-dest $affinity $(rs_addr $rs):80:1:masq; done
	step add-service $dns
	for rs in rs1 rs2; do step add-dest $dns $(rs_addr $rs):53:1:masq; done
	table
	local seq="" i
	for i in 1 2 3 4 5 6; do seq="$seq $(tcp_request 80)"; done
	echo "port 80:$seq"
	seq=""
	for i in 1 2 3; do seq="$seq $(tcp_request 8080)"; done
	echo "port 8080, ClientIP affinity:$seq"
	seq=""
	for i in 1 2 3 4; do seq="$seq $(udp_request 53)"; done
	echo "udp 53:$seq"
	# An endpoint terminating: weight 0 (new connections avoid it), then gone.
	step update-dest $web $(rs_addr rs2):80:0:masq
	seq=""
	for i in 1 2 3 4; do seq="$seq $(tcp_request 80)"; done
	echo "port 80, rs2 at weight 0:$seq"
	step del-dest $web $(rs_addr rs2):80
	step get-service $web
	# The errors kube-proxy meets.
	step add-service $web
	step add-dest $web $(rs_addr rs1):80:1:masq
	step del-dest $web $(rs_addr rs2):80
	step add-dest tcp:$VIP:81:rr $(rs_addr rs1):80:1:masq
	step del-service tcp:$VIP:81:rr
	step add-service tcp:$VIP:82:nosuch
	step get-service tcp:$VIP:81:rr
	# A scheduler and persistence change on a live service.
	step update-service tcp:$VIP:80:wlc
	step update-service tcp:$VIP:8080:rr:0x1:600:0xffffff00
	step add-service fwmark:7:sh
	step add-dest fwmark:7:sh $(rs_addr rs3):80:2:masq
	step add-service tcp:[fd00::1]:80:rr
	step add-dest tcp:[fd00::1]:80:rr [fd00:1::11]:80:1:masq
	step get-config
	step set-config 800 100 200
	step get-config
	# An SCTP service (Kubernetes' protocol: SCTP), its associations balanced, just before the
	# listing: closed associations expire after 10 s, and their count is compared.
	local sctp=sctp:$VIP:132:rr
	for rs in rs1 rs2 rs3; do
		in_rs $rs ipvsbench server --tcp-port 9080 --udp-port 9053 --sctp-port 8132 --threads 1 \
			--reply "$rs"$'\n' --wait-close </dev/null >/dev/null 2>&1 &
	done
	step add-service $sctp
	for rs in rs1 rs2 rs3; do step add-dest $sctp $(rs_addr $rs):8132:1:masq; done
	for rs in rs1 rs2 rs3; do wait_until 10 sctp_listening $rs 8132; done
	echo "sctp 132: $(in_client ipvsbench sequence --sctp --target $VIP:132 --count 6 --timeout-ms 3000 2>&1)"
	table
	seq=""
	for i in 1 2 3 4; do seq="$seq $(tcp_request 80)"; done
	echo "port 80, wlc over rs1 and rs3:$seq"
	step del-service $dns
	step flush
	table
	topo_down
}

command -v mobyipvs >/dev/null || skip "mobyipvs not in the guest"
differential "moby/ipvs" scenario
for rs in rs1 rs2 rs3; do
	[ "$(echo "$got" | grep '^port 80:' | grep -o $rs | wc -l)" = 2 ] || fail "rr over the endpoints"
done
got_has '^port 80, rs2 at weight 0: rs[13] rs[13] rs[13] rs[13]$' "weight 0 avoided"
got_has '^sctp 132: rs3 rs2 rs1 rs3 rs2 rs1$' "rr over SCTP endpoints"
[ "$(echo "$got" | tail -1)" = "-- list" ] || fail "flush leaves no service"
log "identical to the C ip_vs"
exit $ksft_pass
