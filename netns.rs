// SPDX-License-Identifier: GPL-2.0

//! The state rust_ipvs keeps for each network namespace (C: `struct netns_ipvs`).
//!
//! Lock order: [`NetState::control`] is the outermost lock, then a service's scheduling lock.
//! The packet path takes no namespace-wide lock.

use crate::{
    conn::ConnTable,
    ctl::{
        service::Service, //
        uapi,
    },
    ctl::{
        service::Stats, //
        Control,
    },
    ffi::{
        net::{
            Net, //
            NetRef,
        },
        proc::ProcRegistration,
        rcu::RcuArc,
        sysctl::{
            Sysctl, //
            SysctlRegistration,
            Sysctls,
        },
    },
    proto::{
        tcp_state::{
            self, //
            TcpState,
        },
        udp_state,
    },
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Atomic, //
            Relaxed,
        },
        Arc, //
        Mutex,
    },
};

/// The three timeouts SET_CONFIG and GET_CONFIG carry, in seconds.
#[derive(Clone, Copy)]
pub(crate) struct TimeoutValues {
    /// TCP ESTABLISHED.
    pub(crate) tcp: u32,
    /// TCP FIN_WAIT.
    pub(crate) tcp_fin: u32,
    /// UDP.
    pub(crate) udp: u32,
}

/// Per-namespace protocol timeouts in seconds (C: `pd->timeout_table`).
pub(crate) struct Timeouts {
    /// TCP timeout of each state, indexed by [`TcpState::index`].
    pub(crate) tcp: [Atomic<u32>; TcpState::COUNT],
    /// UDP timeout.
    pub(crate) udp: Atomic<u32>,
}

impl Timeouts {
    /// The C defaults.
    fn new() -> Self {
        let d = tcp_state::DEFAULT_TIMEOUTS;
        Timeouts {
            tcp: [
                Atomic::new(d[0]),
                Atomic::new(d[1]),
                Atomic::new(d[2]),
                Atomic::new(d[3]),
                Atomic::new(d[4]),
                Atomic::new(d[5]),
                Atomic::new(d[6]),
                Atomic::new(d[7]),
                Atomic::new(d[8]),
                Atomic::new(d[9]),
                Atomic::new(d[10]),
            ],
            udp: Atomic::new(udp_state::DEFAULT_TIMEOUTS[0]),
        }
    }

    /// The timeout of a TCP state.
    pub(crate) fn tcp_state(&self, state: TcpState) -> u32 {
        self.tcp.get(state.index()).map_or(0, |t| t.load(Relaxed))
    }

    /// The values GET_CONFIG reports.
    pub(crate) fn get(&self) -> TimeoutValues {
        TimeoutValues {
            tcp: self.tcp_state(TcpState::Established),
            tcp_fin: self.tcp_state(TcpState::FinWait),
            udp: self.udp.load(Relaxed),
        }
    }

    /// Applies SET_CONFIG: zero leaves a value unchanged.
    pub(crate) fn set(&self, values: &TimeoutValues) {
        let store = |slot: Option<&Atomic<u32>>, value: u32| {
            if let (Some(slot), true) = (slot, value != 0) {
                slot.store(value, Relaxed);
            }
        };
        store(self.tcp.get(TcpState::Established.index()), values.tcp);
        store(self.tcp.get(TcpState::FinWait.index()), values.tcp_fin);
        store(Some(&self.udp), values.udp);
    }
}

/// A service's identity in lookup order: firewall mark (0 for address services), family,
/// protocol, port, address.
type LookupKey = (u32, u16, u16, u16, [u8; 16]);

/// The lookup key of a service.
fn lookup_key(key: &crate::ctl::service::ServiceKey) -> LookupKey {
    (key.fwmark, key.af, key.protocol, key.port, key.addr)
}

/// The services as the packet path sees them: an immutable snapshot, replaced as a whole by
/// the control path under RCU.
pub(crate) struct ServiceTable {
    /// Every service of the namespace.
    pub(crate) services: KVec<Arc<Service>>,
}

impl ServiceTable {
    /// A snapshot of `services`, ordered for lookups.
    pub(crate) fn new(mut services: KVec<Arc<Service>>) -> Self {
        services
            .as_mut_slice()
            .sort_unstable_by_key(|s| lookup_key(&s.key));
        ServiceTable { services }
    }

