// SPDX-License-Identifier: GPL-2.0

//! Declarations of the functions defined in `shim.c`.

use kernel::bindings;
use kernel::ffi::{
    c_int, //
    c_uint,
    c_void,
};

/// `struct nf_hook_state`, which the kernel's bindings do not export; only used by pointer.
#[repr(C)]
pub(crate) struct NfHookState {
    _opaque: [u8; 0],
}

// `struct net` embeds a zero-sized array on some configurations, which rustc flags although it
// only ever crosses this boundary by pointer.
#[allow(improper_ctypes)]
extern "C" {
    /// Registers the IPv4 hook set (`rust_ipvs_ops4`) in `net`.
    pub(crate) fn rust_ipvs_register_hooks(net: *mut bindings::net) -> c_int;
    /// Unregisters the IPv4 hook set from `net`; waits for running hooks to finish.
    pub(crate) fn rust_ipvs_unregister_hooks(net: *mut bindings::net);
    /// `state->net`.
    pub(crate) fn rust_ipvs_hook_state_net(state: *const NfHookState) -> *mut bindings::net;
    /// `state->hook`.
    pub(crate) fn rust_ipvs_hook_state_hook(state: *const NfHookState) -> c_uint;
    /// `register_pernet_subsys()` of the module's pernet operations.
    pub(crate) fn rust_ipvs_register_pernet() -> c_int;
    /// `unregister_pernet_subsys()` of the module's pernet operations.
    pub(crate) fn rust_ipvs_unregister_pernet();
    /// `net_generic()`: the pointer-sized per-namespace slot of this module.
    pub(crate) fn rust_ipvs_net_slot(net: *mut bindings::net) -> *mut *mut c_void;
}
