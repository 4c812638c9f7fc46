// SPDX-License-Identifier: GPL-2.0

//! Weighted random twos choice scheduling (C: `ip_vs_twos.c`).
//!
//! Two destinations are drawn at random, each with a probability proportional to its weight,
//! and the one with the lower connection overhead per weight takes the connection. The
//! scheduler keeps no state besides its random source.

use super::{
    dest_view::{
        Algorithm, //
        ClientInfo,
        DestView,
        Random,
    },
    wlc::conn_overhead,
};

/// Power-of-two-choices scheduling of one service, drawing from `R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TwoChoices<R> {
    /// The random source (C: `get_random_u32_below()`).
    random: R,
}

impl<R: Random> TwoChoices<R> {
    /// Starts scheduling a service with `random`; C has no `init_service` for twos.
    pub(crate) fn new(random: R) -> Self {
        TwoChoices { random }
    }
}

/// One of the two weighted draws: the first destination at which the draw's running weight
/// reaches 0.
#[derive(Clone, Copy)]
struct Choice {
    /// What is left of the drawn weight (C: `rweight1`, `rweight2`).
    remaining: i32,
    /// The destination drawn, with its weight and overhead, once found.
    found: Option<(usize, i32, i32)>,
}

impl Choice {
    /// A draw of `remaining`.
    fn new(remaining: i32) -> Self {
        Choice {
            remaining,
            found: None,
        }
    }

    /// Takes away the weight of the destination at `index`, which is drawn if the remainder
    /// reaches 0 before any other was.
    fn pass<D: DestView>(&mut self, index: usize, dest: &D, weight: i32) {
        self.remaining = self.remaining.wrapping_sub(weight);
        if self.remaining <= 0 && self.found.is_none() {
            self.found = Some((index, weight, conn_overhead(dest)));
        }
    }
}

impl<R: Random> Algorithm for TwoChoices<R> {
    /// Picks one of two weighted random draws (`ip_vs_twos_schedule`).
    ///
    /// Each draw is uniform in `0..=total`, the sum of the positive weights of the destinations
    /// that are not overloaded, walked down the list in order. The second draw wins when
    /// `weight2 * overhead1 > weight1 * overhead2` in C's wrapping `int` arithmetic.
    fn schedule<D: DestView>(&mut self, dests: &[D], _client: &ClientInfo) -> Option<usize> {
        let candidates = || {
            dests
                .iter()
                .enumerate()
                .filter(|(_, dest)| !dest.overloaded() && dest.weight() > 0)
        };
        // C: the last candidate is `choice1` until the first draw lands.
        let (last, _) = candidates().last()?;
        let total = candidates().fold(0i32, |total, (_, dest)| total.wrapping_add(dest.weight()));
        // C adds 1 so that both ends of `0..=total` can be drawn, and passes the `int` sum
        // as the `u32` ceiling; the draws come back into `int`.
        let ceiling = total.wrapping_add(1) as u32;
        let mut first = Choice::new(self.random.u32_below(ceiling) as i32);
        let mut second = Choice::new(self.random.u32_below(ceiling) as i32);
        for (index, dest) in candidates() {
            let weight = dest.weight();
            first.pass(index, dest, weight);
            second.pass(index, dest, weight);
            if first.found.is_some() && second.found.is_some() {
                break;
            }
        }
        // C: `weight1` is -1 and `overhead1` 0 while the first draw has not landed.
        let (first_index, first_weight, first_overhead) = first.found.unwrap_or((last, -1, 0));
        match second.found {
            Some((second_index, second_weight, second_overhead))
                if second_weight.wrapping_mul(first_overhead)
                    > first_weight.wrapping_mul(second_overhead) =>
            {
                Some(second_index)
            }
            _ => Some(first_index),
        }
    }
}
