#!/bin/bash
# rust_ipvs registers the C ip_vs hook set at the C priorities in every network namespace that
# has a service, with the first service, and removes it with the last (as C does): LOCAL_IN
# reply 98 and request 99, LOCAL_OUT reply -99 and request -98, FORWARD ICMP 99 and reply 100.
# Per address family, as C's ip_vs_register_hooks: the IPv6 set comes with the first IPv6
# service and goes with the last one, whatever the IPv4 services do, and the other way round.
. ./lib.sh

# The hooks rust_ipvs registers in namespace $1 ("" for the initial one), one "hook priority
# function" per line, sorted; of family $2 (nft's "ip", the default, or "ip6").
ipvs_hooks() {
	local nsexec=()
	[ -n "$1" ] && nsexec=(in_ns "$1")
	"${nsexec[@]}" nft list hooks "${2:-ip}" | awk '
		/hook [a-z]+ \{/ { hook = $2 }
		/rust_ipvs/ { printf "%s %d %s\n", hook, $1, $2 }' | sort
}

want="forward 100 rust_ipvs_out_hook
forward 99 rust_ipvs_forward_icmp
input 98 rust_ipvs_out_hook
input 99 rust_ipvs_in_hook
output -98 rust_ipvs_in_hook
output -99 rust_ipvs_out_hook"

ipvs_unload
ns_before=hb$$
ns_add $ns_before
IPVS_IMPL=rust ipvs_load
ns_after=ha$$
ns_add $ns_after

for ns in "" $ns_before $ns_after; do
	expect_eq "hooks in namespace '${ns:-init}' before any service" "" "$(ipvs_hooks "$ns")"
done
log "no service, no hooks"
for ns in "" $ns_before $ns_after; do
	nsexec=()
	[ -n "$ns" ] && nsexec=(in_ns $ns)
	"${nsexec[@]}" ipvsadm -A -t 10.0.0.1:80 -s rr || fail "ipvsadm -A in '${ns:-init}'"
	"${nsexec[@]}" ipvsadm -A -u 10.0.0.1:53 -s rr || fail "ipvsadm -A in '${ns:-init}'"
done
nft list hooks ip | head -40
for ns in "" $ns_before $ns_after; do
	got=$(ipvs_hooks "$ns")
	expect_eq "hooks in namespace '${ns:-init}'" "$want" "$got"
	log "namespace '${ns:-init}': all six hooks at the C priorities"
done
in_ns $ns_after ipvsadm -D -t 10.0.0.1:80
expect_eq "hooks after deleting one of two services" "$want" "$(ipvs_hooks $ns_after)"
in_ns $ns_after ipvsadm -D -u 10.0.0.1:53
expect_eq "hooks after deleting the last service" "" "$(ipvs_hooks $ns_after)"
in_ns $ns_before ipvsadm -C
expect_eq "hooks after flush" "" "$(ipvs_hooks $ns_before)"
expect_eq "hooks of the init namespace unaffected" "$want" "$(ipvs_hooks "")"
log "hooks go with the last service (delete and flush), per namespace"

# One family's hooks without the other's.
in_ns $ns_after ipvsadm -A -t "[fd00::1]:80" -s rr
expect_eq "IPv6 hooks with an IPv6 service" "$want" "$(ipvs_hooks $ns_after ip6)"
expect_eq "IPv4 hooks with an IPv6 service only" "" "$(ipvs_hooks $ns_after)"
expect_eq "IPv6 hooks of a namespace with IPv4 services only" "" "$(ipvs_hooks "" ip6)"
in_ns $ns_after ipvsadm -A -u 10.0.0.1:53 -s rr
expect_eq "IPv4 hooks with services of both families" "$want" "$(ipvs_hooks $ns_after)"
in_ns $ns_after ipvsadm -D -t "[fd00::1]:80"
expect_eq "IPv6 hooks after its last IPv6 service" "" "$(ipvs_hooks $ns_after ip6)"
expect_eq "IPv4 hooks after the last IPv6 service" "$want" "$(ipvs_hooks $ns_after)"
in_ns $ns_after ipvsadm -A -t "[fd00::1]:80" -s rr
in_ns $ns_after ipvsadm -C
expect_eq "IPv6 hooks after flush" "" "$(ipvs_hooks $ns_after ip6)"
expect_eq "IPv4 hooks after flush" "" "$(ipvs_hooks $ns_after)"
log "hooks per address family: each with the first service of its family, gone with the last"

ipvs_unload
for ns in "" $ns_before $ns_after; do
	got=$(ipvs_hooks "$ns")
	expect_eq "hooks in namespace '${ns:-init}' after unload" "" "$got"
done
log "unload removed every hook"
ip netns del $ns_before
ip netns del $ns_after
exit $ksft_pass
