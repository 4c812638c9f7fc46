// SPDX-License-Identifier: GPL-2.0

//! A namespace's whole state ([`NetState`]): the control plane's configuration and the state
//! it shares with the packet path, and the binding layer's callbacks for it, which hand each
//! event down: packets to [`crate::datapath`], generic netlink requests and /proc reads to
//! [`crate::ctl`], the timer to connection expiry and the defense, the threads to the sync
//! daemons and the rate estimator.

use crate::ffi::rcu;
use crate::{
    ctl::{
        self, //
        Control,
    },
    datapath,
    ffi::{
        genl::{
            Dump, //
            Family,
            Request,
        },
        kthread::{
            ThreadKind, //
            Threads,
        },
        net::{
            Net, //
            NetRef,
            PernetState,
        },
        netfilter::{
            HookPoint, //
            Hooks,
            Verdict,
        },
        proc::{
            ProcFiles, //
            ProcList,
            ProcRegistration,
            SeqFile,
        },
        route_cache::{
            DeviceDown, //
            DeviceId,
        },
        skb::{
            HookFlags, //
            Skb,
        },
        sysctl::{
            SysctlRegistration, //
            SysctlWrites,
        },
        timer::{
            jiffies, //
            random_u32,
            Tick,
        },
    },
    netns::Ipvs,
    sysctl::{
        self, //
        Sysctl,
        Written,
    },
};
use kernel::{
    cpumask::Cpumask,
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// Everything rust_ipvs keeps for one network namespace.
///
/// Lock order: [`NetState::control`] is the outermost lock, then (sync daemons) RTNL, then a
/// service's scheduling lock, then a destination's route cache lock; the statistics' pool
/// mutex ([`crate::ffi::percpu::PerCpuPool`]) is taken under the control mutex or alone, and
/// nothing under it but the per-CPU allocator's own locks. The `NETDEV_DOWN`
/// notifier, called under RTNL, takes no control mutex: it walks the services under RCU.
#[pin_data]
pub(crate) struct NetState {
    /// Configuration: serialises changes and namespace start/stop.
    #[pin]
    control: Mutex<Control>,
    /// What the packet path reads.
    ipvs: Ipvs,
}

/// `ip_vs_dst_event`: the services' destinations forget routes through a device going down
/// (under RCU, as C: RTNL is held, and the control mutex is taken before RTNL elsewhere).
/// Removed destinations cache nothing.
impl DeviceDown for NetState {
    fn device_down(&self, dev: DeviceId) {
        let guard = rcu::read_lock();
        let Some(services) = self.ipvs.services.get(&guard) else {
            return;
        };
        for service in services.iter(&guard) {
            service.for_each_dest(|dest| dest.route_cache.forget_device(dev));
        }
    }
}

impl PernetState for NetState {
    fn new(net: NetRef) -> Result<Arc<Self>> {
        let ipvs = Ipvs::new(net)?;
        Arc::pin_init(
            pin_init!(NetState {
                control <- new_mutex!(Control::new()),
                ipvs,
            }),
            GFP_KERNEL,
        )
    }

    /// Creates the namespace's /proc files and sysctls; hooks come with the first service.
    fn start(&self, net: &Net) -> Result {
        let mut control = self.control.lock();
        if control.proc_files.is_none() {
            control.proc_files = Some(ProcRegistration::new(net)?);
        }
        if control.sysctls.is_none() {
            let read_only = if net.is_unprivileged() {
                sysctl::READ_ONLY_UNPRIVILEGED
            } else {
                0
            };
            control.sysctls = Some(SysctlRegistration::new(
                net,
                self.ipvs.sysctl.values(),
                sysctl::TABLE_LEN,
                read_only,
            )?);
        }
        Ok(())
    }

    /// Stops the sync daemons while the namespace's devices are there: their sockets'
    /// cached routes hold the devices, whose unregistration would wait for them.
    fn pre_stop(&self) {
        crate::sync::stop_all(&mut self.control.lock().daemons, &self.ipvs);
    }

    /// Unregisters the hooks, the timer, /proc and sysctls, then drops the configuration
    /// and the connections; the grace period the service table's release waits for also
    /// lets hooks still running finish.
    fn stop(&self) {
        // Stopped by `pre_stop` already, unless the state failed to start.
        crate::sync::stop_all(&mut self.control.lock().daemons, &self.ipvs);
        let crate::ctl::TornDown {
            hooks,
            proc_files,
            timer,
            services,
        } = self.control.lock().flush_into(&self.ipvs);
        let sysctls = self.control.lock().sysctls.take();
        drop(hooks);
        drop(timer);
        drop(proc_files);
        drop(sysctls);
        self.ipvs.services.replace(None);
        if let Some(conns) = self.ipvs.conns.get_arc() {
            conns.flush();
        }
        self.ipvs.conns.replace(None);
        drop(services);
    }
}

// Inlined into their entries (`ffi::hook_entry!`) with the hooks' bodies: the hook-flag checks
// pass or stop a packet there.
impl Hooks for NetState {
    #[inline(always)]
    fn request(&self, net: &Net, hook: HookPoint, flags: HookFlags, skb: Skb<'_>) -> Verdict {
        if !datapath::request_wanted(hook, flags) {
            return Verdict::Accept;
        }
        datapath::request(&self.ipvs, net, hook, skb)
    }

    #[inline(always)]
    fn reply(&self, net: &Net, hook: HookPoint, flags: HookFlags, skb: Skb<'_>) -> Verdict {
        if !datapath::reply_wanted(flags) {
            return Verdict::Accept;
        }
        datapath::reply(&self.ipvs, net, hook, skb)
    }

    #[inline(always)]
    fn forward_icmp(&self, net: &Net, hook: HookPoint, _flags: HookFlags, skb: Skb<'_>) -> Verdict {
        datapath::forward_icmp(&self.ipvs, net, hook, skb)
    }
}

impl Family for NetState {
    fn doit(&self, request: &Request<'_>) -> Result {
        ctl::netlink::doit(&self.control, &self.ipvs, request)
    }

    fn dumpit(&self, dump: &mut Dump<'_>) {
        ctl::netlink::dumpit(&self.control, dump)
    }
}

impl ProcFiles for NetState {
    fn services(&self, out: &mut SeqFile) {
        ctl::proc::services(&self.control, &self.ipvs, out)
    }

    fn list_len(&self, _list: ProcList) -> u64 {
        ctl::proc::conns_len(&self.ipvs)
    }

    fn list_record(&self, list: ProcList, index: u64, out: &mut SeqFile) {
        ctl::proc::conns_record(&self.ipvs, list, index, out)
    }

    fn stats(&self, out: &mut SeqFile) {
        ctl::proc::stats(&self.ipvs, out)
    }

    fn stats_per_cpu(&self, out: &mut SeqFile) {
        ctl::proc::stats_per_cpu(&self.ipvs, out)
    }

    fn sync_stats(&self, out: &mut SeqFile) {
        self.ipvs.sync.write_stats(out)
    }

    fn status(&self, out: &mut SeqFile) {
        ctl::proc::status(&self.control, &self.ipvs, out)
    }

    fn apps(&self, out: &mut SeqFile) {
        ctl::proc::apps(out)
    }
}

impl SysctlWrites for NetState {
    /// `conn_max`, the defense modes, the estimator's settings and the load factors, under
    /// the control mutex (C: the service mutex, `update_defense_level` after a mode changed,
    /// the estimator's restart after its setting changed, a table's resize after its load
    /// factor was written).
    fn write(&self, index: usize, value: i32, privileged: bool) -> Result {
        let mut control = self.control.lock();
        match self.ipvs.sysctl.write(index, value, privileged)? {
            Written::Value => {}
            Written::DefenseMode => self.ipvs.defense.update(&self.ipvs.sysctl),
            Written::Estimator => control.estimator.restart(&self.ipvs),
            Written::ServiceTable => control.refit_services(&self.ipvs),
            Written::ConnTable => control.resize_conns_now(),
        }
        Ok(())
    }

    /// Under the control mutex (C: `est_mutex`).
    fn write_cpulist(&self, cpus: &Cpumask) -> Result {
        self.control.lock().estimator.set_cpus(&self.ipvs, cpus)
    }

    fn read_cpulist(&self, cpus: &mut Cpumask) -> bool {
        match self.control.lock().estimator.cpus() {
            Some(set) => {
                set.copy(cpus);
                true
            }
            None => false,
        }
    }
}

impl Threads for NetState {
    fn run_thread(&self, kind: ThreadKind, id: u32) {
        match kind {
            ThreadKind::Master => crate::sync::run_master_thread(&self.ipvs, id),
            ThreadKind::Backup => crate::sync::run_backup_thread(&self.ipvs, id),
            ThreadKind::Estimator => ctl::estimator::run(&self.ipvs),
        }
    }
}

impl Tick for NetState {
    /// Expires connections, updates the defense level and drops entries at random under
    /// `drop_entry` (C's defense work), and retries a failed start of the estimator thread
    /// (C's reload work).
    fn tick(&self) {
        {
            let mut control = self.control.lock();
            control.release_retired();
            self.ipvs.defense.update(&self.ipvs.sysctl);
            control.estimator.start(&self.ipvs);
        }
        if let Some(conns) = self.ipvs.conns.get_arc() {
            let net = self.ipvs.net.get();
            conns.expire(net, |kept| crate::sync::conn_kept(&self.ipvs, kept));
            if self.ipvs.defense.drops_entries() {
                let defense = &self.ipvs.defense;
                conns.drop_random(random_u32(), net, |c, now| defense.entry_to_drop(c, now));
            }
        }
    }

    /// Collects the stale entries of the lblc and lblcr caches, frees the trashed
    /// destinations unused for a trash period and the per-CPU counter blocks no statistics
    /// use.
    fn minute(&self) {
        ctl::expire_locality(&self.ipvs);
        self.control.lock().expire_trash(jiffies());
        self.ipvs.stats_pool.shrink();
    }

    /// Grows or shrinks the connection table when its count or `conn_lfactor` calls for it
    /// (C's `conn_resize_work_handler`).
    fn resize(&self) -> bool {
        self.ipvs
            .conns
            .get_arc()
            .is_some_and(|conns| !conns.resize(self.ipvs.sysctl.get(Sysctl::ConnLfactor)))
    }
}
