// SPDX-License-Identifier: GPL-2.0

//! The packet path behind the hooks (C: `ip_vs_core.c`).

use crate::{
    ffi::netfilter::{
        HookPoint, //
        Verdict,
    },
    netns::NetState,
};

/// Request path (`ip_vs_in_hook`): client packets to a virtual service.
pub(crate) fn request(_ipvs: &NetState, _hook: HookPoint) -> Verdict {
    Verdict::Accept
}

/// Reply path (`ip_vs_out_hook`): real-server packets back to a client.
pub(crate) fn reply(_ipvs: &NetState, _hook: HookPoint) -> Verdict {
    Verdict::Accept
}

/// ICMP errors routed through the director (`ip_vs_forward_icmp`).
pub(crate) fn forward_icmp(_ipvs: &NetState, _hook: HookPoint) -> Verdict {
    Verdict::Accept
}
