// SPDX-License-Identifier: GPL-2.0

//! What the packet path and the control plane share of a network namespace (C: `struct
//! netns_ipvs`): settings, totals, and the service and connection tables the control plane
//! publishes under RCU. The configuration behind the control mutex lives beside it in the
//! namespace's state (`pernet.rs`).
//!
//! The packet path takes no namespace-wide lock.

use crate::ffi::rcu::ReadSection;
use crate::{
    conn::ConnTable,
    defense::Defense,
    ffi::atomic::Atomic,
    ffi::{
        net::NetRef, //
        rcu::RcuArc,
    },
    proto::{
        NetSettings, //
        Timeouts,
    },
    service::{
        real_servers::RealServers, //
        ServiceTable,
    },
    stats::{
        Stats, //
        StatsPool,
    },
    sync::SyncState,
    sysctl::Sysctls,
};
use kernel::{prelude::*, sync::atomic::Relaxed};

/// The shared per-namespace state.
pub(crate) struct Ipvs {
    /// Protocol timeouts.
    pub(crate) timeouts: Timeouts,
    /// The per-CPU counters of the namespace's statistics.
    pub(crate) stats_pool: Pin<KBox<StatsPool>>,
    /// Totals of every service (`ipvs->tot_stats`).
    pub(crate) total: Stats,
    /// Sysctl settings.
    pub(crate) sysctl: Sysctls,
    /// The defense against memory exhaustion.
    pub(crate) defense: Defense,
    /// The services, for the packet path; empty until the first service.
    pub(crate) services: RcuArc<ServiceTable>,
    /// The connection table, allocated with the first service (as C allocates `conn_tab`).
    pub(crate) conns: RcuArc<ConnTable>,
    /// The services' NAT and tunnel destinations by address (`rs_table`).
    pub(crate) real_servers: RealServers,
    /// The running sync daemons.
    pub(crate) sync: SyncState,
    /// The namespace itself.
    pub(crate) net: NetRef,
    /// The namespace's generation, in the order namespaces got their state since the module
    /// loaded (C: `ipvs->gen`), which names its threads.
    pub(crate) generation: u32,
}

/// The generation of the next namespace's state (C: `ipvs_netns_cnt`).
static NEXT_GENERATION: Atomic<u32> = Atomic::new(0);

impl Ipvs {
    /// The state of a new namespace: C's defaults, no services.
    pub(crate) fn new(net: NetRef) -> Result<Self> {
        let stats_pool = KBox::pin_init(StatsPool::new(), GFP_KERNEL)?;
        let total = Stats::new(&stats_pool)?;
        // The totals' rates are estimated from the start (C: `ip_vs_control_net_init`).
        total.start_estimator();
        Ok(Ipvs {
            timeouts: Timeouts::new(),
            total,
            stats_pool,
            sysctl: Sysctls::new(net.get().is_init())?,
            defense: Defense::new(),
            services: RcuArc::new(),
            conns: RcuArc::new(),
            real_servers: RealServers::new()?,
            sync: SyncState::new(),
            net,
            generation: NEXT_GENERATION.fetch_add(1, Relaxed),
        })
    }

    /// What protocol state transitions read.
    pub(crate) fn settings(&self) -> NetSettings<'_> {
        NetSettings {
            timeouts: &self.timeouts,
            secure_tcp_tables: self.defense.secure_tcp_tables(),
        }
    }

    /// The service snapshot and connection table the packet path works with, once the first
    /// service exists (C: `ipvs->enable`); valid for the read-side section of `guard`.
    pub(crate) fn tables<'g>(
        &self,
        guard: &'g ReadSection,
    ) -> Option<(&'g ServiceTable, &'g ConnTable)> {
        Some((self.services.get(guard)?, self.conns.get(guard)?))
    }
}
