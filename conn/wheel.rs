// SPDX-License-Identifier: GPL-2.0

//! The arithmetic of the connection expiry wheel (plain Rust, host-tested): which slot a
//! connection is filed in, when the tick next visits a slot, and which seconds a tick takes.
//!
//! The wheel has [`SECONDS`] seconds of slots, [`STRIPES`] slots each. A connection is filed
//! under the second it expires at (or the next second, if that one has come); every second
//! the tick takes the slots of the seconds that passed since its last run. A connection
//! expiring more than [`SECONDS`] ahead is thus visited earlier, and filed again.

use core::ops::RangeInclusive;

/// Seconds of the wheel (a power of two).
pub(crate) const SECONDS: u64 = 256;

/// Slots per second (a power of two), so that connections created in the same second on several CPUs seldom
/// wait for the same lock.
pub(crate) const STRIPES: u64 = 16;

/// The number of slots.
pub(crate) const SLOTS: usize = (SECONDS * STRIPES) as usize;

const _: () = assert!(SECONDS.is_power_of_two() && STRIPES.is_power_of_two());

/// The stripe of a connection, from its client port.
pub(crate) fn stripe(cport: u16) -> u64 {
    u64::from(cport ^ (cport >> 4)) & (STRIPES - 1)
}

/// The slot of second `sec` (jiffies / HZ) for `stripe` (below [`STRIPES`]).
pub(crate) fn slot(sec: u64, stripe: u64) -> usize {
    (((sec & (SECONDS - 1)) << STRIPES.trailing_zeros()) | (stripe & (STRIPES - 1))) as usize
}

/// The second under which a connection expiring at `expires` (jiffies) is filed at `now`
/// (jiffies): its own, or the next one when its own has come (the tick may have taken it).
pub(crate) fn filing_second(expires: u64, now: u64, hz: u64) -> u64 {
    let sec = |jiffies: u64| jiffies.checked_div(hz).unwrap_or(jiffies);
    sec(expires).max(sec(now).saturating_add(1))
}

/// The second at which a tick that last ran at second `now_sec` next takes `slot`: one of the
/// next [`SECONDS`].
pub(crate) fn next_visit(slot: usize, now_sec: u64) -> u64 {
    let index = (slot as u64) >> STRIPES.trailing_zeros();
    let after = now_sec.wrapping_add(1);
    let ahead = index.wrapping_sub(after) & (SECONDS - 1);
    after.wrapping_add(ahead)
}

/// The seconds a tick at second `now_sec` takes when the last one took those up to `last`:
/// those since, or the last [`SECONDS`] of them after a long pause (every slot once).
pub(crate) fn seconds_due(last: u64, now_sec: u64) -> RangeInclusive<u64> {
    let first = last
        .saturating_add(1)
        .max(now_sec.saturating_sub(SECONDS - 1));
    first..=now_sec
}
