#!/bin/bash
# Benchmark, C ip_vs vs rust_ipvs, inside one guest (not a test: not listed in TESTS; run by
# scripts/bench.sh on the non-debug "perf" kernel).
#
# Same kernel, same topology (topology.sh), same ipvsadm configuration; the implementations
# are swapped between runs (never both loaded) and interleaved: round 1 c,rust; round 2 rust,c;
# and so on. Per implementation and round:
#   - tcp-crr:   TCP connect/request/response/close rate through a NAT rr service (3 servers);
#   - udp-flood: UDP datagrams, each from a new source tuple (every packet a new IPVS
#                connection): sent/s by the client and received/s by the real servers;
#   - the same two over IPv6 (VIP fd00::1, real servers fd01::11-13 on the same links):
#     tcp_crr6_cps, udp_flood6_*;
#   - established flows: tcp-stream, one TCP connection per client thread writing as fast as
#     it can (Mbit/s the real servers read), and udp-stream, datagrams from one connected
#     socket per thread (received/s): the per-packet cost of a connection IPVS already has
#     (tcp_stream_mbps, udp_stream_*; over IPv6 with the load stream6).
# The same throughput runs go through the services as kube-proxy's nftables mode programs them
# (topology.sh's nft_rules: numgen random onto per-endpoint DNAT chains), the third column (nft).
# Then the memory per connection, per implementation (interleaved too): udp-conns creates
# BENCH_CONNS UDP connections; the delta of Slab, SUnreclaim and used memory (MemTotal -
# MemFree) in /proc/meminfo divided by the connection count; with /proc/slabinfo (needs
# CONFIG_SLUB_DEBUG) also the growth of in-use slab objects per connection, and the caches
# that grew most. mem_load_slab_bytes: Slab growth from loading the module and adding the
# service (fixed cost, e.g. the hash table).
# Then the control plane, per implementation (interleaved): BENCH_SERVICES TCP services with
# three real servers each restored by `ipvsadm -R` (one netlink message per service and per
# real server, as kube-proxy programs them), listed by `ipvsadm -Ln` and `ipvsadm -S -n`,
# flushed by `ipvsadm -C`, restored again (ctl_reload_s: `ipvsadm -C; ipvsadm -R`, a
# configuration reloaded, where every real server comes back from the trash the flush put it
# in), and deleted one service per message (ctl_delete_s: `ipvsadm -R` of `-D` lines, as
# kube-proxy deletes them); seconds each (lower is better), wall clock (ctl_*_s) and the kernel CPU time of the
# command (ctl_*_sys_s: the implementation's cost without ipvsadm's own user time).
#
# With BENCH_PREFILL set (connection counts, e.g. "100000"), the throughput runs are repeated
# with the connection table holding that many idle UDP connections (to another service, from
# other client addresses, with a one-hour UDP timeout): the metrics of those runs carry the
# count (tcp_crr_cps@100000, ...).
#
# Every output line of interest starts with "bench: "; the last one is "bench: done".
# Settings (environment, or /selftests/.bench-env written by scripts/bench.sh):
#   BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNS (100000), BENCH_THREADS (2),
#   BENCH_MEM_ROUNDS (1), BENCH_SERVICES (10000), BENCH_CTL_ROUNDS (2), BENCH_PREFILL (),
#   BENCH_LOADS (tcp,udp,tcp6,udp6,stream: the throughput runs measured; e.g. tcp for a CRR-only
#   comparison; stream6 adds the established flows over IPv6), BENCH_IMPLS (c,rust,nft: the implementations the throughput runs rotate over)
. ./lib.sh
. ./topology.sh
# shellcheck disable=SC1091
[ -f ./.bench-env ] && . ./.bench-env

rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_SECONDS:-10}
nconns=${BENCH_CONNS:-100000}
threads=${BENCH_THREADS:-2}
mem_rounds=${BENCH_MEM_ROUNDS:-1}
nservices=${BENCH_SERVICES:-10000}
ctl_rounds=${BENCH_CTL_ROUNDS:-2}
prefills="0 ${BENCH_PREFILL:-}"
tcp_port=8080
udp_port=9000
stream_port=8090
prefill_port=9001
# The prefill's client addresses: 16 x 64512 source tuples.
prefill_sources=$(printf '10.0.0.%d\n' $(seq 20 35) | paste -s -d,)
# Extra client addresses: 8 x 64512 source tuples, so no flood reuses a tuple.
client_sources=10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6,10.0.0.7,10.0.0.8,10.0.0.9,10.0.0.10
# The IPv6 client addresses (the virtual address is topology.sh's VIP6).
client_sources6=fd00::3,fd00::4,fd00::5,fd00::6,fd00::7,fd00::8,fd00::9,fd00::a

bench=$(command -v ipvsbench)
[ -x "$bench" ] || fail "ipvsbench is not in the guest (scripts/vm.sh ships it)"

b() { echo "bench: $*"; }

cleanup() {
	ipvs_unload
	topo_down
	rm -f /tmp/bench_*.count /tmp/bench_*.count.tmp
}
trap cleanup EXIT

# --- samples: samples[metric.impl] = "v1 v2 ..."
declare -A samples
record() { samples[$1.$2]="${samples[$1.$2]:+${samples[$1.$2]} }$3"; }

# Median of the numbers given as arguments ("-" if none).
median() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2;
		      printf "%.6g\n", m }'
}

# rust / c, 3 decimals ("-" when undefined or meaningless: no positive C figure).
ratio() {
	awk -v c="$1" -v r="$2" 'BEGIN { if (c == "-" || r == "-" || c + 0 <= 0) print "-";
		else printf "%.3f\n", r / c }'
}

# The ratios rust / c of each round (the two runs of a round are neighbours in time, so a
# host whose speed drifts over the rounds moves both), and their median: "r1,r2,... median";
# nothing unless both have the same number of positive samples.
paired_ratios() {
	awk -v c="$1" -v r="$2" 'BEGIN {
		n = split(c, cs, " "); if (split(r, rs, " ") != n || n == 0) exit
		for (i = 1; i <= n; i++) { if (cs[i] + 0 <= 0) exit; v[i] = rs[i] / cs[i] }
		for (i = 1; i <= n; i++) { list = list (i > 1 ? "," : "") sprintf("%.3f", v[i]) }
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%s %.3f\n", list, m }'
}

# Extracts key=value from a line of ipvsbench output.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# Sum of the real servers' UDP datagram counters.
udp_received() {
	local rs n total=0
	for rs in "${topo_real_servers[@]}"; do
		n=$(cat /tmp/bench_$rs.count 2>/dev/null)
		total=$((total + ${n:-0}))
	done
	echo $total
}

# Connections in the director's table (the proc file has one header line); only those of
# protocol $1 (TCP, UDP) if given.
ipvs_conn_count() {
	in_director cat /proc/net/ip_vs_conn |
		awk -v p="${1:-}" 'NR > 1 && (p == "" || $1 == p) { n++ } END { print n + 0 }'
}

# A /proc/meminfo field in bytes.
meminfo() { awk -v k="$1:" '$1 == k { print $2 * 1024 }' /proc/meminfo; }
mem_used() { echo $(($(meminfo MemTotal) - $(meminfo MemFree))); }

# "name bytes" for every slab cache, in-use objects only (active_objs * objsize), when
# /proc/slabinfo exists (CONFIG_SLUB_DEBUG).
slab_bytes() {
	[ -r /proc/slabinfo ] || return 0
	awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo
}

# Sum over the caches of the growth of in-use bytes between two slab_bytes snapshots;
# with a third argument N, the caches that grew most as "bytes name bytes/N" lines instead.
slab_growth() {
	{ echo "$1" | sed 's/^/before /'; echo "$2" | sed 's/^/after /'; } |
		awk -v n="${3:-0}" '$1 == "before" { b[$2] = $3 } $1 == "after" { a[$2] = $3 }
			END { for (k in a) { d = a[k] - b[k]; if (d > 0) { t += d; if (n > 0) printf "%d %s %.1f\n", d, k, d / n } }
			      if (n == 0) print t + 0 }' |
		sort -rn
}

