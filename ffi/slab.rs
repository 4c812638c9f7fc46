// SPDX-License-Identifier: GPL-2.0

//! Objects in a slab cache of their own, counted by a reference count they embed (C:
//! `kmem_cache_create`, `kmem_cache_alloc`, a `refcount_t` in the object, `kmem_cache_free`),
//! and the counted references lists own ([`Counted`]: [`Arc`] or [`SlabArc`]).
//!
//! A connection table holds millions of objects of one type. In an [`Arc`] an object sits
//! behind the count's padded header in the next kmalloc size class up (an object of 184 bytes
//! takes 192 plus the header's 8, so 256). A cache of its own holds objects of exactly their
//! size, as C's `ip_vs_conn_cachep` does, and a count inside the object needs no header.
//!
//! A [`SlabCache`] is a static handle; [`SlabCache::register`] creates the cache at module
//! load and its [`SlabCacheRegistration`] destroys it at unload, once every object is gone.

use core::{
    marker::PhantomData,
    ops::Deref,
    ptr::{
        self,
        NonNull, //
    },
};
use kernel::{
    bindings,
    prelude::*,
    str::CStr,
    sync::{
        atomic::{
            Relaxed, //
            Release,
        },
        rcu,
        Arc,
        ArcBorrow,
        Refcount, //
    },
};

use super::atomic::Atomic;

/// A counted reference to a `Self::Target` that a list can keep as a raw pointer to the
/// target, and take back.
///
/// # Safety
///
/// [`Counted::into_raw`] gives a pointer to the target that stays valid while the reference it
/// stands for is not taken back by [`Counted::from_raw`]; [`Counted::clone_raw`] takes a new
/// reference to a target that a reference of this type keeps alive.
pub(crate) unsafe trait Counted: Deref + Sized {
    /// Gives up this reference for a pointer to the target.
    fn into_raw(this: Self) -> *const Self::Target;

    /// Takes back a reference given up by [`Counted::into_raw`].
    ///
    /// # Safety
    ///
    /// `target` came from [`Counted::into_raw`] of this type, whose reference was not taken
    /// back yet.
    unsafe fn from_raw(target: *const Self::Target) -> Self;

    /// A new reference to `target`.
    ///
    /// # Safety
    ///
    /// `target` is the target of a reference of this type that is alive for the call.
    unsafe fn clone_raw(target: *const Self::Target) -> Self;
}

// SAFETY: `Arc::into_raw` keeps the `Arc`'s reference for the raw pointer until
// `Arc::from_raw`; `clone_raw` takes a new reference through `ArcBorrow`, whose contract is the
// function's.
unsafe impl<T> Counted for Arc<T> {
    #[inline]
    fn into_raw(this: Self) -> *const T {
        Arc::into_raw(this)
    }

    #[inline]
    unsafe fn from_raw(target: *const T) -> Self {
        // SAFETY: `target` came from `Arc::into_raw`, its reference not taken back (contract).
        unsafe { Arc::from_raw(target) }
    }

    #[inline]
    unsafe fn clone_raw(target: *const T) -> Self {
        // SAFETY: `target` is the contents of an `Arc` alive for the call (contract), as
        // `ArcBorrow::from_raw` requires; `into` takes a new reference.
        unsafe { ArcBorrow::from_raw(target) }.into()
    }
}

/// A type whose objects live in a [`SlabCache`] and carry their own count. Implement it with
/// [`impl_slab_counted`].
///
/// # Safety
///
/// `REFCOUNT_OFFSET` is the offset of a [`Refcount`] field in `Self`.
pub(crate) unsafe trait SlabCounted: Send + Sync + Sized {
    /// Byte offset of the [`Refcount`] in `Self`.
    const REFCOUNT_OFFSET: usize;
}

/// Implements [`SlabCounted`] for `$type`, whose [`Refcount`] is field `$field`.
macro_rules! impl_slab_counted {
    ($type:ty, $field:ident) => {
        // SAFETY: the offset is computed from the field, which has type `Refcount` (the
        // initialiser below fails to compile otherwise).
        unsafe impl $crate::ffi::slab::SlabCounted for $type {
            const REFCOUNT_OFFSET: usize =
                $crate::ffi::checked_offset_of!($type, $field, kernel::sync::Refcount);
        }
    };
}
pub(crate) use impl_slab_counted;

