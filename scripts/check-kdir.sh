#!/usr/bin/env bash
# Checks that KDIR is a prepared, Rust-enabled kernel build tree; one line naming the fix if not.
set -u
kdir=$1
fail() { printf 'rust_ipvs: error: %s\n' "$*" >&2; exit 1; }

[ -n "$kdir" ] || fail "no kernel tree: run scripts/kernel.sh to build the test kernel, or pass KDIR=<prepared kernel build tree>"
[ -d "$kdir" ] || fail "KDIR=$kdir does not exist: pass KDIR=<prepared kernel build tree>"
[ -f "$kdir/Makefile" ] && [ -f "$kdir/.config" ] ||
	fail "KDIR=$kdir is not a configured kernel build tree (no Makefile/.config): run 'make modules_prepare' there, or scripts/kernel.sh"
grep -q '^CONFIG_RUST=y' "$kdir/.config" ||
	fail "the kernel in KDIR=$kdir is built without Rust (CONFIG_RUST is not set): use a Rust-enabled kernel, e.g. scripts/kernel.sh"
grep -q '^CONFIG_NETFILTER=y' "$kdir/.config" ||
	fail "the kernel in KDIR=$kdir lacks CONFIG_NETFILTER=y, which rust_ipvs needs"
[ -f "$kdir/rust/libkernel.rmeta" ] ||
	fail "KDIR=$kdir has no Rust metadata (rust/libkernel.rmeta): build it with 'make -C $kdir rust/' (see README: other kernels)"
if grep -q '^CONFIG_CC_IS_CLANG=y' "$kdir/.config"; then
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$kdir/.config" | awk '{print $NF}')
	command -v clang-19 >/dev/null || fail "clang-19 not found (the kernel in KDIR was built with clang $cc): run scripts/setup.sh"
fi
command -v rustc >/dev/null || fail "rustc not found: install the Rust toolchain (scripts/setup.sh)"
exit 0
