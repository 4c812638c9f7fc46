#!/bin/bash
# Teardown with traffic flowing: deleting the director's namespace, and unloading rust_ipvs,
# while clients keep opening connections through a virtual service, must be clean (the runner
# fails on any kernel report) and leak nothing.
. ./lib.sh
. ./topology.sh

# Keeps a client busy until the file $1 exists, adding a line to the file $2 after each TCP
# and UDP request.
traffic() {
	while [ ! -e "$1" ]; do
		tcp_request >/dev/null 2>&1
		udp_request >/dev/null 2>&1
		echo >>"$2"
	done
}

# Whether every client's count file (the arguments after N) has at least N lines.
rounds_done() {
	local n=$1 f
	shift
	for f in "$@"; do [ "$(wc -l <"$f")" -ge "$n" ] || return 1; done
}

setup_service() {
	in_director ipvsadm -A -t $VIP:80 -s rr
	in_director ipvsadm -A -u $VIP:53 -s rr -p 30
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a -t $VIP:80 -r $(rs_addr $rs):80 -m
		in_director ipvsadm -a -u $VIP:53 -r $(rs_addr $rs):53 -m
	done
}

IPVS_IMPL=rust ipvs_load
for what in netns module; do
	stop=/tmp/stop.$$.$what
	topo_up
	setup_service
	[ "$(tcp_request)" = rs3 ] || fail "no traffic through the service before the $what teardown"
	counts=(/tmp/rounds.$$.$what.1 /tmp/rounds.$$.$what.2)
	: >"${counts[0]}"
	: >"${counts[1]}"
	traffic $stop "${counts[0]}" &
	pid=$!
	traffic $stop "${counts[1]}" &
	pid2=$!
	# Two rounds of each client through the service, then the teardown, then one more round
	# of each against what is left.
	wait_until 60 rounds_done 2 "${counts[@]}"
	case $what in
	netns)
		ip netns del $topo_ns_director
		log "deleted the director namespace with traffic flowing"
		;;
	module)
		rmmod rust_ipvs || fail "rmmod with traffic flowing"
		log "unloaded rust_ipvs with traffic flowing"
		;;
	esac
	wait_until 60 rounds_done $(($(wc -l <"${counts[0]}") + 1)) "${counts[0]}"
	wait_until 60 rounds_done $(($(wc -l <"${counts[1]}") + 1)) "${counts[1]}"
	touch $stop
	wait $pid $pid2
	rm -f $stop "${counts[@]}"
	topo_down
	[ -d /sys/module/rust_ipvs ] || IPVS_IMPL=rust ipvs_load
done
ipvs_unload
exit $ksft_pass
