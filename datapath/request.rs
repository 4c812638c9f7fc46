// SPDX-License-Identifier: GPL-2.0

//! The request path (C: `ip_vs_in_hook`): a client packet to a virtual service finds its
//! connection, or gets a new one, and is sent to the connection's real server.

use super::{
    icmp::request_icmp, //
    in_stats,
    schedule::try_to_schedule,
};
use crate::{
    conn::{
        Conn, //
        ConnTable,
        PacketKey,
    },
    ffi::{
        net::Net,
        netfilter::{
            HookPoint, //
            Verdict,
        },
        skb::{
            HookFlags,
            Skb, //
            PACKET_HOST,
        },
        slab::SlabArc,
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
        conn_flags, //
    },
    xmit::Xmit,
};
use kernel::sync::{
    atomic::Relaxed, //
};

/// The first checks of `ip_vs_in_hook`, on the hook flags alone: not a packet IPVS sent out,
/// addressed to this host (or sent by it), with a route. Made in the hook's entry, before
/// [`request`]'s body: half the calls end here (a packet IPVS sent out passes LOCAL_OUT
/// marked).
#[inline(always)]
pub(crate) fn request_wanted(hook: HookPoint, flags: HookFlags) -> bool {
    !flags.ipvs_property
        && (flags.pkt_type == PACKET_HOST || hook == HookPoint::LocalOut)
        && flags.has_dst
}

/// `ip_vs_in_hook`: client packets to a virtual service, for a packet [`request_wanted`].
/// Out of line, reached from the hook's entry by a tail call (a jump: no second return,
/// which under QEMU's TCG is an indirect jump looked up in a hash), so that the packets the
/// entry passes at once do not pay this body's prologue (six registers saved, a large frame).
#[inline(never)]
pub(crate) fn request(ipvs: &Ipvs, net: &Net, hook: HookPoint, mut skb: Skb<'_>) -> Verdict {
    // A backup director that only backs up passes everything (`sysctl_backup_only`).
    if ipvs.sync.backup_only(&ipvs.sysctl) {
        return Verdict::Accept;
    }
    let guard = skb.rcu();
    let Some((services, conns)) = ipvs.tables(guard) else {
        return Verdict::Accept;
    };
    // Used where it was parsed, not moved (see `reply`).
    let parsed = IpHeader::parse(&skb);
    let Some(iph) = &parsed else {
        return Verdict::Accept;
    };
    if iph.is_icmp() {
        return request_icmp(ipvs, net, services, conns, guard, skb, iph, hook);
    }
    let Some(proto) = Proto::lookup(iph.protocol) else {
        // Only a tunnel brings such a packet back (decapsulated): mark it so that its inner
        // packet passes untouched when tunneled packets are ignored.
        if ipvs.sysctl.enabled(Sysctl::IgnoreTunneled) {
            skb.set_ipvs_property();
        }
        return Verdict::Accept;
    };
    if iph.later_fragment() {
        return Verdict::Accept;
    }
    let Some(l4) = proto.parse(&skb, iph) else {
        // C: no ports, no connection, and `conn_schedule` drops the packet.
        return Verdict::Drop;
    };
    if !proto.header_complete(&l4) {
        return Verdict::Drop;
    }
    let pkt = Packet { iph, proto, l4 };
    let key = PacketKey::new(pkt.iph, &pkt.l4);
    let mut conn = conns.in_get(guard, &key);

    // A new connection reusing the tuple of an old one (`conn_reuse_mode`, `expire_nodest_conn`).
    if let (true, Some(cp)) = (proto.is_new_conn(&pkt.l4), &conn) {
        let reuse_mode = ipvs.sysctl.get(Sysctl::ConnReuseMode);
        let dest_weight_zero = cp
            .dest
            .as_ref()
            .is_some_and(|d| d.weight.load(Relaxed) == 0);
        let resched = if ipvs.sysctl.enabled(Sysctl::ExpireNodestConn) && dest_weight_zero {
            true
        } else if reuse_mode != 0
            // A connection a template (persistence) controls is never taken for a new one
            // (`is_new_conn_expected`).
            && cp.control.is_none()
            && proto.new_conn_expected(cp, reuse_mode)
        {
            // A connection that controls others is rescheduled only when the packet's
            // conntrack entry is not the old one.
            cp.n_control.load(Relaxed) == 0 || !skb.conntrack_confirmed()
        } else {
            false
        };
        if resched {
            if expire_for_reschedule(net, conns, &skb, cp) {
                return Verdict::Drop;
            }
            conn = None;
        }
    }

    // The server of an existing connection was removed.
    if let Some(cp) = &conn {
        if cp.dest.as_ref().is_some_and(|d| !d.available.load(Relaxed)) {
            if !ipvs.sysctl.enabled(Sysctl::ExpireNodestConn) {
                return Verdict::Drop;
            }
            if expire_for_reschedule(net, conns, &skb, cp) {
                return Verdict::Drop;
            }
            conn = None;
        }
    }

    let conn: SlabArc<Conn> = match conn {
        Some(conn) => conn,
        None => match try_to_schedule(ipvs, conns, services, guard, &mut skb, &pkt, &key) {
            Ok(conn) => conn,
            Err(verdict) => return verdict,
        },
    };
    in_stats(ipvs, guard, &conn, skb.len());
    proto.state_transition(&ipvs.settings(), &conn, Direction::Input, &pkt.l4);
    let verdict = Xmit::of(&conn).transmit(&ipvs.sysctl, net, skb, &pkt, &conn);
    crate::sync::count_and_sync(ipvs, guard, &conn);
    conns.touch(&conn);
    conns.put_one_packet(&conn);
    verdict
}

/// Expires `conn` so that the packet can schedule a new one; `true` when the packet must be
/// dropped instead, because its conntrack entry is the old connection's
/// (`ip_vs_conn_uses_old_conntrack`): its retransmission then starts afresh.
fn expire_for_reschedule(net: &Net, conns: &ConnTable, skb: &Skb<'_>, conn: &Conn) -> bool {
    let old_ct = skb.conntrack_confirmed();
    if !old_ct {
        conn.clear_flags(conn_flags::NFCT);
    }
    // A connection that still controls others stays until they are gone.
    if conn.n_control.load(Relaxed) == 0 {
        conns.expire_now(conn, net);
    }
    old_ct
}
