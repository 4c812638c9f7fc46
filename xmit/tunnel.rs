// SPDX-License-Identifier: GPL-2.0

//! Tunnelling (C: `ip_vs_tunnel_xmit`): the packet is encapsulated in an IPv4 header from the
//! director to the real server, in IP-in-IP, GUE or GRE as the destination says
//! ([`super::encap`]); the real server decapsulates it and answers the client directly.

use crate::{
    conn::Conn,
    ffi::{
        net::Net,
        netfilter::Verdict,
        skb::{
            Lookup, //
            Skb,
            TunnelSkb,
        },
    },
    packet::{
        v4_of, //
        IpHeader,
    },
    sysctl::{
        Sysctl, //
        Sysctls,
    },
    uapi::{
        conn_flags, //
        ipproto,
        AF_INET,
    },
    xmit::{
        encap::{
            gue_header, //
            outer_header,
            udp_header,
            Encap,
            ETH_P_IP,
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

/// The segmentation offload type of a tunnelled packet (`__tun_gso_type_mask` and the GUE
/// and GRE bits of `ip_vs_tunnel_xmit`).
fn gso_type(encap: Encap, partial: bool) -> u32 {
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
    (bindings::SKB_GSO_IPXIP4 | tunnel) as u32
}

/// Pushes the headers between the outer IPv4 header and the inner packet (`ipvs_gue_encap`,
/// `ipvs_gre_encap`).
fn push_encap(
    net: &Net,
    skb: &mut TunnelSkb,
    encap: Encap,
    saddr: [u8; 4],
    daddr: [u8; 4],
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
            let (gue, gue_len) = gue_header(ipproto::IPIP, remote);
            skb.push_transport(gue.get(..gue_len).ok_or(EINVAL)?)?;
            let udp_len = skb.len().saturating_add(8);
            let udp_len = u16::try_from(udp_len).unwrap_or(0);
            skb.push_transport(&udp_header(sport, port, udp_len))?;
            skb.udp_set_checksum(!(csum || remcsum), saddr, daddr);
            Ok(())
        }
        Encap::Gre { csum } => skb.push_gre(ETH_P_IP, csum, encap.header_len(false)),
    }
}

/// `ip_vs_tunnel_xmit`: sends the packet whose IP header is `iph` to `conn`'s real server in
/// a tunnel; an ICMP error about the connection is sent the same way, with `mtu_check` off.
pub(crate) fn xmit(
    sysctl: &Sysctls,
    net: &Net,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    conn: &Conn,
    mtu_check: MtuCheck,
) -> Verdict {
    // An IPv6 real server behind an IPv4 service takes IPv4 in IPv6
    // (`ip_vs_tunnel_xmit_v6`), which comes with the IPv6 data path: until then its packets
    // are dropped, never sent to the first bytes of its address.
    if conn.dest.as_deref().is_some_and(|dest| dest.af != AF_INET) {
        return Verdict::Drop;
    }
    let pmtu_disc = sysctl.enabled(Sysctl::PmtuDisc);
    let encap = encap_of(conn);
    let partial = skb.checksum_partial();
    let mode = Mode {
        local: true,
        redirect: false,
        lookup: Lookup {
            known_nh: false,
            connect: true,
        },
        tunnel: Some(TunnelMtu {
            overhead: encap.overhead(partial),
            pmtu_disc,
        }),
    };
    let daddr = v4_of(&conn.daddr);
    let (route, saddr) = match out_route(net, &mut skb, iph, daddr, mode, mtu_check) {
        None => return Verdict::Drop,
        Some(OutRoute::Remote { route, saddr }) => (route, saddr),
        Some(local) => return send_or_cont(net, skb, local, conn),
    };
    let headroom = route
        .link_headroom()
        .saturating_add(encap.overhead(partial));
    let Some(mut tunnel) =
        skb.into_tunnel(route, headroom, gso_type(encap, partial), ipproto::IPIP)
    else {
        return Verdict::Stolen;
    };
    if push_encap(net, &mut tunnel, encap, saddr, daddr).is_err() {
        // Dropping the packet frees it, as C's `tx_error`.
        return Verdict::Stolen;
    }
    // The route decreased the inner TTL; the outer header carries the new one, and DF only
    // with path MTU discovery.
    let ttl = iph.ttl.saturating_sub(1);
    let df = pmtu_disc && iph.dont_fragment;
    let header = outer_header(encap.outer_protocol(), iph.tos, ttl, df, saddr, daddr);
    let nfct = conn.flags.load(Relaxed) & conn_flags::NFCT != 0;
    // A failed send freed the packet.
    let _ = tunnel.send(net, &header, nfct);
    Verdict::Stolen
}
