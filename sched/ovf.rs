// SPDX-License-Identifier: GPL-2.0

//! Weighted overflow scheduling (C: `ip_vs_ovf.c`).
//!
//! New connections go to the destination with the highest weight until its active connections
//! exceed its weight, then to the next highest, and so on; the first in list order wins among
//! equals. The scheduler keeps no state.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
};

/// Weighted overflow scheduling of one service; stateless, as in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeightedOverflow;

impl Algorithm for WeightedOverflow {
    /// Picks the destination with the highest weight among those that are not overloaded,
    /// have a non-zero weight and no more active connections than their weight
    /// (`ip_vs_ovf_schedule`).
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        let mut highest: Option<(usize, i32)> = None;
        for (index, dest) in dests.iter().enumerate() {
            let weight = dest.weight();
            // C compares the counter as `int`: reinterpret the bits.
            let active = dest.active_conns() as i32;
            if dest.overloaded() || active > weight || weight == 0 {
                continue;
            }
            if highest.is_none_or(|(_, highest_weight)| weight > highest_weight) {
                highest = Some((index, weight));
            }
        }
        highest.map(|(index, _)| index)
    }
}