# The NAT services: UDP rr on the VIP, the three real servers masqueraded; with "all", TCP
# (the CRR port and the stream port) too, and the same on the IPv6 VIP.
configure() {
	local what=$1 rs
	if [ "$what" != udp ]; then
		for port in $tcp_port $stream_port; do
			in_director ipvsadm -A -t $VIP:$port -s rr || fail "ipvsadm -A -t :$port"
			in_director ipvsadm -A -t "[$VIP6]:$port" -s rr || fail "ipvsadm -A -t (IPv6) :$port"
		done
		in_director ipvsadm -A -u "[$VIP6]:$udp_port" -s rr || fail "ipvsadm -A -u (IPv6)"
		for rs in "${topo_real_servers[@]}"; do
			for port in $tcp_port $stream_port; do
				in_director ipvsadm -a -t $VIP:$port -r "$(rs_addr $rs)":$port -m ||
					fail "ipvsadm -a -t :$port"
				in_director ipvsadm -a -t "[$VIP6]:$port" -r "[$(rs_addr6 $rs)]:$port" -m ||
					fail "ipvsadm -a -t (IPv6) :$port"
			done
			in_director ipvsadm -a -u "[$VIP6]:$udp_port" -r "[$(rs_addr6 $rs)]:$udp_port" -m ||
				fail "ipvsadm -a -u (IPv6)"
		done
	fi
	in_director ipvsadm -A -u $VIP:$udp_port -s rr || fail "ipvsadm -A -u"
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -u $VIP:$udp_port -r "$(rs_addr $rs)":$udp_port -m ||
			fail "ipvsadm -a -u"
	done
}


# Settles the machine before a measurement: pending RCU frees, timers, reclaimable caches,
# and the empty slabs every cache keeps (freed objects of earlier runs would otherwise be
# reused without growing Slab).
settle() {
	local f
	sync
	sleep "${1:-1}"
	echo 2 >/proc/sys/vm/drop_caches 2>/dev/null
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f" 2>/dev/null; done
}

# Fills the connection table with $1 idle UDP connections to the prefill service.
prefill() {
	local n=$1 rs out
	[ "$n" -gt 0 ] || return 0
	in_director ipvsadm --set 0 0 3600
	in_director ipvsadm -A -u $VIP:$prefill_port -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -u $VIP:$prefill_port -r "$(rs_addr $rs)":$udp_port -m
	done
	out=$(in_client "$bench" udp-conns --target $VIP:$prefill_port --count "$n" \
		--source "$prefill_sources") || fail "prefill failed: $out"
	b "prefill: $out, $(ipvs_conn_count UDP) UDP connections in the table"
}

# Whether BENCH_LOADS asks for load $1 (tcp, udp, tcp6, udp6, stream, stream6).
load_wanted() {
	case ",${BENCH_LOADS:-tcp,udp,tcp6,udp6,stream}," in *",$1,"*) return 0 ;; esac
	return 1
}

# One throughput run of implementation $1 in round $2, with $3 connections prefilled (the
# metrics of a prefilled run are named METRIC@COUNT).
throughput_run() {
	local impl=$1 round=$2 fill=${3:-0}
	if [ "$impl" = nft ]; then
		nft_load tcp:$tcp_port udp:$udp_port tcp:$stream_port
	else
		IPVS_IMPL=$impl ipvs_load
		configure all
		prefill "$fill"
	fi
	# Warm-up (caches, ARP, the first connections), not recorded.
	in_client "$bench" tcp-crr --target $VIP:$tcp_port --seconds 1 --threads "$threads" >/dev/null ||
		fail "$impl: warm-up tcp-crr failed"
	settle 1

	load_wanted tcp && crr_run "$impl" "$round" "$fill" "" $VIP:$tcp_port tcp_crr_cps tcp_crr_errors
	load_wanted udp && flood_run "$impl" "$round" "$fill" "" $VIP:$udp_port "$client_sources" \
		udp_flood udp_flood_udp_conns
	load_wanted tcp6 && crr_run "$impl" "$round" "$fill" "IPv6 " "[$VIP6]:$tcp_port" tcp_crr6_cps
	load_wanted udp6 && flood_run "$impl" "$round" "$fill" "IPv6 " "[$VIP6]:$udp_port" \
		"$client_sources6" udp_flood6
	load_wanted stream && stream_run "$impl" "$round" "$fill" "" $VIP tcp_stream udp_stream
	load_wanted stream6 && stream_run "$impl" "$round" "$fill" "IPv6 " "[$VIP6]" tcp_stream6 \
		udp_stream6

	if [ "$impl" = nft ]; then
		nft_unload
	else
		in_director ipvsadm -C
		ipvs_unload
	fi
}

