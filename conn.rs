// SPDX-License-Identifier: GPL-2.0

//! The connection table of a namespace (C: `ip_vs_conn.c`).
//!
//! Each connection is hashed once, as in C's `ip_vs_conn_hashkey_conn`, by protocol, client
//! address and client port: the keys of a client packet (`conn_in_get`) and of a real
//! server's reply (`conn_out_get`, whose destination is the client) both lead to its chain.
//! Chains are RCU lists ([`Chain`]): lookups on the packet path take no lock at all; creating
//! and expiring connections take the one chain's spinlock. Entries are counted references;
//! a connection holds a counted reference to its destination, which therefore outlives its
//! removal from the service.
//!
//! Expiry: every packet restarts a connection's timer (`expires`); lookups ignore expired
//! entries and a once-a-second sweep ([`gc`]) unlinks them and releases their destinations.
//!
//! Lock order: a chain's lock, then nothing (a connection's `transition` lock is never taken
//! under a chain lock).

use crate::{
    ctl::{
        proc::{
            proto_name, //
            ProcAddr,
        },
        service::{
            Dest, //
            Service,
        },
        uapi,
    },
    ffi::{
        gc::jiffies,
        net::Net,
        proc::SeqFile,
        rculist::{
            impl_chained,
            Chain, //
            ChainLink,
        },
    },
    netns::NetState,
    proto::{
        tcp_state::TcpState, //
        udp_state::UdpState,
    },
    sched::{
        dest_view::InetAddr, //
        persist::{
            TemplateKey, //
            INVALID_TEMPLATE_DPORT,
        },
    },
};
use core::fmt::Write;
use kernel::{
    bindings, new_spinlock_irq,
    prelude::*,
    sync::{
        atomic::{
            Atomic, //
            Relaxed,
        },
        rcu,
        Arc, //
        SpinLockIrq,
    },
};

/// Connection flags (`IP_VS_CONN_F_*`).
pub(crate) mod flags {
    /// Forwarding method bits.
    pub(crate) const FWD_MASK: u32 = 0x0007;
    /// Replies do not pass the director (DR, TUN).
    pub(crate) const NOOUTPUT: u32 = 0x0080;
    /// Counted in the destination's inactive connections.
    pub(crate) const INACTIVE: u32 = 0x0100;
    /// A persistence template.
    pub(crate) const TEMPLATE: u32 = 0x1000;
    /// One-packet scheduling: never hashed, released after its packet.
    pub(crate) const ONE_PACKET: u32 = 0x2000;
    /// Keep conntrack for this connection (`conntrack=1`).
    pub(crate) const NFCT: u32 = 1 << 16;
}

/// Number of buckets; a power of two.
const BUCKETS: usize = 4096;

/// A connection (C: `struct ip_vs_conn`), IPv4.
#[pin_data]
pub(crate) struct Conn {
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Client address, network order.
    pub(crate) caddr: [u8; 4],
    /// Client port, host order.
    pub(crate) cport: u16,
    /// Virtual address, network order.
    pub(crate) vaddr: [u8; 4],
    /// Virtual port, host order.
    pub(crate) vport: u16,
    /// Real server address, network order.
    pub(crate) daddr: [u8; 4],
    /// Real server port, host order; a template invalidated by `ip_vs_check_template` has
    /// 0xffff.
    pub(crate) dport: Atomic<u32>,
    /// Its place on that chain.
    link: ChainLink,
    /// The persistence template controlling this connection (`cp->control`).
    pub(crate) control: Option<Arc<Conn>>,
    /// Connections this template controls (`n_control`).
    pub(crate) n_control: Atomic<i32>,
    /// A template seen in use in both directions (`IP_VS_CTPL_S_ASSURED`).
    pub(crate) assured: Atomic<bool>,
    /// `IP_VS_CONN_F_*`.
    pub(crate) flags: Atomic<u32>,
    /// Protocol state (a [`TcpState`] index for TCP, 0 for UDP).
    pub(crate) state: Atomic<u32>,
    /// Timeout of the current state, in jiffies.
    pub(crate) timeout: Atomic<u64>,
    /// When the connection expires, in jiffies.
    pub(crate) expires: Atomic<u64>,
    /// Unlinked from the table and released from its destination.
    pub(crate) dead: Atomic<bool>,
    /// The real server, while bound.
    pub(crate) dest: Option<Arc<Dest>>,
    /// The service the connection was scheduled by, for its counters.
    pub(crate) svc: Option<Arc<Service>>,
    /// Serialises state transitions and the destination's active/inactive counts.
    #[pin]
    pub(crate) transition: SpinLockIrq<()>,
}

