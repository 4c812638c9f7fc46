// SPDX-License-Identifier: GPL-2.0

//! Virtual services and their destinations (C: `struct ip_vs_service`, `struct ip_vs_dest`),
//! which the packet path and the control plane share, and the hash table the packet path
//! finds a namespace's services in ([`ServiceTable`]).
//!
//! A service owns its destination list and scheduler state under one per-service lock, which
//! the packet path takes only to schedule a new connection (as C's `sched_lock`). A connection
//! holds a counted reference to its destination, so a removed destination stays valid for the
//! connections still pointing at it (C keeps it in a trash list for that).

pub(crate) mod real_servers;
pub(crate) mod table;

pub(crate) use table::ServiceTable;

use crate::ffi::atomic::Atomic;
use crate::{
    ffi::{
        bhlock::{
            new_spinlock_bh, //
            SpinLockBh,
        },
        rcu::RcuArc,
        rculist::{
            impl_chained, //
            ChainLink,
        },
        route_cache::RouteCache,
    },
    packet::{
        sched_addr, //
        NfInetAddr,
    },
    sched::{
        dest_view::{
            DestView, //
            InetAddr,
        },
        lblc, //
        Scheduler,
    },
    stats::{
        Stats, //
        StatsPool,
    },
    uapi,
};
use kernel::{
    new_spinlock,
    prelude::*,
    sync::{
        atomic::Relaxed,
        Arc, //
        SpinLock,
    },
};

/// What identifies a service: protocol, address and port, or a firewall mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ServiceKey {
    /// Address family (`AF_INET`, `AF_INET6`).
    pub(crate) af: u16,
    /// IP protocol; TCP for firewall-mark services, as C forces it.
    pub(crate) protocol: u16,
    /// Virtual address; zero for firewall-mark services.
    pub(crate) addr: NfInetAddr,
    /// Virtual port in host order; 0 for firewall-mark services.
    pub(crate) port: u16,
    /// Firewall mark, or 0 for an address service.
    pub(crate) fwmark: u32,
}

/// A destination's settings from NEW_DEST / SET_DEST (C: `struct ip_vs_dest_user_kern`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DestConfig {
    /// Forwarding method (`IP_VS_CONN_F_FWD_MASK` bits).
    pub(crate) fwd_method: u32,
    /// Weight; negative values are refused with ERANGE.
    pub(crate) weight: i32,
    /// Upper connection threshold, 0 for none.
    pub(crate) u_threshold: u32,
    /// Lower connection threshold, 0 for 75% of the upper one.
    pub(crate) l_threshold: u32,
    /// Tunnel type.
    pub(crate) tun_type: u8,
    /// Tunnel port, host order.
    pub(crate) tun_port: u16,
    /// Tunnel flags.
    pub(crate) tun_flags: u16,
}

/// A real server of a service.
#[pin_data]
pub(crate) struct Dest {
    /// Address family of the real server.
    pub(crate) af: u16,
    /// Real server address.
    pub(crate) addr: NfInetAddr,
    /// Real server port, host order.
    pub(crate) port: u16,
    /// Forwarding method.
    pub(crate) fwd_method: Atomic<u32>,
    /// Weight.
    pub(crate) weight: Atomic<i32>,
    /// The latest non-zero weight, or the weight it was added with (`last_weight`).
    pub(crate) last_weight: Atomic<i32>,
    /// Upper connection threshold.
    pub(crate) u_threshold: Atomic<u32>,
    /// Lower connection threshold as configured.
    pub(crate) l_threshold: Atomic<u32>,
    /// Tunnel type.
    pub(crate) tun_type: Atomic<u32>,
    /// Tunnel port, host order.
    pub(crate) tun_port: Atomic<u32>,
    /// Tunnel flags.
    pub(crate) tun_flags: Atomic<u32>,
    /// Still part of its service (`IP_VS_DEST_CF_AVAILABLE`).
    pub(crate) available: Atomic<bool>,
    /// Over the upper threshold (`IP_VS_DEST_F_OVERLOAD`).
    pub(crate) overloaded: Atomic<bool>,
    /// Connections in an active state.
    pub(crate) active_conns: Atomic<i32>,
    /// Connections in an inactive state.
    pub(crate) inactive_conns: Atomic<i32>,
    /// Persistence templates pointing here.
    pub(crate) persist_conns: Atomic<i32>,
    /// Traffic counters.
    pub(crate) stats: Stats,
    /// The counters of the service the destination is in (C: `dest->svc`'s), set when it is
    /// added and when it is revived into another service.
    pub(crate) service_stats: RcuArc<Stats>,
    /// The route its connections' packets leave by (C: `dest_dst`).
    #[pin]
    pub(crate) route_cache: RouteCache,
    /// Where it is in the namespace's real-server table, if hashed there (C: `d_list`);
    /// changed under the control mutex.
    #[pin]
    pub(crate) hashed: SpinLock<Option<real_servers::Hashed>>,
}

