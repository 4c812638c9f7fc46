// SPDX-License-Identifier: GPL-2.0

//! Maglev hashing scheduling (C: `ip_vs_mh.c`, after Eisenbud et al., NSDI 2016).
//!
//! A lookup table of [`TABLE_SIZE`] (a prime) slots maps a hash of the client address (and,
//! with mh-port, of its source port) to a destination. Each destination walks its own
//! permutation of the slots, starting at an offset and stepping by a skip that both come from
//! a keyed hash of its address and port; the destinations take turns, in list order and in
//! proportion to their weights, claiming the next free slot of their permutation until every
//! slot is taken. Directors with the same destinations build the same table, so they agree on
//! a client's real server without sharing state, and removing a destination moves only the
//! clients that were on it (mostly).
//!
//! The table and the permutation positions live in storage the caller provides (`S`, a
//! boxed slice or vector of [`TABLE_SIZE`] `u16` values each), allocated off the packet path.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
    InetAddr,
};
use crate::hash::siphash::{
    hsiphash, //
    SipKey,
};
use core::ops::DerefMut;

/// The number of lookup slots (`IP_VS_MH_TAB_SIZE`): `primes[CONFIG_IP_VS_MH_TAB_INDEX - 8]`
/// with the default index of 12.
pub(crate) const TABLE_SIZE: usize = 4093;

/// [`TABLE_SIZE`] as the `u32` the hash arithmetic uses.
const TABLE_SIZE_U32: u32 = TABLE_SIZE as u32;

/// The skips are `1..=SKIP_RANGE`, so each permutation visits every slot.
const SKIP_RANGE: u32 = TABLE_SIZE_U32 - 1;

/// Bits of `weight / gcd` kept before the weights are shifted down (`IP_VS_MH_TAB_BITS`,
/// `CONFIG_IP_VS_MH_TAB_INDEX / 2`).
const WEIGHT_BITS: i32 = 6;

/// A slot that holds no destination.
const EMPTY: u16 = u16::MAX;

/// The hsiphash key of the slot and offset hashes (`generate_hash_secret`: fixed, so that
/// every director computes the same table).
const HASH1: SipKey = SipKey([2_654_435_761, 2_654_435_761]);

/// The hsiphash key of the skip hash.
const HASH2: SipKey = SipKey([2_654_446_892, 2_654_446_892]);

/// Maglev hashing state of one service (C: `struct ip_vs_mh_state`).
pub(crate) struct MaglevHashing<S> {
    /// The destination index of each slot, [`EMPTY`] for none (C: `lookup[].dest`).
    lookup: S,
    /// Each destination's current position in its permutation, by list index, while the
    /// table is filled (C: `dest_setup[].perm`).
    positions: S,
    /// The gcd of the positive last weights, 0 when there are none (C: `s->gcd`).
    gcd: i32,
    /// How far `weight / gcd` is shifted down to keep [`WEIGHT_BITS`] bits (C: `s->rshift`).
    shift: u32,
}

impl<S: DerefMut<Target = [u16]>> MaglevHashing<S> {
    /// Starts scheduling a service with two buffers of [`TABLE_SIZE`] values
    /// (`ip_vs_mh_init_svc`); [`None`] when a buffer has another length.
    pub(crate) fn new<D: DestView>(lookup: S, positions: S, dests: &[D]) -> Option<Self> {
        if lookup.len() != TABLE_SIZE || positions.len() != TABLE_SIZE {
            return None;
        }
        let mut state = MaglevHashing {
            lookup,
            positions,
            gcd: 0,
            shift: 0,
        };
        state.lookup.fill(EMPTY);
        state.dest_changed(dests);
        Some(state)
    }

    /// Recomputes the weight scaling and refills the table (`ip_vs_mh_dest_changed`).
    fn dest_changed<D: DestView>(&mut self, dests: &[D]) {
        self.gcd = gcd_last_weight(dests);
        self.shift = weight_shift(dests, self.gcd);
        self.populate(dests);
    }

