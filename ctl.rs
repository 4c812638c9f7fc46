// SPDX-License-Identifier: GPL-2.0

//! The control plane (C: `ip_vs_ctl.c`): services and destinations of a namespace, changed
//! through the "IPVS" generic netlink family.
//!
//! Every change runs under the namespace's control mutex (which holds [`Control`]); the
//! packet path never takes it. Lock order: control mutex, then a service's scheduling lock.

pub(crate) mod estimator;
pub(crate) mod netlink;
pub(crate) mod proc;
mod trash;

use crate::ffi::rcu;
use crate::{
    conn::ConnTable,
    ffi::log::{
        self, //
        ipvs_err,
        ipvs_info,
    },
    ffi::{
        net::AddrType,
        netfilter::HookRegistration,
        proc::ProcRegistration,
        rculist::Retired,
        sysctl::SysctlRegistration,
        timer::{
            jiffies, //
            Timer,
        },
    },
    netns::Ipvs,
    packet::{
        v4_of, //
        NfInetAddr,
    },
    sched::Scheduler,
    service::{
        real_servers::RetiredEntries,
        table::family_index,
        Dest, //
        DestConfig,
        Service,
        ServiceConfig,
        ServiceKey,
        ServiceTable,
    },
    stats::Stats,
    sync::DaemonConfig,
    sysctl::{
        self, //
        Sysctl,
    },
    uapi,
};
use kernel::{
    prelude::*,
    sync::{
        atomic::Relaxed, //
        Arc,
    },
};
use trash::Trash;

/// Control-plane state of a namespace, changed only under its control mutex.
pub(crate) struct Control {
    /// The namespace's netfilter hooks of each address family (IPv4, IPv6), registered while
    /// it has a service of that family (C: `hooks_afmask`).
    pub(crate) hooks: [Option<HookRegistration>; 2],
    /// The namespace's /proc/net files, while registered.
    pub(crate) proc_files: Option<ProcRegistration>,
    /// The namespace's works (connection expiry and the defense, the connection table's
    /// resize, the locality caches), running from the first service or backup daemon on.
    pub(crate) gc: Option<Timer>,
    /// The namespace's `net.ipv4.vs` sysctls, while registered.
    pub(crate) sysctls: Option<SysctlRegistration<{ sysctl::COUNT }>>,
    /// The service table the packet path reads, allocated with the first service; changed
    /// only under the control mutex.
    pub(crate) services: Option<Arc<ServiceTable>>,
    /// Deleted destinations, kept for an add of the same one to revive.
    dest_trash: Trash,
    /// The destinations of every service in the table (C's `num_dests` summed): the room a
    /// flush makes in the trash, known without a walk of the services.
    live_dests: usize,
    /// The sync daemons' settings.
    pub(crate) daemons: crate::sync::Daemons,
    /// The rate estimator's thread.
    pub(crate) estimator: estimator::EstimatorThread,
    /// The service table's references to deleted services, released by batches.
    retired_services: Retired<Service>,
    /// The real-server table's deleted entries, released by batches.
    retired_real_servers: RetiredEntries,
}

/// What [`Control::flush_into`] takes out of a namespace being dismantled, to be dropped
/// outside the control mutex.
pub(crate) struct TornDown {
    /// The hooks of each address family.
    pub(crate) hooks: [Option<HookRegistration>; 2],
    /// The /proc/net files.
    pub(crate) proc_files: Option<ProcRegistration>,
    /// The namespace's works.
    pub(crate) timer: Option<Timer>,
    /// The service table.
    pub(crate) services: Option<Arc<ServiceTable>>,
}

/// How long a deleted destination without connections stays revivable, in seconds
/// (`IP_VS_DEST_TRASH_PERIOD`).
const DEST_TRASH_PERIOD_SECS: u64 = 120;

impl Control {
    /// No services, no hooks.
    pub(crate) fn new() -> Self {
        Control {
            hooks: [None, None],
            proc_files: None,
            gc: None,
            sysctls: None,
            services: None,
            dest_trash: Trash::new(),
            live_dests: 0,
            daemons: crate::sync::Daemons::new(),
            estimator: estimator::EstimatorThread::new(),
            retired_services: Retired::new(),
            retired_real_servers: RetiredEntries::new(),
        }
    }

