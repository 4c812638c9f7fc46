#!/bin/bash
# The two-guest harness itself (scripts/vm.sh --pair, selftests/pair.sh): both guests have
# the links ctl, lan and sync with the MAC addresses vm.sh gave them; each link reaches the
# other guest (ping, and multicast on sync, which the sync daemons use); messages pass both
# ways intact, in order, and a barrier holds a guest until the other arrives.
. ./lib.sh
. ./pair.sh

idx=$(pair_index)
peer=$(pair_index "$(pair_peer_role)")
links=(ctl lan sync)
for i in 0 1 2; do
	mac=$(cat /sys/class/net/${links[i]}/address 2>/dev/null) || fail "no link ${links[i]}"
	expect_eq "${links[i]}'s MAC address" "52:54:00:fa:0$((i + 1)):0$idx" "$mac"
done

pair_on_exit "ip addr flush dev lan; ip addr flush dev sync"
run ip addr add 10.249.2.$idx/24 dev lan
run ip addr add 10.249.3.$idx/24 dev sync
pair_barrier addressed
for addr in "$(pair_peer_ip)" 10.249.2.$peer 10.249.3.$peer; do
	wait_until 20 ping -c 1 -W 1 "$addr"
done
log "ping: the peer answers on ctl, lan and sync"

# Multicast on sync, as the sync daemons send it (guest a to b).
if [ "$(pair_role)" = b ]; then
	socat -u UDP4-RECV:8849,ip-add-membership=224.0.0.81:10.249.3.$idx OPEN:/tmp/mcast.$$,creat \
		</dev/null >/dev/null 2>&1 &
	pair_on_exit "kill $!; rm -f /tmp/mcast.$$"
	wait_until 10 sh -c "ss -lun | grep -q ':8849 '"
	pair_barrier mcast_listening
	wait_until 20 grep -q hello /tmp/mcast.$$
	log "multicast: received on sync"
	echo ok | pair_send mcast_received
else
	pair_barrier mcast_listening
	# Resent until b has one (its first could come before b's group join took effect).
	until pair_pending mcast_received; do
		echo hello | socat -u - UDP4-DATAGRAM:224.0.0.81:8849,ip-multicast-if=10.249.3.$idx,ip-multicast-ttl=1
		sleep 0.2
	done
	pair_recv mcast_received >/dev/null
fi

# Messages: a file each way (binary, 200 kB), then three in a row, taken in order.
head -c 200000 /dev/urandom >/tmp/sent.$$
pair_on_exit "rm -f /tmp/sent.$$ /tmp/got.$$"
pair_send file /tmp/sent.$$
md5sum </tmp/sent.$$ | pair_send sum
pair_on_exit "rm -f /tmp/sum.$$ /tmp/msg.$$"
pair_recv file /tmp/got.$$
pair_recv sum /tmp/sum.$$
expect_eq "the file from guest $(pair_peer_role)" "$(cat /tmp/sum.$$)" "$(md5sum </tmp/got.$$)"
for i in 1 2 3; do echo "message $i from $(pair_role)" | pair_send seq; done
for i in 1 2 3; do
	pair_recv seq /tmp/msg.$$
	expect_eq "message $i" "message $i from $(pair_peer_role)" "$(cat /tmp/msg.$$)"
done
log "messages: intact and in order both ways"

# A barrier holds guest a until b arrives (b gets there a second later).
[ "$(pair_role)" = b ] && sleep 1
start=${EPOCHREALTIME/./}
pair_barrier late
waited=$(((${EPOCHREALTIME/./} - start) / 1000))
log "barrier: waited ${waited} ms"
[ "$(pair_role)" = b ] || [ $waited -ge 500 ] ||
	fail "guest a passed the barrier after $waited ms, before guest b reached it"
exit $ksft_pass