    /// How many slots the destination claims per turn (C: `ds->turns`): its last weight over
    /// the gcd, shifted down, and at least 1 for a non-zero weight.
    fn turns<D: DestView>(&self, dest: &D) -> i32 {
        let last_weight = dest.last_weight();
        let scaled = last_weight
            .checked_div(self.gcd)
            .unwrap_or(0)
            .checked_shr(self.shift)
            .unwrap_or(0);
        if scaled != 0 {
            scaled
        } else {
            i32::from(last_weight != 0)
        }
    }

    /// Fills the lookup table (`ip_vs_mh_reassign`, `ip_vs_mh_permutate`,
    /// `ip_vs_mh_populate`).
    ///
    /// Round after round over the list, each destination with turns claims that many slots,
    /// one at a time, each the next free slot of its permutation. Without a positive weight the
    /// table is emptied. C refuses more destinations than slots with EINVAL and keeps its old
    /// table, whose entries would be list positions that no longer hold here: the table is
    /// emptied instead.
    fn populate<D: DestView>(&mut self, dests: &[D]) {
        self.lookup.fill(EMPTY);
        if self.gcd < 1 || dests.len() > TABLE_SIZE {
            return;
        }
        for (dest, position) in dests.iter().zip(self.positions.iter_mut()) {
            // The remainder is below `TABLE_SIZE`, so the cast is exact.
            *position = (hash_key(dest.addr(), dest.port(), &HASH1, 0) % TABLE_SIZE_U32) as u16;
        }
        /// Slots per bitmap word.
        const WORD_BITS: usize = u64::BITS as usize;
        let mut taken = [0u64; TABLE_SIZE.div_ceil(WORD_BITS)];
        let mut filled = 0usize;
        // Each destination with turns claims at least one slot per round: the table is full
        // after at most `TABLE_SIZE` rounds, and `gcd >= 1` means some destination has turns.
        for _round in 0..TABLE_SIZE {
            for (index, dest) in dests.iter().enumerate() {
                let turns = self.turns(dest);
                let (Ok(index_u16), Some(position)) =
                    (u16::try_from(index), self.positions.get_mut(index))
                else {
                    return;
                };
                let skip =
                    (hash_key(dest.addr(), dest.port(), &HASH2, 0) % SKIP_RANGE).wrapping_add(1);
                for _turn in 0..turns {
                    // The permutation visits every slot (the skip is below the prime table
                    // size), and a slot is free while the table is not full.
                    let mut slot = usize::from(*position);
                    let mut probes = 0usize;
                    while is_taken(&taken, slot) && probes < TABLE_SIZE {
                        let next = u32::from(*position).wrapping_add(skip);
                        let next = if next >= TABLE_SIZE_U32 {
                            next.wrapping_sub(TABLE_SIZE_U32)
                        } else {
                            next
                        };
                        *position = next as u16;
                        slot = usize::from(*position);
                        probes = probes.wrapping_add(1);
                    }
                    set_taken(&mut taken, slot);
                    if let Some(entry) = self.lookup.get_mut(slot) {
                        *entry = index_u16;
                    }
                    filled = filled.wrapping_add(1);
                    if filled >= TABLE_SIZE {
                        return;
                    }
                }
            }
        }
    }

    /// The destination of `slot`, if any.
    fn slot<D: DestView>(&self, dests: &[D], slot: u32) -> Option<usize> {
        let index = *self.lookup.get(usize::try_from(slot).ok()?)?;
        (index != EMPTY)
            .then_some(usize::from(index))
            .filter(|i| *i < dests.len())
    }

    /// The destination of the hashed slot, if it is available (`ip_vs_mh_get`).
    fn get<D: DestView>(&self, dests: &[D], addr: InetAddr, port: u16) -> Option<usize> {
        let index = self.slot(dests, hash_key(addr, port, &HASH1, 0) % TABLE_SIZE_U32)?;
        dests
            .get(index)
            .is_some_and(DestView::is_available)
            .then_some(index)
    }

