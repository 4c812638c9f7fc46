#!/usr/bin/env bash
# Boots Debian's own kernel (the vmlinuz and modules of trixie-backports' linux-*-<rel>) in QEMU
# with rust_ipvs built for it by scripts/debian-kernel.sh, runs selftests/debian_kernel.sh in the
# guest and judges the serial log with scripts/judge.sh (TAP result, kernel splats, timeout).
#
#   scripts/debian-vm.sh [options]
#
# Options:
#   --src DIR      build the module from DIR instead of this work tree (see debian-kernel.sh)
#   --kvm          use KVM instead of TCG (nested KVM hangs on some hosts)
#   --timeout S    whole-run timeout in seconds (default 900)
#   --log FILE     keep the serial log here (default: ~/.cache/rust_ipvs/logs/, newest
#                  linked as debian-vm-last.log)
#
# The kernel packages are downloaded (apt-get download in the chroot of debian-kernel.sh) and
# unpacked once per release under $CACHE/debian/kernel-<rel>. The guest gets the modules the
# module and the test need (with their dependencies and modules.dep, so modprobe works), this
# machine's userland (busybox, bash, ip, ipvsadm, socat, kmod, ...) as scripts/vm.sh does, the
# module as /root/rust_ipvs-<rel>.ko, and ipvsctl (build_guest_tools).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RUST_IPVS_DEBIAN_LIB=1
# shellcheck source=scripts/debian-kernel.sh
. "$here/debian-kernel.sh"
# shellcheck source=scripts/initramfs.sh
. "$here/initramfs.sh"

accel=tcg
timeout_s=900
log_file=""
src_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--src) src_args=(--src "$2"); shift 2 ;;
	--kvm) accel=kvm; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--log) log_file=$2; shift 2 ;;
	-h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run scripts/setup.sh"

ko=$("$here/debian-kernel.sh" --chroot "${src_args[@]}")
rel=$(basename "$ko" .ko)
rel=${rel#rust_ipvs-}
debian_set_mode chroot

# Debian's kernel and modules for <rel>, unpacked once (keyed by the package version).
ver=$(debian_package_version "$rel")
kdir=$DEBIAN_DIR/kernel-$rel
exec 9>"$DEBIAN_DIR/.vm-lock"
flock 9
if [ ! -f "$kdir/.rust_ipvs-unpacked" ] || [ "$(cat "$kdir/.rust_ipvs-unpacked")" != "$ver" ]; then
	log "downloading Debian's kernel $rel ($ver)"
	rm -rf "$HW/debs-$rel" "$kdir"
	mkdir -p "$HW/debs-$rel" "$kdir"
	# The vmlinuz is in linux-binary-<rel> (older packages: linux-image-<rel>), the modules in
	# linux-modules-<rel>, modules.builtin/modules.order in linux-base-<rel>.
	debian_run REL="$rel" VER="$ver" DEST="$DW/debs-$rel" '
		cd "$DEST"
		chown _apt "$DEST"
		for p in linux-image-$REL linux-binary-$REL linux-modules-$REL linux-base-$REL; do
			if apt-cache show "$p=$VER" >/dev/null 2>&1; then
				apt-get download -qq "$p=$VER"
			fi
		done' || die "downloading the kernel packages of $rel failed"
	for deb in "$HW/debs-$rel"/*.deb; do
		dpkg-deb -x "$deb" "$kdir"
	done
	rm -rf "$HW/debs-$rel"
	# kmod looks in DIR/lib/modules: trixie's packages install into /usr/lib/modules.
	[ -e "$kdir/lib" ] || ln -s usr/lib "$kdir/lib"
	[ -d "$kdir/lib/modules/$rel/kernel" ] || die "no modules in the packages of $rel"
	depmod -b "$kdir" "$rel"
	echo "$ver" >"$kdir/.rust_ipvs-unpacked"
fi
flock -u 9
vmlinuz=""
for f in "$kdir/boot/vmlinuz-$rel" "$kdir/usr/lib/modules/$rel/vmlinuz"; do
	[ -f "$f" ] && vmlinuz=$f && break
done
[ -n "$vmlinuz" ] || die "no vmlinuz in the packages of $rel"

work=$(mktemp -d "${TMPDIR:-/tmp}/rust_ipvs_debian_vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
initramfs_base /usr/sbin/ip /usr/sbin/ipvsadm /usr/bin/socat /usr/bin/setpriv /usr/bin/timeout
# The kernel's request_module() runs /sbin/modprobe.
ln -sf /usr/bin/kmod "$root/sbin/modprobe"
log "building the userspace tools (static, for the guest)"
tools_dir=$(build_guest_tools) || die "building the userspace tools failed"
install -D -m 0755 "$tools_dir/ipvsctl" "$root/usr/bin/ipvsctl"

# Debian's modules that rust_ipvs (modinfo depends) and the test need, with their dependencies;
# the kernel's ip_vs too, the test's reference. modules.dep is made for the guest's modprobe.
wanted=(veth ip_vs ip_vs_rr $(modinfo -F depends "$ko" | tr ',' ' '))
mdir=$kdir/lib/modules/$rel
deps=""
for m in "${wanted[@]}"; do
	deps+=$(modprobe -d "$kdir" -S "$rel" --show-depends "$m")$'\n' ||
		die "module $m is not in Debian's $rel"
done
mapfile -t files < <(echo "$deps" | awk '$1 == "insmod" {print $2}' | sort -u)
for f in "${files[@]}"; do
	f=${f#"$mdir"/}
	install -D -m 0644 "$mdir/$f" "$root/lib/modules/$rel/$f"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$mdir/$f" ] && cp "$mdir/$f" "$root/lib/modules/$rel/"
done
depmod -b "$root" "$rel"
install -m 0644 "$ko" "$root/root/rust_ipvs-$rel.ko"
log "guest modules: $(printf '%s\n' "${files[@]##*/}" | tr '\n' ' ')+ rust_ipvs-$rel.ko"

