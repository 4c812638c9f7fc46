#!/usr/bin/env bash
# Judges a guest run from its serial log (host side of the harness).
#
#   scripts/judge.sh LOG MODE QEMU_RC [TEST ...]
#
# Fails on a timeout, a crash (no final line), a missing or failing test result, and any kernel
# splat: Oops, WARNING, BUG (KASAN included), lockdep and RCU reports, kmemleak reports.
# Prints "guest: N passed, N failed" last.
set -uo pipefail
log=$1 mode=$2 qemu_rc=$3
shift 3
problems=0
passed=0
failed=0

problem() {
	printf 'FAIL: %s\n' "$*"
	problems=$((problems + 1))
}

[ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ] && problem "timeout: the guest did not finish in time (log: $log)"

# Kernel splats, with enough context to debug without rerunning.
splat_re='(Oops|WARNING:|BUG:|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|Kernel panic|general protection fault|kmemleak: [0-9]+ new suspected|unreferenced object|Call Trace)'
mapfile -t splats < <(grep -n -E "^(\[ *[0-9]+\.[0-9]+\] )?.*$splat_re" "$log" |
	grep -v -E 'RCU lockdep checking is enabled|KernelAddressSanitizer initialized|kmemleak: Kernel memory leak detector|# (expect|check)' | head -5)
if [ ${#splats[@]} -gt 0 ]; then
	first=${splats[0]%%:*}
	problem "kernel report in the guest log (line $first):"
	sed -n "$((first > 5 ? first - 5 : 1)),$((first + 40))p" "$log" | sed 's/^/    /'
fi

if [ "$mode" = demo ]; then
	grep -q '^RUST_IPVS_DEMO_EXIT=0$' "$log" || problem "the demo did not complete (log: $log)"
	[ $problems -eq 0 ] && passed=1 || failed=1
else
	grep -q '^# rust_ipvs: pass=' "$log" ||
		problem "the guest runner did not finish (crash, panic or timeout; log: $log)"
	for t in "$@"; do
		line=$(grep -E "^(ok|not ok) [0-9]+ $t( |$)" "$log" | tail -1)
		if [ -z "$line" ]; then
			problem "no result line for $t"
			failed=$((failed + 1))
		elif [[ "$line" == "not ok"* ]]; then
			problem "$line"
			# The test's own output, between its start marker and its result line.
			sed -n "/^# ---- $t\$/,/^not ok [0-9]* $t/p" "$log" | tail -80 | sed 's/^/    /'
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
	done
fi

if [ $problems -gt 0 ] && [ $failed -eq 0 ]; then
	failed=1
	passed=$((passed > 0 ? passed - 1 : 0))
fi
echo "guest: $passed passed, $failed failed"
[ $problems -eq 0 ]
