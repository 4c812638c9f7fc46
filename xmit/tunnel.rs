// SPDX-License-Identifier: GPL-2.0

//! Tunnelling (C: `ip_vs_tunnel_xmit`, `ip_vs_tunnel_xmit_v6`): the packet is encapsulated in
//! an IPv4 or IPv6 header, of the real server's family, from the director to the real server,
//! in IP-in-IP, GUE or GRE as the destination says ([`super::encap`]); the real server
//! decapsulates it and answers the client directly. The inner packet may be of the other
//! family (an IPv4 service with an IPv6 real server, or the reverse: C's mixed-family
//! destinations, allowed for tunnels only).

use crate::{
    conn::Conn,
    ffi::{
        net::Net,
        netfilter::Verdict,
        skb::{
            Lookup, //
            Skb,
            TunnelRoute,
            TunnelSkb,
        },
    },
    packet::{
        nf_inet_v4, //
        v4_of,
        IpHeader,
        NfInetAddr,
    },
    sysctl::{
        Sysctl, //
        Sysctls,
    },
    uapi::{
        conn_flags, //
        AF_INET6,
    },
    xmit::{
        encap::{
            gre_protocol, //
            gue_header,
            inner_protocol,
            outer_header,
            outer_header6,
            udp_header,
            Encap,
        },
        route::{
            out_route, //
            Mode,
            MtuCheck,
            OutRoute,
            TunnelMtu,
        },
        send_or_cont,
    },
};
use kernel::{
    bindings,
    prelude::*,
    sync::atomic::Relaxed, //
};

/// The encapsulation of `conn`'s destination now (C reads `cp->dest` at each packet).
fn encap_of(conn: &Conn) -> Encap {
    conn.dest.as_deref().map_or(Encap::Ipip, |dest| {
        Encap::of(
            dest.tun_type.load(Relaxed) as u8,
            dest.tun_port.load(Relaxed) as u16,
            dest.tun_flags.load(Relaxed) as u16,
        )
    })
}

/// The segmentation offload type of a tunnelled packet (`__tun_gso_type_mask` of the outer
/// family, `outer_v6`, and the GUE and GRE bits of `ip_vs_tunnel_xmit`).
fn gso_type(encap: Encap, partial: bool, outer_v6: bool) -> u32 {
    let tunnel = match encap {
        Encap::Ipip => 0,
        Encap::Gue { csum, remcsum, .. } => {
            let udp = if csum || remcsum {
                bindings::SKB_GSO_UDP_TUNNEL_CSUM
            } else {
                bindings::SKB_GSO_UDP_TUNNEL
            };
            let remote = if encap.remote_checksum(partial) {
                bindings::SKB_GSO_TUNNEL_REMCSUM
            } else {
                0
            };
            udp | remote
        }
        Encap::Gre { csum: true } => bindings::SKB_GSO_GRE_CSUM,
        Encap::Gre { csum: false } => bindings::SKB_GSO_GRE,
    };
    let ipxip = if outer_v6 {
        bindings::SKB_GSO_IPXIP6
    } else {
        bindings::SKB_GSO_IPXIP4
    };
    (ipxip | tunnel) as u32
}

/// Pushes the headers between the outer IP header and the inner packet, of protocol
/// `inner` (`ipvs_gue_encap`, `ipvs_gre_encap`), for a tunnel from `saddr` to `daddr`.
fn push_encap(
    net: &Net,
    skb: &mut TunnelSkb<'_>,
    encap: Encap,
    inner_v6: bool,
    saddr: &NfInetAddr,
    daddr: &NfInetAddr,
) -> Result {
    match encap {
        Encap::Ipip => Ok(()),
        Encap::Gue {
            port,
            csum,
            remcsum,
        } => {
            let sport = skb.flow_source_port(net);
            let remote = if encap.remote_checksum(skb.checksum_partial()) {
                let (start, offset) = skb.partial_checksum_offsets();
                let start = u16::try_from(start).map_err(|_| EINVAL)?;
                skb.hand_checksum_to_receiver();
                Some((start, start.wrapping_add(offset)))
            } else {
                None
            };
            let (gue, gue_len) = gue_header(inner_protocol(inner_v6), remote);
            skb.push_transport(gue.get(..gue_len).ok_or(EINVAL)?)?;
            let udp_len = skb.len().saturating_add(8);
            let udp_len = u16::try_from(udp_len).unwrap_or(0);
            skb.push_transport(&udp_header(sport, port, udp_len))?;
            skb.udp_set_checksum(!(csum || remcsum), saddr, daddr);
            Ok(())
        }
        Encap::Gre { csum } => skb.push_gre(gre_protocol(inner_v6), csum, encap.header_len(false)),
    }
}

