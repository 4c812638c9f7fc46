// SPDX-License-Identifier: GPL-2.0

//! The chain-length report of a hash table in `/proc/net/ip_vs_status` (C 7.3:
//! `ip_vs_status_show`): how many chains are empty and how many hold 1 to 6 entries, or 7 and
//! more, with their shares.

use core::fmt::Write;

/// Chains counted by length, the last slot for 7 entries and more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChainLengths {
    /// `counts[n]`: chains of `n` entries (`counts[7]`: 7 or more).
    counts: [u32; 8],
}

impl ChainLengths {
    /// The longest length counted apart; longer chains count as this long (C stops a chain's
    /// walk there).
    pub(crate) const CAP: usize = 7;

    /// Counts one chain of `len` entries.
    pub(crate) fn add(&mut self, len: usize) {
        if let Some(count) = self.counts.get_mut(len.min(Self::CAP)) {
            *count = count.saturating_add(1);
        }
    }

    /// Writes the report's lines about `what` ("Conn", "Service"): the empty chains as a share
    /// of all chains, then each length met as a share of the non-empty ones, percentages
    /// rounded down, as C prints them.
    pub(crate) fn write(&self, out: &mut impl Write, what: &str) -> core::fmt::Result {
        let sum = self
            .counts
            .iter()
            .fold(0u64, |s, &c| s.saturating_add(u64::from(c)));
        let empty = self.counts.first().copied().unwrap_or(0);
        let used = sum.saturating_sub(u64::from(empty));
        let share = |count: u32, of: u64| {
            u64::from(count)
                .saturating_mul(100)
                .checked_div(of.max(1))
                .unwrap_or(0)
        };
        writeln!(
            out,
            "{what} buckets empty:\t{empty} ({}%)",
            share(empty, sum)
        )?;
        for (len, &count) in self.counts.iter().enumerate().skip(1) {
            if count != 0 {
                writeln!(
                    out,
                    "{what} buckets len-{len}:\t{count} ({}%)",
                    share(count, used)
                )?;
            }
        }
        Ok(())
    }
}
