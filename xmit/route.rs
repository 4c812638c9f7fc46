// SPDX-License-Identifier: GPL-2.0

//! The route to a real server (C: `__ip_vs_get_out_rt` with `crosses_local_route_boundary`,
//! `decrement_ttl` and `ensure_mtu_is_adequate`), shared by the transmitters, which differ in
//! the route modes they pass.

use crate::{
    ffi::{
        net::Net,
        skb::{
            Lookup, //
            Route,
            Route6,
            Skb,
        },
    },
    packet::{
        icmp, //
        icmpv6,
        v4_of,
        IpHeader,
        NfInetAddr,
        IPV4_TTL_OFFSET,
        IPV6_HOP_LIMIT_OFFSET,
    },
};

/// The `IP_VS_RT_MODE_*` of a transmitter. Every transmitter accepts a destination elsewhere
/// (`NON_LOCAL`).
#[derive(Clone, Copy)]
pub(crate) struct Mode {
    /// `LOCAL`: the destination may be this host (every transmitter but the bypass's).
    pub(crate) local: bool,
    /// `RDR`: a packet not addressed to this host may be redirected to a local real server.
    pub(crate) redirect: bool,
    /// How the route is looked up (`KNOWN_NH`, `CONNECT`).
    pub(crate) lookup: Lookup,
    /// `TUNNEL`: the packet will be encapsulated.
    pub(crate) tunnel: Option<TunnelMtu>,
}

/// What the MTU checks of a tunnelled packet take.
#[derive(Clone, Copy)]
pub(crate) struct TunnelMtu {
    /// Bytes the encapsulation adds.
    pub(crate) overhead: u32,
    /// `pmtu_disc`: without it a tunnelled packet too big for the path is fragmented, not
    /// refused.
    pub(crate) pmtu_disc: bool,
}

/// What [`out_route`] checks besides the route.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum MtuCheck {
    /// A packet of a connection: too big with DF set gets "fragmentation needed", unless the
    /// packet is tunnelled and `pmtu_disc` is off.
    Packet,
    /// An ICMP error being forwarded (C: `ip_vs_iph_icmp`): never checked.
    IcmpError,
}

/// Where [`out_route`] sends a packet.
pub(crate) enum OutRoute {
    /// The real server is this host: the packet keeps its route and continues.
    Local,
    /// Through LOCAL_OUT along `route`, from `saddr` when the mode binds one.
    Remote {
        /// The route, not yet attached to the packet.
        route: Route,
        /// The source address the lookup selected.
        saddr: [u8; 4],
    },
    /// Through LOCAL_OUT along the IPv6 `route`.
    Remote6 {
        /// The route, not yet attached to the packet.
        route: Route6,
    },
}

/// The smallest MTU a tunnel accepts (`mtu < 68` fails).
const MIN_TUNNEL_MTU: u32 = 68;

/// `__ip_vs_get_out_rt`: where the packet to the real server at `daddr` goes, or [`None`]
/// when it must be dropped, after telling its sender when C does (host unreachable, time
/// exceeded, fragmentation needed). A packet sent to a remote server has its TTL decreased.
pub(crate) fn out_route(
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &IpHeader,
    daddr: [u8; 4],
    mode: Mode,
    mtu_check: MtuCheck,
) -> Option<OutRoute> {
    let Ok((route, saddr)) = Route::output(net, daddr, mode.lookup) else {
        skb.link_failure();
        return None;
    };
    // `crosses_local_route_boundary`.
    if route.is_local() {
        // Without RDR only a packet already bound for this host may stay here.
        if !mode.local || (!mode.redirect && !skb.route_is_local()) {
            return None;
        }
        return Some(OutRoute::Local);
    }
    // A loopback source does not leave the host.
    if v4_of(&iph.saddr)[0] == 127 {
        return None;
    }
    // `decrement_ttl`.
    if iph.ttl <= 1 {
        skb.icmp_send(icmp::TIME_EXCEEDED, icmp::EXC_TTL);
        return None;
    }
    // `ip_decrease_ttl`, checksum included: an ICMP error below quotes this header, and a
    // tunnel encapsulates it as it is.
    let mut w = skb.make_writable(iph.transport_offset).ok()?;
    w.write(iph.offset.checked_add(IPV4_TTL_OFFSET)?, &[iph.ttl - 1])
        .ok()?;
    w.ip_send_check().ok()?;
    let mut mtu = route.mtu();
    if let Some(tunnel) = mode.tunnel {
        mtu = mtu.checked_sub(tunnel.overhead)?;
        if mtu < MIN_TUNNEL_MTU {
            return None;
        }
        skb.update_local_pmtu(mtu);
    }
    // `ensure_mtu_is_adequate`.
    let checked = mtu_check == MtuCheck::Packet && mode.tunnel.is_none_or(|t| t.pmtu_disc);
    if checked && iph.dont_fragment && skb.exceeds_mtu(mtu) {
        skb.icmp_send_info(icmp::DEST_UNREACH, icmp::FRAG_NEEDED, mtu);
        return None;
    }
    Some(OutRoute::Remote { route, saddr })
}

