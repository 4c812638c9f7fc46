#!/bin/bash
# rust_ipvs loads and unloads 20 times (4 on the debug kernel, where a cycle takes 9 s under
# TCG), with namespaces present, and leaks nothing; it logs its load and unload as the C ip_vs
# does (perf kernel).
. ./lib.sh

# What implementation $1 logs when loaded then unloaded: C's lines of ip_vs.ko itself (not
# of its scheduler modules).
load_log() {
	local logged
	logged=$(dmesg | wc -l)
	IPVS_IMPL=$1 ipvs_load
	ipvs_unload
	dmesg | tail -n +$((logged + 1)) |
		grep -E 'IPVS: (Registered protocols|Connection hash table|ipvs (un)?loaded)' |
		sed -E 's/^\[[^]]*\] //'
}

if ! debug_kernel; then
	want=$(load_log c)
	got=$(load_log rust)
	echo "$got"
	[ "$want" = "$got" ] || fail "load and unload logged differently: C ip_vs: $want"
fi

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
