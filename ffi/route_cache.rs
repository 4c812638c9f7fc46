// SPDX-License-Identifier: GPL-2.0

//! A real server's cached output route (C: `struct ip_vs_dest_dst` behind `dest->dest_dst`,
//! with `__ip_vs_dst_check`, `__ip_vs_dst_set` and `__ip_vs_dst_cache_reset`): the packets of
//! a destination's connections skip the FIB lookup while the route stays valid.
//!
//! Readers use the published entry under RCU without a lock, after the route's own validity
//! check (`dst_check`, which fails once the route is obsolete: a routing change, a device
//! gone). Writers (a packet that found no valid entry, the control path resetting the cache)
//! serialise on the cache's lock; a replaced entry releases its route after a grace period.
//! A packet takes the cached route without a reference of its own (C: `skb_dst_set_noref`):
//! the route is borrowed for the read-side section it was read in ([`Route`]'s lifetime),
//! which the kernel's release of a route waits for (`dst_release` frees it after a grace
//! period).
//!
//! Lock order: the cache's lock is innermost; it is taken in softirq (packets), under RTNL
//! (device events), and under the control mutex (edits, removals).

use super::atomic::Atomic;
use super::rcu::ReadSection;
use super::{
    net::Net,
    shim,
    skb::{
        Lookup, //
        Route,
        Route6,
    },
};
use crate::ffi::bhlock::{
    new_spinlock_bh, //
    SpinLockBh,
};
use core::mem::offset_of;
use kernel::{
    alloc::flags::GFP_ATOMIC,
    bindings,
    prelude::*,
    sync::atomic::{
        Relaxed, //
        Release,
    },
    types::Opaque,
};

/// One published route with the source address its lookup chose.
///
/// # Invariants
///
/// `dst` is a valid route this entry holds one reference to, an IPv4 `struct rtable`'s when
/// `v6` is false.
struct Entry {
    /// Queues the release after a grace period.
    rcu: Opaque<bindings::callback_head>,
    /// The route (C: `dst_cache`).
    dst: *mut shim::DstEntry,
    /// Its validity cookie (C: `dst_cookie`; IPv6's `rt6_get_cookie`, 0 for IPv4).
    cookie: u32,
    /// The source address the lookup selected (C: `dst_saddr`); IPv4 in the first 4 bytes.
    saddr: [u8; 16],
    /// An IPv6 route.
    v6: bool,
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: the entry holds a reference to `dst` (type invariant), released once here.
        unsafe { shim::rust_ipvs_dst_release(self.dst) };
    }
}

/// Frees an entry after the grace period `call_rcu` waited for.
///
/// # Safety
///
/// `head` is the `rcu` field of an [`Entry`] from [`KBox::into_raw`], unpublished before it
/// was queued.
unsafe extern "C" fn release(head: *mut bindings::callback_head) {
    // SAFETY: stepping back by the field offset gives the entry (function contract).
    let entry = unsafe {
        head.cast::<u8>()
            .sub(offset_of!(Entry, rcu))
            .cast::<Entry>()
    };
    // SAFETY: the entry came from `KBox::into_raw` (contract) and, the grace period being over,
    // no reader still uses it.
    drop(unsafe { KBox::from_raw(entry) });
}

/// A destination's route cache.
///
/// # Invariants
///
/// `entry` is null or comes from [`KBox::into_raw`]; it is replaced only under `lock`, and a
/// replaced entry is freed through `call_rcu`.
#[pin_data(PinnedDrop)]
pub(crate) struct RouteCache {
    /// The published entry, or null (C: `dest->dest_dst`).
    entry: Atomic<*mut Entry>,
    /// Serialises the writers (C: `dest->dst_lock`).
    #[pin]
    lock: SpinLockBh<()>,
}

// SAFETY: the entry is only reached through the atomic pointer, under RCU or the lock; the
// route it holds may be used and released from any CPU.
unsafe impl Send for RouteCache {}
// SAFETY: as above.
unsafe impl Sync for RouteCache {}