    /// The service with this key (`__ip_vs_service_find` / `__ip_vs_svc_fwm_find`).
    pub(crate) fn find_service(&self, key: &ServiceKey) -> Option<Arc<Service>> {
        let guard = rcu::read_lock();
        Some(self.services.as_ref()?.get(&guard, key)?.counted())
    }

    /// Number of services.
    pub(crate) fn service_count(&self) -> u32 {
        self.services.as_ref().map_or(0, |t| t.len())
    }

    /// Counted references to every service, in the table's order.
    pub(crate) fn all_services(&self) -> Result<KVVec<Arc<Service>>> {
        match &self.services {
            Some(table) => table.collect(),
            None => Ok(KVVec::new()),
        }
    }

    /// The service table for `len` services: the current one, or, when `len` crosses its
    /// thresholds or `svc_lfactor` changed, one of the new size that the services moved
    /// into, published in its place (C's `svc_resize_work`, run here under the mutex). The
    /// first call publishes the first table. The old, emptied table is released after a grace
    /// period without waiting for it, as C's resize does not hold up the request that grows
    /// the table (a restore of 10,000 services would wait for a grace period at each of its
    /// thirteen resizes).
    fn table_for(&mut self, ipvs: &Ipvs, len: u32) -> Result<Arc<ServiceTable>> {
        let lfactor = ipvs.sysctl.get(Sysctl::SvcLfactor);
        let table = match &self.services {
            None => ServiceTable::first(lfactor)?,
            Some(table) => {
                let Some(size) = table.resize_for(len, lfactor) else {
                    return Ok(table.clone());
                };
                // A failed allocation keeps the current table, which serves as well (C's
                // resize work tries again later).
                let Ok(next) = ServiceTable::new(size, lfactor) else {
                    return Ok(table.clone());
                };
                table.move_into(next.clone());
                next
            }
        };
        // Readers of the old table finish before it goes; its services are in the new one.
        ipvs.services.replace_deferred(Some(table.clone()));
        self.services = Some(table.clone());
        Ok(table)
    }

    /// Resizes the service table, if there is one, for a new `svc_lfactor` (C's
    /// `ipvs_proc_svc_lfactor` queues the resize work at once).
    pub(crate) fn refit_services(&mut self, ipvs: &Ipvs) {
        if self.services.is_some() {
            // A failed allocation keeps the current table, as in `table_for`.
            let _ = self.table_for(ipvs, self.service_count());
        }
    }

    /// Resizes the connection table now, if there is one, for a new `conn_lfactor` (C's
    /// `ipvs_proc_conn_lfactor` queues the resize work at once).
    pub(crate) fn resize_conns_now(&self) {
        if let Some(gc) = &self.gc {
            gc.resize_kick().kick();
        }
    }

    /// Shrinks the table after deletions, when its thresholds say so; a failed allocation
    /// keeps the bigger table, which serves as well. A family's hooks go with its last
    /// service (`ip_vs_unregister_hooks`).
    fn shrink_table(&mut self, ipvs: &Ipvs) {
        let len = self.service_count();
        if len == 0 {
            // The last service gone, the table goes as C's (`call_rcu`): waiting for a grace
            // period here would also wait for the releases of every service and real server
            // a flush just queued.
            self.services = None;
            ipvs.services.replace_deferred(None);
        } else {
            let _ = self.table_for(ipvs, len);
        }
        for af in [uapi::AF_INET, uapi::AF_INET6] {
            let none_left = self.services.as_ref().is_none_or(|t| t.family_len(af) == 0);
            if none_left {
                if let Some(hooks) = self.hooks.get_mut(family_index(af)) {
                    *hooks = None;
                }
            }
        }
    }

