// SPDX-License-Identifier: GPL-2.0

//! The route to a real server (C: `__ip_vs_get_out_rt` with `crosses_local_route_boundary`,
//! `decrement_ttl` and `ensure_mtu_is_adequate`), shared by the transmitters, which differ in
//! the route modes they pass.

use crate::ffi::rcu::ReadSection;
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
        IPV4_CSUM_OFFSET,
        IPV4_TTL_OFFSET,
        IPV6_HOP_LIMIT_OFFSET,
    },
    service::Dest,
    uapi::AF_INET6,
    xmit::encap,
};
use kernel::sync::atomic::Relaxed;

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
    /// Bytes the encapsulation adds after the outer IP header.
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
pub(crate) enum OutRoute<'g> {
    /// The real server is this host: the packet keeps its route and continues.
    Local,
    /// Through LOCAL_OUT along the IPv4 `route`, from `saddr` when the mode binds one.
    Remote {
        /// The route, not yet attached to the packet.
        route: Route<'g>,
        /// The source address the lookup selected.
        saddr: [u8; 4],
    },
    /// Through LOCAL_OUT along the IPv6 `route`.
    Remote6 {
        /// The route, not yet attached to the packet.
        route: Route6<'g>,
        /// The source address the lookup selected.
        saddr: NfInetAddr,
    },
}

/// The smallest MTU an IPv4 tunnel accepts (`mtu < 68` fails).
const MIN_TUNNEL_MTU: u32 = 68;

/// The smallest IPv6 MTU (`IPV6_MIN_MTU`), the smallest an IPv6 tunnel accepts.
const IPV6_MIN_MTU: u32 = 1280;

/// Length of the outer IPv4 header of a tunnel.
const IPV4_OUTER_LEN: u32 = 20;

/// Length of the outer IPv6 header of a tunnel.
const IPV6_OUTER_LEN: u32 = 40;

/// The IPv6 loopback address, `::1`.
const IPV6_LOOPBACK: NfInetAddr = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// A route just looked up, of the real server's family.
struct Found<'g> {
    /// What the packet will be sent along.
    remote: OutRoute<'g>,
    /// The route delivers to this host.
    local: bool,
    /// The route's MTU.
    mtu: u32,
}

/// The route to `daddr` of family `daf`: from `dest`'s cache when the packet is of a
/// connection bound to a real server (C's `dest_dst`), else `do_output_route4` or
/// `__ip_vs_route_output_v6`; [`None`] when there is no route (the caller tells the sender).
fn lookup<'g>(
    net: &Net,
    rcu: &'g ReadSection,
    dest: Option<&Dest>,
    daf: u16,
    daddr: &NfInetAddr,
    lookup: Lookup,
) -> Option<Found<'g>> {
    // A destination removed from its service (in the trash) caches nothing.
    let cacheable = || dest.is_some_and(|d| d.available.load(Relaxed));
    if daf == AF_INET6 {
        let (route, saddr) = match dest {
            Some(d) => d
                .route_cache
                .route6(net, rcu, &d.addr, lookup.known_nh, cacheable),
            None => Route6::output(net, daddr, lookup.known_nh),
        }
        .ok()?;
        Some(Found {
            local: route.is_local(),
            mtu: route.mtu(),
            remote: OutRoute::Remote6 { route, saddr },
        })
    } else {
        let (route, saddr) = match dest {
            Some(d) => d
                .route_cache
                .route(net, rcu, v4_of(&d.addr), lookup, cacheable),
            // "For such unconfigured boxes avoid many route lookups for performance reasons
            // because we do not remember saddr": no source binding without a destination.
            None => Route::output(
                net,
                v4_of(daddr),
                Lookup {
                    connect: false,
                    ..lookup
                },
            ),
        }
        .ok()?;
        Some(Found {
            local: route.is_local(),
            mtu: route.mtu(),
            remote: OutRoute::Remote { route, saddr },
        })
    }
}

