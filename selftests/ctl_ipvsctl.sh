#!/bin/bash
# The companion CLI round-trips every object against rust_ipvs (and, unchanged, the C ip_vs):
# services, destinations, timeouts, zero, flush, save/restore in the ipvsadm-save format; its
# --json output parses; watch refreshes its screen and its JSON lines; errors are one clear
# line and a non-zero exit; services in one namespace are invisible in another. The sync daemons:
# ipvsctl starts a master and a backup at the two ends of a veth between two namespaces, lists
# them as `ipvsadm -L --daemon` does, reports the kernel's errors (a second master, an unknown
# interface, no daemon to stop) and stops them, the same under both modules.
. ./lib.sh

command -v ipvsctl >/dev/null || fail "ipvsctl is not in the initramfs"

# Runs a command, printing it, its output and its status.
step() {
	echo "\$ $*"
	"$@" 2>&1
	echo "[exit $?]"
}

script() {
	step ipvsctl service add --tcp 10.0.0.1:80 --scheduler rr
	step ipvsctl service add --udp 10.0.0.1:53 --scheduler wrr --persistent 600 --netmask 255.255.255.0
	step ipvsctl service add --tcp 10.0.0.2:443 --scheduler sh --sh-port --sh-fallback
	step ipvsctl service add --fwmark 7 --scheduler wlc
	step ipvsctl service add --tcp [2001:db8::1]:80 --scheduler rr
	step ipvsctl dest add --tcp 10.0.0.1:80 --real 10.0.1.1:8080 --weight 2
	step ipvsctl dest add --tcp 10.0.0.1:80 --real 10.0.1.2:8080 --weight 0 --u-threshold 10 --l-threshold 5
	step ipvsctl dest add --udp 10.0.0.1:53 --real 10.0.1.1:53
	step ipvsctl dest add --fwmark 7 --real 10.0.1.9 --weight 4
	step ipvsctl dest add --tcp [2001:db8::1]:80 --real [2001:db8::10]:80
	step ipvsctl service add --udp [2001:db8::1]:53 --scheduler wlc --persistent 120 --netmask 64
	step ipvsctl dest add --udp [2001:db8::1]:53 --real 10.0.1.7:53 --ipip --tun-type gue \
		--tun-port 6080 --tun-csum
	step ipvsctl dest add --udp [2001:db8::1]:53 --real 10.0.1.8:53 --masq
	step ipvsctl dest add --udp [2001:db8::1]:53 --real 10.0.1.8:53 --ipip --tun-type gue
	step ipvsctl service add --fwmark 8 -6 --scheduler rr
	step ipvsctl dest add --fwmark 8 -6 --real [2001:db8::12] --gate
	step ipvsctl dest add --tcp 10.0.0.1:80 --real [2001:db8::13]:8080 --ipip --tun-type gre
	step ipvsctl dest edit --tcp 10.0.0.1:80 --real 10.0.1.1:8080 --weight 5
	step ipvsctl service edit --tcp 10.0.0.1:80 --scheduler wrr
	step ipvsctl timeout --set 100 20 30
	step ipvsctl timeout
	step ipvsctl list
	step ipvsctl list --stats
	step ipvsadm -Ln
	step ipvsctl zero
	step ipvsctl service add --tcp 10.0.0.1:80 --scheduler rr
	step ipvsctl service add --tcp 10.0.0.9:80 --scheduler nosuch
	step ipvsctl service del --tcp 10.9.9.9:1
	step ipvsctl dest add --tcp 10.0.0.1:80 --real 10.0.1.1:8080
	step ipvsctl dest del --tcp 10.0.0.1:80 --real 10.7.7.7:1
	ipvsctl save >/tmp/ctl.save.$$
	echo "save = ipvsadm -S -n: $(ipvsadm -S -n | cmp -s - /tmp/ctl.save.$$ && echo yes || echo no)"
	cat /tmp/ctl.save.$$
	step ipvsctl flush
	step ipvsctl list
	step ipvsctl restore </tmp/ctl.save.$$
	echo "restored = saved: $(ipvsadm -S -n | cmp -s - /tmp/ctl.save.$$ && echo yes || echo no)"
	echo "json parses: $(ipvsctl list --json | jq -e '.services | length' 2>&1)"
	echo "json services: $(ipvsctl list --json | jq -c '[.services[] | .scheduler]' 2>&1)"
	rm -f /tmp/ctl.save.$$
	# watch: three refreshes 0.2 s apart, as screens and as JSON lines.
	echo "watch screens: $(ipvsctl watch --count 3 --interval 0.2 | grep -c '^ipvsctl watch: every 0.2s (refresh [123])')"
	ipvsctl watch --count 1 -t 10.0.0.1:80 | sed 1d
	echo "watch json: $(ipvsctl watch --count 2 --interval 0.2 --json | jq -c '[.refresh, (.services | length)]' | tr '\n' ' ')"
	step ipvsctl watch --interval 0
	step ipvsctl flush
}

IPVS_IMPL=c ipvs_load
want=$(script)
ipvs_unload
IPVS_IMPL=rust ipvs_load
got=$(script)
echo "$got"
expect_eq "ipvsctl against C ip_vs and rust_ipvs" "$want" "$got"
got_has '^save = ipvsadm -S -n: yes$' "ipvsctl save differs from ipvsadm -S -n"
got_has '^restored = saved: yes$' "ipvsctl restore did not round-trip"
got_has '^json parses: 7$' "ipvsctl --json"
got_has '^watch screens: 3$' "ipvsctl watch refreshes"
got_has '^watch json: \[1,7\] \[2,7\] $' "ipvsctl watch --json"

