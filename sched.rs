// SPDX-License-Identifier: GPL-2.0

//! Schedulers (C: `struct ip_vs_scheduler` and `ip_vs_sched.c`): a registry by name over the
//! algorithms in `sched/`, which are plain Rust shared with the host tests.

pub(crate) mod dest_view;
pub(crate) mod persist;
pub(crate) mod rr;
pub(crate) mod sh;
pub(crate) mod wlc;
pub(crate) mod wrr;

use dest_view::{
    ClientInfo, //
    DestView,
};

/// The scheduler bound to a service, with its per-service state.
///
/// It lives inside its service's allocation and is never moved, so the size of the source
/// hashing table (C allocates the same 256 buckets per service) is not boxed.
#[expect(clippy::large_enum_variant)]
pub(crate) enum Scheduler {
    /// Round robin.
    RoundRobin(rr::RoundRobin),
    /// Weighted round robin.
    WeightedRoundRobin(wrr::WeightedRoundRobin),
    /// Source hashing.
    SourceHashing(sh::SourceHashing),
    /// Weighted least connection.
    WeightedLeastConnection(wlc::WeightedLeastConnection),
}

impl Scheduler {
    /// Binds the scheduler called `name` to a service with `dests` (`ip_vs_scheduler_get` and
    /// `init_service`); [`None`] for an unknown name, which C reports as ENOENT.
    pub(crate) fn by_name<D: DestView>(name: &[u8], dests: &[D]) -> Option<Self> {
        Some(match name {
            b"rr" => Scheduler::RoundRobin(rr::RoundRobin::new(dests)),
            b"wrr" => Scheduler::WeightedRoundRobin(wrr::WeightedRoundRobin::new(dests)),
            b"sh" => Scheduler::SourceHashing(sh::SourceHashing::new(dests)),
            b"wlc" => Scheduler::WeightedLeastConnection(wlc::WeightedLeastConnection::new(dests)),
            _ => return None,
        })
    }

    /// The scheduler's name, as GET_SERVICE and /proc report it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Scheduler::RoundRobin(_) => "rr",
            Scheduler::WeightedRoundRobin(_) => "wrr",
            Scheduler::SourceHashing(_) => "sh",
            Scheduler::WeightedLeastConnection(_) => "wlc",
        }
    }

    /// A destination was inserted at `index` (`add_dest`).
    pub(crate) fn dest_added<D: DestView>(&mut self, dests: &[D], index: usize) {
        match self {
            Scheduler::RoundRobin(s) => s.dest_added(dests, index),
            Scheduler::WeightedRoundRobin(s) => s.dest_added(dests, index),
            Scheduler::SourceHashing(s) => s.dest_added(dests, index),
            Scheduler::WeightedLeastConnection(s) => s.dest_added(dests, index),
        }
    }

    /// The destination at `index` was removed (`del_dest`).
    pub(crate) fn dest_removed<D: DestView>(&mut self, dests: &[D], index: usize) {
        match self {
            Scheduler::RoundRobin(s) => s.dest_removed(dests, index),
            Scheduler::WeightedRoundRobin(s) => s.dest_removed(dests, index),
            Scheduler::SourceHashing(s) => s.dest_removed(dests, index),
            Scheduler::WeightedLeastConnection(s) => s.dest_removed(dests, index),
        }
    }

    /// A destination's weight or thresholds changed (`upd_dest`).
    pub(crate) fn dest_updated<D: DestView>(&mut self, dests: &[D]) {
        match self {
            Scheduler::RoundRobin(s) => s.dest_updated(dests),
            Scheduler::WeightedRoundRobin(s) => s.dest_updated(dests),
            Scheduler::SourceHashing(s) => s.dest_updated(dests),
            Scheduler::WeightedLeastConnection(s) => s.dest_updated(dests),
        }
    }

    /// Picks a destination for a new connection (`schedule`): an index into `dests`.
    pub(crate) fn schedule<D: DestView>(
        &mut self,
        dests: &[D],
        client: &ClientInfo,
    ) -> Option<usize> {
        match self {
            Scheduler::RoundRobin(s) => s.schedule(dests, client),
            Scheduler::WeightedRoundRobin(s) => s.schedule(dests, client),
            Scheduler::SourceHashing(s) => s.schedule(dests, client),
            Scheduler::WeightedLeastConnection(s) => s.schedule(dests, client),
        }
    }
}