impl Dest {
    /// A new destination with `config` applied, its counters from `pool`.
    pub(crate) fn new(
        af: u16,
        addr: NfInetAddr,
        port: u16,
        config: &DestConfig,
        pool: &StatsPool,
    ) -> Result<Arc<Self>> {
        let dest = Arc::pin_init(
            try_pin_init!(Dest {
                af,
                addr,
                port,
                fwd_method: Atomic::new(0),
                weight: Atomic::new(0),
                // `__ip_vs_update_dest` keeps the weight of an add, even 0.
                last_weight: Atomic::new(config.weight),
                u_threshold: Atomic::new(0),
                l_threshold: Atomic::new(0),
                tun_type: Atomic::new(0),
                tun_port: Atomic::new(0),
                tun_flags: Atomic::new(0),
                available: Atomic::new(true),
                overloaded: Atomic::new(false),
                active_conns: Atomic::new(0),
                inactive_conns: Atomic::new(0),
                persist_conns: Atomic::new(0),
                stats: Stats::new(pool)?,
                service_stats: RcuArc::new(),
                route_cache <- RouteCache::new(),
                hashed <- new_spinlock!(None, "rust_ipvs_dest_hashed"),
            }),
            GFP_KERNEL,
        )?;
        dest.apply(config);
        Ok(dest)
    }

    /// Applies NEW_DEST / SET_DEST settings (`__ip_vs_update_dest`).
    pub(crate) fn apply(&self, config: &DestConfig) {
        self.fwd_method
            .store(config.fwd_method & uapi::fwd::MASK, Relaxed);
        // `__ip_vs_update_dest`: "keep the last_weight with latest non-0 weight".
        if config.weight != 0 {
            self.last_weight.store(config.weight, Relaxed);
        }
        self.weight.store(config.weight, Relaxed);
        self.tun_type.store(u32::from(config.tun_type), Relaxed);
        self.tun_port.store(u32::from(config.tun_port), Relaxed);
        self.tun_flags.store(u32::from(config.tun_flags), Relaxed);
        self.u_threshold.store(config.u_threshold, Relaxed);
        self.l_threshold.store(config.l_threshold, Relaxed);
        self.update_overload();
        self.available.store(true, Relaxed);
        // `__ip_vs_update_dest`: the next packet looks the route up for the new settings.
        self.route_cache.reset();
    }

    /// Takes the destination out of use (`__ip_vs_unlink_dest`): no longer available, and
    /// its cached route dropped, after which none is cached again.
    pub(crate) fn make_unavailable(&self) {
        self.available.store(false, Relaxed);
        self.route_cache.reset();
    }

    /// Applies the settings of the add that brings a trashed destination back
    /// (`__ip_vs_update_dest` with `add`): as [`Dest::apply`], and the weight of an add
    /// becomes the last weight even when it is 0.
    pub(crate) fn revive(&self, config: &DestConfig) {
        self.apply(config);
        self.last_weight.store(config.weight, Relaxed);
    }

    /// Connections bound to this destination.
    pub(crate) fn total_conns(&self) -> i32 {
        self.active_conns
            .load(Relaxed)
            .wrapping_add(self.inactive_conns.load(Relaxed))
    }

