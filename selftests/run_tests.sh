#!/bin/bash
# Guest side of the harness: runs kselftest-style tests and prints TAP.
#
#   run_tests.sh test.sh ...
#
# Each test runs with a timeout; its output is shown as TAP comments after a "# ---- NAME"
# marker. Kernel log lines that appear while it runs are checked for splats (Oops, WARNING,
# BUG, KASAN, lockdep, RCU): a splat fails the test that caused it. Exit codes: 0 pass, 4 skip,
# anything else fail. On the debug kernel a kmemleak check follows the tests (a report fails the
# run). Last line: "# rust_ipvs: pass=N fail=N skip=N".
cd "$(dirname "$0")" || exit 1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
per_test_timeout=${RUST_IPVS_TEST_TIMEOUT:-${rust_ipvs_test_timeout:-900}}
splat_re='(Oops|WARNING:|BUG:|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|general protection fault|kmemleak: [0-9]+ new suspected)'

dmesg -n 1
# Objects allocated during boot are not ours: only leaks from here on count.
[ -w /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak

echo "TAP version 13"
echo "1..$#"
n=0 pass=0 fail=0 skip=0
for t in "$@"; do
	n=$((n + 1))
	before=$(dmesg | wc -l)
	echo "# ---- $t"
	start=$(date +%s)
	# timeout runs the test in a process group of its own; processes the test left behind
	# (a listener of a test that failed halfway) would hold the pipe to sed open: they are
	# ended with the group.
	{
		timeout -k 5 "$per_test_timeout" /bin/bash "./$t" 2>&1 &
		tpid=$!
		wait $tpid
		echo $? >/tmp/rc.$$
		kill -- -$tpid 2>/dev/null
	} | sed 's/^/# /'
	rc=$(cat /tmp/rc.$$)
	secs=$(($(date +%s) - start))
	splat=$(dmesg | tail -n +"$((before + 1))" | grep -E "$splat_re")
	if [ -n "$splat" ]; then
		echo "# kernel report while $t ran:"
		dmesg | tail -n +"$((before + 1))" | sed 's/^/#   /' | head -80
		rc=1
	fi
	case $rc in
	0) echo "ok $n $t # ${secs}s"; pass=$((pass + 1)) ;;
	4) echo "ok $n $t # SKIP"; skip=$((skip + 1)) ;;
	124) echo "not ok $n $t # TIMEOUT after ${per_test_timeout}s"; fail=$((fail + 1)) ;;
	*) echo "not ok $n $t # exit=$rc"; fail=$((fail + 1)) ;;
	esac
done

# Leaks: kmemleak (debug kernel) checked once for the whole run, as each check scans all of
# memory (about half a minute under TCG). It reports only objects older than 5 s whose
# contents did not change since the scan before: scan, wait, scan again. A report fails the
# run (the host's judge.sh finds "unreferenced object" in the log); its allocation backtraces
# name the code.
leaks=/sys/kernel/debug/kmemleak
if [ -w $leaks ]; then
	echo scan >$leaks
	sleep 6
	echo scan >$leaks
	report=$(cat $leaks)
	if [ -n "$report" ]; then
		echo "# kmemleak report after the tests:"
		echo "$report" | head -120 | sed 's/^/#   /'
		fail=$((fail + 1))
	else
		echo "# kmemleak: clean after the tests"
	fi
fi

echo "# full kernel log:"
dmesg | sed 's/^/#   /'
echo "# rust_ipvs: pass=$pass fail=$fail skip=$skip"
