// SPDX-License-Identifier: GPL-2.0

//! The rate estimator's thread (C: the estimation kthreads of `ip_vs_est.c`), one per
//! namespace: `ipvs-e:<generation>:0`, started with the namespace's first service (C:
//! `ipvs->enable`), every two seconds updating the rates of every service, destination and
//! the totals.
//!
//! Its settings are C's sysctls: `run_estimation` 0 stops it, `est_nice` is its nice level and
//! `est_cpulist` the CPUs it prefers (an empty list stops it). A change restarts it with the
//! new settings (C: `ip_vs_est_reload_start`), logging as C does. Everything here runs under
//! the namespace's control mutex; the thread itself never takes it, so stopping it there
//! cannot deadlock.

use crate::{
    ffi::{
        kthread::{
            self, //
            CpuSet,
            KThread,
            ThreadKind,
            ThreadSpec,
        },
        log::ipvs_info,
        timer::jiffies,
    },
    netns::Ipvs,
    sysctl::Sysctl,
};
use kernel::{
    cpumask::Cpumask, //
    prelude::*,
};

/// The estimator thread of a namespace and the CPUs it was given.
pub(crate) struct EstimatorThread {
    /// Whether the namespace has had a service (C: `ipvs->enable`): the thread runs from then
    /// on, as its settings allow.
    enabled: bool,
    /// `est_cpulist`, once written (C: `est_cpulist_valid`).
    cpus: Option<CpuSet>,
    /// The running thread.
    thread: Option<KThread>,
}

impl EstimatorThread {
    /// No thread until the first service.
    pub(crate) fn new() -> Self {
        EstimatorThread {
            enabled: false,
            cpus: None,
            thread: None,
        }
    }

    /// The namespace's first service: starts the thread (C: `ip_vs_add_service`'s "full
    /// throttle").
    pub(crate) fn enable(&mut self, ipvs: &Ipvs) {
        if !self.enabled {
            self.enabled = true;
            self.restart(ipvs);
        }
    }

    /// Stops the thread for good (C: `ip_vs_est_kthread_destroy`): the namespace is being
    /// dismantled.
    pub(crate) fn disable(&mut self) {
        self.enabled = false;
        if let Some(thread) = self.thread.take() {
            ipvs_info!("stop unused estimator thread 0...\n");
            drop(thread);
        }
    }

    /// Stops the thread and starts it again with the current settings, unless they stop it
    /// (`est_reload_work_handler`).
    pub(crate) fn restart(&mut self, ipvs: &Ipvs) {
        if !self.enabled {
            return;
        }
        self.stop();
        self.start(ipvs);
    }

    /// Starts the thread if it should run and does not (the namespace's tick retries a start
    /// that failed, as C's reload work does).
    pub(crate) fn start(&mut self, ipvs: &Ipvs) {
        if !self.enabled || self.thread.is_some() || self.stopped(ipvs) {
            return;
        }
        let spec = ThreadSpec {
            kind: ThreadKind::Estimator,
            generation: ipvs.generation,
            id: 0,
            nice: ipvs.sysctl.get(Sysctl::EstNice),
            cpus: self.cpus(),
        };
        if let Ok(thread) = KThread::start::<crate::pernet::NetState>(ipvs.net.get(), &spec) {
            ipvs_info!("starting estimator thread 0...\n");
            self.thread = Some(thread);
        }
    }

    /// Stops the thread, if it runs (`ip_vs_est_kthread_stop`).
    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            ipvs_info!("stopping estimator thread 0...\n");
            drop(thread);
        }
    }

    /// Whether the settings stop the thread (`ip_vs_est_stopped_recalc`): `run_estimation` is
    /// 0, or the CPU list set is empty.
    fn stopped(&self, ipvs: &Ipvs) -> bool {
        !ipvs.sysctl.enabled(Sysctl::RunEstimation) || self.cpus().is_some_and(|c| c.empty())
    }

    /// A write of `est_cpulist` (`ipvs_proc_est_cpumask_set`): keeps the CPUs and restarts the
    /// thread on them.
    pub(crate) fn set_cpus(&mut self, ipvs: &Ipvs, cpus: &Cpumask) -> Result {
        match &mut self.cpus {
            Some(kept) => kept.set(cpus),
            None => self.cpus = Some(CpuSet::try_clone(cpus)?),
        }
        self.restart(ipvs);
        Ok(())
    }

    /// Whether the thread runs.
    pub(crate) fn running(&self) -> bool {
        self.thread.is_some()
    }

    /// The CPUs `est_cpulist` set, if it was written.
    pub(crate) fn cpus(&self) -> Option<&Cpumask> {
        self.cpus.as_ref().map(CpuSet::cpus)
    }
}

/// The estimator's period: every rate moves once per two seconds (C: `IPVS_EST_NTICKS` ticks
/// of `IPVS_EST_TICK`).
fn period() -> u64 {
    2 * crate::sched::hz()
}

/// The thread's body (C: `ip_vs_estimation_kthread`): estimates every period until stopped,
/// sleeping idle in between; a period missed by far more than one is not made up for.
pub(crate) fn run(ipvs: &Ipvs) {
    let period = period();
    let mut next = jiffies().wrapping_add(period);
    loop {
        kthread::prepare_to_idle();
        if kthread::should_stop() {
            kthread::cancel_sleep();
            return;
        }
        let gap = next.wrapping_sub(jiffies()) as i64;
        if gap > 0 {
            kthread::sleep(gap as u64);
            continue;
        }
        kthread::cancel_sleep();
        if gap < -(8 * period as i64) {
            next = jiffies();
        }
        crate::stats::estimate_all(&ipvs.stats_pool);
        next = next.wrapping_add(period);
    }
}
