#!/usr/bin/env bash
# Installs everything rust_ipvs needs on a fresh Debian 12 machine, idempotently.
#
# - build packages (clang/lld/llvm 19, flex, bison, ...), QEMU, and the guest's userland
#   (busybox-static, iproute2, ipvsadm, socat, nftables, kmod, keepalived: its check daemon,
#   run in guests only: Debian's unit starts only with an /etc/keepalived/keepalived.conf,
#   which setup does not write), and Debian's Go, which builds tools/mobyipvs;
# - the Debian kernel source package linux-source-<KVER_MAJOR> from trixie-backports, added
#   by reusing the mirror already configured in the machine's apt sources;
# - rustup's rust-src, clippy and rustfmt components and bindgen-cli 0.72.1.
#
# A second run checks and returns in seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/common.sh
. "$here/common.sh"

need_root() {
	[ "$(id -u)" = 0 ] || die "setup must run as root (it installs Debian packages)"
}

host_packages=(
	clang-19 lld-19 llvm-19 libclang-19-dev
	flex bison bc libelf-dev libssl-dev cpio xz-utils make gcc python3 rsync kmod
	qemu-system-x86 busybox-static iproute2 ipvsadm socat nftables conntrack
	netcat-openbsd debootstrap jq keepalived golang-go linux-perf tcpdump ethtool
)

missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$p"
	done
}

add_backports_source() {
	local list=/etc/apt/sources.list.d/rust-ipvs-trixie-backports.sources
	[ -f "$list" ] && return 0
	local mirror
	mirror=$(debian_mirror)
	log "adding trixie-backports (mirror $mirror) for linux-source-$KVER_MAJOR"
	cat >"$list" <<EOS
Types: deb
URIs: $mirror
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	# Never let the newer suite replace a bookworm package: it is only for downloads.
	cat >/etc/apt/preferences.d/rust-ipvs-trixie-backports <<EOS
Package: *
Pin: release n=trixie-backports
Pin-Priority: 1
EOS
	apt_updated=0
}

apt_updated=1
install_packages() {
	local missing
	mapfile -t missing < <(missing_packages "${host_packages[@]}")
	if [ "$apt_updated" = 0 ] || [ ${#missing[@]} -gt 0 ]; then
		log "apt-get update"
		apt-get update -qq
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing: ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
	fi
}

# The kernel source tree, unpacked once into the cache.
fetch_kernel_source() {
	[ -f "$KSRC/Makefile" ] && return 0
	local tmp deb
	tmp=$(mktemp -d)
	log "downloading linux-source-$KVER_MAJOR"
	(cd "$tmp" && apt-get download -qq "linux-source-$KVER_MAJOR") ||
		{ apt-get update -qq && (cd "$tmp" && apt-get download -qq "linux-source-$KVER_MAJOR"); }
	deb=$(ls "$tmp"/linux-source-*.deb)
	dpkg-deb -x "$deb" "$tmp/x"
	mkdir -p "$CACHE"
	rm -rf "$KSRC.tmp"
	mkdir -p "$KSRC.tmp"
	tar -C "$KSRC.tmp" --strip-components=1 -xf "$tmp"/x/usr/src/linux-source-"$KVER_MAJOR".tar.xz
	mv "$KSRC.tmp" "$KSRC"
	rm -rf "$tmp"
	log "kernel source $(make -s -C "$KSRC" kernelversion) in $KSRC"
}

install_rust_parts() {
	local component installed
	installed=$(rustup component list --installed 2>/dev/null)
	# rust-src for the kernel build; clippy and rustfmt for scripts/lint.sh.
	for component in rust-src clippy rustfmt; do
		if ! echo "$installed" | grep -q "^$component"; then
			log "rustup component add $component"
			rustup component add "$component"
		fi
	done
	if ! bindgen --version 2>/dev/null | grep -q "^bindgen $BINDGEN_VERSION\$"; then
		log "cargo install bindgen-cli $BINDGEN_VERSION"
		cargo install -q bindgen-cli --version "$BINDGEN_VERSION" --locked
	fi
}

need_root
command -v rustup >/dev/null || die "rustup not found: install the Rust toolchain (https://rustup.rs) first"
add_backports_source
install_packages
install_rust_parts
fetch_kernel_source
log "setup complete"