/// The smallest IPv6 MTU (`IPV6_MIN_MTU`).
const IPV6_MIN_MTU: u32 = 1280;

/// The IPv6 loopback address, `::1`.
const IPV6_LOOPBACK: NfInetAddr = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// `__ip_vs_get_out_rt_v6` for an IPv6 packet to the real server at `daddr`, with the checks
/// of [`out_route`] in their IPv6 forms: hop limit, "packet too big" (also for an ICMP error
/// being forwarded, which is dropped without one, as in C). No tunnel mode yet.
pub(crate) fn out_route6(
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &IpHeader,
    daddr: &NfInetAddr,
    mode: Mode,
    mtu_check: MtuCheck,
) -> Option<OutRoute> {
    if mode.tunnel.is_some() {
        return None;
    }
    let Ok((route, _saddr)) = Route6::output(net, daddr, mode.lookup.known_nh) else {
        skb.link_failure6();
        return None;
    };
    // `crosses_local_route_boundary`.
    if route.is_local() {
        if !mode.local || (!mode.redirect && !skb.route_is_local6()) {
            return None;
        }
        return Some(OutRoute::Local);
    }
    // A loopback source of this host does not leave it.
    if iph.saddr == IPV6_LOOPBACK && skb.is_from_local() {
        return None;
    }
    // `decrement_ttl`: the error comes from the output device's address.
    if iph.ttl <= 1 {
        skb.icmpv6_send(net, icmpv6::TIME_EXCEED, icmpv6::EXC_HOPLIMIT, 0, true);
        return None;
    }
    let hop_limit_at = iph.offset.checked_add(IPV6_HOP_LIMIT_OFFSET)?;
    let mut w = skb.make_writable(hop_limit_at.checked_add(1)?).ok()?;
    w.write(hop_limit_at, &[iph.ttl - 1]).ok()?;
    let mtu = route.mtu();
    if mtu < IPV6_MIN_MTU {
        return None;
    }
    skb.update_local_pmtu(mtu);
    // `ensure_mtu_is_adequate`: "packet too big" on the first fragment of a packet of a
    // connection only.
    if skb.exceeds_mtu6(mtu) {
        if mtu_check == MtuCheck::Packet && !iph.later_fragment() {
            skb.icmpv6_send(net, icmpv6::PKT_TOOBIG, 0, mtu, false);
        }
        return None;
    }
    Some(OutRoute::Remote6 { route })
}

/// [`out_route`] or [`out_route6`], by the packet's family, to the real server at `daddr`.
pub(crate) fn out_route_to(
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &IpHeader,
    daddr: &NfInetAddr,
    mode: Mode,
    mtu_check: MtuCheck,
) -> Option<OutRoute> {
    if iph.af == crate::uapi::AF_INET6 {
        out_route6(net, skb, iph, daddr, mode, mtu_check)
    } else {
        out_route(net, skb, iph, v4_of(daddr), mode, mtu_check)
    }
}
