// SPDX-License-Identifier: GPL-2.0

//! Weighted least-connection scheduling (C: `ip_vs_wlc.c`).
//!
//! The destination with the least connection overhead per unit of weight wins; ties go to the
//! first in list order. The scheduler keeps no state.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
};

/// Weighted least-connection scheduling of one service; stateless, as in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeightedLeastConnection;

impl WeightedLeastConnection {
    /// Starts scheduling a service; C has no `init_service` for wlc.
    pub(crate) fn new<D: DestView>(_dests: &[D]) -> Self {
        WeightedLeastConnection
    }
}

impl Algorithm for WeightedLeastConnection {
    /// Picks the destination with the least [`conn_overhead`] per weight
    /// (`ip_vs_wlc_schedule`), as [`least_weighted_overhead`] describes.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        least_weighted_overhead(dests, conn_overhead)
    }
}

/// The destination with the least `overhead` per unit of weight, the loop that wlc, sed and
/// lblc share (`ip_vs_wlc_schedule`, `ip_vs_sed_schedule`, `__ip_vs_lblc_schedule`).
///
/// The first destination that is not overloaded and has a positive weight is the initial
/// choice; a later one replaces it when `least_overhead * weight > overhead * least_weight`,
/// compared in 64 bits. As in C, a later destination is only checked for overload, not for
/// its weight; a weight of 0 makes the left side 0, which beats no non-negative overhead.
pub(crate) fn least_weighted_overhead<D: DestView>(
    dests: &[D],
    overhead: impl Fn(&D) -> i32,
) -> Option<usize> {
    let first = dests
        .iter()
        .position(|dest| !dest.overloaded() && dest.weight() > 0)?;
    let mut least = first;
    let mut least_weight = dests.get(first)?.weight();
    let mut least_overhead = overhead(dests.get(first)?);
    let rest = dests.get(first.saturating_add(1)..).unwrap_or(&[]);
    for (offset, dest) in rest.iter().enumerate() {
        if dest.overloaded() {
            continue;
        }
        let dest_overhead = overhead(dest);
        let weight = dest.weight();
        // Products of two `i32` values fit in an `i64`: the multiplications never wrap.
        if i64::from(least_overhead).wrapping_mul(i64::from(weight))
            > i64::from(dest_overhead).wrapping_mul(i64::from(least_weight))
        {
            least = first.saturating_add(1).saturating_add(offset);
            least_weight = weight;
            least_overhead = dest_overhead;
        }
    }
    Some(least)
}

/// The connection overhead of a destination (`ip_vs_dest_conn_overhead`).
///
/// `(activeconns << 8) + totalconns` in C's wrapping `int` arithmetic: an active connection
/// weighs 257 inactive ones.
pub(crate) fn conn_overhead<D: DestView>(dest: &D) -> i32 {
    // C reads both counters as `int`: reinterpret the bits.
    let active = dest.active_conns() as i32;
    let total = dest.total_conns() as i32;
    active.wrapping_shl(8).wrapping_add(total)
}
