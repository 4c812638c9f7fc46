// SPDX-License-Identifier: GPL-2.0

//! Destination hashing scheduling (C: `ip_vs_dh.c`).
//!
//! A table of 256 buckets maps a hash of the packet's destination address to a real server:
//! bucket `i` holds the `i mod n`-th of the `n` destinations in list order, whatever their
//! weights. The table is refilled when a destination is added or removed.

use super::dest_view::{
    hash_32, //
    Algorithm,
    ClientInfo,
    DestView,
};

/// log2 of the number of buckets (`IP_VS_DH_TAB_BITS`; `CONFIG_IP_VS_DH_TAB_BITS` defaults to
/// 8, which lets a bucket index be a `u8`).
const TABLE_BITS: u32 = u8::BITS;

/// The number of buckets (`IP_VS_DH_TAB_SIZE`).
const TABLE_SIZE: usize = 1 << TABLE_BITS;

/// Destination hashing state of one service (C: `struct ip_vs_dh_state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DestinationHashing {
    /// The destination index each bucket holds; all [`None`] when the service has no
    /// destinations. Bucket `i` holds an index of at most `i`, which fits a `u8`.
    buckets: [Option<u8>; TABLE_SIZE],
}

impl DestinationHashing {
    /// Starts scheduling a service: fills the buckets (`ip_vs_dh_init_svc`).
    pub(crate) fn new<D: DestView>(dests: &[D]) -> Self {
        let mut state = DestinationHashing {
            buckets: [None; TABLE_SIZE],
        };
        state.reassign(dests);
        state
    }

    /// Refills the buckets from the destination list (`ip_vs_dh_reassign`): one destination
    /// per bucket, walking the list cyclically from its first entry.
    fn reassign<D: DestView>(&mut self, dests: &[D]) {
        for (bucket, slot) in (0usize..).zip(self.buckets.iter_mut()) {
            *slot = bucket
                .checked_rem(dests.len())
                .and_then(|index| u8::try_from(index).ok());
        }
    }
}

impl Algorithm for DestinationHashing {
    /// Refills the buckets after any change of the list (`ip_vs_dh_dest_changed`; C has no
    /// `upd_dest` for dh, and a weight change leaves the refilled buckets as they were).
    fn dests_changed<D: DestView>(&mut self, dests: &[D]) {
        self.reassign(dests);
    }

    /// Picks the destination of the bucket the packet's destination address hashes to, if it
    /// has a positive weight and is not overloaded (`ip_vs_dh_schedule`). C has no `upd_dest`
    /// for dh: weights do not shape the table.
    fn schedule<D: DestView>(&mut self, dests: &[D], client: &ClientInfo) -> Option<usize> {
        let bucket = hash_32(client.daddr.fold(), TABLE_BITS);
        let index = usize::from((*self.buckets.get(usize::try_from(bucket).ok()?)?)?);
        dests.get(index)?.is_available().then_some(index)
    }
}
