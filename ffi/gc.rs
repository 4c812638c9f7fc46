// SPDX-License-Identifier: GPL-2.0

//! The per-namespace timer: calls [`crate::netns::NetState::tick`] (connection expiry, rate
//! estimation) every second in softirq context until dropped.

use super::{
    net::Net, //
    shim,
};
use kernel::{bindings, prelude::*};

/// The running expiry timer of a namespace.
///
/// # Invariants
///
/// `timer` came from `rust_ipvs_gc_start` and has not been stopped.
pub(crate) struct GcTimer {
    /// The C timer object.
    timer: *mut shim::GcTimer,
}

// SAFETY: the handle may be stopped from any task.
unsafe impl Send for GcTimer {}
// SAFETY: `&GcTimer` exposes nothing.
unsafe impl Sync for GcTimer {}

impl GcTimer {
    /// Starts the timer for `net`. The owner stops it (drops this) before `net` goes away.
    pub(crate) fn start(net: &Net) -> Result<Self> {
        // SAFETY: `net` is alive; the callback is defined below.
        let timer = unsafe { shim::rust_ipvs_gc_start(net.as_ptr()) };
        if timer.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: started above.
        Ok(GcTimer { timer })
    }
}

impl Drop for GcTimer {
    fn drop(&mut self) {
        // SAFETY: started and not stopped (type invariant); returns after a running callback.
        unsafe { shim::rust_ipvs_gc_stop(self.timer) };
    }
}

/// Timer callback: expires the namespace's idle connections and updates its rates.
///
/// # Safety
///
/// `net` is a live namespace whose timer fired; the timer is stopped before the
/// namespace is dismantled.
#[no_mangle]
unsafe extern "C" fn rust_ipvs_conn_gc(net: *mut bindings::net) {
    // SAFETY: the timer is stopped before its namespace is dismantled.
    let net = unsafe { Net::from_raw(net) };
    if let Some(ipvs) = net.ipvs() {
        ipvs.tick();
    }
}

/// The current time in jiffies.
pub(crate) fn jiffies() -> u64 {
    // SAFETY: reads a global counter.
    (unsafe { shim::rust_ipvs_jiffies() }) as u64
}

/// A random 32-bit value (`get_random_u32`), for hash seeds.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: no preconditions.
    unsafe { shim::rust_ipvs_random_u32() }
}
