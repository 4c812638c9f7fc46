// SPDX-License-Identifier: GPL-2.0

//! The reply path (C: `ip_vs_out_hook` and `handle_response`): a real server's packet back
//! to a client finds its connection and is rewritten to come from the virtual service.

use super::{
    gather, //
    icmp::reply_icmp,
    out_stats,
    port_unreachable,
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
            HookFlags, //
            Skb,
        },
    },
    netns::Ipvs,
    packet::IpHeader,
    proto::{
        tcp_state::Direction, //
        Packet,
        Proto,
    },
    sysctl::Sysctl,
    uapi::{
        fwd, //
    },
    xmit::nat,
};
use kernel::sync::{
    atomic::Relaxed, //
};

/// The first check of `ip_vs_out_hook`, on the hook flags alone: not a packet IPVS sent
/// out, and one with a route. Made in the hook's entry, before [`reply`]'s body (see
/// `request_wanted`).
#[inline(always)]
pub(crate) fn reply_wanted(flags: HookFlags) -> bool {
    !flags.ipvs_property && flags.has_dst
}

/// `ip_vs_out_hook`: real-server packets back to a client, for a packet [`reply_wanted`].
/// Out of line, reached by a tail call, as [`super::request`].
#[inline(never)]
pub(crate) fn reply(ipvs: &Ipvs, net: &Net, hook: HookPoint, skb: Skb<'_>) -> Verdict {
    let guard = skb.rcu();
    let Some((_, conns)) = ipvs.tables(guard) else {
        return Verdict::Accept;
    };
    // The header is used where it was parsed, not moved: a move is a `rep movs`, each of
    // whose steps the emulator dispatches as a block of its own.
    let parsed = IpHeader::parse(&skb);
    let Some(iph) = &parsed else {
        return Verdict::Accept;
    };
    let proto = Proto::lookup(iph.protocol);
    // `ip_vs_out_icmp` and the fragment check of `ip_vs_out_hook`: a fragment of an ICMP
    // message or of a balanced protocol is reassembled first (without conntrack, nothing
    // defragments what the director forwards).
    if iph.is_fragment() && (iph.is_icmp() || proto.is_some()) {
        return match gather(net, hook, skb) {
            Ok((whole, iph)) => reply_whole(ipvs, net, hook, conns, guard, whole, &iph, proto),
            Err(verdict) => verdict,
        };
    }
    reply_whole(ipvs, net, hook, conns, guard, skb, iph, proto)
}

/// [`reply`] for a packet that is not a fragment (any more), whose header is `iph` and
/// protocol `proto`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn reply_whole(
    ipvs: &Ipvs,
    net: &Net,
    hook: HookPoint,
    conns: &ConnTable,
    guard: &ReadSection,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    proto: Option<Proto>,
) -> Verdict {
    if iph.is_icmp() {
        if let Some(verdict) = reply_icmp(ipvs, net, conns, guard, &mut skb, iph, hook) {
            return verdict;
        }
    }
    let Some(proto) = proto else {
        return Verdict::Accept;
    };
    let Some(l4) = proto.parse(&skb, iph) else {
        return Verdict::Accept;
    };
    let pkt = Packet { iph, proto, l4 };
    let key = PacketKey::new(pkt.iph, &pkt.l4);
    if let Some(conn) = conns.out_get(guard, &key) {
        // `handle_response`: only NAT rewrites; a packet from the virtual service of another
        // method's connection is counted and tracked as it is.
        if conn.flags.load(Relaxed) & fwd::MASK == fwd::MASQ
            && nat::snat_response(&ipvs.sysctl, net, &mut skb, &pkt, &conn, hook).is_err()
        {
            return Verdict::Drop;
        }
        out_stats(ipvs, guard, &conn, skb.len());
        proto.state_transition(&ipvs.settings(), &conn, Direction::Output, &pkt.l4);
        nat::finish_response(&mut skb, &conn);
        conns.touch(&conn);
        return Verdict::Accept;
    }
    // A reply-looking packet from a real server with no connection.
    if ipvs.sysctl.enabled(Sysctl::NatIcmpSend)
        && !proto.is_reset(&pkt.l4)
        && ipvs
            .real_servers
            .has_real_service(guard, key.af, key.protocol, key.saddr, key.sport)
    {
        port_unreachable(net, &mut skb, key.af);
        return Verdict::Drop;
    }
    Verdict::Accept
}
