// SPDX-License-Identifier: GPL-2.0

//! Atomics whose relaxed loads and stores are inline (C: `READ_ONCE` / `WRITE_ONCE`, which
//! `atomic_read` and `atomic_set` are).
//!
//! The kernel crate's [`kernel::sync::atomic::Atomic`] implements every operation with a call
//! to a C helper (`rust_helper_atomic_read` is `READ_ONCE(v->counter)` in a function of its
//! own), unless the kernel inlines its helpers through LLVM bitcode
//! (`CONFIG_RUST_INLINE_HELPERS`, which needs the C compiler's LLVM to match rustc's and
//! which Debian's kernel does not enable). The packet path reads a connection's flags, state
//! and timeout, a destination's weight and availability, and the sysctls dozens of times per
//! packet; a call each costs more than the load. [`Atomic`] is the kernel's type with the
//! two plain accesses done in place, as C does them: a volatile access of the whole value,
//! no wider than a machine word. Read-modify-write operations are the kernel's (through
//! [`Deref`]), so the memory model stays the kernel's (LKMM), not Rust's own atomics.

use core::{
    cell::UnsafeCell,
    ops::{
        Deref, //
        DerefMut,
    },
};
use kernel::sync::atomic::{self, AtomicType, Relaxed};

/// A [`kernel::sync::atomic::Atomic`] with inline relaxed [`Atomic::load`] and
/// [`Atomic::store`]; the other operations are the kernel type's.
#[repr(transparent)]
pub(crate) struct Atomic<T: AtomicType>(atomic::Atomic<T>);

impl<T: AtomicType> Atomic<T> {
    /// A new atomic holding `value`.
    pub(crate) const fn new(value: T) -> Self {
        Atomic(atomic::Atomic::new(value))
    }

    /// The address of the value, computed in place: the kernel type's `as_ptr` is compiled
    /// once in the kernel crate for each representation and called out of line.
    #[inline(always)]
    fn value_ptr(&self) -> *mut T {
        // `atomic::Atomic<T>` has the size, alignment and bit validity of `T` (its documented
        // layout) and keeps the value in an `UnsafeCell` (it is changed through shared
        // references), whose layout is the value's: `raw_get` gives a pointer valid for reads
        // and, through a shared reference, for writes.
        UnsafeCell::raw_get(core::ptr::from_ref(&self.0).cast::<UnsafeCell<T>>())
    }
}

/// Implements the inline [`Atomic::load`] and [`Atomic::store`] for each type given (the
/// kernel's fallback needs the concrete type).
macro_rules! impl_inline_access {
    ($($t:ty),*) => {$(
        impl Atomic<$t> {
            /// Whether a value is read and written by one instruction, as `READ_ONCE`
            /// requires (a 64-bit value on a 32-bit machine is not: the kernel's helpers
            /// handle it there).
            const ONE_ACCESS: bool =
                core::mem::size_of::<$t>() <= core::mem::size_of::<usize>();

            /// The value, read once (`READ_ONCE`, `atomic_read`).
            #[inline(always)]
            pub(crate) fn load(&self, _: Relaxed) -> $t {
                if !Self::ONE_ACCESS {
                    return self.0.load(Relaxed);
                }
                let ptr = self.value_ptr();
                // `value_ptr` gives the address of the value in its `UnsafeCell`, valid and
                // aligned for as long as `self` lives; every write to it is atomic (the
                // kernel's operations or `store` below), and an aligned volatile access no wider
                // than a word is one instruction, so the read sees one whole written value.
                // SAFETY: `ptr` is valid and aligned, and read whole, as `READ_ONCE` does.
                unsafe { core::ptr::read_volatile(ptr) }
            }

            /// Sets the value, written once (`WRITE_ONCE`, `atomic_set`).
            #[inline(always)]
            pub(crate) fn store(&self, value: $t, _: Relaxed) {
                if !Self::ONE_ACCESS {
                    return self.0.store(value, Relaxed);
                }
                let ptr = self.value_ptr();
                // As in `load`, `ptr` is valid and aligned for the value and points into an
                // `UnsafeCell`, so writing through it while `self` is shared is allowed; the
                // aligned volatile write of at most a word is one instruction.
                // SAFETY: `ptr` is valid, aligned, writable; seen whole, as C's `WRITE_ONCE`.
                unsafe { core::ptr::write_volatile(ptr, value) }
            }
        }
    )*};
}

impl_inline_access!(bool, i16, i32, u32, u64, usize);

