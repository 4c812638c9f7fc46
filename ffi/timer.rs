// SPDX-License-Identifier: GPL-2.0

//! The per-namespace works: [`Tick::tick`] (connection expiry, the defense) every second,
//! [`Tick::minute`] (the locality caches) every minute and [`Tick::resize`] (the connection
//! table's size) every two seconds or at once when a [`ResizeKick`] asks, all in process
//! context, until the [`Timer`] is dropped; and the clock, random numbers, the scheduler's
//! yield and the memory size.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use kernel::{
    bindings,
    prelude::*,
    sync::{
        Arc, //
        UniqueArc,
    },
};

/// The works of a namespace (shim.c's `struct rust_ipvs_gc`), freed with the last handle.
///
/// # Invariants
///
/// `works` came from `rust_ipvs_gc_start` and is freed only here. Its works are stopped
/// before this is dropped: the [`Timer`] that created it holds a reference until it stopped
/// them.
struct Works {
    /// The C object.
    works: *mut shim::Timer,
}

// SAFETY: the works may be kicked, stopped and freed from any task.
unsafe impl Send for Works {}
// SAFETY: the one operation through `&Works`, a kick, is `mod_delayed_work`, which may run
// concurrently with itself and with the works.
unsafe impl Sync for Works {}

impl Drop for Works {
    fn drop(&mut self) {
        // SAFETY: allocated by `rust_ipvs_gc_start` and stopped (type invariant); the last
        // reference goes here, so nothing kicks it any more.
        unsafe { shim::rust_ipvs_gc_free(self.works) };
    }
}

/// The running works of a namespace; dropping this stops them.
pub(crate) struct Timer {
    /// The works, shared with the [`ResizeKick`]s handed out.
    works: Arc<Works>,
}

impl Timer {
    /// Starts the works for `net`. The owner stops them (drops this) before `net` goes away.
    pub(crate) fn start(net: &Net) -> Result<Self> {
        // Allocated first: once started, the works must not be freed unstopped.
        let slot = UniqueArc::<Works>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `net` is alive; the works' callbacks (`rust_ipvs_tick`, `rust_ipvs_minute`,
        // `rust_ipvs_resize`) are defined by `ffi::callbacks!` for the module's state.
        let works = unsafe { shim::rust_ipvs_gc_start(net.as_ptr()) };
        if works.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: started above; the `Timer` made of it stops it when dropped.
        Ok(Timer {
            works: slot.write(Works { works }).into(),
        })
    }

    /// A handle that runs the resize work at once.
    pub(crate) fn resize_kick(&self) -> ResizeKick {
        ResizeKick {
            works: self.works.clone(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: started (`Works` invariant); returns after running callbacks finished, and
        // the works do not run again, kicked or not.
        unsafe { shim::rust_ipvs_gc_stop(self.works.works) };
    }
}

/// Runs a namespace's resize work at once (C: `mod_delayed_work` of `conn_resize_work`);
/// nothing once its [`Timer`] stopped. Cheap to clone, callable from any context.
#[derive(Clone)]
pub(crate) struct ResizeKick {
    /// The works, alive while this holds them.
    works: Arc<Works>,
}

impl ResizeKick {
    /// Queues the resize work to run now.
    pub(crate) fn kick(&self) {
        // SAFETY: the works are allocated while this holds a reference (`Works` invariant);
        // kicking stopped (disabled) works queues nothing.
        unsafe { shim::rust_ipvs_gc_resize(self.works.works) };
    }
}

/// What the module does periodically per namespace.
pub(crate) trait Tick: PernetState {
    /// One tick of the namespace's timer, every second in process context.
    fn tick(&self);

    /// Once a minute, in process context.
    fn minute(&self);

    /// Every two seconds and when kicked, in process context, never twice at once: whether
    /// to try again at the next jiffy (a resize failed for memory).
    fn resize(&self) -> bool;
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

/// The resize work of a namespace: whether to retry at once.
///
/// # Safety
///
/// `net` is a live namespace whose resize work ran; the work is stopped before the namespace
/// is dismantled. `T` is the module's per-namespace state type.
pub(crate) unsafe fn fire_resize<T: Tick>(net: *mut bindings::net) -> bool {
    // SAFETY: the work is stopped before its namespace is dismantled.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    unsafe { net.state::<T>() }.is_some_and(|ipvs| ipvs.resize())
}

/// The current time in jiffies.
pub(crate) fn jiffies() -> u64 {
    // `jiffies` is the kernel's clock, a word the timer interrupt writes, declared `volatile`
    // in C; a word is read whole.
    // SAFETY: a volatile read of a live global, as C's `jiffies` reads it.
    let now = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(bindings::jiffies)) };
    now as u64
}

/// A random 32-bit value (`get_random_u32`).
pub(crate) fn random_u32() -> u32 {
    // SAFETY: no preconditions.
    unsafe { bindings::get_random_u32() }
}

/// A random 64-bit value (`get_random_u64`), for hash keys.
pub(crate) fn random_u64() -> u64 {
    // SAFETY: no preconditions.
    unsafe { bindings::get_random_u64() }
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
