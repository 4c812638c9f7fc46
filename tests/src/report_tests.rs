// SPDX-License-Identifier: GPL-2.0

//! The chain-length report of `/proc/net/ip_vs_status` (`hash/report.rs`) against lines
//! C 7.3's `ip_vs_status_show` prints for the same counts.

use crate::hash::report::ChainLengths;
use std::string::String;

/// The report of chains of `lens` entries about `what`.
fn report(what: &str, lens: &[usize]) -> String {
    let mut lengths = ChainLengths::default();
    for &len in lens {
        lengths.add(len);
    }
    let mut out = String::new();
    lengths.write(&mut out, what).unwrap();
    out
}

#[test]
fn empty_table_is_all_empty_chains() {
    assert_eq!(
        report("Conn", &[0; 256]),
        "Conn buckets empty:\t256 (100%)\n"
    );
}

#[test]
fn shares_are_of_all_chains_then_of_used_ones_rounded_down() {
    // 16 chains: 13 empty (81.25%), two of one entry (66.6% of the used), one of two.
    let lens = [0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        report("Service", &lens),
        "Service buckets empty:\t13 (81%)\n\
         Service buckets len-1:\t2 (66%)\n\
         Service buckets len-2:\t1 (33%)\n"
    );
}

#[test]
fn chains_of_seven_and_more_count_as_seven() {
    assert_eq!(
        report("Conn", &[7, 8, 100, 0]),
        "Conn buckets empty:\t1 (25%)\nConn buckets len-7:\t3 (100%)\n"
    );
}

#[test]
fn no_chains_divides_by_one() {
    assert_eq!(report("Conn", &[]), "Conn buckets empty:\t0 (0%)\n");
}