/// The count of `object`.
#[inline(always)]
fn refcount_of<T: SlabCounted>(object: &T) -> &Refcount {
    // SAFETY: `T::REFCOUNT_OFFSET` is the offset of a `Refcount` field in `T` (`SlabCounted`
    // contract).
    unsafe { super::field_at(object, T::REFCOUNT_OFFSET) }
}

/// The static handle of a slab cache of `T`s: empty until [`SlabCache::register`] and after
/// its registration is dropped.
pub(crate) struct SlabCache<T> {
    /// The `kmem_cache`, or null.
    cache: Atomic<*mut bindings::kmem_cache>,
    /// The cache holds `T`s.
    _objects: PhantomData<T>,
}

// SAFETY: the handle is a pointer to a `kmem_cache`, whose functions may be called from any
// thread; the objects it hands out are `SlabArc<T>`s, `Send` and `Sync` since `T` is
// (`SlabCounted` bound).
unsafe impl<T: SlabCounted> Sync for SlabCache<T> {}

impl<T: SlabCounted> SlabCache<T> {
    /// A handle with no cache.
    pub(crate) const fn new() -> Self {
        SlabCache {
            cache: Atomic::new(ptr::null_mut()),
            _objects: PhantomData,
        }
    }

    /// Creates the cache, named `name` in `/proc/slabinfo`, for objects of exactly `T`'s size
    /// and alignment (no cache-line padding: millions of them are kept); it lasts as long as the
    /// registration. `EBUSY` if the handle has a cache already.
    pub(crate) fn register(&'static self, name: &'static CStr) -> Result<SlabCacheRegistration<T>> {
        let size = u32::try_from(core::mem::size_of::<T>()).map_err(|_| EINVAL)?;
        let mut args = bindings::kmem_cache_args {
            align: core::mem::align_of::<T>() as u32,
            ..Default::default()
        };
        let name = name.as_char_ptr();
        // SAFETY: `name` is a NUL-terminated string that outlives the cache (`'static`), and
        // `args` a valid argument block for the call.
        let cache = unsafe { bindings::__kmem_cache_create_args(name, size, &mut args, 0) };
        if cache.is_null() {
            return Err(ENOMEM);
        }
        // Release: an allocation that reads the pointer (`load_rcu`) sees the cache created.
        if self.cache.cmpxchg(ptr::null_mut(), cache, Release).is_err() {
            // SAFETY: the cache was just created and has no objects.
            unsafe { bindings::kmem_cache_destroy(cache) };
            return Err(EBUSY);
        }
        Ok(SlabCacheRegistration { handle: self })
    }

    /// A new `T` from the cache, initialised by `init`, with a count of one (atomic allocation:
    /// the packet path creates objects). `ENOMEM` when the cache is not registered or has no
    /// memory.
    pub(crate) fn alloc_atomic<E>(&self, init: impl PinInit<T, E>) -> Result<SlabArc<T>>
    where
        Error: From<E>,
    {
        // The registration's drop clears the handle and waits for a grace period before it
        // destroys the cache: a cache read in this section stays alive through the allocation.
        let _guard = super::rcu::read_lock();
        let cache = self.cache.load_rcu();
        if cache.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `cache` is a live `kmem_cache` (above); GFP_ATOMIC may be used in any context.
        let object = unsafe { bindings::kmem_cache_alloc_noprof(cache, bindings::GFP_ATOMIC) };
        let Some(object) = NonNull::new(object.cast::<T>()) else {
            return Err(ENOMEM);
        };
        // SAFETY: `object` is an allocation of the cache, of `T`'s size and alignment, and is
        // not moved once initialised (only shared references to it are handed out).
        if let Err(e) = unsafe { pin_init::raw_try_init(object.as_ptr(), init) } {
            // SAFETY: `object` came from `cache`, still alive, and holds no `T`.
            unsafe { bindings::kmem_cache_free(cache, object.as_ptr().cast()) };
            return Err(e.into());
        }
        // SAFETY: `object` now holds an initialised `T`, shared from here on.
        refcount_of(unsafe { object.as_ref() }).set(1);
        // INVARIANT: the object came from a slab cache and its count of one is this reference.
        Ok(SlabArc { object })
    }
}

