// SPDX-License-Identifier: GPL-2.0

//! The rate estimator (`stats/estimator.rs`) against `ip_vs_est.c`'s arithmetic, with values
//! worked out by hand from the C expressions.

use crate::stats::estimator::{
    next_average, //
    reported_rate,
    RateKind,
};

/// Runs `periods` estimations with the same growth per period.
fn steady(kind: RateKind, growth: u64, periods: usize) -> u64 {
    (0..periods).fold(0, |average, _| next_average(kind, average, growth))
}

#[test]
fn counter_kinds_follow_c_order() {
    let kinds: std::vec::Vec<RateKind> = (0..5).map(RateKind::of_counter).collect();
    assert_eq!(
        kinds,
        [
            RateKind::Events,
            RateKind::Events,
            RateKind::Events,
            RateKind::Bytes,
            RateKind::Bytes
        ]
    );
}

/// 100 connections in the first period: rate 100 << 9 = 51200, average 51200 / 4 = 12800,
/// read as (12800 + 0x1ff) >> 10 = 12 per second.
#[test]
fn first_period_of_events() {
    assert_eq!(next_average(RateKind::Events, 0, 100), 12800);
    assert_eq!(reported_rate(RateKind::Events, 12800), 12);
}

/// 2000 bytes in the first period: rate 2000 << 4 = 32000, average 8000, read as
/// (8000 + 0xf) >> 5 = 250 bytes per second.
#[test]
fn first_period_of_bytes() {
    assert_eq!(next_average(RateKind::Bytes, 0, 2000), 8000);
    assert_eq!(reported_rate(RateKind::Bytes, 8000), 250);
}

/// A steady 50 connections and 1000 bytes per second converge to exactly those rates.
#[test]
fn steady_traffic_converges() {
    assert_eq!(
        reported_rate(RateKind::Events, steady(RateKind::Events, 100, 60)),
        50
    );
    assert_eq!(
        reported_rate(RateKind::Bytes, steady(RateKind::Bytes, 2000, 60)),
        1000
    );
}

/// Without traffic an average decays to exactly 0: C's arithmetic shift rounds the negative
/// step down, so the last unit goes too.
#[test]
fn idle_decays_to_zero() {
    let mut average = steady(RateKind::Events, 100, 60);
    let mut periods = 0;
    while average != 0 {
        average = next_average(RateKind::Events, average, 0);
        periods += 1;
        assert!(periods < 100, "average {average} did not decay");
    }
    assert_eq!(next_average(RateKind::Events, 5, 0), 3);
    assert_eq!(next_average(RateKind::Events, 1, 0), 0);
}

/// One connection in a period stays below the reported resolution: 512 / 4 = 128 reads as 0.
#[test]
fn single_connection_reads_zero() {
    assert_eq!(next_average(RateKind::Events, 0, 1), 128);
    assert_eq!(reported_rate(RateKind::Events, 128), 0);
}

/// Counter growth too large for the scale wraps as in C instead of panicking.
#[test]
fn huge_growth_wraps() {
    // u64::MAX << 4 is -16 as s64; a quarter of -16 is -4.
    assert_eq!(next_average(RateKind::Bytes, 0, u64::MAX), u64::MAX - 3);
    assert_eq!(reported_rate(RateKind::Bytes, u64::MAX), 0);
}
