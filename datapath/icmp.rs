// SPDX-License-Identifier: GPL-2.0

//! The ICMP halves of the request and reply paths (C: `ip_vs_in_icmp`, `ip_vs_out_icmp`,
//! `ip_vs_forward_icmp`): an ICMP error about a packet of a connection is translated for the
//! other side of the connection, and a router's error about one of the director's tunnel
//! packets is turned into an error for the client.

use super::{
    gather, //
    in_stats,
    out_stats,
    schedule::schedule_new,
};
use crate::ffi::rcu::ReadSection;
use crate::{
    conn::{
        ConnTable, //
        PacketKey,
    },
    ffi::{
        net::Net,
        netfilter::{
            HookPoint, //
            Verdict,
        },
        skb::{
            Lookup, //
            Route,
            Skb,
        },
    },
    netns::Ipvs,
    packet::{
        icmp, //
        icmpv6,
        v4_of,
        Control,
        IcmpError,
        IpHeader,
        Transport,
    },
    proto::Proto,
    service::{
        real_servers::RealServers, //
        ServiceTable,
    },
    sysctl::Sysctl,
    uapi::{
        self, //
        fwd,
        ipproto,
        tun_type,
    },
    xmit::{
        encap::{
            quoted_gre_len, //
            quoted_gue_len,
        },
        nat, Xmit,
    },
};
use kernel::sync::atomic::Relaxed;

/// What an ICMP packet is to IPVS.
enum Icmp {
    /// Not an error IPVS translates: handled like any other protocol (`*related = 0`).
    Unrelated,
    /// The final verdict, without a connection lookup.
    Verdict(Verdict),
    /// An error whose embedded packet may belong to a connection.
    Error(IcmpError),
}

/// The fields of an ICMP header IPVS reads.
#[derive(Clone, Copy)]
struct IcmpHeader {
    /// Type.
    ty: u8,
    /// Code.
    code: u8,
    /// The second word (`un`): a gateway, or the next-hop MTU in its low half.
    rest: [u8; 4],
}

/// Reads the ICMP or ICMPv6 header of an error IPVS translates; what any other packet gets:
/// ICMP's other types and ICMPv6's informational messages are unrelated, and an ICMPv6 error
/// behind a fragment header is accepted as it is (`ip_vs_in_icmp_v6`).
fn error_header(skb: &Skb<'_>, iph: &IpHeader) -> Result<IcmpHeader, Icmp> {
    let mut ic = [0u8; icmp::HEADER_LEN];
    let Some(&[ty, code, _, _, r0, r1, r2, r3]) = skb.read(iph.transport_offset, &mut ic) else {
        return Err(Icmp::Verdict(Verdict::Drop));
    };
    if iph.af == uapi::AF_INET6 {
        if ty & icmpv6::INFOMSG_MASK != 0 {
            return Err(Icmp::Unrelated);
        }
        if iph.more_fragments {
            return Err(Icmp::Verdict(Verdict::Accept));
        }
    } else if ty != icmp::DEST_UNREACH && ty != icmp::SOURCE_QUENCH && ty != icmp::TIME_EXCEEDED {
        return Err(Icmp::Unrelated);
    }
    Ok(IcmpHeader {
        ty,
        code,
        rest: [r0, r1, r2, r3],
    })
}

/// Parses an ICMP packet as `ip_vs_in_icmp` / `ip_vs_out_icmp` do, with bounds checks on the
/// embedded headers: truncated or bogus payloads are accepted and ignored.
fn parse(skb: &Skb<'_>, iph: &IpHeader) -> Icmp {
    if let Err(icmp) = error_header(skb, iph) {
        return icmp;
    }
    match iph.transport_offset.checked_add(icmp::HEADER_LEN) {
        Some(inner_offset) => embedded(skb, iph, inner_offset),
        None => Icmp::Verdict(Verdict::Accept),
    }
}

/// The packet the ICMP error of `iph` quotes at `inner_offset`, of the error's family, if IPVS
/// balances its protocol and its ports are there (a later fragment has none).
fn embedded(skb: &Skb<'_>, iph: &IpHeader, inner_offset: usize) -> Icmp {
    let icmp_offset = iph.transport_offset;
    let inner = if iph.af == uapi::AF_INET6 {
        IpHeader::parse_v6(skb, inner_offset)
    } else {
        IpHeader::parse_v4(skb, inner_offset)
    };
    let Some(inner) = inner else {
        return Icmp::Verdict(Verdict::Accept);
    };
    if Proto::lookup(inner.protocol).is_none() || inner.later_fragment() {
        return Icmp::Verdict(Verdict::Accept);
    }
    let mut raw = [0u8; 4];
    let Some(&[s0, s1, d0, d1]) = skb.read(inner.transport_offset, &mut raw) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    Icmp::Error(IcmpError {
        icmp_offset,
        inner,
        inner_ports: Transport {
            sport: u16::from_be_bytes([s0, s1]),
            dport: u16::from_be_bytes([d0, d1]),
            control: Control::Absent,
            csum_offset: None,
        },
    })
}

