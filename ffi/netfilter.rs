// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks: the registration of the IPv4 hook set and the C-facing hook callbacks.

use super::{
    net::Net, //
    shim,
    skb::Skb,
};
use crate::{
    datapath, //
    netns::NetState,
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

/// A netfilter verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let the packet continue (`NF_ACCEPT`).
    Accept,
    /// Drop the packet (`NF_DROP`).
    Drop,
    /// The packet was taken over, for example re-sent after NAT (`NF_STOLEN`).
    Stolen,
}

impl Verdict {
    /// The `NF_*` value netfilter expects.
    fn as_raw(self) -> c_uint {
        match self {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
            Verdict::Stolen => bindings::NF_STOLEN,
        }
    }
}

/// The netfilter hook point a packet is seen at (`enum nf_inet_hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HookPoint {
    /// `NF_INET_LOCAL_IN`: packets addressed to this host.
    LocalIn,
    /// `NF_INET_FORWARD`: packets routed through this host.
    Forward,
    /// `NF_INET_LOCAL_OUT`: packets sent by this host.
    LocalOut,
    /// Any other hook; the module registers none.
    Other,
}

impl HookPoint {
    /// Decodes `nf_hook_state::hook`.
    fn from_raw(hook: c_uint) -> Self {
        match hook {
            bindings::nf_inet_hooks_NF_INET_LOCAL_IN => HookPoint::LocalIn,
            bindings::nf_inet_hooks_NF_INET_FORWARD => HookPoint::Forward,
            bindings::nf_inet_hooks_NF_INET_LOCAL_OUT => HookPoint::LocalOut,
            _ => HookPoint::Other,
        }
    }
}

/// The IPv4 hook set of one namespace, registered until dropped.
///
/// # Invariants
///
/// `net` is a live namespace in which `rust_ipvs_ops4` is registered; the owner drops the
/// registration before the namespace goes away.
pub(crate) struct HookRegistration {
    /// The namespace the hooks are registered in.
    net: *mut bindings::net,
}

// SAFETY: the registration is only a handle; unregistering may happen from any task.
unsafe impl Send for HookRegistration {}
// SAFETY: `&HookRegistration` exposes nothing.
unsafe impl Sync for HookRegistration {}

impl HookRegistration {
    /// Registers the hook set in `net`.
    ///
    /// The caller must drop the result before `net` is dismantled (the pernet exit does).
    pub(crate) fn new(net: &Net) -> Result<Self> {
        // SAFETY: `net` is alive (`Net` invariant); the hook table in shim.c is static.
        to_result(unsafe { shim::rust_ipvs_register_hooks(net.as_ptr()) })?;
        // INVARIANT: registered above; the owner's contract keeps `net` alive.
        Ok(HookRegistration { net: net.as_ptr() })
    }
}

impl Drop for HookRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new` and the namespace is still alive (type invariant).
        // Returns after running hooks have finished (`synchronize_net`).
        unsafe { shim::rust_ipvs_unregister_hooks(self.net) };
    }
}

/// The signature of the data-path functions the hooks call.
type HookBody = fn(&NetState, &Net, HookPoint, Skb<'_>) -> Verdict;

/// Runs `body` for one hook invocation: the namespace and hook point come from `state`, and a
/// namespace without rust_ipvs state accepts the packet.
///
/// # Safety
///
/// `skb` and `state` are what netfilter passed to the running hook: a packet the hook owns
/// until it returns a verdict, and the state of this invocation.
unsafe fn run_hook(
    skb: *mut bindings::sk_buff,
    state: *const shim::NfHookState,
    body: HookBody,
) -> c_uint {
    // SAFETY: `state` is valid during the hook (caller), and so is the namespace it names:
    // hooks are unregistered before a namespace is dismantled.
    let net = unsafe { Net::from_raw(shim::rust_ipvs_hook_state_net(state)) };
    // SAFETY: as above.
    let hook = HookPoint::from_raw(unsafe { shim::rust_ipvs_hook_state_hook(state) });
    // SAFETY: the caller passes the packet this hook owns until it returns a verdict.
    let skb = unsafe { Skb::from_raw(skb) };
    match net.ipvs() {
        Some(ipvs) => body(ipvs, net, hook, skb).as_raw(),
        None => Verdict::Accept.as_raw(),
    }
}

/// The request hook (`ip_vs_in_hook`): LOCAL_IN priority 99 and LOCAL_OUT priority -98.
///
/// # Safety
///
/// Called by netfilter with a packet the hook owns until it returns and the state of this
/// invocation.
#[no_mangle]
unsafe extern "C" fn rust_ipvs_in_hook(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const shim::NfHookState,
) -> c_uint {
    // SAFETY: netfilter's arguments, passed on (function contract).
    unsafe { run_hook(skb, state, datapath::request) }
}

/// The reply hook (`ip_vs_out_hook`): LOCAL_IN 98, LOCAL_OUT -99 and FORWARD 100.
///
/// # Safety
///
/// Called by netfilter with a packet the hook owns until it returns and the state of this
/// invocation.
#[no_mangle]
unsafe extern "C" fn rust_ipvs_out_hook(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const shim::NfHookState,
) -> c_uint {
    // SAFETY: netfilter's arguments, passed on (function contract).
    unsafe { run_hook(skb, state, datapath::reply) }
}

/// The ICMP hook for routed traffic (`ip_vs_forward_icmp`): FORWARD priority 99.
///
/// # Safety
///
/// Called by netfilter with a packet the hook owns until it returns and the state of this
/// invocation.
#[no_mangle]
unsafe extern "C" fn rust_ipvs_forward_icmp(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const shim::NfHookState,
) -> c_uint {
    // SAFETY: netfilter's arguments, passed on (function contract).
    unsafe { run_hook(skb, state, datapath::forward_icmp) }
}
