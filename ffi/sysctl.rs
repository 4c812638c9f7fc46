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
    sync::{
        atomic::Atomic, //
        Arc,
    },
};

/// The registered `net/ipv4/vs` table of a namespace.
///
/// # Invariants
///
/// `header` is a registered table whose data pointers point into `values`, which this
/// registration keeps alive.
pub(crate) struct SysctlRegistration<const N: usize> {
    /// The table header.
    header: *mut bindings::ctl_table_header,
    /// The values the table reads and writes.
    _values: Arc<[Atomic<i32>; N]>,
}

// SAFETY: the registration is a handle; unregistering may happen from any task.
unsafe impl<const N: usize> Send for SysctlRegistration<N> {}
// SAFETY: `&SysctlRegistration` exposes nothing.
unsafe impl<const N: usize> Sync for SysctlRegistration<N> {}

impl<const N: usize> SysctlRegistration<N> {
    /// Registers the table of `net` over `values`, one per entry of shim.c's table in its
    /// order; the registration holds them until it is dropped.
    pub(crate) fn new(net: &Net, values: Arc<[Atomic<i32>; N]>) -> Result<Self> {
        let data = values.each_ref().map(Atomic::as_ptr);
        let count = u32::try_from(N).map_err(|_| EINVAL)?;
        let mut header = core::ptr::null_mut();
        // `net` is alive; `data` holds `N` valid `int` pointers into `values`, which the
        // registration keeps alive until it unregisters the table (shim.c refuses a count that
        // is not its table's); `header` is writable.
        // SAFETY: the pointers and the count are valid as listed above, for the table's life.
        let ret = unsafe {
            shim::rust_ipvs_sysctl_register(net.as_ptr(), data.as_ptr(), count, &mut header)
        };
        to_result(ret)?;
        // INVARIANT: registered above over `values`, which is kept.
        Ok(SysctlRegistration {
            header,
            _values: values,
        })
    }
}

impl<const N: usize> Drop for SysctlRegistration<N> {
    fn drop(&mut self) {
        // SAFETY: registered in `new` (type invariant); waits for running handlers.
        unsafe { shim::rust_ipvs_sysctl_unregister(self.header) };
    }
}
