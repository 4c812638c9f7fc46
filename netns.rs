// SPDX-License-Identifier: GPL-2.0

//! The state rust_ipvs keeps for each network namespace (C: `struct netns_ipvs`).
//!
//! Lock order: [`NetState::control`] is the outermost lock, then a service's scheduling lock.
//! The packet path takes no namespace-wide lock.

use crate::{
    ctl::{
        service::Stats, //
        Control,
    },
    ffi::{
        net::Net, //
        netfilter::HookRegistration,
        proc::ProcRegistration,
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
}

impl NetState {
    /// Allocates the state of a new namespace; nothing is registered yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(NetState {
                control <- new_mutex!(Control::new()),
                timeouts: Timeouts::new(),
                total: Stats::new(),
            }),
            GFP_KERNEL,
        )
    }

    /// Starts serving the namespace: registers its hooks.
    pub(crate) fn start(&self, net: &Net) -> Result {
        let mut control = self.control.lock();
        if control.proc_files.is_none() {
            control.proc_files = Some(ProcRegistration::new(net)?);
        }
        if control.hooks.is_none() {
            control.hooks = Some(HookRegistration::new(net)?);
        }
        Ok(())
    }

    /// Stops serving the namespace: unregisters its hooks, waits for running ones, and
    /// drops the configuration.
    pub(crate) fn stop(&self) {
        let (hooks, proc_files, services) = self.control.lock().flush_into();
        drop(hooks);
        drop(proc_files);
        drop(services);
    }
}
