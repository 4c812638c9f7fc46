// SPDX-License-Identifier: GPL-2.0

//! Virtual services and their destinations (C: `struct ip_vs_service`, `struct ip_vs_dest`).
//!
//! A service owns its destination list and scheduler state under one per-service lock, which
//! the packet path takes only to schedule a new connection (as C's `sched_lock`). A connection
//! holds a counted reference to its destination, so a removed destination stays valid for the
//! connections still pointing at it (C keeps it in a trash list for that).

use super::{
    estimator::{
        next_average, //
        reported_rate,
        RateKind,
    },
    uapi,
};
use crate::sched::{
    dest_view::DestView, //
    Scheduler,
};
use kernel::{
    new_spinlock_irq,
    prelude::*,
    sync::{
        atomic::{
            Atomic, //
            Relaxed,
        },
        Arc, //
        SpinLockIrq,
    },
};

/// An address as netlink and `union nf_inet_addr` carry it: 16 bytes in network order, IPv4 in
/// the first four.
pub(crate) type InetAddr = [u8; 16];

/// Copies an address attribute the way `nla_memcpy` into a `union nf_inet_addr` does: at most
/// 16 bytes, the rest zero (moby/ipvs sends 4-byte IPv4 addresses). For IPv4 only the first four
/// bytes count, as C compares them (`ip_vs_addr_equal`); the rest is cleared.
pub(crate) fn inet_addr_from(af: u16, payload: &[u8]) -> InetAddr {
    let len = if af == uapi::AF_INET6 { 16 } else { 4 };
    let mut addr = [0u8; 16];
    for (dst, src) in addr.iter_mut().zip(payload).take(len) {
        *dst = *src;
    }
    addr
}

/// What identifies a service: protocol, address and port, or a firewall mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ServiceKey {
    /// Address family (`AF_INET`, `AF_INET6`).
    pub(crate) af: u16,
    /// IP protocol; TCP for firewall-mark services, as C forces it.
    pub(crate) protocol: u16,
    /// Virtual address; zero for firewall-mark services.
    pub(crate) addr: InetAddr,
    /// Virtual port in host order; 0 for firewall-mark services.
    pub(crate) port: u16,
    /// Firewall mark, or 0 for an address service.
    pub(crate) fwmark: u32,
}

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
/// updated every two seconds by [`Stats::estimate`] (arithmetic in [`super::estimator`]).
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
pub(crate) struct Dest {
    /// Address family of the real server.
    pub(crate) af: u16,
    /// Real server address.
    pub(crate) addr: InetAddr,
    /// Real server port, host order.
    pub(crate) port: u16,
    /// Forwarding method.
    pub(crate) fwd_method: Atomic<u32>,
    /// Weight.
    pub(crate) weight: Atomic<i32>,
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
}

impl Dest {
    /// A new destination with `config` applied.
    pub(crate) fn new(
        af: u16,
        addr: InetAddr,
        port: u16,
        config: &DestConfig,
    ) -> Result<Arc<Self>> {
        let dest = Arc::new(
            Dest {
                af,
                addr,
                port,
                fwd_method: Atomic::new(0),
                weight: Atomic::new(0),
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
                stats: Stats::new(),
            },
            GFP_KERNEL,
        )?;
        dest.apply(config);
        Ok(dest)
    }

