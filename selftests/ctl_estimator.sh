#!/bin/bash
# The rate estimator's kernel thread and its sysctls (C 7.3: ip_vs_est.c's kthreads,
# est_nice, est_cpulist, run_estimation): no thread before the first service, then
# "ipvs-e:<namespace generation>:0" at the nice level and on the CPUs the sysctls set,
# stopped by run_estimation 0 or an empty CPU list and restarted by a change; the values and
# errno each sysctl takes; read-only in a namespace of an unprivileged user namespace; a
# second namespace's thread under its own generation; what is logged. (dp_stats checks the
# rates.)
# Differential against the C ip_vs.
. ./lib.sh

vs=/proc/sys/net/ipv4/vs
ns=es$$

# The estimator threads: name, nice level and allowed CPUs, one line each, sorted.
threads() {
	local comm pid
	for comm in /proc/[0-9]*/comm; do
		{ read -r name <$comm; } 2>/dev/null || continue
		[[ $name == ipvs-e:* ]] || continue
		pid=${comm#/proc/}
		pid=${pid%/comm}
		echo "$name nice=$(awk '{print $19}' /proc/$pid/stat)" \
			"cpus=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/$pid/status)"
	done | sort
}

# Waits for the threads to be $1 ("" for none: C stops and starts them from a work item),
# then prints them.
settle() {
	local i
	for i in $(seq 100); do
		[ "$(threads)" = "$1" ] && break
		sleep 0.1
	done
	echo "threads: $(threads | paste -sd ';')"
}

# Writes $2 to sysctl $1: "ok", or the error.
w() {
	local out
	out=$({ echo "$2" >$vs/$1; } 2>&1) && echo "$1=$2: ok" || echo "$1=$2: ${out##*: }"
}

r() { echo "$1: $(cat $vs/$1)"; }

scenario() {
	local all cpu0 first logged until
	logged=$(dmesg | wc -l)
	all=$(cat $vs/est_cpulist)
	cpu0="ipvs-e:0:0 nice=0 cpus=0"
	first="ipvs-e:0:0 nice=0 cpus=$all"
	echo "files: $(stat -c '%n %a' $vs/est_nice $vs/est_cpulist | sed 's|.*/||' | paste -sd ' ')"
	r est_nice
	[ "$all" = "0-$(($(nproc) - 1))" ] || [ "$all" = 0 ] && echo "est_cpulist: every CPU"
	echo "before a service:"
	settle ""
	ipvsadm -A -t 10.0.0.1:80 -s rr
	settle "$first"
	w est_nice 5
	settle "ipvs-e:0:0 nice=5 cpus=$all"
	w est_nice 20
	w est_nice -21
	w est_nice abc
	w est_nice -20
	settle "ipvs-e:0:0 nice=-20 cpus=$all"
	w est_nice 0
	r est_nice
	w est_cpulist 0
	settle "$cpu0"
	r est_cpulist
	w est_cpulist abc
	w est_cpulist 99
	# An empty list stops the thread; a list again starts it.
	w est_cpulist ""
	r est_cpulist
	settle ""
	w est_cpulist "0-$(($(nproc) - 1))"
	settle "$first"
	r est_cpulist
	w run_estimation 0
	settle ""
	w run_estimation 1
	settle "$first"
	# The thread stays with the last service gone.
	ipvsadm -C
	settle "$first"

	# A namespace created now is the module's second: its thread is "ipvs-e:1:0".
	ns_add $ns
	in_ns $ns ipvsadm -A -u 10.0.0.2:53 -s wlc
	settle "$first
ipvs-e:1:0 nice=0 cpus=$all"
	# What was logged so far (a namespace's teardown, which runs later, logs "stop unused
	# estimator thread 0...").
	until=$(dmesg | wc -l)
	ip netns del $ns

	# An unprivileged user namespace's own namespace reads them, cannot write them.
	echo "unprivileged:" $(unshare -r -n sh -c "
		stat -c %a $vs/est_nice $vs/est_cpulist
		cat $vs/est_nice
		echo 1 >$vs/est_nice 2>/dev/null && echo written || echo refused
		echo 0 >$vs/est_cpulist 2>/dev/null && echo written || echo refused")
	settle "$first"
	echo "logged:"
	dmesg | head -n $until | tail -n +$((logged + 1)) | grep -E 'IPVS: (starting|stopping) estimator' |
		sed -E 's/^\[[^]]*\] //' | uniq -c
}

differential "estimator thread" scenario
exit $ksft_pass
