// SPDX-License-Identifier: GPL-2.0

//! Connection synchronization between directors (C: `ip_vs_sync.c`).
//!
//! A master director multicasts the state of its connections; a backup director creates or
//! updates the same connections, bound to its own real servers, so that it carries them on
//! when the virtual addresses move to it.
//!
//! - The packet path ([`count_and_sync`]) decides whether a connection is sent
//!   ([`policy`]) and appends it to the current message of one of the master's ports
//!   ([`wire::MessageBuf`]), under that port's lock; a full message is queued.
//! - One kernel thread per port (`sync_ports`, C: `sync_thread_master`) sends the queue a
//!   moment after its first message (at once when eight are queued), and a message left
//!   partly filled for two seconds; over a UDP socket connected to the multicast group, port
//!   `mcast_port + id`.
//! - One kernel thread per port of a backup (`sync_thread_backup`) receives messages, checks
//!   them ([`wire::parse`]) and applies each entry ([`apply`], C: `ip_vs_proc_conn`).
//!
//! Lifetimes: the running daemons ([`Master`], [`Backup`]) are published in [`SyncState`]
//! for the packet path and the threads, which read them under RCU; the control path
//! (NEW_DAEMON / DEL_DAEMON, namespace exit) starts and stops them under the control mutex.
//! Stopping unpublishes the daemon, waits a grace period and drops it, which stops its
//! threads (each holds its port, not the daemon) and then releases the sockets.
//!
//! Lock order: the control mutex, then (through setsockopt) RTNL; a port's outbox lock is
//! taken alone.

pub(crate) mod policy;
pub(crate) mod wire;

use crate::ffi::atomic::Atomic;
use crate::ffi::rcu::{self, ReadSection};
use crate::{
    conn::{
        Conn, //
        ConnParams,
        PacketKey,
        Synced,
    },
    ffi::{
        bhlock::{
            new_spinlock_bh, //
            SpinLockBh,
        },
        kthread::{
            self, //
            KThread,
            ThreadKind,
            ThreadSpec,
        },
        log::{
            self, //
            ipvs_err,
            ipvs_info,
        },
        net::Net,
        proc::SeqFile,
        rcu::RcuArc,
        sock::{
            GroupAddr, //
            Interface,
            UdpSocket,
        },
        timer::jiffies,
    },
    netns::Ipvs,
    packet::sched_addr,
    proto::Proto,
    sched::persist::TemplateKey,
    service::{
        Dest, //
        ServiceKey,
    },
    sysctl::{
        Sysctl, //
        Sysctls,
    },
    uapi::{
        self, //
        conn_flags as flags,
        fwd,
    },
};
use core::fmt::Write;
use kernel::{
    bindings,
    prelude::*,
    sync::{atomic::Relaxed, Arc},
};
use wire::{
    MessageBuf, //
    SyncConn,
    Version,
};

/// Clock ticks per second.
const HZ: u64 = bindings::CONFIG_HZ as u64;
/// Queued messages that wake a master thread at once (`IPVS_SYNC_WAKEUP_RATE`).
const WAKEUP_RATE: usize = 8;
/// How long the first queued message waits for others (`IPVS_SYNC_SEND_DELAY`, HZ/50).
const SEND_DELAY: u64 = if HZ / 50 > 0 { HZ / 50 } else { 1 };
/// How often an idle master thread looks at its current message (`IPVS_SYNC_CHECK_PERIOD`).
const CHECK_PERIOD: u64 = HZ;
/// The age at which a partly filled message is sent (`IPVS_SYNC_FLUSH_TIME`).
const FLUSH_TIME: u64 = 2 * HZ;
/// The most threads (ports) a daemon runs (`IPVS_SYNC_PORTS_MAX`).
const PORTS_MAX: u32 = 64;
/// `IP_VS_STATE_MASTER`, `IP_VS_STATE_BACKUP`.
pub(crate) const STATE_MASTER: u32 = 1;
/// See [`STATE_MASTER`].
pub(crate) const STATE_BACKUP: u32 = 2;

/// A multicast group of a daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    /// IPv4 (`IPVS_DAEMON_ATTR_MCAST_GROUP`).
    V4([u8; 4]),
    /// IPv6 (`IPVS_DAEMON_ATTR_MCAST_GROUP6`).
    V6([u8; 16]),
}

/// A daemon's settings (C: `struct ipvs_sync_daemon_cfg`), as NEW_DAEMON gives them and
/// GET_DAEMON reports them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DaemonConfig {
    /// The multicast interface's name, NUL-padded (at most 15 bytes).
    pub(crate) ifname: [u8; 16],
    /// The sync ID (only its low byte goes on the wire).
    pub(crate) syncid: u32,
    /// The largest message (UDP payload); 0: from the interface's MTU.
    pub(crate) sync_maxlen: u16,
    /// The group; `None`: 224.0.0.81.
    pub(crate) group: Option<Group>,
    /// The base port; 0: 8848.
    pub(crate) port: u16,
    /// The multicast TTL; 0: 1.
    pub(crate) ttl: u8,
}