    /// Applies NEW_DEST / SET_DEST settings (`__ip_vs_update_dest`).
    pub(crate) fn apply(&self, config: &DestConfig) {
        self.fwd_method
            .store(config.fwd_method & uapi::fwd::MASK, Relaxed);
        self.weight.store(config.weight, Relaxed);
        self.tun_type.store(u32::from(config.tun_type), Relaxed);
        self.tun_port.store(u32::from(config.tun_port), Relaxed);
        self.tun_flags.store(u32::from(config.tun_flags), Relaxed);
        self.u_threshold.store(config.u_threshold, Relaxed);
        self.l_threshold.store(config.l_threshold, Relaxed);
        self.update_overload();
        self.available.store(true, Relaxed);
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
            self.overloaded.store(false, Relaxed);
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
    pub(crate) scheduling: SpinLockIrq<Scheduling>,
    /// Traffic counters.
    pub(crate) stats: Stats,
}

impl Service {
    /// A new service with no destinations.
    pub(crate) fn new(
        key: ServiceKey,
        scheduler: Option<Scheduler>,
        config: &ServiceConfig,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Service {
                key,
                flags: Atomic::new(config.flags | uapi::svc_flags::HASHED),
                timeout: Atomic::new(config.timeout),
                netmask: Atomic::new(config.netmask),
                scheduling <- new_spinlock_irq!(Scheduling {
                    scheduler,
                    dests: KVec::new(),
                }),
                stats: Stats::new(),
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

    /// The destination with this address and port (`ip_vs_lookup_dest`).
    pub(crate) fn find_dest(&self, af: u16, addr: &InetAddr, port: u16) -> Option<Arc<Dest>> {
        let scheduling = self.scheduling.lock();
        scheduling
            .dests
            .iter()
            .find(|d| d.af == af && d.port == port && &d.addr == addr)
            .cloned()
    }

    /// Number of destinations.
    pub(crate) fn dest_count(&self) -> usize {
        self.scheduling.lock().dests.len()
    }

    /// Inserts `dest` at the head of the list and tells the scheduler (`list_add_rcu`,
    /// `add_dest`). Allocates before taking the lock.
    pub(crate) fn add_dest(&self, dest: Arc<Dest>) -> Result {
        let count = self.dest_count();
        let mut list = KVec::with_capacity(count.saturating_add(1), GFP_KERNEL)?;
        let mut scheduling = self.scheduling.lock();
        // The list only changes under the namespace's control mutex, which the caller holds,
        // so `count` is still its length and the pushes below cannot need memory.
        list.push_within_capacity(dest).map_err(|_| ENOMEM)?;
        for d in scheduling.dests.iter() {
            list.push_within_capacity(d.clone()).map_err(|_| ENOMEM)?;
        }
        core::mem::swap(&mut scheduling.dests, &mut list);
        let Scheduling { scheduler, dests } = &mut *scheduling;
        if let Some(s) = scheduler {
            s.dest_added(dests, 0);
        }
        drop(scheduling);
        // The old list (references only) is dropped outside the lock.
        drop(list);
        Ok(())
    }

    /// Unlinks `dest` from the list and tells the scheduler (`__ip_vs_unlink_dest`, `del_dest`).
    pub(crate) fn remove_dest(&self, dest: &Arc<Dest>) -> Result {
        let count = self.dest_count();
        let mut list = KVec::with_capacity(count, GFP_KERNEL)?;
        let mut scheduling = self.scheduling.lock();
        let mut removed = None;
        for (i, d) in scheduling.dests.iter().enumerate() {
            if Arc::ptr_eq(d, dest) {
                removed = Some(i);
            } else {
                list.push_within_capacity(d.clone()).map_err(|_| ENOMEM)?;
            }
        }
        let Some(index) = removed else {
            return Err(ENOENT);
        };
        core::mem::swap(&mut scheduling.dests, &mut list);
        let Scheduling { scheduler, dests } = &mut *scheduling;
        if let Some(s) = scheduler {
            s.dest_removed(dests, index);
        }
        drop(scheduling);
        dest.available.store(false, Relaxed);
        drop(list);
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

    /// Replaces the scheduler (SET_SERVICE with another name); `None` when unknown.
    pub(crate) fn rebind_scheduler(&self, name: &[u8]) -> Result {
        let mut scheduling = self.scheduling.lock();
        if name == b"none" {
            scheduling.scheduler = None;
            return Ok(());
        }
        if scheduling
            .scheduler
            .as_ref()
            .map(Scheduler::name)
            .map(str::as_bytes)
            == Some(name)
        {
            return Ok(());
        }
        let new = Scheduler::by_name(name, &scheduling.dests).ok_or(ENOENT)?;
        scheduling.scheduler = Some(new);
        Ok(())
    }

    /// Applies SET_SERVICE settings.
    pub(crate) fn apply(&self, config: &ServiceConfig) {
        self.flags
            .store(config.flags | uapi::svc_flags::HASHED, Relaxed);
        self.timeout.store(config.timeout, Relaxed);
        self.netmask.store(config.netmask, Relaxed);
    }

    /// Unlinks every destination (service deletion or flush).
    pub(crate) fn remove_all_dests(&self) {
        let mut list = KVec::new();
        {
            let mut scheduling = self.scheduling.lock();
            core::mem::swap(&mut scheduling.dests, &mut list);
        }
        for d in list.iter() {
            d.available.store(false, Relaxed);
        }
    }
}
