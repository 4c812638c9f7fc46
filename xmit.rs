// SPDX-License-Identifier: GPL-2.0

//! Transmitters (C: `ip_vs_xmit.c`): each connection is sent by the transmitter of its
//! forwarding method, which the connection took from its destination when it was bound
//! (`ip_vs_bind_xmit`).
//!
//! NAT ([`nat`]), direct routing ([`dr`]), tunnels ([`tunnel`]: IP-in-IP, GUE and GRE, whose
//! headers [`encap`] builds), the local node and the cache bypass ([`bypass`]) are
//! implemented; [`route`] finds the way to the real server for all of them.

pub(crate) mod bypass;
pub(crate) mod dr;
pub(crate) mod encap;
pub(crate) mod nat;
pub(crate) mod route;
pub(crate) mod tunnel;

use crate::{
    conn::Conn,
    ffi::{
        net::Net,
        netfilter::{
            HookPoint, //
            Verdict,
        },
        skb::Skb, //
    },
    packet::{
        IcmpError, //
        IpHeader,
    },
    proto::Packet,
    sysctl::Sysctls,
    uapi::{
        conn_flags, //
        fwd,
    },
};
use kernel::sync::atomic::Relaxed;
use route::{
    MtuCheck, //
    OutRoute,
};

/// The transmitter of a connection (C: `cp->packet_xmit`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Xmit {
    /// `ip_vs_nat_xmit`: rewrite the destination to the real server.
    Nat,
    /// `ip_vs_null_xmit`: the real server is this host; the packet continues unchanged.
    LocalNode,
    /// `ip_vs_dr_xmit`: the packet, unchanged, to the real server's link address.
    DirectRoute,
    /// `ip_vs_tunnel_xmit`: the packet in a tunnel to the real server.
    Tunnel,
    /// `ip_vs_bypass_xmit`: the packet, unchanged, to its own destination.
    Bypass,
}

impl Xmit {
    /// The transmitter a connection is bound to (`ip_vs_bind_xmit`, by its forwarding method).
    pub(crate) fn of(conn: &Conn) -> Self {
        match conn.flags.load(Relaxed) & fwd::MASK {
            fwd::LOCALNODE => Xmit::LocalNode,
            fwd::DROUTE => Xmit::DirectRoute,
            fwd::TUNNEL => Xmit::Tunnel,
            fwd::BYPASS => Xmit::Bypass,
            _ => Xmit::Nat,
        }
    }

    /// Sends a client packet of `conn` on (`cp->packet_xmit`).
    pub(crate) fn transmit(
        self,
        sysctl: &Sysctls,
        net: &Net,
        skb: Skb<'_>,
        pkt: &Packet<'_>,
        conn: &Conn,
    ) -> Verdict {
        match self {
            Xmit::Nat => nat::xmit(net, skb, pkt, conn),
            Xmit::DirectRoute => dr::xmit(net, skb, pkt.iph, conn, MtuCheck::Packet),
            Xmit::Tunnel => tunnel::xmit(sysctl, net, skb, pkt.iph, conn, MtuCheck::Packet),
            Xmit::LocalNode => send_or_cont(net, skb, OutRoute::Local, conn),
            Xmit::Bypass => bypass::xmit(net, skb, pkt.iph, conn, MtuCheck::Packet),
        }
    }

    /// Sends an ICMP error from the client side about `conn`, seen at `hook`, on
    /// (`ip_vs_icmp_xmit`, `ip_vs_icmp_xmit_v6`): NAT
    /// translates it; the other methods send it as they send the connection's packets
    /// (`cp->packet_xmit`), without the MTU check.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn transmit_icmp(
        self,
        sysctl: &Sysctls,
        net: &Net,
        skb: Skb<'_>,
        iph: &IpHeader,
        err: &IcmpError,
        conn: &Conn,
        hook: HookPoint,
    ) -> Verdict {
        match self {
            Xmit::Nat => nat::icmp_xmit(net, skb, iph, err, conn, hook),
            Xmit::DirectRoute => dr::xmit(net, skb, iph, conn, MtuCheck::IcmpError),
            Xmit::Tunnel => tunnel::xmit(sysctl, net, skb, iph, conn, MtuCheck::IcmpError),
            Xmit::LocalNode => send_or_cont(net, skb, OutRoute::Local, conn),
            Xmit::Bypass => bypass::xmit(net, skb, iph, conn, MtuCheck::IcmpError),
        }
    }
}

/// Detaches conntrack, or for `conntrack=1` NAT connections makes its reply direction
/// describe the real flow (`ip_vs_notrack` / `ip_vs_update_conntrack`): `outin` for client
/// packets after DNAT, else for replies after SNAT.
#[inline(always)]
pub(crate) fn conntrack(skb: &mut Skb<'_>, conn: &Conn, outin: bool) {
    let f = conn.flags.load(Relaxed);
    if f & conn_flags::NFCT == 0 {
        skb.notrack();
    } else if f & fwd::MASK == fwd::MASQ {
        if outin {
            skb.conntrack_alter_reply(true, &conn.daddr, conn.dport());
        } else {
            skb.conntrack_alter_reply(false, &conn.vaddr, conn.vport);
        }
    }
}

/// Marks the packet as IPVS's and sends it along `route`, or lets it continue to this host
/// (`ip_vs_nat_send_or_cont`, `ip_vs_send_or_cont`; `ip_vs_null_xmit` for the local node).
pub(crate) fn send_or_cont(
    net: &Net,
    mut skb: Skb<'_>,
    route: OutRoute<'_>,
    conn: &Conn,
) -> Verdict {
    skb.set_ipvs_property();
    conntrack(&mut skb, conn, true);
    match route {
        OutRoute::Local => Verdict::Accept,
        OutRoute::Remote { route, .. } => {
            skb.send_local_out(net, route);
            Verdict::Stolen
        }
        OutRoute::Remote6 { route, .. } => {
            skb.send_local_out6(net, route);
            Verdict::Stolen
        }
    }
}
