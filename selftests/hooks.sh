#!/bin/bash
# rust_ipvs registers the C ip_vs hook set at the C priorities in every network namespace:
# LOCAL_IN reply 98 and request 99, LOCAL_OUT reply -99 and request -98, FORWARD ICMP 99 and
# reply 100.
. ./lib.sh

# The hooks rust_ipvs registers in a namespace, one "hook priority function" per line, sorted.
ipvs_hooks() {
	local nsexec=()
	[ -n "$1" ] && nsexec=(ip netns exec "$1")
	"${nsexec[@]}" nft list hooks ip | awk '
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

nft list hooks ip | head -40
for ns in "" $ns_before $ns_after; do
	got=$(ipvs_hooks "$ns")
	expect_eq "hooks in namespace '${ns:-init}'" "$want" "$got"
	log "namespace '${ns:-init}': all six hooks at the C priorities"
done

ipvs_unload
for ns in "" $ns_before $ns_after; do
	got=$(ipvs_hooks "$ns")
	expect_eq "hooks in namespace '${ns:-init}' after unload" "" "$got"
done
log "unload removed every hook"
ip netns del $ns_before
ip netns del $ns_after
exit $ksft_pass