impl Conn {
    /// Whether the connection has expired at `now`.
    fn expired(&self, now: u64) -> bool {
        now >= self.expires.load(Relaxed)
    }

    /// Real server port, host order.
    pub(crate) fn dport(&self) -> u16 {
        self.dport.load(Relaxed) as u16
    }

    /// Whether this is a persistence template.
    pub(crate) fn is_template(&self) -> bool {
        self.flags.load(Relaxed) & flags::TEMPLATE != 0
    }

    /// Marks the controlling template assured (`ip_vs_control_assure_ct`).
    pub(crate) fn assure_control(&self) {
        if let Some(ct) = &self.control {
            if ct.is_template() {
                ct.assured.store(true, Relaxed);
            }
        }
    }

    /// Restarts the timer with the current timeout (`ip_vs_conn_put`).
    pub(crate) fn touch(&self) {
        self.expires
            .store(jiffies().wrapping_add(self.timeout.load(Relaxed)), Relaxed);
    }

    /// Expires the connection now (`ip_vs_conn_expire_now`): lookups stop finding it and the
    /// next sweep unlinks it.
    pub(crate) fn expire_now(&self) {
        self.expires.store(0, Relaxed);
    }

    /// Clears connection flags.
    pub(crate) fn clear_flags(&self, mask: u32) {
        let _guard = self.transition.lock();
        self.flags.store(self.flags.load(Relaxed) & !mask, Relaxed);
    }

    /// The current TCP state.
    pub(crate) fn tcp_state(&self) -> TcpState {
        TcpState::from_index(self.state.load(Relaxed) as usize).unwrap_or(TcpState::None)
    }

    /// The state name /proc shows (`ip_vs_state_name`): templates are NONE or ASSURED.
    fn state_name(&self) -> &'static str {
        if self.is_template() {
            return if self.assured.load(Relaxed) {
                "ASSURED"
            } else {
                "NONE"
            };
        }
        match u16::from(self.protocol) {
            uapi::IPPROTO_TCP => self.tcp_state().name(),
            uapi::IPPROTO_UDP => UdpState::Normal.name(),
            0 => "NONE",
            _ => "ERR!",
        }
    }

    /// Moves the connection to `state` with timeout `timeout` (seconds), adjusting the
    /// destination's active and inactive counts as `set_tcp_state` does.
    pub(crate) fn set_state(&self, state: u32, active: bool, timeout_secs: u32) {
        let _guard = self.transition.lock();
        if state != self.state.load(Relaxed) {
            let f = self.flags.load(Relaxed);
            if let Some(dest) = &self.dest {
                if f & flags::INACTIVE == 0 && !active {
                    dest.active_conns.fetch_sub(1, Relaxed);
                    dest.inactive_conns.fetch_add(1, Relaxed);
                    self.flags.store(f | flags::INACTIVE, Relaxed);
                } else if f & flags::INACTIVE != 0 && active {
                    dest.inactive_conns.fetch_sub(1, Relaxed);
                    dest.active_conns.fetch_add(1, Relaxed);
                    self.flags.store(f & !flags::INACTIVE, Relaxed);
                }
            }
            self.state.store(state, Relaxed);
            if state == TcpState::Established.index() as u32 && self.protocol == 6 {
                self.assure_control();
            }
        }
        self.timeout.store(
            u64::from(timeout_secs).saturating_mul(u64::from(bindings::CONFIG_HZ)),
            Relaxed,
        );
    }

    /// Releases the destination's counts (`ip_vs_unbind_dest`); once.
    fn unbind(&self) {
        if self.dead.xchg(true, Relaxed) {
            return;
        }
        let Some(dest) = &self.dest else {
            return;
        };
        let _guard = self.transition.lock();
        let f = self.flags.load(Relaxed);
        if f & flags::TEMPLATE != 0 {
            dest.persist_conns.fetch_sub(1, Relaxed);
        } else if f & flags::INACTIVE != 0 {
            dest.inactive_conns.fetch_sub(1, Relaxed);
        } else {
            dest.active_conns.fetch_sub(1, Relaxed);
        }
        dest.update_overload();
    }
}

