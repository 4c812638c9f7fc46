#!/usr/bin/env bash
# Style and lint checks, failing on any finding:
# - rustfmt: the module with the kernel's .rustfmt.toml, the userspace workspace with cargo fmt;
# - clippy: the module with the kernel's clippy settings (make CLIPPY=1), the workspace with
#   cargo clippy;
# - the module's text order: the packet path first (hot-path.txt, scripts/hot-text.sh).
#
#   scripts/lint.sh [KDIR]      (default: the cached test kernel)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"

kdir=${1:-$("$here/kernel.sh" --print)}
ksrc=$(readlink -f "$kdir/source" 2>/dev/null || echo "$kdir")
status=0
cd "$top"

# Kernel-side Rust: everything outside the userspace workspace.
mapfile -t module_sources < <(git ls-files '*.rs' | grep -v -e '^tools/' -e '^tests/')
if ! rustfmt --edition 2021 --config-path "$ksrc/.rustfmt.toml" --check "${module_sources[@]}"; then
	echo "lint: the module is not rustfmt-clean (run rustfmt --config-path $ksrc/.rustfmt.toml)"
	status=1
fi
if ! cargo fmt --all --check; then
	echo "lint: the workspace is not rustfmt-clean (run cargo fmt --all)"
	status=1
fi

# Clippy rebuilds the crate root; the kernel build marks its findings "warning:" or "error".
touch rust_ipvs.rs
if ! out=$(make -s KDIR="$kdir" CLIPPY=1 2>&1); then
	echo "$out"
	echo "lint: the module does not build"
	status=1
elif echo "$out" | grep -qE '^(warning|error)'; then
	echo "$out"
	echo "lint: clippy findings in the module"
	status=1
fi
# The text's order (hot-path.txt): the hook entries (the request and reply bodies are inlined
# into them) lie in the first 8 pages of the module's text, not wherever the compiler
# emitted them.
if [ -f rust_ipvs.ko ]; then
	far=$(nm -t d --defined-only rust_ipvs.ko | awk '
		$3 ~ /^rust_ipvs_(in|out|request|reply)_hook$/ {
			n++; if ($1 + 0 >= 8 * 4096) print $3 }
		END { if (n != 4) print "(" n + 0 " of the 4 functions found)" }')
	if [ -n "$far" ]; then
		echo "lint: the packet path is not at the start of the module's text (hot-path.txt): $far"
		status=1
	fi
fi
if ! cargo clippy -q --workspace --all-targets -- -D warnings; then
	echo "lint: clippy findings in the workspace"
	status=1
fi

[ $status -eq 0 ] && echo "lint: clean"
exit $status
