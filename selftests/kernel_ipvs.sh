#!/bin/bash
# The kernel's own selftest, tools/testing/selftests/net/netfilter/ipvs.sh, every mode it has
# (direct routing, NAT, IP-in-IP tunnel), run unmodified against rust_ipvs (and, as a check of
# the harness, against the C ip_vs). The harness copies the script and its libraries from the
# kernel source into the initramfs.
. ./lib.sh

dir=/kselftest/net/netfilter
[ -f $dir/ipvs.sh ] || skip "the kernel's ipvs.sh is not in the initramfs"

# ipvs.sh without its final run, then its case $1 (dr, nat or tun) alone.
run_case() {
	local case=$1 script=/tmp/ipvs_case.$$.sh
	sed '/^trap cleanup EXIT$/,$d' $dir/ipvs.sh >$script
	# Its server_listen gives socat a fixed 0.2 s to listen, too short under TCG; wait for
	# the listening socket instead.
	cat >>$script <<-'EOS'
		server_listen() {
			ip netns exec "$ns2" timeout 5 socat -u -4 TCP-LISTEN:8080,reuseaddr STDOUT > "${outfile}" &
			server_pid=$!
			for _ in $(seq 100); do
				ip netns exec "$ns2" ss -ltn | grep -q ':8080 ' && break
				sleep 0.05
			done
		}
	EOS
	printf 'trap cleanup EXIT\ncleanup\nsetup\ntest_%s\n' "$case" >>$script
	(cd $dir && bash $script)
	local rc=$?
	rm -f $script
	return $rc
}

for impl in c rust; do
	IPVS_IMPL=$impl ipvs_load
	for case in dr nat tun; do
		if run_case $case; then
			log "ipvs.sh ${case^^} case with the $impl implementation: PASS"
		else
			fail "ipvs.sh ${case^^} case with the $impl implementation"
		fi
	done
	ipvs_unload
done
exit $ksft_pass