# One TCP connect/request/close measurement of a throughput run: implementation $1, round
# $2, $3 connections prefilled, logged with the prefix $4 ("IPv6 " or none), to $5
# (address:port); records the rate as $6 and, if $7 is given, the errors as $7.
crr_run() {
	local impl=$1 round=$2 fill=$3 label=$4 target=$5 metric=$6 errors_metric=${7:-}
	local out conns at=
	[ "$fill" -gt 0 ] && at=@$fill
	out=$(in_client "$bench" tcp-crr --target "$target" --seconds "$secs" \
		--threads "$threads") || fail "$impl: ${label}tcp-crr failed: $out"
	b "round $round$at $impl: $label$out"
	conns=$(field conns "$out")
	[ "${conns:-0}" -gt 0 ] || fail "$impl: no ${label}TCP connection completed: $out"
	record "$metric$at" "$impl" "$(field cps "$out")"
	[ -z "$errors_metric" ] || record "$errors_metric$at" "$impl" "$(field errors "$out")"
	settle 1
}

# Runs the UDP load "$3..." (an ipvsbench subcommand and its options) in the client for
# implementation $1, logged with the prefix $2, and counts what the real servers received
# meanwhile: sets udp_out (the load's line), udp_rx (datagrams received) and udp_rx_pps (per
# second of the load). Fails when the load fails or nothing arrived.
udp_measured() {
	local impl=$1 label=$2 rx0
	shift 2
	rx0=$(udp_received)
	udp_out=$(in_client "$bench" "$@") || fail "$impl: $label$1 failed: $udp_out"
	sleep 1 # the servers' counters are written every 100 ms
	udp_rx=$(($(udp_received) - rx0))
	udp_rx_pps=$(awk -v n=$udp_rx -v s="$(field secs "$udp_out")" \
		'BEGIN { printf "%.1f\n", (s > 0 ? n / s : 0) }')
	[ "$udp_rx" -gt 0 ] || fail "$impl: the real servers received no ${label}$1 datagram"
}

# One UDP flood of a throughput run (a new flow per datagram): implementation $1, round $2,
# $3 connections prefilled, logged with the prefix $4, to $5 from the sources $6; records the
# rates sent and received as ${7}_sent_pps and ${7}_rx_pps and, if $8 is given, the UDP
# connections it left in the table (conntrack's for nft) as $8.
flood_run() {
	local impl=$1 round=$2 fill=$3 label=$4 target=$5 sources=$6 prefix=$7 conns_metric=${8:-}
	local sent count shown= at=
	[ "$fill" -gt 0 ] && at=@$fill
	udp_measured "$impl" "$label" udp-flood --target "$target" --seconds "$secs" \
		--threads "$threads" --source $sources
	if [ -n "$conns_metric" ]; then
		if [ "$impl" = nft ]; then
			count=$(in_director cat /proc/sys/net/netfilter/nf_conntrack_count)
		else
			count=$(($(ipvs_conn_count UDP) - fill))
		fi
		shown=" udp_conns=$count"
	fi
	b "round $round$at $impl: $label$udp_out received=$udp_rx rx_pps=$udp_rx_pps$shown"
	sent=$(field sent "$udp_out")
	[ "${sent:-0}" -gt 0 ] || fail "$impl: ${label}udp-flood sent nothing: $udp_out"
	record "${prefix}_sent_pps$at" "$impl" "$(field pps "$udp_out")"
	record "${prefix}_rx_pps$at" "$impl" "$udp_rx_pps"
	[ -z "$conns_metric" ] || record "$conns_metric$at" "$impl" "$count"
	settle 1
}

