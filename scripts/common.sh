# Shared settings for rust_ipvs scripts (sourced, not run).

# Kernel series the project builds and tests against (Debian's linux-source-<major>).
KVER_MAJOR=${KVER_MAJOR:-7.3}
BINDGEN_VERSION=0.72.1
LLVM_SUFFIX=-19
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
export PATH="$HOME/.cargo/bin:$PATH"

# Cache outside the repository: kernel sources and builds keyed by version and config.
CACHE=${RUST_IPVS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust_ipvs}
KSRC=$CACHE/linux-source-$KVER_MAJOR

log() { printf '[rust_ipvs] %s\n' "$*" >&2; }
die() { printf 'rust_ipvs: error: %s\n' "$*" >&2; exit 1; }

# The mirror URI of the machine's Debian sources, so no host name lives in this repository.
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
		case "$uri" in *debian-security*|"") continue ;; esac
		echo "$uri"
		return
	done
	uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
	echo "$uri"
}

# Builds our userspace tools (ipvsctl, nlfuzz, ipvsbench) for the guests and prints their
# directory. They are static executables at fixed addresses: under TCG a dynamically linked,
# position-independent one spent 110 ms of its 128 ms starting (the dynamic loader's
# relocations), and the selftests start ipvsbench thousands of times. --target keeps the
# flags off build scripts and proc macros, and the build apart from the host's target/release.
# (tools/icount is a QEMU plugin, for the host: not built here.)
build_guest_tools() {
	local triple=x86_64-unknown-linux-gnu top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	(cd "$top" && RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
		cargo build -q --release --workspace --exclude icount --target $triple) >&2 || return 1
	echo "$top/target/$triple/release"
}
