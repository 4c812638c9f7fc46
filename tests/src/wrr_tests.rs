// SPDX-License-Identifier: GPL-2.0

//! Weighted round-robin (`sched/wrr.rs`) against `ip_vs_wrr.c`.

use crate::{
    sched::dest_view::Algorithm as _,
    sched::wrr::WeightedRoundRobin,
    support::{
        dest, //
        dests,
        differential,
        kernel_gcd,
        pick_letters,
        CWrr,
    },
};
use std::string::String;

/// `pattern` repeated `times` times.
fn repeat(pattern: &str, times: usize) -> String {
    pattern.repeat(times)
}

#[test]
fn reference_vector_4_3_2() {
    let list = dests(&[4, 3, 2]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 27), repeat("AABABCABC", 3));
}

#[test]
fn reference_vector_2_4() {
    let list = dests(&[2, 4]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 12), repeat("BAB", 4));
}

#[test]
fn gcd_interval_4_2() {
    // di = 2, mw = 3: the current weight runs 3, 1.
    let list = dests(&[4, 2]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 9), repeat("AAB", 3));
}

#[test]
fn equal_weights_are_round_robin() {
    let list = dests(&[3, 3, 3]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 9), repeat("ABC", 3));
}

#[test]
fn weight_zero_gets_nothing() {
    let list = dests(&[0, 2, 1]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 9), repeat("BBC", 3));
}

#[test]
fn all_weights_zero_is_no_destination() {
    let list = dests(&[0, 0]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 3), "---");
}

#[test]
fn empty_service_has_no_destination() {
    let list = dests(&[]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 2), "--");
}

#[test]
fn overloaded_dests_are_skipped_and_return() {
    let mut list = dests(&[4, 3, 2]);
    let mut wrr = WeightedRoundRobin::new(&list);
    list[0].overloaded = true;
    assert_eq!(pick_letters(&mut wrr, &list, 5), "BBCBC");
    list[0].overloaded = false;
    list[1].overloaded = true;
    list[2].overloaded = true;
    assert_eq!(pick_letters(&mut wrr, &list, 3), "AAA");
    list[0].overloaded = true;
    assert_eq!(pick_letters(&mut wrr, &list, 2), "--");
}

#[test]
fn weight_raise_mid_sequence() {
    let mut list = dests(&[4, 3, 2]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 4), "AABA");
    // cw stays 2 (di = 1), the scan restarts at the head.
    list[2].weight = 4;
    wrr.dest_updated(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 11), "ABCABCACABC");
}

#[test]
fn weight_change_rounds_the_current_weight_to_the_new_gcd() {
    let mut list = dests(&[4, 2]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 1), "A");
    // di = 2, mw = 5; cw 3 becomes (3 / 2) * 2 + 1 = 3.
    list[1].weight = 6;
    wrr.dest_updated(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 14), "ABABBABABBABAB");
}

#[test]
fn weight_drop_below_current_weight_resets_it() {
    let mut list = dests(&[8, 1]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 1), "A");
    // cw 8 > mw 2: cw = 2.
    list[0].weight = 2;
    wrr.dest_updated(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 6), "AABAAB");
}

#[test]
fn added_dest_restarts_at_the_head() {
    let mut list = dests(&[2, 1]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 1), "A");
    list.insert(0, dest(2, 2));
    wrr.dest_added(&list, 0);
    // C A B, weights 2 2 1, cw 2: C A, then cw 1: C A B.
    assert_eq!(pick_letters(&mut wrr, &list, 10), "CACABCACAB");
}

#[test]
fn removed_dest_restarts_at_the_head() {
    let mut list = dests(&[3, 2, 1]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 3), "AAB");
    list.remove(0);
    wrr.dest_removed(&list, 0);
    // B C with weights 2 1, mw 2, cw 2 kept: B, then cw 1: B C.
    assert_eq!(pick_letters(&mut wrr, &list, 6), "BBCBBC");
}

#[test]
fn removing_every_dest_then_adding_one() {
    let mut list = dests(&[2]);
    let mut wrr = WeightedRoundRobin::new(&list);
    assert_eq!(pick_letters(&mut wrr, &list, 1), "A");
    list.remove(0);
    wrr.dest_removed(&list, 0);
    assert_eq!(pick_letters(&mut wrr, &list, 1), "-");
    // cw was reset to mw 0, so the next change sets it to the new mw.
    list.insert(0, dest(1, 3));
    wrr.dest_added(&list, 0);
    assert_eq!(pick_letters(&mut wrr, &list, 3), "BBB");
}

#[test]
fn proportions_over_a_long_run() {
    let list = dests(&[5, 3, 2, 7]);
    let mut wrr = WeightedRoundRobin::new(&list);
    let run = pick_letters(&mut wrr, &list, 17 * 20);
    for (letter, weight) in ['A', 'B', 'C', 'D'].into_iter().zip([5, 3, 2, 7]) {
        assert_eq!(run.chars().filter(|c| *c == letter).count(), weight * 20);
    }
}

#[test]
fn kernel_gcd_is_the_gcd() {
    // The C model uses the kernel's binary gcd; make sure it is what the Rust side computes.
    for a in 1..60u64 {
        for b in 1..60u64 {
            let mut x = a;
            let mut y = b;
            while y != 0 {
                (x, y) = (y, x % y);
            }
            assert_eq!(kernel_gcd(a, b), x, "gcd({a}, {b})");
        }
    }
}

#[test]
fn matches_c_on_random_operation_sequences() {
    let mut found = 0;
    for seed in 1..=300 {
        found += differential::<WeightedRoundRobin, CWrr>(seed, 400);
    }
    assert!(found > 10_000, "only {found} successful schedules");
}
