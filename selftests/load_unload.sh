#!/bin/bash
# rust_ipvs loads and unloads 20 times (4 on the debug kernel, where a cycle takes 9 s under
# TCG), with namespaces present, and leaks nothing.
. ./lib.sh

cycles=20
debug_kernel && cycles=4

ipvs_unload
info=$(modinfo rust_ipvs) || fail "modinfo rust_ipvs"
echo "$info" | grep -E '^(license|description|alias|name):'
echo "$info" | grep -qx 'license: *GPL' || fail "modinfo: license is not GPL"
echo "$info" | grep -q '^description: *IP Virtual Server' || fail "modinfo: no description"
echo "$info" | grep -qx 'alias: *net-pf-16-proto-16-family-IPVS' || fail "modinfo: no genl family alias"

ns=lu$$
ns_add $ns
for i in $(seq $cycles); do
	modprobe rust_ipvs || fail "load $i"
	[ -d /sys/module/rust_ipvs ] || fail "rust_ipvs not listed after load $i"
	rmmod rust_ipvs || fail "unload $i"
	[ -d /sys/module/rust_ipvs ] && fail "rust_ipvs still loaded after unload $i"
done
ip netns del $ns
log "$cycles load/unload cycles done"
exit $ksft_pass
