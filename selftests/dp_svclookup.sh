#!/bin/bash
# How a packet finds its service (C: ip_vs_service_find over the resizable svc_table),
# differential against the C ip_vs: a persistent port-zero service takes every port of its
# address that has no service of its own, one template for all of them; a persistent FTP
# service takes the FTP data port and the unprivileged ports of its address, not the
# privileged ones; a non-persistent FTP service lets the packets it cannot schedule pass;
# 300 services restored at once (the table grows) and deleted down to three (it shrinks),
# serving throughout; new UDP flows to a service while 1000 others are restored and deleted,
# none missing it as the table resizes under them; the svc_lfactor sysctl and its range.
. ./lib.sh
. ./topology.sh

# Starts TCP listeners answering with the real server's name on PORTS of every real server.
listen_on() {
	local rs port
	for rs in "${topo_real_servers[@]}"; do
		for port in "$@"; do
			in_rs $rs socat TCP-LISTEN:$port,fork,reuseaddr SYSTEM:"echo $rs-$port" \
				</dev/null >/dev/null 2>&1 &
		done
	done
	for rs in "${topo_real_servers[@]}"; do
		for port in "$@"; do
			wait_until 10 eval "in_rs $rs ss -ltn | grep -q ':$port '"
		done
	done
}

# The answers to one TCP request to each of PORTS, on one line.
requests() {
	local port out=""
	for port in "$@"; do out="$out $port=$(tcp_request $port | grep -oE "rs[0-9]-[0-9]+|refused|timed out" | head -1)"; done
	echo "$out"
}

scenario() {
	topo_up
	listen_on 8080 8443 21 20 5000 443
	echo "svc_lfactor: $(in_director sysctl -n net.ipv4.vs.svc_lfactor)"
	echo "svc_lfactor=9: $(in_director sysctl -qw net.ipv4.vs.svc_lfactor=9 2>&1 | grep -o 'Invalid argument')"
	echo "svc_lfactor=-9: $(in_director sysctl -qw net.ipv4.vs.svc_lfactor=-9 2>&1 | grep -o 'Invalid argument')"

	# A persistent port-zero service: every port without its own service, one template.
	in_director ipvsadm -A -t $VIP:0 -s rr -p 60
	for rs in "${topo_real_servers[@]}"; do in_director ipvsadm -a -t $VIP:0 -r $(rs_addr $rs) -m; done
	# Its own service for 8443.
	in_director ipvsadm -A -t $VIP:8443 -s rr
	in_director ipvsadm -a -t $VIP:8443 -r $(rs_addr rs2):8443 -m
	echo "port zero:$(requests 8080 5000 8080 443 8443)"
	echo "udp without a port-zero service: $(udp_request 53 | grep -o 'refused' | head -1)"
	in_director ipvsadm -Ln
	list_connections
	in_director ipvsadm -C

	# A persistent FTP service: the data port and unprivileged ports, not privileged ones.
	in_director ipvsadm -A -t $VIP:21 -s rr -p 60
	for rs in "${topo_real_servers[@]}"; do in_director ipvsadm -a -t $VIP:21 -r $(rs_addr $rs):21 -m; done
	echo "persistent ftp:$(requests 21 20 5000 443 21)"
	list_connections
	in_director ipvsadm -C
	# A non-persistent one: what it takes for other ports passes to the director itself.
	in_director ipvsadm -A -t $VIP:21 -s rr
	in_director ipvsadm -a -t $VIP:21 -r $(rs_addr rs1):21 -m
	echo "ftp:$(requests 21 5000 20)"
	in_director ipvsadm -C

	# 300 services at once, then deleted down to three.
	in_director sysctl -qw net.ipv4.vs.svc_lfactor=-1
	local port rules=""
	for port in $(seq 10000 10299); do
		rules="$rules-A -t $VIP:$port -s rr
-a -t $VIP:$port -r $(rs_addr rs$((port % 3 + 1))):8080 -m
"
	done
	echo -n "$rules" | in_director ipvsadm -R
	echo "300 services: $(in_director ipvsadm -Ln | grep -c '^TCP') listed,$(requests 10000 10150 10299)"
	# The listing spans several netlink messages, each resuming where the last one stopped.
	echo "300 services listed once each: $(in_director ipvsadm -Ln | awk '/^TCP/ { print $2 }' | sort -u | grep -c ":10[0-2][0-9][0-9]$")"
	for port in $(seq 10000 10296); do echo "-D -t $VIP:$port"; done | in_director ipvsadm -R
	echo "3 services: $(in_director ipvsadm -Ln | grep -c '^TCP') listed,$(requests 10297 10298 10299 10000)"
	in_director ipvsadm -S -n

	# Lookups while the table resizes: new UDP flows to one service for six seconds, and
	# meanwhile 1000 services restored and deleted again (the table grows and shrinks through
	# its sizes, its services moving each time). A datagram whose lookup missed the service
	# would reach the director's own stack, which counts it in Udp NoPorts.
	in_director ipvsadm -C
	in_director sysctl -qw net.ipv4.vs.svc_lfactor=-3
	in_director ipvsadm -A -u $VIP:9000 -s rr
	for rs in "${topo_real_servers[@]}"; do in_director ipvsadm -a -u $VIP:9000 -r $(rs_addr $rs):9000 -m; done
	rules=""
	for port in $(seq 20000 20999); do
		rules="$rules-A -t $VIP:$port -s rr
-a -t $VIP:$port -r $(rs_addr rs1):8080 -m
"
	done
	local deletes noports0 flood
	deletes=$(for port in $(seq 20000 20999); do echo "-D -t $VIP:$port"; done)
	noports0=$(udp_noports)
	in_client ipvsbench udp-flood --target $VIP:9000 --seconds 6 >/dev/null &
	flood=$!
	wait_until 10 eval "in_director ipvsadm -Ln -u $VIP:9000 --stats | awk '/-> / { n += \$3 } END { exit n == 0 }'"
	while :; do
		echo -n "$rules" | in_director ipvsadm -R
		echo "$deletes" | in_director ipvsadm -R
		kill -0 $flood 2>/dev/null || break
	done
	wait $flood
	echo "lookups while the table resizes: missed=$(($(udp_noports) - noports0)) services=$(in_director ipvsadm -Ln | grep -c '^[TU][CD]P')"
	topo_down
}

# The director's Udp NoPorts: datagrams for a local port with no socket.
udp_noports() {
	in_director awk '/^Udp:/ { if (seen) print $3; seen = 1 }' /proc/net/snmp
}

differential "service lookup" scenario
got_has '^port zero: 8080=\(rs[123]\)-8080 5000=\1-5000 8080=\1-8080 443=\1-443 8443=rs2-8443$' \
	"port-zero service"
echo "$got" | grep -qE '^persistent ftp: 21=(rs[123])-21 20=\1-20 5000=\1-5000 443=refused 21=\1-21$' ||
	fail "persistent FTP service"
got_has '^ftp: 21=rs1-21 5000=refused 20=refused$' "FTP service"
got_has "^300 services: 300 listed, 10000=rs2-8080 10150=rs2-8080 10299=rs1-8080$" \
	"300 services"
got_has "^3 services: 3 listed, 10297=rs2-8080 10298=rs3-8080 10299=rs1-8080 10000=refused$" \
	"3 services"
got_has "^300 services listed once each: 300$" "300 services listed once each"
got_has "^lookups while the table resizes: missed=0 services=1$" \
	"lookups while the table resizes"
log "identical to the C ip_vs"
exit $ksft_pass