# The established-flow measurements of a throughput run: implementation $1, round $2, $3
# connections prefilled, logged with the prefix $4, to the address $5 ("[...]" for IPv6):
# tcp-stream to the stream port, recorded as ${6}_mbps, and udp-stream to the UDP port,
# recorded as ${7}_sent_pps and ${7}_rx_pps.
stream_run() {
	local impl=$1 round=$2 fill=$3 label=$4 addr=$5 tcp_metric=$6 udp_metric=$7
	local out at=
	[ "$fill" -gt 0 ] && at=@$fill
	out=$(in_client "$bench" tcp-stream --target "$addr:$stream_port" --seconds "$secs" \
		--threads "$threads") || fail "$impl: ${label}tcp-stream failed: $out"
	b "round $round$at $impl: $label$out"
	[ "$(field bytes "$out")" -gt 0 ] || fail "$impl: ${label}tcp-stream moved no byte: $out"
	record "${tcp_metric}_mbps$at" "$impl" "$(field mbps "$out")"
	settle 1
	udp_measured "$impl" "$label" udp-stream --target "$addr:$udp_port" --seconds "$secs" \
		--threads "$threads"
	b "round $round$at $impl: $label$udp_out received=$udp_rx rx_pps=$udp_rx_pps"
	record "${udp_metric}_sent_pps$at" "$impl" "$(field pps "$udp_out")"
	record "${udp_metric}_rx_pps$at" "$impl" "$udp_rx_pps"
	settle 1
}

# Seconds that "$@" takes, to the millisecond: "<wall clock> <kernel CPU>". The kernel time
# (system time of the command and its children) is what the implementation costs; the wall
# clock adds ipvsadm's own user time, the same code for both, about half of it.
seconds_of() {
	local TIMEFORMAT='%3R %3S' out
	out=$({ time "$@" >/dev/null 2>&1 || echo failed; } 2>&1)
	case $out in *failed*) fail "failed: $*" ;; esac
	echo "$out"
}

# One control-plane run of implementation $1 in round $2.
control_run() {
	local impl=$1 round=$2 listed step times line
	IPVS_IMPL=$impl ipvs_load
	line="ctl $round $impl: services=$nservices"
	for step in restore list save flush reload delete; do
		case $step in
		restore | reload) times=$(seconds_of in_director ipvsadm -R </tmp/bench_rules.$$) ;;
		delete) times=$(seconds_of in_director ipvsadm -R </tmp/bench_deletes.$$) ;;
		list) times=$(seconds_of in_director ipvsadm -Ln) ;;
		save) times=$(seconds_of in_director ipvsadm -S -n) ;;
		flush) times=$(seconds_of in_director ipvsadm -C) ;;
		esac
		if [ $step = restore ]; then
			listed=$(in_director ipvsadm -Ln | grep -c '^TCP')
			[ "$listed" = "$nservices" ] ||
				fail "$impl: $listed services listed, $nservices restored"
		elif [ $step = delete ]; then
			listed=$(in_director ipvsadm -Ln | grep -c '^TCP')
			[ "$listed" = 0 ] || fail "$impl: $listed services left after the deletes"
		fi
		line="$line $step=${times% *}(sys ${times#* })"
		record ctl_${step}_s "$impl" "${times% *}"
		record ctl_${step}_sys_s "$impl" "${times#* }"
	done
	in_director ipvsadm -C
	b "$line"
	ipvs_unload
}

