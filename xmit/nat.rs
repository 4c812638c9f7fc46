// SPDX-License-Identifier: GPL-2.0

//! NAT (C: `ip_vs_nat_xmit`, `ip_vs_icmp_xmit`, `ip_vs_nat_icmp` and the SNAT half of
//! `handle_response` / `handle_response_icmp`): rewrite addresses, with the protocol's
//! handler rewriting ports and checksums, and route the packet to its new destination.

use crate::{
    conn::Conn,
    ffi::{
        net::Net,
        netfilter::{
            HookPoint, //
            Verdict,
        },
        skb::{
            Lookup, //
            Skb,
            Writable,
        },
    },
    packet::{
        v4_of, //
        IcmpError,
        IpHeader,
        NfInetAddr,
        IPV4_CSUM_OFFSET,
        IPV4_DADDR_OFFSET,
        IPV4_SADDR_OFFSET,
        IPV6_DADDR_OFFSET,
        IPV6_SADDR_OFFSET,
    },
    proto::Packet,
    sysctl::{
        Sysctl, //
        Sysctls,
    },
    uapi::{
        self, //
        fwd,
    },
    xmit::{
        conntrack,
        route::{
            out_route, //
            Mode,
            MtuCheck,
            OutRoute,
        },
        send_or_cont,
    },
};
use kernel::{
    prelude::*,
    sync::atomic::Relaxed, //
};

/// NAT's route modes: `LOCAL | NON_LOCAL | RDR`.
const MODE: Mode = Mode {
    local: true,
    redirect: true,
    lookup: Lookup {
        known_nh: false,
        connect: false,
    },
    tunnel: None,
};

/// Writes the address at `field` of the IP header at `iph` and recomputes the header checksum.
#[inline(always)]
fn set_ip_addr(w: &mut Writable<'_, '_>, iph: &IpHeader, field: usize, addr: [u8; 4]) -> Result {
    w.write(iph.offset.checked_add(field).ok_or(EINVAL)?, &addr)?;
    w.ip_send_check(iph.offset)
}

/// Writes the IPv6 address at `field` of the IPv6 header at `iph` (no header checksum).
fn set_ip6_addr(
    w: &mut Writable<'_, '_>,
    iph: &IpHeader,
    field: usize,
    addr: &NfInetAddr,
) -> Result {
    w.write(iph.offset.checked_add(field).ok_or(EINVAL)?, addr)
}

/// `ip_vs_nat_xmit` / `ip_vs_nat_xmit_v6`: DNAT a client packet to the real server and send
/// it.
pub(crate) fn xmit(net: &Net, mut skb: Skb<'_>, pkt: &Packet<'_>, conn: &Conn) -> Verdict {
    let iph = &pkt.iph;
    let v6 = iph.af == uapi::AF_INET6;
    let Some(route) = route_to_real_server(net, &mut skb, iph, conn, MODE, MtuCheck::Packet) else {
        return Verdict::Drop;
    };
    // Only SCTP asks whether the output device computes its checksum.
    let crc_offload = pkt.proto.uses_crc32c()
        && match &route {
            OutRoute::Local => skb.dst_offloads_sctp_crc(),
            OutRoute::Remote { route, .. } => route.offloads_sctp_crc(),
            OutRoute::Remote6 { route, .. } => route.offloads_sctp_crc(),
        };
    let Ok(mut w) = skb.make_writable(pkt.proto.nat_writable_len(iph)) else {
        return Verdict::Drop;
    };
    let rewritten = pkt
        .proto
        .dnat_handler(&mut w, iph, &pkt.l4, conn, crc_offload)
        .and_then(|()| {
            if v6 {
                set_ip6_addr(&mut w, iph, IPV6_DADDR_OFFSET, &conn.daddr)
            } else {
                set_ip_addr(&mut w, iph, IPV4_DADDR_OFFSET, v4_of(&conn.daddr))
            }
        });
    if rewritten.is_err() {
        return Verdict::Drop;
    }
    send_or_cont(net, skb, route, conn)
}