/// `ip_vs_tunnel_xmit` (an IPv4 real server) and `ip_vs_tunnel_xmit_v6` (IPv6): sends the
/// packet whose IP header is `iph` to `conn`'s real server in a tunnel; an ICMP error about
/// the connection is sent the same way, with `mtu_check` off.
pub(crate) fn xmit(
    sysctl: &Sysctls,
    net: &Net,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    conn: &Conn,
    mtu_check: MtuCheck,
) -> Verdict {
    let daf = conn.daf();
    let outer_v6 = daf == AF_INET6;
    let inner_v6 = iph.af == AF_INET6;
    let pmtu_disc = sysctl.enabled(Sysctl::PmtuDisc);
    let encap = encap_of(conn);
    let partial = skb.checksum_partial();
    let mode = Mode {
        local: true,
        redirect: false,
        lookup: Lookup {
            known_nh: false,
            // An IPv4 route is bound to the source it selects; C looks IPv6 routes up the
            // same way with or without.
            connect: true,
        },
        tunnel: Some(TunnelMtu {
            overhead: encap.header_len(partial),
            pmtu_disc,
        }),
    };
    let (route, saddr) = match out_route(
        net,
        &mut skb,
        iph,
        conn.dest.as_deref(),
        daf,
        &conn.daddr,
        mode,
        mtu_check,
    ) {
        None => return Verdict::Drop,
        Some(OutRoute::Remote { route, saddr }) => (TunnelRoute::V4(route), nf_inet_v4(saddr)),
        Some(OutRoute::Remote6 { route, saddr }) => (TunnelRoute::V6(route), saddr),
        Some(local) => return send_or_cont(net, skb, local, conn),
    };
    let headroom = route
        .link_headroom()
        .saturating_add(encap.overhead(partial, outer_v6));
    let gso = gso_type(encap, partial, outer_v6);
    let Some(mut tunnel) = skb.into_tunnel(route, headroom, gso, inner_protocol(inner_v6)) else {
        return Verdict::Stolen;
    };
    if push_encap(net, &mut tunnel, encap, inner_v6, &saddr, &conn.daddr).is_err() {
        // Dropping the packet frees it, as C's `tx_error`.
        return Verdict::Stolen;
    }
    // The route decreased the inner TTL or hop limit; the outer header carries the new one.
    let ttl = iph.ttl.saturating_sub(1);
    let protocol = encap.outer_protocol(inner_v6);
    let nfct = conn.flags.load(Relaxed) & conn_flags::NFCT != 0;
    // A failed send freed the packet.
    let _ = if tunnel.is_v6() {
        let payload_len = u16::try_from(tunnel.len()).unwrap_or(0);
        let header = outer_header6(protocol, iph.tos, ttl, payload_len, &saddr, &conn.daddr);
        tunnel.send(net, &header, nfct)
    } else {
        // DF only from an IPv4 packet, and with path MTU discovery.
        let df = pmtu_disc && !inner_v6 && iph.dont_fragment;
        let (saddr, daddr) = (v4_of(&saddr), v4_of(&conn.daddr));
        let header = outer_header(protocol, iph.tos, ttl, df, saddr, daddr);
        tunnel.send(net, &header, nfct)
    };
    Verdict::Stolen
}
