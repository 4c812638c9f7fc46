// SPDX-License-Identifier: GPL-2.0

//! Direct routing (C: `ip_vs_dr_xmit`, `ip_vs_dr_xmit_v6`): the packet goes unchanged, its destination still the
//! virtual address, to the real server's link-layer address (the route's next hop is the real
//! server). Replies go from the real server to the client without the director.

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

/// Direct routing's route modes: `LOCAL | NON_LOCAL | KNOWN_NH`.
const MODE: Mode = Mode {
    local: true,
    redirect: false,
    lookup: Lookup {
        known_nh: true,
        connect: false,
    },
    tunnel: None,
};

/// `ip_vs_dr_xmit`: sends the packet whose IP header is `iph` to `conn`'s real server; an
/// ICMP error about the connection is sent the same way, with `mtu_check` off.
pub(crate) fn xmit(
    net: &Net,
    mut skb: Skb<'_>,
    iph: &IpHeader,
    conn: &Conn,
    mtu_check: MtuCheck,
) -> Verdict {
    match out_route(
        net,
        &mut skb,
        iph,
        conn.dest.as_deref(),
        iph.af,
        &conn.daddr,
        MODE,
        mtu_check,
    ) {
        Some(route) => send_or_cont(net, skb, route, conn),
        None => Verdict::Drop,
    }
}
