// SPDX-License-Identifier: GPL-2.0

//! Weighted least-connection (`sched/wlc.rs`) against `ip_vs_wlc.c`.

use crate::{
    sched::dest_view::Algorithm as _,
    sched::wlc::{
        conn_overhead, //
        WeightedLeastConnection,
    },
    support::{
        client_v4, //
        dests,
        differential,
        loaded,
        CWlc,
        TestDest,
    },
};

/// The index wlc picks from `list`.
fn pick(list: &[TestDest]) -> Option<usize> {
    WeightedLeastConnection::new(list).schedule(list, &client_v4(1))
}

#[test]
fn overhead_is_active_times_256_plus_total() {
    assert_eq!(conn_overhead(&loaded(0, 1, 0, 0)), 0);
    assert_eq!(conn_overhead(&loaded(0, 1, 0, 5)), 5);
    // One active connection: 256 + a total of 1.
    assert_eq!(conn_overhead(&loaded(0, 1, 1, 0)), 257);
    assert_eq!(conn_overhead(&loaded(0, 1, 3, 10)), 3 * 256 + 13);
}

#[test]
fn overhead_wraps_like_c_int() {
    // 0x800000 << 8 is 0x80000000, negative in an int.
    assert_eq!(
        conn_overhead(&loaded(0, 1, 0x80_0000, 0)),
        i32::MIN + 0x80_0000
    );
    // 0x1000000 << 8 shifts every bit out.
    assert_eq!(conn_overhead(&loaded(0, 1, 0x100_0000, 0)), 0x100_0000);
}

#[test]
fn idle_dests_go_to_the_first() {
    assert_eq!(pick(&dests(&[1, 1, 1])), Some(0));
    assert_eq!(pick(&dests(&[1, 5, 1])), Some(0));
}

#[test]
fn least_connections_win() {
    let list = [loaded(0, 1, 2, 0), loaded(1, 1, 1, 0), loaded(2, 1, 3, 0)];
    assert_eq!(pick(&list), Some(1));
}

#[test]
fn an_active_connection_weighs_257_inactive_ones() {
    // A: one active (overhead 257). B: 256 inactive (256) is lighter...
    let list = [loaded(0, 1, 1, 0), loaded(1, 1, 0, 256)];
    assert_eq!(pick(&list), Some(1));
    // ...and 257 inactive is a tie, which the first keeps.
    let list = [loaded(0, 1, 1, 0), loaded(1, 1, 0, 257)];
    assert_eq!(pick(&list), Some(0));
}

#[test]
fn weights_scale_the_overhead() {
    // 300 / 1 against 500 / 2: 300 * 2 > 500 * 1, so B.
    let list = [loaded(0, 1, 0, 300), loaded(1, 2, 0, 500)];
    assert_eq!(pick(&list), Some(1));
    // 300 / 1 against 600 / 2: equal, A stays.
    let list = [loaded(0, 1, 0, 300), loaded(1, 2, 0, 600)];
    assert_eq!(pick(&list), Some(0));
}

#[test]
fn ties_keep_list_order() {
    let list = [loaded(0, 2, 0, 10), loaded(1, 1, 0, 5), loaded(2, 2, 0, 10)];
    assert_eq!(pick(&list), Some(0));
}

#[test]
fn overloaded_and_weight_zero_are_skipped() {
    let mut list = [loaded(0, 0, 0, 0), loaded(1, 1, 0, 9), loaded(2, 1, 0, 3)];
    assert_eq!(pick(&list), Some(2));
    list[2].overloaded = true;
    assert_eq!(pick(&list), Some(1));
    list[1].overloaded = true;
    assert_eq!(pick(&list), None);
}

#[test]
fn weight_zero_after_the_first_candidate_never_wins() {
    // C checks only the overload flag after the first candidate; weight 0 makes the product 0.
    let list = [loaded(0, 1, 5, 0), loaded(1, 0, 0, 0)];
    assert_eq!(pick(&list), Some(0));
}

#[test]
fn wrapped_overhead_lets_weight_zero_win_as_in_c() {
    // 0x800000 active connections wrap the overhead negative: 0 * 1 > negative * 1 holds, so
    // C picks the weight-0 destination after the first candidate. Bit-exact means the same.
    let list = [loaded(0, 1, 0, 0), loaded(1, 0, 0x80_0000, 0)];
    assert_eq!(pick(&list), Some(1));
    // As the first candidate a weight-0 destination is skipped.
    let list = [loaded(0, 0, 0x80_0000, 0), loaded(1, 1, 0, 0)];
    assert_eq!(pick(&list), Some(1));
}

#[test]
fn products_do_not_overflow() {
    // 2^31 - 1 weights times large overheads need 64 bits.
    let list = [
        loaded(0, i32::MAX, 0, 0x7fff_0000),
        loaded(1, i32::MAX - 1, 0, 0x7ffe_0000),
    ];
    // 0x7fff0000 * (2^31 - 2) > 0x7ffe0000 * (2^31 - 1).
    assert_eq!(pick(&list), Some(1));
}

#[test]
fn empty_or_all_unavailable_is_no_destination() {
    assert_eq!(pick(&dests(&[])), None);
    assert_eq!(pick(&dests(&[0, -1, 0])), None);
}

#[test]
fn matches_c_on_random_operation_sequences() {
    let mut found = 0;
    for seed in 1..=300 {
        found += differential::<WeightedLeastConnection, CWlc>(seed, 400);
    }
    assert!(found > 10_000, "only {found} successful schedules");
}
