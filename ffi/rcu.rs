// SPDX-License-Identifier: GPL-2.0

//! RCU read-side sections, and an RCU-protected, replaceable [`Arc`]: the packet path reads
//! the current value without a lock; the control path publishes a new value and frees the old
//! one after a grace period.

use super::atomic::Atomic;
use core::{
    marker::PhantomData,
    mem::offset_of,
    ops::Deref, //
};
use kernel::{
    alloc::flags::GFP_KERNEL,
    bindings,
    prelude::*,
    sync::{
        atomic::Full, //
        rcu,
        Arc,
    },
    types::Opaque,
};

/// Proof that the code holding a reference to it runs inside an RCU read-side critical
/// section: what the read-side accessors take, and what bounds the lifetime of what they
/// return. Entered with [`read_lock`], or assumed for a netfilter hook's packet
/// ([`super::skb::Skb::rcu`]: the netfilter core runs every hook inside a section, which C's
/// `ip_vs` relies on too), so that a packet costs no `rcu_read_lock` call of its own (out of
/// line in the kernel's Rust helpers).
///
/// Only references to it exist, each with the lifetime of the section it was made for.
pub(crate) struct ReadSection(PhantomData<*mut ()>);

impl ReadSection {
    /// The section the caller runs in, for `'a`.
    ///
    /// # Safety
    ///
    /// The caller runs inside an RCU read-side critical section that lasts for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn assume<'a>() -> &'a ReadSection {
        /// The one value: a zero-sized proof, lent with the lifetime of its section.
        const SECTION: ReadSection = ReadSection(PhantomData);
        &SECTION
    }
}

/// A read-side section entered by [`read_lock`] and left when this is dropped; it dereferences
/// to the [`ReadSection`] the read-side accessors take.
pub(crate) struct ReadLock(rcu::Guard);

impl Deref for ReadLock {
    type Target = ReadSection;

    #[inline(always)]
    fn deref(&self) -> &ReadSection {
        // SAFETY: the guard holds the section for as long as `self` is borrowed.
        unsafe { ReadSection::assume() }
    }
}

/// Enters an RCU read-side section (`rcu_read_lock`), left when the result is dropped.
#[inline(always)]
pub(crate) fn read_lock() -> ReadLock {
    ReadLock(rcu::read_lock())
}

/// An RCU-protected pointer to an `Arc<T>`, or null.
///
/// # Invariants
///
/// `ptr` is null or comes from [`Arc::into_raw`] and owns one reference; a replaced pointer is
/// only released after `synchronize_rcu()`, so a reader inside an RCU read-side section can use
/// what it loaded until the section ends.
pub(crate) struct RcuArc<T> {
    /// The published value.
    ptr: Atomic<*mut T>,
}

// SAFETY: the pointer owns an `Arc<T>`, which may be sent and shared when `T: Send + Sync`.
unsafe impl<T: Send + Sync> Send for RcuArc<T> {}
// SAFETY: as above; readers only get `&T`.
unsafe impl<T: Send + Sync> Sync for RcuArc<T> {}

impl<T: Send + Sync> RcuArc<T> {
    /// An empty pointer.
    pub(crate) fn new() -> Self {
        RcuArc {
            ptr: Atomic::new(core::ptr::null_mut()),
        }
    }

