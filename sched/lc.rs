// SPDX-License-Identifier: GPL-2.0

//! Least-connection scheduling (C: `ip_vs_lc.c`).
//!
//! The destination with the least connection overhead wins, whatever its weight; ties go to
//! the first in list order. The scheduler keeps no state.

use super::{
    dest_view::{
        Algorithm, //
        ClientInfo,
        DestView,
    },
    wlc::conn_overhead,
};

/// Least-connection scheduling of one service; stateless, as in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LeastConnection;

impl Algorithm for LeastConnection {
    /// Picks the destination with the least overhead (`ip_vs_lc_schedule`).
    ///
    /// Overloaded destinations and those of weight 0 are skipped. C compares the overheads as
    /// `unsigned int`, so an overhead that wrapped negative counts as huge.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        let mut least: Option<(usize, u32)> = None;
        for (index, dest) in dests.iter().enumerate() {
            if dest.overloaded() || dest.weight() == 0 {
                continue;
            }
            // C's `unsigned int doh`: reinterpret the bits.
            let overhead = conn_overhead(dest) as u32;
            if least.is_none_or(|(_, least_overhead)| overhead < least_overhead) {
                least = Some((index, overhead));
            }
        }
        least.map(|(index, _)| index)
    }
}