impl DaemonConfig {
    /// The interface name without its padding.
    pub(crate) fn ifname(&self) -> &[u8] {
        let end = self.ifname.iter().position(|&b| b == 0).unwrap_or(16);
        self.ifname.get(..end).unwrap_or(&[])
    }

    /// The group and port of thread `id`.
    fn group_addr(&self, id: u32) -> GroupAddr {
        let port = self.port.wrapping_add(id as u16);
        match self.group {
            Some(Group::V6(addr)) => GroupAddr::V6(addr, port),
            Some(Group::V4(addr)) => GroupAddr::V4(addr, port),
            None => GroupAddr::V4(wire::DEFAULT_GROUP_V4, port),
        }
    }
}

/// A message being filled or queued, and when it was started (`struct ip_vs_sync_buff`).
struct Message {
    /// Its bytes.
    buf: MessageBuf<Bytes>,
    /// When it was created, in jiffies (`firstuse`).
    first_use: u64,
}

/// A message's buffer.
struct Bytes(KVec<u8>);

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl AsMut<[u8]> for Bytes {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Message {
    /// An empty message of `len` bytes at most (atomic allocation: the packet path).
    fn new(len: usize, version: Version, syncid: u8, now: u64) -> Option<Self> {
        let mut bytes = KVec::with_capacity(len, GFP_ATOMIC).ok()?;
        bytes.resize(len, 0, GFP_ATOMIC).ok()?;
        Some(Message {
            buf: MessageBuf::new(Bytes(bytes), version, syncid)?,
            first_use: now,
        })
    }
}

/// A master port's messages: the one being filled and those waiting for its thread.
struct Outbox {
    /// The message entries are appended to (`ms->sync_buff`).
    current: Option<Message>,
    /// Full messages waiting to be sent (`ms->sync_queue`), oldest first.
    queued: KVec<Message>,
    /// When the first of `queued` was queued.
    first_queued: u64,
}

/// One port of a master: a socket and its messages.
#[pin_data]
pub(crate) struct MasterPort {
    /// The socket connected to the group and this port.
    sock: UdpSocket,
    /// The messages, filled by the packet path and emptied by the port's thread.
    #[pin]
    outbox: SpinLockBh<Outbox>,
}

/// What a master thread finds to do.
enum Work {
    /// Send these queued messages.
    Queue(KVec<Message>),
    /// Send this message, left partly filled for [`FLUSH_TIME`].
    Flush(Message),
    /// Nothing yet: look again after this many jiffies (or when woken).
    Wait(u64),
}

impl MasterPort {
    /// Queues a full message (`sb_queue_tail`): dropped beyond `sync_qlen_max`. Whether the
    /// thread should be woken: for the first message (it sends after [`SEND_DELAY`]) and at
    /// [`WAKEUP_RATE`] messages.
    fn queue(
        outbox: &mut Outbox,
        message: Message,
        qlen_max: usize,
        now: u64,
        counters: &Counters,
    ) -> bool {
        if outbox.queued.len() >= qlen_max {
            counters.queue_full.fetch_add(1, Relaxed);
            return false;
        }
        if outbox.queued.is_empty() {
            outbox.first_queued = now;
        }
        if outbox.queued.push(message, GFP_ATOMIC).is_err() {
            return false;
        }
        matches!(outbox.queued.len(), 1 | WAKEUP_RATE)
    }

    /// The thread's next work at `now` (`next_sync_buff`).
    fn next_work(&self, now: u64) -> Work {
        let mut outbox = self.outbox.lock();
        if !outbox.queued.is_empty() {
            let waited = now.wrapping_sub(outbox.first_queued);
            if outbox.queued.len() >= WAKEUP_RATE || waited >= SEND_DELAY {
                return Work::Queue(core::mem::take(&mut outbox.queued));
            }
            return Work::Wait(SEND_DELAY - waited);
        }
        let stale = outbox
            .current
            .as_ref()
            .is_some_and(|m| m.buf.count() > 0 && now.wrapping_sub(m.first_use) >= FLUSH_TIME);
        match outbox.current.take() {
            Some(message) if stale => Work::Flush(message),
            current => {
                outbox.current = current;
                Work::Wait(CHECK_PERIOD)
            }
        }
    }

    /// Sends a message, waiting for send space while the socket has none
    /// (`ip_vs_send_sync_msg`); false when the thread was asked to stop meanwhile.
    fn send(&self, message: &Message, counters: &Counters) -> bool {
        loop {
            match self.sock.send(message.buf.bytes()) {
                Ok(_) => {
                    counters.sent.fetch_add(1, Relaxed);
                    return true;
                }
                Err(e) if e == EAGAIN => {
                    self.sock.wait_writable();
                    if kthread::should_stop() {
                        return false;
                    }
                }
                Err(e) => {
                    ipvs_err!("ip_vs_send_async error {}\n", e.to_errno());
                    return true;
                }
            }
        }
    }
}

/// A running daemon: its ports (`P`: [`MasterPort`] or [`BackupPort`]) and their threads.
pub(crate) struct Daemon<P> {
    /// Master or backup.
    kind: ThreadKind,
    /// Its settings.
    config: DaemonConfig,
    /// The largest message.
    maxlen: usize,
    /// Its ports, one per thread.
    ports: KVec<Arc<P>>,
    /// Their threads, stopped when the daemon is dropped.
    threads: KVec<KThread>,
}

impl<P> Drop for Daemon<P> {
    /// Logs each thread's stop as C's `stop_sync_thread` does; dropping the threads stops
    /// them.
    fn drop(&mut self) {
        let state = if self.kind == ThreadKind::Master {
            "master"
        } else {
            "backup"
        };
        for thread in self.threads.iter() {
            ipvs_info!("stopping {} sync thread {} ...\n", state, thread.pid());
        }
    }
}

/// A running master daemon.
pub(crate) type Master = Daemon<MasterPort>;

/// A running backup daemon.
pub(crate) type Backup = Daemon<BackupPort>;

impl<P: Send + Sync> Daemon<P> {
    /// Starts the threads of `ports` (of `kind`), then publishes the daemon in `slot` and
    /// wakes them: each finds its port there.
    fn launch(
        net: &Net,
        generation: u32,
        kind: ThreadKind,
        config: DaemonConfig,
        maxlen: usize,
        ports: KVec<Arc<P>>,
        slot: &RcuArc<Self>,
    ) -> Result {
        let count = u32::try_from(ports.len()).map_err(|_| EINVAL)?;
        let mut threads = KVec::with_capacity(ports.len(), GFP_KERNEL)?;
        for id in 0..count {
            let spec = ThreadSpec {
                kind,
                generation,
                id,
                nice: 0,
                cpus: None,
            };
            threads.push(
                KThread::start::<crate::pernet::NetState>(net, &spec)?,
                GFP_KERNEL,
            )?;
        }
        let daemon = Arc::new(
            Daemon {
                kind,
                config,
                maxlen,
                ports,
                threads,
            },
            GFP_KERNEL,
        )?;
        slot.replace(Some(daemon.clone()));
        for thread in daemon.threads.iter() {
            thread.wake();
        }
        Ok(())
    }
}

impl Master {
    /// Appends `conn` to its port's current message, starting another when it is full or of
    /// the other version (`ip_vs_sync_conn`'s buffer handling).
    fn push(&self, conn: &Conn, version: Version, qlen_max: usize, counters: &Counters) {
        let entry = sync_conn_of(conn);
        if version == Version::V0 && entry.ipv6 {
            return;
        }
        let id = self.port_of(conn);
        let (Some(port), Some(thread)) = (self.ports.get(id), self.threads.get(id)) else {
            return;
        };
        let now = jiffies();
        let mut wake = false;
        {
            let mut outbox = port.outbox.lock();
            if let Some(current) = &mut outbox.current {
                if current.buf.version() == version && current.buf.push(&entry) {
                    return;
                }
            }
            if let Some(full) = outbox.current.take() {
                wake = MasterPort::queue(&mut outbox, full, qlen_max, now, counters);
            }
            // As C sizes it: `sync_maxlen`, or this entry if that is more.
            let len = self.maxlen.max(wire::first_entry_len(version, &entry));
            let syncid = self.config.syncid as u8;
            match Message::new(len, version, syncid, now) {
                Some(mut message) => {
                    if message.buf.push(&entry) {
                        outbox.current = Some(message);
                    }
                }
                None => ipvs_err!("ip_vs_sync_buff_create failed.\n"),
            }
        }
        if wake {
            thread.wake();
        }
    }

    /// The port of a connection (`select_master_thread_id`: its address, hashed).
    fn port_of(&self, conn: &Conn) -> usize {
        let size_order = core::mem::size_of::<Conn>()
            .next_power_of_two()
            .trailing_zeros();
        let addr = core::ptr::from_ref(conn) as usize;
        (addr >> (1 + size_order)) & self.ports.len().saturating_sub(1)
    }
}

/// One port of a backup: a socket bound to the group and the port.
pub(crate) struct BackupPort {
    /// The socket.
    sock: UdpSocket,
}

/// What the daemons of a namespace did, since it was created (`/proc/net/ip_vs_sync_stats`,
/// which C does not have): what a backup received, applied and dropped, and why; what a
/// master sent and could not queue.
struct Counters {
    /// Messages a backup received.
    received: Atomic<u64>,
    /// Entries a backup applied.
    applied: Atomic<u64>,
    /// Entries a backup skipped as C does (flags, protocol, state, mandatory option, engine).
    skipped: Atomic<u64>,
    /// Messages (or their rest) dropped, by [`wire::Dropped`] in its order.
    dropped: [Atomic<u64>; 6],
    /// Messages a master sent.
    sent: Atomic<u64>,
    /// Full messages a master dropped for its queue being at `sync_qlen_max`.
    queue_full: Atomic<u64>,
}

impl Counters {
    /// All zero.
    fn new() -> Self {
        let zero = || Atomic::new(0);
        Counters {
            received: zero(),
            applied: zero(),
            skipped: zero(),
            dropped: [zero(), zero(), zero(), zero(), zero(), zero()],
            sent: zero(),
            queue_full: zero(),
        }
    }
}

/// The running daemons of a namespace, as the packet path and the threads read them.
pub(crate) struct SyncState {
    /// The master daemon, if one runs.
    master: RcuArc<Master>,
    /// The backup daemon, if one runs.
    backup: RcuArc<Backup>,
    /// What they did.
    counters: Counters,
}

impl SyncState {
    /// No daemon.
    pub(crate) fn new() -> Self {
        SyncState {
            master: RcuArc::new(),
            backup: RcuArc::new(),
            counters: Counters::new(),
        }
    }

    /// Writes the counters, one `name value` line each.
    pub(crate) fn write_stats(&self, out: &mut SeqFile) {
        let c = &self.counters;
        let dropped = |i: usize| c.dropped.get(i).map_or(0, |d| d.load(Relaxed));
        let _ = write!(
            out,
            "received {}\napplied {}\nskipped {}\ndropped_header {}\ndropped_size {}\n\
             dropped_syncid {}\ndropped_truncated {}\ndropped_version {}\ndropped_entry {}\n\
             sent {}\nqueue_full {}\n",
            c.received.load(Relaxed),
            c.applied.load(Relaxed),
            c.skipped.load(Relaxed),
            dropped(0),
            dropped(1),
            dropped(2),
            dropped(3),
            dropped(4),
            dropped(5),
            c.sent.load(Relaxed),
            c.queue_full.load(Relaxed),
        );
    }

    /// Whether a backup daemon runs and `backup_only` says the director only backs up
    /// (`sysctl_backup_only`): its hooks then pass everything.
    #[inline]
    pub(crate) fn backup_only(&self, sysctl: &Sysctls) -> bool {
        if !sysctl.enabled(Sysctl::BackupOnly) {
            return false;
        }
        let guard = rcu::read_lock();
        self.backup.get(&guard).is_some()
    }
}

/// The daemons' settings and thread count, under the control mutex (C: `sync_mutex`).
pub(crate) struct Daemons {
    /// The master's settings, while it runs.
    pub(crate) master: Option<DaemonConfig>,
    /// The backup's, while it runs.
    pub(crate) backup: Option<DaemonConfig>,
    /// Threads per daemon, fixed while either runs (`threads_mask + 1`).
    threads: u32,
}

impl Daemons {
    /// None running.
    pub(crate) fn new() -> Self {
        Daemons {
            master: None,
            backup: None,
            threads: 1,
        }
    }
}

/// Starts a daemon (`start_sync_thread`) in state `state` with `config`, C's defaults filled
/// in: ENODEV for an unknown interface, EEXIST when that daemon runs, EINVAL for another
/// state.
pub(crate) fn start(
    daemons: &mut Daemons,
    ipvs: &Ipvs,
    mut config: DaemonConfig,
    state: u32,
) -> Result {
    let net = ipvs.net.get();
    if daemons.master.is_none() && daemons.backup.is_none() {
        let ports = ipvs
            .sysctl
            .get(Sysctl::SyncPorts)
            .clamp(1, PORTS_MAX as i32);
        daemons.threads = ports as u32;
    }
    let count = daemons.threads;
    if config.port == 0 {
        config.port = wire::DEFAULT_PORT;
    }
    if config.ttl == 0 {
        config.ttl = 1;
    }
    let dev = Interface::lookup(net, config.ifname()).inspect_err(|_| {
        ipvs_err!("Unknown mcast interface: {}\n", log::name(config.ifname()));
    })?;
    let ipv6 = matches!(config.group, Some(Group::V6(_)));
    let hlen: u32 = if ipv6 { 40 + 8 } else { 20 + 8 };
    let backup = state == STATE_BACKUP;
    let mtu = if backup {
        dev.mtu.clamp(1500, 65535)
    } else {
        1500
    };
    let min_mtu = if backup { 1024 } else { 1 };
    config.sync_maxlen = if config.sync_maxlen != 0 {
        u32::from(config.sync_maxlen).clamp(min_mtu, 65535 - hlen) as u16
    } else {
        (mtu - hlen) as u16
    };
    let maxlen = usize::from(config.sync_maxlen);
    let sock_size = ipvs.sysctl.get(Sysctl::SyncSockSize);
    match state {
        STATE_MASTER => {
            if daemons.master.is_some() {
                return Err(EEXIST);
            }
            let mut ports = KVec::with_capacity(count as usize, GFP_KERNEL)?;
            for id in 0..count {
                let sock =
                    UdpSocket::sender(net, &dev, config.group_addr(id), config.ttl, sock_size)?;
                let port = Arc::pin_init(
                    pin_init!(MasterPort {
                        sock,
                        outbox <- new_spinlock_bh!(
                            Outbox {
                                current: None,
                                queued: KVec::new(),
                                first_queued: 0,
                            },
                            "rust_ipvs_sync_outbox"
                        ),
                    }),
                    GFP_KERNEL,
                )?;
                ports.push(port, GFP_KERNEL)?;
            }
            Daemon::launch(
                net,
                ipvs.generation,
                ThreadKind::Master,
                config,
                maxlen,
                ports,
                &ipvs.sync.master,
            )?;
            daemons.master = Some(config);
        }
        STATE_BACKUP => {
            if daemons.backup.is_some() {
                return Err(EEXIST);
            }
            let mut ports = KVec::with_capacity(count as usize, GFP_KERNEL)?;
            for id in 0..count {
                let sock = UdpSocket::receiver(net, &dev, config.group_addr(id), sock_size)?;
                ports.push(Arc::new(BackupPort { sock }, GFP_KERNEL)?, GFP_KERNEL)?;
            }
            Daemon::launch(
                net,
                ipvs.generation,
                ThreadKind::Backup,
                config,
                maxlen,
                ports,
                &ipvs.sync.backup,
            )?;
            daemons.backup = Some(config);
        }
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// Stops a daemon (`stop_sync_thread`): ESRCH when it does not run, EINVAL for another
/// state. Its threads end and its sockets close before this returns.
pub(crate) fn stop(daemons: &mut Daemons, ipvs: &Ipvs, state: u32) -> Result {
    match state {
        STATE_MASTER => {
            daemons.master.take().ok_or(ESRCH)?;
            ipvs.sync.master.replace(None);
        }
        STATE_BACKUP => {
            daemons.backup.take().ok_or(ESRCH)?;
            ipvs.sync.backup.replace(None);
        }
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// Stops both daemons (namespace exit).
pub(crate) fn stop_all(daemons: &mut Daemons, ipvs: &Ipvs) {
    let _ = stop(daemons, ipvs, STATE_MASTER);
    let _ = stop(daemons, ipvs, STATE_BACKUP);
}

/// Counts a client packet of `conn` and, on a master, sends the connection when it should
/// (the end of `ip_vs_in_hook`): a one-packet connection counts in its template.
#[inline(always)]
pub(crate) fn count_and_sync(ipvs: &Ipvs, rcu: &ReadSection, conn: &Conn) {
    let one_packet = conn.flags.load(Relaxed) & flags::ONE_PACKET != 0;
    let Some(master) = ipvs.sync.master.get(rcu) else {
        conn.count_in_packet();
        return;
    };
    let threshold = ipvs.sysctl.get(Sysctl::SyncThreshold);
    let pkts = if one_packet {
        threshold
    } else {
        conn.in_pkts.fetch_add(1, Relaxed).wrapping_add(1) as i32
    };
    sync_conn(ipvs, master, conn, pkts);
}

/// A master sends a template the expiry keeps for the connections it controls
/// (`ip_vs_conn_expire`'s `expire_later`), as on its threshold packet.
pub(crate) fn conn_kept(ipvs: &Ipvs, conn: &Conn) {
    let guard = rcu::read_lock();
    if let Some(master) = ipvs.sync.master.get(&guard) {
        sync_conn(ipvs, master, conn, ipvs.sysctl.get(Sysctl::SyncThreshold));
    }
}

/// `ip_vs_sync_conn`: sends `conn` if its `pkts`-th packet calls for it, then its controlling
/// template, whose own count goes up.
fn sync_conn(ipvs: &Ipvs, master: &Master, conn: &Conn, pkts: i32) {
    let sysctl = &ipvs.sysctl;
    let settings = policy::Settings {
        threshold: sysctl.get(Sysctl::SyncThreshold),
        period: sysctl.get(Sysctl::SyncPeriod),
        refresh_period: sysctl.get(Sysctl::SyncRefreshPeriod) as u32,
        retries: sysctl.get(Sysctl::SyncRetries),
        persist_mode: sysctl.enabled(Sysctl::SyncPersistMode),
        hz: HZ as u32,
    };
    let version = if sysctl.get(Sysctl::SyncVersion) == 0 {
        Version::V0
    } else {
        Version::V1
    };
    let qlen_max = usize::try_from(sysctl.get(Sysctl::SyncQlenMax)).unwrap_or(0);
    // Version 0 has no IPv6, and `ip_vs_sync_conn_v0` leaves a one-packet connection's
    // template alone as well.
    if version == Version::V0
        && (conn.af != uapi::AF_INET || conn.flags.load(Relaxed) & flags::ONE_PACKET != 0)
    {
        return;
    }
    let mut cp = conn;
    let mut pkts = pkts;
    loop {
        let one_packet = cp.flags.load(Relaxed) & flags::ONE_PACKET != 0;
        if !one_packet && needed(&settings, cp, pkts) {
            master.push(cp, version, qlen_max, &ipvs.sync.counters);
        }
        let Some(ct) = cp.control.as_deref() else {
            return;
        };
        pkts = if ct.is_template() {
            ct.in_pkts.fetch_add(1, Relaxed).wrapping_add(1) as i32
        } else {
            settings.threshold
        };
        cp = ct;
    }
}

/// `ip_vs_sync_conn_needed` on a connection: the decision of [`policy::decide`], then the
/// compare-and-exchange of its `sync_endtime` that one CPU wins.
fn needed(settings: &policy::Settings, conn: &Conn, pkts: i32) -> bool {
    let kind = match conn.protocol {
        uapi::ipproto::TCP => policy::Kind::Tcp,
        uapi::ipproto::SCTP => policy::Kind::Sctp,
        _ => policy::Kind::Other,
    };
    let mut in_persistence = false;
    let mut control = conn.control.as_deref();
    while let Some(ct) = control {
        if ct.is_template() {
            in_persistence = true;
            break;
        }
        control = ct.control.as_deref();
    }
    let state = conn.state();
    let view = policy::ConnView {
        template: conn.is_template(),
        in_persistence,
        kind,
        state,
        old_state: conn.old_state.load(Relaxed) as u32,
        timeout: u32::try_from(conn.timeout()).unwrap_or(u32::MAX),
    };
    let orig = conn.sync_endtime.load(Relaxed);
    let Some(send) = policy::decide(settings, &view, pkts, orig, jiffies() as u32) else {
        return false;
    };
    conn.old_state.store(state as i16, Relaxed);
    let won = conn
        .sync_endtime
        .cmpxchg(orig, send.endtime, Relaxed)
        .is_ok();
    won || send.force
}

/// A connection as a message carries it.
fn sync_conn_of(conn: &Conn) -> SyncConn {
    SyncConn {
        ipv6: conn.af == uapi::AF_INET6,
        protocol: conn.protocol,
        flags: conn.flags.load(Relaxed),
        // A template's state is whether it is assured (`IP_VS_CTPL_S_ASSURED`).
        state: if conn.is_template() {
            u16::from(conn.assured.load(Relaxed))
        } else {
            conn.state() as u16
        },
        cport: conn.cport,
        vport: conn.vport,
        dport: conn.dport(),
        fwmark: conn.fwmark,
        timeout_secs: u32::try_from(conn.timeout() / HZ).unwrap_or(u32::MAX),
        caddr: conn.caddr,
        vaddr: conn.vaddr,
        daddr: conn.daddr,
    }
}

/// The body of a namespace's master sync thread `id`.
pub(crate) fn run_master_thread(ipvs: &Ipvs, id: u32) {
    if let Some((port, config)) = wait_for(|| {
        let guard = rcu::read_lock();
        let master = ipvs.sync.master.get(&guard)?;
        Some((master.ports.get(id as usize).cloned()?, master.config))
    }) {
        log_started(ThreadKind::Master, &config, id);
        run_master(&port, &ipvs.sync.counters);
    }
}

/// Logs a sync thread's start as C's thread bodies do.
fn log_started(kind: ThreadKind, config: &DaemonConfig, id: u32) {
    let state = if kind == ThreadKind::Master {
        "MASTER"
    } else {
        "BACKUP"
    };
    ipvs_info!(
        "sync thread started: state = {}, mcast_ifn = {}, syncid = {}, id = {}\n",
        state,
        log::name(config.ifname()),
        config.syncid,
        id
    );
}

/// The body of a namespace's backup sync thread `id`.
pub(crate) fn run_backup_thread(ipvs: &Ipvs, id: u32) {
    if let Some((port, config, maxlen)) = wait_for(|| {
        let guard = rcu::read_lock();
        let backup = ipvs.sync.backup.get(&guard)?;
        let port = backup.ports.get(id as usize).cloned()?;
        Some((port, backup.config, backup.maxlen))
    }) {
        log_started(ThreadKind::Backup, &config, id);
        run_backup(ipvs, &port, config.syncid as u8, maxlen);
    }
}

/// Waits until `lookup` finds the thread's port (the daemon is published after its threads
/// start, and wakes them), or the thread is asked to stop.
fn wait_for<T>(lookup: impl Fn() -> Option<T>) -> Option<T> {
    loop {
        kthread::prepare_to_sleep();
        if let Some(found) = lookup() {
            kthread::cancel_sleep();
            return Some(found);
        }
        if kthread::should_stop() {
            kthread::cancel_sleep();
            return None;
        }
        kthread::sleep(u64::from(u32::MAX));
    }
}

/// `sync_thread_master`: sends the port's messages until asked to stop.
fn run_master(port: &MasterPort, counters: &Counters) {
    loop {
        kthread::prepare_to_sleep();
        let work = port.next_work(jiffies());
        if kthread::should_stop() {
            kthread::cancel_sleep();
            return;
        }
        match work {
            Work::Wait(jiffies) => kthread::sleep(jiffies),
            Work::Flush(message) => {
                kthread::cancel_sleep();
                if !port.send(&message, counters) {
                    return;
                }
            }
            Work::Queue(messages) => {
                kthread::cancel_sleep();
                for message in messages.iter() {
                    if !port.send(message, counters) {
                        return;
                    }
                }
            }
        }
    }
}

/// `sync_thread_backup`: receives and applies messages until asked to stop.
fn run_backup(ipvs: &Ipvs, port: &BackupPort, syncid: u8, maxlen: usize) {
    let mut buf = KVec::new();
    if buf.resize(maxlen, 0u8, GFP_KERNEL).is_err() {
        return;
    }
    while !kthread::should_stop() {
        port.sock.wait_readable();
        while port.sock.readable() {
            match port.sock.recv(&mut buf) {
                Ok(len) if len > 0 => process_message(ipvs, buf.get(..len).unwrap_or(&[]), syncid),
                Ok(_) => break,
                Err(e) => {
                    if e != EAGAIN {
                        ipvs_err!("receiving message error\n");
                    }
                    break;
                }
            }
        }
    }
}

/// `ip_vs_process_message`: applies the acceptable entries of a message; a message dropped
/// for a malformed entry is reported as C reports it (`IP_VS_ERR_RL`: rate-limited).
fn process_message(ipvs: &Ipvs, message: &[u8], syncid: u8) {
    let counters = &ipvs.sync.counters;
    counters.received.fetch_add(1, Relaxed);
    let states = |protocol: u8| Proto::lookup(protocol).map(|p| p.state_count());
    let result = wire::parse(message, syncid, states, |conn| apply(ipvs, conn));
    let (parsed, dropped) = match result {
        Ok(parsed) => (parsed, None),
        Err((dropped, parsed)) => (parsed, Some(dropped)),
    };
    counters.applied.fetch_add(u64::from(parsed.conns), Relaxed);
    counters
        .skipped
        .fetch_add(u64::from(parsed.skipped), Relaxed);
    for _ in 0..parsed.invalid_pe {
        if crate::ffi::net::ratelimit() {
            ipvs_err!("BACKUP, Invalid PE parameters\n");
        }
    }
    let Some(dropped) = dropped else {
        return;
    };
    let index = match dropped {
        wire::Dropped::HeaderTooShort => 0,
        wire::Dropped::BadSize => 1,
        wire::Dropped::OtherSyncId => 2,
        wire::Dropped::Truncated
        | wire::Dropped::PastBuffer
        | wire::Dropped::V0Truncated
        | wire::Dropped::V0OptionsTruncated => 3,
        wire::Dropped::UnknownVersion(_) => 4,
        wire::Dropped::BadEntry(_) => 5,
    };
    if let Some(count) = counters.dropped.get(index) {
        count.fetch_add(1, Relaxed);
    }
    match dropped {
        // C only logs these at debug level.
        wire::Dropped::HeaderTooShort | wire::Dropped::BadSize | wire::Dropped::OtherSyncId => {}
        _ if !crate::ffi::net::ratelimit() => {}
        wire::Dropped::Truncated => ipvs_err!("BACKUP, Dropping buffer, too small\n"),
        wire::Dropped::PastBuffer => ipvs_err!("BACKUP, Dropping buffer, msg > buffer\n"),
        wire::Dropped::V0Truncated => ipvs_err!("BACKUP v0, bogus conn\n"),
        wire::Dropped::V0OptionsTruncated => {
            ipvs_err!("BACKUP v0, Dropping buffer bogus conn options\n")
        }
        wire::Dropped::UnknownVersion(version) => {
            ipvs_err!("BACKUP, Dropping buffer, Unknown version {version}\n")
        }
        wire::Dropped::BadEntry(code) => {
            ipvs_err!("BACKUP, Dropping buffer, Err: {code} in decoding\n")
        }
    }
}

/// `ip_vs_proc_conn`: creates or updates the connection or template an entry describes.
fn apply(ipvs: &Ipvs, c: &SyncConn) {
    let net = ipvs.net.get();
    let guard = rcu::read_lock();
    let Some(conns) = ipvs.conns.get(&guard) else {
        return;
    };
    let af = if c.ipv6 {
        uapi::AF_INET6
    } else {
        uapi::AF_INET
    };
    let template = c.flags & flags::TEMPLATE != 0;
    let existing = if template {
        let key = TemplateKey {
            protocol: c.protocol,
            client_addr: sched_addr(af, &c.caddr),
            client_port: c.cport,
            virtual_addr: sched_addr(af, &c.vaddr),
            virtual_port: c.vport,
        };
        conns.template_get(&guard, af, &key)
    } else {
        let key = PacketKey {
            af,
            protocol: c.protocol,
            saddr: &c.caddr,
            sport: c.cport,
            daddr: &c.vaddr,
            dport: c.vport,
        };
        match conns.in_get(&guard, &key) {
            // The master moved the client to another real server: the old connection goes,
            // unless this is the old one's expiry message.
            Some(cp) if cp.dport() != c.dport || cp.daddr != c.daddr => {
                if c.flags & flags::INACTIVE != 0 {
                    return;
                }
                conns.expire_now(&cp, net);
                None
            }
            found => found,
        }
    };
    let timeout_secs = if c.timeout_secs != 0 {
        u64::from(c.timeout_secs)
    } else if template {
        3 * 60
    } else {
        ipvs.timeouts
            .of_state(c.protocol, c.state)
            .map_or(3 * 60, u64::from)
    };
    // C caps it at MAX_SCHEDULE_TIMEOUT.
    let timeout = timeout_secs.min(i64::MAX as u64 / HZ) * HZ;
    let dest = find_dest(ipvs, &guard, af, c);
    // A connection the backup could not bind when it came (its real server was not
    // configured yet) is bound now (`ip_vs_try_bind_dest`): replaced by a bound one, with
    // the state this message gives it.
    let existing = match existing {
        Some(cp) if cp.dest.is_none() && dest.is_some() => {
            conns.expire_now(&cp, net);
            None
        }
        found => found,
    };
    let conn = match existing {
        Some(cp) => {
            cp.sync_update(c.flags);
            cp
        }
        None => {
            let params = ConnParams {
                af,
                protocol: c.protocol,
                caddr: c.caddr,
                cport: c.cport,
                vaddr: c.vaddr,
                vport: c.vport,
                dport: c.dport,
                fwmark: c.fwmark,
            };
            let synced = Synced {
                daddr: c.daddr,
                flags: c.flags,
            };
            let conn_max = ipvs.sysctl.get(Sysctl::ConnMax);
            match conns.new_synced(&params, synced, dest, conn_max, timeout) {
                Ok(cp) => cp,
                Err(_) => return,
            }
        }
    };
    conn.in_pkts
        .store(ipvs.sysctl.get(Sysctl::SyncThreshold) as u32, Relaxed);
    if template {
        conn.assured.store(c.state == 1, Relaxed);
    } else {
        conn.set_state(c.state);
    }
    conn.old_state.store(c.state as i16, Relaxed);
    conn.set_timeout(timeout);
    conns.touch(&conn);
}

/// `ip_vs_find_dest`: the backup's real server for an entry: of the service of its virtual
/// address (or firewall mark), by address and port (port 0 for a non-NAT firewall-mark
/// service).
fn find_dest(ipvs: &Ipvs, guard: &ReadSection, af: u16, c: &SyncConn) -> Option<Arc<Dest>> {
    let services = ipvs.services.get(guard)?;
    let key = ServiceKey {
        af,
        protocol: u16::from(c.protocol),
        addr: c.vaddr,
        port: c.vport,
        fwmark: c.fwmark,
    };
    let net = ipvs.net.get();
    let service = services.find(guard, &key, |port| !net.port_requires_bind_service(port))?;
    let port = if c.fwmark != 0 && c.flags & fwd::MASK != fwd::MASQ {
        0
    } else {
        c.dport
    };
    service
        .find_dest(af, &c.daddr, port)
        .or_else(|| service.find_dest(af, &c.daddr, port ^ c.dport))
}