    /// The current value, valid while the read-side section `_rcu` lasts.
    pub(crate) fn get<'g>(&self, _rcu: &'g ReadSection) -> Option<&'g T> {
        let ptr = self.ptr.load_rcu();
        // SAFETY: a non-null pointer owns an `Arc` reference (type invariant) and is released
        // only after a grace period, which cannot end while `_rcu`'s section lasts.
        unsafe { ptr.as_ref() }
    }

    /// A counted reference to the current value, usable outside a read-side section.
    pub(crate) fn get_arc(&self) -> Option<Arc<T>> {
        let guard = read_lock();
        let value = self.get(&guard)?;
        // SAFETY: `value` is the contents of a live `Arc` (type invariant) for the guard's
        // lifetime; `ArcBorrow::from_raw` needs exactly that, and `into` takes a new reference.
        let borrow = unsafe { kernel::sync::ArcBorrow::from_raw(value) };
        Some(borrow.into())
    }

    /// Publishes `new` and releases the previous value after a grace period. Sleeps.
    pub(crate) fn replace(&self, new: Option<Arc<T>>) {
        let old = self.swap(new);
        if !old.is_null() {
            rcu::synchronize_rcu();
            // SAFETY: `old` owned a reference (type invariant) that no reader can still use
            // after the grace period.
            drop(unsafe { Arc::from_raw(old.cast_const()) });
        }
    }

    /// Whether a value is published.
    fn is_set(&self) -> bool {
        !self.ptr.load_rcu().is_null()
    }

    /// Publishes `new`; the previous value's reference is dropped after a grace period
    /// without waiting for it (C: `call_rcu`), in softirq context, so dropping it there must
    /// not sleep. Without memory for the deferral this waits, as [`RcuArc::replace`]. For a
    /// control path that must not queue behind the RCU callbacks it just queued (a flush).
    pub(crate) fn replace_deferred(&self, new: Option<Arc<T>>) {
        if !self.is_set() {
            self.replace(new);
            return;
        }
        // Allocated before anything changes: the old value is never dropped early.
        let Ok(slot) = KBox::<Retired<T>>::new_uninit(GFP_KERNEL) else {
            self.replace(new);
            return;
        };
        let old = self.swap(new);
        if old.is_null() {
            return;
        }
        let retired = KBox::into_raw(KBox::write(
            slot,
            Retired {
                rcu: Opaque::uninit(),
                value: old,
            },
        ));
        // SAFETY: `retired` comes from `KBox::into_raw` and owns `old`'s reference (the
        // invariant `release_retired` relies on); its head is queued once, here.
        unsafe { bindings::call_rcu((*retired).rcu.get(), Some(release_retired::<T>)) };
    }

    /// Publishes `new` and returns the previous pointer (null, or one owning a reference that
    /// readers may use until a grace period ends).
    fn swap(&self, new: Option<Arc<T>>) -> *mut T {
        let new_ptr = new.map_or(core::ptr::null_mut(), |a| Arc::into_raw(a).cast_mut());
        self.ptr.xchg(new_ptr, Full)
    }
}

/// A replaced value waiting in `call_rcu` for the end of a grace period.
///
/// # Invariants
///
/// `value` comes from [`Arc::into_raw`] and owns one reference, which readers may use until
/// the grace period ends.
struct Retired<T> {
    /// Queues the release.
    rcu: Opaque<bindings::callback_head>,
    /// The value.
    value: *mut T,
}

/// Drops a [`Retired`] value's reference and frees the holder, once the grace period is over.
///
/// # Safety
///
/// `head` is the `rcu` field of a [`Retired<T>`] from [`KBox::into_raw`], queued once.
unsafe extern "C" fn release_retired<T>(head: *mut bindings::callback_head) {
    // SAFETY: stepping back by the field offset gives the holder (function contract).
    let retired = unsafe {
        head.cast::<u8>()
            .sub(offset_of!(Retired<T>, rcu))
            .cast::<Retired<T>>()
    };
    // SAFETY: the holder came from `KBox::into_raw` (contract).
    let retired = unsafe { KBox::from_raw(retired) };
    // SAFETY: `value` owns a reference (type invariant) and the grace period readers could
    // use it in is over.
    drop(unsafe { Arc::from_raw(retired.value.cast_const()) });
}

impl<T> Drop for RcuArc<T> {
    fn drop(&mut self) {
        let old = *self.ptr.get_mut();
        if !old.is_null() {
            // Readers borrow from the owner, which is being dropped: none can remain.
            // SAFETY: `old` came from `Arc::into_raw` (type invariant).
            drop(unsafe { Arc::from_raw(old.cast_const()) });
        }
    }
}
