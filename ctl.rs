// SPDX-License-Identifier: GPL-2.0

//! The control plane (C: `ip_vs_ctl.c`): services and destinations of a namespace, changed
//! through the "IPVS" generic netlink family.
//!
//! Every change runs under the namespace's control mutex (which holds [`Control`]); the
//! packet path never takes it. Lock order: control mutex, then a service's scheduling lock.

pub(crate) mod netlink;
pub(crate) mod proc;

use crate::{
    conn::ConnTable,
    ffi::{
        netfilter::HookRegistration, //
        proc::ProcRegistration,
        sysctl::SysctlRegistration,
        timer::{
            jiffies, //
            Timer,
        },
    },
    netns::Ipvs,
    packet::NfInetAddr,
    sched::Scheduler,
    service::{
        Dest, //
        DestConfig,
        Service,
        ServiceConfig,
        ServiceKey,
        ServiceTable,
    },
    stats::Stats,
    sysctl::{
        self, //
        Sysctl,
    },
    uapi,
};
use kernel::{
    prelude::*,
    sync::{
        rcu, //
        Arc,
    },
};

/// Smallest connection table (C: `1 << IP_VS_CONN_TAB_MIN_BITS`), allocated with the first
/// service.
const CONN_TAB_MIN_SIZE: u32 = 256;

/// Control-plane state of a namespace, changed only under its control mutex.
pub(crate) struct Control {
    /// The namespace's netfilter hooks, while registered.
    pub(crate) hooks: Option<HookRegistration>,
    /// The namespace's /proc/net files, while registered.
    pub(crate) proc_files: Option<ProcRegistration>,
    /// The connection expiry timer, running from the first service on.
    pub(crate) gc: Option<Timer>,
    /// The namespace's `net.ipv4.vs` sysctls, while registered.
    pub(crate) sysctls: Option<SysctlRegistration<{ sysctl::COUNT }>>,
    /// Configured services, in creation order.
    pub(crate) services: KVec<Arc<Service>>,
    /// Buckets of the connection table, as GET_INFO reports it: 0 until the first service
    /// allocates the table (C: `get_conn_tab_size`).
    pub(crate) conn_tab_size: u32,
}

impl Control {
    /// No services, no hooks.
    pub(crate) fn new() -> Self {
        Control {
            hooks: None,
            proc_files: None,
            gc: None,
            sysctls: None,
            services: KVec::new(),
            conn_tab_size: 0,
        }
    }

    /// The service with this key (`__ip_vs_service_find` / `__ip_vs_svc_fwm_find`).
    pub(crate) fn find_service(&self, key: &ServiceKey) -> Option<Arc<Service>> {
        self.services
            .iter()
            .find(|s| {
                if key.fwmark != 0 {
                    s.key.fwmark == key.fwmark && s.key.af == key.af
                } else {
                    s.key.fwmark == 0
                        && s.key.af == key.af
                        && s.key.protocol == key.protocol
                        && s.key.port == key.port
                        && s.key.addr == key.addr
                }
            })
            .cloned()
    }

    /// Adds a service (`ip_vs_add_service`). The first one allocates the connection table,
    /// starts its expiry timer and registers the hooks.
    pub(crate) fn add_service(
        &mut self,
        ipvs: &Ipvs,
        key: ServiceKey,
        sched_name: &[u8],
        with_pe: bool,
        config: &ServiceConfig,
    ) -> Result {
        let scheduler = bind_scheduler(sched_name)?;
        // No persistence engine (such as sip) is available: C's lookup fails with ENOENT.
        if with_pe {
            return Err(ENOENT);
        }
        if key.af == uapi::AF_INET6 && !(1..=128).contains(&config.netmask) {
            return Err(EINVAL);
        }
        let service = Service::new(key, scheduler, config)?;
        if ipvs.conns.get_arc().is_none() {
            ipvs.conns.replace(Some(ConnTable::new()?));
        }
        if self.gc.is_none() {
            self.gc = Some(Timer::start(ipvs.net.get())?);
        }
        self.services.push(service, GFP_KERNEL)?;
        if let Err(e) = self.publish(ipvs) {
            self.services.pop();
            return Err(e);
        }
        if self.hooks.is_none() {
            match HookRegistration::new(ipvs.net.get()) {
                Ok(hooks) => self.hooks = Some(hooks),
                Err(e) => {
                    self.services.pop();
                    let _ = self.publish(ipvs);
                    return Err(e);
                }
            }
        }
        if self.conn_tab_size == 0 {
            self.conn_tab_size = CONN_TAB_MIN_SIZE;
        }
        Ok(())
    }

    /// Publishes the current services to the packet path; the hooks go with the last one.
    pub(crate) fn publish(&mut self, ipvs: &Ipvs) -> Result {
        let mut services = KVec::with_capacity(self.services.len(), GFP_KERNEL)?;
        for s in self.services.iter() {
            services.push(s.clone(), GFP_KERNEL)?;
        }
        ipvs.services
            .replace(Some(Arc::new(ServiceTable::new(services), GFP_KERNEL)?));
        if self.services.is_empty() {
            // `ip_vs_unregister_hooks` with the last service.
            self.hooks = None;
        }
        Ok(())
    }