/// The cache of a [`SlabCache`], created by [`SlabCache::register`]. Dropping it (in process
/// context, at module unload once nothing can allocate any more) waits for the deferred
/// releases of objects and destroys the cache.
pub(crate) struct SlabCacheRegistration<T: SlabCounted + 'static> {
    /// The handle whose cache this is.
    handle: &'static SlabCache<T>,
}

impl<T: SlabCounted> Drop for SlabCacheRegistration<T> {
    fn drop(&mut self) {
        let cache = self.handle.cache.xchg(ptr::null_mut(), Relaxed);
        // Allocations that read the cache before it was cleared are done after a grace period,
        // and the objects' releases queued with `call_rcu` after `wait_for_releases`.
        rcu::synchronize_rcu();
        super::rculist::wait_for_releases();
        // SAFETY: the cache was created by `register` and no allocation uses it any more
        // (above). An object still alive would be reported by the kernel and the cache kept.
        unsafe { bindings::kmem_cache_destroy(cache) };
    }
}

/// A counted reference to a `T` in a [`SlabCache`] (as an [`Arc`], with the count inside the
/// object).
///
/// # Invariants
///
/// `object` is an initialised `T` in an object of a slab cache, whose count includes this
/// reference.
pub(crate) struct SlabArc<T: SlabCounted> {
    /// The object.
    object: NonNull<T>,
}

// SAFETY: a `SlabArc` gives shared access to a `T` and may drop it on any thread, which
// `T: Send + Sync` (`SlabCounted` bound) allows.
unsafe impl<T: SlabCounted> Send for SlabArc<T> {}
// SAFETY: as above.
unsafe impl<T: SlabCounted> Sync for SlabArc<T> {}

impl<T: SlabCounted> Deref for SlabArc<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the object is an initialised `T` this reference keeps alive (invariant).
        unsafe { self.object.as_ref() }
    }
}

impl<T: SlabCounted> Clone for SlabArc<T> {
    #[inline]
    fn clone(&self) -> Self {
        super::refcount::inc(refcount_of(&**self));
        // INVARIANT: the count now includes the new reference (it saturates, never wrapping to
        // zero).
        SlabArc {
            object: self.object,
        }
    }
}

impl<T: SlabCounted> Drop for SlabArc<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if !super::refcount::dec_and_test(refcount_of(&**self)) {
            return;
        }
        let object = self.object.as_ptr();
        // SAFETY: the count went to zero: this was the last reference (invariant), so nothing
        // else uses the `T`, which is dropped in place.
        unsafe { ptr::drop_in_place(object) };
        // SAFETY: the object, whose `T` was just dropped, goes back to its slab cache (`kfree`
        // finds the cache of a `kmem_cache_alloc` object).
        unsafe { bindings::kfree(object.cast()) };
    }
}

// SAFETY: `into_raw` forgets the reference for the pointer and `from_raw` takes it back;
// `clone_raw` adds one to the count of an object that a live reference keeps alive.
unsafe impl<T: SlabCounted> Counted for SlabArc<T> {
    #[inline]
    fn into_raw(this: Self) -> *const T {
        let object = this.object.as_ptr().cast_const();
        core::mem::forget(this);
        object
    }

    #[inline]
    unsafe fn from_raw(target: *const T) -> Self {
        // INVARIANT: `target` is the object of a reference given up by `into_raw` (contract),
        // non-null, whose count still includes it.
        SlabArc {
            // SAFETY: as just said, `target` is not null.
            object: unsafe { NonNull::new_unchecked(target.cast_mut()) },
        }
    }

    #[inline]
    unsafe fn clone_raw(target: *const T) -> Self {
        // SAFETY: a live reference keeps `target`, an initialised `T`, alive for the call
        // (contract).
        super::refcount::inc(refcount_of(unsafe { &*target }));
        // INVARIANT: the count includes the reference just added.
        SlabArc {
            // SAFETY: `target` points to a live object, so is not null.
            object: unsafe { NonNull::new_unchecked(target.cast_mut()) },
        }
    }
}
