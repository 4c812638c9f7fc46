#!/bin/bash
# Where the director's CPU time goes, C ip_vs vs rust_ipvs (not a test: not listed in TESTS;
# run it with `scripts/vm.sh --kernel $(scripts/kernel.sh --print perf) profile.sh`).
#
# For each implementation in turn, the benchmark's loads go through the NAT services to
# listening real servers while `perf record` samples every CPU (cpu-clock: TCG emulates no
# PMU): TCP connect/request/close for PROFILE_SECONDS (10) with two threads (IPv4, then IPv6), PROFILE_FLOWS
# (30000) new UDP flows, and a spoofed SYN flood of PROFILE_SYNS (30000). Each report gives the
# samples in total, of the module and idle, per completed connection (absolute costs, which
# the shares alone hide when the rates differ), and the symbols with the most samples. Then
# the control plane: PROFILE_SERVICES (5000) services restored, listed, saved, flushed, and
# restored again and deleted one message each (PROFILE_CONTROL, e.g. restore,delete, reports
# only those steps; PROFILE_DELETES=K deletes only the first K, reported as deleted=K: two
# counts at one size and two K give what one more delete costs, the rest cancelled).
# PROFILE_PARTS (data,control) picks the parts; PROFILE_HOT=N also lists the module's N
# hottest instructions (symbol+offset); PROFILE_IMPLS (c,rust) the implementations, in order;
# PROFILE_TOP (25) how many symbols each list shows (nft: the same services as kube-proxy's
# nftables mode programs them, topology.sh's nft_rules, data part only); PROFILE_CALLERS=SYM the call chains
# that lead to SYM; PROFILE_LOADS (tcp,tcp6,udp,syn; also flood and flood6: the benchmark's
# UDP flood over IPv4 or IPv6, a new flow per datagram, and stream and stream6: datagrams of
# established flows, one per client thread, each for PROFILE_SECONDS) the data part's loads.
# PROFILE_SYSCTLS (e.g. net.ipv4.vs.run_estimation=0, comma-separated) are set in the
# director's namespace after each load, before the control part.
#
# PROFILE_TOOL=icount counts instead of sampling: run it with `scripts/vm.sh --icount FILE`,
# one implementation and one load per guest (PROFILE_IMPLS=rust PROFILE_LOADS=tcp, say); each
# load prints its count ("icount-load: conns=N") and, before the module unloads, the guest's
# module symbols and the kernel's text address ("icount-ksym ..."), which scripts/icount.py
# reads with FILE to give the instructions per connection by symbol.
. ./lib.sh
. ./topology.sh

syns=${PROFILE_SYNS:-30000}
flows=${PROFILE_FLOWS:-30000}
secs=${PROFILE_SECONDS:-10}
tcp_port=8080
udp_port=9000
client_sources=10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6
client_sources6=fd00::3,fd00::4,fd00::5,fd00::6
command -v perf >/dev/null || skip "no perf in the guest (install linux-perf on the host)"
bench=$(command -v ipvsbench)
[ -x "$bench" ] || skip "no ipvsbench in the guest"