/// A network device, compared by identity with the devices of cached routes (the device of a
/// `NETDEV_DOWN` event).
#[derive(Clone, Copy)]
pub(crate) struct DeviceId(*const bindings::net_device);

impl RouteCache {
    /// An empty cache.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(RouteCache {
            entry: Atomic::new(core::ptr::null_mut()),
            lock <- new_spinlock_bh!((), "rust_ipvs_route_cache"),
        })
    }

    /// The valid entry of family `v6`, if any, read in the section `_rcu` (`__ip_vs_dst_check`).
    fn valid<'g>(&self, _rcu: &'g ReadSection, v6: bool) -> Option<&'g Entry> {
        let entry = self.entry.load_rcu();
        // SAFETY: a published entry is freed only after a grace period (type invariant), which
        // cannot end while `_rcu`'s section lasts.
        let entry = unsafe { entry.as_ref() }?;
        // SAFETY: the entry holds its route (`Entry`'s invariant).
        let valid = unsafe { shim::rust_ipvs_dst_check(entry.dst, entry.cookie) };
        (valid && entry.v6 == v6).then_some(entry)
    }

    /// Publishes `new` (null to empty the cache) and frees the previous entry after a grace
    /// period (`__ip_vs_dst_set`). The caller holds `lock`.
    fn publish(&self, new: *mut Entry) {
        let old = self.entry.xchg(new, Release);
        if !old.is_null() {
            // SAFETY: `old` was published, so came from `KBox::into_raw` (type invariant), and
            // is no longer reachable; its RCU head is queued once, here.
            unsafe { bindings::call_rcu((*old).rcu.get(), Some(release)) };
        }
    }

    /// Publishes the route `dst` (which the caller keeps its own reference to) with `saddr`,
    /// unless its device is down or `cacheable` says no (a destination being removed): C
    /// must not attach a route then. A failed allocation empties the cache.
    fn store(
        &self,
        _rcu: &ReadSection,
        dst: *mut shim::DstEntry,
        saddr: [u8; 16],
        v6: bool,
        cacheable: bool,
    ) {
        // SAFETY: `dst` is a held route (caller), whose device is read in the section `_rcu`.
        if !cacheable || unsafe { shim::rust_ipvs_dst_dev_is_down(dst) } {
            return;
        }
        let cookie = if v6 {
            // SAFETY: `dst` is a held IPv6 route (caller).
            unsafe { shim::rust_ipvs_dst_rt6_cookie(dst) }
        } else {
            0
        };
        // INVARIANT: the entry takes its own reference to `dst`, which dropping it (also on a
        // failed allocation) releases.
        // SAFETY: `dst` is a held route (caller).
        unsafe { shim::rust_ipvs_dst_hold(dst) };
        let entry = KBox::new(
            Entry {
                rcu: Opaque::uninit(),
                dst,
                cookie,
                saddr,
                v6,
            },
            GFP_ATOMIC,
        );
        let Ok(entry) = entry else {
            self.publish(core::ptr::null_mut());
            return;
        };
        self.publish(KBox::into_raw(entry));
    }

    /// The IPv4 route to `daddr` and the source address chosen for it, from the cache (read in
    /// the section `rcu`) or looked up and cached (the `dest` branch of `__ip_vs_get_out_rt`). `cacheable` is asked
    /// under the cache's lock, so that a destination being removed, which empties its cache
    /// under that lock after it stops being available, never keeps a route.
    pub(crate) fn route<'g>(
        &self,
        net: &Net,
        rcu: &'g ReadSection,
        daddr: [u8; 4],
        lookup: Lookup,
        cacheable: impl Fn() -> bool,
    ) -> Result<(Route<'g>, [u8; 4])> {
        if let Some(entry) = self.valid(rcu, false) {
            let [a, b, c, d, ..] = entry.saddr;
            let saddr = [a, b, c, d];
            // SAFETY: a valid IPv4 route (`valid`) whose memory outlives `rcu`'s section: the
            // kernel frees a route a grace period after its last reference (`dst_release`).
            return Ok((unsafe { Route::cached(rcu, entry.dst) }, saddr));
        }
        let _lock = self.lock.lock();
        let (route, saddr) = match Route::output(net, daddr, lookup) {
            Ok(found) => found,
            Err(e) => {
                self.publish(core::ptr::null_mut());
                return Err(e);
            }
        };
        let [a, b, c, d] = saddr;
        let cached = [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.store(rcu, route.dst(), cached, false, cacheable());
        Ok((route, saddr))
    }

    /// [`RouteCache::route`] for an IPv6 real server (`__ip_vs_get_out_rt_v6`).
    pub(crate) fn route6<'g>(
        &self,
        net: &Net,
        rcu: &'g ReadSection,
        daddr: &[u8; 16],
        known_nh: bool,
        cacheable: impl Fn() -> bool,
    ) -> Result<(Route6<'g>, [u8; 16])> {
        if let Some(entry) = self.valid(rcu, true) {
            // SAFETY: a valid route (`valid`) whose memory outlives `rcu`'s section, as above.
            return Ok((unsafe { Route6::cached(rcu, entry.dst) }, entry.saddr));
        }
        let _lock = self.lock.lock();
        let (route, saddr) = match Route6::output(net, daddr, known_nh) {
            Ok(found) => found,
            Err(e) => {
                self.publish(core::ptr::null_mut());
                return Err(e);
            }
        };
        self.store(rcu, route.dst(), saddr, true, cacheable());
        Ok((route, saddr))
    }

    /// Empties the cache (`__ip_vs_dst_cache_reset`): an edited or removed destination.
    pub(crate) fn reset(&self) {
        let _lock = self.lock.lock();
        self.publish(core::ptr::null_mut());
    }

    /// Empties the cache if its route leaves through `dev` (`ip_vs_forget_dev`).
    pub(crate) fn forget_device(&self, dev: DeviceId) {
        let _lock = self.lock.lock();
        let entry = self.entry.load(Relaxed);
        // SAFETY: under the lock the published entry cannot be replaced, so not freed (type
        // invariant); it holds its route.
        if !entry.is_null() && unsafe { shim::rust_ipvs_dst_dev_is((*entry).dst, dev.0) } {
            self.publish(core::ptr::null_mut());
        }
    }
}

