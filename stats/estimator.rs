// SPDX-License-Identifier: GPL-2.0

//! The rate estimator's arithmetic (C: `ip_vs_chain_estimation` and `ip_vs_read_estimator` in
//! `ip_vs_est.c`): plain Rust, shared with the host tests.
//!
//! Every two seconds each average moves a quarter of the way towards the last period's rate.
//! Averages are kept scaled, connections and packets by 2^10 and bytes by 2^5, and rounded when
//! read.

/// What a counter counts, which sets the scale of its average.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RateKind {
    /// Connections or packets.
    Events,
    /// Bytes.
    Bytes,
}

/// Of the five counters of a service, destination or namespace (connections, incoming and
/// outgoing packets, incoming and outgoing bytes), how many count events.
const EVENT_COUNTERS: usize = 3;

impl RateKind {
    /// The kind of the counter at `index` in C's order (conns, inpkts, outpkts, inbytes,
    /// outbytes).
    pub(crate) fn of_counter(index: usize) -> Self {
        if index < EVENT_COUNTERS {
            RateKind::Events
        } else {
            RateKind::Bytes
        }
    }
}

/// One estimation: the new scaled average from the previous one and how much the counter grew
/// over the two-second period.
pub(crate) fn next_average(kind: RateKind, average: u64, growth: u64) -> u64 {
    // The scale, halved for the two-second period.
    let shift = match kind {
        RateKind::Events => 9,
        RateKind::Bytes => 4,
    };
    let rate = growth.wrapping_shl(shift);
    // C: `e->cps += ((s64)rate - (s64)e->cps) >> 2`, an arithmetic shift of the difference.
    let step = (rate as i64).wrapping_sub(average as i64).wrapping_shr(2);
    average.wrapping_add(step as u64)
}

/// The per-second rate reported for a scaled average, rounded as C rounds it.
pub(crate) fn reported_rate(kind: RateKind, average: u64) -> u64 {
    match kind {
        RateKind::Events => average.wrapping_add(0x1ff) >> 10,
        RateKind::Bytes => average.wrapping_add(0xf) >> 5,
    }
}
