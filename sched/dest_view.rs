// SPDX-License-Identifier: GPL-2.0

//! What a scheduler reads (the destinations of a service and the client being scheduled) and
//! what every scheduler implements ([`Algorithm`]).
//!
//! The schedulers receive a service's destinations as a slice in C
//! list order: index 0 is the first entry after the list head, which is the newest destination,
//! because C inserts new destinations at the head (`list_add_rcu` in `__ip_vs_update_dest`).

use crate::uapi::svc_flags;

/// What a scheduler reads of a destination (C: `struct ip_vs_dest`).
pub(crate) trait DestView {
    /// The configured weight (`dest->weight`); 0 quiesces the destination.
    fn weight(&self) -> i32;

    /// Whether the destination is over its upper connection threshold (`IP_VS_DEST_F_OVERLOAD`).
    fn overloaded(&self) -> bool;

    /// Connections in an active state (`dest->activeconns`).
    fn active_conns(&self) -> u32;

    /// Connections in an inactive state (`ip_vs_dest_inactconns()`).
    fn inactive_conns(&self) -> u32;

    /// All connections bound to the destination (`dest->totalconns`).
    ///
    /// C keeps `totalconns` and derives the inactive count from it; the default sums the two
    /// counters above, which is the same value whenever `totalconns >= activeconns`. An
    /// implementation that keeps the total itself should return it here.
    fn total_conns(&self) -> u32 {
        self.active_conns().wrapping_add(self.inactive_conns())
    }

    /// The latest non-zero weight, or the weight the destination was added with
    /// (`dest->last_weight`): Maglev hashing keeps a quiesced destination's table slots.
    fn last_weight(&self) -> i32;

    /// The real server's address.
    fn addr(&self) -> InetAddr;

    /// The real server's port in host byte order.
    fn port(&self) -> u16;

    /// Whether a new connection may go here: a positive weight and not overloaded (C's
    /// `!is_unavailable()` of sh and mh, rr's test).
    fn is_available(&self) -> bool {
        self.weight() > 0 && !self.overloaded()
    }
}

/// The callbacks of a scheduler (C: `struct ip_vs_scheduler`), called under the service's
/// scheduling lock with the destination list in C order.
///
/// The three list callbacks default to [`Algorithm::dests_changed`], which defaults to doing
/// nothing: a scheduler whose state is rebuilt from the list on every change (C's
/// `*_dest_changed` for all three) implements only that, one without list state (C leaves
/// the callbacks `NULL`) implements none.
pub(crate) trait Algorithm {
    /// The destination list changed in any way: rebuild what depends on it.
    fn dests_changed<D: DestView>(&mut self, _dests: &[D]) {}

    /// A destination was inserted at `index` of `dests_after` (`add_dest`).
    fn dest_added<D: DestView>(&mut self, dests_after: &[D], _index: usize) {
        self.dests_changed(dests_after);
    }

    /// The destination at `removed_index` was removed, leaving `dests_after` (`del_dest`).
    fn dest_removed<D: DestView>(&mut self, dests_after: &[D], _removed_index: usize) {
        self.dests_changed(dests_after);
    }

    /// A destination's weight or thresholds changed (`upd_dest`).
    fn dest_updated<D: DestView>(&mut self, dests: &[D]) {
        self.dests_changed(dests);
    }

    /// Picks a destination for a new connection (`schedule`): an index into `dests`, or
    /// [`None`] when none is available.
    fn schedule<D: DestView>(&mut self, dests: &[D], client: &ClientInfo) -> Option<usize>;
}

/// A source of uniformly distributed random numbers (C: `get_random_u32_below()`).
pub(crate) trait Random {
    /// A number in `0..ceil`, for a `ceil` above 0.
    fn u32_below(&mut self, ceil: u32) -> u32;
}

/// The kernel's `hash_32()`: the top `bits` bits of `value` times `GOLDEN_RATIO_32`.
pub(crate) fn hash_32(value: u32, bits: u32) -> u32 {
    /// The multiplier of `hash_32()` (`GOLDEN_RATIO_32`).
    const GOLDEN_RATIO_32: u32 = 0x61C8_8647;
    value
        .wrapping_mul(GOLDEN_RATIO_32)
        .checked_shr(u32::BITS.saturating_sub(bits))
        .unwrap_or(0)
}

/// An IPv4 or IPv6 address, each 32-bit word in host byte order.
///
/// `V4(0x0a00_0002)` is 10.0.0.2; `V6` holds the four words of the address, most significant
/// first, so `2001:db8::1` is `[0x2001_0db8, 0, 0, 1]` (C: `ntohl()` of each `ip6[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InetAddr {
    /// An IPv4 address.
    V4(u32),
    /// An IPv6 address.
    V6([u32; 4]),
}

impl InetAddr {
    /// The address folded to 32 bits in host byte order, as the hashing schedulers take it:
    /// an IPv4 address itself, the XOR of an IPv6 address's words (C: `addr_fold`, whose
    /// `ntohl()` of XORed big-endian words equals the XOR of the host-order words).
    pub(crate) fn fold(&self) -> u32 {
        match *self {
            InetAddr::V4(addr) => addr,
            InetAddr::V6([a, b, c, d]) => a ^ b ^ c ^ d,
        }
    }
}

/// What a scheduler reads of the packet being scheduled and of its service.
///
/// The hashing schedulers (sh, mh) share the meaning of the service's scheduler flags 1
/// (fall back to another server) and 2 (hash the source port too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    /// The client address the packet comes from (for an ICMP error about a reply, C's
    /// `ip_vs_iph_inverse()` case, the packet's destination address).
    pub(crate) addr: InetAddr,
    /// The client's source port in host byte order, 0 for protocols without ports.
    pub(crate) port: u16,
    /// The address the packet is sent to (`iph->daddr`), which the destination hashing
    /// scheduler hashes.
    pub(crate) daddr: InetAddr,
    /// The service flags (`svc->flags`, `IP_VS_SVC_F_*`).
    pub(crate) service_flags: u32,
}

impl ClientInfo {
    /// The source port, when the service asks the hashing schedulers to hash it
    /// (`IP_VS_SVC_F_SCHED2`: sh-port, mh-port); 0 otherwise.
    pub(crate) fn hashed_port(&self) -> u16 {
        if self.service_flags & svc_flags::SCHED2 != 0 {
            self.port
        } else {
            0
        }
    }

    /// Whether the service asks the hashing schedulers to fall back to another server when
    /// the hashed one is unavailable (`IP_VS_SVC_F_SCHED1`: sh-fallback, mh-fallback).
    pub(crate) fn wants_fallback(&self) -> bool {
        self.service_flags & svc_flags::SCHED1 != 0
    }
}