# The harness and the test (only these: the other selftests are scripts/vm.sh's).
mkdir -p "$root/selftests"
cp "$top/selftests/run_tests.sh" "$top/selftests/lib.sh" "$top/selftests/debian_kernel.sh" \
	"$root/selftests/"

# The test's own timeout leaves time for run_tests.sh to print the kernel log.
test_timeout=$((timeout_s > 240 ? timeout_s - 120 : timeout_s / 2))
cat >"$root/init" <<EOS
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /run
/bin/busybox ln -sf /proc/self/fd /dev/fd
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
cd /selftests
RUST_IPVS_TEST_TIMEOUT=$test_timeout /bin/bash /selftests/run_tests.sh debian_kernel.sh
/bin/busybox sync
/bin/busybox reboot -f
EOS
chmod 0755 "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initrd.cpio"

if [ -z "$log_file" ]; then
	# One log per run (several runs may share the machine), and a link to the latest.
	mkdir -p "$CACHE/logs"
	log_file=$CACHE/logs/debian-vm-$(date +%Y%m%d-%H%M%S)-$$.log
	ln -sfn "$log_file" "$CACHE/debian-vm-last.log"
fi
mkdir -p "$(dirname "$log_file")"
accel_args=(-accel tcg -cpu max)
[ "$accel" = kvm ] && accel_args=(-accel kvm -cpu host)
# One boot of the guest into $log_file; its QEMU exit status in qemu_rc.
boot() {
	log "booting Debian's $rel under $accel (timeout ${timeout_s}s, log $log_file)"
	start=$(date +%s)
	set +e
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 "${accel_args[@]}" \
		-m 2048 -smp 2 -nographic -no-reboot -net none \
		-kernel "$vmlinuz" -initrd "$work/initrd.cpio" \
		-append "console=ttyS0 loglevel=4 panic=-1 oops=panic log_buf_len=16M" \
		</dev/null 2>&1 | sed -u 's/\r//g' | tee "$log_file" | sed -u -n \
		-e '/^\(ok\|not ok\) [0-9]/p' -e '/^# rust_ipvs:/p' \
		-e '/^# \(load\|ctl\|traffic\|reference\|unload\|SKIP\|FAIL\)/p'
	qemu_rc=${PIPESTATUS[0]}
	set -e
	log "guest ran for $(($(date +%s) - start)) s"
}
boot
# Debian's kernel under TCG with two vCPUs now and then traps in its own boot-time text
# patching (an int3 oops in sched_clock_cpu during the initcalls, seen in 2 of 34 boots),
# before init starts the harness and long before the module is loaded: that boot, and only
# that one, is tried once more. An oops once the harness runs fails the test as before.
if ! grep -q '^TAP version' "$log_file" && grep -q 'Oops: int3' "$log_file"; then
	mv "$log_file" "$log_file.boot-oops"
	log "the stock kernel oopsed while booting, before the harness (kept in $log_file.boot-oops): booting again"
	boot
fi

exec "$here/judge.sh" "$log_file" tests "$qemu_rc" debian_kernel.sh