/// Implements relaxed [`Atomic::fetch_add`], [`Atomic::fetch_sub`] and [`Atomic::cmpxchg`]
/// for each type given, as calls to the C helpers the kernel type's operations end in
/// (`atomic_fetch_add_relaxed` and the like, the same instructions): the kernel type reaches
/// them through `AtomicRepr::as_ptr`, a function of its own in the kernel crate, called out
/// of line before each helper.
macro_rules! impl_inline_rmw {
    ($($t:ty => $c:ty, $ct:ty, $add:ident, $sub:ident, $try_cmpxchg:ident);* $(;)?) => {$(
        #[allow(dead_code, reason = "each type gets the three operations; not all are used")]
        impl Atomic<$t> {
            /// Adds `v` (wrapping) and returns the value before (`atomic_fetch_add_relaxed`).
            #[inline(always)]
            pub(crate) fn fetch_add(&self, v: $t, _: Relaxed) -> $t {
                // `value_ptr` is the aligned address of the value, which has the layout of
                // the C counter (`atomic_t` is an `int`, `atomic64_t` an `s64`: the kernel
                // type's representation of this type), and every access to it is atomic.
                // SAFETY: the pointer is valid and aligned for the counter for the call.
                unsafe {
                    kernel::bindings::$add(v as $c, self.value_ptr().cast::<$ct>()) as $t
                }
            }

            /// Subtracts `v` (wrapping) and returns the value before
            /// (`atomic_fetch_sub_relaxed`).
            #[inline(always)]
            pub(crate) fn fetch_sub(&self, v: $t, _: Relaxed) -> $t {
                // SAFETY: as in `fetch_add`.
                unsafe {
                    kernel::bindings::$sub(v as $c, self.value_ptr().cast::<$ct>()) as $t
                }
            }

            /// Sets `new` if the value is `old`: `Ok(old)`, or `Err` with the value found
            /// (the kernel type's `cmpxchg`, by `atomic_try_cmpxchg_relaxed`).
            #[inline(always)]
            pub(crate) fn cmpxchg(&self, old: $t, new: $t, _: Relaxed) -> Result<$t, $t> {
                let mut found = old as $c;
                // SAFETY: as in `fetch_add`; `found` is a local the helper writes the value it
                // found to when the exchange fails.
                let exchanged = unsafe {
                    kernel::bindings::$try_cmpxchg(
                        self.value_ptr().cast::<$ct>(),
                        &mut found,
                        new as $c,
                    )
                };
                if exchanged {
                    Ok(old)
                } else {
                    Err(found as $t)
                }
            }
        }
    )*};
}

impl_inline_rmw!(
    i32 => kernel::ffi::c_int, kernel::bindings::atomic_t, atomic_fetch_add_relaxed,
        atomic_fetch_sub_relaxed, atomic_try_cmpxchg_relaxed;
    u32 => kernel::ffi::c_int, kernel::bindings::atomic_t, atomic_fetch_add_relaxed,
        atomic_fetch_sub_relaxed, atomic_try_cmpxchg_relaxed;
    u64 => kernel::bindings::s64, kernel::bindings::atomic64_t, atomic64_fetch_add_relaxed,
        atomic64_fetch_sub_relaxed, atomic64_try_cmpxchg_relaxed;
);

impl<T: AtomicType> Deref for Atomic<T> {
    type Target = atomic::Atomic<T>;

    /// The kernel's atomic, for the read-modify-write operations (`fetch_add`, `cmpxchg`,
    /// `xchg`).
    fn deref(&self) -> &atomic::Atomic<T> {
        &self.0
    }
}

impl<T> Atomic<*mut T> {
    /// The pointer as an RCU reader reads it (C: `rcu_dereference`, a `READ_ONCE` whose
    /// address dependency orders the reads through the pointer after it on every architecture
    /// Rust-for-Linux supports); the publisher stores it with release ordering.
    #[inline(always)]
    pub(crate) fn load_rcu(&self) -> *mut T {
        // SAFETY: as in `load`: `value_ptr` gives the aligned address of the pointer in its
        // `UnsafeCell`, every write to it is atomic, and a word is read whole.
        unsafe { core::ptr::read_volatile(self.value_ptr()) }
    }
}

impl<T: AtomicType> DerefMut for Atomic<T> {
    /// The kernel's atomic, for `get_mut` when the value is owned.
    fn deref_mut(&mut self) -> &mut atomic::Atomic<T> {
        &mut self.0
    }
}