/// The route to `conn`'s real server ([`out_route`]), refusing to DNAT a packet that came
/// in from a link to a loopback address ("stopping DNAT to loopback address" of
/// `ip_vs_nat_xmit` and `ip_vs_icmp_xmit`, both families). Inlined: out of line it was a
/// call, six saved registers and a copy of the 41-byte route out of [`out_route`]'s result
/// into its own, on every NAT packet to a real server.
#[inline(always)]
fn route_to_real_server<'a>(
    net: &Net,
    skb: &mut Skb<'a>,
    iph: &IpHeader,
    conn: &Conn,
    mode: Mode,
    mtu_check: MtuCheck,
) -> Option<OutRoute<'a>> {
    // Whether the packet came in from a link, asked before its route is replaced.
    let from_world = if iph.af == uapi::AF_INET6 {
        !skb.is_from_local()
    } else {
        skb.route_is_input()
    };
    let route = out_route(
        net,
        skb,
        iph,
        conn.dest.as_deref(),
        iph.af,
        &conn.daddr,
        mode,
        mtu_check,
    )?;
    if matches!(route, OutRoute::Local) && from_world && is_loopback(iph.af, &conn.daddr) {
        return None;
    }
    Some(route)
}

/// A loopback address (`ipv4_is_loopback`, `IPV6_ADDR_LOOPBACK`).
fn is_loopback(af: u16, addr: &NfInetAddr) -> bool {
    if af == uapi::AF_INET6 {
        *addr == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    } else {
        addr.first() == Some(&127)
    }
}

/// The SNAT of `handle_response`: rewrite a real server's reply to come from the virtual
/// service, re-route it if needed and let it continue.
pub(crate) fn snat_response(
    sysctl: &Sysctls,
    net: &Net,
    skb: &mut Skb<'_>,
    pkt: &Packet<'_>,
    conn: &Conn,
    hook: HookPoint,
) -> Result {
    let iph = &pkt.iph;
    let v6 = iph.af == uapi::AF_INET6;
    let mut w = skb.make_writable(pkt.proto.nat_writable_len(iph))?;
    pkt.proto.snat_handler(&mut w, iph, &pkt.l4, conn)?;
    if v6 {
        set_ip6_addr(&mut w, iph, IPV6_SADDR_OFFSET, &conn.vaddr)?;
    } else {
        set_ip_addr(&mut w, iph, IPV4_SADDR_OFFSET, v4_of(&conn.vaddr))?;
    }
    // `ip_vs_route_me_harder`: replies to remote clients only.
    if hook != HookPoint::LocalIn && sysctl.enabled(Sysctl::SnatReroute) {
        if v6 {
            skb.route_me_harder6(net)?;
        } else {
            skb.route_me_harder(net)?;
        }
    }
    Ok(())
}

/// The end of `handle_response`: mark and (un)track the rewritten reply.
pub(crate) fn finish_response(skb: &mut Skb<'_>, conn: &Conn) {
    skb.set_ipvs_property();
    conntrack(skb, conn, false);
}

/// Ones' complement checksum of an IPv4 header with its checksum field zeroed (`ip_fast_csum`).
fn ipv4_header_checksum(header: &[u8]) -> [u8; 2] {
    let mut sum: u32 = 0;
    for (i, pair) in header.chunks(2).enumerate() {
        // The checksum itself.
        if i * 2 == IPV4_CSUM_OFFSET {
            continue;
        }
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([hi, lo])));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    (!(sum as u16)).to_be_bytes()
}

/// Recomputes the checksum of the embedded IPv4 header `inner`, which is writable.
fn fix_inner_checksum(w: &mut Writable<'_, '_>, inner: &IpHeader) -> Result {
    let mut buf = [0u8; 60];
    let header = buf.get_mut(..inner.header_len()).ok_or(EINVAL)?;
    let header = w.read(inner.offset, header).ok_or(EINVAL)?;
    let csum = ipv4_header_checksum(header);
    w.write(
        inner.offset.checked_add(IPV4_CSUM_OFFSET).ok_or(EINVAL)?,
        &csum,
    )
}

