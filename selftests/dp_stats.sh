#!/bin/bash
# Counters and the rate estimator, differential against the C ip_vs: under steady traffic every
# rate of the service, its destination and the totals (ipvsadm --rate, /proc/net/ip_vs_stats)
# is non-zero; ZERO clears counters and rates of services, destinations and totals at once;
# /proc/net/ip_vs_stats_percpu lists each CPU's raw counters and their sum since the zeroing.
# The rates' values depend on timing, so only which of them are non-zero is compared.
. ./lib.sh
. ./topology.sh

# Which of ipvsadm's figures (option $1: --rate or --stats) for the service and its real
# server, and of /proc/net/ip_vs_stats's totals (line $2), are non-zero ("+") or zero ("0").
nonzero() {
	in_director ipvsadm -Ln $1 | awk 'NR > 3 {
		printf "%s %s", $1, $2
		for (i = 3; i <= 7; i++) printf " %s", ($i > 0 ? "+" : "0")
		printf "; "
	}'
	local value
	printf "totals"
	for value in $(in_director sed -n $2p /proc/net/ip_vs_stats); do
		if ((16#$value > 0)); then printf " +"; else printf " 0"; fi
	done
	echo
}

# Rates: ipvsadm --rate and the totals' per-second line.
rates() { nonzero --rate 6; }

# Counters: ipvsadm --stats and the totals' line.
counters() { nonzero --stats 3; }

# /proc/net/ip_vs_stats_percpu: its headers, the number of CPU rows, whether the rows add
# up to the "~" line (C lists each CPU's raw counters, "~" since the last zeroing), whether
# "~" is zero, and the rates' header.
percpu() {
	local lines row cpu v sums=(0 0 0 0 0) tilde=() n=0 i
	mapfile -t lines < <(in_director cat /proc/net/ip_vs_stats_percpu)
	printf '%s\n' "${lines[0]}" "${lines[1]}"
	for row in "${lines[@]:2}"; do
		read -r cpu v <<<"$row"
		if [ "$cpu" = "~" ]; then
			for v in $v; do tilde+=($((16#$v))); done
			break
		fi
		n=$((n + 1))
		i=0
		for v in $v; do sums[i]=$((sums[i] + 16#$v)); i=$((i + 1)); done
	done
	echo "cpu rows: $n of $(nproc); rows add up to ~: $([ "${sums[*]}" = "${tilde[*]}" ] && echo yes || echo no);" \
		"~ is zero: $([ "${tilde[*]}" = "0 0 0 0 0" ] && echo yes || echo no);" \
		"rows are zero: $([ "${sums[*]}" = "0 0 0 0 0" ] && echo yes || echo no)"
	printf '%s\n' "${lines[@]: -2:1}"
}

scenario() {
	topo_up
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -a -t $VIP:80 -r $(rs_addr rs1):80 -m
	echo "rates before traffic: $(rates)"
	# Steady requests from four clients at once until every rate is non-zero (at most 30 s),
	# or the rates as they are then. The estimators run every 2 s and average over 8 s, and
	# C's service and totals estimators run at different points of that period: sampling at a
	# fixed time once saw C's total conns/s still rounded to 0 while its service's was 1.
	local running=/tmp/dp_stats.running.$$ client clients=()
	touch "$running"
	for client in 1 2 3 4; do
		while [ -e "$running" ]; do
			tcp_request >/dev/null
		done &
		clients+=($!)
	done
	local all='TCP 10.0.0.1:80 + + + + +; -> 172.16.0.11:80 + + + + +; totals + + + + +'
	local deadline=$((SECONDS + 30)) sampled
	until sampled=$(rates) && [ "$sampled" = "$all" ] || [ $SECONDS -ge $deadline ]; do
		sleep 1
	done
	rm "$running"
	wait "${clients[@]}"
	echo "rates under traffic: $sampled"
	echo "counters under traffic: $(counters)"
	# C zeroes to the counters of its estimator's last run (every 2 s): let one run see all of
	# the traffic first, or packets from just before ZERO are counted after it.
	c_estimator_settle 4
	percpu
	in_director ipvsadm -Z
	echo "rates after zero: $(rates)"
	echo "counters after zero: $(counters)"
	percpu
	topo_down
}

differential "counters and rates" scenario
got_has '^rates under traffic: TCP 10.0.0.1:80 + + + + +; -> 172.16.0.11:80 + + + + +; totals + + + + +$' \
	"rates under traffic"
got_has '^cpu rows: [0-9]* of [0-9]*; rows add up to ~: yes; ~ is zero: no; rows are zero: no$' \
	"per-CPU counters under traffic"
got_has '^cpu rows: [0-9]* of [0-9]*; rows add up to ~: no; ~ is zero: yes; rows are zero: no$' \
	"per-CPU counters after zero"
got_has '^rates after zero: TCP 10.0.0.1:80 0 0 0 0 0; -> 172.16.0.11:80 0 0 0 0 0; totals 0 0 0 0 0$' \
	"rates after zero"
got_has '^counters after zero: TCP 10.0.0.1:80 0 0 0 0 0; -> 172.16.0.11:80 0 0 0 0 0; totals 0 0 0 0 0$' \
	"counters after zero"
log "identical to the C ip_vs"
exit $ksft_pass
