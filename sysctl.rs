// SPDX-License-Identifier: GPL-2.0

//! `net.ipv4.vs.*` of a namespace: the values the packet path and the control plane read, as
//! Rust atomics the registered table (shim.c, [`crate::ffi::sysctl`]) points at.
//!
//! `conn_max`, the defense modes (`drop_entry`, `drop_packet`, `secure_tcp`) and the
//! estimator's `run_estimation` and `est_nice` are written through [`Sysctls::write`], which
//! checks them as C's handlers do; `est_cpulist`, a CPU list, is the estimator thread's
//! ([`crate::ctl::estimator`]). In a namespace of an unprivileged user namespace, the
//! estimator's settings and the load factors are read-only ([`READ_ONLY_UNPRIVILEGED`]).

use crate::ffi::atomic::Atomic;
use kernel::{
    prelude::*,
    sync::{atomic::Relaxed, Arc},
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
    /// `amemthresh`: the available memory, in pages, below which the defense acts.
    Amemthresh = 15,
    /// `am_droprate`: `drop_packet` 3 drops one new-connection packet out of this many.
    AmDroprate = 16,
    /// `drop_entry`: drop connection entries at random when memory is short (0 to 3).
    DropEntry = 17,
    /// `drop_packet`: drop new-connection packets when memory is short (0 to 3).
    DropPacket = 18,
    /// `pmtu_disc`: tunnels copy DF and refuse packets too big for the path; without it they
    /// fragment them.
    PmtuDisc = 19,
    /// `sloppy_sctp`: let any SCTP packet but an ABORT create a connection, not only INIT.
    SloppySctp = 20,
    /// `cache_bypass`: a packet to a fwmark service without an available real server goes
    /// on to its own destination, as a connection of the bypass transmitter.
    CacheBypass = 21,
    /// `sync_version`: the sync protocol version a master sends (0 or 1).
    SyncVersion = 22,
    /// `sync_ports`: a daemon's threads and ports (a power of two, 64 at most in use).
    SyncPorts = 23,
    /// `sync_persist_mode`: send templates, not the connections they control.
    SyncPersistMode = 24,
    /// `sync_qlen_max`: messages a master thread queues at most.
    SyncQlenMax = 25,
    /// `sync_sock_size`: a daemon socket's buffer size (0: the default).
    SyncSockSize = 26,
    /// `sync_refresh_period`: resend a connection whose expiry moved this far, in jiffies.
    SyncRefreshPeriod = 27,
    /// `sync_retries`: resends within a refresh period (0 to 3).
    SyncRetries = 28,
    /// `backup_only`: a backup director does not balance (its hooks pass everything).
    BackupOnly = 29,
    /// `schedule_icmp`: an ICMP error about a packet of no connection schedules the quoted
    /// packet's connection and is forwarded to its real server.
    ScheduleIcmp = 30,
    /// `est_nice`: the estimator thread's nice level (-20 to 19).
    EstNice = 31,
    /// `sync_threshold`, first value: the client packet that sends a connection first.
    SyncThreshold = 32,
    /// `sync_threshold`, second value (`sync_period`): and every so many packets after. Not an
    /// entry of its own: the `sync_threshold` entry reads and writes both.
    SyncPeriod = 33,
}

/// Number of values.
pub(crate) const COUNT: usize = 34;

/// Number of the registered table's entries over values: every value but
/// [`Sysctl::SyncPeriod`], which the `sync_threshold` entry covers with
/// [`Sysctl::SyncThreshold`] (they are adjacent). The table's last entry, `est_cpulist`, is
/// over no value.
pub(crate) const TABLE_LEN: usize = 33;

/// The index of the `est_cpulist` entry in the table, after those over values.
const EST_CPULIST_ENTRY: usize = TABLE_LEN;

/// The lowest nice level (`MIN_NICE`).
const MIN_NICE: i32 = -20;

/// The highest nice level (`MAX_NICE`).
const MAX_NICE: i32 = 19;

/// The largest `conn_max` (C: `IP_VS_CONN_MAX` on 64-bit).
pub(crate) const CONN_MAX: i32 = 1 << 30;

