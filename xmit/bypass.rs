// SPDX-License-Identifier: GPL-2.0

//! The cache bypass transmitter (C: `ip_vs_bypass_xmit`, `ip_vs_bypass_xmit_v6`): a packet of a cache bypass
//! connection (`cache_bypass`, a fwmark service without a real server for it) goes on,
//! unchanged, to the address it was sent to, which is not this host.

use crate::{
    conn::Conn,
    ffi::{
        net::Net,
        netfilter::Verdict,
        skb::{
            Lookup, //
            Skb,
        },
    },
    packet::IpHeader,
    xmit::{
        route::{
            out_route, //
            Mode,
            MtuCheck,
        },
        send_or_cont,
    },
};

/// The bypass transmitter's route mode: `NON_LOCAL` alone.
const MODE: Mode = Mode {
    local: false,
    redirect: false,
    lookup: Lookup {
        known_nh: false,
        connect: false,
    },
    tunnel: None,
};

/// `ip_vs_bypass_xmit`: routes the packet whose IP header is `iph` to its own destination;
/// an ICMP error about the connection is sent the same way, with `mtu_check` off.
pub(crate) fn xmit(
    net: &Net,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    conn: &Conn,
    mtu_check: MtuCheck,
) -> Verdict {
    match out_route(
        net, &mut skb, iph, None, iph.af, &iph.daddr, MODE, mtu_check,
    ) {
        Some(route) => send_or_cont(net, skb, route, conn),
        None => Verdict::Drop,
    }
}
