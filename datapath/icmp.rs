// SPDX-License-Identifier: GPL-2.0

//! The ICMP halves of the request and reply paths (C: `ip_vs_in_icmp`, `ip_vs_out_icmp`,
//! `ip_vs_forward_icmp`): an ICMP error about a packet of a connection is translated for the
//! other side of the connection.

use super::{
    gather, //
    in_stats,
    out_stats,
};
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
        skb::Skb,
    },
    netns::Ipvs,
    packet::{
        icmp, //
        Control,
        IcmpError,
        IpHeader,
        Transport,
    },
    proto::Proto,
    uapi::{
        fwd, //
        ipproto,
    },
    xmit::{
        nat, //
        Xmit,
    },
};
use kernel::sync::{
    atomic::Relaxed, //
    rcu::{
        self, //
        Guard,
    },
};

/// What an ICMP packet is to IPVS.
enum Icmp {
    /// Not an error IPVS translates: handled like any other protocol (`*related = 0`).
    Unrelated,
    /// The final verdict, without a connection lookup.
    Verdict(Verdict),
    /// An error whose embedded packet may belong to a connection.
    Error(IcmpError),
}

/// Parses an ICMP packet as `ip_vs_in_icmp` / `ip_vs_out_icmp` do, with bounds checks on the
/// embedded headers: truncated or bogus payloads are accepted and ignored.
fn parse(skb: &Skb<'_>, iph: &IpHeader) -> Icmp {
    let mut ic = [0u8; icmp::HEADER_LEN];
    let Some(&[ty, ..]) = skb.read(iph.transport_offset, &mut ic) else {
        return Icmp::Verdict(Verdict::Drop);
    };
    if ty != icmp::DEST_UNREACH && ty != icmp::SOURCE_QUENCH && ty != icmp::TIME_EXCEEDED {
        return Icmp::Unrelated;
    }
    let Some(inner_offset) = iph.transport_offset.checked_add(icmp::HEADER_LEN) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    let Some(inner) = IpHeader::parse_v4(skb, inner_offset) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    if Proto::lookup(inner.protocol).is_none() {
        return Icmp::Verdict(Verdict::Accept);
    }
    let mut raw = [0u8; 4];
    let Some(&[s0, s1, d0, d1]) = skb.read(inner.transport_offset, &mut raw) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    Icmp::Error(IcmpError {
        icmp_offset: iph.transport_offset,
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
pub(super) fn request_icmp(
    ipvs: &Ipvs,
    net: &Net,
    conns: &ConnTable,
    guard: &Guard,
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
    translate_request_icmp(ipvs, net, conns, guard, skb, &iph).unwrap_or(Verdict::Accept)
}

/// The lookup and translation of [`request_icmp`]; [`None`] when the error is unrelated.
fn translate_request_icmp(
    ipvs: &Ipvs,
    net: &Net,
    conns: &ConnTable,
    guard: &Guard,
    mut skb: Skb<'_>,
    iph: &IpHeader,
) -> Option<Verdict> {
    let err = match parse(&skb, iph) {
        Icmp::Unrelated => return None,
        Icmp::Verdict(v) => return Some(v),
        Icmp::Error(err) => err,
    };
    // The embedded packet went virtual service -> client: its addresses are reversed.
    let key = PacketKey::new(&err.inner, &err.inner_ports).inverse();
    let Some(conn) = conns.in_get(&key) else {
        return Some(Verdict::Accept);
    };
    let xmit = Xmit::of(&conn);
    if conn.flags.load(Relaxed) & fwd::MASK == fwd::MASQ && !skb.checksum_ok(err.icmp_offset) {
        return Some(Verdict::Drop);
    }
    in_stats(ipvs, guard, &conn, skb.len());
    let verdict = xmit.transmit_icmp(&ipvs.sysctl, net, skb, iph, &err, &conn);
    // C counts the error as a packet of a connection it forwards unchanged.
    if xmit != Xmit::Nat {
        conn.count_in_packet();
    }
    Some(verdict)
}

/// `ip_vs_out_icmp`: an ICMP error from a real server about a packet of a connection;
/// [`None`] when it is unrelated.
pub(super) fn reply_icmp(
    ipvs: &Ipvs,
    net: &Net,
    conns: &ConnTable,
    guard: &Guard,
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
    let conn = conns.out_get(&key)?;
    let verdict = nat::icmp_response(&ipvs.sysctl, net, skb, iph, &err, &conn, hook);
    if verdict == Verdict::Accept {
        out_stats(ipvs, guard, &conn, skb.len());
    }
    Some(verdict)
}

/// ICMP errors routed through the director (`ip_vs_forward_icmp`).
pub(crate) fn forward_icmp(ipvs: &Ipvs, net: &Net, hook: HookPoint, skb: Skb<'_>) -> Verdict {
    let guard = rcu::read_lock();
    let Some((_, conns)) = ipvs.tables(&guard) else {
        return Verdict::Accept;
    };
    match IpHeader::parse(&skb) {
        Some(iph) if iph.protocol == ipproto::ICMP => {
            request_icmp(ipvs, net, conns, &guard, skb, &iph, hook)
        }
        _ => Verdict::Accept,
    }
}