/// The tuple of a new connection.
pub(crate) struct ConnParams {
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Client address.
    pub(crate) caddr: [u8; 4],
    /// Client port.
    pub(crate) cport: u16,
    /// Virtual address.
    pub(crate) vaddr: [u8; 4],
    /// Virtual port.
    pub(crate) vport: u16,
    /// Real server address.
    pub(crate) daddr: [u8; 4],
    /// Real server port.
    pub(crate) dport: u16,
}

impl_chained!(Conn, link);

/// A namespace's connection table.
pub(crate) struct ConnTable {
    /// Hash seed, random per table.
    seed: u32,
    /// The chains.
    buckets: KVec<Pin<KBox<Chain<Conn>>>>,
    /// Connections in the table.
    pub(crate) count: Atomic<i32>,
    /// Connections refused because the table was full.
    pub(crate) dropped: Atomic<u64>,
}

/// Mixes a client tuple into a bucket index (C: `ip_vs_conn_hashkey`).
fn hash(seed: u32, protocol: u8, addr: [u8; 4], port: u16) -> usize {
    let mut h = seed ^ u32::from(protocol);
    for word in [u32::from_ne_bytes(addr), u32::from(port)] {
        h ^= word;
        h = h.wrapping_mul(0x9e37_79b1);
        h ^= h >> 15;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
    }
    (h as usize) & (BUCKETS - 1)
}

