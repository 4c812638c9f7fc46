// SPDX-License-Identifier: GPL-2.0

//! Shortest expected delay scheduling (C: `ip_vs_sed.c`).
//!
//! The destination with the fewest active connections (plus the new one) per unit of weight
//! wins; ties go to the first in list order. The scheduler keeps no state.

use super::{
    dest_view::{
        Algorithm, //
        ClientInfo,
        DestView,
    },
    wlc::least_weighted_overhead,
};

/// Shortest-expected-delay scheduling of one service; stateless, as in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShortestExpectedDelay;

impl Algorithm for ShortestExpectedDelay {
    /// Picks the destination with the least [`expected_delay`] per weight
    /// (`ip_vs_sed_schedule`), with the loop of weighted least-connection.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        least_weighted_overhead(dests, expected_delay)
    }
}

/// The expected delay of a destination (`ip_vs_sed_dest_overhead`, `ip_vs_nq_dest_overhead`):
/// its active connections and the new one, in C's wrapping `int` arithmetic. Inactive
/// connections do not count.
pub(crate) fn expected_delay<D: DestView>(dest: &D) -> i32 {
    // C reads the counter as `int`: reinterpret the bits.
    (dest.active_conns() as i32).wrapping_add(1)
}
