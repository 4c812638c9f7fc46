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
//! entries and a once-a-second sweep unlinks them and releases their destinations. A lookup
//! and the sweep race for an entry about to expire by compare-and-exchange on `expires`: the
//! lookup keeps it alive a second more, or the sweep claims the entry ([`CLAIMED`]) and
//! lookups skip it, so a connection in use is never unlinked under its user (C:
//! `ip_vs_conn_unlink` only unlinks an entry nobody holds).
//!
//! Lock order: a chain's lock, then nothing (a connection's `transition` lock is never taken
//! under a chain lock).

use crate::{
    ffi::{
        net::Net,
        rculist::{
            impl_chained,
            Chain, //
            ChainLink,
        },
        timer::{
            jiffies, //
            random_u32,
        },
    },
    hash::mix::hash_addr_port,
    packet::{
        nf_inet_of, //
        sched_addr,
        v4_of,
        IpHeader,
        NfInetAddr,
        Transport,
    },
    sched::persist::{
        TemplateKey, //
        INVALID_TEMPLATE_DPORT,
    },
    service::Dest,
    uapi::{
        self, //
        conn_flags as flags,
    },
};
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

/// Number of buckets; a power of two.
const BUCKETS: usize = 4096;

/// [`Conn::expires`] of a connection claimed for removal: lookups no longer return it.
const CLAIMED: u64 = 0;

/// How long a lookup keeps a connection from the sweep at least: a second.
const HOLD_JIFFIES: u64 = bindings::CONFIG_HZ as u64;

/// A connection (C: `struct ip_vs_conn`). The tuple comes first, so a lookup compares it
/// before it reads the fields other CPUs write on every packet.
#[pin_data]
pub(crate) struct Conn {
    /// Address family of the client and virtual addresses.
    pub(crate) af: u16,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Client port, host order.
    pub(crate) cport: u16,
    /// Virtual port, host order.
    pub(crate) vport: u16,
    /// Client address.
    pub(crate) caddr: NfInetAddr,
    /// Virtual address.
    pub(crate) vaddr: NfInetAddr,
    /// Real server address.
    pub(crate) daddr: NfInetAddr,
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
    /// Protocol state: an index into the protocol's state table (TCP's `TcpState`, 0 for UDP).
    pub(crate) state: Atomic<u32>,
    /// Timeout of the current state, in jiffies.
    pub(crate) timeout: Atomic<u64>,
    /// When the connection expires, in jiffies; [`CLAIMED`] once it is being removed.
    pub(crate) expires: Atomic<u64>,
    /// Unlinked from the table and released from its destination.
    pub(crate) dead: Atomic<bool>,
    /// The real server, while bound.
    pub(crate) dest: Option<Arc<Dest>>,
    /// Serialises state transitions and the destination's active/inactive counts.
    #[pin]
    pub(crate) transition: SpinLockIrq<()>,
}

impl Conn {
    /// Whether the connection has expired at `now` (or is claimed).
    fn expired(&self, now: u64) -> bool {
        now >= self.expires.load(Relaxed)
    }

    /// Keeps a live connection from the sweep while a lookup at `now` uses it (C:
    /// `__ip_vs_conn_get`, whose reference keeps the timer from unlinking it): one that
    /// expires within [`HOLD_JIFFIES`] has its expiry moved that far, so that the packet's
    /// processing ends (and restarts the timer, or not, as C's put does) before the sweep can
    /// claim it. False when it expired or was claimed first: the lookup must not return it.
    fn hold(&self, now: u64) -> bool {
        let mut expires = self.expires.load(Relaxed);
        loop {
            if expires == CLAIMED || now >= expires {
                return false;
            }
            if expires - now >= HOLD_JIFFIES {
                return true;
            }
            let held = now.wrapping_add(HOLD_JIFFIES);
            match self.expires.cmpxchg(expires, held, Relaxed) {
                Ok(_) => return true,
                Err(current) => expires = current,
            }
        }
    }

