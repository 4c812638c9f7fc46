#!/usr/bin/env bash
# The benchmark command: C ip_vs vs rust_ipvs in one guest, on the non-debug "perf" kernel.
#
#   scripts/bench.sh [--kvm]
#
# Installs what is missing (scripts/setup.sh), builds the perf kernel the first time (about
# 10 minutes on 2 cores, then cached), boots a guest running selftests/bench.sh and prints its
# "bench:" lines: TCP connect/request/close rate and UDP new-connection packet rate (IPv4 and
# IPv6), established flows (TCP Mbit/s, UDP packets/s), memory per connection, each with
# every sample, the medians and the ratio rust/C; the throughput rows also for kube-proxy's
# nftables mode (the nft column, rust/nft).
#
# Settings, passed to the guest: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNS (100000),
# BENCH_THREADS (2), BENCH_MEM_ROUNDS (1), BENCH_SERVICES (10000), BENCH_CTL_ROUNDS (2),
# BENCH_PREFILL (none; e.g. 100000: the throughput runs again with the table holding that
# many connections), BENCH_LOADS (tcp,udp,tcp6,udp6,stream; e.g. tcp: IPv4 CRR alone;
# stream6: the established flows over IPv6),
# BENCH_IMPLS (c,rust,nft; e.g. c,rust: no nftables column). The guest runner allows the
# benchmark 3000 s: keep BENCH_ROUNDS * (18 * BENCH_SECONDS + 60) + BENCH_MEM_ROUNDS * 120 well
# below that (each prefill adds a throughput run and about 20 s per 100,000 connections).
# Other QEMU guests on the machine skew the figures: run it on an otherwise idle host.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"

vm_args=()
case "${1:-}" in
--kvm) vm_args+=(--kvm) ;;
"") ;;
-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
*) die "unknown argument $1 (see --help)" ;;
esac

rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_SECONDS:-10}
mem_rounds=${BENCH_MEM_ROUNDS:-1}
budget=$((rounds * (18 * secs + 60) + mem_rounds * 120))
[ "$budget" -lt 2800 ] ||
	log "warning: about ${budget}s of guest work; the guest runner stops the benchmark after 3000 s"

"$here/setup.sh"
kdir=$(nice -n 10 "$here/kernel.sh" perf)

others=$(pgrep -c qemu-system || true)
[ "${others:-0}" = 0 ] || log "warning: $others other QEMU guest(s) running: figures are skewed"

# vm.sh ships ipvsbench; the settings are staged in selftests/ (copied into the guest whole)
# and removed afterwards.
staged=()
cleanup() { [ ${#staged[@]} -eq 0 ] || rm -f "${staged[@]}"; }
trap cleanup EXIT
{
	for v in BENCH_ROUNDS BENCH_SECONDS BENCH_CONNS BENCH_THREADS BENCH_MEM_ROUNDS BENCH_PREFILL \
		BENCH_SERVICES BENCH_CTL_ROUNDS BENCH_LOADS BENCH_IMPLS; do
		[ -z "${!v:-}" ] || printf '%s=%q\n' "$v" "${!v}"
	done
} >"$top/selftests/.bench-env"
staged+=("$top/selftests/.bench-env")

mkdir -p "$CACHE/logs"
log_file=$CACHE/logs/bench-$(date +%Y%m%d-%H%M%S)-$$.log
ln -sfn "$log_file" "$CACHE/vm-last.log"
set +e
RUST_IPVS_TEST_TIMEOUT=3000 "$here/vm.sh" --kernel "$kdir" --timeout 3600 --log "$log_file" \
	"${vm_args[@]}" bench.sh
rc=$?
set -e

echo
echo "Benchmark (log $log_file):"
sed -n 's/^# bench: /bench: /p' "$log_file"
[ "$rc" = 0 ] || die "the benchmark did not complete (vm.sh exit $rc; log $log_file)"
grep -q '^# bench: done$' "$log_file" || die "no 'bench: done' in $log_file"