/// `ip_vs_nat_icmp`: rewrites the outer and embedded headers of an ICMP error. `reply` is the
/// direction real server -> client (`inout`): the error then appears to come from the virtual
/// service; otherwise it is redirected to the real server.
fn nat_icmp(
    w: &mut Writable<'_, '_>,
    iph: &IpHeader,
    err: &IcmpError,
    conn: &Conn,
    reply: bool,
) -> Result {
    let inner = &err.inner;
    let (addr, port_at, port) = if reply {
        (&conn.vaddr, 2, conn.vport)
    } else {
        (&conn.daddr, 0, conn.dport())
    };
    if iph.af == uapi::AF_INET6 {
        // `ip_vs_nat_icmp_v6`: no header checksums; the ICMPv6 one covers the addresses.
        let (outer_at, inner_at) = if reply {
            (IPV6_SADDR_OFFSET, IPV6_DADDR_OFFSET)
        } else {
            (IPV6_DADDR_OFFSET, IPV6_SADDR_OFFSET)
        };
        set_ip6_addr(w, iph, outer_at, addr)?;
        w.write(inner.offset.checked_add(inner_at).ok_or(EINVAL)?, addr)?;
        w.write(
            inner.transport_offset.checked_add(port_at).ok_or(EINVAL)?,
            &port.to_be_bytes(),
        )?;
        return w.icmpv6_update_checksum(err.icmp_offset);
    }
    let (outer_at, inner_at) = if reply {
        (IPV4_SADDR_OFFSET, IPV4_DADDR_OFFSET)
    } else {
        (IPV4_DADDR_OFFSET, IPV4_SADDR_OFFSET)
    };
    let addr = v4_of(addr);
    set_ip_addr(w, iph, outer_at, addr)?;
    w.write(inner.offset.checked_add(inner_at).ok_or(EINVAL)?, &addr)?;
    fix_inner_checksum(w, inner)?;
    w.write(
        inner.transport_offset.checked_add(port_at).ok_or(EINVAL)?,
        &port.to_be_bytes(),
    )?;
    w.icmp_update_checksum(err.icmp_offset)
}

/// Bytes an ICMP translation writes: through the embedded packet's ports.
fn icmp_writable_len(err: &IcmpError) -> usize {
    err.inner.transport_offset.saturating_add(4)
}

/// `ip_vs_icmp_xmit` / `ip_vs_icmp_xmit_v6` for NAT: an ICMP error from the client side
/// about a connection is redirected to its real server; one routed through the director
/// (`hook` FORWARD) only to a real server elsewhere.
pub(crate) fn icmp_xmit(
    net: &Net,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    err: &IcmpError,
    conn: &Conn,
    hook: HookPoint,
) -> Verdict {
    let mode = if hook == HookPoint::Forward {
        Mode {
            local: false,
            redirect: false,
            ..MODE
        }
    } else {
        MODE
    };
    let Some(route) = route_to_real_server(net, &mut skb, iph, conn, mode, MtuCheck::IcmpError)
    else {
        return Verdict::Drop;
    };
    let Ok(mut w) = skb.make_writable(icmp_writable_len(err)) else {
        return Verdict::Drop;
    };
    if nat_icmp(&mut w, iph, err, conn, false).is_err() {
        return Verdict::Drop;
    }
    send_or_cont(net, skb, route, conn)
}

/// `handle_response_icmp`: an ICMP error from a real server about a connection is made to come
/// from the virtual service.
pub(crate) fn icmp_response(
    sysctl: &Sysctls,
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &IpHeader,
    err: &IcmpError,
    conn: &Conn,
    hook: HookPoint,
) -> Verdict {
    // Another method's error comes from the virtual service already: counted and tracked as
    // it is.
    if conn.flags.load(Relaxed) & fwd::MASK != fwd::MASQ {
        finish_response(skb, conn);
        return Verdict::Accept;
    }
    if !skb.checksum_ok(err.icmp_offset, iph.af) {
        return Verdict::Drop;
    }
    let Ok(mut w) = skb.make_writable(icmp_writable_len(err)) else {
        return Verdict::Drop;
    };
    if nat_icmp(&mut w, iph, err, conn, true).is_err() {
        return Verdict::Drop;
    }
    if hook != HookPoint::LocalIn && sysctl.enabled(Sysctl::SnatReroute) {
        let rerouted = if iph.af == uapi::AF_INET6 {
            skb.route_me_harder6(net)
        } else {
            skb.route_me_harder(net)
        };
        if rerouted.is_err() {
            return Verdict::Drop;
        }
    }
    finish_response(skb, conn);
    Verdict::Accept
}
