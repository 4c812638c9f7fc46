// SPDX-License-Identifier: GPL-2.0

//! Schedulers (C: `struct ip_vs_scheduler` and `ip_vs_sched.c`): a registry by name over the
//! algorithms in `sched/`, which are plain Rust shared with the host tests. This file binds
//! them to the kernel: the storage of the Maglev table and the random source of twos.

pub(crate) mod dest_view;
pub(crate) mod dh;
pub(crate) mod fo;
pub(crate) mod lc;
pub(crate) mod mh;
pub(crate) mod nq;
pub(crate) mod ovf;
pub(crate) mod persist;
pub(crate) mod rr;
pub(crate) mod sed;
pub(crate) mod sh;
pub(crate) mod twos;
pub(crate) mod wlc;
pub(crate) mod wrr;

use crate::ffi::random;
use dest_view::{
    Algorithm, //
    ClientInfo,
    DestView,
    Random,
};
use kernel::prelude::*;

/// The names of the schedulers, as `ipvsadm -s` takes them.
const NAMES: [&str; 12] = [
    "rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed", "nq", "fo", "ovf", "twos",
];

/// The kernel's random numbers (`get_random_u32_below()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KernelRandom;

impl Random for KernelRandom {
    fn u32_below(&mut self, ceil: u32) -> u32 {
        random::u32_below(ceil)
    }
}

/// The scheduler bound to a service, with its per-service state.
///
/// It lives inside its service's allocation and is never moved, so the 256 buckets of the
/// hashing schedulers (C allocates as many per service) are not boxed; the Maglev table is.
pub(crate) enum Scheduler {
    /// Round robin.
    RoundRobin(rr::RoundRobin),
    /// Weighted round robin.
    WeightedRoundRobin(wrr::WeightedRoundRobin),
    /// Least connection.
    LeastConnection(lc::LeastConnection),
    /// Weighted least connection.
    WeightedLeastConnection(wlc::WeightedLeastConnection),
    /// Source hashing.
    SourceHashing(sh::SourceHashing),
    /// Destination hashing.
    DestinationHashing(dh::DestinationHashing),
    /// Maglev hashing.
    MaglevHashing(mh::MaglevHashing<KVec<u16>>),
    /// Shortest expected delay.
    ShortestExpectedDelay(sed::ShortestExpectedDelay),
    /// Never queue.
    NeverQueue(nq::NeverQueue),
    /// Weighted failover.
    WeightedFailover(fo::WeightedFailover),
    /// Weighted overflow.
    WeightedOverflow(ovf::WeightedOverflow),
    /// Weighted random twos choice.
    TwoChoices(twos::TwoChoices<KernelRandom>),
}

/// Runs `$body` with `$s` bound to the algorithm of whichever variant `$scheduler` is.
macro_rules! with_algorithm {
    ($scheduler:expr, $s:ident => $body:expr) => {
        match $scheduler {
            Scheduler::RoundRobin($s) => $body,
            Scheduler::WeightedRoundRobin($s) => $body,
            Scheduler::LeastConnection($s) => $body,
            Scheduler::WeightedLeastConnection($s) => $body,
            Scheduler::SourceHashing($s) => $body,
            Scheduler::DestinationHashing($s) => $body,
            Scheduler::MaglevHashing($s) => $body,
            Scheduler::ShortestExpectedDelay($s) => $body,
            Scheduler::NeverQueue($s) => $body,
            Scheduler::WeightedFailover($s) => $body,
            Scheduler::WeightedOverflow($s) => $body,
            Scheduler::TwoChoices($s) => $body,
        }
    };
}

impl Scheduler {
    /// Whether a scheduler is called `name` (`ip_vs_scheduler_get` finding it).
    pub(crate) fn exists(name: &[u8]) -> bool {
        NAMES.iter().any(|known| known.as_bytes() == name)
    }

    /// Binds the scheduler called `name` to a service with `dests` (`ip_vs_scheduler_get` and
    /// `init_service`): ENOENT for an unknown name, ENOMEM when its state cannot be
    /// allocated.
    pub(crate) fn by_name<D: DestView>(name: &[u8], dests: &[D]) -> Result<Self> {
        Ok(match name {
            b"rr" => Scheduler::RoundRobin(rr::RoundRobin::new(dests)),
            b"wrr" => Scheduler::WeightedRoundRobin(wrr::WeightedRoundRobin::new(dests)),
            b"lc" => Scheduler::LeastConnection(lc::LeastConnection),
            b"wlc" => Scheduler::WeightedLeastConnection(wlc::WeightedLeastConnection::new(dests)),
            b"sh" => Scheduler::SourceHashing(sh::SourceHashing::new(dests)),
            b"dh" => Scheduler::DestinationHashing(dh::DestinationHashing::new(dests)),
            b"mh" => {
                let lookup = KVec::from_elem(0u16, mh::TABLE_SIZE, GFP_KERNEL)?;
                let positions = KVec::from_elem(0u16, mh::TABLE_SIZE, GFP_KERNEL)?;
                let state = mh::MaglevHashing::new(lookup, positions, dests).ok_or(EINVAL)?;
                Scheduler::MaglevHashing(state)
            }
            b"sed" => Scheduler::ShortestExpectedDelay(sed::ShortestExpectedDelay),
            b"nq" => Scheduler::NeverQueue(nq::NeverQueue),
            b"fo" => Scheduler::WeightedFailover(fo::WeightedFailover),
            b"ovf" => Scheduler::WeightedOverflow(ovf::WeightedOverflow),
            b"twos" => Scheduler::TwoChoices(twos::TwoChoices::new(KernelRandom)),
            _ => return Err(ENOENT),
        })
    }

    /// The scheduler's name, as GET_SERVICE and /proc report it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Scheduler::RoundRobin(_) => "rr",
            Scheduler::WeightedRoundRobin(_) => "wrr",
            Scheduler::LeastConnection(_) => "lc",
            Scheduler::WeightedLeastConnection(_) => "wlc",
            Scheduler::SourceHashing(_) => "sh",
            Scheduler::DestinationHashing(_) => "dh",
            Scheduler::MaglevHashing(_) => "mh",
            Scheduler::ShortestExpectedDelay(_) => "sed",
            Scheduler::NeverQueue(_) => "nq",
            Scheduler::WeightedFailover(_) => "fo",
            Scheduler::WeightedOverflow(_) => "ovf",
            Scheduler::TwoChoices(_) => "twos",
        }
    }

    /// A destination was inserted at `index` (`add_dest`).
    pub(crate) fn dest_added<D: DestView>(&mut self, dests: &[D], index: usize) {
        with_algorithm!(self, s => s.dest_added(dests, index))
    }

    /// The destination at `index` was removed (`del_dest`).
    pub(crate) fn dest_removed<D: DestView>(&mut self, dests: &[D], index: usize) {
        with_algorithm!(self, s => s.dest_removed(dests, index))
    }

    /// A destination's weight or thresholds changed (`upd_dest`).
    pub(crate) fn dest_updated<D: DestView>(&mut self, dests: &[D]) {
        with_algorithm!(self, s => s.dest_updated(dests))
    }

    /// Picks a destination for a new connection (`schedule`): an index into `dests`.
    pub(crate) fn schedule<D: DestView>(
        &mut self,
        dests: &[D],
        client: &ClientInfo,
    ) -> Option<usize> {
        with_algorithm!(self, s => s.schedule(dests, client))
    }
}
