// SPDX-License-Identifier: GPL-2.0

//! Round-robin scheduling (C: `ip_vs_rr.c`).
//!
//! C keeps a pointer to the list node of the destination picked last (initially the list head
//! itself). Here that position is an index into the destination slice, or [`None`] for the head.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
};

/// Round-robin state of one service (C: `svc->sched_data`, a `struct list_head *`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RoundRobin {
    /// Index of the destination picked last, or [`None`] for the list head (before index 0).
    position: Option<usize>,
}

impl RoundRobin {
    /// Starts scheduling a service: the position is the list head (`ip_vs_rr_init_svc`).
    pub(crate) fn new<D: DestView>(_dests: &[D]) -> Self {
        RoundRobin { position: None }
    }

    /// Saves `index` as the position and returns it.
    fn pick(&mut self, index: usize) -> Option<usize> {
        self.position = Some(index);
        Some(index)
    }
}

impl Algorithm for RoundRobin {
    /// Follows the insertion of a destination at `index` of `_dests_after`.
    ///
    /// C has no `add_dest` callback: its position is a node pointer, which stays on the same
    /// destination. An insertion at or before the saved index shifts that destination up by one.
    fn dest_added<D: DestView>(&mut self, _dests_after: &[D], index: usize) {
        if let Some(position) = self.position {
            if index <= position {
                self.position = Some(position.saturating_add(1));
            }
        }
    }

    /// Follows the removal of the destination that was at `removed_index` (`ip_vs_rr_del_dest`).
    ///
    /// Removing the saved destination moves the position to the node before it (the head when it
    /// was first); removing an earlier one shifts the saved index down by one.
    fn dest_removed<D: DestView>(&mut self, _dests_after: &[D], removed_index: usize) {
        if let Some(position) = self.position {
            if removed_index == position {
                self.position = position.checked_sub(1);
            } else if removed_index < position {
                self.position = Some(position.saturating_sub(1));
            }
        }
    }

    /// Picks the next available destination (`ip_vs_rr_schedule`).
    ///
    /// The scan starts after the saved position, runs to the end of the list, then (unless the
    /// position is the head) wraps around to index 0 and ends with the saved destination itself.
    /// A destination is available when it is not overloaded and its weight is positive.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        let start = self
            .position
            .map_or(0, |position| position.saturating_add(1));
        let after = dests.get(start..).unwrap_or(&[]);
        // The first pass: every destination after the saved one.
        if let Some(offset) = after.iter().position(DestView::is_available) {
            return self.pick(start.saturating_add(offset));
        }
        // The second pass: from the first destination up to and including the saved one. C
        // makes none when the position is the list head, which the first pass covered whole.
        let last = self.position?;
        let before = dests.get(..=last).unwrap_or(dests);
        let offset = before.iter().position(DestView::is_available)?;
        self.pick(offset)
    }
}
