#!/bin/bash
# SCTP through NAT, differential against the C ip_vs (ip_vs_proto_sctp.c): associations
# scheduled on INIT (an rr sequence, wlc over held associations, which counts only
# ESTABLISHED ones as active), persistence, the states and their timeouts in ipvsadm -Lcn
# (ESTABLISHED for 15 minutes, CLOSED for 61 s after SHUTDOWN), an ABORT answered by a real
# server without a listener, and a 300 KB upload whose every packet, as rs1 receives it, carries
# the CRC32c of its rewritten header (checked here over tcpdump's bytes: the director's
# checksum marks the packet verified, so the real server's stack would not check it).
. ./lib.sh
. ./topology.sh

command -v tcpdump >/dev/null || skip "tcpdump is not in the guest"

CLIENTS=10.0.0.10,10.0.0.11

# An SCTP responder in each real server on port 8132: it replies with the server's name and
# waits for the client to close (an SCTP socket whose association the server's SHUTDOWN
# ended cannot be read any more, reply or not).
sctp_responders_up() {
	local rs
	for rs in "${topo_real_servers[@]}"; do
		in_rs $rs ipvsbench server --tcp-port 9080 --udp-port 9053 --sctp-port 8132 --threads 1 \
			--reply "$rs"$'\n' --wait-close </dev/null >/dev/null 2>&1 &
	done
	for rs in "${topo_real_servers[@]}"; do
		wait_until 10 sctp_listening $rs 8132
	done
}

# Whether a line of the director's ipvsadm -Lcn matches the regular expression.
director_lists() { in_director ipvsadm -Lcn | grep -q "$1"; }

# Whether process PID has exited.
exited() { ! kill -0 "$1" 2>/dev/null; }

# Checks the CRC32c of every SCTP packet in a `tcpdump -x` dump (stdin): prints the number of
# packets and of bad checksums. busybox awk has the bit operations.
crc_check() {
	busybox awk '
	function hexval(h,   i, v) {
		v = 0
		for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return v
	}
	function check(   ihl, tot, crc, i, b, stored) {
		if (n < 20 || B[9] != 132) return
		ihl = and(B[0], 15) * 4
		tot = B[2] * 256 + B[3]
		if (tot > n) { truncated++; return }
		crc = 4294967295
		for (i = ihl; i < tot; i++) {
			b = (i >= ihl + 8 && i < ihl + 12) ? 0 : B[i]
			crc = xor(T[and(xor(crc, b), 255)], rshift(crc, 8))
		}
		crc = xor(crc, 4294967295)
		stored = B[ihl + 8] + B[ihl + 9] * 256 + B[ihl + 10] * 65536 + B[ihl + 11] * 16777216
		packets++
		if (crc != stored) bad++
	}
	BEGIN {
		for (i = 0; i < 256; i++) {
			c = i
			for (k = 0; k < 8; k++) c = and(c, 1) ? xor(rshift(c, 1), 2197175160) : rshift(c, 1)
			T[i] = c
		}
	}
	/^[ \t]+0x[0-9a-f]+:/ {
		for (f = 2; f <= NF; f++) {
			B[n++] = hexval(substr($f, 1, 2))
			if (length($f) == 4) B[n++] = hexval(substr($f, 3, 2))
		}
		next
	}
	{ check(); n = 0 }
	END { check(); printf "%d SCTP packets, %d bad CRC32c, %d truncated\n", packets, bad, truncated }'
}

# The SCTP connections: state, client address, virtual service, real server, and the
# expiry rounded to its state's timeout (15 min, 61 s), which ipvsadm shows as mm:ss.
sctp_connections() {
	in_director ipvsadm -Lcn | awk 'NR > 2 && $1 == "SCTP" {
		split($2, t, ":"); secs = t[1] * 60 + t[2]
		expiry = secs > 800 ? "~15min" : (secs <= 61 ? "<=61s" : secs "s")
		split($4, c, ":")
		print $3, expiry, c[1], $5, $6
	}' | sort | uniq -c
}

# Associations to $VIP:PORT, COUNT of them from the client addresses in turn, source ports
# from FIRST-PORT (further arguments go to ipvsbench): the real server of each.
sctp_seq() {
	local port=$1 count=$2 first=$3 out
	shift 3
	out=$(in_client ipvsbench sequence --sctp --target $VIP:$port --count $count \
		--source $CLIENTS --first-port $first --timeout-ms 3000 "$@" 2>&1)
	echo "$out"
	[ "$(echo "$out" | wc -w)" = "$count" ] || echo "FAIL: sequence to $port: $out"
}

# Every SCTP connection of the director (templates aside) is CLOSED: the shutdowns are over.
all_closed() {
	[ -z "$(in_director ipvsadm -Lcn | awk 'NR > 2 && $1 == "SCTP" && $4 !~ /:0$/ && $3 != "CLOSED"')" ]
}