/// The sysctls a namespace owned by an unprivileged user namespace may only read, as bits of
/// [`Sysctl`] indices (C makes them 0444 there).
pub(crate) const READ_ONLY_UNPRIVILEGED: u64 = (1 << Sysctl::RunEstimation as u64)
    | (1 << Sysctl::EstNice as u64)
    | (1 << EST_CPULIST_ENTRY as u64)
    | (1 << Sysctl::SvcLfactor as u64)
    | (1 << Sysctl::ConnLfactor as u64)
    | (1 << Sysctl::SyncQlenMax as u64)
    | (1 << Sysctl::SyncSockSize as u64);

/// The initial namespace's `conn_max`, which a new namespace inherits as its value and its
/// limit (C reads `init_net`'s table entry).
static INIT_NET_CONN_MAX: Atomic<i32> = Atomic::new(CONN_MAX);

/// The default of `lblc_expiration` and `lblcr_expiration` in jiffies (a day).
const LOCALITY_EXPIRATION: i32 =
    (crate::sched::lblc::DEFAULT_EXPIRATION_SECS as i32) * (kernel::bindings::CONFIG_HZ as i32);

/// The C defaults, indexed by [`Sysctl`].
const DEFAULTS: [i32; COUNT] = [
    CONN_MAX, // conn_max (IP_VS_CONN_MAX; another namespace inherits the initial one's)
    0,        // conntrack
    0,        // secure_tcp
    1,        // snat_reroute
    0,        // expire_nodest_conn
    0,        // sloppy_tcp
    0,        // expire_quiescent_template
    0,        // nat_icmp_send
    1,        // conn_reuse_mode
    0,        // ignore_tunneled
    1,        // run_estimation
    LOCALITY_EXPIRATION,
    LOCALITY_EXPIRATION,
    -2,   // svc_lfactor (-3 in the initial namespace: `ip_vs_svc_default_load_factor`)
    -2,   // conn_lfactor (-4 in the initial namespace: `ip_vs_conn_default_load_factor`)
    1024, // amemthresh
    10,   // am_droprate
    0,    // drop_entry
    0,    // drop_packet
    1,    // pmtu_disc
    0,    // sloppy_sctp
    0,    // cache_bypass
    1,    // sync_version
    1,    // sync_ports
    0,    // sync_persist_mode
    0,    // sync_qlen_max (set per namespace: a 32nd of the free buffer pages)
    0,    // sync_sock_size
    0,    // sync_refresh_period
    0,    // sync_retries
    0,    // backup_only
    0,    // schedule_icmp
    0,    // est_nice (IPVS_EST_NICE)
    3,    // sync_threshold
    50,   // sync_period
];

/// A namespace's sysctl values, shared with their registration.
pub(crate) struct Sysctls {
    /// The values, indexed by [`Sysctl`].
    values: Arc<[Atomic<i32>; COUNT]>,
    /// The most a writer without `CAP_NET_ADMIN` may set `conn_max` to (C:
    /// `conn_max_limit`): what the initial namespace's was when this one was created, and
    /// whatever a privileged writer set last.
    conn_max_limit: Atomic<i32>,
    /// Whether these are the initial namespace's.
    init: bool,
}

/// What a checked write changed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Nothing the defense reads.
    Value,
    /// A defense mode: the defense level is updated at once (C: `proc_do_defense_mode`).
    DefenseMode,
    /// A setting of the estimator thread, which restarts with it (C:
    /// `ip_vs_est_reload_start`).
    Estimator,
    /// `svc_lfactor`: the service table is resized for it at once (C:
    /// `ipvs_proc_svc_lfactor` queues the resize work).
    ServiceTable,
    /// `conn_lfactor`: the connection table is resized for it at once (C:
    /// `ipvs_proc_conn_lfactor` queues the resize work).
    ConnTable,
}