    /// Adds a service (`ip_vs_add_service`). The first one allocates the connection table,
    /// starts its expiry timer and the estimator, and registers the hooks.
    pub(crate) fn add_service(
        &mut self,
        ipvs: &Ipvs,
        key: ServiceKey,
        sched_name: &[u8],
        pe_name: Option<&[u8]>,
        config: &ServiceConfig,
    ) -> Result {
        let scheduler = bind_scheduler(sched_name)?;
        check_no_pe(pe_name)?;
        if key.af == uapi::AF_INET6 {
            if !(1..=128).contains(&config.netmask) {
                return Err(EINVAL);
            }
            // IPv6 fragments are reassembled before the hooks (C enables it here too).
            ipvs.net.get().enable_ipv6_defrag()?;
        }
        let service = Service::new(key, scheduler, config, &ipvs.stats_pool)?;
        self.start_conn_table(ipvs)?;
        let table = self.table_for(ipvs, self.service_count().saturating_add(1))?;
        table.insert(&service)?;
        // The first service of its family registers the family's hooks.
        if let Some(hooks @ None) = self.hooks.get_mut(family_index(key.af)) {
            match HookRegistration::new(ipvs.net.get(), key.af) {
                Ok(registered) => *hooks = Some(registered),
                Err(e) => {
                    table.remove(&service, &mut self.retired_services);
                    return Err(e);
                }
            }
        }
        service.stats.start_estimator();
        self.estimator.enable(ipvs);
        Ok(())
    }

    /// Starts the namespace's works and allocates the connection table, unless there
    /// already.
    fn start_conn_table(&mut self, ipvs: &Ipvs) -> Result {
        let gc = match &self.gc {
            Some(gc) => gc,
            None => self.gc.insert(Timer::start(ipvs.net.get())?),
        };
        if ipvs.conns.get_arc().is_none() {
            let limits = crate::conn::table_limits(crate::conn_tab_bits());
            let lfactor = ipvs.sysctl.get(Sysctl::ConnLfactor);
            let table = ConnTable::new(limits, lfactor, gc.resize_kick())?;
            ipvs.conns.replace(Some(table));
        }
        Ok(())
    }

    /// Starts a sync daemon (`start_sync_thread`); a backup may start without services, so
    /// it gets the connection table and its expiry first, as C allocates `conn_tab`.
    pub(crate) fn start_daemon(&mut self, ipvs: &Ipvs, config: DaemonConfig, state: u32) -> Result {
        // The protocol cannot carry connections to real servers of another family.
        if self.has_mixed_family_dests()? {
            return Err(EINVAL);
        }
        if state == crate::sync::STATE_BACKUP {
            self.start_conn_table(ipvs)?;
        }
        crate::sync::start(&mut self.daemons, ipvs, config, state)
    }

    /// Whether a service has a real server of the other family
    /// (`mixed_address_family_dests`).
    pub(crate) fn has_mixed_family_dests(&self) -> Result<bool> {
        for service in self.all_services()?.iter() {
            let mut index = 0;
            while let Some(dest) = service.dest_at(index) {
                if dest.af != service.key.af {
                    return Ok(true);
                }
                index += 1;
            }
        }
        Ok(false)
    }

    /// Edits a service (`ip_vs_edit_service`).
    pub(crate) fn edit_service(
        &mut self,
        service: &Service,
        sched_name: &[u8],
        pe_name: Option<&[u8]>,
        config: &ServiceConfig,
    ) -> Result {
        if sched_name != b"none" && !Scheduler::exists(sched_name) {
            return Err(scheduler_not_found(sched_name));
        }
        check_no_pe(pe_name)?;
        if service.key.af == uapi::AF_INET6 && !(1..=128).contains(&config.netmask) {
            return Err(EINVAL);
        }
        service.rebind_scheduler(sched_name)?;
        service.apply(config);
        Ok(())
    }

    /// Deletes a service and moves its destinations to the trash (`ip_vs_del_service`).
    pub(crate) fn del_service(&mut self, ipvs: &Ipvs, service: &Arc<Service>) -> Result {
        // Everything that can fail comes before the service leaves the table.
        self.dest_trash.reserve(service.dest_count())?;
        let table = self.services.as_ref().ok_or(ESRCH)?;
        if !table.remove(service, &mut self.retired_services) {
            return Err(ESRCH);
        }
        service.stats.stop_estimator();
        let dests = service.remove_all_dests();
        self.live_dests = self.live_dests.saturating_sub(dests.len());
        self.trash(ipvs, service, dests);
        self.shrink_table(ipvs);
        Ok(())
    }

