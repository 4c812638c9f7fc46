#!/usr/bin/env bash
# Builds rust_ipvs for Debian's stock Rust-enabled kernel (trixie-backports, linux-*-<rel>) and
# prints the path of the module: $CACHE/debian/rust_ipvs-<rel>.ko.
#
#   scripts/debian-kernel.sh [--chroot|--host] [--update] [--src DIR]
#
# --chroot  (the default on any machine but the one below) builds in a Debian 13 "trixie" root
#           made with debootstrap under $CACHE/debian/root, with Debian's own toolchain (gcc-14,
#           rustc 1.85, bindgen, pahole) exactly as Debian built the kernel: needs root and
#           debootstrap (scripts/setup.sh installs it); the mirror is read from this machine's
#           apt sources.
# --host    (the default on Debian 13 running that kernel: /etc/debian_version 13.x and
#           `uname -r` a $KVER_MAJOR.*-amd64 release) uses the machine's own packages instead:
#           installs the build packages and linux-headers-$(uname -r) + linux-source-$KVER_MAJOR
#           (trixie-backports must be in the apt sources, as it is where that kernel comes from)
#           and builds for the running kernel under $CACHE/debian/host. Then load it with
#             ko=$(scripts/debian-kernel.sh)
#             sudo modprobe -a $(modinfo -F depends "$ko" | tr , ' ')   # its dependencies, if any
#             sudo insmod "$ko"                 # taints the kernel: out-of-tree, unsigned
#           (as root the first run installs the packages; later runs need no root).
# --update  runs apt-get update first (to pick up a newer kernel release).
# --src DIR takes the module's sources from DIR (e.g. a `git archive` of a commit) instead of
#           this repository's work tree.
#
# DEBIAN_KREL=<rel> (e.g. 7.3.4+deb13-amd64) builds for that release instead of the newest
# linux-headers-$KVER_MAJOR.*-amd64 in trixie-backports.
#
# The heavy steps (debootstrap, packages, the prepared kernel tree with its Rust metadata:
# a few minutes, 4-5 GB) are done once per kernel release and package version, marked by stamp
# files; a later run only rebuilds what changed in the module (seconds). The module is built
# with gcc and KERNELRELEASE=<rel> (Debian's kernel is gcc-built), which also proves it
# compiles with rustc 1.85.
#
# Sourced with RUST_IPVS_DEBIAN_LIB=1 it only defines its functions (scripts/debian-vm.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"

DEBIAN_SUITE=trixie
DEBIAN_DIR=$CACHE/debian
DEBIAN_ROOT=$DEBIAN_DIR/root
# The gcc Debian's kernel is built with (its .config: CONFIG_CC_VERSION_TEXT).
DEBIAN_CC=x86_64-linux-gnu-gcc-14
debian_build_packages=(
	gcc make rustc rust-src bindgen libclang-dev dwarves flex bison bc libelf-dev libssl-dev
	kmod cpio xz-utils python3 rsync
	# Kconfig runs `openssl list` (OPENSSL_SUPPORTS_ML_DSA): without it the config differs.
	openssl
)

# Mode: chroot (a debootstrapped trixie root) or host (this machine is the Debian 13 target).
debian_mode=""
# Work directory as seen by the build commands (DW) and by this script (HW).
DW="" HW=""