/// `ip_vs_in_icmp`: an ICMP error sent to the virtual service (or routed through the
/// director) about a packet the director sent to a client; a fragment is reassembled first,
/// and what is unrelated is accepted.
#[allow(clippy::too_many_arguments)]
pub(super) fn request_icmp(
    ipvs: &Ipvs,
    net: &Net,
    services: &ServiceTable,
    conns: &ConnTable,
    guard: &ReadSection,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    hook: HookPoint,
) -> Verdict {
    let mut iph = *iph;
    if iph.is_fragment() {
        (skb, iph) = match gather(net, hook, skb) {
            Ok(whole) => whole,
            Err(verdict) => return verdict,
        };
    }
    let tables = Tables {
        real_servers: &ipvs.real_servers,
        services,
        conns,
        guard,
    };
    translate_request_icmp(ipvs, net, &tables, skb, &iph, hook).unwrap_or(Verdict::Accept)
}

/// What the request path's ICMP half looks up in.
struct Tables<'a> {
    /// The real servers, for the tunnel destinations.
    real_servers: &'a RealServers,
    /// The services, which `schedule_icmp` schedules the quoted packet's connection by.
    services: &'a ServiceTable,
    /// The connections.
    conns: &'a ConnTable,
    /// The hook's read-side section.
    guard: &'a ReadSection,
}

/// The encapsulation in front of the packet an ICMP error quotes, when that packet is one the
/// director sent into a tunnel to a real server (C: the special case of `ip_vs_in_icmp` for
/// IPIP/UDP/GRE tunnel packets).
#[derive(Clone, Copy)]
struct TunnelQuote {
    /// The quoted outer IPv4 header.
    outer: IpHeader,
    /// Length of the UDP and GUE, or GRE, header after it (`ulen`; 0 for IP-in-IP).
    encap_len: usize,
}

/// What the packet an ICMP error quotes is, for the tunnel case.
enum Quoted {
    /// A packet of a connection, or nothing IPVS knows: the usual translation.
    Plain,
    /// A tunnel packet of the director's.
    Tunnel(TunnelQuote),
    /// An IP-in-IP packet that is not the director's, or a later fragment of a tunnel packet.
    Ignored,
}

/// Whether the quoted packet `outer` is one of the director's tunnel packets
/// (`ipvs_udp_decap`, `ipvs_gre_decap`, `ip_vs_find_tunnel`). Errors about them arrive at
/// LOCAL_IN, addressed to the director.
fn tunnel_quote(tables: &Tables<'_>, skb: &Skb<'_>, outer: &IpHeader) -> Quoted {
    let find = |tun_port| {
        tables
            .real_servers
            .find_tunnel(tables.guard, outer.af, &outer.daddr, tun_port)
    };
    match outer.protocol {
        ipproto::IPIP => {
            if outer.later_fragment() || !skb.route_is_local() {
                return Quoted::Ignored;
            }
            match find(0) {
                Some(tun_type::IPIP) => Quoted::Tunnel(TunnelQuote {
                    outer: *outer,
                    encap_len: 0,
                }),
                _ => Quoted::Ignored,
            }
        }
        ipproto::UDP | ipproto::GRE if skb.route_is_local() => {
            // A later fragment has no UDP or GRE header.
            if outer.later_fragment() {
                return Quoted::Ignored;
            }
            let at = outer.transport_offset;
            let encap_len = if outer.protocol == ipproto::UDP {
                let mut udp = [0u8; 12];
                skb.read(at, &mut udp).and_then(|h| match *h {
                    [_, _, d0, d1, _, _, _, _, g0, g1, g2, g3] => {
                        find(u16::from_be_bytes([d0, d1]))
                            .filter(|&t| t == tun_type::GUE)
                            .and_then(|_| quoted_gue_len([g0, g1, g2, g3]))
                    }
                    _ => None,
                })
            } else {
                let mut gre = [0u8; 4];
                skb.read(at, &mut gre).and_then(|h| match *h {
                    [f0, f1, p0, p1] => find(0)
                        .filter(|&t| t == tun_type::GRE)
                        .and_then(|_| quoted_gre_len([f0, f1, p0, p1])),
                    _ => None,
                })
            };
            match encap_len {
                Some(encap_len) => Quoted::Tunnel(TunnelQuote {
                    outer: *outer,
                    encap_len,
                }),
                None => Quoted::Plain,
            }
        }
        _ => Quoted::Plain,
    }
}

