// SPDX-License-Identifier: GPL-2.0

//! `refcount_inc` and `refcount_dec_and_test` done in place, as C's static inlines are, for
//! the counts the packet path takes and drops several times per packet (a connection's).
//!
//! The kernel crate's [`Refcount`] calls a C helper for each (`rust_helper_refcount_inc`),
//! unless the kernel inlines its helpers through LLVM bitcode (`CONFIG_RUST_INLINE_HELPERS`,
//! which Debian's kernel does not enable). On x86-64 the atomic here is the instruction C's
//! `atomic_fetch_add_relaxed` and `atomic_fetch_sub_release` are (`lock xadd`, a full
//! barrier), and the checks and the warning on a freed or saturated count are
//! `__refcount_add`'s and `__refcount_sub_and_test`'s (`refcount_warn_saturate`, which also
//! saturates the count). Elsewhere the kernel crate's methods do it.

use kernel::sync::Refcount;

/// Adds a reference to `count` (`refcount_inc`): warns and saturates if it was 0 (a use
/// after free) or would overflow.
#[inline(always)]
pub(crate) fn inc(count: &Refcount) {
    #[cfg(target_arch = "x86_64")]
    {
        let old = fetch_add(count, 1);
        if old == 0 {
            warn_saturate(
                count,
                kernel::bindings::refcount_saturation_type_REFCOUNT_ADD_UAF,
            );
        } else if old < 0 || old.wrapping_add(1) < 0 {
            warn_saturate(
                count,
                kernel::bindings::refcount_saturation_type_REFCOUNT_ADD_OVF,
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    count.inc();
}

/// Drops a reference from `count` (`refcount_dec_and_test`): whether it was the last, with
/// the release and acquire ordering C gives; warns and saturates on a count already 0 or
/// saturated.
#[inline(always)]
pub(crate) fn dec_and_test(count: &Refcount) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // `lock xadd` orders as a full barrier, which includes the release before and the
        // acquire after (`smp_acquire__after_ctrl_dep`) that the last reference needs.
        let old = fetch_add(count, -1);
        if old == 1 {
            return true;
        }
        if old <= 0 {
            warn_saturate(
                count,
                kernel::bindings::refcount_saturation_type_REFCOUNT_SUB_UAF,
            );
        }
        false
    }
    #[cfg(not(target_arch = "x86_64"))]
    count.dec_and_test()
}

/// The `refcount_t` inside `count`: `Refcount` is a transparent `Opaque<refcount_t>`, whose
/// `UnsafeCell` allows writing through a shared reference; a `refcount_t` is an `atomic_t`,
/// an `int`, at the same address.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn raw(count: &Refcount) -> *mut kernel::bindings::refcount_t {
    core::ptr::from_ref(count)
        .cast_mut()
        .cast::<kernel::bindings::refcount_t>()
}

/// Adds `delta` to the counter of `count` atomically and returns its previous value
/// (`arch_atomic_fetch_add`: `lock xadd`, which the compiler also treats as a barrier).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn fetch_add(count: &Refcount, delta: i32) -> i32 {
    let counter = raw(count).cast::<i32>();
    let mut value = delta;
    // SAFETY: `counter` points to the live, aligned `int` of `count` ([`raw`]); the
    // instruction reads and writes only those four bytes, atomically.
    unsafe {
        core::arch::asm!(
            "lock xaddl {value:e}, ({counter})",
            counter = in(reg) counter,
            value = inout(reg) value,
            options(att_syntax, nostack)
        )
    };
    value
}

/// Reports a count that was misused and saturates it (`refcount_warn_saturate`), out of the
/// packet path's line.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
fn warn_saturate(count: &Refcount, kind: kernel::bindings::refcount_saturation_type) {
    // SAFETY: `raw(count)` is the live `refcount_t` of `count`; the function stores a
    // saturated value into it and warns.
    unsafe { kernel::bindings::refcount_warn_saturate(raw(count), kind) };
}