    /// Deletes every service (`ip_vs_flush`), their destinations to the trash.
    ///
    /// The table goes whole, released after a grace period (C unlinks each service, then
    /// releases its table with `call_rcu`): a reader that still walks it finds its services
    /// until the grace period ends, and a later one finds none.
    pub(crate) fn flush(&mut self, ipvs: &Ipvs) -> Result {
        let Some(table) = self.services.take() else {
            self.shrink_table(ipvs);
            return Ok(());
        };
        // Everything that can fail comes before a service leaves.
        if let Err(e) = self.dest_trash.reserve(self.live_dests) {
            self.services = Some(table);
            return Err(e);
        }
        empty_services(ipvs, &table, |service, dest| {
            self.dest_trash.push(service, dest)
        });
        self.live_dests = 0;
        drop(table);
        // With no table left, this unpublishes it (deferred) and unregisters the hooks.
        self.shrink_table(ipvs);
        Ok(())
    }

    /// Adds a destination to a service (`ip_vs_add_dest`): the same one from the trash if it
    /// is there (`ip_vs_trash_get_dest`), its connections carrying on, or a new one.
    pub(crate) fn add_dest(
        &mut self,
        ipvs: &Ipvs,
        service: &Arc<Service>,
        af: u16,
        addr: &NfInetAddr,
        port: u16,
        config: &DestConfig,
    ) -> Result {
        check_dest_config(config, "ip_vs_add_dest")?;
        if service.find_dest(af, addr, port).is_some() {
            return Err(EEXIST);
        }
        let Some(trashed) = self.dest_trash.take(&service.key, af, addr, port) else {
            // `ip_vs_new_dest`: an IPv4 real server is an address of this host or one routed
            // to as unicast.
            if af == uapi::AF_INET
                && !matches!(
                    ipvs.net.get().addr_type(v4_of(addr)),
                    AddrType::Local | AddrType::Unicast
                )
            {
                return Err(EINVAL);
            }
            if af == uapi::AF_INET6 {
                ipvs.net.get().enable_ipv6_defrag()?;
            }
            let dest = Dest::new(af, *addr, port, config, &ipvs.stats_pool)?;
            let entry = ipvs.real_servers.prepare(&dest, config, &service.key)?;
            // Nothing was published before: this does not wait for a grace period.
            dest.service_stats.replace(Some(service.stats.clone()));
            service.add_dest(dest.clone())?;
            self.live_dests = self.live_dests.saturating_add(1);
            ipvs.real_servers.publish(&dest, entry);
            return Ok(());
        };
        let entry = match ipvs
            .real_servers
            .prepare(&trashed.dest, config, &service.key)
        {
            Ok(entry) => entry,
            Err(e) => {
                self.dest_trash.put_back(trashed);
                return Err(e);
            }
        };
        let dest = trashed.dest.clone();
        // `__ip_vs_update_dest`: counters restart in another service object.
        if !Arc::ptr_eq(&trashed.service, service) {
            dest.stats.zero();
            // Its connections' packets now count in this service (C: `dest->svc`); the old
            // service's counters are released after a grace period, without waiting for it
            // (C: `__ip_vs_svc_put`'s `call_rcu`): a restore after a flush revives every
            // destination, and a grace period each made 3,000 of them take 38 s.
            dest.service_stats
                .replace_deferred(Some(service.stats.clone()));
        }
        dest.revive(config);
        if let Err(e) = service.add_dest(dest) {
            trashed.dest.make_unavailable();
            if !Arc::ptr_eq(&trashed.service, service) {
                let old_stats = trashed.service.stats.clone();
                trashed.dest.service_stats.replace_deferred(Some(old_stats));
            }
            // The room it left is still there: this cannot need memory.
            self.dest_trash.put_back(trashed);
            return Err(e);
        }
        self.live_dests = self.live_dests.saturating_add(1);
        ipvs.real_servers.publish(&trashed.dest, entry);
        Ok(())
    }

