// SPDX-License-Identifier: GPL-2.0

//! What a scheduler reads: the destinations of a service and the client being scheduled.
//!
//! The schedulers (`rr`, `wrr`, `sh`, `wlc`) receive a service's destinations as a slice in C
//! list order: index 0 is the first entry after the list head, which is the newest destination,
//! because C inserts new destinations at the head (`list_add_rcu` in `__ip_vs_update_dest`).

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
    #[allow(
        dead_code,
        reason = "the IPv6 packet path is not implemented yet; host tests use it"
    )]
    V6([u32; 4]),
}

/// What a scheduler reads of the packet being scheduled and of its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    /// The client address the packet comes from (for an ICMP error about a reply, C's
    /// `ip_vs_iph_inverse()` case, the packet's destination address).
    pub(crate) addr: InetAddr,
    /// The client's source port in host byte order, 0 for protocols without ports.
    pub(crate) port: u16,
    /// The service flags (`svc->flags`, `IP_VS_SVC_F_*`).
    pub(crate) service_flags: u32,
}
