// SPDX-License-Identifier: GPL-2.0

//! The defense level's rule (C: `update_defense_level`), as a pure function of the three
//! defense sysctls and the free memory, so that it is tested on the host against C.
//!
//! Each of `drop_entry`, `drop_packet` and `secure_tcp` takes 0 (off), 1 (on when memory is
//! short: the sysctl then reads 2), 2 (on while memory is short: back to 1 once it is not) or
//! 3 (always on).

/// The defense sysctls (`drop_entry`, `drop_packet`, `secure_tcp`), as read before an update
/// and as the update leaves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Modes {
    /// `drop_entry`: drop connection entries at random.
    pub(crate) drop_entry: i32,
    /// `drop_packet`: drop one new-connection packet out of every so many.
    pub(crate) drop_packet: i32,
    /// `secure_tcp`: the TCP defense state tables.
    pub(crate) secure_tcp: i32,
}

/// What an update reads besides the modes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inputs {
    /// Free and buffer memory, in pages (`si_meminfo`'s `freeram + bufferram`, as C's `int`).
    pub(crate) availmem: i32,
    /// `amemthresh`: below this many available pages, memory is short.
    pub(crate) amemthresh: i32,
    /// `am_droprate`: the drop rate of `drop_packet` 3.
    pub(crate) am_droprate: i32,
    /// The `secure_tcp` value the previous update left (`ipvs->old_secure_tcp`).
    pub(crate) old_secure_tcp: i32,
}

/// What an update decides (the fields of `struct netns_ipvs` it writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    /// The sysctls afterwards (levels 1 and 2 move to each other).
    pub(crate) modes: Modes,
    /// Whether the random entry drop runs (`ipvs->dropentry`).
    pub(crate) drop_entry: bool,
    /// One new-connection packet out of this many is dropped; 0 for none (`ipvs->drop_rate`).
    pub(crate) drop_rate: i32,
    /// The packet countdown restarted at this value, if it is (`ipvs->drop_counter`).
    pub(crate) drop_counter: Option<i32>,
    /// The TCP state tables switch: to the defense ones (`true`) or the normal ones
    /// (`ip_vs_protocol_timeout_change`); `None` to leave them.
    pub(crate) secure_tcp_tables: Option<bool>,
}

/// `update_defense_level` for `modes` and `inputs`.
pub(crate) fn update(modes: Modes, inputs: Inputs) -> Level {
    let amemthresh = inputs.amemthresh.max(0);
    let nomem = inputs.availmem < amemthresh;
    let mut after = modes;

    let drop_entry = match modes.drop_entry {
        1 if nomem => {
            after.drop_entry = 2;
            true
        }
        2 if !nomem => {
            after.drop_entry = 1;
            false
        }
        2 | 3 => true,
        _ => false,
    };

    // With memory short, `amemthresh - availmem` is positive.
    let short_rate = || {
        amemthresh
            .checked_div(amemthresh.wrapping_sub(inputs.availmem))
            .unwrap_or(0)
    };
    let (drop_rate, drop_counter) = match modes.drop_packet {
        1 | 2 if nomem => {
            after.drop_packet = 2;
            let rate = short_rate();
            (rate, Some(rate))
        }
        2 => {
            after.drop_packet = 1;
            (0, None)
        }
        3 => (inputs.am_droprate, None),
        _ => (0, None),
    };

    let old = inputs.old_secure_tcp;
    let to_change = match modes.secure_tcp {
        0 => (old >= 2).then_some(false),
        1 | 2 if nomem => {
            after.secure_tcp = 2;
            (old < 2).then_some(true)
        }
        1 | 2 => {
            after.secure_tcp = 1;
            (old >= 2).then_some(false)
        }
        3 => (old < 2).then_some(true),
        _ => None,
    };
    // C switches to the tables the level reads after the update.
    let secure_tcp_tables = to_change.map(|_| after.secure_tcp > 1);

    Level {
        modes: after,
        drop_entry,
        drop_rate,
        drop_counter,
        secure_tcp_tables,
    }
}
