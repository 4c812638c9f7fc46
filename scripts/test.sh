#!/usr/bin/env bash
# Runs every rust_ipvs test: set-up, host unit tests, the test kernels, lint (rustfmt,
# clippy), then the guest selftests in QEMU: all of them on the perf kernel, those marked
# "debug" in selftests/TESTS again on the debug kernel (KASAN, lockdep, kmemleak), and the test
# on Debian's kernel; then the two-guest tests of selftests/PAIR_TESTS on the perf kernel, in
# one paired boot (vm.sh --pair). The perf kernel's selftests go to two one-vCPU guests side by
# side (vm.sh --smp 1 --shards 2: a perf guest keeps about one core busy, with one vCPU or two);
# the debug kernel's guest, which keeps both cores busy with its two vCPUs, runs alone (split
# over two one-vCPU guests its tests each took 2-2.5x as long). Ends with "N passed, N
# failed"; exits non-zero on any failure.
#
#   scripts/test.sh [selftest.sh ...]   with selftests named, only those, on both kernels (pair
#                                       tests: on the perf kernel, paired)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/common.sh
. "$here/common.sh"

passed=0
failed=0

# Named selftests: the two-guest ones (listed in selftests/PAIR_TESTS) apart from the others.
pair_tests=()
single_tests=()
for t in "$@"; do
	if grep -q -E "^$t([[:space:]]|\$)" "$top/selftests/PAIR_TESTS"; then
		pair_tests+=("$t")
	else
		single_tests+=("$t")
	fi
done
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
step() { printf '\n=== %s\n' "$*"; }

step "set-up (scripts/setup.sh)"
"$here/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }

step "host unit tests (cargo test)"
out=$(cd "$top" && cargo test --workspace 2>&1)
rc=$?
echo "$out" | grep -E '^(test |test result:|error|failures:)' | grep -v '^test .* ok$' || true
p=$(echo "$out" | sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\1/p' | paste -sd+ | bc)
f=$(echo "$out" | sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\2/p' | paste -sd+ | bc)
p=${p:-0} f=${f:-0}
[ $rc -ne 0 ] && [ "$f" = 0 ] && { echo "$out" | tail -30; f=1; }
echo "host: $p passed, $f failed"
count "$p" "$f"

step "test kernels (scripts/kernel.sh debug, scripts/kernel.sh perf)"
if ! kdir=$("$here/kernel.sh" debug) || ! perf_kdir=$("$here/kernel.sh" perf); then
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi

step "lint (scripts/lint.sh: rustfmt and clippy)"
if "$here/lint.sh" "$kdir"; then count 1 0; else count 0 1; fi

# Runs a guest command and counts its "guest: N passed, N failed" line (1 failure without one).
guest() {
	local out_file line
	out_file=$(mktemp)
	"$@" | tee "$out_file"
	line=$(grep -E '^guest: [0-9]+ passed, [0-9]+ failed' "$out_file" | tail -1)
	rm -f "$out_file"
	if [ -n "$line" ]; then
		set -- $line
		count "$2" "$4"
	else
		count 0 1
	fi
}

if [ $# -eq 0 ] || [ ${#single_tests[@]} -gt 0 ]; then
	step "guest selftests on the perf kernel (scripts/vm.sh --kernel <perf> --smp 1 --shards 2)"
	guest "$here/vm.sh" --kernel "$perf_kdir" --smp 1 --shards 2 --timeout 2700 "${single_tests[@]}"

	step "guest selftests on the debug kernel: KASAN, lockdep, kmemleak (scripts/vm.sh --debug-set)"
	if [ $# -eq 0 ]; then
		guest "$here/vm.sh" --kernel "$kdir" --timeout 3600 --debug-set
	else
		guest "$here/vm.sh" --kernel "$kdir" --timeout 3600 "${single_tests[@]}"
	fi
fi

if [ $# -eq 0 ]; then
	step "rust_ipvs on Debian's stock kernel, built with Debian's rustc 1.85 (scripts/debian-vm.sh)"
	guest "$here/debian-vm.sh"
fi

if [ $# -eq 0 ] || [ ${#pair_tests[@]} -gt 0 ]; then
	step "two-guest selftests on the perf kernel (scripts/vm.sh --pair --kernel <perf>)"
	guest "$here/vm.sh" --pair --kernel "$perf_kdir" --timeout 900 "${pair_tests[@]}"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