    /// Edits a service (`ip_vs_edit_service`).
    pub(crate) fn edit_service(
        &mut self,
        service: &Service,
        sched_name: &[u8],
        with_pe: bool,
        config: &ServiceConfig,
    ) -> Result {
        if sched_name != b"none" && !Scheduler::exists(sched_name) {
            return Err(ENOENT);
        }
        if with_pe {
            return Err(ENOENT);
        }
        if service.key.af == uapi::AF_INET6 && !(1..=128).contains(&config.netmask) {
            return Err(EINVAL);
        }
        service.rebind_scheduler(sched_name)?;
        service.apply(config);
        Ok(())
    }

    /// Deletes a service and unlinks its destinations (`ip_vs_del_service`).
    pub(crate) fn del_service(&mut self, ipvs: &Ipvs, service: &Arc<Service>) -> Result {
        self.services.retain(|s| !Arc::ptr_eq(s, service));
        self.publish(ipvs)?;
        service.remove_all_dests();
        Ok(())
    }

    /// Deletes every service (`ip_vs_flush`).
    pub(crate) fn flush(&mut self, ipvs: &Ipvs) -> Result {
        let services = core::mem::take(&mut self.services);
        self.publish(ipvs)?;
        for service in services.iter() {
            service.remove_all_dests();
        }
        Ok(())
    }

    /// Takes the hooks and services out, for namespace teardown outside the lock.
    pub(crate) fn flush_into(
        &mut self,
    ) -> (
        Option<HookRegistration>,
        Option<ProcRegistration>,
        Option<Timer>,
        KVec<Arc<Service>>,
    ) {
        let services = core::mem::take(&mut self.services);
        for service in services.iter() {
            service.remove_all_dests();
        }
        (
            self.hooks.take(),
            self.proc_files.take(),
            self.gc.take(),
            services,
        )
    }

    /// Zeroes the counters of every service and destination, and the totals
    /// (`ip_vs_zero_all`).
    pub(crate) fn zero_all(&self, total: &Stats) {
        for service in self.services.iter() {
            zero_service(service);
        }
        total.zero();
    }
}

/// Updates the rates of every service and destination of a namespace, and of its totals:
/// the estimator's two-second tick, from its timer (softirq).
pub(crate) fn estimate(ipvs: &Ipvs) {
    let guard = rcu::read_lock();
    if let Some(table) = ipvs.services.get(&guard) {
        for service in table.services.iter() {
            for dest in service.scheduling.lock().dests.iter() {
                dest.stats.estimate();
            }
            service.stats.estimate();
        }
    }
    ipvs.total.estimate();
}

/// The periodic check of every lblc and lblcr cache of a namespace (C: a timer per
/// service), in process context: the services are walked outside the RCU read section, on a
/// counted snapshot.
pub(crate) fn expire_locality(ipvs: &Ipvs) {
    let Some(table) = ipvs.services.get_arc() else {
        return;
    };
    let now = jiffies();
    let lblc_expiration = ipvs.sysctl.jiffies(Sysctl::LblcExpiration);
    let lblcr_expiration = ipvs.sysctl.jiffies(Sysctl::LblcrExpiration);
    for service in table.services.iter() {
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
    Scheduler::by_name(name, &[]).map(Some)
}

/// Checks destination settings as `ip_vs_add_dest` / `ip_vs_edit_dest` do.
fn check_dest_config(config: &DestConfig) -> Result {
    if config.weight < 0 {
        return Err(ERANGE);
    }
    if config.l_threshold > config.u_threshold {
        return Err(ERANGE);
    }
    if config.u_threshold > i32::MAX as u32 {
        return Err(EINVAL);
    }
    // IP_VS_CONN_F_TUNNEL_TYPE_GUE needs a port.
    if config.tun_type == 1 && config.tun_port == 0 {
        return Err(EINVAL);
    }
    Ok(())
}

/// Adds a destination to a service (`ip_vs_add_dest`).
pub(crate) fn add_dest(
    service: &Service,
    af: u16,
    addr: &NfInetAddr,
    port: u16,
    config: &DestConfig,
) -> Result {
    check_dest_config(config)?;
    if service.find_dest(af, addr, port).is_some() {
        return Err(EEXIST);
    }
    let dest = Dest::new(af, *addr, port, config)?;
    service.add_dest(dest)
}

/// Edits a destination of a service (`ip_vs_edit_dest`).
pub(crate) fn edit_dest(
    service: &Service,
    af: u16,
    addr: &NfInetAddr,
    port: u16,
    config: &DestConfig,
) -> Result {
    check_dest_config(config)?;
    let dest = service.find_dest(af, addr, port).ok_or(ENOENT)?;
    dest.apply(config);
    service.dest_updated();
    Ok(())
}

/// Deletes a destination of a service (`ip_vs_del_dest`).
pub(crate) fn del_dest(service: &Service, af: u16, addr: &NfInetAddr, port: u16) -> Result {
    let dest = service.find_dest(af, addr, port).ok_or(ENOENT)?;
    service.remove_dest(&dest)
}
