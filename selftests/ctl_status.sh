#!/bin/bash
# /proc/net/ip_vs_status (C 7.3's table report) and /proc/net/ip_vs_app, differential against
# the C ip_vs: the files' modes, the connection and service counts and their tables' size,
# bits and load factor before any service, with services and with connections, the report's
# lines in order (the chain lengths depend on each table's random hash seed and on C's two
# hash nodes per NAT connection, so only their labels are compared, and that they account
# for every chain; the estimator's figures depend on C's kthread calibration: labels only);
# ip_vs_app byte for byte; the tables resized at once for new load factors.
. ./lib.sh
. ./topology.sh

# The report with the chain counts and the estimator's figures masked (which lengths occur
# depends on the hash: the len-N lines are checked, not printed), and whether each table's
# chains add up to its size, its len-N lines ascending.
status() {
	in_director awk -F'\t' '
		/^(Conn|Service) buckets:/ { split($2, a, " "); size[$1] = a[1]; print; next }
		/^(Conn|Service) buckets (empty|len-[1-7]):/ {
			split($1, w, " "); split($2, a, " "); sum[w[1]] += a[1]
			n = substr(w[3], 5) + 0
			if (w[3] == "empty:") { print $1 "\t#"; last[w[1]] = 0 }
			else if (n <= last[w[1]] || a[1] < 1) bad[w[1]] = 1
			else last[w[1]] = n
			next
		}
		/^Stats/ { print $1 "\t#"; next }
		{ print }
		END {
			split("Conn Service", tables, " ")
			for (i = 1; i <= 2; i++) {
				t = tables[i]
				if (!(t in sum)) continue
				ok = (sum[t] == size[t " buckets:"] && !bad[t]) ? "yes" : "no (" sum[t] ")"
				print t " chains counted, lengths ascending: " ok
			}
		}' /proc/net/ip_vs_status
}

scenario() {
	topo_up
	echo "modes: $(in_director stat -c '%n %a' /proc/net/ip_vs_status /proc/net/ip_vs_app |
		sed 's|/proc/net/||' | paste -sd ' ')"
	in_director cat /proc/net/ip_vs_app
	echo "-- no service"
	status
	rr_services_up
	local i
	for i in $(seq 30); do in_director ipvsadm -A -t 10.1.0.$i:80 -s wlc; done
	echo "-- 32 services"
	status
	for i in $(seq 6); do tcp_request >/dev/null; done
	echo "-- 6 connections"
	status
	# A load factor written resizes its table at once (C queues the resize work at once).
	echo "svc_lfactor 9: $(in_director sysctl -w net.ipv4.vs.svc_lfactor=9 2>&1)"
	echo "conn_lfactor -9: $(in_director sysctl -w net.ipv4.vs.conn_lfactor=-9 2>&1)"
	in_director sysctl -qw net.ipv4.vs.svc_lfactor=2 net.ipv4.vs.conn_lfactor=3
	wait_until 5 in_director grep -q 'Service buckets:.*lfactor 2)' /proc/net/ip_vs_status
	wait_until 5 in_director grep -q 'Conn buckets:.*lfactor 3)' /proc/net/ip_vs_status
	echo "-- svc_lfactor 2, conn_lfactor 3"
	status
	topo_down
}

differential "ip_vs_status" scenario
exit $ksft_pass
