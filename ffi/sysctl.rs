// SPDX-License-Identifier: GPL-2.0

//! `net.ipv4.vs.*`: the sysctl table of shim.c (names, handlers and ranges as in C), registered
//! per namespace over `int` values the module owns, until dropped. Writes to the entries C
//! checks with its own handlers go to the namespace's [`SysctlWrites`].

use super::atomic::Atomic;
use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use kernel::{bindings, cpumask::Cpumask, error::to_result, prelude::*, sync::Arc};

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
    /// Registers the table of `net` over `values`: its `entries` entries in shim.c's order
    /// point at the first `entries` values (an entry of several `int`s reads the values after
    /// its own), those whose bit is set in `read_only` read-only; the registration holds the
    /// values until it is dropped.
    pub(crate) fn new(
        net: &Net,
        values: Arc<[Atomic<i32>; N]>,
        entries: usize,
        read_only: u64,
    ) -> Result<Self> {
        let data = values.each_ref().map(|value| value.as_ptr());
        if entries > N {
            return Err(EINVAL);
        }
        let count = u32::try_from(entries).map_err(|_| EINVAL)?;
        let mut header = core::ptr::null_mut();
        // `net` is alive; `data` holds `entries` (at most `N`) valid `int` pointers into
        // `values`, which the registration keeps alive until it unregisters the table (shim.c
        // refuses a count that is not its table's, and its one two-`int` entry is the
        // second-to-last value's); `header` is writable.
        // SAFETY: the pointers and the count are valid as listed above, for the table's life.
        let ret = unsafe {
            shim::rust_ipvs_sysctl_register(
                net.as_ptr(),
                data.as_ptr(),
                count,
                read_only,
                &mut header,
            )
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

/// The writes of the sysctls C checks with handlers of its own (`conn_max`, the defense
/// modes, the estimator's settings): shim.c parses the number or the CPU list, the
/// namespace's state checks and stores it.
pub(crate) trait SysctlWrites: PernetState {
    /// A write of `value` to the entry at `index` of the table, by a writer with
    /// `CAP_NET_ADMIN` in the initial user namespace when `privileged`; the error is the
    /// write's.
    fn write(&self, index: usize, value: i32, privileged: bool) -> Result;

    /// A write of `est_cpulist`: `cpus`, already limited to the writer's allowed CPUs.
    fn write_cpulist(&self, cpus: &Cpumask) -> Result;

    /// A read of `est_cpulist`: copies the CPUs last written into `cpus`, or returns false if
    /// none were.
    fn read_cpulist(&self, cpus: &mut Cpumask) -> bool;
}

/// The sysctl write callback of a namespace.
///
/// # Safety
///
/// `net` is the live namespace whose table is being written (a registered table is
/// unregistered, waiting for its handlers, before its namespace goes). `T` is the module's
/// per-namespace state type.
pub(crate) unsafe fn write<T: SysctlWrites>(
    net: *mut bindings::net,
    index: core::ffi::c_uint,
    value: core::ffi::c_int,
) -> core::ffi::c_int {
    // SAFETY: the namespace outlives its table's handlers (caller).
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    let Some(state) = (unsafe { net.state::<T>() }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `capable` checks the current task's credentials; a sysctl write runs in the
    // writer's task.
    let privileged = unsafe { bindings::capable(bindings::CAP_NET_ADMIN as i32) };
    match state.write(index as usize, value, privileged) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The `est_cpulist` write callback of a namespace.
///
/// # Safety
///
/// As [`write`]; `cpus` points to a valid mask for the call.
pub(crate) unsafe fn write_cpulist<T: SysctlWrites>(
    net: *mut bindings::net,
    cpus: *const bindings::cpumask,
) -> core::ffi::c_int {
    // SAFETY: the namespace outlives its table's handlers (caller).
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    let Some(state) = (unsafe { net.state::<T>() }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `cpus` is a valid mask, not written for the call (caller).
    let cpus = unsafe { Cpumask::from_raw(cpus) };
    match state.write_cpulist(cpus) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The `est_cpulist` read callback of a namespace.
///
/// # Safety
///
/// As [`write`]; `cpus` points to a valid mask that nothing else uses for the call.
pub(crate) unsafe fn read_cpulist<T: SysctlWrites>(
    net: *mut bindings::net,
    cpus: *mut bindings::cpumask,
) -> bool {
    // SAFETY: the namespace outlives its table's handlers (caller).
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    let Some(state) = (unsafe { net.state::<T>() }) else {
        return false;
    };
    // SAFETY: `cpus` is a valid mask, ours alone for the call (caller).
    let cpus = unsafe { Cpumask::from_raw_mut(cpus) };
    state.read_cpulist(cpus)
}
