// SPDX-License-Identifier: GPL-2.0

//! An RCU-protected, replaceable [`Arc`]: the packet path reads the current value without a
//! lock; the control path publishes a new value and frees the old one after a grace period.

use super::atomic::Atomic;
use kernel::sync::{
    atomic::Full, //
    rcu,
    Arc,
};

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

    /// The current value, valid while the read-side section of `_guard` lasts.
    pub(crate) fn get<'g>(&self, _guard: &'g rcu::Guard) -> Option<&'g T> {
        let ptr = self.ptr.load_rcu();
        // SAFETY: a non-null pointer owns an `Arc` reference (type invariant) and is released
        // only after a grace period, which cannot end while `_guard` is held.
        unsafe { ptr.as_ref() }
    }

    /// A counted reference to the current value, usable outside a read-side section.
    pub(crate) fn get_arc(&self) -> Option<Arc<T>> {
        let guard = rcu::read_lock();
        let value = self.get(&guard)?;
        // SAFETY: `value` is the contents of a live `Arc` (type invariant) for the guard's
        // lifetime; `ArcBorrow::from_raw` needs exactly that, and `into` takes a new reference.
        let borrow = unsafe { kernel::sync::ArcBorrow::from_raw(value) };
        Some(borrow.into())
    }

    /// Publishes `new` and releases the previous value after a grace period. Sleeps.
    pub(crate) fn replace(&self, new: Option<Arc<T>>) {
        let new_ptr = new.map_or(core::ptr::null_mut(), |a| Arc::into_raw(a).cast_mut());
        let old = self.ptr.xchg(new_ptr, Full);
        if !old.is_null() {
            rcu::synchronize_rcu();
            // SAFETY: `old` came from `Arc::into_raw` (type invariant) and no reader can still
            // hold it after the grace period.
            drop(unsafe { Arc::from_raw(old.cast_const()) });
        }
    }
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