    /// Edits a destination of a service (`ip_vs_edit_dest`); one whose method or tunnel changes
    /// is hashed again in the real-server table (`__ip_vs_update_dest`).
    pub(crate) fn edit_dest(
        &mut self,
        ipvs: &Ipvs,
        service: &Service,
        af: u16,
        addr: &NfInetAddr,
        port: u16,
        config: &DestConfig,
    ) -> Result {
        check_dest_config(config, "ip_vs_edit_dest")?;
        let dest = service.find_dest(af, addr, port).ok_or(ENOENT)?;
        let rehash = dest.fwd_method.load(Relaxed) != config.fwd_method & uapi::fwd::MASK
            || dest.tun_type.load(Relaxed) != u32::from(config.tun_type)
            || dest.tun_port.load(Relaxed) != u32::from(config.tun_port);
        let entry = if rehash {
            Some(ipvs.real_servers.prepare(&dest, config, &service.key)?)
        } else {
            None
        };
        if let Some(entry) = entry {
            ipvs.real_servers
                .remove(&dest, &mut self.retired_real_servers);
            dest.apply(config);
            ipvs.real_servers.publish(&dest, entry);
        } else {
            dest.apply(config);
        }
        service.dest_updated();
        Ok(())
    }

    /// Deletes a destination of a service (`ip_vs_del_dest`) to the trash.
    pub(crate) fn del_dest(
        &mut self,
        ipvs: &Ipvs,
        service: &Arc<Service>,
        af: u16,
        addr: &NfInetAddr,
        port: u16,
    ) -> Result {
        let dest = service.find_dest(af, addr, port).ok_or(ENOENT)?;
        self.dest_trash.reserve(1)?;
        service.remove_dest(&dest)?;
        self.live_dests = self.live_dests.saturating_sub(1);
        self.trash(ipvs, service, [dest]);
        Ok(())
    }

    /// Moves `dests`, just unlinked from `service`, out of the real-server table and to the
    /// trash, whose capacity the caller reserved (`__ip_vs_unlink_dest`'s `ip_vs_rs_unhash`,
    /// `ip_vs_trash_put_dest`).
    fn trash(
        &mut self,
        ipvs: &Ipvs,
        service: &Arc<Service>,
        dests: impl IntoIterator<Item = Arc<Dest>>,
    ) {
        for dest in dests {
            ipvs.real_servers
                .remove(&dest, &mut self.retired_real_servers);
            self.dest_trash.push(service, dest);
        }
    }

    /// Queues the release of the services and real-server entries deleted since the last
    /// call, after a grace period (the tick's, every second: a batch that has not filled
    /// waits no longer).
    pub(crate) fn release_retired(&mut self) {
        self.retired_services.release();
        self.retired_real_servers.release();
    }

    /// Frees the trashed destinations unused for a trash period (`ip_vs_dest_trash_expire`,
    /// which C runs every half period): the first pass that finds one unused starts its idle
    /// time, a pass a period later frees it.
    pub(crate) fn expire_trash(&mut self, now: u64) {
        let period = DEST_TRASH_PERIOD_SECS.saturating_mul(crate::sched::hz());
        self.dest_trash.expire(now, period);
    }

    /// Stops the estimator and takes the hooks and the service table out, for namespace
    /// teardown outside the lock; the destinations leave `ipvs`'s real-server table.
    pub(crate) fn flush_into(&mut self, ipvs: &Ipvs) -> TornDown {
        self.estimator.disable();
        let services = self.services.take();
        if let Some(table) = &services {
            empty_services(ipvs, table, |_, dest| drop(dest));
        }
        self.live_dests = 0;
        self.dest_trash.clear();
        TornDown {
            hooks: [self.hooks[0].take(), self.hooks[1].take()],
            proc_files: self.proc_files.take(),
            timer: self.gc.take(),
            services,
        }
    }

    /// Zeroes the counters of every service and destination, and the totals
    /// (`ip_vs_zero_all`).
    pub(crate) fn zero_all(&self, total: &Stats) {
        if let Some(table) = &self.services {
            let guard = rcu::read_lock();
            for service in table.iter(&guard) {
                zero_service(&service);
            }
        }
        total.zero();
    }
}