    /// Like [`Self::get`], but probes further slots when the hashed destination is unavailable
    /// (`ip_vs_mh_get_fallback`): slot `hash(offset + initial) % size` for each offset, until
    /// an empty slot or an available destination.
    fn get_fallback<D: DestView>(&self, dests: &[D], addr: InetAddr, port: u16) -> Option<usize> {
        let initial = hash_key(addr, port, &HASH1, 0) % TABLE_SIZE_U32;
        let index = self.slot(dests, initial)?;
        if dests.get(index).is_some_and(DestView::is_available) {
            return Some(index);
        }
        for offset in 0..TABLE_SIZE_U32 {
            let rotated = offset.wrapping_add(initial) % TABLE_SIZE_U32;
            let index = self.slot(
                dests,
                hash_key(addr, port, &HASH1, rotated) % TABLE_SIZE_U32,
            )?;
            if dests.get(index).is_some_and(DestView::is_available) {
                return Some(index);
            }
        }
        None
    }
}

impl<S: DerefMut<Target = [u16]>> Algorithm for MaglevHashing<S> {
    /// Rebuilds the table after any change of the list (`ip_vs_mh_dest_changed`).
    fn dests_changed<D: DestView>(&mut self, dests: &[D]) {
        self.dest_changed(dests);
    }

    /// Picks the destination for `client` (`ip_vs_mh_schedule`).
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

/// Whether `slot` is marked in the bitmap.
fn is_taken(taken: &[u64], slot: usize) -> bool {
    taken
        .get(slot / 64)
        .is_some_and(|word| word & (1u64 << (slot % 64)) != 0)
}

/// Marks `slot` in the bitmap.
fn set_taken(taken: &mut [u64], slot: usize) {
    if let Some(word) = taken.get_mut(slot / 64) {
        *word |= 1u64 << (slot % 64);
    }
}

/// The gcd of the positive last weights, 0 when there are none (`ip_vs_mh_gcd_weight`).
fn gcd_last_weight<D: DestView>(dests: &[D]) -> i32 {
    dests
        .iter()
        .map(DestView::last_weight)
        .filter(|weight| *weight > 0)
        .fold(0, |g, weight| if g > 0 { gcd(weight, g) } else { weight })
}

/// The shift that keeps [`WEIGHT_BITS`] bits of the largest `last_weight / gcd`
/// (`ip_vs_mh_shift_weight`): `fls(max / gcd) - WEIGHT_BITS`, at least 0.
fn weight_shift<D: DestView>(dests: &[D], gcd: i32) -> u32 {
    if gcd < 1 {
        return 0;
    }
    let max = dests.iter().map(DestView::last_weight).fold(0, i32::max);
    let scaled = max.checked_div(gcd).unwrap_or(0);
    // C's `fls()` of an `int`: the position of the highest set bit, 0 for 0.
    let fls = u32::BITS.wrapping_sub((scaled as u32).leading_zeros());
    u32::try_from((fls as i32).wrapping_sub(WEIGHT_BITS)).unwrap_or(0)
}

/// The greatest common divisor of two positive numbers (C: `gcd()`).
fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        // `b` is not zero and both are positive, so the remainder cannot fail.
        let remainder = a.checked_rem(b).unwrap_or(0);
        a = b;
        b = remainder;
    }
    a
}

/// The hash of an address, port and offset (`ip_vs_mh_hashkey`): hsiphash of the 32-bit sum
/// `offset + port + folded address` under `key`.
pub(crate) fn hash_key(addr: InetAddr, port: u16, key: &SipKey, offset: u32) -> u32 {
    let value = offset
        .wrapping_add(u32::from(port))
        .wrapping_add(addr.fold());
    // C hashes the bytes of the `unsigned int` as they sit in memory.
    hsiphash(&value.to_ne_bytes(), key)
}
