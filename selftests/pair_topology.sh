# shellcheck shell=bash
# The two directors of the connection-sync pair tests (sourced after lib.sh and pair.sh):
#
#                   guest a                                        guest b
#   +--------------------------------------------+        +-----------------------+
#   | client ns  10.0.0.2, .21, .22 --veth--+    |        |                       |
#   | rs1 ns     10.0.0.11, VIP on lo --veth-+    |        |                       |
#   | rs2 ns     10.0.0.12, VIP on lo --veth-+    |        |                       |
#   |                                        |    |        |                       |
#   | director a: bridge br-lan 10.0.0.1 ----+----|- lan --|- director b: lan      |
#   |   (+ VIP 10.0.0.100 while active)           |        |   10.0.0.3 (+ VIP     |
#   |                                             |        |   once it takes over) |
#   | sync 10.251.0.1 ----------------------------|- sync -|- sync 10.251.0.2      |
#   | ctl  10.250.0.1 (the harness) --------------|- ctl --|- ctl  10.250.0.2      |
#   +---------------------------------------------+        +-----------------------+
#
# The directors are the guests' initial namespaces, with the same virtual services, all
# direct routing (DR) to rs1 and rs2. The client, the real servers and both directors share
# one Ethernet segment (guest a's bridge br-lan, extended to guest b by the lan link): the
# active director (the one holding the VIP, which the client reaches by ARP) hands a client's
# packets to a real server's MAC address, and the real server, which has the VIP on its
# loopback (and does not answer ARP for it), replies to the client directly. So the VIP can
# move from director a to director b with nothing else changing. Guest a runs the master sync
# daemon, guest b the backup, both on the sync link (multicast 224.0.0.81:8848, C's default).
#
# Virtual services (the same on both directors):
#   TCP VIP:80 rr, TCP VIP:81 rr persistent (-p 60), UDP VIP:53 rr, TCP VIP:90 rr (echo)
# The real servers answer on 80 and 81 with their name and keep the connection open until the
# client closes it (ipvsbench server --wait-close), count UDP datagrams on 53, echo on 90.

VIP=10.0.0.100
SYNC_RS=(rs1 rs2)

# The implementations under test, "MASTER/BACKUP" (guest a's, guest b's), each c (the
# kernel's ip_vs) or rust (rust_ipvs), separated by spaces or commas (commas for
# `vm.sh --env SYNC_PAIRS=c/c,c/rust`); the tests run their scenario once per pair: by
# default C with C (the reference), C's master with rust_ipvs's backup, rust_ipvs's master
# with C's backup, and rust_ipvs with itself. SYNC_MASTER_IMPL and SYNC_BACKUP_IMPL choose a
# single pair.
if [ -n "${SYNC_MASTER_IMPL:-}${SYNC_BACKUP_IMPL:-}" ]; then
	SYNC_PAIRS=${SYNC_PAIRS:-${SYNC_MASTER_IMPL:-c}/${SYNC_BACKUP_IMPL:-c}}
fi
SYNC_PAIRS=${SYNC_PAIRS:-c/c c/rust rust/c rust/rust}

# The sync id of both daemons (SYNC_BACKUP_ID: the backup's, to see a test fail without sync).
SYNC_ID=${SYNC_ID:-7}
SYNC_BACKUP_ID=${SYNC_BACKUP_ID:-$SYNC_ID}

sync_ns_client=pcl$$

# Runs a command in the client's or a real server's namespace (guest a).
in_pclient() { in_ns $sync_ns_client "$@"; }
in_prs() { local rs=$1; shift; in_ns p${rs}_$$ "$@"; }

# A real server's address.
sync_rs_addr() { case $1 in rs1) echo 10.0.0.11 ;; rs2) echo 10.0.0.12 ;; esac; }

# Loads this guest's implementation of the pair MASTER/BACKUP.
sync_load() {
	local pairing=$1
	case $(pair_role) in
	a) IPVS_IMPL=${pairing%/*} ipvs_load ;;
	b) IPVS_IMPL=${pairing#*/} ipvs_load ;;
	esac
}

