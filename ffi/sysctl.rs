// SPDX-License-Identifier: GPL-2.0

//! `net.ipv4.vs.*`: the C sysctls of a namespace, registered until dropped. The values live in
//! [`Sysctls`] (Rust atomics the packet path reads); the table in shim.c points at them.

use super::{
    net::Net, //
    shim,
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::atomic::{
        Atomic, //
        Relaxed,
    },
};

/// The sysctls, in the order of the table in shim.c.
#[derive(Clone, Copy)]
#[repr(usize)]
#[allow(
    dead_code,
    reason = "every C sysctl is registered; the packet path reads a subset"
)]
pub(crate) enum Sysctl {
    /// `amemthresh`.
    Amemthresh = 0,
    /// `am_droprate`.
    AmDroprate = 1,
    /// `conn_max`.
    ConnMax = 2,
    /// `drop_entry`.
    DropEntry = 3,
    /// `drop_packet`.
    DropPacket = 4,
    /// `conntrack`.
    Conntrack = 5,
    /// `secure_tcp`.
    SecureTcp = 6,
    /// `snat_reroute`.
    SnatReroute = 7,
    /// `sync_version`.
    SyncVersion = 8,
    /// `sync_ports`.
    SyncPorts = 9,
    /// `sync_persist_mode`.
    SyncPersistMode = 10,
    /// `sync_sock_size`.
    SyncSockSize = 11,
    /// `cache_bypass`.
    CacheBypass = 12,
    /// `expire_nodest_conn`.
    ExpireNodestConn = 13,
    /// `sloppy_tcp`.
    SloppyTcp = 14,
    /// `sloppy_sctp`.
    SloppySctp = 15,
    /// `expire_quiescent_template`.
    ExpireQuiescentTemplate = 16,
    /// `sync_refresh_period`.
    SyncRefreshPeriod = 17,
    /// `sync_retries`.
    SyncRetries = 18,
    /// `nat_icmp_send`.
    NatIcmpSend = 19,
    /// `pmtu_disc`.
    PmtuDisc = 20,
    /// `backup_only`.
    BackupOnly = 21,
    /// `conn_reuse_mode`.
    ConnReuseMode = 22,
    /// `schedule_icmp`.
    ScheduleIcmp = 23,
    /// `ignore_tunneled`.
    IgnoreTunneled = 24,
    /// `run_estimation`.
    RunEstimation = 25,
}

/// Number of sysctls.
const COUNT: usize = 26;

/// The C defaults, indexed by [`Sysctl`].
const DEFAULTS: [i32; COUNT] = [
    1024,       // amemthresh
    10,         // am_droprate
    1073741824, // conn_max
    0,          // drop_entry
    0,          // drop_packet
    0,          // conntrack
    0,          // secure_tcp
    1,          // snat_reroute
    1,          // sync_version
    1,          // sync_ports
    0,          // sync_persist_mode
    0,          // sync_sock_size
    0,          // cache_bypass
    0,          // expire_nodest_conn
    0,          // sloppy_tcp
    0,          // sloppy_sctp
    0,          // expire_quiescent_template
    0,          // sync_refresh_period
    0,          // sync_retries
    0,          // nat_icmp_send
    1,          // pmtu_disc
    0,          // backup_only
    1,          // conn_reuse_mode
    0,          // schedule_icmp
    0,          // ignore_tunneled
    1,          // run_estimation
];

/// A namespace's sysctl values.
pub(crate) struct Sysctls {
    /// The values, indexed by [`Sysctl`].
    values: [Atomic<i32>; COUNT],
}

impl Sysctls {
    /// The C defaults.
    pub(crate) fn new() -> Self {
        Sysctls {
            values: DEFAULTS.map(Atomic::new),
        }
    }

    /// The current value of `sysctl`.
    pub(crate) fn get(&self, sysctl: Sysctl) -> i32 {
        self.values
            .get(sysctl as usize)
            .map_or(0, |v| v.load(Relaxed))
    }
}

/// The registered `net/ipv4/vs` table of a namespace.
///
/// # Invariants
///
/// `header` is a registered table whose data pointers point into the [`Sysctls`] that outlives
/// this registration (the owner drops this first).
pub(crate) struct SysctlRegistration {
    /// The table header.
    header: *mut bindings::ctl_table_header,
}

// SAFETY: the registration is a handle; unregistering may happen from any task.
unsafe impl Send for SysctlRegistration {}
// SAFETY: `&SysctlRegistration` exposes nothing.
unsafe impl Sync for SysctlRegistration {}

impl SysctlRegistration {
    /// Registers the table of `net` over `values`, which must outlive the registration.
    pub(crate) fn new(net: &Net, values: &Sysctls) -> Result<Self> {
        let data = values.values.each_ref().map(Atomic::as_ptr);
        let mut header = core::ptr::null_mut();
        // SAFETY: `net` is alive; `data` holds `COUNT` valid `int` pointers, which the caller
        // keeps alive until this registration is dropped; `header` is writable.
        to_result(unsafe {
            shim::rust_ipvs_sysctl_register(net.as_ptr(), data.as_ptr(), COUNT as u32, &mut header)
        })?;
        // INVARIANT: registered above over `values`.
        Ok(SysctlRegistration { header })
    }
}

impl Drop for SysctlRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new` (type invariant); waits for running handlers.
        unsafe { shim::rust_ipvs_sysctl_unregister(self.header) };
    }
}