# Samples the whole guest while "$@" runs; prints the command's output, then the samples of
# the whole guest, of the module and of the idle loop, each also per unit of $PER_UNITS
# (the count the command reports as $PER_FIELD=N), then the top symbols.
profiled() {
	local data=/tmp/perf.$$.data out total module idle n
	if [ "${PROFILE_TOOL:-perf}" = icount ]; then
		# With the context switches the command saw in the whole guest: under TCG each
		# switch to another process's page tables empties the soft TLB and jump cache.
		local ctxt0
		ctxt0=$(awk '$1 == "ctxt" { print $2 }' /proc/stat)
		out=$("$@")
		echo "icount-load: $(echo "$out" | tail -1)" \
			"ctxt=$(($(awk '$1 == "ctxt" { print $2 }' /proc/stat) - ctxt0))"
		return
	fi
	out=$(perf record -q -a -g -e cpu-clock -o $data -- "$@" 2>/dev/null)
	echo "$out" | tail -1
	n=$(echo "$out" | tr ' ' '\n' | sed -n "s/^$PER_FIELD=//p" | tail -1)
	total=$(perf report -i $data --stdio -n --sort dso 2>/dev/null | grep -m1 'of event' |
		sed -n 's/.*Samples: *\([0-9.]*[KM]*\).*/\1/p')
	perf report -i $data --stdio --no-children -n --sort dso 2>/dev/null >/tmp/perf.$$.dso
	module=$(awk '/\[(ip_vs|rust_ipvs|ip_vs_rr)\]/ { s += $2 } END { print s + 0 }' /tmp/perf.$$.dso)
	all=$(awk '/^ +[0-9.]+%/ { s += $2 } END { print s + 0 }' /tmp/perf.$$.dso)
	perf report -i $data --stdio --no-children -n --sort sym --kallsyms=/proc/kallsyms \
		2>/dev/null >/tmp/perf.$$.sym
	idle=$(awk '/default_idle|pv_native_safe_halt|cpuidle/ { s += $2 } END { print s + 0 }' \
		/tmp/perf.$$.sym)
	awk -v a="$all" -v m="$module" -v i="$idle" -v n="${n:-0}" -v what="$PER_FIELD" 'BEGIN {
		printf "samples: all=%d module=%d idle=%d busy=%d", a, m, i, a - i
		if (n > 0) printf "; per 1000 %s: busy=%.1f module=%.1f", what, 1000 * (a - i) / n, 1000 * m / n
		printf "\n" }'
	grep -E '^ +[0-9.]+%' /tmp/perf.$$.sym | grep -v default_idle | head -"${PROFILE_TOP:-25}" |
		awk '{ printf "  %6s %6d %s\n", $1, $2, $NF }'
	echo "commands:"
	perf report -i $data --stdio --no-children -n --sort comm 2>/dev/null | grep -E '^ +[0-9.]+%' |
		head -12 | awk '{ printf "  %6d %s\n", $2, $NF }'
	# No module for the nftables mode.
	if [ -n "$(module_dsos)" ]; then
		echo "module symbols:"
		perf report -i $data --stdio --no-children -n --sort sym --dsos "$(module_dsos)" \
			--kallsyms=/proc/kallsyms 2>/dev/null | grep -E '^ +[0-9.]+%' | head -"${PROFILE_TOP:-25}" |
			awk '{ printf "  %6d %s\n", $2, $NF }'
		if [ "${PROFILE_HOT:-0}" -gt 0 ]; then
			# The module's hottest instructions, as symbol+offset (to read against
			# `objdump -d rust_ipvs.ko` on the host).
			echo "module hot spots:"
			perf script -i $data -G -F ip,sym,symoff,dso --kallsyms=/proc/kallsyms 2>/dev/null |
				awk '/\/(ip_vs|rust_ipvs|ip_vs_rr)\.ko\)$/ { n[$2]++ }
					END { for (s in n) printf "  %6d %s\n", n[s], s }' |
				sort -rn | head -"$PROFILE_HOT"
		fi
	fi
	if [ -n "${PROFILE_CALLERS:-}" ]; then
		# Where the named symbol's samples came from: its callers' chains.
		echo "callers of $PROFILE_CALLERS:"
		perf report -i $data --stdio --no-children -S "$PROFILE_CALLERS" -G \
			--kallsyms=/proc/kallsyms 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
	fi
	rm -f $data /tmp/perf.$$.dso /tmp/perf.$$.sym
}

# When counting: where the kernel's text and the modules' functions are, for
# scripts/icount.py (before the implementation unloads).
icount_symbols() {
	[ "${PROFILE_TOOL:-perf}" = icount ] || return 0
	awk '$3 == "_stext" || ($2 ~ /^[tT]$/ && $4 ~ /^\[/) { print "icount-ksym", $0 }' /proc/kallsyms
}

# Whether the data part runs load $1 (PROFILE_LOADS: tcp,tcp6,udp,syn by default).
load() {
	case ",${PROFILE_LOADS:-tcp,tcp6,udp,syn}," in *",$1,"*) return 0 ;; esac
	return 1
}

# The client's TCP retransmissions so far, "syn=N segs=M" (a dropped SYN costs a second).
client_retrans() {
	in_client cat /proc/net/netstat /proc/net/snmp | awk '
		$1 == "TcpExt:" && !ext { for (i = 2; i <= NF; i++) h[i] = $i; ext = 1; next }
		$1 == "TcpExt:" { for (i = 2; i <= NF; i++) if (h[i] == "TCPSynRetrans") syn = $i }
		$1 == "Tcp:" && !tcp { for (i = 2; i <= NF; i++) t[i] = $i; tcp = 1; next }
		$1 == "Tcp:" { for (i = 2; i <= NF; i++) if (t[i] == "RetransSegs") segs = $i }
		END { printf "syn=%d segs=%d\n", syn, segs }'
}

