// SPDX-License-Identifier: GPL-2.0

//! The per-namespace timer: calls the module's [`Tick::tick`] (connection expiry and table
//! resize, the defense) every second and [`Tick::minute`] (the locality caches) every
//! minute, both in process context, until dropped; and the clock, random numbers, the
//! scheduler's yield and the memory size.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use kernel::{bindings, prelude::*};

/// The running expiry timer of a namespace.
///
/// # Invariants
///
/// `timer` came from `rust_ipvs_gc_start` and has not been stopped.
pub(crate) struct Timer {
    /// The C timer object.
    timer: *mut shim::Timer,
}

// SAFETY: the handle may be stopped from any task.
unsafe impl Send for Timer {}
// SAFETY: `&Timer` exposes nothing.
unsafe impl Sync for Timer {}

impl Timer {
    /// Starts the timer for `net`. The owner stops it (drops this) before `net` goes away.
    pub(crate) fn start(net: &Net) -> Result<Self> {
        // SAFETY: `net` is alive; the callback is defined below.
        let timer = unsafe { shim::rust_ipvs_gc_start(net.as_ptr()) };
        if timer.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: started above.
        Ok(Timer { timer })
    }

    /// Runs the tick now rather than at the end of its second (C: the resize work queued
    /// at once after a load factor changed).
    pub(crate) fn run_now(&self) {
        // SAFETY: started and not stopped (type invariant).
        unsafe { shim::rust_ipvs_gc_kick(self.timer) };
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: started and not stopped (type invariant); returns after running callbacks.
        unsafe { shim::rust_ipvs_gc_stop(self.timer) };
    }
}

/// What the module does periodically per namespace.
pub(crate) trait Tick: PernetState {
    /// One tick of the namespace's timer, every second in process context.
    fn tick(&self);

    /// Once a minute, in process context.
    fn minute(&self);
}

/// The timer callback of a namespace.
///
/// # Safety
///
/// `net` is a live namespace whose timer fired; the timer is stopped before the namespace is
/// dismantled. `T` is the module's per-namespace state type.
pub(crate) unsafe fn fire<T: Tick>(net: *mut bindings::net) {
    // SAFETY: the timer is stopped before its namespace is dismantled.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(ipvs) = unsafe { net.state::<T>() } {
        ipvs.tick();
    }
}

/// The once-a-minute work of a namespace.
///
/// # Safety
///
/// `net` is a live namespace whose work ran; the work is cancelled before the namespace is
/// dismantled. `T` is the module's per-namespace state type.
pub(crate) unsafe fn fire_minute<T: Tick>(net: *mut bindings::net) {
    // SAFETY: the work is cancelled before its namespace is dismantled.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(ipvs) = unsafe { net.state::<T>() } {
        ipvs.minute();
    }
}

/// The current time in jiffies.
pub(crate) fn jiffies() -> u64 {
    // `jiffies` is the kernel's clock, a word the timer interrupt writes, declared `volatile`
    // in C; a word is read whole.
    // SAFETY: a volatile read of a live global, as C's `jiffies` reads it.
    let now = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies)) };
    now as u64
}

/// A random 32-bit value (`get_random_u32`), for hash seeds.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: no preconditions.
    unsafe { shim::rust_ipvs_random_u32() }
}

/// Lets other tasks run if they should (`cond_resched`); process context only, outside any
/// RCU read-side section or spinlock.
pub(crate) fn cond_resched() {
    // SAFETY: callers are in process context holding no lock (documented contract); the
    // kernel's `might_sleep` checks it on debug kernels.
    unsafe { shim::rust_ipvs_cond_resched() }
}

/// Free and buffer memory, in pages (`si_meminfo`'s `freeram + bufferram`, what C's defense
/// counts as available).
pub(crate) fn available_pages() -> usize {
    let mut info = core::mem::MaybeUninit::<bindings::sysinfo>::zeroed();
    // SAFETY: `si_meminfo` fills the `struct sysinfo` it is given, valid for writes here.
    unsafe { bindings::si_meminfo(info.as_mut_ptr()) };
    // SAFETY: all-zero bytes are a valid `struct sysinfo` (integers and padding), and
    // `si_meminfo` wrote its fields.
    let info = unsafe { info.assume_init() };
    info.freeram.wrapping_add(info.bufferram)
}

/// The machine's memory in pages (`totalram_pages`).
#[allow(
    clippy::useless_conversion,
    reason = "`unsigned long` is 32 bits on some targets"
)]
pub(crate) fn totalram_pages() -> u64 {
    // SAFETY: reads a global counter.
    u64::from(unsafe { shim::rust_ipvs_totalram_pages() })
}