    /// Sets or clears OVERLOAD from the thresholds (`__ip_vs_dest_update_overload`, mode 0).
    pub(crate) fn update_overload(&self) {
        let upper = self.u_threshold.load(Relaxed);
        if upper == 0 {
            // Every new and released connection comes here: no write to the shared line
            // unless the flag changes.
            if self.overloaded.load(Relaxed) {
                self.overloaded.store(false, Relaxed);
            }
            return;
        }
        let lower = match self.l_threshold.load(Relaxed) {
            0 => upper - (upper >> 2),
            l => l,
        };
        let conns = i64::from(self.total_conns());
        if conns >= i64::from(upper) {
            self.overloaded.store(true, Relaxed);
        } else if conns < i64::from(lower) {
            self.overloaded.store(false, Relaxed);
        }
    }
}

impl DestView for Arc<Dest> {
    fn weight(&self) -> i32 {
        self.weight.load(Relaxed)
    }

    fn overloaded(&self) -> bool {
        self.overloaded.load(Relaxed)
    }

    fn active_conns(&self) -> u32 {
        self.active_conns.load(Relaxed) as u32
    }

    fn inactive_conns(&self) -> u32 {
        self.inactive_conns.load(Relaxed) as u32
    }

    fn last_weight(&self) -> i32 {
        self.last_weight.load(Relaxed)
    }

    fn addr(&self) -> InetAddr {
        sched_addr(self.af, &self.addr)
    }

    fn port(&self) -> u16 {
        self.port
    }
}

/// A service's settings from NEW_SERVICE / SET_SERVICE.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServiceConfig {
    /// Flags (`IP_VS_SVC_F_*`), after applying the request's mask.
    pub(crate) flags: u32,
    /// Persistence timeout in seconds.
    pub(crate) timeout: u32,
    /// Persistence netmask (IPv4: be32 as sent; IPv6: prefix length).
    pub(crate) netmask: u32,
}

impl_chained!(Service, link);

/// The room a service's destination list starts with (it doubles when full): most services
/// have a few real servers.
const MIN_DEST_ROOM: usize = 4;

/// The destination list and scheduler of a service, under the service's lock.
pub(crate) struct Scheduling {
    /// The scheduler, or [`None`] for the "none" scheduler.
    pub(crate) scheduler: Option<Scheduler>,
    /// Destinations in C list order: newest first.
    pub(crate) dests: KVec<Arc<Dest>>,
}

/// A virtual service.
#[pin_data]
pub(crate) struct Service {
    /// Its place on its chain of the namespace's [`ServiceTable`] (C: `s_list`).
    link: ChainLink,
    /// What identifies the service.
    pub(crate) key: ServiceKey,
    /// Flags (`IP_VS_SVC_F_*`), HASHED included.
    pub(crate) flags: Atomic<u32>,
    /// Persistence timeout in seconds.
    pub(crate) timeout: Atomic<u32>,
    /// Persistence netmask.
    pub(crate) netmask: Atomic<u32>,
    /// Destinations and scheduler state.
    #[pin]
    pub(crate) scheduling: SpinLockBh<Scheduling>,
    /// The length of the destination list, stored under the lock whenever it changes
    /// (C: `num_dests`): read without it.
    num_dests: Atomic<u32>,
    /// Traffic counters, shared with its destinations' [`Dest::service_stats`].
    pub(crate) stats: Arc<Stats>,
}