#[pinned_drop]
impl PinnedDrop for RouteCache {
    fn drop(self: Pin<&mut Self>) {
        let entry = self.entry.load(Relaxed);
        if !entry.is_null() {
            // The destination is going: no reader can reach its cache any more.
            // SAFETY: `entry` came from `KBox::into_raw` (type invariant).
            drop(unsafe { KBox::from_raw(entry) });
        }
    }
}

/// The `NETDEV_DOWN` notifier (C: `ip_vs_dst_notifier`): calls [`DeviceDown::device_down`]
/// of the device's namespace while registered.
pub(crate) struct NetdevNotifier;

impl NetdevNotifier {
    /// Registers the notifier.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: registers shim.c's static notifier block, unregistered by `drop`.
        kernel::error::to_result(unsafe { shim::rust_ipvs_register_netdev_notifier() })?;
        Ok(NetdevNotifier)
    }
}

impl Drop for NetdevNotifier {
    fn drop(&mut self) {
        // SAFETY: registered by `register` (this value exists only then).
        unsafe { shim::rust_ipvs_unregister_netdev_notifier() };
    }
}

/// What a namespace's state does when one of its devices goes down.
pub(crate) trait DeviceDown {
    /// Drops the cached routes through `dev`.
    fn device_down(&self, dev: DeviceId);
}

/// The notifier's callback for `NETDEV_DOWN` of `dev`.
///
/// # Safety
///
/// Called by shim.c's notifier, under RTNL, with a registered device; `T` is the module's
/// per-namespace state type.
pub(crate) unsafe fn device_down<T: super::net::PernetState + DeviceDown>(
    dev: *mut bindings::net_device,
) {
    // SAFETY: a registered device belongs to a live namespace while RTNL is held (caller).
    let net = unsafe { Net::from_raw(shim::rust_ipvs_dev_net(dev)) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(state) = unsafe { net.state::<T>() } {
        state.device_down(DeviceId(dev.cast_const()));
    }
}
