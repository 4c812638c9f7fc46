// SPDX-License-Identifier: GPL-2.0

//! Traffic counters and their rates (C: `struct ip_vs_stats`, `ip_vs_est.c`), kept by every
//! service, destination and namespace; the estimator's arithmetic is in [`estimator`], plain
//! Rust shared with the host tests.

pub(crate) mod estimator;

use estimator::{
    next_average, //
    reported_rate,
    RateKind,
};
use kernel::sync::atomic::{
    Atomic, //
    Relaxed,
};

/// Traffic counters of a service or destination (C: `struct ip_vs_stats`, per CPU there).
pub(crate) struct Stats {
    /// Connections scheduled.
    pub(crate) conns: Atomic<u64>,
    /// Packets from clients.
    pub(crate) inpkts: Atomic<u64>,
    /// Packets from real servers.
    pub(crate) outpkts: Atomic<u64>,
    /// Bytes from clients.
    pub(crate) inbytes: Atomic<u64>,
    /// Bytes from real servers.
    pub(crate) outbytes: Atomic<u64>,
    /// The rates of these counters.
    est: Estimator,
}

/// The rate estimator of a [`Stats`] (C: `struct ip_vs_estimator`): per-second averages,
/// updated every two seconds by [`Stats::estimate`] (arithmetic in [`estimator`]).
struct Estimator {
    /// The counters at the last estimation: conns, inpkts, outpkts, inbytes, outbytes.
    last: [Atomic<u64>; 5],
    /// The scaled averages of the same five.
    avg: [Atomic<u64>; 5],
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

impl Stats {
    /// Zeroed counters.
    pub(crate) const fn new() -> Self {
        Stats {
            conns: Atomic::new(0),
            inpkts: Atomic::new(0),
            outpkts: Atomic::new(0),
            inbytes: Atomic::new(0),
            outbytes: Atomic::new(0),
            est: Estimator {
                last: [const { Atomic::new(0) }; 5],
                avg: [const { Atomic::new(0) }; 5],
            },
        }
    }

    /// The five counters, in [`Estimator`] order.
    fn counters(&self) -> [u64; 5] {
        [
            self.conns.load(Relaxed),
            self.inpkts.load(Relaxed),
            self.outpkts.load(Relaxed),
            self.inbytes.load(Relaxed),
            self.outbytes.load(Relaxed),
        ]
    }

    /// One estimation, every two seconds (`ip_vs_chain_estimation`): each average moves a
    /// quarter of the way to the last period's rate.
    pub(crate) fn estimate(&self) {
        let counters = self.counters();
        let slots = self.est.last.iter().zip(self.est.avg.iter());
        for (i, ((last, avg), now)) in slots.zip(counters).enumerate() {
            // A concurrent ZERO gives a growth of 0, not a wrapped difference.
            let growth = now.saturating_sub(last.load(Relaxed));
            last.store(now, Relaxed);
            let kind = RateKind::of_counter(i);
            avg.store(next_average(kind, avg.load(Relaxed), growth), Relaxed);
        }
    }

    /// The reported rates, rounded as `ip_vs_read_estimator` does.
    fn rates(&self) -> [u64; 5] {
        let mut rates = [0; 5];
        for (i, (rate, avg)) in rates.iter_mut().zip(self.est.avg.iter()).enumerate() {
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

    /// Zeroes the counters (`ip_vs_zero_stats`).
    pub(crate) fn zero(&self) {
        self.conns.store(0, Relaxed);
        self.inpkts.store(0, Relaxed);
        self.outpkts.store(0, Relaxed);
        self.inbytes.store(0, Relaxed);
        self.outbytes.store(0, Relaxed);
        // `ip_vs_zero_estimator`: the zero point is the new base, the rates restart at 0.
        for (last, avg) in self.est.last.iter().zip(self.est.avg.iter()) {
            last.store(0, Relaxed);
            avg.store(0, Relaxed);
        }
    }
}