impl Service {
    /// A new service with no destinations, its counters from `pool`.
    pub(crate) fn new(
        key: ServiceKey,
        scheduler: Option<Scheduler>,
        config: &ServiceConfig,
        pool: &StatsPool,
    ) -> Result<Arc<Self>> {
        let stats = Arc::new(Stats::new(pool)?, GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Service {
                link: ChainLink::new(),
                key,
                flags: Atomic::new(config.flags | uapi::svc_flags::HASHED),
                timeout: Atomic::new(config.timeout),
                netmask: Atomic::new(config.netmask),
                scheduling <- new_spinlock_bh!(Scheduling {
                    scheduler,
                    dests: KVec::new(),
                }),
                num_dests: Atomic::new(0),
                stats,
            }),
            GFP_KERNEL,
        )
    }

    /// The scheduler's name as reported ("none" without one).
    pub(crate) fn scheduler_name(&self) -> &'static str {
        self.scheduling
            .lock()
            .scheduler
            .as_ref()
            .map_or("none", Scheduler::name)
    }

    /// The destination at `index` of the list, if any.
    pub(crate) fn dest_at(&self, index: usize) -> Option<Arc<Dest>> {
        self.scheduling.lock().dests.get(index).cloned()
    }

    /// Calls `f` with each destination, under the scheduling lock (so `f` must not sleep or
    /// take that lock).
    pub(crate) fn for_each_dest(&self, f: impl Fn(&Dest)) {
        for dest in self.scheduling.lock().dests.iter() {
            f(dest);
        }
    }

    /// The destination with this address and port (`ip_vs_lookup_dest`).
    pub(crate) fn find_dest(&self, af: u16, addr: &NfInetAddr, port: u16) -> Option<Arc<Dest>> {
        let scheduling = self.scheduling.lock();
        scheduling
            .dests
            .iter()
            .find(|d| d.af == af && d.port == port && &d.addr == addr)
            .cloned()
    }

    /// Number of destinations (a flush counts every service's without taking a lock each).
    pub(crate) fn dest_count(&self) -> usize {
        self.num_dests.load(Relaxed) as usize
    }

    /// Records the list's length after a change, under the lock.
    fn count_dests(&self, scheduling: &Scheduling) {
        self.num_dests.store(
            u32::try_from(scheduling.dests.len()).unwrap_or(u32::MAX),
            Relaxed,
        );
    }

    /// Inserts `dest` at the head of the list and tells the scheduler (`list_add_rcu`,
    /// `add_dest`). Allocates before taking the lock.
    pub(crate) fn add_dest(&self, dest: Arc<Dest>) -> Result {
        // The list only changes under the namespace's control mutex, which the caller holds:
        // room made outside the lock is still there under it. A full list moves into one
        // twice as large (C links destinations in a list; this allocates once per doubling).
        let (len, capacity) = {
            let scheduling = self.scheduling.lock();
            (scheduling.dests.len(), scheduling.dests.capacity())
        };
        let mut grown = if len < capacity {
            None
        } else {
            let room = capacity.saturating_mul(2).max(MIN_DEST_ROOM);
            Some(KVec::with_capacity(room, GFP_KERNEL)?)
        };
        let mut scheduling = self.scheduling.lock();
        if let Some(list) = grown.as_mut() {
            if list.capacity() <= scheduling.dests.len() {
                return Err(ENOMEM);
            }
            for d in scheduling.dests.drain_all() {
                // Cannot fail: the new list has room for all (checked above).
                let _ = list.push_within_capacity(d);
            }
            core::mem::swap(&mut scheduling.dests, list);
        }
        // Newest first, as C's `list_add_rcu` at the head.
        if scheduling.dests.insert_within_capacity(0, dest).is_err() {
            return Err(ENOMEM);
        }
        // Its rates are estimated while it is in the list.
        if let Some(added) = scheduling.dests.first() {
            added.stats.start_estimator();
        }
        self.count_dests(&scheduling);
        let Scheduling { scheduler, dests } = &mut *scheduling;
        if let Some(s) = scheduler {
            s.dest_added(dests, 0);
        }
        drop(scheduling);
        // The old list, emptied, is freed outside the lock.
        drop(grown);
        Ok(())
    }

    /// Unlinks `dest` from the list and tells the scheduler (`__ip_vs_unlink_dest`, `del_dest`).
    pub(crate) fn remove_dest(&self, dest: &Arc<Dest>) -> Result {
        let mut scheduling = self.scheduling.lock();
        let index = scheduling
            .dests
            .iter()
            .position(|d| Arc::ptr_eq(d, dest))
            .ok_or(ENOENT)?;
        let removed = scheduling.dests.remove(index).map_err(|_| ENOENT)?;
        self.count_dests(&scheduling);
        let Scheduling { scheduler, dests } = &mut *scheduling;
        if let Some(s) = scheduler {
            s.dest_removed(dests, index);
        }
        drop(scheduling);
        dest.stats.stop_estimator();
        dest.make_unavailable();
        // The list's reference is dropped outside the lock.
        drop(removed);
        Ok(())
    }

    /// Tells the scheduler a destination's settings changed (`upd_dest`).
    pub(crate) fn dest_updated(&self) {
        let mut scheduling = self.scheduling.lock();
        let Scheduling { scheduler, dests } = &mut *scheduling;
        if let Some(s) = scheduler {
            s.dest_updated(dests);
        }
    }

    /// Replaces the scheduler (SET_SERVICE with another name): ENOENT when unknown, ENOMEM
    /// when the new scheduler's state cannot be allocated, and the old one stays.
    ///
    /// The new scheduler is built outside the lock from a copy of the destination list, which
    /// only changes under the namespace's control mutex that the caller holds.
    pub(crate) fn rebind_scheduler(&self, name: &[u8]) -> Result {
        let current = self.scheduler_name();
        if name == current.as_bytes() {
            return Ok(());
        }
        let new = if name == b"none" {
            None
        } else {
            let count = self.dest_count();
            let mut dests = KVec::with_capacity(count, GFP_KERNEL)?;
            for dest in self.scheduling.lock().dests.iter() {
                dests
                    .push_within_capacity(dest.clone())
                    .map_err(|_| ENOMEM)?;
            }
            Some(Scheduler::by_name(name, &dests)?)
        };
        let old = core::mem::replace(&mut self.scheduling.lock().scheduler, new);
        // The old state (the Maglev table) is freed outside the lock.
        drop(old);
        Ok(())
    }

    /// One periodic check of the scheduler's locality cache, if it has one (C: the lblc and
    /// lblcr timers), at `now` with the namespace's expiration sysctls in jiffies.
    ///
    /// Called in process context. The service's lock is taken once per bucket, as C takes
    /// its `sched_lock`, so the packet path waits for one bucket at most.
    pub(crate) fn expire_locality(&self, now: u64, lblc_expiration: u64, lblcr_expiration: u64) {
        let check = self
            .scheduling
            .lock()
            .scheduler
            .as_mut()
            .and_then(|s| s.locality_check(lblc_expiration, lblcr_expiration));
        let Some(sweep) = check else {
            return;
        };
        let mut bucket = sweep.start;
        let mut dropped = 0usize;
        for _ in 0..lblc::TABLE_SIZE {
            let swept = self
                .scheduling
                .lock()
                .scheduler
                .as_mut()
                .and_then(|s| s.locality_sweep(bucket, now, sweep.timeout));
            // The scheduler was replaced by one without a cache.
            let Some(swept) = swept else {
                return;
            };
            dropped = dropped.saturating_add(swept);
            if sweep.goal.is_some_and(|goal| dropped >= goal) {
                return;
            }
            bucket = bucket.wrapping_add(1) & (lblc::TABLE_SIZE - 1);
        }
    }

    /// Applies SET_SERVICE settings.
    pub(crate) fn apply(&self, config: &ServiceConfig) {
        self.flags
            .store(config.flags | uapi::svc_flags::HASHED, Relaxed);
        self.timeout.store(config.timeout, Relaxed);
        self.netmask.store(config.netmask, Relaxed);
    }

    /// Unlinks every destination (service deletion or flush) and returns them.
    pub(crate) fn remove_all_dests(&self) -> KVec<Arc<Dest>> {
        let mut list = KVec::new();
        {
            let mut scheduling = self.scheduling.lock();
            core::mem::swap(&mut scheduling.dests, &mut list);
            self.count_dests(&scheduling);
        }
        for d in list.iter() {
            d.stats.stop_estimator();
            d.make_unavailable();
        }
        list
    }
}