# Memory per connection of implementation $1.
memory_run() {
	local impl=$1 round=$2 out s0 u0 m0 s1 u1 m1 n ct slabs0 slabs1 l0 l1
	ipvs_unload
	settle 1
	l0=$(meminfo Slab)
	IPVS_IMPL=$impl ipvs_load
	configure udp
	settle 2
	slabs0=$(slab_bytes)
	s0=$(meminfo Slab) u0=$(meminfo SUnreclaim) m0=$(mem_used)
	l1=$s0

	out=$(in_client "$bench" udp-conns --target $VIP:$udp_port --count "$nconns" \
		--source $client_sources) || fail "$impl: udp-conns failed: $out"
	settle 3
	s1=$(meminfo Slab) u1=$(meminfo SUnreclaim) m1=$(mem_used)
	slabs1=$(slab_bytes)
	n=$(ipvs_conn_count)
	ct=$(in_director cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo -)
	b "mem $round $impl: $out ipvs_conns=$n conntrack=$ct"
	b "mem $round $impl: Slab +$((s1 - s0)) SUnreclaim +$((u1 - u0)) used +$((m1 - m0)) bytes;" \
		"module load + services: Slab +$((l1 - l0)) bytes"
	[ "${n:-0}" -gt 0 ] || fail "$impl: no IPVS connection after udp-conns"
	record mem_load_slab_bytes "$impl" $((l1 - l0))
	if [ -n "$slabs0" ]; then
		record mem_slab_active_bytes_per_conn "$impl" $(($(slab_growth "$slabs0" "$slabs1") / n))
	fi
	record mem_slab_bytes_per_conn "$impl" $(((s1 - s0) / n))
	record mem_sunreclaim_bytes_per_conn "$impl" $(((u1 - u0) / n))
	record mem_used_bytes_per_conn "$impl" $(((m1 - m0) / n))
	record mem_conns "$impl" "$n"
	if [ -n "$slabs0" ]; then
		# The caches that grew most, in bytes and bytes per connection.
		slab_growth "$slabs0" "$slabs1" "$n" | head -6 | while read -r d name per; do
			b "mem $round $impl: slab cache $name +$d bytes ($per per conn)"
		done
	fi
	if [ "$impl" = c ]; then
		local dir=/sys/kernel/slab/ip_vs_conn
		if [ -e $dir/object_size ]; then
			b "mem c: ip_vs_conn object_size=$(cat $dir/object_size) slab_size=$(cat $dir/slab_size)" \
				"objs_per_slab=$(cat $dir/objs_per_slab 2>/dev/null) aliases=$(cat $dir/aliases 2>/dev/null)" \
				"merged_into=$(basename "$(readlink -f $dir)")"
		fi
		if [ -r /proc/slabinfo ]; then
			b "mem c: slabinfo $(grep -E '^ip_vs_conn ' /proc/slabinfo || echo 'ip_vs_conn: not listed (merged cache)')"
		fi
	fi
	in_director ipvsadm -C
	ipvs_unload
}

# Prints one metric: samples, medians and the ratio rust/C; where the nftables mode was
# measured (throughput), its median and the ratio rust/nft too.
report() {
	local metric=$1 mc mr mn pairs
	# A load BENCH_LOADS left out.
	[ -n "${samples[$metric.c]:-}${samples[$metric.rust]:-}${samples[$metric.nft]:-}" ] || return 0
	# shellcheck disable=SC2086
	mc=$(median ${samples[$metric.c]})
	# shellcheck disable=SC2086
	mr=$(median ${samples[$metric.rust]})
	# shellcheck disable=SC2086
	mn=$(median ${samples[$metric.nft]})
	pairs=$(paired_ratios "${samples[$metric.c]}" "${samples[$metric.rust]}")
	b "$metric c=[${samples[$metric.c]// /,}] rust=[${samples[$metric.rust]// /,}]" \
		"${samples[$metric.nft]:+nft=[${samples[$metric.nft]// /,}] }median c=$mc rust=$mr" \
		"${samples[$metric.nft]:+nft=$mn }ratio=$(ratio "$mc" "$mr")" \
		"${pairs:+pairs=[${pairs% *}] pair_median=${pairs##* }}"
	table+=("$(printf '%-30s %12s %12s %8s %12s %8s' "$metric" "$mc" "$mr" "$(ratio "$mc" "$mr")" \
		"$mn" "$(ratio "$mn" "$mr")")")
}

b "kernel $(uname -r), $(nproc) CPUs, $(meminfo MemTotal) bytes RAM;" \
	"rounds=$rounds seconds=$secs threads=$threads conns=$nconns mem_rounds=$mem_rounds"
