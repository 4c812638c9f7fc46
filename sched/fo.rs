// SPDX-License-Identifier: GPL-2.0

//! Weighted failover scheduling (C: `ip_vs_fo.c`).
//!
//! Every new connection goes to the available destination with the highest weight, the first
//! in list order among equals. The scheduler keeps no state.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
};

/// Weighted failover scheduling of one service; stateless, as in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeightedFailover;

impl Algorithm for WeightedFailover {
    /// Picks the destination with the highest positive weight that is not overloaded
    /// (`ip_vs_fo_schedule`).
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        let mut highest: Option<(usize, i32)> = None;
        for (index, dest) in dests.iter().enumerate() {
            let weight = dest.weight();
            let above = highest.map_or(0, |(_, highest_weight)| highest_weight);
            if !dest.overloaded() && weight > above {
                highest = Some((index, weight));
            }
        }
        highest.map(|(index, _)| index)
    }
}
