#!/usr/bin/env bash
# Boots the test kernel in QEMU with rust_ipvs, the C ip_vs modules, our tools and the
# selftests in an initramfs, runs a guest command and judges the result from the host.
#
#   scripts/vm.sh [options] [test.sh ...]     run these selftests (default: selftests/TESTS)
#   scripts/vm.sh --demo                      run selftests/demo.sh (the main job)
#   scripts/vm.sh --pair [test.sh ...]        boot two guests joined by virtual links and run
#                                             these pair tests in both (default:
#                                             selftests/PAIR_TESTS)
#
# Options:
#   --kernel DIR   kernel build tree (default: the cached debug kernel, built if missing)
#   --kvm          use KVM instead of TCG (nested KVM hangs on some hosts)
#   --timeout S    whole-run timeout in seconds (default 2400)
#   --debug-set    run only the selftests marked "debug" in selftests/TESTS (the ones that
#                  also run on the debug kernel, for its KASAN, lockdep and kmemleak checks)
#   --shards N     split the selftests over N guests booted side by side (default 1), each
#                  with a share of the expected run time in selftests/TESTS
#   --log FILE     keep the serial log here (default: ~/.cache/rust_ipvs/logs/, newest
#                  linked as vm-last.log); with shards, FILE.1, FILE.2, ...; with --pair,
#                  FILE.a and FILE.b
#   --pair         two guests, "a" and "b" (one vCPU, 1 GB each, the same kernel and
#                  initramfs), joined by three virtio-net links over unix sockets in the run's
#                  temporary directory (QEMU's -netdev stream, nothing on the host's network):
#                  ctl (the harness's own messages), lan (the client-facing segment) and sync
#                  (connection-sync traffic), named so in the guests (selftests/pair.sh). Both
#                  run the same tests; a test passes only if it passes in both.
#   --smp N        vCPUs of the guest (default 2; --pair: 1 each)
#   --env VAR=VAL  put VAR in the tests' environment (through the kernel command line; VAR
#                  without dots), e.g. --env SYNC_PAIRS=c/c
#   --icount FILE  count the guest's instructions by translation block (tools/icount, a
#                  QEMU plugin) and write them to FILE when the guest stops; for profile.sh
#                  with PROFILE_TOOL=icount and scripts/icount.py (one guest, no shards)
#   --icount-tlb   with --icount: also model TCG's soft TLB and jump cache and count their
#                  misses and flushes by block (the guest runs several times slower)
#
# The run fails on: a timeout, a missing or failing result line, and any Oops, WARNING, BUG,
# KASAN, lockdep or kmemleak report in the guest's kernel log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"
# shellcheck source=scripts/initramfs.sh
. "$here/initramfs.sh"

kdir=""
accel=tcg
timeout_s=2400
mode=tests
log_file=""
shards=1
debug_set=0
pair=0
guest_env=()
tests=()
smp_arg=""
icount_file=""
icount_args=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kdir=$2; shift 2 ;;
	--kvm) accel=kvm; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--log) log_file=$2; shift 2 ;;
	--shards) shards=$2; shift 2 ;;
	--smp) smp_arg=$2; shift 2 ;;
	--icount) icount_file=$2; shift 2 ;;
	--icount-tlb) icount_args=",tlb=on"; shift ;;
	--debug-set) debug_set=1; shift ;;
	--demo) mode=demo; shift ;;
	--pair) pair=1; shift ;;
	--env)
		[[ "$2" =~ ^[A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*$ ]] || die "--env takes VAR=VALUE (no spaces)"
		guest_env+=("$2")
		shift 2
		;;
	-h|--help) sed -n '2,36p' "$0"; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) tests+=("$1"); shift ;;
	esac
done

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run scripts/setup.sh"
[ -n "$kdir" ] || kdir=$("$here/kernel.sh" debug)
[ -f "$kdir/arch/x86/boot/bzImage" ] || die "no bzImage in $kdir: run scripts/kernel.sh"
kver=$(cat "$kdir/include/config/kernel.release")

# The test list: selftests/TESTS, or selftests/PAIR_TESTS for the two-guest tests.
test_list=$top/selftests/TESTS
if [ "$pair" = 1 ]; then
	[ "$mode" = tests ] || die "--pair runs tests, not the demo"
	[ "$shards" = 1 ] || die "--pair and --shards do not go together"
	test_list=$top/selftests/PAIR_TESTS
