// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks: the registration of the IPv4 hook set (the static table in shim.c, at the
//! C ip_vs priorities) and the C-facing hook callbacks, which hand each packet to the module's
//! [`Hooks`] implementation.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
    skb::{
        HookFlags, //
        Skb,
    },
};
use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_uint, //
        c_void,
    },
    prelude::*,
};

/// A netfilter verdict, represented by its `NF_*` value (no conversion at each hook's
/// return).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Verdict {
    /// Let the packet continue (`NF_ACCEPT`).
    Accept = bindings::NF_ACCEPT,
    /// Drop the packet (`NF_DROP`).
    Drop = bindings::NF_DROP,
    /// The packet was taken over, for example re-sent after NAT (`NF_STOLEN`).
    Stolen = bindings::NF_STOLEN,
}

impl Verdict {
    /// The `NF_*` value netfilter expects.
    #[inline(always)]
    fn as_raw(self) -> c_uint {
        self as c_uint
    }
}

/// The netfilter hook point a packet is seen at (`enum nf_inet_hooks`), represented by its
/// value; [`HookPoint::Other`] stands for `NF_INET_POST_ROUTING`, which IPVS treats like
/// LOCAL_OUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum HookPoint {
    /// `NF_INET_LOCAL_IN`: packets addressed to this host.
    LocalIn = bindings::nf_inet_hooks_NF_INET_LOCAL_IN,
    /// `NF_INET_FORWARD`: packets routed through this host.
    Forward = bindings::nf_inet_hooks_NF_INET_FORWARD,
    /// `NF_INET_LOCAL_OUT`: packets sent by this host.
    LocalOut = bindings::nf_inet_hooks_NF_INET_LOCAL_OUT,
    /// Any other hook; the module registers none.
    Other = bindings::nf_inet_hooks_NF_INET_POST_ROUTING,
}

impl HookPoint {
    /// The `nf_inet_hooks` value of the hook.
    pub(crate) fn to_raw(self) -> c_uint {
        self as c_uint
    }

    /// Decodes `nf_hook_state::hook`.
    #[inline(always)]
    fn from_raw(hook: c_uint) -> Self {
        match hook {
            bindings::nf_inet_hooks_NF_INET_LOCAL_IN => HookPoint::LocalIn,
            bindings::nf_inet_hooks_NF_INET_FORWARD => HookPoint::Forward,
            bindings::nf_inet_hooks_NF_INET_LOCAL_OUT => HookPoint::LocalOut,
            _ => HookPoint::Other,
        }
    }
}

/// The IPv4 or the IPv6 hook set of one namespace, registered until dropped
/// (`ip_vs_register_hooks` and `ip_vs_unregister_hooks`, per address family).
///
/// # Invariants
///
/// `net` is a live namespace in which the hook set of family `v6` is registered; the owner
/// drops the registration before the namespace goes away.
pub(crate) struct HookRegistration {
    /// The namespace the hooks are registered in.
    net: *mut bindings::net,
    /// The IPv6 set (`rust_ipvs_ops6`), else the IPv4 one.
    v6: bool,
}

// SAFETY: the registration is only a handle; unregistering may happen from any task.
unsafe impl Send for HookRegistration {}
// SAFETY: `&HookRegistration` exposes nothing.
unsafe impl Sync for HookRegistration {}

impl HookRegistration {
    /// Registers the hook set of address family `af` (IPv6 for `AF_INET6`, else IPv4) in
    /// `net`.
    ///
    /// The caller must drop the result before `net` is dismantled (the pernet exit does).
    pub(crate) fn new(net: &Net, af: u16) -> Result<Self> {
        let v6 = af == crate::uapi::AF_INET6;
        // SAFETY: `net` is alive (`Net` invariant); the hook tables in shim.c are static.
        to_result(unsafe { shim::rust_ipvs_register_hooks(net.as_ptr(), v6) })?;
        // INVARIANT: registered above; the owner's contract keeps `net` alive.
        Ok(HookRegistration {
            net: net.as_ptr(),
            v6,
        })
    }
}

impl Drop for HookRegistration {
    fn drop(&mut self) {
        // Hooks already running may finish after this returns, under RCU: what they use is
        // released after a grace period.
        // SAFETY: registered in `new`; the namespace is still alive (type invariant).
        unsafe { shim::rust_ipvs_unregister_hooks(self.net, self.v6) };
    }
}

/// What the module does with the packets of a namespace at its hooks (C: `ip_vs_in_hook`,
/// `ip_vs_out_hook`, `ip_vs_forward_icmp`). Implemented by the per-namespace state.
pub(crate) trait Hooks: PernetState {
    /// The request hook: LOCAL_IN priority 99 and LOCAL_OUT priority -98.
    fn request(&self, net: &Net, hook: HookPoint, flags: HookFlags, skb: Skb<'_>) -> Verdict;
    /// The reply hook: LOCAL_IN 98, LOCAL_OUT -99 and FORWARD 100.
    fn reply(&self, net: &Net, hook: HookPoint, flags: HookFlags, skb: Skb<'_>) -> Verdict;
    /// The ICMP hook for routed traffic: FORWARD priority 99.
    fn forward_icmp(&self, net: &Net, hook: HookPoint, flags: HookFlags, skb: Skb<'_>) -> Verdict;
}

/// Which of the [`Hooks`] a C hook entry runs.
#[derive(Clone, Copy)]
pub(crate) enum HookKind {
    /// [`Hooks::request`].
    Request,
    /// [`Hooks::reply`].
    Reply,
    /// [`Hooks::forward_icmp`].
    ForwardIcmp,
}

/// Runs one hook invocation, with what the C hook entry read from netfilter's state: the
/// packet's namespace, the hook point, and the module's state of that namespace (null for a
/// namespace without state, which accepts the packet).
///
/// # Safety
///
/// `skb` is the packet the running hook owns until it returns a verdict; `net` is the hook's
/// namespace, alive during the hook (hooks are unregistered before a namespace is dismantled);
/// `ipvs` is what this module's `net_generic` slot of `net` holds, and `T` the module's
/// per-namespace state type (see [`super::net::PernetState`]).
#[inline(always)]
pub(crate) unsafe fn run_hook<T: Hooks>(
    skb: *mut bindings::sk_buff,
    net: *mut bindings::net,
    hook: c_uint,
    ipvs: *const c_void,
    flags: c_uint,
    kind: HookKind,
) -> c_uint {
    // SAFETY: `net` is the hook's live namespace (caller).
    let net = unsafe { Net::from_raw(net) };
    let hook = HookPoint::from_raw(hook);
    // SAFETY: the caller passes the packet this hook owns until it returns a verdict.
    let skb = unsafe { Skb::from_raw(skb) };
    // SAFETY: `T` is the module's state type and `ipvs` the slot's value (caller).
    let Some(ipvs) = (unsafe { net.state_at::<T>(ipvs) }) else {
        return Verdict::Accept.as_raw();
    };
    let flags = HookFlags::from_raw(flags);
    match kind {
        HookKind::Request => ipvs.request(net, hook, flags, skb),
        HookKind::Reply => ipvs.reply(net, hook, flags, skb),
        HookKind::ForwardIcmp => ipvs.forward_icmp(net, hook, flags, skb),
    }
    .as_raw()
}