# Builds this guest's side: the sync link's address; on guest a the bridge onto lan with the
# client and the real servers; on guest b the lan address.
sync_topo_up() {
	local idx rs
	idx=$(pair_index)
	run ip addr add 10.251.0.$idx/24 dev sync
	if [ "$(pair_role)" = b ]; then
		run ip addr add 10.0.0.3/24 dev lan
		return 0
	fi
	run ip link add br-lan type bridge
	run ip link set lan master br-lan
	run ip addr add 10.0.0.1/24 dev br-lan
	run ip addr add $VIP/32 dev br-lan
	run ip link set br-lan up
	ns_add $sync_ns_client
	run ip link add c0 netns $sync_ns_client type veth peer name pcl0
	run ip link set pcl0 master br-lan up
	run ip -n $sync_ns_client addr add 10.0.0.2/24 dev c0
	run ip -n $sync_ns_client addr add 10.0.0.21/24 dev c0
	run ip -n $sync_ns_client addr add 10.0.0.22/24 dev c0
	run ip -n $sync_ns_client link set c0 up
	for rs in "${SYNC_RS[@]}"; do
		ns_add p${rs}_$$
		run ip link add eth0 netns p${rs}_$$ type veth peer name p$rs
		run ip link set p$rs master br-lan up
		run ip -n p${rs}_$$ addr add "$(sync_rs_addr $rs)/24" dev eth0
		run ip -n p${rs}_$$ addr add $VIP/32 dev lo
		# DR: the real server has the VIP but must not answer ARP for it.
		run in_prs $rs sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
		run ip -n p${rs}_$$ link set eth0 up
		in_prs $rs ipvsbench server --tcp-port 80 --udp-port 53 --threads 1 --wait-close \
			--reply "$rs"$'\n' --count-file /tmp/udp.$rs.$$ </dev/null >/dev/null 2>&1 &
		in_prs $rs ipvsbench server --tcp-port 81 --udp-port 54 --threads 1 --wait-close \
			--reply "$rs"$'\n' </dev/null >/dev/null 2>&1 &
		in_prs $rs socat TCP-LISTEN:90,fork,reuseaddr PIPE </dev/null >/dev/null 2>&1 &
	done
	for rs in "${SYNC_RS[@]}"; do
		wait_until 20 rs_listening $rs
	done
}

# Whether real server RS listens on its three TCP ports.
rs_listening() {
	[ "$(in_prs "$1" ss -ltn | grep -c -E ':(80|81|90) ')" = 3 ]
}

# Takes this guest's side down (whatever of it exists).
sync_topo_down() {
	local rs ns
	# The veths' ends in this namespace first: a deleted namespace's devices go asynchronously.
	for rs in cl0 "${SYNC_RS[@]}"; do ip link del p$rs 2>/dev/null; done
	for ns in $sync_ns_client "${SYNC_RS[@]/%/_$$}"; do
		[ "$ns" = $sync_ns_client ] || ns=p$ns
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	for rs in "${SYNC_RS[@]}"; do rm -f /tmp/udp.$rs.$$; done
	ip link del br-lan 2>/dev/null
	ip addr flush dev lan
	ip addr flush dev sync
	true
}

# The virtual services, the same on both directors.
sync_services_up() {
	local rs
	run ipvsadm -A -t $VIP:80 -s rr
	run ipvsadm -A -t $VIP:81 -s rr -p 60
	run ipvsadm -A -u $VIP:53 -s rr
	run ipvsadm -A -t $VIP:90 -s rr
	for rs in "${SYNC_RS[@]}"; do
		run ipvsadm -a -t $VIP:80 -r "$(sync_rs_addr $rs)" -g
		run ipvsadm -a -t $VIP:81 -r "$(sync_rs_addr $rs)" -g
		run ipvsadm -a -u $VIP:53 -r "$(sync_rs_addr $rs)" -g
		run ipvsadm -a -t $VIP:90 -r "$(sync_rs_addr $rs)" -g
	done
}

# This guest's sync daemon: master on a, backup on b, on the sync link.
sync_daemon_up() {
	case $(pair_role) in
	a) run ipvsadm --start-daemon master --mcast-interface sync --syncid "$SYNC_ID" ;;
	b) run ipvsadm --start-daemon backup --mcast-interface sync --syncid "$SYNC_BACKUP_ID" ;;
	esac
}

# What `ipvsadm -L --daemon` shows for this guest's daemon (C ip_vs's output).
sync_daemon_want() {
	case $(pair_role) in
	a) echo "master sync daemon (mcast=sync, syncid=$SYNC_ID, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" ;;
	b) echo "backup sync daemon (mcast=sync, syncid=$SYNC_BACKUP_ID, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" ;;
	esac
}

# Stops this guest's daemon, deletes the services and unloads the implementation.
sync_director_down() {
	# (ipvsadm would load ip_vs.)
	[ -d /sys/module/ip_vs ] || [ -d /sys/module/rust_ipvs ] || return 0
	case $(pair_role) in
	a) ipvsadm --stop-daemon master ;;
	b) ipvsadm --stop-daemon backup ;;
	esac
	ipvsadm -C
	ipvs_unload
}

# This director's connections, sorted, without their expiry times (which differ between the
# directors): protocol, state, client, virtual service, real server.
sync_conns() {
	ipvsadm -Lnc | awk 'NR > 2 { print $1, $3, $4, $5, $6 }' | sort
}

# Polls like wait_until (lib.sh), but returns 1 on a timeout instead of failing (for a check
# that shows what differs after it).
wait_until_quiet() {
	local seconds=$1
	shift
	local deadline=$((${EPOCHREALTIME/./} + seconds * 1000000))
	until "$@" >/dev/null 2>&1; do
		[ ${EPOCHREALTIME/./} -lt $deadline ] || return 1
		sleep 0.1
	done
}
