// SPDX-License-Identifier: GPL-2.0

//! Traffic counters and their rates (C: `struct ip_vs_stats`, `ip_vs_est.c`), kept by every
//! service, destination and namespace; the estimator's arithmetic is in [`estimator`], plain
//! Rust shared with the host tests.
//!
//! The counters are per CPU (C: `struct ip_vs_cpu_stats`): a packet adds to its CPU's copy
//! only, and readers sum the copies. Zeroing records the sums as the new zero point
//! (C: `kstats0`).
//!
//! The rates are estimated every two seconds for the counters whose estimator was started
//! (C: `ip_vs_start_estimator`, while a service is in the table and a destination in its
//! service's list, and for the totals): [`estimate_all`] walks the pool's blocks in memory
//! order, where each set's [`Estimator`] lives beside its counters, as C's estimator kthreads
//! walk their chains of estimators in the order they were added.

pub(crate) mod estimator;

use crate::ffi::atomic::Atomic;
use crate::ffi::percpu::{
    PerCpuCounters, //
    PerCpuPool,
    SetState,
    BLOCK_SETS,
};
use estimator::{
    next_average, //
    reported_rate,
    RateKind,
};
use kernel::{prelude::*, sync::atomic::Relaxed};

/// Index of the connection counter in [`Stats::counters`] (and [`Estimator`] order).
const CONNS: usize = 0;
/// Index of the client packet counter.
const INPKTS: usize = 1;
/// Index of the real server packet counter.
const OUTPKTS: usize = 2;
/// Index of the client byte counter.
const INBYTES: usize = 3;
/// Index of the real server byte counter.
const OUTBYTES: usize = 4;

/// Traffic counters of a service, destination or namespace (C: `struct ip_vs_stats`).
pub(crate) struct Stats {
    /// Connections scheduled, packets and bytes from clients and from real servers, per CPU
    /// (indexed by [`CONNS`] to [`OUTBYTES`]), and their rates.
    counters: PerCpuCounters<5, Estimator>,
    /// The sums at the last zeroing (C: `kstats0`).
    zero_point: [Atomic<u64>; 5],
}

/// The rate estimator of a [`Stats`] (C: `struct ip_vs_estimator`): per-second averages,
/// updated every two seconds by [`estimate_all`] (arithmetic in [`estimator`]).
pub(crate) struct Estimator {
    /// The sums of the counters at the last estimation or zeroing: conns, inpkts, outpkts,
    /// inbytes, outbytes.
    last: [Atomic<u64>; 5],
    /// The scaled averages of the same five.
    avg: [Atomic<u64>; 5],
}

impl SetState for Estimator {
    fn new() -> Self {
        Estimator {
            last: [const { Atomic::new(0) }; 5],
            avg: [const { Atomic::new(0) }; 5],
        }
    }

    fn reset(&self) {
        for (last, avg) in self.last.iter().zip(&self.avg) {
            last.store(0, Relaxed);
            avg.store(0, Relaxed);
        }
    }
}

impl Estimator {
    /// One estimation, every two seconds, with the counters' sums now
    /// (`ip_vs_chain_estimation`): each average moves a quarter of the way to the last
    /// period's rate.
    fn estimate(&self, sums: [u64; 5]) {
        for (i, now) in sums.iter().copied().enumerate() {
            let (Some(last), Some(avg)) = (self.last.get(i), self.avg.get(i)) else {
                continue;
            };
            // A concurrent ZERO gives a growth of 0, not a wrapped difference.
            let growth = now.saturating_sub(last.load(Relaxed));
            last.store(now, Relaxed);
            let kind = RateKind::of_counter(i);
            avg.store(next_average(kind, avg.load(Relaxed), growth), Relaxed);
        }
    }
}

/// The estimators a chain of C's estimator kthread holds at most, as `/proc/net/ip_vs_status`
/// reports it: a block of the pool here.
pub(crate) const ESTIMATORS_PER_CHAIN: usize = BLOCK_SETS;

/// Updates the rates of every counter set of `pool` whose estimator is started: the
/// estimator's two-second period, in its thread (process context).
pub(crate) fn estimate_all(pool: &StatsPool) {
    pool.for_each_listed(|sums, estimator| estimator.estimate(sums));
}

