// SPDX-License-Identifier: GPL-2.0

//! Schedulers (C: `struct ip_vs_scheduler` and `ip_vs_sched.c`): a registry by name over the
//! algorithms in `sched/`, which are plain Rust shared with the host tests. This file binds
//! them to the kernel: the storage of the Maglev table and the locality caches, the random
//! source of twos, and the clock of lblc and lblcr.

pub(crate) mod dest_view;
pub(crate) mod dh;
pub(crate) mod fo;
pub(crate) mod lblc;
pub(crate) mod lblcr;
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

use crate::{ffi::random, service::Dest};
use dest_view::{
    Algorithm, //
    ClientInfo,
    Random,
};
use kernel::{prelude::*, sync::Arc};
use lblc::{
    Entry, //
    List,
    Lists,
    LocalityLeastConnection,
    Sweep,
};
use lblcr::LocalityReplicated;

/// The names of the schedulers, as `ipvsadm -s` takes them.
const NAMES: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "mh", "sed", "nq", "fo", "ovf", "twos",
];

/// The destinations as the service holds them.
type Dests = [Arc<Dest>];

/// Kernel vectors that grow with atomic allocations: the packet path adds cache entries.
pub(crate) struct AtomicKVec;

impl Lists for AtomicKVec {
    type List<T> = KVec<T>;
}

impl<T> List<T> for KVec<T> {
    fn empty() -> Self {
        KVec::new()
    }

    fn try_push(&mut self, item: T) -> bool {
        self.push(item, GFP_ATOMIC).is_ok()
    }

    fn remove_at(&mut self, index: usize) -> Option<T> {
        self.remove(index).ok()
    }
}

/// [`lblc::TABLE_SIZE`] empty buckets, allocated when the scheduler is bound.
fn locality_buckets<V>() -> Result<KVec<KVec<Entry<V>>>> {
    let mut buckets = KVec::with_capacity(lblc::TABLE_SIZE, GFP_KERNEL)?;
    for _ in 0..lblc::TABLE_SIZE {
        buckets.push(KVec::new(), GFP_KERNEL)?;
    }
    Ok(buckets)
}

/// What lblc and lblcr read besides the packet, in jiffies: the time, and the namespace's
/// `lblcr_expiration`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalityClock {
    /// The current time (`jiffies`).
    pub(crate) now: u64,
    /// `lblcr_expiration`: how long a server set stays unchanged before it sheds a member.
    pub(crate) lblcr_expiration: u64,
}

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
    /// Locality-based least connection.
    LocalityLeastConnection(LocalityLeastConnection<AtomicKVec, Arc<Dest>>),
    /// Locality-based least connection with replication.
    LocalityReplicated(LocalityReplicated<AtomicKVec, Arc<Dest>>),
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

/// Runs `$body` with `$s` bound to the algorithm of whichever variant `$scheduler` is, or
/// `$locality` for lblc and lblcr, which keep a cache instead of list state (C leaves their
/// list callbacks `NULL`) and schedule with a clock.
macro_rules! with_algorithm {
    ($scheduler:expr, $s:ident => $body:expr, locality => $locality:expr) => {
        match $scheduler {
            Scheduler::LocalityLeastConnection(_) | Scheduler::LocalityReplicated(_) => $locality,
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
    pub(crate) fn by_name(name: &[u8], dests: &Dests) -> Result<Self> {
        Ok(match name {
            b"rr" => Scheduler::RoundRobin(rr::RoundRobin::new(dests)),
            b"wrr" => Scheduler::WeightedRoundRobin(wrr::WeightedRoundRobin::new(dests)),
            b"lc" => Scheduler::LeastConnection(lc::LeastConnection),
            b"wlc" => Scheduler::WeightedLeastConnection(wlc::WeightedLeastConnection::new(dests)),
            b"lblc" => Scheduler::LocalityLeastConnection(
                LocalityLeastConnection::new(locality_buckets()?).ok_or(EINVAL)?,
            ),
            b"lblcr" => Scheduler::LocalityReplicated(
                LocalityReplicated::new(locality_buckets()?).ok_or(EINVAL)?,
            ),
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
            Scheduler::LocalityLeastConnection(_) => "lblc",
            Scheduler::LocalityReplicated(_) => "lblcr",
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
    pub(crate) fn dest_added(&mut self, dests: &Dests, index: usize) {
        with_algorithm!(self, s => s.dest_added(dests, index), locality => ())
    }

    /// The destination at `index` was removed (`del_dest`).
    pub(crate) fn dest_removed(&mut self, dests: &Dests, index: usize) {
        with_algorithm!(self, s => s.dest_removed(dests, index), locality => ())
    }

    /// A destination's weight or thresholds changed (`upd_dest`).
    pub(crate) fn dest_updated(&mut self, dests: &Dests) {
        with_algorithm!(self, s => s.dest_updated(dests), locality => ())
    }

    /// Picks a destination for a new connection (`schedule`): an index into `dests`.
    pub(crate) fn schedule(
        &mut self,
        dests: &Dests,
        client: &ClientInfo,
        clock: &LocalityClock,
    ) -> Option<usize> {
        match self {
            Scheduler::LocalityLeastConnection(s) => s.schedule(dests, client, clock.now),
            Scheduler::LocalityReplicated(s) => {
                s.schedule(dests, client, clock.now, clock.lblcr_expiration)
            }
            other => with_algorithm!(other, s => s.schedule(dests, client), locality => None),
        }
    }

    /// Starts the periodic collection of a locality cache (C: the lblc and lblcr timers),
    /// given the namespace's expiration sysctls in jiffies: the sweep to run, or [`None`]
    /// when there is nothing to collect.
    pub(crate) fn locality_check(
        &mut self,
        lblc_expiration: u64,
        lblcr_expiration: u64,
    ) -> Option<Sweep> {
        let entry_timeout = lblc::ENTRY_TIMEOUT_SECS.saturating_mul(hz());
        match self {
            Scheduler::LocalityLeastConnection(s) => {
                s.table.check_expire(lblc_expiration, entry_timeout)
            }
            Scheduler::LocalityReplicated(s) => {
                s.table.check_expire(lblcr_expiration, entry_timeout)
            }
            _ => None,
        }
    }

    /// Sweeps one bucket of a locality cache at `now` (see [`lblc::LocalityTable::sweep_bucket`]):
    /// the number of entries dropped, [`None`] when the scheduler has no cache (any more).
    pub(crate) fn locality_sweep(
        &mut self,
        bucket: usize,
        now: u64,
        timeout: u64,
    ) -> Option<usize> {
        match self {
            Scheduler::LocalityLeastConnection(s) => {
                Some(s.table.sweep_bucket(bucket, now, timeout))
            }
            Scheduler::LocalityReplicated(s) => Some(s.table.sweep_bucket(bucket, now, timeout)),
            _ => None,
        }
    }
}

/// Jiffies per second (`HZ`).
pub(crate) fn hz() -> u64 {
    u64::from(kernel::bindings::CONFIG_HZ)
}
