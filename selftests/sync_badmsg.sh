#!/bin/bash
# A backup director fed crafted sync messages, good and malformed (every field class C checks:
# message size, sync ID, entry size and version, entry type, option lengths and repeats,
# unknown mandatory options, flags, protocols, states; truncated, oversized, version 0 and
# version 1, IPv4 and IPv6 entries). Differential against the C ip_vs: the connections and
# templates the backup created (`ipvsadm -Lcn`), so exactly the ones C accepts, no splat;
# what it logs of the drops; and rust_ipvs's counters of what was received, applied, skipped and dropped.
. ./lib.sh

ns_m=fm$$
ns_b=fb$$
in_b() { in_ns $ns_b "$@"; }

# Hex helpers: big-endian fields and IPv4 addresses as \x escapes, appended to the caller's
# $out without a subshell (each fork took about 100 ms on the debug kernel under TCG, and the
# messages below are about 1,500 fields).
h8() { printf -v _byte '\\x%02x' "$1"; out+=$_byte; }
h16() { h8 $(($1 >> 8 & 255)); h8 $(($1 & 255)); }
h32() { h16 $(($1 >> 16 & 65535)); h16 $(($1 & 65535)); }
ip4() { local IFS=.; set -- $1; h8 $1; h8 $2; h8 $3; h8 $4; }
# The bytes that printf makes of $1 (\xNN escapes and plain characters), into $_len.
len() {
	local plain=${1//\\x??/}
	_len=$(((${#1} - ${#plain}) / 4 + ${#plain}))
}

# A version-1 entry: type proto flags state cport vport dport fwmark timeout caddr vaddr daddr
# [options] (the size field counts the options).
entry4() {
	local opts=${13:-} out=""
	len "$opts"
	h8 $1; h8 $2; h16 $((36 + _len)); h32 $3; h16 $4; h16 $5; h16 $6; h16 $7; h32 $8; h32 $9
	ip4 ${10}; ip4 ${11}; ip4 ${12}
	printf '%s' "$out$opts"
}

# A version-1 message of sync ID $1 and count $2 around the entries $3 (size computed unless
# $4 gives it).
msg1() {
	local out="" size=${4:-}
	[ -n "$size" ] || { len "$3"; size=$((8 + _len)); }
	h8 0; h8 $1; h16 $size; h8 $2; h8 1; h16 0
	printf '%s' "$out$3"
}

# A version-0 message: one entry proto flags state cport vport dport caddr vaddr daddr.
msg0() {
	local out=""
	h8 1; h8 7; h16 $((4 + 24))
	h8 0; h8 $1; h16 $4; h16 $5; h16 $6; ip4 $7; ip4 $8; ip4 $9; h16 $2; h16 $3
	printf '%s' "$out"
}

send() {
	printf "$1" | in_ns $ns_m socat -u - \
		UDP-DATAGRAM:224.0.0.81:8848,ip-multicast-if=10.251.0.1,bind=10.251.0.1
}

view() {
	in_b ipvsadm -Lcn | awk 'NR > 2 { print $1, $3, $4, $5, $6 }' | sort
}

has_conn() { view | grep -q "$1"; }

scenario() {
	local logged cost
	# Every drop logged: net_ratelimit's budget is shared by the whole guest (and by the C
	# run just before).
	cost=$(sysctl -n net.core.message_cost)
	sysctl -qw net.core.message_cost=0
	logged=$(dmesg | wc -l)
	ns_add $ns_m
	ns_add $ns_b
	ip link add sy0 netns $ns_m type veth peer name sy1 netns $ns_b
	ip -n $ns_m addr add 10.251.0.1/24 dev sy0
	ip -n $ns_m link set sy0 up
	ip -n $ns_b addr add 10.251.0.2/24 dev sy1
	ip -n $ns_b link set sy1 up
	in_b ipvsadm -A -t 10.0.0.1:80 -s rr
	in_b ipvsadm -a -t 10.0.0.1:80 -r 172.16.0.11:80 -m
	in_b ipvsadm -A -t 10.0.0.1:8080 -s rr -p 60
	in_b ipvsadm -a -t 10.0.0.1:8080 -r 172.16.0.12:80 -g
	in_b ipvsadm --start-daemon backup --mcast-interface sy1 --syncid 7

	local V=10.0.0.1 R=172.16.0.11 e
	# Accepted: a TCP ESTABLISHED connection (NAT, active).
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1001 80 80 0 100 10.0.0.50 $V $R)")"
	# The header's size is not the datagram's; another sync ID; the header cut short.
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1002 80 80 0 100 10.0.0.51 $V $R)" 40)"
	send "$(msg1 9 1 "$(entry4 0 6 0 1 1003 80 80 0 100 10.0.0.52 $V $R)")"
	send '\x00\x07\x00'
	# Two entries counted, one present: the first is applied, the rest dropped.
	send "$(msg1 7 2 "$(entry4 0 6 0 1 1004 80 80 0 100 10.0.0.53 $V $R)")"
	# An entry of format version 1; an entry type other than IPv4/IPv6.
	e=$(entry4 0 6 0 1 1005 80 80 0 100 10.0.0.54 $V $R)
	send "$(msg1 7 1 "${e:0:8}\\x10${e:12}")"
	send "$(msg1 7 1 "$(entry4 2 6 0 1 1006 80 80 0 100 10.0.0.55 $V $R)")"
	# Options: zero length; running past the entry; sequence data twice; an unknown
	# mandatory option (entry skipped, the next applied); an unknown optional one (applied).
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1007 80 80 0 100 10.0.0.56 $V $R '\x09\x00\x00\x00')")"
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1008 80 80 0 100 10.0.0.57 $V $R '\x49\x08\x00\x00')")"
	local seq='\x01\x18\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1009 80 80 0 100 10.0.0.58 $V $R "$seq$seq")")"
	send "$(msg1 7 2 "$(entry4 0 6 0 1 1010 80 80 0 100 10.0.0.59 $V $R '\x09\x02\x00\x00')$(entry4 0 6 0 1 1011 80 80 0 100 10.0.0.60 $V $R)")"
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1012 80 80 0 100 10.0.0.61 $V $R '\x49\x02\x00\x00')")"
	# Persistence-engine data (no engine here, nor in C without ip_vs_pe_sip): skipped;
	# without the engine's name, skipped and reported.
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1013 80 80 0 100 10.0.0.62 $V $R '\x02\x02\xab\xcd\x03\x03sip')")"
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1023 80 80 0 100 10.0.0.74 $V $R '\x02\x02\xab\xcd')")"
	# Flags and states: ONE_PACKET; a template without client port and NO_CPORT; TCP state
	# 11; an unknown protocol; UDP state 1; a template state 2.
	send "$(msg1 7 1 "$(entry4 0 6 $((0x2000)) 1 1014 80 80 0 100 10.0.0.63 $V $R)")"
	send "$(msg1 7 1 "$(entry4 0 6 $((0x1800)) 0 0 8080 80 0 100 10.0.0.64 $V 172.16.0.12)")"
	send "$(msg1 7 1 "$(entry4 0 6 0 11 1015 80 80 0 100 10.0.0.65 $V $R)")"
	send "$(msg1 7 1 "$(entry4 0 50 0 0 1016 80 80 0 100 10.0.0.66 $V $R)")"
	send "$(msg1 7 1 "$(entry4 0 17 0 1 1017 53 53 0 100 10.0.0.67 $V $R)")"
	send "$(msg1 7 1 "$(entry4 0 6 $((0x1000)) 2 0 8080 80 0 100 10.0.0.68 $V 172.16.0.12)")"
	# Accepted: a template (DR, assured), an inactive UDP connection, a version-0 entry.
	send "$(msg1 7 1 "$(entry4 0 6 $((0x1003)) 1 0 8080 80 0 60 10.0.0.69 $V 172.16.0.12)")"
	send "$(msg1 7 1 "$(entry4 0 17 $((0x0100)) 0 1018 53 53 0 100 10.0.0.70 $V $R)")"
	send "$(msg0 6 0 1 1019 80 80 10.0.0.71 $V $R)"
	# Version 0 whose sequence flags promise options that are not there.
	send "$(msg0 6 $((0x0600)) 1 1020 80 80 10.0.0.72 $V $R)"
	# Oversized: more than the backup's sync_maxlen (1472), truncated on receipt.
	send "$(msg1 7 1 "$(entry4 0 6 0 1 1021 80 80 0 100 10.0.0.73 $V $R)$(printf '\\x00%.0s' $(seq 1500))" 1552)"
	# The last message accepted: once it is there, everything before was processed.
	send "$(msg1 7 1 "$(entry4 0 6 0 5 1022 80 80 0 100 10.0.0.99 $V $R)")"
	wait_until 20 has_conn 10.0.0.99
	# What the backup logged of the drops (C: IP_VS_ERR_RL).
	dmesg | tail -n +$((logged + 1)) | grep 'IPVS: BACKUP' | sed -E 's/^\[[^]]*\] //'
	sysctl -qw net.core.message_cost=$cost
	# rust_ipvs counts what it received, applied, skipped and dropped (C has no counters).
	in_b cat /proc/net/ip_vs_sync_stats >/tmp/sync_stats.$$ 2>/dev/null
	view
	in_b ipvsadm -Ln | sed 1,3d
	# The namespace goes with its daemon running: its exit stops the thread and closes the
	# socket (the module unloads after).
	ip netns del $ns_m
	ip netns del $ns_b
}

differential "backup fed crafted sync messages" scenario
expect_eq "rust_ipvs's sync counters" "received 26
applied 8
skipped 9
dropped_header 1
dropped_size 2
dropped_syncid 1
dropped_truncated 2
dropped_version 1
dropped_entry 4
sent 0
queue_full 0" "$(cat /tmp/sync_stats.$$)"
rm -f /tmp/sync_stats.$$
