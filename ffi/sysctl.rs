// SPDX-License-Identifier: GPL-2.0

//! `net.ipv4.vs.*`: the sysctl table of shim.c (names, handlers and ranges as in C), registered
//! per namespace over `int` values the module owns, until dropped.

use super::{
    net::Net, //
    shim,
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::atomic::Atomic,
};

/// The registered `net/ipv4/vs` table of a namespace.
///
/// # Invariants
///
/// `header` is a registered table whose data pointers point at values that outlive this
/// registration (the owner drops this first).
pub(crate) struct SysctlRegistration {
    /// The table header.
    header: *mut bindings::ctl_table_header,
}

// SAFETY: the registration is a handle; unregistering may happen from any task.
unsafe impl Send for SysctlRegistration {}
// SAFETY: `&SysctlRegistration` exposes nothing.
unsafe impl Sync for SysctlRegistration {}

impl SysctlRegistration {
    /// Registers the table of `net` over `values`, one per entry of shim.c's table in its
    /// order, which must outlive the registration.
    pub(crate) fn new<const N: usize>(net: &Net, values: &[Atomic<i32>; N]) -> Result<Self> {
        let data = values.each_ref().map(Atomic::as_ptr);
        let count = u32::try_from(N).map_err(|_| EINVAL)?;
        let mut header = core::ptr::null_mut();
        // SAFETY: `net` is alive; `data` holds `N` valid `int` pointers, which the caller
        // keeps alive until this registration is dropped (shim.c refuses a count that is not
        // its table's); `header` is writable.
        to_result(unsafe {
            shim::rust_ipvs_sysctl_register(net.as_ptr(), data.as_ptr(), count, &mut header)
        })?;
        // INVARIANT: registered above over `values`.
        Ok(SysctlRegistration { header })
    }
}

impl Drop for SysctlRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new` (type invariant); waits for running handlers.
        unsafe { shim::rust_ipvs_sysctl_unregister(self.header) };
    }
}
