// SPDX-License-Identifier: GPL-2.0

//! NAT transmit (C: `ip_vs_nat_xmit`, the protocols' `dnat_handler` / `snat_handler`, and the
//! SNAT half of `handle_response`): rewrite addresses and ports with correct checksums.

use crate::{
    conn::{
        flags, //
        Conn,
    },
    datapath::Ipv4Header,
    ffi::sysctl::Sysctl,
    ffi::{
        net::Net,
        netfilter::{
            HookPoint, //
            Verdict,
        },
        skb::{
            Route, //
            Skb,
        },
    },
    netns::NetState,
};
use kernel::{
    prelude::*,
    sync::atomic::Relaxed, //
};

/// `ICMP_DEST_UNREACH`.
const ICMP_DEST_UNREACH: u8 = 3;
/// `ICMP_FRAG_NEEDED`.
const ICMP_FRAG_NEEDED: u8 = 4;
/// `ICMP_TIME_EXCEEDED`.
const ICMP_TIME_EXCEEDED: u8 = 11;
/// `ICMP_EXC_TTL`.
const ICMP_EXC_TTL: u8 = 0;
/// Offset of the TTL in the IPv4 header.
const TTL_OFFSET: usize = 8;
/// Offset of the source address in the IPv4 header.
const SADDR_OFFSET: usize = 12;
/// Offset of the destination address in the IPv4 header.
const DADDR_OFFSET: usize = 16;

/// Where a protocol keeps its checksum, relative to the transport header; [`None`] when the
/// packet carries none (UDP with checksum 0).
fn l4_csum_offset(skb: &Skb<'_>, iph: &Ipv4Header) -> Option<usize> {
    let field = match u16::from(iph.protocol) {
        crate::ctl::uapi::IPPROTO_TCP => 16,
        crate::ctl::uapi::IPPROTO_UDP => 6,
        _ => return None,
    };
    let off = iph.transport_offset.checked_add(field)?;
    let mut csum = [0u8; 2];
    let csum = skb.read(off, &mut csum)?;
    if iph.protocol == 17 && csum == [0, 0] {
        return None;
    }
    Some(off)
}

/// Rewrites a 4-byte address field of the IP header and a 2-byte port field of the transport
/// header, fixing the transport checksum; the caller recomputes the IP header checksum.
fn rewrite(
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    addr_offset: usize,
    old_addr: [u8; 4],
    new_addr: [u8; 4],
    port_offset: usize,
    new_port: u16,
) -> Result {
    let port_at = iph
        .transport_offset
        .checked_add(port_offset)
        .ok_or(EINVAL)?;
    let mut buf = [0u8; 2];
    let old_port: [u8; 2] = skb
        .read(port_at, &mut buf)
        .and_then(|b| b.try_into().ok())
        .ok_or(EINVAL)?;
    let new_port = new_port.to_be_bytes();
    let csum = l4_csum_offset(skb, iph);
    skb.write(port_at, &new_port)?;
    skb.write(
        iph.offset.checked_add(addr_offset).ok_or(EINVAL)?,
        &new_addr,
    )?;
    if let Some(csum) = csum {
        skb.csum_replace2(csum, old_port, new_port);
        skb.csum_replace4(csum, old_addr, new_addr, true);
    }
    Ok(())
}

/// Bytes that must be writable: the IP header and the transport header up to its checksum.
fn writable_len(iph: &Ipv4Header) -> usize {
    let l4 = if iph.protocol == 6 { 18 } else { 8 };
    iph.transport_offset.saturating_add(l4)
}

/// Detaches conntrack, or for `conntrack=1` connections makes its reply direction describe
/// the real flow (`ip_vs_notrack` / `ip_vs_update_conntrack`): `outin` for client packets
/// after DNAT, else for replies after SNAT.
fn conntrack(skb: &mut Skb<'_>, conn: &Conn, outin: bool) {
    let f = conn.flags.load(Relaxed);
    if f & flags::NFCT == 0 {
        skb.notrack();
    } else if f & flags::FWD_MASK == crate::ctl::uapi::fwd::MASQ {
        if outin {
            skb.conntrack_alter_reply(true, conn.daddr, conn.dport());
        } else {
            skb.conntrack_alter_reply(false, conn.vaddr, conn.vport);
        }
    }
}

