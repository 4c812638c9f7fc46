// SPDX-License-Identifier: GPL-2.0

//! A spinlock taken with bottom halves disabled (C: `spin_lock_bh`), as C IPVS guards what
//! both the packet path (softirq, or process context for locally sent packets) and process
//! context change: cheaper than [`kernel::sync::SpinLockIrq`], which also turns interrupts
//! off, and enough since no hard interrupt handler takes these locks.
//!
//! Not for use with interrupts disabled (`spin_unlock_bh` would enable bottom halves there).

use super::shim::rust_ipvs_spin_trylock_bh;
use kernel::{bindings, sync::lock::Backend};

/// A spinlock taken with bottom halves disabled. Create one with [`new_spinlock_bh`].
pub(crate) type SpinLockBh<T> = kernel::sync::lock::Lock<T, SpinLockBhBackend>;

/// Creates a [`SpinLockBh`] initialiser with a name and a lock class of its own.
macro_rules! new_spinlock_bh {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::ffi::bhlock::SpinLockBh::new(
            $inner,
            kernel::optional_name!($($name)?),
            kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_bh;

/// The backend of [`SpinLockBh`].
pub(crate) struct SpinLockBhBackend;

// SAFETY: the kernel's `spinlock_t` provides mutual exclusion; `relock` uses the default
// implementation, which locks the same way.
unsafe impl Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: the trait's contract: `ptr` is valid for writes, `name` and `key` for reads
        // for ever.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    /// `spin_lock_bh`: without `PREEMPT_RT` it is `_raw_spin_lock_bh` of the lock's
    /// `raw_spinlock`, called directly (the packet path takes a connection's lock on every
    /// packet, and the shim's wrapper would be one more call and return); the shim's
    /// `spin_lock_bh` where the kernel defines it otherwise. Without `PREEMPT_RT` a
    /// `spinlock_t` is a union whose first member is its `raw_spinlock` (C's `spinlock_check`
    /// returns `&lock->rlock`): the two have one address.
    #[inline(always)]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        #[cfg(not(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_LOCK_BH)))]
        // SAFETY: `ptr` is an initialised lock (the trait's contract), its `raw_spinlock` at
        // the same address (above).
        unsafe {
            bindings::_raw_spin_lock_bh(ptr.cast())
        }
        #[cfg(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_LOCK_BH))]
        // SAFETY: `ptr` is an initialised lock (the trait's contract).
        unsafe {
            super::shim::rust_ipvs_spin_lock_bh(ptr)
        }
    }

    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: as in `lock`.
        (unsafe { rust_ipvs_spin_trylock_bh(ptr) } != 0).then_some(())
    }

    /// `spin_unlock_bh`, called as [`SpinLockBhBackend::lock`] calls its counterpart.
    #[inline(always)]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        #[cfg(not(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_UNLOCK_BH)))]
        // SAFETY: the caller owns the lock (the trait's contract), its `raw_spinlock` at the
        // same address (see `lock`).
        unsafe {
            bindings::_raw_spin_unlock_bh(ptr.cast())
        }
        #[cfg(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_UNLOCK_BH))]
        // SAFETY: the caller owns the lock (the trait's contract).
        unsafe {
            super::shim::rust_ipvs_spin_unlock_bh(ptr)
        }
    }

    /// Called by every lock's guard: a call to the C helper (`lockdep_assert_held`) only
    /// where lockdep checks something, since without it the helper is an empty function
    /// called on each lock taken on the packet path.
    #[inline(always)]
    unsafe fn assert_is_held(ptr: *mut Self::State) {
        #[cfg(CONFIG_LOCKDEP)]
        // SAFETY: `ptr` is an initialised lock (the trait's contract).
        unsafe {
            bindings::spin_assert_is_held(ptr)
        }
        #[cfg(not(CONFIG_LOCKDEP))]
        let _ = ptr;
    }
}
