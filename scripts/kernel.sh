#!/usr/bin/env bash
# Builds (or reuses) a Rust-enabled test kernel and prints its build directory.
#
#   scripts/kernel.sh [debug|perf]          build if needed, print the build directory
#   scripts/kernel.sh --print [debug|perf]  print it only if already built (exit 1 if not)
#
# debug: tinyconfig + selftests/config (KASAN, lockdep, kmemleak): the test kernel.
# perf:  the same without the debug set, built -O2 as distributions build it: the benchmark's
#        kernel, and the one the tests that need no debug checks run on.
# The build lives in the cache, keyed by kernel version, variant, config and rustc version,
# and is reused when none of them changed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"

print_only=0
if [ "${1:-}" = --print ]; then
	print_only=1
	shift
fi
variant=${1:-debug}
if [ "$print_only" = 1 ] && [ ! -f "$KSRC/Makefile" ]; then
	exit 1
fi
[ -f "$KSRC/Makefile" ] || die "no kernel source in $KSRC: run scripts/setup.sh first"
command -v "clang$LLVM_SUFFIX" >/dev/null || die "clang$LLVM_SUFFIX missing: run scripts/setup.sh first"
command -v bindgen >/dev/null || die "bindgen missing: run scripts/setup.sh first"

fragment=$(mktemp)
trap 'rm -f "$fragment"' EXIT
case "$variant" in
debug) cp "$top/selftests/config" "$fragment" ;;
perf)
	# Everything but the debug set: the benchmark compares code, not instrumentation, built
	# as distributions build it (Debian: -O2, where tinyconfig asks for -Os, under which
	# rustc inlines less and copies a 40-byte value with `rep movsq`).
	sed -n '/^# The debug set/q;p' "$top/selftests/config" >"$fragment"
	echo 'CONFIG_SLUB_TINY=n' >>"$fragment"
	echo 'CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y' >>"$fragment"
	;;
*) die "unknown kernel variant '$variant' (use debug or perf)" ;;
esac

kver=$(make -s -C "$KSRC" kernelversion)
key=$( { cat "$fragment"; rustc --version; "clang$LLVM_SUFFIX" --version | head -1; } | sha256sum | cut -c1-12)
out=$CACHE/build-$kver-$variant-$key

if [ -f "$out/.rust_ipvs_built" ]; then
	echo "$out"
	exit 0
fi
[ "$print_only" = 0 ] || exit 1

# A build of the same variant under another key (an older config or compiler) is a good
# start: kbuild rebuilds only what the change touches.
seed=$(ls -dt "$CACHE/build-$kver-$variant-"*/.rust_ipvs_built 2>/dev/null | head -1 || true)
if [ -n "$seed" ] && [ ! -e "$out" ]; then
	log "starting from $(dirname "$seed")"
	cp -a "$(dirname "$seed")" "$out.tmp"
	rm -f "$out.tmp/.rust_ipvs_built"
	mv "$out.tmp" "$out"
fi
mkdir -p "$out"
kmake() { make -s -C "$KSRC" O="$out" LLVM="$LLVM_SUFFIX" "$@"; }
log "configuring $kver ($variant) in $out"
kmake rustavailable >/dev/null || die "Rust is not available for this kernel: run scripts/setup.sh"
kmake tinyconfig >/dev/null
KCONFIG_CONFIG="$out/.config" "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$out" \
	"$out/.config" "$fragment" >/dev/null
kmake olddefconfig >/dev/null

# olddefconfig silently drops what a dependency forbids: insist on every line we asked for.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%%=*}; grep -q "^$opt=" "$out/.config" && { log "wanted $line"; bad=1; } ;;
	CONFIG_*) grep -qx "$line" "$out/.config" || { log "missing from .config: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}; grep -q "^$opt=" "$out/.config" && { log "wanted unset: $opt"; bad=1; } ;;
	esac
done <"$fragment"
[ "$bad" = 0 ] || die "kernel config incomplete (see above)"

log "building $kver ($variant): about 15 minutes on 2 cores"
start=$(date +%s)
kmake -j"$(($(nproc) + 1))" bzImage modules >"$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log" >&2; die "kernel build failed (log: $out/build.log)"; }
log "kernel built in $(($(date +%s) - start)) s"
touch "$out/.rust_ipvs_built"
echo "$out"
