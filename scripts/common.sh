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
