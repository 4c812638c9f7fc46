// SPDX-License-Identifier: GPL-2.0

//! Source hashing scheduling (C: `ip_vs_sh.c`).
//!
//! A table of 256 buckets maps a hash of the client address (and, with sh-port, of its
//! source port) to a destination. Every change of the destination list refills the table
//! (`ip_vs_sh_reassign`): walking the list cyclically, each destination takes as many consecutive
//! buckets as its weight, at least one.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
    InetAddr,
};

/// log2 of the number of buckets (`IP_VS_SH_TAB_BITS`; `CONFIG_IP_VS_SH_TAB_BITS` defaults to 8,
/// which lets a bucket index be a `u8`).
const TABLE_BITS: u32 = u8::BITS;

/// The number of buckets (`IP_VS_SH_TAB_SIZE`).
const TABLE_SIZE: usize = 1 << TABLE_BITS;

/// The multiplier of the kernel's `hash_32()` (`GOLDEN_RATIO_32`).
const GOLDEN_RATIO_32: u32 = 0x61C8_8647;

/// Source hashing state of one service (C: `struct ip_vs_sh_state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceHashing {
    /// The destination index each bucket holds; all [`None`] when the service has no
    /// destinations. The fill advances at most one destination per bucket from index 0, so an
    /// index never exceeds 255 and fits a `u8`, whatever the number of destinations.
    buckets: [Option<u8>; TABLE_SIZE],
}

impl SourceHashing {
    /// Starts scheduling a service: fills the buckets (`ip_vs_sh_init_svc`).
    pub(crate) fn new<D: DestView>(dests: &[D]) -> Self {
        let mut state = SourceHashing {
            buckets: [None; TABLE_SIZE],
        };
        state.reassign(dests);
        state
    }

    /// The destination index bucket `bucket` holds, if any.
    pub(crate) fn bucket(&self, bucket: u8) -> Option<usize> {
        let index = (*self.buckets.get(usize::from(bucket))?)?;
        Some(usize::from(index))
    }

    /// The destination of the hashed bucket, if it is available (`ip_vs_sh_get`).
    fn get<D: DestView>(&self, dests: &[D], addr: InetAddr, port: u16) -> Option<usize> {
        let index = self.bucket(hash_key(addr, port, 0))?;
        dests
            .get(index)
            .is_some_and(DestView::is_available)
            .then_some(index)
    }

    /// Like [`Self::get`], but probes further buckets when the hashed destination is unavailable
    /// (`ip_vs_sh_get_fallback`).
    fn get_fallback<D: DestView>(&self, dests: &[D], addr: InetAddr, port: u16) -> Option<usize> {
        let initial_hash = hash_key(addr, port, 0);
        let index = self.bucket(initial_hash)?;
        if dests.get(index).is_some_and(DestView::is_available) {
            return Some(index);
        }
        // Loop around the table starting from the initial hash. C adds the offset to the
        // initial hash and then the hash again, so the probes start at twice the hash.
        for offset in 0..=u8::MAX {
            // C: `(offset + ihash) % IP_VS_SH_TAB_SIZE`, which `u8` arithmetic does by wrapping.
            let rotated_offset = offset.wrapping_add(initial_hash);
            let index = self.bucket(hash_key(addr, port, rotated_offset))?;
            if dests.get(index).is_some_and(DestView::is_available) {
                return Some(index);
            }
        }
        None
    }

    /// Refills the buckets from the destination list (`ip_vs_sh_reassign`).
    ///
    /// Bucket by bucket, the list is walked cyclically from its first entry; each destination
    /// fills `max(weight, 1)` consecutive buckets before the walk moves on.
    fn reassign<D: DestView>(&mut self, dests: &[D]) {
        // C: `p`, the list position, as an index into `dests`.
        let mut position = 0usize;
        // C: `d_count`, the buckets the destination at `position` filled so far.
        let mut filled: i32 = 0;
        for bucket in self.buckets.iter_mut() {
            // Past the end the walk wraps to the first destination (C skips the list head).
            if position >= dests.len() {
                position = 0;
            }
            let Some(dest) = dests.get(position) else {
                // No destinations: every bucket is empty.
                *bucket = None;
                continue;
            };
            *bucket = u8::try_from(position).ok();
            filled = filled.wrapping_add(1);
            if filled >= dest.weight() {
                position = position.wrapping_add(1);
                filled = 0;
            }
        }
    }
}

impl Algorithm for SourceHashing {
    /// Refills the buckets after any change of the list (`ip_vs_sh_dest_changed`).
    fn dests_changed<D: DestView>(&mut self, dests: &[D]) {
        self.reassign(dests);
    }

    /// Picks the destination for `client` (`ip_vs_sh_schedule`).
    ///
    /// The client's source port takes part in the hash only with the port flag
    /// ([`ClientInfo::hashed_port`]); with the fallback flag an unavailable destination
    /// (weight <= 0 or overloaded) is replaced by the first available one in the probe
    /// sequence ([`ClientInfo::wants_fallback`]).
    fn schedule<D: DestView>(&mut self, dests: &[D], client: &ClientInfo) -> Option<usize> {
        let port = client.hashed_port();
        if client.wants_fallback() {
            self.get_fallback(dests, client.addr, port)
        } else {
            self.get(dests, client.addr, port)
        }
    }
}

/// The bucket of a client (`ip_vs_sh_hashkey`), rotated by `offset`.
///
/// `hash_32(port + addr, 8)` with an IPv6 address folded into 32 bits by xor of its words.
pub(crate) fn hash_key(addr: InetAddr, port: u16, offset: u8) -> u8 {
    let folded = match addr {
        InetAddr::V4(addr) => addr,
        InetAddr::V6(words) => words.iter().fold(0, |folded, word| folded ^ word),
    };
    let hash = u32::from(port)
        .wrapping_add(folded)
        .wrapping_mul(GOLDEN_RATIO_32)
        >> (u32::BITS - TABLE_BITS);
    // The shift leaves `TABLE_BITS` bits, so the cast is exact; wrapping `u8` arithmetic is C's
    // `& IP_VS_SH_TAB_MASK`.
    offset.wrapping_add(hash as u8)
}
