#!/usr/bin/env bash
# Style and lint checks, failing on any finding:
# - rustfmt: the module with the kernel's .rustfmt.toml, the userspace workspace with cargo fmt;
# - clippy: the module with the kernel's clippy settings (make CLIPPY=1), the workspace with
#   cargo clippy.
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
out=$(make -s KDIR="$kdir" CLIPPY=1 2>&1) || status=1
if echo "$out" | grep -qE '^(warning|error)'; then
	echo "$out"
	echo "lint: clippy findings in the module"
	status=1
fi
if ! cargo clippy -q --workspace --all-targets -- -D warnings; then
	echo "lint: clippy findings in the workspace"
	status=1
fi

[ $status -eq 0 ] && echo "lint: clean"
exit $status
