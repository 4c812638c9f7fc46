// SPDX-License-Identifier: GPL-2.0

//! Transmitters (C: `ip_vs_xmit.c`): each connection is sent by the transmitter of its
//! forwarding method, which the connection took from its destination when it was bound
//! (`ip_vs_bind_xmit`).
//!
//! NAT ([`nat`]) and the local node are implemented. Direct routing and tunnel destinations
//! are accepted by the control plane and are, for now, sent with NAT; their transmitters plug
//! in here.

pub(crate) mod nat;

use crate::{
    conn::Conn,
    ffi::{
        net::Net,
        netfilter::Verdict,
        skb::Skb, //
    },
    packet::{
        IcmpError, //
        IpHeader,
    },
    proto::Packet,
    uapi::{
        conn_flags, //
        fwd,
    },
};
use kernel::sync::atomic::Relaxed;

/// The transmitter of a connection (C: `cp->packet_xmit`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Xmit {
    /// `ip_vs_nat_xmit`: rewrite the destination to the real server.
    Nat,
    /// `ip_vs_null_xmit`: the real server is this host; the packet continues unchanged.
    LocalNode,
    /// Direct routing (`ip_vs_dr_xmit`); sent with NAT until it is implemented.
    DirectRoute,
    /// IP-in-IP or GUE/GRE tunnel (`ip_vs_tunnel_xmit`); sent with NAT until it is
    /// implemented.
    Tunnel,
}

impl Xmit {
    /// The transmitter a connection is bound to (`ip_vs_bind_xmit`, by its forwarding method).
    pub(crate) fn of(conn: &Conn) -> Self {
        match conn.flags.load(Relaxed) & fwd::MASK {
            fwd::LOCALNODE => Xmit::LocalNode,
            fwd::DROUTE => Xmit::DirectRoute,
            fwd::TUNNEL => Xmit::Tunnel,
            _ => Xmit::Nat,
        }
    }

    /// Sends a client packet of `conn` on (`cp->packet_xmit`).
    pub(crate) fn transmit(self, net: &Net, skb: Skb<'_>, pkt: &Packet, conn: &Conn) -> Verdict {
        match self {
            Xmit::Nat | Xmit::DirectRoute | Xmit::Tunnel => nat::xmit(net, skb, pkt, conn),
            Xmit::LocalNode => local_node(skb, conn),
        }
    }

    /// Sends an ICMP error from the client side about `conn` on (`ip_vs_icmp_xmit`): NAT
    /// translates it; for the other methods it continues unchanged, as rust_ipvs sends them
    /// today.
    pub(crate) fn transmit_icmp(
        self,
        net: &Net,
        skb: Skb<'_>,
        iph: &IpHeader,
        err: &IcmpError,
        conn: &Conn,
    ) -> Verdict {
        match self {
            Xmit::Nat => nat::icmp_xmit(net, skb, iph, err, conn),
            Xmit::LocalNode | Xmit::DirectRoute | Xmit::Tunnel => Verdict::Accept,
        }
    }
}

/// `ip_vs_null_xmit` (`ip_vs_send_or_cont` for a local destination): mark the packet as
/// handled, detach conntrack unless the connection keeps it, and let it continue.
fn local_node(mut skb: Skb<'_>, conn: &Conn) -> Verdict {
    skb.set_ipvs_property();
    if conn.flags.load(Relaxed) & conn_flags::NFCT == 0 {
        skb.notrack();
    }
    Verdict::Accept
}
