// SPDX-License-Identifier: GPL-2.0

//! Weighted round-robin scheduling (C: `ip_vs_wrr.c`).
//!
//! The scheduler walks the destination list repeatedly with a falling current weight `cw`: a
//! walk picks, in list order, every destination whose weight is at least `cw`; each finished walk
//! lowers `cw` by the gcd `di` of the weights, and below 1 it starts again at the maximum weight.
//! With weights 4, 3 and 2 (list order A, B, C) the sequence is A A B A B C A B C, repeating.

use super::dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
};

/// Weighted round-robin state of one service (C: `struct ip_vs_wrr_mark`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeightedRoundRobin {
    /// Index of the destination picked last, or [`None`] for the list head (C: `cl`).
    current: Option<usize>,
    /// The current weight (C: `cw`).
    current_weight: i32,
    /// The maximum weight less `interval - 1` (C: `mw`); 0 when no weight is positive.
    max_weight: i32,
    /// The gcd of the positive weights, 1 when there are none (C: `di`).
    interval: i32,
}

impl WeightedRoundRobin {
    /// Starts scheduling a service (`ip_vs_wrr_init_svc`).
    pub(crate) fn new<D: DestView>(dests: &[D]) -> Self {
        let interval = gcd_weight(dests);
        let max_weight = reduced_max_weight(dests, interval);
        WeightedRoundRobin {
            current: None,
            current_weight: max_weight,
            max_weight,
            interval,
        }
    }

    /// Restarts at the list head with the new gcd and maximum weight (`ip_vs_wrr_dest_changed`).
    ///
    /// The current weight is kept when it still fits, rounded to one more than a multiple of the
    /// new gcd.
    fn dest_changed<D: DestView>(&mut self, dests: &[D]) {
        self.current = None;
        self.interval = gcd_weight(dests);
        self.max_weight = reduced_max_weight(dests, self.interval);
        if self.current_weight > self.max_weight || self.current_weight == 0 {
            self.current_weight = self.max_weight;
        } else if self.interval > 1 {
            // `interval` is positive, so the division neither fails nor overflows.
            let multiples = self.current_weight.checked_div(self.interval).unwrap_or(0);
            self.current_weight = multiples.wrapping_mul(self.interval).wrapping_add(1);
        }
    }
}

impl Algorithm for WeightedRoundRobin {
    /// Restarts after any change of the list (`ip_vs_wrr_dest_changed`).
    fn dests_changed<D: DestView>(&mut self, dests: &[D]) {
        self.dest_changed(dests);
    }

    /// Picks the next destination (`ip_vs_wrr_schedule`).
    ///
    /// A destination qualifies when it is not overloaded and its weight is at least the current
    /// weight. The search ends with [`None`] once every destination was tried at the lowest
    /// current weight.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        // No available destinations (C: `err_noavail`, which keeps `cl`).
        if self.max_weight == 0 {
            return None;
        }
        // C: `last`, where the scan started; [`None`] is the list head.
        let last = self.current;
        // C: `dest`, the node the next walk continues after.
        let mut walk_after = self.current;
        // C: `stop`, the destination after which the last walk gives up.
        let mut stop = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            let start = walk_after.map_or(0, |index| index.saturating_add(1));
            let walk = dests.get(start..).unwrap_or(&[]);
            for (offset, dest) in walk.iter().enumerate() {
                let index = start.saturating_add(offset);
                if !dest.overloaded() && dest.weight() >= self.current_weight {
                    self.current = Some(index);
                    return Some(index);
                }
                if stop == Some(index) {
                    // C: `err_over` with `dest` at `stop`.
                    self.current = Some(index);
                    return None;
                }
            }
            // The walk reached the list head: the next one starts at the first destination.
            walk_after = None;
            self.current_weight = self.current_weight.wrapping_sub(self.interval);
            if self.current_weight <= 0 {
                self.current_weight = self.max_weight;
                // Stop when the last pass is over, or when the walk started at the head: then
                // the walk just finished already tried every destination with weight >= 1.
                if last_pass || last.is_none() {
                    // C: `err_over` with `dest` at the list head.
                    self.current = None;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.current_weight <= self.interval;
            if last_pass && restarted && last.is_some() {
                // The first walk tried weight >= 1 only after `last`; this one tries the
                // destinations up to and including `last`.
                stop = last;
            }
        }
    }
}

/// The gcd of the positive weights, 1 when there are none (`ip_vs_wrr_gcd_weight`).
fn gcd_weight<D: DestView>(dests: &[D]) -> i32 {
    let gcd = dests
        .iter()
        .map(DestView::weight)
        .filter(|weight| *weight > 0)
        .fold(0, gcd);
    if gcd > 0 {
        gcd
    } else {
        1
    }
}

/// The largest weight, at least 0 (`ip_vs_wrr_max_weight`), less `interval - 1` (C: `mw`).
fn reduced_max_weight<D: DestView>(dests: &[D], interval: i32) -> i32 {
    let max = dests.iter().map(DestView::weight).fold(0, i32::max);
    max.wrapping_sub(interval.wrapping_sub(1))
}

/// The greatest common divisor of two non-negative numbers; `gcd(0, b)` is `b` (C: `gcd()`).
fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        // `b` is not zero and both are non-negative, so the remainder cannot fail.
        let remainder = a.checked_rem(b).unwrap_or(0);
        a = b;
        b = remainder;
    }
    a
}