# Namespaces: a service in one is invisible in another; deleting the namespace frees it.
ns=ctl$$
ns_add $ns
in_ns $ns ipvsctl service add --tcp 10.5.5.5:80 --scheduler rr || fail "add in namespace"
in_ns $ns ipvsctl dest add --tcp 10.5.5.5:80 --real 10.5.5.6:80 || fail "dest in namespace"
[ -z "$(ipvsadm -S -n)" ] || fail "a service of namespace $ns is visible in the initial namespace"
[ "$(in_ns $ns ipvsadm -S -n | wc -l)" = 2 ] || fail "the namespace's service is not listed there"
ip netns del $ns
ipvs_unload

# Sync daemons (per namespace): master in one namespace, backup in the other, on a veth.
dm_a=dma$$
dm_b=dmb$$
in_a() { in_ns $dm_a "$@"; }
in_b() { in_ns $dm_b "$@"; }

# Prints the daemons of a namespace as `ipvsctl daemon list` shows them, and whether
# `ipvsadm -L --daemon` shows the same.
daemons() {
	local ctl adm
	ctl=$("$1" ipvsctl daemon list 2>&1)
	adm=$("$1" ipvsadm -L --daemon 2>&1)
	echo "$1 daemons: [$ctl]"
	if [ "$ctl" = "$adm" ]; then
		echo "$1: ipvsctl = ipvsadm"
	else
		echo "$1: ipvsctl != ipvsadm: [$adm]"
	fi
}

daemon_script() {
	ns_add $dm_a
	ns_add $dm_b
	ip link add sy0 netns $dm_a type veth peer name sy1 netns $dm_b
	# A master with an IPv4 group binds to the interface's IPv4 address; IPv6 ones (nodad:
	# usable at once) give the IPv6 master a source address.
	ip -n $dm_a addr add 10.252.0.1/24 dev sy0
	ip -n $dm_a addr add fd00:252::1/64 dev sy0 nodad
	ip -n $dm_a link set sy0 up
	ip -n $dm_b addr add 10.252.0.2/24 dev sy1
	ip -n $dm_b addr add fd00:252::2/64 dev sy1 nodad
	ip -n $dm_b link set sy1 up
	daemons in_a
	step in_b ipvsctl daemon start backup --interface sy1 --syncid 7
	step in_a ipvsctl daemon start master --interface sy0 --syncid 7
	daemons in_a
	daemons in_b
	# The kernel's errors: a second master, an unknown interface, no such daemon to stop.
	step in_a ipvsctl daemon start master --interface sy0
	step in_b ipvsctl daemon start master --interface nosuch
	step in_a ipvsctl daemon stop backup
	# Both daemons in one namespace: two lines, master first.
	step in_a ipvsctl daemon start backup --interface sy0 --syncid 9
	daemons in_a
	step in_a ipvsctl daemon stop master
	step in_a ipvsctl daemon stop backup
	step in_a ipvsctl daemon stop master
	step in_b ipvsctl daemon stop backup
	daemons in_a
	daemons in_b
	# An IPv6 group, another port, TTL and message size.
	step in_b ipvsctl daemon start backup --interface sy1 --syncid 7 --group ff02::81 --port 9000
	step in_a ipvsctl daemon start master --interface sy0 --syncid 7 --group ff02::81 \
		--port 9000 --ttl 3 --maxlen 200
	daemons in_a
	daemons in_b
	step in_a ipvsctl daemon stop master
	step in_b ipvsctl daemon stop backup
	# A daemon ipvsadm started, with an IPv4 group of its own, listed by ipvsctl.
	in_a ipvsadm --start-daemon master --mcast-interface sy0 --syncid 5 \
		--mcast-group 224.0.0.99 --mcast-port 8849 --mcast-ttl 2
	daemons in_a
	step in_a ipvsctl daemon stop master
	daemons in_a
	ip netns del $dm_a
	ip netns del $dm_b
}

differential "ipvsctl daemon" daemon_script
master="master sync daemon (mcast=sy0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
backup="backup sync daemon (mcast=sy1, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
master6="master sync daemon (mcast=sy0, syncid=7, maxlen=200, group=ff02::81, port=9000, ttl=3)"
backup6="backup sync daemon (mcast=sy1, syncid=7, maxlen=1452, group=ff02::81, port=9000, ttl=1)"
for line in "in_a daemons: [$master]" "in_b daemons: [$backup]" \
	"in_a daemons: [$master6]" "in_b daemons: [$backup6]" \
	"Daemon has already run" "No such device" "No daemon is running"; do
	echo "$got" | grep -qxF "$line" || fail "ipvsctl daemon: no line \"$line\""
done
got_lacks '!= ipvsadm' "ipvsctl daemon list differs from ipvsadm -L --daemon"
[ "$(echo "$got" | grep -c ": ipvsctl = ipvsadm$")" = 10 ] || fail "ipvsctl daemon: listings missing"
log "ipvsctl daemon: as ipvsadm, under both modules"
log "namespace isolation and teardown: clean"
exit $ksft_pass