/// Takes every destination out of the services of `table` and out of the real-server table
/// (emptied at once, its entries released by batches), handing each to `each` with its
/// service.
fn empty_services(
    ipvs: &Ipvs,
    table: &ServiceTable,
    mut each: impl FnMut(&Arc<Service>, Arc<Dest>),
) {
    ipvs.real_servers.clear();
    let guard = rcu::read_lock();
    for service in table.iter(&guard) {
        let service = service.counted();
        service.stats.stop_estimator();
        for dest in service.remove_all_dests() {
            ipvs.real_servers.forget(&dest);
            each(&service, dest);
        }
    }
}

/// Counted references to the services of the published table, without the control mutex
/// ([`ServiceTable::collect`]); none before the first service.
fn published_services(ipvs: &Ipvs) -> Result<KVVec<Arc<Service>>> {
    ipvs.services
        .get_arc()
        .map_or_else(|| Ok(KVVec::new()), |table| table.collect())
}

/// The periodic check of every lblc and lblcr cache of a namespace (C: a timer per
/// service), in process context: the services are walked outside the RCU read section and
/// the mutex, on counted references ([`published_services`]).
pub(crate) fn expire_locality(ipvs: &Ipvs) {
    let Ok(services) = published_services(ipvs) else {
        return;
    };
    let now = jiffies();
    let lblc_expiration = ipvs.sysctl.jiffies(Sysctl::LblcExpiration);
    let lblcr_expiration = ipvs.sysctl.jiffies(Sysctl::LblcrExpiration);
    for service in services.iter() {
        service.expire_locality(now, lblc_expiration, lblcr_expiration);
    }
}

/// Zeroes a service's counters and its destinations' (`ip_vs_zero_service`).
pub(crate) fn zero_service(service: &Service) {
    let mut index = 0;
    while let Some(dest) = service.dest_at(index) {
        dest.stats.zero();
        index += 1;
    }
    service.stats.zero();
}

/// The scheduler for a new service: [`None`] for "none", ENOENT for an unknown name.
fn bind_scheduler(name: &[u8]) -> Result<Option<Scheduler>> {
    if name == b"none" {
        return Ok(None);
    }
    Scheduler::by_name(name, &[]).map(Some).map_err(|e| {
        if e == ENOENT {
            scheduler_not_found(name)
        } else {
            e
        }
    })
}

/// ENOENT for a scheduler of no such name, logged as C does.
fn scheduler_not_found(name: &[u8]) -> Error {
    ipvs_info!("Scheduler module ip_vs_{} not found\n", log::name(name));
    ENOENT
}

/// Refuses a persistence engine (C: `ip_vs_pe_getbyname`): none (such as sip) is available,
/// and C's lookup fails with ENOENT, logged as C does.
fn check_no_pe(pe_name: Option<&[u8]>) -> Result {
    match pe_name {
        Some(name) => {
            ipvs_info!(
                "persistence engine module ip_vs_pe_{} not found\n",
                log::name(name)
            );
            Err(ENOENT)
        }
        None => Ok(()),
    }
}

/// Checks destination settings as `ip_vs_add_dest` / `ip_vs_edit_dest` (`func`) do, logging
/// what C logs.
fn check_dest_config(config: &DestConfig, func: &str) -> Result {
    if config.weight < 0 {
        ipvs_err!("{func}(): server weight less than zero\n");
        return Err(ERANGE);
    }
    if config.l_threshold > config.u_threshold {
        ipvs_err!("{func}(): lower threshold is higher than upper threshold\n");
        return Err(ERANGE);
    }
    if config.u_threshold > i32::MAX as u32 {
        return Err(EINVAL);
    }
    // IP_VS_CONN_F_TUNNEL_TYPE_GUE needs a port.
    if config.tun_type == 1 && config.tun_port == 0 {
        ipvs_err!("{func}(): tunnel port is zero\n");
        return Err(EINVAL);
    }
    Ok(())
}