/// `__ip_vs_get_out_rt` (real server `daddr` of family `daf` IPv4) or
/// `__ip_vs_get_out_rt_v6` (IPv6): where the packet whose IP header is `iph` goes, or
/// [`None`] when it must be dropped, after telling its sender when C does (host unreachable,
/// time exceeded, "fragmentation needed" or "packet too big"). The route is of the real
/// server's family; the checks are of the packet's (`skb_af`), which differs only for a
/// tunnel to a real server of the other family. A packet sent to a remote server has its TTL
/// or hop limit decreased. `dest` is the connection's real server (C: `cp->dest`), whose
/// route is cached; a tunnelled packet needs one.
#[expect(clippy::too_many_arguments)]
pub(crate) fn out_route<'a>(
    net: &Net,
    skb: &mut Skb<'a>,
    iph: &IpHeader,
    dest: Option<&Dest>,
    daf: u16,
    daddr: &NfInetAddr,
    mode: Mode,
    mtu_check: MtuCheck,
) -> Option<OutRoute<'a>> {
    let v6 = iph.af == AF_INET6;
    let Some(found) = lookup(net, skb.rcu(), dest, daf, daddr, mode.lookup) else {
        // `err_unreach`: the packet's own route tells its sender.
        if v6 {
            skb.link_failure6();
        } else {
            skb.link_failure();
        }
        return None;
    };
    // `crosses_local_route_boundary`, of the packet's family.
    if found.local {
        // Without RDR only a packet already bound for this host may stay here.
        let old_local = if v6 {
            skb.route_is_local6()
        } else {
            skb.route_is_local()
        };
        if !mode.local || (!mode.redirect && !old_local) {
            return None;
        }
        return Some(OutRoute::Local);
    }
    // A loopback source does not leave the host.
    let loopback_source = if v6 {
        iph.saddr == IPV6_LOOPBACK && skb.is_from_local()
    } else {
        v4_of(&iph.saddr)[0] == 127
    };
    if loopback_source {
        return None;
    }
    decrement_ttl(net, skb, iph)?;
    let mut mtu = found.mtu;
    if let Some(tunnel) = mode.tunnel {
        // The tunnel's settings are the destination's.
        dest?;
        let (outer, min) = if daf == AF_INET6 {
            (IPV6_OUTER_LEN, IPV6_MIN_MTU)
        } else {
            (IPV4_OUTER_LEN, MIN_TUNNEL_MTU)
        };
        mtu = mtu.checked_sub(outer.checked_add(tunnel.overhead)?)?;
        if mtu < min {
            return None;
        }
        skb.update_local_pmtu(mtu);
    }
    ensure_mtu_is_adequate(net, skb, iph, mode, mtu_check, mtu)?;
    Some(found.remote)
}

/// `decrement_ttl`: the packet's TTL (IPv4, header checksum updated: an ICMP error quotes
/// this header, and a tunnel encapsulates it as it is) or hop limit (IPv6) decreased, or
/// "time exceeded" to its sender and [`None`] when it reached 1 (an IPv6 one from the address
/// of the output device).
fn decrement_ttl(net: &Net, skb: &mut Skb<'_>, iph: &IpHeader) -> Option<()> {
    if iph.af == AF_INET6 {
        if iph.ttl <= 1 {
            skb.icmpv6_send(net, icmpv6::TIME_EXCEED, icmpv6::EXC_HOPLIMIT, 0, true);
            return None;
        }
        let hop_limit_at = iph.offset.checked_add(IPV6_HOP_LIMIT_OFFSET)?;
        let mut w = skb.make_writable(hop_limit_at.checked_add(1)?).ok()?;
        w.write(hop_limit_at, &[iph.ttl - 1]).ok()?;
    } else {
        if iph.ttl <= 1 {
            skb.icmp_send(icmp::TIME_EXCEEDED, icmp::EXC_TTL);
            return None;
        }
        let mut w = skb.make_writable(iph.transport_offset).ok()?;
        // `ip_decrease_ttl`: the header checksum is updated for the change.
        let csum_at = iph.offset.checked_add(IPV4_CSUM_OFFSET)?;
        let mut csum = [0u8; 2];
        let csum = *<&[u8; 2]>::try_from(w.read(csum_at, &mut csum)?).ok()?;
        w.write(iph.offset.checked_add(IPV4_TTL_OFFSET)?, &[iph.ttl - 1])
            .ok()?;
        w.write(csum_at, &encap::checksum_after_ttl_decrement(csum))
            .ok()?;
    }
    Some(())
}

/// `ensure_mtu_is_adequate`, of the packet's family: [`None`] for a packet too big for
/// `mtu`, after "packet too big" (IPv6, first fragment of a packet of a connection) or
/// "fragmentation needed" (IPv4 with DF, unless an ICMP error is being forwarded, or the
/// packet is tunnelled and `pmtu_disc` is off: it is then fragmented).
fn ensure_mtu_is_adequate(
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &IpHeader,
    mode: Mode,
    mtu_check: MtuCheck,
    mtu: u32,
) -> Option<()> {
    if iph.af == AF_INET6 {
        if skb.exceeds_mtu6(mtu) {
            if mtu_check == MtuCheck::Packet && !iph.later_fragment() {
                skb.icmpv6_send(net, icmpv6::PKT_TOOBIG, 0, mtu, false);
            }
            return None;
        }
        return Some(());
    }
    let checked = mtu_check == MtuCheck::Packet && mode.tunnel.is_none_or(|t| t.pmtu_disc);
    if checked && iph.dont_fragment && skb.exceeds_mtu(mtu) {
        skb.icmp_send_info(icmp::DEST_UNREACH, icmp::FRAG_NEEDED, mtu);
        return None;
    }
    Some(())
}