scenario() {
	topo_up
	add_client_addrs 2
	sctp_responders_up
	local rs weight=(3 1 2) i=0
	# Complete checksums from the client, unsegmented: what rs1 receives from the director has
	# the CRC32c the director computed, and what it receives from the client directly (SCTP
	# probes the real server's address the INIT ACK lists) the client's.
	in_client ethtool -K c0 tx off gso off >/dev/null
	in_director ipvsadm -A --sctp-service $VIP:80 -s rr
	in_director ipvsadm -A --sctp-service $VIP:81 -s wlc
	in_director ipvsadm -A --sctp-service $VIP:82 -s rr -p 60
	in_director ipvsadm -A --sctp-service $VIP:83 -s rr
	in_director ipvsadm -A --sctp-service $VIP:84 -s rr
	for rs in "${topo_real_servers[@]}"; do
		in_director ipvsadm -a --sctp-service $VIP:80 -r $(rs_addr $rs):8132 -m
		in_director ipvsadm -a --sctp-service $VIP:81 -r $(rs_addr $rs):8132 -m -w ${weight[$i]}
		in_director ipvsadm -a --sctp-service $VIP:82 -r $(rs_addr $rs):8132 -m
		i=$((i + 1))
	done
	in_director ipvsadm -a --sctp-service $VIP:83 -r $(rs_addr rs1):8134 -m
	# Nothing listens on rs2's port 8135: its stack answers the INIT with an ABORT.
	in_director ipvsadm -a --sctp-service $VIP:84 -r $(rs_addr rs2):8135 -m
	echo "== ipvsadm -Ln"
	in_director ipvsadm -Ln
	echo "== rr"
	sctp_seq 80 6 30000
	echo "== wlc, held associations (weights 3 1 2)"
	sctp_seq 81 6 30100 --hold
	echo "== persistence"
	sctp_seq 82 6 30200
	echo "== an association held open"
	in_client socat -u /dev/null,ignoreeof SCTP:$VIP:81,bind=10.0.0.10:30300 >/dev/null 2>&1 &
	local held=$!
	wait_until 10 director_lists 'SCTP.*ESTABLISHED.*:30300 '
	sctp_connections | grep ':81'
	in_director ipvsadm -Ln --sctp-service $VIP:81
	kill $held
	wait $held 2>/dev/null
	wait_until 10 all_closed
	echo "== all closed"
	sctp_connections
	in_director ipvsadm -Ln --sctp-service $VIP:81
	echo "== aborted by the real server"
	in_client timeout 5 socat -u /dev/null SCTP:$VIP:84,bind=10.0.0.11:30400 2>&1 | socat_messages
	# REJECTED lasts 4 s: the first listing that has it.
	local rejected
	for _ in $(seq 50); do
		rejected=$(sctp_connections | grep ':84')
		[ -n "$rejected" ] && break
		sleep 0.1
	done
	echo "$rejected"
	echo "== 300 KB upload through NAT (port 83 to 8134)"
	head -c 300000 /dev/urandom >/tmp/sctp_sent.$$
	in_rs rs1 socat -u SCTP-LISTEN:8134,reuseaddr CREATE:/tmp/sctp_received.$$ </dev/null >/dev/null 2>&1 &
	local receiver=$!
	wait_until 10 sctp_listening rs1 8134
	# What rs1 receives (its own packets leave their CRC32c to the device): the first 40
	# packets, the handshake and about 50 KB of data (awk's CRC32c takes 10 s a 100 KB
	# under TCG; every DATA packet is rewritten the same way).
	in_rs rs1 tcpdump -nn -x -l -Z root -Q in -i eth0 -c 40 sctp >/tmp/sctp_cap.$$ \
		2>/tmp/sctp_caperr.$$ &
	local capture=$!
	wait_until 10 grep -q 'listening on' /tmp/sctp_caperr.$$
	in_client timeout 60 socat -u FILE:/tmp/sctp_sent.$$ SCTP:$VIP:83,bind=10.0.0.10:30500 ||
		echo "client failed"
	wait_until 30 exited $receiver
	if cmp -s /tmp/sctp_sent.$$ /tmp/sctp_received.$$; then echo "identical"; else echo "DIFFERENT"; fi
	kill $capture 2>/dev/null
	wait $capture 2>/dev/null
	crc_check </tmp/sctp_cap.$$ | sed 's/^[0-9]* SCTP packets/N SCTP packets/'
	rm -f /tmp/sctp_sent.$$ /tmp/sctp_received.$$ /tmp/sctp_cap.$$ /tmp/sctp_caperr.$$
	topo_down
}

differential "SCTP scenario" scenario
got_lacks '^FAIL' "a sequence failed"
# Destinations are listed newest first (ipvsadm sorts them): rr starts with rs3.
expect_eq "rr sequence" "rs3 rs2 rs1 rs3 rs2 rs1" "$(echo "$got" | sed -n '/^== rr$/{n;p}')"
# Persistence: each client keeps its first real server.
echo "$got" | sed -n '/^== persistence$/{n;p}' | {
	read -r a b c d e f
	[ "$a $c $e" = "$a $a $a" ] && [ "$b $d $f" = "$b $b $b" ] || fail "not sticky: $a $b $c $d $e $f"
}
got_has '^identical$' "the upload arrived damaged"
got_has '^N SCTP packets, 0 bad CRC32c, 0 truncated$' "bad CRC32c on the wire"
log "identical to the C ip_vs"
exit $ksft_pass