    /// Claims an expired connection for removal at `now` (C: the timer's
    /// `ip_vs_conn_unlink`): false when it is live, restarted by a lookup, or claimed already.
    fn claim_expired(&self, now: u64) -> bool {
        let expires = self.expires.load(Relaxed);
        expires != CLAIMED
            && now >= expires
            && self.expires.cmpxchg(expires, CLAIMED, Relaxed).is_ok()
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

    /// Restarts the timer with the current timeout (`ip_vs_conn_put`), unless the connection
    /// was claimed for removal.
    pub(crate) fn touch(&self) {
        let restarted = jiffies().wrapping_add(self.timeout.load(Relaxed)).max(1);
        let mut expires = self.expires.load(Relaxed);
        while expires != CLAIMED {
            match self.expires.cmpxchg(expires, restarted, Relaxed) {
                Ok(_) => return,
                Err(current) => expires = current,
            }
        }
    }

    /// Clears connection flags.
    pub(crate) fn clear_flags(&self, mask: u32) {
        let _guard = self.transition.lock();
        self.flags.store(self.flags.load(Relaxed) & !mask, Relaxed);
    }

    /// Moves the connection to `state` (a protocol's state index) with timeout `timeout_secs`,
    /// adjusting the destination's active and inactive counts as `set_tcp_state` does.
    pub(crate) fn set_state(&self, state: u32, active: bool, timeout_secs: u32) {
        let _guard = self.transition.lock();
        if state != self.state.load(Relaxed) {
            let f = self.flags.load(Relaxed);
            // Once released, the destination no longer counts the connection (`dead` is set
            // under this lock).
            let dest = self.dest.as_ref().filter(|_| !self.dead.load(Relaxed));
            if let Some(dest) = dest {
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
        }
        self.timeout.store(
            u64::from(timeout_secs).saturating_mul(u64::from(bindings::CONFIG_HZ)),
            Relaxed,
        );
    }

    /// Releases the destination's counts (`ip_vs_unbind_dest`); once. Under the transition
    /// lock, so that no state change moves the counts of a released connection.
    fn unbind(&self) {
        let _guard = self.transition.lock();
        if self.dead.xchg(true, Relaxed) {
            return;
        }
        let Some(dest) = &self.dest else {
            return;
        };
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

/// The tuple of a packet as the connection table looks it up (C: `struct ip_vs_conn_param`):
/// a client packet's source is the client, a real server reply's destination is.
#[derive(Clone, Copy)]
pub(crate) struct PacketKey {
    /// Address family.
    pub(crate) af: u16,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Source address.
    pub(crate) saddr: NfInetAddr,
    /// Source port.
    pub(crate) sport: u16,
    /// Destination address.
    pub(crate) daddr: NfInetAddr,
    /// Destination port.
    pub(crate) dport: u16,
}

impl PacketKey {
    /// The key of a packet (`ip_vs_conn_fill_param_proto`).
    pub(crate) fn new(iph: &IpHeader, l4: &Transport) -> Self {
        PacketKey {
            af: iph.af,
            protocol: iph.protocol,
            saddr: iph.saddr,
            sport: l4.sport,
            daddr: iph.daddr,
            dport: l4.dport,
        }
    }

    /// The key with source and destination swapped (C: `IP_VS_HDR_INVERSE`), for the
    /// packet embedded in an ICMP error, which went the other way.
    pub(crate) fn inverse(self) -> Self {
        PacketKey {
            saddr: self.daddr,
            sport: self.dport,
            daddr: self.saddr,
            dport: self.sport,
            ..self
        }
    }
}

/// The tuple of a new connection (C: `struct ip_vs_conn_param` with the destination).
pub(crate) struct ConnParams {
    /// Address family.
    pub(crate) af: u16,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Client address.
    pub(crate) caddr: NfInetAddr,
    /// Client port.
    pub(crate) cport: u16,
    /// Virtual address.
    pub(crate) vaddr: NfInetAddr,
    /// Virtual port.
    pub(crate) vport: u16,
    /// Real server port.
    pub(crate) dport: u16,
}

impl ConnParams {
    /// The connection of a client packet to `key`'s destination, sent on to `dport`.
    pub(crate) fn for_packet(key: &PacketKey, dport: u16) -> Self {
        ConnParams {
            af: key.af,
            protocol: key.protocol,
            caddr: key.saddr,
            cport: key.sport,
            vaddr: key.daddr,
            vport: key.dport,
            dport,
        }
    }

    /// The persistence template of `key` (client port 0), sent on to `dport`.
    pub(crate) fn for_template(af: u16, key: &TemplateKey, dport: u16) -> Self {
        ConnParams {
            af,
            protocol: key.protocol,
            caddr: nf_inet_of(key.client_addr),
            cport: key.client_port,
            vaddr: nf_inet_of(key.virtual_addr),
            vport: key.virtual_port,
            dport,
        }
    }
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

impl ConnTable {
    /// An empty table.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let mut buckets = KVec::with_capacity(BUCKETS, GFP_KERNEL)?;
        for _ in 0..BUCKETS {
            buckets.push(KBox::pin_init(Chain::new(), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        Ok(Arc::new(
            ConnTable {
                seed: random_u32(),
                buckets,
                count: Atomic::new(0),
                dropped: Atomic::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    /// Bucket index of a client tuple: the client address and port of a client packet,
    /// the destination of a reply.
    fn index(&self, af: u16, protocol: u8, caddr: &NfInetAddr, cport: u16) -> usize {
        (hash_addr_port(self.seed, af, protocol, caddr, cport) as usize) & (BUCKETS - 1)
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
            .find(|c| pred(c) && c.hold(now))
            .map(Arc::from)
    }

    /// `conn_in_get`: the connection of a client packet, whose source is the client and
    /// destination the virtual service.
    pub(crate) fn in_get(&self, key: &PacketKey) -> Option<Arc<Conn>> {
        let index = self.index(key.af, key.protocol, &key.saddr, key.sport);
        self.find(index, |c| {
            c.cport == key.sport
                && c.vport == key.dport
                && c.protocol == key.protocol
                && c.af == key.af
                && c.caddr == key.saddr
                && c.vaddr == key.daddr
                && !c.is_template()
        })
    }

    /// `ip_vs_ct_in_get`: a valid persistence template of family `af`.
    pub(crate) fn template_get(&self, af: u16, key: &TemplateKey) -> Option<Arc<Conn>> {
        let caddr = nf_inet_of(key.client_addr);
        let index = self.index(af, key.protocol, &caddr, key.client_port);
        self.find(index, |c| {
            let candidate = TemplateKey {
                protocol: c.protocol,
                client_addr: sched_addr(c.af, &c.caddr),
                client_port: c.cport,
                virtual_addr: sched_addr(c.af, &c.vaddr),
                virtual_port: c.vport,
            };
            c.af == af
                && c.is_template()
                && c.dport() != INVALID_TEMPLATE_DPORT
                && key.matches(&candidate)
        })
    }

    /// `conn_out_get`: the connection of a real server's reply, whose source is the real
    /// server and destination the client.
    pub(crate) fn out_get(&self, key: &PacketKey) -> Option<Arc<Conn>> {
        let index = self.index(key.af, key.protocol, &key.daddr, key.dport);
        self.find(index, |c| {
            c.cport == key.dport
                && c.dport() == key.sport
                && c.protocol == key.protocol
                && c.af == key.af
                && c.caddr == key.daddr
                && c.daddr == key.saddr
                && !c.is_template()
        })
    }

    /// `ip_vs_conn_new`: creates, binds to `dest` (whose address it is sent to) and hashes a
    /// connection (packet path, atomic allocations). Its timer starts at 3 s in state NONE, or at `timeout` jiffies for
    /// a template. With `control`, it is controlled by that template (`ip_vs_control_add`).
    pub(crate) fn new_conn(
        &self,
        p: &ConnParams,
        dest: Arc<Dest>,
        extra_flags: u32,
        conn_max: i32,
        control: Option<Arc<Conn>>,
        timeout: Option<u64>,
    ) -> Result<Arc<Conn>> {
        if self.count.load(Relaxed) >= conn_max {
            self.dropped.fetch_add(1, Relaxed);
            return Err(ENOMEM);
        }
        let fwd = dest.fwd_method.load(Relaxed) & uapi::fwd::MASK;
        let mut conn_flags = fwd | flags::INACTIVE | extra_flags;
        if fwd != uapi::fwd::MASQ {
            conn_flags |= flags::NOOUTPUT;
        }
        let hz = u64::from(bindings::CONFIG_HZ);
        let initial_timeout = timeout.unwrap_or(3 * hz);
        let bucket = self.index(p.af, p.protocol, &p.caddr, p.cport);
        let conn = Arc::pin_init(
            pin_init!(Conn {
                af: p.af,
                protocol: p.protocol,
                cport: p.cport,
                vport: p.vport,
                caddr: p.caddr,
                vaddr: p.vaddr,
                daddr: dest.addr,
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
                if !all {
                    // `ip_vs_conn_expire`: a template still controlling connections lives on.
                    if conn.n_control.load(Relaxed) > 0 {
                        let hz = u64::from(bindings::CONFIG_HZ);
                        conn.timeout.store(60 * hz, Relaxed);
                        conn.touch();
                        continue;
                    }
                    // A lookup since the collection restarted its timer: it lives on.
                    if !conn.claim_expired(now) {
                        continue;
                    }
                }
                self.release(chain, conn, net);
            }
        }
    }

    /// Takes `conn` off `chain` and releases it (`ip_vs_conn_expire`): its destination's
    /// counts, its template's control count, the table's count, and with `net` its conntrack
    /// entry when it owns one (`conntrack=1`). Whoever takes it off the chain releases it, once.
    fn release(&self, chain: &Chain<Conn>, conn: &Conn, net: Option<&Net>) {
        if !chain.remove(conn) {
            return;
        }
        conn.unbind();
        if let Some(net) = net {
            if conn.flags.load(Relaxed) & flags::NFCT != 0 && conn.cport != 0 {
                net.drop_conntrack(
                    conn.protocol,
                    v4_of(&conn.caddr),
                    conn.cport,
                    v4_of(&conn.vaddr),
                    conn.vport,
                );
            }
        }
        if let Some(ct) = &conn.control {
            ct.n_control.fetch_sub(1, Relaxed);
        }
        self.count.fetch_sub(1, Relaxed);
    }

    /// Expires `conn` now (`ip_vs_conn_expire_now`, whose timer fires at the next tick): it
    /// is unlinked and released at once, not at the next sweep, so that listings and the
    /// counts see the connection that replaces it alone. A template that still controls
    /// connections is left to its timer, as C's callers leave it.
    pub(crate) fn expire_now(&self, conn: &Conn, net: &Net) {
        if conn.n_control.load(Relaxed) > 0 {
            // Expired, for the sweep to decide.
            let _ = conn.expires.xchg(jiffies(), Relaxed);
            return;
        }
        conn.expires.store(CLAIMED, Relaxed);
        let index = self.index(conn.af, conn.protocol, &conn.caddr, conn.cport);
        if let Some(chain) = self.buckets.get(index) {
            self.release(chain, conn, Some(net));
        }
    }

    /// The expiry sweep, run by the namespace's timer every second: expired connections
    /// of `net` are unlinked and released.
    pub(crate) fn expire(&self, net: &Net) {
        self.sweep(false, Some(net));
    }

    /// Unlinks every connection (service flush is not enough: C keeps connections until they
    /// expire; this is for namespace teardown).
    pub(crate) fn flush(&self) {
        self.sweep(true, None);
    }

    /// Calls `f` for every connection and template, chain by chain, newest first within a
    /// chain, as C's `/proc/net/ip_vs_conn` iterator visits them.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Conn)) {
        let guard = rcu::read_lock();
        for chain in self.buckets.iter() {
            for c in chain.iter(&guard) {
                f(&c);
            }
        }
    }
}
