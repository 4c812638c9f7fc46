// SPDX-License-Identifier: GPL-2.0

//! The packet path behind the hooks (C: `ip_vs_core.c`), in the order the seed article walks
//! it: the request path ([`request`], `ip_vs_in_hook`) with its scheduling ([`schedule`]) and
//! the reply path ([`reply`], `ip_vs_out_hook`), each with its ICMP half ([`icmp`]).
//!
//! Every packet is parsed once into a [`crate::packet::IpHeader`] and, for a protocol IPVS
//! balances, a [`crate::proto::Packet`]; the layers below (protocols, connections,
//! schedulers, transmitters) take those views.

mod icmp;
mod reply;
mod request;
mod schedule;

pub(crate) use icmp::forward_icmp;
pub(crate) use reply::{
    reply, //
    reply_wanted,
};
pub(crate) use request::{
    request, //
    request_wanted,
};

use crate::ffi::rcu::ReadSection;
use crate::{
    conn::Conn,
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
        self, //
        icmpv6,
        IpHeader,
    },
    service::{
        Dest, //
        Service,
    },
    stats::Stats,
    uapi,
};
use kernel::sync::{
    atomic::Relaxed, //
};

/// Reassembles the datagram of the fragment `skb` (`ip_vs_gather_frags`): the whole datagram
/// and its header once complete, else the verdict to return ([`Verdict::Stolen`] while the
/// fragment waits, [`Verdict::Accept`] for a datagram whose header does not parse).
fn gather<'a>(net: &Net, hook: HookPoint, skb: Skb<'a>) -> Result<(Skb<'a>, IpHeader), Verdict> {
    let whole = skb.gather_fragments(net, hook).ok_or(Verdict::Stolen)?;
    let iph = IpHeader::parse(&whole).ok_or(Verdict::Accept)?;
    Ok((whole, iph))
}

/// Answers the packet with "port unreachable" in its family's ICMP (`ip_vs_leave`, the
/// `nat_icmp_send` of `ip_vs_out_hook`).
fn port_unreachable(net: &Net, skb: &mut Skb<'_>, af: u16) {
    if af == uapi::AF_INET6 {
        skb.icmpv6_send(net, icmpv6::DEST_UNREACH, icmpv6::PORT_UNREACH, 0, false);
    } else {
        skb.icmp_send(packet::icmp::DEST_UNREACH, packet::icmp::PORT_UNREACH);
    }
}

/// Counts a new connection (`ip_vs_conn_stats`).
fn conn_stats(ipvs: &Ipvs, service: &Service, dest: &Dest) {
    dest.stats.count_conn();
    service.stats.count_conn();
    ipvs.total.count_conn();
}

/// Counts a packet of `conn` with `count` in each of the counters its packets add to
/// (`ip_vs_in_stats`, `ip_vs_out_stats`): its destination's, the service's the destination is
/// in now (a destination revived into a re-created service counts there, as C's `dest->svc`)
/// and the namespace's; none while the destination is not available (deleted, on the trash
/// list), as in C. Inside the hook's read-side section `guard`.
#[inline]
fn count_packet(ipvs: &Ipvs, conn: &Conn, guard: &ReadSection, count: impl Fn(&Stats)) {
    let Some(dest) = conn.dest.as_deref().filter(|d| d.available.load(Relaxed)) else {
        return;
    };
    count(&dest.stats);
    if let Some(service) = dest.service_stats.get(guard) {
        count(service);
    }
    count(&ipvs.total);
}

/// Counts a client packet (`ip_vs_in_stats`), inside the hook's read-side section `guard`.
#[inline(always)]
fn in_stats(ipvs: &Ipvs, guard: &ReadSection, conn: &Conn, bytes: u32) {
    count_packet(ipvs, conn, guard, |stats| stats.count_in(bytes));
}

/// Counts a real server packet (`ip_vs_out_stats`), inside the hook's read-side section
/// `guard`.
#[inline(always)]
fn out_stats(ipvs: &Ipvs, guard: &ReadSection, conn: &Conn, bytes: u32) {
    count_packet(ipvs, conn, guard, |stats| stats.count_out(bytes));
}
