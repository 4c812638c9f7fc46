#!/bin/bash
# Network namespaces come and go while rust_ipvs is loaded, with traffic; unloading with
# namespaces alive is clean; nothing leaks.
. ./lib.sh

# 20 namespace pairs; 4 on the debug kernel, where each takes 15 s under TCG.
pairs=20
debug_kernel && pairs=4
IPVS_IMPL=rust ipvs_load
for i in $(seq $pairs); do
	a=na$$_$i b=nb$$_$i
	ns_add $a
	ns_add $b
	ip link add veth0 netns $a type veth peer name veth0 netns $b || fail "veth $i"
	ip -n $a addr add 10.9.0.1/24 dev veth0
	ip -n $b addr add 10.9.0.2/24 dev veth0
	ip -n $a link set veth0 up
	ip -n $b link set veth0 up
	in_ns $a ping -c 1 -W 2 10.9.0.2 >/dev/null || fail "ping through veth in namespace pair $i"
	ip netns del $a
	ip netns del $b
done
log "$pairs namespace pairs created, used and destroyed"

# Unload while namespaces exist, then destroy them without the module.
ns_add keep$$
ipvs_unload
IPVS_IMPL=rust ipvs_load
ip netns del keep$$
ipvs_unload
exit $ksft_pass