/// A copy of the counters, as reported.
#[derive(Clone, Copy, Default)]
pub(crate) struct StatsSnapshot {
    /// Connections scheduled.
    pub(crate) conns: u64,
    /// Packets from clients.
    pub(crate) inpkts: u64,
    /// Packets from real servers.
    pub(crate) outpkts: u64,
    /// Bytes from clients.
    pub(crate) inbytes: u64,
    /// Bytes from real servers.
    pub(crate) outbytes: u64,
    /// Connections per second.
    pub(crate) cps: u64,
    /// Packets per second from clients.
    pub(crate) inpps: u64,
    /// Packets per second from real servers.
    pub(crate) outpps: u64,
    /// Bytes per second from clients.
    pub(crate) inbps: u64,
    /// Bytes per second from real servers.
    pub(crate) outbps: u64,
}

/// Where a namespace's [`Stats`] take their per-CPU counters from.
pub(crate) type StatsPool = PerCpuPool<5, Estimator>;

impl Stats {
    /// Zeroed counters, from `pool`, their estimator stopped.
    pub(crate) fn new(pool: &StatsPool) -> Result<Self> {
        Ok(Stats {
            counters: pool.alloc()?,
            zero_point: [const { Atomic::new(0) }; 5],
        })
    }

    /// Starts the rate estimator (`ip_vs_start_estimator`): the rates move from where they
    /// stopped, the first period counting from the last estimation.
    pub(crate) fn start_estimator(&self) {
        self.counters.set_listed(true);
    }

    /// Stops the rate estimator (`ip_vs_stop_estimator`): the rates stay as they are.
    pub(crate) fn stop_estimator(&self) {
        self.counters.set_listed(false);
    }

    /// Counts a new connection (`ip_vs_conn_stats`).
    pub(crate) fn count_conn(&self) {
        self.counters.add(CONNS, 1);
    }

    /// Counts a client packet of `bytes` (`ip_vs_in_stats`).
    #[inline]
    pub(crate) fn count_in(&self, bytes: u32) {
        self.counters.add2((INPKTS, 1), (INBYTES, u64::from(bytes)));
    }

    /// Counts a real server packet of `bytes` (`ip_vs_out_stats`).
    #[inline]
    pub(crate) fn count_out(&self, bytes: u32) {
        self.counters
            .add2((OUTPKTS, 1), (OUTBYTES, u64::from(bytes)));
    }

    /// The five counters since the last zeroing, in [`Estimator`] order.
    #[inline]
    fn counters(&self) -> [u64; 5] {
        let mut values = self.counters.sum();
        for (value, zero) in values.iter_mut().zip(&self.zero_point) {
            *value = value.wrapping_sub(zero.load(Relaxed));
        }
        values
    }

    /// The raw counters of CPU `cpu` (what `/proc/net/ip_vs_stats_percpu` lists per CPU).
    pub(crate) fn of_cpu(&self, cpu: u32) -> [u64; 5] {
        self.counters.of_cpu(cpu)
    }

    /// The reported rates, rounded as `ip_vs_read_estimator` does.
    fn rates(&self) -> [u64; 5] {
        let mut rates = [0; 5];
        let avgs = &self.counters.state().avg;
        for (i, (rate, avg)) in rates.iter_mut().zip(avgs.iter()).enumerate() {
            *rate = reported_rate(RateKind::of_counter(i), avg.load(Relaxed));
        }
        rates
    }

    /// Reads the counters.
    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let [conns, inpkts, outpkts, inbytes, outbytes] = self.counters();
        let [cps, inpps, outpps, inbps, outbps] = self.rates();
        StatsSnapshot {
            conns,
            inpkts,
            outpkts,
            inbytes,
            outbytes,
            cps,
            inpps,
            outpps,
            inbps,
            outbps,
        }
    }

    /// Zeroes the counters (`ip_vs_zero_stats`): their sums become the zero point.
    pub(crate) fn zero(&self) {
        let sums = self.counters.sum();
        let estimator = self.counters.state();
        // `ip_vs_zero_estimator`: the zero point is the new base, the rates restart at 0.
        for (((zero, last), avg), sum) in self
            .zero_point
            .iter()
            .zip(&estimator.last)
            .zip(&estimator.avg)
            .zip(sums)
        {
            zero.store(sum, Relaxed);
            last.store(sum, Relaxed);
            avg.store(0, Relaxed);
        }
    }
}