fi
if [ ${#tests[@]} -eq 0 ] && [ "$mode" = tests ]; then
	mapfile -t tests < <(grep -v -E '^\s*(#|$)' "$test_list" |
		awk -v debug_set="$debug_set" '!debug_set || $3 == "debug" { print $1 }')
fi
[ "$shards" -ge 1 ] 2>/dev/null || die "--shards takes a positive number"
[ -z "$icount_file" ] || { [ "$pair" = 0 ] && [ "$shards" = 1 ]; } ||
	die "--icount counts one guest: not with --pair or --shards"
[ -z "$icount_args" ] || [ -n "$icount_file" ] || die "--icount-tlb goes with --icount FILE"
[ -z "$smp_arg" ] || [ "$smp_arg" -ge 1 ] 2>/dev/null || die "--smp takes a positive number"
if [ "$mode" != tests ]; then
	shards=1
elif [ "$shards" -gt ${#tests[@]} ]; then
	shards=${#tests[@]}
fi

# Building the module (in the work tree) and the initramfs holds a lock: runs started side by
# side (a benchmark beside a test run, say) build against their kernels in the same tree one at
# a time, each taking its rust_ipvs.ko into its initramfs before the next build.
mkdir -p "$CACHE"
exec 9>"$CACHE/vm-build.lock"
flock 9
log "building rust_ipvs against $kdir"
make -s -C "$top" KDIR="$kdir" modules >&2

log "building the userspace tools (static, for the guest)"
tools_dir=$(build_guest_tools) || die "building the userspace tools failed"

work=$(mktemp -d "${TMPDIR:-/tmp}/rust_ipvs_vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
initramfs_base /usr/sbin/ip /usr/sbin/ipvsadm /usr/bin/socat /usr/sbin/nft /usr/sbin/conntrack \
	/usr/bin/ss /usr/bin/setpriv /usr/bin/nc.openbsd /usr/bin/timeout /usr/bin/cmp /usr/bin/jq \
	/usr/sbin/keepalived /usr/bin/tcpdump /usr/sbin/ethtool
ln -sf bash "$root/usr/bin/sh.bash"
ln -sf nc.openbsd "$root/usr/bin/nc"

# Kernel modules: the C ip_vs (the reference, with the schedulers the kernel's config leaves
# out built beside it) and rust_ipvs, with modules.dep for modprobe.
log "building the C schedulers the kernel config leaves out"
c_schedulers=$("$here/c-schedulers.sh" "$kdir")
make -s -C "$kdir" INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 modules_install >/dev/null 2>&1 ||
	die "modules_install from $kdir failed"
install -D -m 0644 "$top/rust_ipvs.ko" "$root/lib/modules/$kver/extra/rust_ipvs.ko"
install -m 0644 "$c_schedulers"/*.ko "$root/lib/modules/$kver/extra/"
depmod -b "$root" "$kver"

# Our tools and the selftests.
for tool in ipvsctl nlfuzz ipvsbench; do
	install -D -m 0755 "$tools_dir/$tool" "$root/usr/bin/$tool"
done
# perf, for selftests/profile.sh (sampling the guest kernel; not used by the tests).
[ -x /usr/bin/perf ] && copy_binary /usr/bin/perf
log "building tools/mobyipvs (moby/ipvs, the library of kube-proxy and Docker)"
install -D -m 0755 "$("$here/mobyipvs.sh")" "$root/usr/bin/mobyipvs"
cp -r "$top/selftests" "$root/selftests"
# The modprobe configuration users install with rust_ipvs (the tests put it in place while
# rust_ipvs is the implementation under test).
install -D -m 0644 "$top/dist/rust_ipvs.modprobe.conf" "$root/usr/share/rust_ipvs/rust_ipvs.modprobe.conf"
ln -sf /usr/bin/kmod "$root/sbin/modprobe"
# The kernel's own ipvs.sh and the libraries it sources, from the kernel source.
kst=$KSRC/tools/testing/selftests/net
if [ -f "$kst/netfilter/ipvs.sh" ]; then
	mkdir -p "$root/kselftest/net/netfilter" "$root/kselftest/net/lib"
	cp "$kst/netfilter/ipvs.sh" "$kst/netfilter/lib.sh" "$root/kselftest/net/netfilter/"
	cp "$kst/lib.sh" "$root/kselftest/net/"
	cp -r "$kst/lib/sh" "$root/kselftest/net/lib/"
fi

cat >"$root/init" <<EOS
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t debugfs debugfs /sys/kernel/debug
/bin/busybox mount -t tmpfs tmpfs /run
/bin/busybox ln -sf /proc/self/fd /dev/fd
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
cd /selftests
# One of two guests (vm.sh --pair: the kernel passes rust_ipvs_role=a or b): name the links to
# the other guest and start the harness's message service on ctl.
[ -z "\$rust_ipvs_role" ] || /bin/bash /selftests/pair.sh init
if [ "$mode" = demo ]; then
	/bin/bash /selftests/demo.sh
	echo "RUST_IPVS_DEMO_EXIT=\$?"
else
	# The kernel passes rust_ipvs_tests=a.sh,b.sh from its command line to init.
	/bin/bash /selftests/run_tests.sh \$(echo "\$rust_ipvs_tests" | /bin/busybox tr , ' ')
fi
/bin/busybox sync
/bin/busybox reboot -f
EOS
chmod 0755 "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initrd.cpio"
flock -u 9
exec 9>&-

if [ -z "$log_file" ]; then
	# One log per run (several runs may share the machine), and a link to the latest.
	mkdir -p "$CACHE/logs"
	log_file=$CACHE/logs/vm-$(date +%Y%m%d-%H%M%S)-$$.log
	ln -sfn "$log_file" "$CACHE/vm-last.log"
fi
mkdir -p "$(dirname "$log_file")"
accel_args=(-accel tcg -cpu max)
[ "$accel" = kvm ] && accel_args=(-accel kvm -cpu host)

# The tests of each shard, comma-separated: longest expected first to the least loaded
# shard (the second column of selftests/TESTS, 100 s for a test without one), each shard
# keeping the order of the list.
shard_lists=()
if [ "$shards" -eq 1 ]; then
	shard_lists=("$(IFS=,; echo "${tests[*]}")")
else
	mapfile -t shard_lists < <(printf '%s\n' "${tests[@]}" | awk -v n="$shards" '
		NR == FNR { if ($0 !~ /^[ \t]*(#|$)/) secs[$1] = $2; next }
		{ order[++count] = $1; s[count] = ($1 in secs && secs[$1] != "") ? secs[$1] : 100 }
		END {
			for (i = 1; i <= count; i++) idx[i] = i
			for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++)
				if (s[idx[j]] > s[idx[i]]) { t = idx[i]; idx[i] = idx[j]; idx[j] = t }
			for (i = 1; i <= count; i++) {
				best = 1
				for (k = 2; k <= n; k++) if (load[k] < load[best]) best = k
				load[best] += s[idx[i]]; shard[idx[i]] = best
			}
			for (k = 1; k <= n; k++) {
				line = ""
				for (i = 1; i <= count; i++) if (shard[i] == k) line = line (line ? "," : "") order[i]
				print line
			}
		}' "$top/selftests/TESTS" -)
fi

# Boots one guest with the tests in list $2, logging to $1; prints the result lines as they
# come (prefixed with $3: the shard when there are several, the role of a pair) and returns
# QEMU's status. Further arguments: kernel parameters (NAME=VALUE) then, after "--", QEMU's.
vm_mem=2048 vm_smp=${smp_arg:-2}
boot() {
	local log=$1 list=$2 prefix=$3 params=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do params+=("$1"); shift; done
	[ $# -eq 0 ] || shift
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 "${accel_args[@]}" \
		-m "$vm_mem" -smp "$vm_smp" -nographic -no-reboot -net none "$@" \
		-kernel "$kdir/arch/x86/boot/bzImage" -initrd "$work/initrd.cpio" \
		-append "console=ttyS0 loglevel=4 panic=-1 oops=panic log_buf_len=16M rust_ipvs_tests=$list rust_ipvs_test_timeout=${RUST_IPVS_TEST_TIMEOUT:-900}${params[*]:+ ${params[*]}}${guest_env[*]:+ ${guest_env[*]}}" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" | sed -u -n \
		-e '/^\(ok\|not ok\) [0-9]/p' -e '/^# rust_ipvs:/p' -e '/^RUST_IPVS_DEMO/p' -e '/^demo: /p' |
		sed -u "s/^/$prefix/"
	return "${PIPESTATUS[0]}"
}

# Whether the serial log $1 has test $2 passing.
passed_in() {
	grep -E "^(ok|not ok) [0-9]+ $2( |\$)" "$1" | tail -1 | grep -q '^ok '
}

start=$(date +%s)
if [ "$pair" = 1 ]; then
	# Guests a and b, one vCPU each (the machine may have two cores), joined by the links
	# below. Guest a's QEMU listens on a unix socket per link and guest b's connects to it, so
	# a starts first. The NICs of link L (1 ctl, 2 lan, 3 sync) get MAC 52:54:00:fa:0L:0R (R:
	# 1 on a, 2 on b), by which selftests/pair.sh names them in the guest; no boot ROM (iPXE).
	# The machine is q35: the test kernels have no MSI, and the pc machine's ACPI routes PCI
	# interrupts with an AML loop that the debug kernel under TCG times out in (no interrupts,
	# so no traffic).
	vm_mem=1024 vm_smp=${smp_arg:-1}
	links=(ctl lan sync)
	nics_a=(-machine q35) nics_b=(-machine q35)
	for i in "${!links[@]}"; do
		sock=$work/${links[i]}.sock
		nics_a+=(-netdev "stream,id=${links[i]},server=on,addr.type=unix,addr.path=$sock"
			-device "virtio-net-pci,netdev=${links[i]},mac=52:54:00:fa:0$((i + 1)):01,romfile=")
		nics_b+=(-netdev "stream,id=${links[i]},server=off,addr.type=unix,addr.path=$sock"
			-device "virtio-net-pci,netdev=${links[i]},mac=52:54:00:fa:0$((i + 1)):02,romfile=")
	done
	log "booting $kver under $accel, guests a and b: ${tests[*]} (timeout ${timeout_s}s, logs $log_file.a, $log_file.b)"
	(
		set +e
		boot "$log_file.a" "${shard_lists[0]}" "[a] " rust_ipvs_role=a -- "${nics_a[@]}"
		echo $? >"$work/qemu_rc.a"
	) &
	pid_a=$!
	for _ in $(seq 600); do
		missing=0
		for l in "${links[@]}"; do [ -S "$work/$l.sock" ] || missing=1; done
		[ $missing = 0 ] && break
		kill -0 $pid_a 2>/dev/null || break
		sleep 0.05
	done
	[ $missing = 0 ] || log "guest a's QEMU did not open its link sockets: guest b starts unlinked"
	(
		set +e
		boot "$log_file.b" "${shard_lists[0]}" "[b] " rust_ipvs_role=b -- "${nics_b[@]}"
		echo $? >"$work/qemu_rc.b"
	) &
	wait $pid_a $!
	log "guests ran for $(($(date +%s) - start)) s"
	rc=0
	for r in a b; do
		out=$("$here/judge.sh" "$log_file.$r" "$mode" "$(cat "$work/qemu_rc.$r")" "${tests[@]}") || rc=1
		echo "$out" | sed '$d' | sed "s/^/[$r] /"
	done
	# A test passes only if it passed in both guests.
	passed=0 failed=0
	for t in "${tests[@]}"; do
		if passed_in "$log_file.a" "$t" && passed_in "$log_file.b" "$t"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		failed=1
		passed=$((passed > 0 ? passed - 1 : 0))
	fi
	echo "guest: $passed passed, $failed failed"
	exit $rc
fi

if [ "$shards" -eq 1 ]; then
	plugin_args=()
	if [ -n "$icount_file" ]; then
		[ "$accel" = tcg ] || die "--icount needs TCG"
		log "building the instruction-count plugin (tools/icount)"
		(cd "$top" && cargo build -q --release -p icount) || die "cannot build tools/icount"
		plugin_args=(-plugin "$top/target/release/libicount.so,out=$(realpath -m "$icount_file")$icount_args")
	fi
	log "booting $kver under $accel (timeout ${timeout_s}s, log $log_file)"
	set +e
	boot "$log_file" "${shard_lists[0]}" "" -- "${plugin_args[@]}"
	qemu_rc=$?
	set -e
	log "guest ran for $(($(date +%s) - start)) s"
	exec "$here/judge.sh" "$log_file" "$mode" "$qemu_rc" "${tests[@]}"
fi

pids=()
for k in $(seq "$shards"); do
	log "booting $kver under $accel, shard $k of $shards: ${shard_lists[k - 1]//,/ } (timeout ${timeout_s}s, log $log_file.$k)"
	(
		set +e
		boot "$log_file.$k" "${shard_lists[k - 1]}" "[$k] "
		echo $? >"$work/qemu_rc.$k"
	) &
	pids+=($!)
done
wait "${pids[@]}"
log "guests ran for $(($(date +%s) - start)) s"
passed=0 failed=0 rc=0
for k in $(seq "$shards"); do
	IFS=, read -r -a shard_tests <<<"${shard_lists[k - 1]}"
	out=$("$here/judge.sh" "$log_file.$k" "$mode" "$(cat "$work/qemu_rc.$k")" "${shard_tests[@]}") || rc=1
	echo "$out" | sed '$d'
	set -- $(echo "$out" | tail -1)
	passed=$((passed + $2)) failed=$((failed + $4))
done
echo "guest: $passed passed, $failed failed"
exit $rc
