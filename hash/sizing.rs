// SPDX-License-Identifier: GPL-2.0

//! How big a resizable hash table should be for its number of entries (C:
//! `ip_vs_rht_desired_size` and `ip_vs_rht_set_thresholds`), as pure functions.
//!
//! A load factor `lfactor` is a shift: a table of `size` buckets is full at
//! `size << lfactor` entries for a positive factor, and at `size >> -lfactor` entries for a
//! negative one (below one entry per bucket). It grows past that and shrinks when the
//! entries fall to a sixteenth of it.

/// The bounds of a table's size, as powers of two.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SizeLimits {
    /// The smallest size (C: `*_TAB_MIN_BITS`).
    pub(crate) min_bits: u32,
    /// The largest size (C: `*_TAB_MAX_BITS`).
    pub(crate) max_bits: u32,
}

/// A table's current shape, as far as sizing goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Buckets, a power of two.
    pub(crate) size: u32,
    /// The load factor the table was sized with.
    pub(crate) lfactor: i32,
}

/// The smallest power of two at least `n` (1 for 0), capped at 2^31.
fn roundup_pow_of_two(n: u32) -> u32 {
    n.max(1).checked_next_power_of_two().unwrap_or(1 << 31)
}

/// The size a table should have for `n` entries (`ip_vs_rht_desired_size`): `current` is the
/// table's shape, [`None`] before the first table, which gets the smallest size.
pub(crate) fn desired_size(
    current: Option<Shape>,
    n: u32,
    lfactor: i32,
    limits: SizeLimits,
) -> u32 {
    let min = 1u32 << limits.min_bits.min(30);
    let max = 1u32 << limits.max_bits.min(30);
    let Some(current) = current else {
        return min;
    };
    let n = roundup_pow_of_two(n);
    let n = if lfactor < 0 {
        let factor = lfactor.unsigned_abs().min(limits.max_bits);
        let cap = 1u32 << limits.max_bits.saturating_sub(factor).min(30);
        n.min(cap) << factor.min(30)
    } else {
        (n >> lfactor.unsigned_abs().min(31)).min(max)
    };
    if lfactor != current.lfactor {
        return n.clamp(min, max);
    }
    if n > current.size {
        return n;
    }
    if n > current.size >> 4 {
        return current.size;
    }
    // Shrink, but to twice the need, so that the table does not resize back and forth.
    n.saturating_mul(2).clamp(min, max)
}

/// The number of entries past which a table of `shape` should grow (C's `u_thresh`, from
/// `ip_vs_rht_set_thresholds`): an insert that takes the count past it asks for a resize at
/// once instead of waiting for the periodic check. A table at the largest size never grows.
pub(crate) fn grow_threshold(shape: Shape, limits: SizeLimits) -> u32 {
    let max_bits = limits.max_bits.min(30);
    if shape.size >= 1 << max_bits {
        return i32::MAX.unsigned_abs();
    }
    let factor = shape.lfactor.unsigned_abs();
    if shape.lfactor <= 0 {
        shape.size >> factor.min(max_bits)
    } else {
        let factor = factor.min(30);
        shape.size.min(1 << 30u32.saturating_sub(factor)) << factor
    }
}

/// The size a table of `shape` should be resized to for `n` entries and load factor
/// `lfactor`, or [`None`] while it fits (C's resize works, which compute the desired size
/// every time: a threshold shortcut would miss the shrink of a full table).
pub(crate) fn resize_target(shape: Shape, n: u32, lfactor: i32, limits: SizeLimits) -> Option<u32> {
    let size = desired_size(Some(shape), n, lfactor, limits);
    (size != shape.size || lfactor != shape.lfactor).then_some(size)
}