impl Sysctls {
    /// The C defaults, for the initial namespace when `init`.
    pub(crate) fn new(init: bool) -> Result<Self> {
        let conn_max = if init {
            CONN_MAX
        } else {
            INIT_NET_CONN_MAX.load(Relaxed)
        };
        let sysctls = Sysctls {
            values: Arc::new(DEFAULTS.map(Atomic::new), GFP_KERNEL)?,
            conn_max_limit: Atomic::new(conn_max),
            init,
        };
        sysctls.set(Sysctl::ConnMax, conn_max);
        let qlen_max = crate::ffi::sock::free_buffer_pages() / 32;
        sysctls.set(
            Sysctl::SyncQlenMax,
            i32::try_from(qlen_max).unwrap_or(i32::MAX),
        );
        if init {
            INIT_NET_CONN_MAX.store(conn_max, Relaxed);
            // The initial namespace grows its service table at a 12.5% load, others at 25%,
            // and its connection table at 6.25% (C counts two nodes per NAT connection),
            // others at 25%.
            sysctls.set(Sysctl::SvcLfactor, -3);
            sysctls.set(Sysctl::ConnLfactor, -4);
        }
        Ok(sysctls)
    }

    /// Sets `sysctl` to `value`.
    pub(crate) fn set(&self, sysctl: Sysctl, value: i32) {
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

    /// Takes a write of `value` to the sysctl at `index` (in [`Sysctl`]'s order), checked as
    /// C's handler of that sysctl does; `privileged` when the writer has `CAP_NET_ADMIN` in the
    /// initial user namespace. Callers serialise writes (C: the service mutex).
    ///
    /// - `conn_max` (`proc_do_conn_max`): 0 to `IP_VS_CONN_MAX` for a privileged writer, who
    ///   also sets the namespace's limit; up to that limit for others; EINVAL beyond.
    /// - `drop_entry`, `drop_packet`, `secure_tcp` (`proc_do_defense_mode`): 0 to 3, EINVAL
    ///   otherwise; a change updates the defense level.
    /// - `run_estimation` (`ipvs_proc_run_estimation`): any value; `est_nice`
    ///   (`ipvs_proc_est_nice`): -20 to 19, EINVAL otherwise; a change restarts the
    ///   estimator.
    pub(crate) fn write(&self, index: usize, value: i32, privileged: bool) -> Result<Written> {
        let slot = self.values.get(index).ok_or(EINVAL)?;
        if index == Sysctl::ConnMax as usize {
            let max = if privileged {
                CONN_MAX
            } else {
                self.conn_max_limit.load(Relaxed)
            };
            if !(0..=max).contains(&value) {
                return Err(EINVAL);
            }
            if privileged {
                self.conn_max_limit.store(value, Relaxed);
            }
            slot.store(value, Relaxed);
            if self.init {
                INIT_NET_CONN_MAX.store(value, Relaxed);
            }
            return Ok(Written::Value);
        }
        let defense = [Sysctl::DropEntry, Sysctl::DropPacket, Sysctl::SecureTcp];
        if defense.iter().any(|s| *s as usize == index) {
            if slot.load(Relaxed) == value {
                return Ok(Written::Value);
            }
            if !(0..=3).contains(&value) {
                return Err(EINVAL);
            }
            slot.store(value, Relaxed);
            return Ok(Written::DefenseMode);
        }
        if index == Sysctl::SyncPorts as usize {
            // `proc_do_sync_ports`: a new value must be a power of two.
            if slot.load(Relaxed) != value {
                if value < 1 || value.count_ones() != 1 {
                    return Err(EINVAL);
                }
                slot.store(value, Relaxed);
            }
            return Ok(Written::Value);
        }
        if index == Sysctl::RunEstimation as usize || index == Sysctl::EstNice as usize {
            if index == Sysctl::EstNice as usize && !(MIN_NICE..=MAX_NICE).contains(&value) {
                return Err(EINVAL);
            }
            if slot.load(Relaxed) == value {
                return Ok(Written::Value);
            }
            slot.store(value, Relaxed);
            return Ok(Written::Estimator);
        }
        if index == Sysctl::SvcLfactor as usize || index == Sysctl::ConnLfactor as usize {
            // Within -8..8 (C's handlers); a table is resized for the value even unchanged.
            if !(-8..=8).contains(&value) {
                return Err(EINVAL);
            }
            slot.store(value, Relaxed);
            return Ok(if index == Sysctl::SvcLfactor as usize {
                Written::ServiceTable
            } else {
                Written::ConnTable
            });
        }
        // Every other sysctl is written by the kernel's own handlers.
        Err(EINVAL)
    }

    /// The values, for registering the table.
    pub(crate) fn values(&self) -> Arc<[Atomic<i32>; COUNT]> {
        self.values.clone()
    }
}