# The module names perf knows the loaded implementation by, comma-separated.
module_dsos() {
	awk '$1 ~ /^(ip_vs|ip_vs_rr|rust_ipvs)$/ { printf "%s[%s]", (n++ ? "," : ""), $1 }' /proc/modules
}

run() {
	local impl=$1 rs
	case ${PROFILE_PARTS:-data,control} in
	*data*) ;;
	*) [ "$impl" = nft ] || control "$impl"; return ;;
	esac
	[ "$impl" = nft ] || IPVS_IMPL=$impl ipvs_load
	topo_up
	for a in ${client_sources//,/ }; do ip -n $topo_ns_client addr add $a/24 dev c0; done
	topo_ipv6_up ${client_sources6//,/ }
	if [ "$impl" = nft ]; then
		nft_load tcp:$tcp_port udp:$udp_port
	else
		in_director ipvsadm -A -t $VIP:$tcp_port -s rr
		in_director ipvsadm -A -u $VIP:$udp_port -s rr
		in_director ipvsadm -A -t "[$VIP6]:$tcp_port" -s rr
		in_director ipvsadm -A -u "[$VIP6]:$udp_port" -s rr
		for rs in "${topo_real_servers[@]}"; do
			in_director ipvsadm -a -t $VIP:$tcp_port -r "$(rs_addr $rs)":$tcp_port -m
			in_director ipvsadm -a -u $VIP:$udp_port -r "$(rs_addr $rs)":$udp_port -m
			in_director ipvsadm -a -t "[$VIP6]:$tcp_port" -r "[$(rs_addr6 $rs)]:$tcp_port" -m
			in_director ipvsadm -a -u "[$VIP6]:$udp_port" -r "[$(rs_addr6 $rs)]:$udp_port" -m
		done
	fi
	for rs in "${topo_real_servers[@]}"; do
		in_rs $rs "$bench" server --bind :: --tcp-port $tcp_port --udp-port $udp_port \
			--count-file /tmp/profile_$rs.count </dev/null >/dev/null 2>&1 &
	done
	for rs in "${topo_real_servers[@]}"; do
		for _ in $(seq 50); do
			[ -f /tmp/profile_$rs.count ] && break
			sleep 0.1
		done
	done
	# Warm up (neighbours, caches), except when counting: each count is of its load alone.
	[ "${PROFILE_TOOL:-perf}" = icount ] ||
		in_client "$bench" tcp-crr --target $VIP:$tcp_port --seconds 1 --threads 2 >/dev/null
	if load tcp; then
		echo "=== $impl: TCP connect/request/close, $secs s"
		echo "client retransmissions before: $(client_retrans)"
		PER_FIELD=conns profiled nsenter --net=/run/netns/$topo_ns_client "$bench" tcp-crr \
			--target $VIP:$tcp_port --seconds "$secs" --threads 2
	fi
	if load tcp6; then
		echo "=== $impl: IPv6 TCP connect/request/close, $secs s"
		echo "client retransmissions before: $(client_retrans)"
		PER_FIELD=conns profiled nsenter --net=/run/netns/$topo_ns_client "$bench" tcp-crr \
			--target "[$VIP6]:$tcp_port" --seconds "$secs" --threads 2
	fi
	echo "client retransmissions after: $(client_retrans)"
	if load udp; then
		echo "=== $impl: $flows new UDP flows"
		PER_FIELD=sent profiled nsenter --net=/run/netns/$topo_ns_client "$bench" udp-conns \
			--target $VIP:$udp_port --count "$flows" --source $client_sources
	fi
	if load flood; then
		echo "=== $impl: UDP flood (a new flow per datagram), $secs s"
		PER_FIELD=sent profiled nsenter --net=/run/netns/$topo_ns_client "$bench" udp-flood \
			--target $VIP:$udp_port --seconds "$secs" --threads 2 --source $client_sources
	fi
	if load flood6; then
		echo "=== $impl: IPv6 UDP flood (a new flow per datagram), $secs s"
		PER_FIELD=sent profiled nsenter --net=/run/netns/$topo_ns_client "$bench" udp-flood \
			--target "[$VIP6]:$udp_port" --seconds "$secs" --threads 2 --source $client_sources6
	fi
	if load stream; then
		echo "=== $impl: UDP datagrams of established flows (one per thread), $secs s"
		PER_FIELD=sent profiled nsenter --net=/run/netns/$topo_ns_client "$bench" udp-stream \
			--target $VIP:$udp_port --seconds "$secs" --threads 2
	fi
	if load stream6; then
		echo "=== $impl: IPv6 UDP datagrams of established flows (one per thread), $secs s"
		PER_FIELD=sent profiled nsenter --net=/run/netns/$topo_ns_client "$bench" udp-stream \
			--target "[$VIP6]:$udp_port" --seconds "$secs" --threads 2
	fi
	if load syn; then
		echo "=== $impl: $syns spoofed SYNs"
		PER_FIELD=sent profiled nsenter --net=/run/netns/$topo_ns_client "$bench" syn-flood \
			--target $VIP:$tcp_port --count "$syns"
	fi
	icount_symbols
	[ "$impl" = nft ] && nft_unload
	topo_down
	ipvs_unload
	rm -f /tmp/profile_rs*.count
	case ${PROFILE_PARTS:-data,control} in
	*control*) [ "$impl" = nft ] || control "$impl" ;;
	esac
}

