// SPDX-License-Identifier: GPL-2.0

//! `net.ipv4.vs.*` of a namespace: the values the packet path and the control plane read, as
//! Rust atomics the registered table (shim.c, [`crate::ffi::sysctl`]) points at.
//!
//! Only sysctls that act as in C are registered. Those of features rust_ipvs does not have yet
//! (the memory-pressure defense `amemthresh`, `am_droprate`, `drop_entry`, `drop_packet`; the
//! sync daemon's `sync_*` and `backup_only`; `cache_bypass`, `pmtu_disc` of tunnels,
//! `sloppy_sctp`, `schedule_icmp`) come with them. `secure_tcp` 1 and 2 act as C does while
//! memory is plentiful (the normal state tables); 3 always selects the defense tables.

use kernel::{
    prelude::*,
    sync::{
        atomic::{
            Atomic, //
            Relaxed,
        },
        Arc,
    },
};

/// The registered sysctls, in the order of the table in shim.c.
#[derive(Clone, Copy)]
#[repr(usize)]
pub(crate) enum Sysctl {
    /// `conn_max`: connections a namespace may hold.
    ConnMax = 0,
    /// `conntrack`: keep conntrack entries for IPVS connections.
    Conntrack = 1,
    /// `secure_tcp`: the TCP state tables' defense level.
    SecureTcp = 2,
    /// `snat_reroute`: re-route replies after SNAT.
    SnatReroute = 3,
    /// `expire_nodest_conn`: expire connections whose real server is gone.
    ExpireNodestConn = 4,
    /// `sloppy_tcp`: let any TCP packet create a connection.
    SloppyTcp = 5,
    /// `expire_quiescent_template`: expire templates of weight-0 real servers.
    ExpireQuiescentTemplate = 6,
    /// `nat_icmp_send`: answer stray real-server packets with port unreachable.
    NatIcmpSend = 7,
    /// `conn_reuse_mode`: reschedule a SYN that reuses an old connection's tuple.
    ConnReuseMode = 8,
    /// `ignore_tunneled`: mark packets of unhandled protocols so their decapsulated inner
    /// packets pass IPVS untouched.
    IgnoreTunneled = 9,
    /// `run_estimation`: run the rate estimator.
    RunEstimation = 10,
    /// `lblc_expiration`: jiffies after which an unused lblc cache entry goes in the full
    /// check.
    LblcExpiration = 11,
    /// `lblcr_expiration`: the same for lblcr, and how long a server set stays unchanged
    /// before it sheds its most loaded member.
    LblcrExpiration = 12,
    /// `svc_lfactor`: the service table's load factor, a shift of its size (-8 to 8).
    SvcLfactor = 13,
    /// `conn_lfactor`: the connection table's load factor (-8 to 8).
    ConnLfactor = 14,
}

/// Number of registered sysctls.
pub(crate) const COUNT: usize = 15;

/// The default of `lblc_expiration` and `lblcr_expiration` in jiffies (a day).
const LOCALITY_EXPIRATION: i32 =
    (crate::sched::lblc::DEFAULT_EXPIRATION_SECS as i32) * (kernel::bindings::CONFIG_HZ as i32);

/// The C defaults, indexed by [`Sysctl`].
const DEFAULTS: [i32; COUNT] = [
    1 << 30, // conn_max (IP_VS_CONN_MAX)
    0,       // conntrack
    0,       // secure_tcp
    1,       // snat_reroute
    0,       // expire_nodest_conn
    0,       // sloppy_tcp
    0,       // expire_quiescent_template
    0,       // nat_icmp_send
    1,       // conn_reuse_mode
    0,       // ignore_tunneled
    1,       // run_estimation
    LOCALITY_EXPIRATION,
    LOCALITY_EXPIRATION,
    -2, // svc_lfactor (-3 in the initial namespace: `ip_vs_svc_default_load_factor`)
    -2, // conn_lfactor (-4 in the initial namespace: `ip_vs_conn_default_load_factor`)
];

/// A namespace's sysctl values, shared with their registration.
pub(crate) struct Sysctls {
    /// The values, indexed by [`Sysctl`].
    values: Arc<[Atomic<i32>; COUNT]>,
}

impl Sysctls {
    /// The C defaults, for the initial namespace when `init`.
    pub(crate) fn new(init: bool) -> Result<Self> {
        let sysctls = Sysctls {
            values: Arc::new(DEFAULTS.map(Atomic::new), GFP_KERNEL)?,
        };
        if init {
            // The initial namespace grows its service table at a 12.5% load, others at 25%,
            // and its connection table at 6.25% (C counts two nodes per NAT connection),
            // others at 25%.
            sysctls.set(Sysctl::SvcLfactor, -3);
            sysctls.set(Sysctl::ConnLfactor, -4);
        }
        Ok(sysctls)
    }

    /// Sets `sysctl` to `value`.
    fn set(&self, sysctl: Sysctl, value: i32) {
        if let Some(v) = self.values.get(sysctl as usize) {
            v.store(value, Relaxed);
        }
    }

    /// The current value of `sysctl`.
    pub(crate) fn get(&self, sysctl: Sysctl) -> i32 {
        self.values
            .get(sysctl as usize)
            .map_or(0, |v| v.load(Relaxed))
    }

    /// The value of a sysctl that holds jiffies (`proc_dointvec_jiffies`), as a duration: C
    /// adds the `int` to `unsigned long` jiffies, so a negative value counts as its
    /// sign-extended bits.
    pub(crate) fn jiffies(&self, sysctl: Sysctl) -> u64 {
        i64::from(self.get(sysctl)) as u64
    }

    /// Whether `sysctl` is non-zero.
    pub(crate) fn enabled(&self, sysctl: Sysctl) -> bool {
        self.get(sysctl) != 0
    }

    /// The values, for registering the table.
    pub(crate) fn values(&self) -> Arc<[Atomic<i32>; COUNT]> {
        self.values.clone()
    }
}