b "slabinfo: $([ -r /proc/slabinfo ] && echo yes || echo 'no (CONFIG_SLUB_DEBUG off): meminfo deltas only')"

topo_up
in_client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
for a in ${client_sources//,/ } ${prefill_sources//,/ }; do
	ip -n $topo_ns_client addr add $a/24 dev c0 || fail "ip addr add $a"
done
# IPv6 on the same links: client fd00::2-a, director fd00::1 | fd01::1, rs fd01::11-13.
topo_ipv6_up ${client_sources6//,/ }
for rs in "${topo_real_servers[@]}"; do
	in_rs $rs "$bench" server --bind :: --tcp-port $tcp_port --udp-port $udp_port \
		--sink-port $stream_port --count-file /tmp/bench_$rs.count </dev/null >/dev/null 2>&1 &
done
for rs in "${topo_real_servers[@]}"; do
	for _ in $(seq 50); do
		[ -f /tmp/bench_$rs.count ] && break
		sleep 0.1
	done
	[ -f /tmp/bench_$rs.count ] || fail "ipvsbench server in $rs did not start"
done

# The order rotates per round: c rust nft, rust nft c, nft c rust, ... The nftables mode runs
# without prefill (its table is conntrack's, which IPVS connections do not fill).
IFS=, read -r -a impls <<<"${BENCH_IMPLS:-c,rust,nft}"
for round in $(seq "$rounds"); do
	order=
	for i in "${!impls[@]}"; do order="$order ${impls[$(((round - 1 + i) % ${#impls[@]}))]}"; done
	for impl in $order; do
		for fill in $prefills; do
			[ "$impl" = nft ] && [ "$fill" -gt 0 ] && continue
			throughput_run "$impl" "$round" "$fill"
		done
	done
done
for round in $(seq "$mem_rounds"); do
	if [ $((round % 2)) = 1 ]; then order="c rust"; else order="rust c"; fi
	for impl in $order; do
		memory_run "$impl" "$round"
	done
done

services_rules "$nservices" >/tmp/bench_rules.$$
awk '$1 == "-A" { print "-D", $2, $3 }' /tmp/bench_rules.$$ >/tmp/bench_deletes.$$
for round in $(seq "$ctl_rounds"); do
	if [ $((round % 2)) = 1 ]; then order="c rust"; else order="rust c"; fi
	for impl in $order; do
		control_run "$impl" "$round"
	done
done

table=()
throughput_metrics=
for fill in $prefills; do
	at=
	[ "$fill" -gt 0 ] && at=@$fill
	throughput_metrics="$throughput_metrics tcp_crr_cps$at tcp_crr_errors$at udp_flood_sent_pps$at"
	throughput_metrics="$throughput_metrics udp_flood_rx_pps$at udp_flood_udp_conns$at"
	throughput_metrics="$throughput_metrics tcp_crr6_cps$at udp_flood6_sent_pps$at udp_flood6_rx_pps$at"
	throughput_metrics="$throughput_metrics tcp_stream_mbps$at udp_stream_sent_pps$at udp_stream_rx_pps$at"
	throughput_metrics="$throughput_metrics tcp_stream6_mbps$at udp_stream6_sent_pps$at udp_stream6_rx_pps$at"
done
for metric in $throughput_metrics \
	mem_conns mem_slab_active_bytes_per_conn mem_slab_bytes_per_conn mem_sunreclaim_bytes_per_conn \
	mem_used_bytes_per_conn mem_load_slab_bytes ctl_restore_s ctl_list_s ctl_save_s ctl_flush_s \
	ctl_reload_s ctl_delete_s ctl_restore_sys_s ctl_list_sys_s ctl_save_sys_s ctl_flush_sys_s \
	ctl_reload_sys_s ctl_delete_sys_s; do
	report $metric
done
b "$(printf '%-30s %12s %12s %8s %12s %8s' metric c_median rust_median rust/c nft_median rust/nft)"
for line in "${table[@]}"; do b "$line"; done
b done
exit $ksft_pass
