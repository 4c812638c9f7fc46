#!/bin/bash
# The sync daemon's sysctls (net.ipv4.vs.sync_* and backup_only) in a new namespace: their
# defaults, the values each accepts and the errno of those it refuses, as C's handlers
# (proc_do_sync_threshold, proc_do_sync_ports, the min/max and jiffies handlers); then
# run_estimation, the load factors and the locality expirations.
# Differential against the C ip_vs.
. ./lib.sh

ns=sy$$

# Writes $2 to sysctl $1: "ok", or the error.
w() {
	local out
	out=$({ echo "$2" >/proc/sys/net/ipv4/vs/$1; } 2>&1) && echo "$1=$2: ok" ||
		echo "$1=$2: ${out##*: }"
}

r() { echo "$1: $(tr '\t' ' ' </proc/sys/net/ipv4/vs/$1)"; }

scenario() {
	ns_add $ns
	in_ns $ns bash -c "$(declare -f w r); $(declare -f body); body"
	ip netns del $ns
}

body() {
	local s
	# The queue limit depends on free memory: only its form is compared.
	[ "$(cat /proc/sys/net/ipv4/vs/sync_qlen_max)" -gt 0 ] && echo "sync_qlen_max: positive"
	for s in sync_version sync_ports sync_persist_mode sync_sock_size sync_threshold \
		sync_refresh_period sync_retries backup_only; do
		r $s
	done
	w sync_version 2
	w sync_version -1
	w sync_version 0
	w sync_ports 3
	w sync_ports 0
	w sync_ports 4
	w sync_ports 4
	w sync_threshold "5 4"
	w sync_threshold "-1 50"
	w sync_threshold "10 0"
	r sync_threshold
	w sync_threshold "7"
	r sync_threshold
	w sync_threshold "4 40"
	r sync_threshold
	w sync_retries 4
	w sync_retries 3
	w sync_refresh_period 10
	r sync_refresh_period
	w sync_qlen_max -1
	w sync_qlen_max 100
	r sync_qlen_max
	w sync_sock_size 65536
	w backup_only 1
	w sync_persist_mode 1
	for s in sync_version sync_ports sync_persist_mode sync_sock_size sync_retries backup_only; do
		r $s
	done
	# Other handlers: run_estimation takes any integer (proc_dointvec), the load factors -8
	# to 8, the expirations are jiffies shown in seconds.
	w run_estimation 2
	r run_estimation
	w run_estimation -1
	r run_estimation
	w run_estimation 0
	r run_estimation
	w conn_lfactor -9
	w conn_lfactor 8
	w svc_lfactor 9
	w svc_lfactor -8
	r conn_lfactor
	r svc_lfactor
	w lblc_expiration -1
	w lblcr_expiration 70
	r lblc_expiration
	r lblcr_expiration
}

differential "sync sysctls" scenario