debian_is_target_host() {
	grep -q '^13\.' /etc/debian_version 2>/dev/null &&
		[[ "$(uname -r)" =~ ^${KVER_MAJOR//./\\.}\.[0-9]+.*-amd64$ ]] &&
		{ [ -z "${DEBIAN_KREL:-}" ] || [ "$DEBIAN_KREL" = "$(uname -r)" ]; }
}

debian_set_mode() {
	debian_mode=$1
	if [ "$debian_mode" = chroot ]; then
		DW=/rust_ipvs
		HW=$DEBIAN_ROOT$DW
	else
		DW=$DEBIAN_DIR/host
		HW=$DW
	fi
}

# Runs a bash script in the build environment with a clean environment plus the NAME=value
# arguments before it: `debian_run [NAME=value ...] SCRIPT`. In chroot mode /proc and /dev are
# mounted in a private mount namespace, so nothing stays mounted when it ends.
debian_run() {
	local vars=()
	while [ $# -gt 1 ]; do
		vars+=("$1")
		shift
	done
	local envs=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8
		DEBIAN_FRONTEND=noninteractive "${vars[@]}")
	if [ "$debian_mode" = chroot ]; then
		unshare --mount --propagation private -- /bin/bash -c '
			set -e
			root=$1; shift
			mount -t proc proc "$root/proc"
			mount --rbind /dev "$root/dev"
			exec chroot "$root" "$@"' _ "$DEBIAN_ROOT" /usr/bin/env -i "${envs[@]}" /bin/bash -ec "$1"
	else
		env -i "${envs[@]}" /bin/bash -ec "$1"
	fi
}

debian_mounts_under() {
	awk -v r="$1" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts
}

# Step 1 (chroot mode): a minimal trixie root.
debian_bootstrap() {
	[ -f "$DEBIAN_ROOT/.rust_ipvs-debootstrap" ] && return 0
	command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/setup.sh"
	[ "$(id -u)" = 0 ] || die "building in a chroot needs root (debootstrap, chroot)"
	[ -z "$(debian_mounts_under "$DEBIAN_ROOT")" ] ||
		die "something is mounted under $DEBIAN_ROOT: unmount it first"
	local mirror start
	mirror=$(debian_mirror)
	log "debootstrap --variant=minbase $DEBIAN_SUITE into $DEBIAN_ROOT (mirror $mirror): about a minute"
	start=$(date +%s)
	rm -rf "$DEBIAN_ROOT"
	mkdir -p "$DEBIAN_DIR"
	# In its own mount namespace: a failed run leaves no /proc or /sys mounted in the root.
	unshare --mount --propagation private -- nice debootstrap --variant=minbase \
		"$DEBIAN_SUITE" "$DEBIAN_ROOT" "$mirror" >"$DEBIAN_DIR/debootstrap.log" 2>&1 ||
		{ tail -20 "$DEBIAN_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $DEBIAN_DIR/debootstrap.log)"; }
	echo "$mirror" >"$DEBIAN_ROOT/.rust_ipvs-debootstrap"
	log "debootstrap done in $(($(date +%s) - start)) s"
}

# Step 2: apt sources (chroot: trixie + trixie-backports) and the build packages.
debian_base_packages() {
	local key stamp
	key=$(printf '%s\n' "${debian_build_packages[@]}" | sha256sum | cut -c1-12)
	stamp=$HW/.stamp-packages-$key
	[ -f "$stamp" ] && return 0
	mkdir -p "$HW"
	if [ "$debian_mode" = chroot ]; then
		local mirror
		mirror=$(cat "$DEBIAN_ROOT/.rust_ipvs-debootstrap")
		cp /etc/resolv.conf "$DEBIAN_ROOT/etc/resolv.conf"
		rm -f "$DEBIAN_ROOT/etc/apt/sources.list"
		# No daemons start in the chroot.
		printf '#!/bin/sh\nexit 101\n' >"$DEBIAN_ROOT/usr/sbin/policy-rc.d"
		chmod 0755 "$DEBIAN_ROOT/usr/sbin/policy-rc.d"
		cat >"$DEBIAN_ROOT/etc/apt/sources.list.d/debian.sources" <<EOS
Types: deb
URIs: $mirror
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
		log "installing the build packages in the chroot: about 90 s"
		debian_run PKGS="${debian_build_packages[*]}" '
			apt-get update -qq
			apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
			apt-get clean' ||
			die "apt-get install in the chroot failed"
	else
		local missing=() p
		for p in "${debian_build_packages[@]}"; do
			dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
				missing+=("$p")
		done
		if [ ${#missing[@]} -gt 0 ]; then
			[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root to install them)"
			log "installing: ${missing[*]}"
			apt-get update -qq
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				"${missing[@]}" >/dev/null
		fi
	fi
	touch "$stamp"
}

# The newest Debian kernel release of the series: the newest linux-headers-X.Y.Z+debN-amd64.
debian_newest_release() {
	debian_run MAJOR="$KVER_MAJOR" '
		apt-cache pkgnames linux-headers-$MAJOR. |
			grep -E "^linux-headers-${MAJOR//./\\.}\.[0-9]+\+deb[0-9]+-amd64\$" |
			sed "s/^linux-headers-//" | sort -V | tail -1'
}

# The release to build for: DEBIAN_KREL, the running kernel (host mode), or the newest.
debian_release() {
	local rel=${DEBIAN_KREL:-}
	if [ -z "$rel" ] && [ "$debian_mode" = host ]; then
		rel=$(uname -r)
	fi
	if [ -z "$rel" ]; then
		rel=$(debian_newest_release)
		if [ -z "$rel" ] || [ ! -f "$HW/.stamp-kernel-packages-$rel" ]; then
			# Not built yet: make sure it is the newest on the mirror now.
			debian_run 'apt-get update -qq' >&2 || die "apt-get update failed"
			rel=$(debian_newest_release)
		fi
	fi
	[ -n "$rel" ] || die "no linux-headers-$KVER_MAJOR.*-amd64 package found (is $DEBIAN_SUITE-backports in the apt sources?)"
	echo "$rel"
}

# Step 3: linux-headers-<rel> (.config, Module.symvers) and linux-source-X.Y of the same version.
debian_kernel_packages() {
	local rel=$1 stamp=$HW/.stamp-kernel-packages-$1
	[ -f "$stamp" ] && return 0
	if [ "$debian_mode" = host ] && dpkg-query -W -f='${Status}\n' "linux-headers-$rel" \
		"linux-source-$KVER_MAJOR" 2>/dev/null | grep -c '^install ok installed$' | grep -qx 2; then
		:
	else
		log "installing linux-headers-$rel and linux-source-$KVER_MAJOR from $DEBIAN_SUITE-backports"
		[ "$(id -u)" = 0 ] || die "installing linux-headers-$rel needs root"
		debian_run MODE="$debian_mode" REL="$rel" MAJOR="$KVER_MAJOR" SUITE="$DEBIAN_SUITE" '
			apt-get update -qq
			v=$(apt-cache show --no-all-versions "linux-headers-$REL" | sed -n "s/^Version: //p" | head -1)
			[ -n "$v" ] || { echo "no package linux-headers-$REL" >&2; exit 1; }
			apt-get install -y -qq --no-install-recommends -t "$SUITE-backports" \
				"linux-headers-$REL=$v" "linux-source-$MAJOR=$v" >/dev/null
			[ "$MODE" != chroot ] || apt-get clean' ||
			die "installing linux-headers-$rel linux-source-$KVER_MAJOR failed"
	fi
	touch "$stamp"
}

# The Debian package version of the installed headers (keys the prepared tree).
debian_package_version() {
	debian_run REL="$1" 'dpkg-query -W -f="\${Version}" "linux-headers-$REL"'
}

# Step 4: the kernel source, configured exactly as Debian's, prepared for external modules and
# with the Rust metadata (rust/*.rmeta, libmacros.so) the headers package lacks.
debian_prepare_tree() {
	local rel=$1 ver build stamp start
	ver=$(debian_package_version "$rel")
	build=build-$rel
	stamp=$HW/$build/.rust_ipvs-prepared
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$ver" ]; then
		return 0
	fi
	log "preparing the kernel tree for $rel (package $ver) in $HW/$build: about 5 minutes"
	start=$(date +%s)
	debian_run REL="$rel" VER="$ver" MAJOR="$KVER_MAJOR" W="$DW" BUILD="$DW/$build" \
		CC="$DEBIAN_CC" JOBS="$(($(nproc) + 1))" '
		hdr=/usr/src/linux-headers-$REL
		src=$W/linux-source-$VER
		if [ ! -f "$src/Makefile" ]; then
			rm -rf "$src" "$src.tmp"
			mkdir -p "$src.tmp"
			tar -C "$src.tmp" --strip-components=1 -xf /usr/src/linux-source-$MAJOR.tar.xz
			mv "$src.tmp" "$src"
		fi
		rm -rf "$BUILD"
		mkdir -p "$BUILD"
		cp "$hdr/.config" "$BUILD/.config"
		kmake() { nice make -s -C "$src" O="$BUILD" KERNELRELEASE="$REL" CC="$CC" "$@"; }
		kmake olddefconfig >/dev/null
		# The configuration must stay Debian'\''s: any option the toolchain drops changes the ABI.
		if ! diff <(grep -v "^CONFIG_CC_VERSION_TEXT=" "$hdr/.config") \
			<(grep -v "^CONFIG_CC_VERSION_TEXT=" "$BUILD/.config") >&2; then
			echo "olddefconfig changed Debian'\''s configuration (diff above)" >&2
			exit 1
		fi
		grep -q "^CONFIG_RUST=y" "$BUILD/.config" || { echo "Debian'\''s $REL has no CONFIG_RUST" >&2; exit 1; }
		kmake -j"$JOBS" modules_prepare rust/ >"$BUILD/prepare.log" 2>&1 ||
			{ tail -40 "$BUILD/prepare.log" >&2; exit 1; }
		cp "$hdr/Module.symvers" "$BUILD/Module.symvers"' ||
		die "preparing the kernel tree for $rel failed"
	echo "$ver" >"$stamp"
	log "kernel tree prepared in $(($(date +%s) - start)) s"
}

# Copies the module's sources (Kbuild, every top-level *.rs/*.c/*.h, and every top-level
# directory holding such files but the non-module ones) from SRC to DEST, keeping build
# products in DEST.
debian_copy_module_sources() {
	local src=$1 dest=$2 d args=()
	[ -f "$src/Kbuild" ] || die "no Kbuild in $src"
	mkdir -p "$dest"
	for d in "$src"/*/; do
		d=$(basename "$d")
		case "$d" in target|tools|tests|selftests|scripts) continue ;; esac
		[ -n "$(find "$src/$d" \( -name '*.rs' -o -name '*.c' \) -print -quit)" ] || continue
		args+=(--include="/$d/")
	done
	# By content, not time: a changed file gets a new mtime and is rebuilt, an unchanged one is
	# not (sources from an older commit must still replace newer ones).
	# Kbuild also reads hot-path.txt and runs scripts/hot-text.sh (the text's order).
	rsync -r --checksum --delete --prune-empty-dirs "${args[@]}" --include='/scripts/' \
		--include='/scripts/hot-text.sh' --exclude='/scripts/*' --exclude='/*/' \
		--exclude='/Makefile' --exclude='*.mod.c' --include='*/' --include='*.rs' \
		--include='*.c' --include='*.h' --include='*.S' --include='Kbuild' --include='Makefile' \
		--include='/hot-path.txt' --exclude='*' \
		"$src/" "$dest/"
}

# Step 5: the module (sources from DIR), built in the environment against the prepared tree.
debian_build_module() {
	local rel=$1 src=$2 out=$DEBIAN_DIR/rust_ipvs-$1.ko vermagic
	log "building rust_ipvs for $rel with $(debian_run 'rustc --version') (gcc)"
	debian_copy_module_sources "$src" "$HW/module-$rel"
	debian_run REL="$rel" M="$DW/module-$rel" BUILD="$DW/build-$rel" CC="$DEBIAN_CC" \
		JOBS="$(($(nproc) + 1))" '
		nice make -s -C "$BUILD" M="$M" KERNELRELEASE="$REL" LLVM= CC="$CC" -j"$JOBS" modules
		modinfo -F vermagic "$M/rust_ipvs.ko"' >"$DEBIAN_DIR/module-build.log" 2>&1 ||
		{ cat "$DEBIAN_DIR/module-build.log" >&2; die "building rust_ipvs for $rel failed"; }
	vermagic=$(tail -1 "$DEBIAN_DIR/module-build.log")
	case "$vermagic" in "$rel "*) ;; *) die "unexpected vermagic '$vermagic' (want $rel ...)" ;; esac
	install -m 0644 "$HW/module-$rel/rust_ipvs.ko" "$out"
	log "vermagic: $vermagic"
	echo "$out"
}

# Everything up to a prepared tree; prints the release.
debian_prepare() {
	if [ "$debian_mode" = chroot ]; then
		debian_bootstrap
	fi
	debian_base_packages
	local rel
	rel=$(debian_release)
	debian_kernel_packages "$rel"
	debian_prepare_tree "$rel"
	echo "$rel"
}

[ "${RUST_IPVS_DEBIAN_LIB:-}" = 1 ] && return 0

mode="" update=0 src=$top
while [ $# -gt 0 ]; do
	case "$1" in
	--chroot) mode=chroot; shift ;;
	--host) mode=host; shift ;;
	--update) update=1; shift ;;
	--src) src=$(cd "$2" && pwd) || die "no directory $2"; shift 2 ;;
	-h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
if [ -z "$mode" ]; then
	if debian_is_target_host; then mode=host; else mode=chroot; fi
fi
debian_set_mode "$mode"
# One run at a time on this cache (the chroot, the trees and the module copy are shared).
mkdir -p "$DEBIAN_DIR"
exec 9>"$DEBIAN_DIR/.lock"
flock 9
log "building for Debian's kernel in $mode mode (work directory $HW)"
if [ "$update" = 1 ] && { [ "$mode" = host ] || [ -f "$DEBIAN_ROOT/.rust_ipvs-debootstrap" ]; }; then
	debian_run 'apt-get update -qq' || die "apt-get update failed"
fi
rel=$(debian_prepare)
debian_build_module "$rel" "$src"
