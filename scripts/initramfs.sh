# shellcheck shell=bash
# The parts of a test guest's initramfs that scripts/vm.sh and scripts/debian-vm.sh share
# (sourced): a root skeleton with busybox, kmod and bash, and host binaries copied with the
# shared libraries they load. The callers set $root, the initramfs root directory.

# Copies host binary $1 into $root (at $2, default the same path) with its libraries.
copy_binary() {
	local bin=$1 dest=${2:-$1} lib
	install -D -m 0755 "$(readlink -f "$bin")" "$root$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# Creates the root: directories, users, name resolution, kmod with its tool links, bash,
# busybox for the rest, and the host binaries given as arguments.
initramfs_base() {
	local b t applet
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,root,var/run}
	chmod 0755 "$root"
	chmod 1777 "$root/tmp"
	for b in /usr/bin/bash "$@"; do
		copy_binary "$b"
	done
	copy_binary /usr/bin/kmod
	for t in insmod rmmod modprobe lsmod modinfo depmod; do
		ln -sf /usr/bin/kmod "$root/usr/sbin/$t"
	done
	ln -sf /usr/bin/bash "$root/bin/bash"
	install -m 0755 /usr/bin/busybox "$root/bin/busybox"
	for applet in $(/usr/bin/busybox --list); do
		[ -e "$root/bin/$applet" ] || [ -e "$root/usr/bin/$applet" ] ||
			[ -e "$root/usr/sbin/$applet" ] || [ -e "$root/sbin/$applet" ] ||
			ln -s busybox "$root/bin/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
	printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
}