# The control plane: PROFILE_SERVICES (5000) TCP services with three real servers each, as
# the benchmark programs them, restored, listed, saved, flushed, restored again and deleted
# one message each, each profiled.
control() {
	local impl=$1 n=${PROFILE_SERVICES:-5000} rules=/tmp/profile_rules.$$
	services_rules "$n" >$rules
	IPVS_IMPL=$impl ipvs_load
	# In the director's namespace, as the benchmark runs them.
	topo_up
	local setting
	for setting in ${PROFILE_SYSCTLS//,/ }; do
		nsenter --net=/run/netns/$topo_ns_director sysctl -qw "$setting"
	done
	awk -v k="${PROFILE_DELETES:-$n}" '$1 == "-A" && k-- > 0 { print "-D", $2, $3 }' $rules \
		>$rules.deletes
	local what cmd
	for what in restore list save flush delete; do
		# The deletes need the services again.
		[ $what = delete ] && nsenter --net=/run/netns/$topo_ns_director ipvsadm -R <$rules
		# PROFILE_CONTROL picks the steps reported (all run: each needs the one before).
		case ",${PROFILE_CONTROL:-restore,list,save,flush,delete}," in
		*",$what,"*) ;;
		*)
			case $what in
			restore) nsenter --net=/run/netns/$topo_ns_director ipvsadm -R <$rules ;;
			flush) nsenter --net=/run/netns/$topo_ns_director ipvsadm -C ;;
			delete) nsenter --net=/run/netns/$topo_ns_director ipvsadm -R <$rules.deletes ;;
			esac
			continue
			;;
		esac
		case $what in
		restore) cmd="ipvsadm -R <$rules" ;;
		list) cmd="ipvsadm -Ln >/dev/null" ;;
		save) cmd="ipvsadm -S -n >/dev/null" ;;
		flush) cmd="ipvsadm -C" ;;
		delete) cmd="ipvsadm -R <$rules.deletes" ;;
		esac
		local units="services=$n"
		[ $what = delete ] && units="deleted=$(wc -l <$rules.deletes) $units"
		echo "=== $impl: $what, $n services"
		# The command's own wall time and kernel CPU time, in ms, after the service count.
		PER_FIELD=services profiled nsenter --net=/run/netns/$topo_ns_director bash -c \
			"TIMEFORMAT='%3R %3S'; t=\$({ time $cmd; } 2>&1) && set -- \${t//./} &&
			echo $units wall_ms=\$((10#\$1)) sys_ms=\$((10#\$2))"
	done
	icount_symbols
	topo_down
	ipvs_unload
	rm -f $rules $rules.deletes
}

impls=${PROFILE_IMPLS:-c,rust}
for impl in ${impls//,/ }; do
	run "$impl"
done
exit $ksft_pass