impl ConnTable {
    /// An empty table.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let mut buckets = KVec::with_capacity(BUCKETS, GFP_KERNEL)?;
        for _ in 0..BUCKETS {
            buckets.push(KBox::pin_init(Chain::new(), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        Ok(Arc::new(
            ConnTable {
                seed: crate::ffi::gc::random_u32(),
                buckets,
                count: Atomic::new(0),
                dropped: Atomic::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    /// Bucket index of a client tuple: the client address and port of a client packet,
    /// the destination of a reply.
    fn index(&self, protocol: u8, caddr: [u8; 4], cport: u16) -> usize {
        hash(self.seed, protocol, caddr, cport)
    }

    /// Finds a live connection in bucket `index` matching `pred`.
    fn find(&self, index: usize, pred: impl Fn(&Conn) -> bool) -> Option<Arc<Conn>> {
        let now = jiffies();
        let chain = self.buckets.get(index)?;
        let guard = rcu::read_lock();
        // Newest first, as C orders a chain: when two connections share a reply tuple (one
        // client port reaching one real server through two virtual services), the reply
        // belongs to the newer one.
        chain
            .iter(&guard)
            .find(|c| !c.expired(now) && pred(c))
            .map(Arc::from)
    }

    /// `conn_in_get`: the connection of a client packet.
    pub(crate) fn in_get(
        &self,
        protocol: u8,
        caddr: [u8; 4],
        cport: u16,
        vaddr: [u8; 4],
        vport: u16,
    ) -> Option<Arc<Conn>> {
        let index = self.index(protocol, caddr, cport);
        self.find(index, |c| {
            c.protocol == protocol
                && c.cport == cport
                && c.vport == vport
                && c.caddr == caddr
                && c.vaddr == vaddr
                && !c.is_template()
        })
    }

    /// `ip_vs_ct_in_get`: a valid persistence template.
    pub(crate) fn template_get(&self, key: &TemplateKey) -> Option<Arc<Conn>> {
        let InetAddr::V4(caddr) = key.client_addr else {
            return None;
        };
        let index = self.index(key.protocol, caddr.to_be_bytes(), key.client_port);
        self.find(index, |c| {
            let candidate = TemplateKey {
                protocol: c.protocol,
                client_addr: InetAddr::V4(u32::from_be_bytes(c.caddr)),
                client_port: c.cport,
                virtual_addr: InetAddr::V4(u32::from_be_bytes(c.vaddr)),
                virtual_port: c.vport,
            };
            c.is_template() && c.dport() != INVALID_TEMPLATE_DPORT && key.matches(&candidate)
        })
    }

    /// `conn_out_get`: the connection of a real server's reply.
    pub(crate) fn out_get(
        &self,
        protocol: u8,
        daddr: [u8; 4],
        dport: u16,
        caddr: [u8; 4],
        cport: u16,
    ) -> Option<Arc<Conn>> {
        let index = self.index(protocol, caddr, cport);
        self.find(index, |c| {
            c.protocol == protocol
                && c.dport() == dport
                && c.cport == cport
                && c.daddr == daddr
                && c.caddr == caddr
                && !c.is_template()
        })
    }

    /// `ip_vs_conn_new`: creates, binds to `dest` and hashes a connection (packet path,
    /// atomic allocations). Its timer starts at 3 s in state NONE, or at `timeout` jiffies for
    /// a template. With `control`, it is controlled by that template (`ip_vs_control_add`).
    #[expect(clippy::too_many_arguments)]
    pub(crate) fn new_conn(
        &self,
        p: &ConnParams,
        dest: Arc<Dest>,
        svc: Option<Arc<Service>>,
        extra_flags: u32,
        conn_max: i32,
        control: Option<Arc<Conn>>,
        timeout: Option<u64>,
    ) -> Result<Arc<Conn>> {
        if self.count.load(Relaxed) >= conn_max {
            self.dropped.fetch_add(1, Relaxed);
            return Err(ENOMEM);
        }
        let fwd = dest.fwd_method.load(Relaxed) & flags::FWD_MASK;
        let mut conn_flags = fwd | flags::INACTIVE | extra_flags;
        if fwd != uapi::fwd::MASQ {
            conn_flags |= flags::NOOUTPUT;
        }
        let hz = u64::from(bindings::CONFIG_HZ);
        let initial_timeout = timeout.unwrap_or(3 * hz);
        let bucket = self.index(p.protocol, p.caddr, p.cport);
        let conn = Arc::pin_init(
            pin_init!(Conn {
                protocol: p.protocol,
                caddr: p.caddr,
                cport: p.cport,
                vaddr: p.vaddr,
                vport: p.vport,
                daddr: p.daddr,
                dport: Atomic::new(u32::from(p.dport)),
                link: ChainLink::new(),
                control,
                n_control: Atomic::new(0),
                assured: Atomic::new(false),
                flags: Atomic::new(conn_flags),
                state: Atomic::new(0),
                timeout: Atomic::new(initial_timeout),
                expires: Atomic::new(jiffies().wrapping_add(initial_timeout)),
                dead: Atomic::new(false),
                dest: Some(dest),
                svc,
                transition <- new_spinlock_irq!((), "rust_ipvs_conn_transition"),
            }),
            GFP_ATOMIC,
        )?;
        if let Some(dest) = &conn.dest {
            if conn_flags & flags::TEMPLATE != 0 {
                dest.persist_conns.fetch_add(1, Relaxed);
            } else {
                dest.inactive_conns.fetch_add(1, Relaxed);
            }
            dest.update_overload();
        }
        // `ip_vs_conn_hash` leaves one-packet connections out.
        let hashed = match self.buckets.get(bucket) {
            _ if conn_flags & flags::ONE_PACKET != 0 => Ok(()),
            Some(chain) => chain.push_front(conn.clone()),
            None => Err(EINVAL),
        };
        if let Err(e) = hashed {
            conn.unbind();
            return Err(e);
        }
        if let Some(ct) = &conn.control {
            ct.n_control.fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        Ok(conn)
    }

    /// Releases a one-packet connection once its packet is sent (`ip_vs_conn_put` expires it
    /// at once); other connections live on until they expire.
    pub(crate) fn put_one_packet(&self, conn: &Conn) {
        if conn.flags.load(Relaxed) & flags::ONE_PACKET == 0 || conn.dead.load(Relaxed) {
            return;
        }
        conn.unbind();
        if let Some(ct) = &conn.control {
            ct.n_control.fetch_sub(1, Relaxed);
        }
        self.count.fetch_sub(1, Relaxed);
    }

    /// Unlinks and releases every connection that expired (or every one, with `all`). With
    /// `net`, an expired `conntrack=1` connection also deletes its conntrack entry (C leaves
    /// conntrack alone during namespace cleanup, as the flush does).
    fn sweep(&self, all: bool, net: Option<&Net>) {
        let now = jiffies();
        for chain in self.buckets.iter() {
            // Collect this chain's expired connections under RCU, then remove them one by
            // one under the chain's lock.
            let mut expired: KVec<Arc<Conn>> = KVec::new();
            {
                let guard = rcu::read_lock();
                for c in chain.iter(&guard) {
                    if (all || c.expired(now)) && expired.push(c.into(), GFP_ATOMIC).is_err() {
                        break;
                    }
                }
            }
            for conn in expired.iter() {
                // `ip_vs_conn_expire`: a template still controlling connections lives on.
                if !all && conn.n_control.load(Relaxed) > 0 {
                    let hz = u64::from(bindings::CONFIG_HZ);
                    conn.timeout.store(60 * hz, Relaxed);
                    conn.touch();
                    continue;
                }
                // Whoever takes it off the chain releases it, once.
                if !chain.remove(conn) {
                    continue;
                }
                conn.unbind();
                if let Some(net) = net {
                    if conn.flags.load(Relaxed) & flags::NFCT != 0 && conn.cport != 0 {
                        net.drop_conntrack(
                            conn.protocol,
                            conn.caddr,
                            conn.cport,
                            conn.vaddr,
                            conn.vport,
                        );
                    }
                }
                if let Some(ct) = &conn.control {
                    ct.n_control.fetch_sub(1, Relaxed);
                }
                self.count.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Unlinks every connection (service flush is not enough: C keeps connections until they
    /// expire; this is for namespace teardown).
    pub(crate) fn flush(&self) {
        self.sweep(true, None);
    }

    /// Writes the connections in the /proc/net/ip_vs_conn format.
    pub(crate) fn show(&self, out: &mut SeqFile) {
        let now = jiffies();
        let hz = u64::from(bindings::CONFIG_HZ);
        let guard = rcu::read_lock();
        for chain in self.buckets.iter() {
            // Newest first within a chain, as C lists it.
            for c in chain.iter(&guard) {
                let left = c.expires.load(Relaxed).saturating_sub(now) / hz;
                let _ = writeln!(
                    out,
                    "{:<3} {} {:04X} {} {:04X} {} {:04X} {:<11} {:7}",
                    proto_name(u16::from(c.protocol)),
                    ProcAddr(uapi::AF_INET, &widen(c.caddr)),
                    c.cport,
                    ProcAddr(uapi::AF_INET, &widen(c.vaddr)),
                    c.vport,
                    ProcAddr(uapi::AF_INET, &widen(c.daddr)),
                    c.dport(),
                    c.state_name(),
                    left as u32
                );
            }
        }
    }
}

/// An IPv4 address as a 16-byte `nf_inet_addr`.
pub(crate) fn widen(addr: [u8; 4]) -> [u8; 16] {
    let mut wide = [0u8; 16];
    for (dst, src) in wide.iter_mut().zip(addr) {
        *dst = src;
    }
    wide
}

/// The expiry sweep of a namespace, run by its timer every second.
pub(crate) fn gc(ipvs: &NetState) {
    let guard = kernel::sync::rcu::read_lock();
    if let Some(table) = ipvs.conns.get(&guard) {
        table.sweep(false, Some(ipvs.net.get()));
    }
}
