// SPDX-License-Identifier: GPL-2.0

//! Never-queue scheduling (C: `ip_vs_nq.c`).
//!
//! An idle destination (no active connections) is taken at once, the first in list order;
//! otherwise the choice is that of shortest expected delay. The scheduler keeps no state.

use super::{
    dest_view::{
        Algorithm, //
        ClientInfo,
        DestView,
    },
    sed::expected_delay,
};

/// Never-queue scheduling of one service; stateless, as in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NeverQueue;

impl Algorithm for NeverQueue {
    /// Picks the first idle destination, else the one with the least expected delay per weight
    /// (`ip_vs_nq_schedule`).
    ///
    /// Overloaded destinations and those of weight 0 are skipped. Unlike sed, every candidate
    /// is checked for its weight, and the first candidate is compared like the others.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        // The choice so far: index, overhead and weight.
        let mut least: Option<(usize, i32, i32)> = None;
        for (index, dest) in dests.iter().enumerate() {
            let weight = dest.weight();
            if dest.overloaded() || weight == 0 {
                continue;
            }
            if dest.active_conns() == 0 {
                return Some(index);
            }
            let overhead = expected_delay(dest);
            // Products of two `i32` values fit in an `i64`: the multiplications never wrap.
            let better = least.is_none_or(|(_, least_overhead, least_weight)| {
                i64::from(least_overhead).wrapping_mul(i64::from(weight))
                    > i64::from(overhead).wrapping_mul(i64::from(least_weight))
            });
            if better {
                least = Some((index, overhead, weight));
            }
        }
        least.map(|(index, _, _)| index)
    }
}
