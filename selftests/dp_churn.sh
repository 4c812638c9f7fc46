#!/bin/bash
# Endpoint churn as kube-proxy causes it, with long-lived connections and a persistent client
# active, differential against the C ip_vs: three open TCP connections (one per real server)
# through a service whose real servers are re-weighted to 0 (a terminating endpoint), deleted
# and re-added, edited, then the whole service deleted and re-created with another scheduler;
# a persistent service's client through the same churn. After each step: whether each open
# connection still echoes (at once, only later through TCP's retransmission, or not), which
# real servers new connections reach, and the listing.
. ./lib.sh
. ./topology.sh

fifo() { echo /tmp/churn.$$.$1; }

# Opens long-lived connection $1 to port $2 of the VIP (in this shell, not a subshell): a
# socat reading fifo "in.$1" and appending the echo server's lines to file "out.$1"; the
# write end stays open in fd variable conn_fd_$1, socat's pid is added to conn_pids.
open_conn() {
	local i=$1 port=$2 fd
	rm -f "$(fifo in.$i)" "$(fifo out.$i)"
	mkfifo "$(fifo in.$i)"
	: >"$(fifo out.$i)"
	in_client socat - TCP:$VIP:$port,connect-timeout=4 <"$(fifo in.$i)" >>"$(fifo out.$i)" 2>/dev/null &
	conn_pids+=($!)
	exec {fd}>"$(fifo in.$i)"
	eval "conn_fd_$i=$fd"
	wait_until 10 eval "[ -s $(fifo out.$i) ]"
}

# The real server that answered connection $1 (the echo server's first line).
conn_server() { head -1 "$(fifo out.$1)"; }

# Sends LINE on connection $1 and prints "echoed" if it comes back within $3 seconds,
# "none" otherwise.
send_line() {
	local i=$1 line=$2 seconds=$3 fd
	eval "fd=\$conn_fd_$i"
	echo "$line" >&"$fd"
	check_line "$i" "$line" "$seconds"
}

# Whether LINE (sent earlier) has come back on connection $1 within $3 seconds.
check_line() {
	local i=$1 line=$2 seconds=$3 deadline=$((SECONDS + $3))
	until grep -qx "$line" "$(fifo out.$i)"; do
		[ $SECONDS -lt $deadline ] || { echo none; return; }
		sleep 0.1
	done
	echo echoed
}

# Every open connection at once: sends "$1-N" on each and prints each outcome.
all_conns() {
	local tag=$1 seconds=$2 i out=""
	for i in 1 2 3; do
		eval "echo $tag-$i >&\$conn_fd_$i"
	done
	for i in 1 2 3; do out="$out $i:$(check_line $i $tag-$i $seconds)"; done
	echo "$out"
}

# N new connections to port $1 (the real servers that answered).
new_conns() {
	local port=$1 n=$2 seq="" i
	for i in $(seq $n); do seq="$seq $(tcp_request $port)"; done
	echo "$seq"
}

# The listing with the active connections (the long-lived ones) but not the inactive ones
# (the closed connections of earlier steps, whose expiry is not part of this test).
listing() {
	in_director ipvsadm -Ln | awk 'NR > 3 { print $1, $2, $3, $4, $5 }'
}

scenario() {
	topo_up
	local rs
	for rs in "${topo_real_servers[@]}"; do
		in_rs $rs socat TCP-LISTEN:7,fork,reuseaddr SYSTEM:"echo $rs; exec cat" </dev/null >/dev/null 2>&1 &
	done
	for rs in "${topo_real_servers[@]}"; do
		wait_until 10 eval "in_rs $rs ss -ltn | grep -q ':7 '"
	done
	in_director ipvsadm -A -t $VIP:7 -s rr
	in_director ipvsadm -A -t $VIP:8080 -s rr -p 300
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:7 -r $(rs_addr $rs):7 -m
		in_director ipvsadm -a -t $VIP:8080 -r $(rs_addr $rs):80 -m
	done
	local conn_pids=() i
	for i in 1 2 3; do open_conn $i 7; done
	echo "open: $(conn_server 1) $(conn_server 2) $(conn_server 3)"
	echo "persistent client: $(new_conns 8080 3)"
	echo "== start: $(all_conns start 5)"

	# A terminating endpoint: weight 0. Its connection goes on; new ones avoid it.
	in_director ipvsadm -e -t $VIP:7 -r $(rs_addr rs2):7 -m -w 0
	in_director ipvsadm -e -t $VIP:8080 -r $(rs_addr rs2):80 -m -w 0
	echo "== rs2 at weight 0: $(all_conns w0 5); new:$(new_conns 7 3); persistent:$(new_conns 8080 2)"
	listing

	# Endpoints gone: rs2 and rs3 deleted. Their connections stall; rs1's goes on.
	in_director ipvsadm -d -t $VIP:7 -r $(rs_addr rs2):7
	in_director ipvsadm -d -t $VIP:7 -r $(rs_addr rs3):7
	in_director ipvsadm -d -t $VIP:8080 -r $(rs_addr rs2):80
	echo "== rs2 and rs3 deleted: $(all_conns del 1); new:$(new_conns 7 2); persistent:$(new_conns 8080 2)"
	listing

	# Back (as when an endpoint's readiness returns), re-weighted: the stalled connections
	# resume through TCP's retransmission.
	in_director ipvsadm -a -t $VIP:7 -r $(rs_addr rs2):7 -m -w 2
	in_director ipvsadm -a -t $VIP:7 -r $(rs_addr rs3):7 -m -w 1
	in_director ipvsadm -a -t $VIP:8080 -r $(rs_addr rs2):80 -m -w 1
	echo "== re-added: stalled lines $(check_line 2 del-2 20) $(check_line 3 del-3 20); now: $(all_conns back 5)"
	echo "new:$(new_conns 7 3); persistent:$(new_conns 8080 2)"
	listing

	# The service re-created with another scheduler (a kube-proxy restart that flushed).
	in_director ipvsadm -D -t $VIP:7
	in_director ipvsadm -A -t $VIP:7 -s wrr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:7 -r $(rs_addr $rs):7 -m -w 2
	done
	echo "== service re-created: $(all_conns svc 20); new:$(new_conns 7 3)"
	listing

	local fd
	for i in 1 2 3; do
		eval "fd=\$conn_fd_$i"
		exec {fd}>&-
	done
	wait "${conn_pids[@]}"
	rm -f /tmp/churn.$$.*
	topo_down
}

differential "endpoint churn" scenario
got_has '^== start:  1:echoed 2:echoed 3:echoed$' "open connections echo"
got_has '^== rs2 at weight 0:  1:echoed 2:echoed 3:echoed;' "weight 0 keeps connections"
got_has '^== service re-created:  1:echoed 2:echoed 3:echoed;' \
	"connections survive the service's re-creation"
log "identical to the C ip_vs"
exit $ksft_pass