/// What [`out_route`] checks besides the route.
#[derive(PartialEq, Eq)]
enum MtuCheck {
    /// A packet of a connection: too big with DF set gets "fragmentation needed".
    Packet,
    /// An ICMP error being forwarded (C: `ip_vs_iph_icmp`): never checked.
    IcmpError,
}

/// `__ip_vs_get_out_rt` for NAT (`IP_VS_RT_MODE_LOCAL | NON_LOCAL | RDR`), with its
/// `decrement_ttl` and `ensure_mtu_is_adequate`: whether the real server at `daddr` is local
/// (the packet keeps its route), or [`None`] when the packet must be dropped, after telling
/// its sender when C does (host unreachable, time exceeded, fragmentation needed).
fn out_route(
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    daddr: [u8; 4],
    mtu_check: MtuCheck,
) -> Option<bool> {
    let Ok(route) = Route::output(net, daddr) else {
        skb.link_failure();
        return None;
    };
    if route.is_local() {
        return Some(true);
    }
    // `crosses_local_route_boundary`: a loopback source does not leave the host.
    if iph.saddr[0] == 127 {
        return None;
    }
    if iph.ttl <= 1 {
        skb.icmp_send(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
        return None;
    }
    // `ip_decrease_ttl`, checksum included: an ICMP error below quotes this header.
    skb.make_writable(iph.transport_offset).ok()?;
    skb.write(iph.offset.checked_add(TTL_OFFSET)?, &[iph.ttl - 1])
        .ok()?;
    skb.ip_send_check();
    let mtu = route.mtu();
    if mtu_check == MtuCheck::Packet && iph.dont_fragment && skb.exceeds_mtu(mtu) {
        skb.icmp_send_info(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu);
        return None;
    }
    skb.set_route(route);
    Some(false)
}

/// `ip_vs_nat_xmit`: DNAT a client packet to the real server and send it.
pub(crate) fn nat_xmit(net: &Net, mut skb: Skb<'_>, iph: &Ipv4Header, conn: &Conn) -> Verdict {
    let Some(local) = out_route(net, &mut skb, iph, conn.daddr, MtuCheck::Packet) else {
        return Verdict::Drop;
    };
    if skb.make_writable(writable_len(iph)).is_err() {
        return Verdict::Drop;
    }
    if rewrite(
        &mut skb,
        iph,
        DADDR_OFFSET,
        iph.daddr,
        conn.daddr,
        2,
        conn.dport(),
    )
    .is_err()
    {
        return Verdict::Drop;
    }
    skb.ip_send_check();
    skb.set_ipvs_property();
    conntrack(&mut skb, conn, true);
    if local {
        return Verdict::Accept;
    }
    skb.send_local_out(net);
    Verdict::Stolen
}

/// The SNAT of `handle_response`: rewrite a real server's reply to come from the virtual
/// service, re-route it if needed and let it continue.
pub(crate) fn snat_response(
    ipvs: &NetState,
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    conn: &Conn,
    hook: HookPoint,
) -> Result {
    skb.make_writable(writable_len(iph))?;
    rewrite(skb, iph, SADDR_OFFSET, iph.saddr, conn.vaddr, 0, conn.vport)?;
    skb.ip_send_check();
    if hook != HookPoint::LocalIn && ipvs.sysctl.get(Sysctl::SnatReroute) != 0 {
        skb.route_me_harder(net)?;
    }
    Ok(())
}

/// The end of `handle_response`: mark and (un)track the rewritten reply.
pub(crate) fn finish_response(skb: &mut Skb<'_>, conn: &Conn) {
    skb.set_ipvs_property();
    conntrack(skb, conn, false);
}

/// Ones' complement checksum of an IPv4 header with its checksum field zeroed (`ip_fast_csum`).
pub(crate) fn ipv4_header_checksum(header: &[u8]) -> [u8; 2] {
    let mut sum: u32 = 0;
    for (i, pair) in header.chunks(2).enumerate() {
        // Bytes 10 and 11 are the checksum itself.
        if i == 5 {
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

/// Recomputes the checksum of the IPv4 header at `offset` (writable), `ihl` bytes long.
fn fix_ipv4_header_checksum(skb: &mut Skb<'_>, offset: usize, ihl: usize) -> Result {
    let mut buf = [0u8; 60];
    let header = buf.get_mut(..ihl).ok_or(EINVAL)?;
    let header = skb.read(offset, header).ok_or(EINVAL)?;
    let csum = ipv4_header_checksum(header);
    skb.write(offset.checked_add(10).ok_or(EINVAL)?, &csum)
}

/// An ICMP error about an IPVS connection (C: the parts of `ip_vs_in_icmp` /
/// `ip_vs_out_icmp` the translation needs).
pub(crate) struct IcmpError {
    /// Offset of the ICMP header.
    pub(crate) icmp_offset: usize,
    /// The embedded IP header.
    pub(crate) inner: Ipv4Header,
}

/// `ip_vs_nat_icmp`: rewrites the outer and embedded headers of an ICMP error. `reply` is the
/// direction real server -> client (`inout`): the error then appears to come from the virtual
/// service; otherwise it is redirected to the real server.
fn nat_icmp(
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    err: &IcmpError,
    conn: &Conn,
    reply: bool,
) -> Result {
    let inner = &err.inner;
    let (outer_at, addr, inner_at, port_at, port) = if reply {
        (SADDR_OFFSET, conn.vaddr, DADDR_OFFSET, 2, conn.vport)
    } else {
        (DADDR_OFFSET, conn.daddr, SADDR_OFFSET, 0, conn.dport())
    };
    skb.write(iph.offset.checked_add(outer_at).ok_or(EINVAL)?, &addr)?;
    skb.ip_send_check();
    skb.write(inner.offset.checked_add(inner_at).ok_or(EINVAL)?, &addr)?;
    let inner_ihl = inner
        .transport_offset
        .checked_sub(inner.offset)
        .ok_or(EINVAL)?;
    fix_ipv4_header_checksum(skb, inner.offset, inner_ihl)?;
    skb.write(
        inner.transport_offset.checked_add(port_at).ok_or(EINVAL)?,
        &port.to_be_bytes(),
    )?;
    skb.icmp_update_checksum(err.icmp_offset);
    Ok(())
}

/// `ip_vs_icmp_xmit` for NAT: an ICMP error from the client side about a connection is
/// redirected to its real server.
pub(crate) fn icmp_xmit(
    net: &Net,
    mut skb: Skb<'_>,
    iph: &Ipv4Header,
    err: &IcmpError,
    conn: &Conn,
) -> Verdict {
    if conn.flags.load(Relaxed) & flags::FWD_MASK != crate::ctl::uapi::fwd::MASQ {
        return Verdict::Accept;
    }
    let Some(local) = out_route(net, &mut skb, iph, conn.daddr, MtuCheck::IcmpError) else {
        return Verdict::Drop;
    };
    if skb
        .make_writable(err.inner.transport_offset.saturating_add(4))
        .is_err()
    {
        return Verdict::Drop;
    }
    if nat_icmp(&mut skb, iph, err, conn, false).is_err() {
        return Verdict::Drop;
    }
    skb.set_ipvs_property();
    conntrack(&mut skb, conn, true);
    if local {
        return Verdict::Accept;
    }
    skb.send_local_out(net);
    Verdict::Stolen
}

/// `handle_response_icmp`: an ICMP error from a real server about a connection is made to come
/// from the virtual service.
pub(crate) fn icmp_response(
    ipvs: &NetState,
    net: &Net,
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    err: &IcmpError,
    conn: &Conn,
    hook: HookPoint,
) -> Verdict {
    if conn.flags.load(Relaxed) & flags::FWD_MASK != crate::ctl::uapi::fwd::MASQ {
        return Verdict::Accept;
    }
    if !skb.checksum_ok(err.icmp_offset) {
        return Verdict::Drop;
    }
    if skb
        .make_writable(err.inner.transport_offset.saturating_add(4))
        .is_err()
    {
        return Verdict::Drop;
    }
    if nat_icmp(skb, iph, err, conn, true).is_err() {
        return Verdict::Drop;
    }
    if hook != HookPoint::LocalIn
        && ipvs.sysctl.get(Sysctl::SnatReroute) != 0
        && skb.route_me_harder(net).is_err()
    {
        return Verdict::Drop;
    }
    finish_response(skb, conn);
    Verdict::Accept
}