/// The lookup and translation of [`request_icmp`]; [`None`] when the error is unrelated.
fn translate_request_icmp(
    ipvs: &Ipvs,
    net: &Net,
    tables: &Tables<'_>,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    hook: HookPoint,
) -> Option<Verdict> {
    let header = match error_header(&skb, iph) {
        Ok(header) => header,
        Err(Icmp::Unrelated) => return None,
        Err(Icmp::Verdict(v)) => return Some(v),
        Err(Icmp::Error(_)) => return Some(Verdict::Accept),
    };
    let Some(quoted_at) = iph.transport_offset.checked_add(icmp::HEADER_LEN) else {
        return Some(Verdict::Accept);
    };
    // IPv4 only: the tunnels are.
    if iph.af == uapi::AF_INET {
        let Some(quoted) = IpHeader::parse_v4(&skb, quoted_at) else {
            return Some(Verdict::Accept);
        };
        match tunnel_quote(tables, &skb, &quoted) {
            Quoted::Plain => {}
            Quoted::Ignored => return Some(Verdict::Accept),
            Quoted::Tunnel(tunnel) => {
                return Some(tunnel_error(ipvs, net, tables, skb, iph, header, tunnel))
            }
        }
    }
    let conns = tables.conns;
    let guard = tables.guard;
    let err = match embedded(&skb, iph, quoted_at) {
        Icmp::Unrelated => return None,
        Icmp::Verdict(v) => return Some(v),
        Icmp::Error(err) => err,
    };
    // The embedded packet went virtual service -> client: its addresses are reversed.
    let key = PacketKey::new(&err.inner, &err.inner_ports).inverse();
    let conn = match conns.in_get(guard, &key) {
        Some(conn) => conn,
        // `schedule_icmp`: the connection the quoted packet would have had is scheduled, and
        // the error goes to its real server (C: `ip_vs_try_to_schedule` from `ip_vs_in_icmp`).
        None if ipvs.sysctl.enabled(Sysctl::ScheduleIcmp) => {
            let proto = Proto::lookup(err.inner.protocol)?;
            match schedule_new(ipvs, conns, tables.services, guard, &mut skb, proto, &key) {
                Ok(conn) => conn,
                Err(verdict) => return Some(verdict),
            }
        }
        None => return Some(Verdict::Accept),
    };
    let xmit = Xmit::of(&conn);
    let verdict = if conn.flags.load(Relaxed) & fwd::MASK == fwd::MASQ
        && !skb.checksum_ok(err.icmp_offset, iph.af)
    {
        Verdict::Drop
    } else {
        in_stats(ipvs, guard, &conn, skb.len());
        let verdict = xmit.transmit_icmp(&ipvs.sysctl, net, skb, iph, &err, &conn, hook);
        // C counts the error as a packet of a connection it forwards unchanged.
        if xmit != Xmit::Nat {
            conn.count_in_packet();
        }
        verdict
    };
    // A one-packet connection the error scheduled ends with it (C: `ip_vs_conn_put` of the
    // new connection, dropped or sent).
    conns.put_one_packet(&conn);
    Some(verdict)
}

