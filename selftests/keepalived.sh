#!/bin/bash
# keepalived (Debian's, as its check daemon: keepalived -n -C, no VRRP) programming the director,
# differential against the C ip_vs: a wrr service whose real servers' TCP_CHECKs fail and
# recover (one with inhibit_on_failure, kept at weight 0; one removed and re-added), a
# persistent rr service with a /24 granularity, a UDP service and a fwmark service; ipvsadm's
# listing and real traffic after each step, and keepalived's clean-up of its services on exit.
. ./lib.sh
. ./topology.sh

conf=/tmp/keepalived.$$.conf
pidfile=/tmp/keepalived.$$.pid
kalog=/tmp/keepalived.$$.log

# The configuration: every check runs each second from the start, and one failure is enough.
write_conf() {
	cat >"$conf" <<-EOF
	global_defs {
	    router_id rust_ipvs_selftest
	}
	virtual_server $VIP 80 {
	    delay_loop 1
	    lvs_sched wrr
	    lvs_method NAT
	    protocol TCP
	    real_server $(rs_addr rs1) 80 {
	        weight 3
	        TCP_CHECK {
	            connect_timeout 1
	            retry 0
	            warmup 0
	        }
	    }
	    real_server $(rs_addr rs2) 80 {
	        weight 1
	        inhibit_on_failure
	        TCP_CHECK {
	            connect_timeout 1
	            retry 0
	            warmup 0
	        }
	    }
	    real_server $(rs_addr rs3) 80 {
	        weight 2
	        TCP_CHECK {
	            connect_timeout 1
	            retry 0
	            warmup 0
	        }
	    }
	}
	virtual_server $VIP 8080 {
	    lvs_sched rr
	    lvs_method NAT
	    protocol TCP
	    persistence_timeout 120
	    persistence_granularity 255.255.255.0
	    real_server $(rs_addr rs1) 80 {
	        weight 1
	    }
	    real_server $(rs_addr rs2) 80 {
	        weight 1
	    }
	}
	virtual_server $VIP 53 {
	    lvs_sched rr
	    lvs_method NAT
	    protocol UDP
	    real_server $(rs_addr rs1) 53 {
	        weight 1
	    }
	    real_server $(rs_addr rs3) 53 {
	        weight 1
	    }
	}
	virtual_server fwmark 5 {
	    lvs_sched sh
	    lvs_method NAT
	    real_server $(rs_addr rs3) 80 {
	        weight 1
	    }
	}
	EOF
}

# The listing without the connection counts, which the health checks do not change but
# the traffic between steps does.
listing() {
	in_director ipvsadm -Ln | awk 'NR > 3 { print $1, $2, $3, $4 }'
}

# The port-80 service's real servers and weights, "address weight ..." on one line.
port80() {
	in_director ipvsadm -Ln -t $VIP:80 | awk 'NR > 3 { printf "%s%s %s", sep, $2, $4; sep = " " }'
}

# Whether the port-80 service's real servers and weights read as $1.
port80_is() { [ "$(port80)" = "$1" ]; }

# Stops keepalived (SIGTERM to the daemon whose pid is in its pidfile: $keepalived is the
# shell that ran it) and waits for it to finish its clean-up and exit; returns its status.
stop_keepalived() {
	local pid status
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$keepalived"
	status=$?
	rm -f "$pidfile"
	return $status
}

# Waits (at most 30 s) until "$@" holds; on a timeout shows the table and keepalived's log,
# and fails (the scenario's exit trap stops keepalived).
await() {
	local deadline=$((SECONDS + 30))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out waiting for: $*"
			in_director ipvsadm -Ln
			tail -30 "$kalog"
			fail "keepalived did not get there"
		fi
		sleep 0.2
	done
}

# Six requests to port 80 and three to each other service: the real servers that answered.
traffic() {
	local seq="" i
	for i in 1 2 3 4 5 6; do seq="$seq $(tcp_request 80)"; done
	echo "port 80:$seq"
	seq=""
	for i in 1 2 3; do seq="$seq $(tcp_request 8080)"; done
	echo "port 8080, persistent:$seq"
	seq=""
	for i in 1 2 3; do seq="$seq $(udp_request 53)"; done
	echo "udp 53:$seq"
	echo "fwmark 5 (port 9000): $(tcp_request 9000)"
}

scenario() {
	topo_up
	in_director nft add table ip marks
	in_director nft add chain ip marks pre '{ type filter hook prerouting priority -150; }'
	in_director nft add rule ip marks pre ip daddr $VIP tcp dport 9000 meta mark set 5
	write_conf
	in_director keepalived -n -l -G -D -C -f "$conf" -p "$pidfile" -c "$pidfile.checkers" \
		>"$kalog" 2>&1 &
	keepalived=$!
	# If a step fails (and this subshell exits), keepalived must not stay behind holding the
	# services, or the module cannot be unloaded.
	trap stop_keepalived EXIT
	local rs1=$(rs_addr rs1):80 rs2=$(rs_addr rs2):80 rs3=$(rs_addr rs3):80
	await port80_is "$rs1 3 $rs2 1 $rs3 2"
	await eval "[ \$(in_director ipvsadm -Ln | grep -c -- '-> [0-9]') = 8 ]"
	echo "== started"
	echo "port 80 real servers: $(port80)"
	listing
	traffic
	# rs2 and rs3 drop the director's own connections to port 80: keepalived's checks time
	# out, clients (whose addresses NAT keeps) still get through.
	local rs
	for rs in rs2 rs3; do
		in_rs $rs nft add table ip refuse
		in_rs $rs nft add chain ip refuse in '{ type filter hook input priority 0; }'
		in_rs $rs nft add rule ip refuse in ip saddr 172.16.0.1 tcp dport 80 drop
	done
	await port80_is "$rs1 3 $rs2 0"
	echo "== rs2 and rs3 failing"
	echo "port 80 real servers: $(port80)"
	listing
	traffic
	for rs in rs2 rs3; do
		in_rs $rs nft delete table ip refuse
	done
	await port80_is "$rs1 3 $rs2 1 $rs3 2"
	echo "== rs2 and rs3 back"
	echo "port 80 real servers: $(port80)"
	listing
	traffic
	echo "templates:"
	in_director ipvsadm -Lnc | awk 'NR > 2 && $4 ~ /:0$/ { print $1, $3, $4, $5, $6 }' | sort | uniq -c
	stop_keepalived
	echo "== keepalived stopped (exit $?)"
	listing
	rm -f "$conf" "$pidfile.checkers" "$kalog"
	topo_down
}

differential "keepalived" scenario
echo "$got" | grep -A1 '^== rs2 and rs3 failing' |
	grep -q "^port 80 real servers: $(rs_addr rs1):80 3 $(rs_addr rs2):80 0$" ||
	fail "failed checks: rs2 inhibited (weight 0), rs3 removed"
got_has '^port 80: rs1 rs1 rs1 rs1 rs1 rs1$' "only rs1 serves while the others fail"
[ "$(echo "$got" | sed -n '/^== keepalived stopped/,$p' | wc -l)" = 1 ] ||
	fail "keepalived removes its services on exit"
log "identical to the C ip_vs"
exit $ksft_pass
