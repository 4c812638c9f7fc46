// SPDX-License-Identifier: GPL-2.0

//! The kernel's random number generator (`include/linux/random.h`).

use kernel::bindings;

/// A uniformly distributed number in `0..ceil` (`get_random_u32_below()`); for a `ceil` of 0,
/// any `u32`, as the kernel defines it.
pub(crate) fn u32_below(ceil: u32) -> u32 {
    // SAFETY: `__get_random_u32_below` has no preconditions: it is callable from any context
    // (it draws from per-CPU batches under a local lock) and defined for every `ceil`.
    unsafe { bindings::__get_random_u32_below(ceil) }
}