/// The tunnel case of `ip_vs_in_icmp`: a router's error about a tunnel packet the director
/// sent for a client's request is sent to the client about its request, as if from the
/// virtual service; "fragmentation needed" first lowers the path MTU to the real server and
/// tells the client the room left inside the tunnel. The error is consumed.
fn tunnel_error(
    ipvs: &Ipvs,
    net: &Net,
    tables: &Tables<'_>,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    header: IcmpHeader,
    tunnel: TunnelQuote,
) -> Verdict {
    let outer = &tunnel.outer;
    let Some(request_at) = outer.transport_offset.checked_add(tunnel.encap_len) else {
        return Verdict::Accept;
    };
    // The quoted request: from the client, to the virtual service.
    let err = match embedded(&skb, iph, request_at) {
        Icmp::Error(err) => err,
        Icmp::Verdict(v) => return v,
        Icmp::Unrelated => return Verdict::Accept,
    };
    let Some(conn) = tables
        .conns
        .in_get(tables.guard, &PacketKey::new(&err.inner, &err.inner_ports))
    else {
        return Verdict::Accept;
    };
    if !skb.checksum_ok(err.icmp_offset, iph.af) {
        return Verdict::Drop;
    }
    let outer_len = outer.header_len();
    let request_len = err.inner.header_len();
    let mut info = u32::from_be_bytes(header.rest);
    let mut pulled = 0;
    if header.ty == icmp::DEST_UNREACH && header.code == icmp::FRAG_NEEDED {
        let [_, _, m0, m1] = header.rest;
        let mut mtu = u32::from(u16::from_be_bytes([m0, m1]));
        // The MTU the real server's packets were sent with (C: the destination's cached
        // route, before the update below reaches it).
        let sent_with = conn
            .dest
            .as_ref()
            .and_then(|d| Route::output(net, v4_of(&d.addr), TUNNEL_LOOKUP).ok())
            .map(|(route, _)| route.mtu());
        // The quoted tunnel packet's header becomes the network header.
        if skb.pull_to_network(outer.offset, outer_len).is_err() {
            skb.consume();
            return Verdict::Stolen;
        }
        pulled = outer.offset;
        skb.update_path_mtu(net, mtu);
        // A client that does not discover the path MTU learns nothing.
        if !err.inner.dont_fragment {
            skb.consume();
            return Verdict::Stolen;
        }
        if let Some(sent_with) = sent_with {
            mtu = sent_with;
        }
        let overhead = u32::try_from(outer_len.saturating_add(tunnel.encap_len)).unwrap_or(0);
        if mtu > MIN_MTU.saturating_add(overhead) {
            mtu -= overhead;
        }
        info = mtu;
    }
    // The quoted request becomes the packet the error is about.
    let Some(to_request) = err.inner.offset.checked_sub(pulled) else {
        skb.consume();
        return Verdict::Stolen;
    };
    if skb.pull_to_network(to_request, request_len).is_err()
        || skb.set_transport_offset(request_len).is_err()
        // Revalidated now that the header is in the linear part.
        || IpHeader::parse(&skb).is_none_or(|h| h.header_len() != request_len)
    {
        skb.consume();
        return Verdict::Stolen;
    }
    skb.icmp_send_info(header.ty, header.code, info);
    // The error counts as the connection's outgoing traffic, as in C.
    out_stats(ipvs, tables.guard, &conn, skb.len());
    skb.consume();
    Verdict::Stolen
}

/// The smallest MTU the tunnel case tells a client of, plus the tunnel's headers.
const MIN_MTU: u32 = 68;

/// The route lookup of a tunnel destination (`IP_VS_RT_MODE_CONNECT`).
const TUNNEL_LOOKUP: Lookup = Lookup {
    known_nh: false,
    connect: true,
};

/// `ip_vs_out_icmp`: an ICMP error from a real server about a packet of a connection;
/// [`None`] when it is unrelated.
pub(super) fn reply_icmp(
    ipvs: &Ipvs,
    net: &Net,
    conns: &ConnTable,
    guard: &ReadSection,
    skb: &mut Skb<'_>,
    iph: &IpHeader,
    hook: HookPoint,
) -> Option<Verdict> {
    let err = match parse(skb, iph) {
        Icmp::Unrelated => return None,
        Icmp::Verdict(v) => return Some(v),
        Icmp::Error(err) => err,
    };
    // The embedded packet went client -> real server: the reply's key, reversed.
    let key = PacketKey::new(&err.inner, &err.inner_ports).inverse();
    let conn = conns.out_get(guard, &key)?;
    let verdict = nat::icmp_response(&ipvs.sysctl, net, skb, iph, &err, &conn, hook);
    if verdict == Verdict::Accept {
        out_stats(ipvs, guard, &conn, skb.len());
    }
    Some(verdict)
}

/// ICMP errors routed through the director (`ip_vs_forward_icmp`).
#[inline(always)]
pub(crate) fn forward_icmp(ipvs: &Ipvs, net: &Net, hook: HookPoint, skb: Skb<'_>) -> Verdict {
    // Everything routed passes here: an IPv4 packet's protocol is checked first, as C reads
    // `ip_hdr(skb)->protocol` (IPv6 has its extension headers parsed first, as in C).
    if IpHeader::ipv4_protocol(&skb).is_some_and(|protocol| protocol != uapi::ipproto::ICMP) {
        return Verdict::Accept;
    }
    if ipvs.sync.backup_only(&ipvs.sysctl) {
        return Verdict::Accept;
    }
    let Some(iph) = IpHeader::parse(&skb).filter(IpHeader::is_icmp) else {
        return Verdict::Accept;
    };
    let guard = skb.rcu();
    let Some((services, conns)) = ipvs.tables(guard) else {
        return Verdict::Accept;
    };
    request_icmp(ipvs, net, services, conns, guard, skb, &iph, hook)
}