    /// The service with exactly this lookup key (binary search).
    fn get(&self, key: &LookupKey) -> Option<Arc<Service>> {
        let index = self
            .services
            .binary_search_by_key(key, |s| lookup_key(&s.key))
            .ok()?;
        self.services.get(index).cloned()
    }

    /// The service a packet is for (`ip_vs_service_find`): firewall-mark services first when
    /// the packet is marked, then by protocol, address and port.
    pub(crate) fn find(
        &self,
        mark: u32,
        protocol: u8,
        daddr: [u8; 4],
        dport: u16,
    ) -> Option<Arc<Service>> {
        let by_mark = (mark != 0)
            .then(|| self.get(&(mark, uapi::AF_INET, uapi::IPPROTO_TCP, 0, [0; 16])))
            .flatten();
        by_mark.or_else(|| {
            let addr = crate::conn::widen(daddr);
            self.get(&(0, uapi::AF_INET, u16::from(protocol), dport, addr))
        })
    }

    /// Whether `addr:port` is a NAT real server of some service (`ip_vs_has_real_service`).
    pub(crate) fn has_real_service(&self, protocol: u8, addr: [u8; 4], port: u16) -> bool {
        self.services.iter().any(|s| {
            (s.key.protocol == u16::from(protocol) || s.key.fwmark != 0)
                && s.find_dest(uapi::AF_INET, &crate::conn::widen(addr), port)
                    .is_some_and(|d| d.fwd_method.load(Relaxed) == uapi::fwd::MASQ)
        })
    }
}

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// Configuration: serialises changes and namespace start/stop.
    #[pin]
    pub(crate) control: Mutex<Control>,
    /// Protocol timeouts.
    pub(crate) timeouts: Timeouts,
    /// Totals of every service (`ipvs->tot_stats`).
    pub(crate) total: Stats,
    /// Sysctl settings.
    pub(crate) sysctl: Sysctls,
    /// The services, for the packet path; empty until the first service.
    pub(crate) services: RcuArc<ServiceTable>,
    /// The connection table, allocated with the first service (as C allocates `conn_tab`).
    pub(crate) conns: RcuArc<ConnTable>,
    /// The namespace itself.
    pub(crate) net: NetRef,
    /// Seconds the timer has run, which paces the rate estimator.
    ticks: Atomic<u64>,
}

impl NetState {
    /// The namespace's one-second timer (softirq): expires connections and, every other
    /// second, updates the rates (C's estimator period is two seconds) unless
    /// `run_estimation` is 0.
    pub(crate) fn tick(&self) {
        crate::conn::gc(self);
        if self.ticks.fetch_add(1, Relaxed) % 2 == 1 && self.sysctl.get(Sysctl::RunEstimation) != 0
        {
            crate::ctl::estimate(self);
        }
    }

    /// Allocates the state of a new namespace; nothing is registered yet.
    pub(crate) fn new(net: NetRef) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(NetState {
                control <- new_mutex!(Control::new()),
                timeouts: Timeouts::new(),
                total: Stats::new(),
                sysctl: Sysctls::new(),
                services: RcuArc::new(),
                conns: RcuArc::new(),
                net,
                ticks: Atomic::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// The service snapshot and connection table the packet path works with, once the first
    /// service exists (C: `ipvs->enable`); valid for the read-side section of `guard`.
    pub(crate) fn tables<'g>(
        &self,
        guard: &'g kernel::sync::rcu::Guard,
    ) -> Option<(&'g ServiceTable, &'g ConnTable)> {
        Some((self.services.get(guard)?, self.conns.get(guard)?))
    }

    /// Starts serving the namespace: creates its /proc files. Hooks come with the first
    /// service.
    pub(crate) fn start(&self, net: &Net) -> Result {
        let mut control = self.control.lock();
        if control.proc_files.is_none() {
            control.proc_files = Some(ProcRegistration::new(net)?);
        }
        if control.sysctls.is_none() {
            control.sysctls = Some(SysctlRegistration::new(net, &self.sysctl)?);
        }
        Ok(())
    }

    /// Stops serving the namespace: unregisters its hooks, waits for running ones, and
    /// drops the configuration.
    pub(crate) fn stop(&self) {
        let (hooks, proc_files, gc, services) = self.control.lock().flush_into();
        let sysctls = self.control.lock().sysctls.take();
        drop(hooks);
        drop(gc);
        drop(proc_files);
        drop(sysctls);
        self.services.replace(None);
        if let Some(conns) = self.conns.get_arc() {
            conns.flush();
        }
        self.conns.replace(None);
        drop(services);
    }
}
