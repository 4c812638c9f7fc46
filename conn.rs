// SPDX-License-Identifier: GPL-2.0

//! The connection table of a namespace (C: `ip_vs_conn.c`).
//!
//! Each connection is hashed once, by protocol, client address and client port: the keys of
//! a client packet (`conn_in_get`) and of a real server's reply (`conn_out_get`, whose
//! destination is the client) both lead to its chain (C hashes a NAT connection twice, by
//! the client's side and the real server's). The hash is keyed, with a random key per table,
//! as C 7.3's `ip_vs_conn_hashkey` (SipHash-2-4 there, the kernel's hsiphash, SipHash-1-3,
//! here: [`hash_tuple`]): clients choose the tuples, and must not be able to aim them at one
//! chain.
//! Chains are RCU lists ([`Chain`]): lookups on the packet path take no lock at all; creating
//! and expiring connections take the one chain's spinlock. Entries are counted references;
//! a connection holds a counted reference to its destination, which therefore outlives its
//! removal from the service.
//!
//! The table grows and shrinks with its count as C 7.3's `conn_tab` ([`ConnTable`]): from
//! 2^8 chains up to 2^`conn_tab_bits`, by `conn_lfactor`, moving entries to a new table
//! while lookups go on.
//!
//! Expiry: every packet restarts a connection's timer (`expires`); lookups ignore expired
//! entries. Instead of C's timer per connection, a wheel ([`Slots`], [`wheel`]: a second of
//! slots, striped, for each of the next [`wheel::SECONDS`]) files each connection under the
//! second it expires at; every second the namespace's tick takes the entries of the seconds
//! that passed and expires those whose time came, filing the others again under their new
//! expiry. So the work is the connections expiring plus, at most, one visit every
//! [`wheel::SECONDS`] of each
//! connection that lives longer; a restart that brings the expiry earlier than the
//! connection's slot moves it ([`ConnTable::touch`]). A lookup and the expiry race for an
//! entry about to expire by compare-and-exchange on `expires`: the lookup keeps it alive a
//! second more, or the expiry claims the entry ([`CLAIMED`]) and lookups skip it, so a
//! connection in use is never unlinked under its user (C: `ip_vs_conn_unlink` only unlinks an
//! entry nobody holds).
//!
//! Lock order: a chain's lock, then nothing; a wheel slot's lock, then nothing (a
//! connection's `transition` lock is never taken under either; a resize holds one chain's lock
//! at a time).

use crate::ffi::rcu::{self, ReadSection};
use crate::{
    ffi::{
        bhlock::{
            new_spinlock_bh, //
            SpinLockBh,
        },
        net::Net,
        rcu::RcuArc,
        rculist::{
            impl_chained,
            is_linked,
            Buckets,
            Chain, //
            ChainLink,
            MoveCount,
        },
        slab::{
            impl_slab_counted,
            SlabArc, //
            SlabCache,
        },
        slotlist::{
            impl_slotted,
            SlotLink, //
            Slots,
        },
        timer::{
            jiffies, //
            random_u64,
            ResizeKick,
        },
    },
    hash::{
        report::ChainLengths,
        siphash::{
            hash_tuple, //
            SipKey,
        },
        sizing::{
            self, //
            Shape,
            SizeLimits,
        },
    },
    packet::{
        nf_inet_of, //
        sched_addr,
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
mod wheel;

use crate::ffi::atomic::Atomic;
use kernel::{
    bindings,
    prelude::*,
    sync::{atomic::Relaxed, Arc, Refcount},
};

/// [`Conn::expires`] of a connection claimed for removal: lookups no longer return it.
const CLAIMED: u64 = 0;

/// How long a lookup keeps a connection from the expiry at least: a second.
const HOLD_JIFFIES: u64 = bindings::CONFIG_HZ as u64;

/// Clock ticks per second.
const HZ: u64 = bindings::CONFIG_HZ as u64;

/// A connection (C: `struct ip_vs_conn`), in [`CONN_CACHE`].
///
/// Laid out in this order (`repr(C)`) so that a lookup reads the fields it compares first:
/// the ports, family and protocol, the client address and the chain link's next pointer lead
/// the object; the fields other CPUs write on every packet (the count, `expires`, `state`) come
/// after the rest of the tuple.
#[pin_data]
#[repr(C)]
pub(crate) struct Conn {
    /// Client port, host order.
    pub(crate) cport: u16,
    /// Virtual port, host order.
    pub(crate) vport: u16,
    /// Address family of the client and virtual addresses.
    pub(crate) af: u16,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// A template seen in use in both directions (`IP_VS_CTPL_S_ASSURED`).
    pub(crate) assured: Atomic<bool>,
    /// Client address.
    pub(crate) caddr: NfInetAddr,
    /// Its place on its chain.
    link: ChainLink,
    /// Virtual address.
    pub(crate) vaddr: NfInetAddr,
    /// Real server address.
    pub(crate) daddr: NfInetAddr,
    /// Real server port, host order, as the bits of an `i16` (the kernel's atomics have no
    /// `u16`); a template invalidated by `ip_vs_check_template` has 0xffff. See
    /// [`Conn::dport`].
    dport: Atomic<i16>,
    /// Protocol state (C's `__u16 state`): an index into the protocol's state table (TCP's
    /// `TcpState`, 0 for UDP). See [`Conn::state`].
    state: Atomic<i16>,
    /// `IP_VS_CONN_F_*`.
    pub(crate) flags: Atomic<u32>,
    /// Connections this template controls (`n_control`).
    pub(crate) n_control: Atomic<i32>,
    /// Timeout of the current state, in jiffies (C keeps the protocols' in `int` tables and
    /// a service's in an `unsigned int`); see [`Conn::timeout`].
    timeout: Atomic<u32>,
    /// The packet's firewall mark when it was created (`cp->fwmark`), which sync messages
    /// carry.
    pub(crate) fwmark: u32,
    /// The references to it (`cp->refcnt`): the table's, the expiry wheel's, the packets'.
    refcount: Refcount,
    /// When the connection expires, in jiffies; [`CLAIMED`] once it is being removed.
    pub(crate) expires: Atomic<u64>,
    /// The persistence template controlling this connection (`cp->control`).
    pub(crate) control: Option<SlabArc<Conn>>,
    /// The real server, while bound.
    pub(crate) dest: Option<Arc<Dest>>,
    /// Its place on the expiry wheel.
    wheel_link: SlotLink,
    /// Client packets seen (`cp->in_pkts`), which the defense's random drop and the sync
    /// daemon's thresholds read.
    pub(crate) in_pkts: Atomic<u32>,
    /// Its expiry when last sent to backups (the low 32 bits of jiffies), rounded down to 4
    /// jiffies, with the retries in the low bits (`cp->sync_endtime`).
    pub(crate) sync_endtime: Atomic<u32>,
    /// The state it was last sent to backups in (`cp->old_state`).
    pub(crate) old_state: Atomic<i16>,
    /// Unlinked from the table and released from its destination.
    pub(crate) dead: Atomic<bool>,
    /// Serialises state transitions and the destination's active/inactive counts.
    #[pin]
    pub(crate) transition: SpinLockBh<()>,
}

// A connection takes 184 bytes of its cache (C's `ip_vs_conn` takes 320); lock debugging makes
// the spinlock bigger.
#[cfg(not(CONFIG_DEBUG_SPINLOCK))]
const _: () = assert!(core::mem::size_of::<Conn>() <= 184);

/// The slab cache of connections (C: `ip_vs_conn_cachep`), registered at module load.
pub(crate) static CONN_CACHE: SlabCache<Conn> = SlabCache::new();

impl Conn {
    /// Whether the connection has expired at `now` (or is claimed).
    fn expired(&self, now: u64) -> bool {
        now >= self.expires.load(Relaxed)
    }

    /// Keeps a live connection from the expiry while a lookup at `now` uses it (C:
    /// `__ip_vs_conn_get`, whose reference keeps the timer from unlinking it): one that
    /// expires within [`HOLD_JIFFIES`] has its expiry moved that far, so that the packet's
    /// processing ends (and restarts the timer, or not, as C's put does) before the expiry can
    /// claim it. False when it expired or was claimed first: the lookup must not return it.
    #[inline]
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

    /// Claims a connection for removal whatever its expiry (C: `ip_vs_conn_del`'s
    /// `timer_delete`): false when it was claimed already.
    fn claim(&self) -> bool {
        let expires = self.expires.load(Relaxed);
        expires != CLAIMED && self.expires.cmpxchg(expires, CLAIMED, Relaxed).is_ok()
    }

    /// Counts a client packet of the connection (`ip_vs_in`): a one-packet connection's
    /// counts in its template.
    pub(crate) fn count_in_packet(&self) {
        let counted = if self.flags.load(Relaxed) & flags::ONE_PACKET != 0 {
            self.control.as_deref()
        } else {
            Some(self)
        };
        if let Some(conn) = counted {
            conn.in_pkts.fetch_add(1, Relaxed);
        }
    }

    /// Timeout of the current state, in jiffies.
    pub(crate) fn timeout(&self) -> u64 {
        u64::from(self.timeout.load(Relaxed))
    }

    /// Sets the timeout of the current state, in jiffies (at most `u32::MAX`).
    pub(crate) fn set_timeout(&self, jiffies: u64) {
        self.timeout
            .store(u32::try_from(jiffies).unwrap_or(u32::MAX), Relaxed);
    }

    /// The real server's address family (C: `cp->daf`): its destination's, which differs
    /// from the connection's for a tunnel to a real server of the other family; the
    /// connection's own without a destination.
    pub(crate) fn daf(&self) -> u16 {
        self.dest.as_deref().map_or(self.af, |dest| dest.af)
    }

    /// Real server port, host order.
    pub(crate) fn dport(&self) -> u16 {
        self.dport.load(Relaxed) as u16
    }

    /// Sets the real server port (host order).
    pub(crate) fn set_dport(&self, port: u16) {
        self.dport.store(port as i16, Relaxed);
    }

    /// Protocol state: an index into the protocol's state table.
    #[inline]
    pub(crate) fn state(&self) -> u32 {
        u32::from(self.state.load(Relaxed) as u16)
    }

    /// Sets the protocol state as a sync message gives it, with no transition (the
    /// destination's counts follow the message's flags).
    pub(crate) fn set_state(&self, state: u16) {
        self.state.store(state as i16, Relaxed);
    }

    /// Whether this is a persistence template.
    pub(crate) fn is_template(&self) -> bool {
        self.flags.load(Relaxed) & flags::TEMPLATE != 0
    }

    /// Marks the controlling template assured (`ip_vs_control_assure_ct`).
    pub(crate) fn assure_control(&self) {
        if let Some(ct) = &self.control {
            // Read first: the template is shared by its clients' connections on every CPU.
            if ct.is_template() && !ct.assured.load(Relaxed) {
                ct.assured.store(true, Relaxed);
            }
        }
    }

    /// Restarts the timer with the current timeout (`ip_vs_conn_put`), unless the connection
    /// was claimed for removal; the new expiry, if it was restarted. [`ConnTable::touch`] also
    /// moves the connection on the wheel when that is earlier than its slot.
    #[inline(always)]
    fn restart(&self) -> Option<u64> {
        let restarted = jiffies().wrapping_add(self.timeout()).max(1);
        let mut expires = self.expires.load(Relaxed);
        while expires != CLAIMED {
            // Packets within one jiffy restart it to the same time: no write.
            if expires == restarted {
                return Some(restarted);
            }
            match self.expires.cmpxchg(expires, restarted, Relaxed) {
                Ok(_) => return Some(restarted),
                Err(current) => expires = current,
            }
        }
        None
    }

    /// The wheel stripe of the connection.
    fn stripe(&self) -> u64 {
        wheel::stripe(self.cport)
    }

    /// Clears connection flags.
    pub(crate) fn clear_flags(&self, mask: u32) {
        let _guard = self.transition.lock();
        self.flags.store(self.flags.load(Relaxed) & !mask, Relaxed);
    }

    /// Moves the connection to the state `next` gives for its current one, with the
    /// destination's active and inactive counts following (the body of C's
    /// `set_tcp_state` / `set_sctp_state`, which run under `cp->lock`). `next` returns the
    /// new state, whether the destination counts it as active, and its timeout in seconds.
    ///
    /// Most packets leave the state as it is: they only restart the timeout, without the
    /// lock, unless the state changed meanwhile. A change is made under the lock, computed
    /// again from the state found there if another CPU moved it meanwhile, so that two CPUs
    /// moving the connection at once (a FIN each way) do not lose one of the moves.
    #[inline(always)]
    pub(crate) fn transition(&self, next: impl Fn(u32) -> (u32, bool, u32)) {
        let hz = u64::from(bindings::CONFIG_HZ);
        let seen = self.state();
        let mut computed = next(seen);
        let (state, _, timeout_secs) = computed;
        if state == seen {
            self.set_timeout(u64::from(timeout_secs).saturating_mul(hz));
            if self.state() == seen {
                return;
            }
        }
        let _guard = self.transition.lock();
        let current = self.state();
        if current != seen {
            computed = next(current);
        }
        let (state, active, timeout_secs) = computed;
        if state != current {
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
            self.set_state(state as u16);
        }
        self.set_timeout(u64::from(timeout_secs).saturating_mul(hz));
    }

    /// Takes the flags of a sync message for an existing connection (`ip_vs_proc_conn`):
    /// only its activity and sequence bits change, the destination's counts following.
    pub(crate) fn sync_update(&self, synced_flags: u32) {
        let _guard = self.transition.lock();
        let f = self.flags.load(Relaxed);
        let dest = self.dest.as_ref().filter(|_| !self.dead.load(Relaxed));
        if let (Some(dest), true) = (
            dest,
            (f ^ synced_flags) & flags::INACTIVE != 0 && synced_flags & flags::TEMPLATE == 0,
        ) {
            if synced_flags & flags::INACTIVE != 0 {
                dest.active_conns.fetch_sub(1, Relaxed);
                dest.inactive_conns.fetch_add(1, Relaxed);
            } else {
                dest.inactive_conns.fetch_sub(1, Relaxed);
                dest.active_conns.fetch_add(1, Relaxed);
            }
        }
        let mask = flags::BACKUP_UPD_MASK;
        self.flags
            .store((synced_flags & mask) | (f & !mask), Relaxed);
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
/// a client packet's source is the client, a real server reply's destination is. It borrows
/// the addresses of the parsed header it was made from (a packet's key is made for every
/// packet: copying them cost four loads and four stores).
#[derive(Clone, Copy)]
pub(crate) struct PacketKey<'a> {
    /// Address family.
    pub(crate) af: u16,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Source address.
    pub(crate) saddr: &'a NfInetAddr,
    /// Source port.
    pub(crate) sport: u16,
    /// Destination address.
    pub(crate) daddr: &'a NfInetAddr,
    /// Destination port.
    pub(crate) dport: u16,
}

impl<'a> PacketKey<'a> {
    /// The key of a packet (`ip_vs_conn_fill_param_proto`).
    #[inline(always)]
    pub(crate) fn new(iph: &'a IpHeader, l4: &Transport) -> Self {
        PacketKey {
            af: iph.af,
            protocol: iph.protocol,
            saddr: &iph.saddr,
            sport: l4.sport,
            daddr: &iph.daddr,
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
    /// The packet's firewall mark (`skb->mark`).
    pub(crate) fwmark: u32,
}

impl ConnParams {
    /// The connection of a client packet to `key`'s destination, sent on to `dport`.
    pub(crate) fn for_packet(key: &PacketKey<'_>, dport: u16) -> Self {
        ConnParams {
            af: key.af,
            protocol: key.protocol,
            caddr: *key.saddr,
            cport: key.sport,
            vaddr: *key.daddr,
            vport: key.dport,
            dport,
            fwmark: 0,
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
            fwmark: 0,
        }
    }
}

/// What a sync message says of a new connection the destination does not decide: its real
/// server and its flags (C: `ip_vs_conn_new`'s arguments in `ip_vs_proc_conn`).
#[derive(Clone, Copy)]
pub(crate) struct Synced {
    /// The real server address.
    pub(crate) daddr: NfInetAddr,
    /// The flags the backup keeps (`IP_VS_CONN_F_BACKUP_MASK`, `IP_VS_CONN_F_SYNC`).
    pub(crate) flags: u32,
}

impl_chained!(Conn, link, SlabArc<Conn>);
impl_slab_counted!(Conn, refcount);
impl_slotted!(Conn, wheel_link, SlabArc<Conn>);

/// One generation of a namespace's connection hash (C: a `struct ip_vs_rht` of
/// `conn_tab`): chains by the hash of the client tuple with a key of its own, and the move
/// counts that tell their readers a resize moved entries off them (striped, one per 64 chains
/// as C's `seqc`, at most 256).
struct ConnBuckets {
    /// The hash key, random per table (C: `t->hash_key`).
    key: SipKey,
    /// Its size and load factor.
    shape: Shape,
    /// The count past which it should grow (C: `t->u_thresh`).
    grow_at: u32,
    /// The chains, `shape.size` of them, and their move counts.
    buckets: Buckets<Conn>,
}

impl ConnBuckets {
    /// An empty table of `size` chains (a power of two) sized with `lfactor`, within
    /// `limits`.
    fn new(size: u32, lfactor: i32, limits: SizeLimits) -> Result<Arc<Self>> {
        let buckets = Buckets::new(size as usize)?;
        let shape = Shape { size, lfactor };
        Ok(Arc::new(
            ConnBuckets {
                key: SipKey([random_u64(), random_u64()]),
                shape,
                grow_at: sizing::grow_threshold(shape, limits),
                buckets,
            },
            GFP_KERNEL,
        )?)
    }

    /// The chain of a client tuple (the client address and port of a client packet, the
    /// destination of a reply) and its move count.
    #[inline]
    fn chain(
        &self,
        af: u16,
        protocol: u8,
        caddr: &NfInetAddr,
        cport: u16,
    ) -> Option<(&Chain<Conn>, &MoveCount)> {
        let hash = hash_tuple(&self.key, af, protocol, caddr, cport);
        self.buckets.slot(hash as usize)
    }

    /// The chain `conn` belongs on in this table.
    fn chain_of(&self, conn: &Conn) -> Option<&Chain<Conn>> {
        Some(
            self.chain(conn.af, conn.protocol, &conn.caddr, conn.cport)?
                .0,
        )
    }

    /// Finds a live connection matching `pred` on the chain of a client tuple, at `now`.
    /// With `resizing`, a walk that entries moved under is repeated ([`Chain::find`]);
    /// without, no entry can move during the caller's read-side section, since a resize
    /// moves entries only a grace period after it published its next table.
    fn find(
        &self,
        guard: &ReadSection,
        tuple: (u16, u8, &NfInetAddr, u16),
        now: u64,
        resizing: bool,
        pred: &impl Fn(&Conn) -> bool,
    ) -> Option<SlabArc<Conn>> {
        let (af, protocol, caddr, cport) = tuple;
        let (chain, moves) = self.chain(af, protocol, caddr, cport)?;
        // Newest first, as C orders a chain: when two connections share a reply tuple (one
        // client port reaching one real server through two virtual services), the reply
        // belongs to the newer one.
        chain
            .find(guard, resizing.then_some(moves), |c| pred(c) && c.hold(now))
            .map(|c| c.counted())
    }
}

/// The bounds of the connection table (C: `IP_VS_CONN_TAB_MIN_BITS`, and the
/// `conn_tab_bits` module parameter, clamped to what memory allows, as the largest).
pub(crate) fn table_limits(conn_tab_bits: i32) -> SizeLimits {
    const MIN_BITS: u32 = 8;
    const MAX_BITS: u32 = 27;
    // `ip_vs_conn_init`: tables up to half of memory, loaded at 50%.
    let pages = crate::ffi::timer::totalram_pages().max(1);
    let order = |n: u64| u64::BITS - n.saturating_sub(1).leading_zeros();
    let conn_order = order(core::mem::size_of::<Conn>() as u64);
    let avail = (order(pages) + kernel::page::PAGE_SHIFT as u32).saturating_sub(conn_order);
    let max = avail.clamp(MIN_BITS, MAX_BITS);
    let bits = u32::try_from(conn_tab_bits)
        .unwrap_or(0)
        .clamp(MIN_BITS, max);
    SizeLimits {
        min_bits: MIN_BITS,
        max_bits: bits,
    }
}

/// A namespace's connection table (C: `conn_tab` and its resizer): the current hash, and
/// while a resize runs the one its entries move to, where new entries go.
///
/// Lookups walk the current table, then the next one; a chain walk that a move disturbed is
/// repeated. The resize runs in process context (the namespace's resize work, kicked by the
/// insert that takes the count past the table's threshold), never two at once:
/// it publishes the next table, waits a grace period so that every new entry goes there,
/// moves the current table's entries chain by chain, publishes the next table as the
/// current one and frees the old one after another grace period.
pub(crate) struct ConnTable {
    /// The table lookups start from (C: `ipvs->conn_tab`).
    current: RcuArc<ConnBuckets>,
    /// During a resize, the table entries move to (C: `t->new_tbl`); empty otherwise.
    next: RcuArc<ConnBuckets>,
    /// The table's bounds.
    limits: SizeLimits,
    /// Connections in the table, and those being created (C: `conn_count`).
    pub(crate) count: Atomic<i32>,
    /// The expiry wheel: every hashed connection, under the second it expires at (or a
    /// later one), as [`wheel::slot`] places it.
    wheel: Slots<Conn>,
    /// The last second whose slots the tick took.
    wheel_clock: Atomic<u64>,
    /// Runs the resize work at once.
    resize_kick: ResizeKick,
    /// Whether an insert kicked the resize work since it last started (C:
    /// `IP_VS_WORK_CONN_RESIZE`): one kick per crossing, not one per insert.
    resize_kicked: Atomic<bool>,
}

impl ConnTable {
    /// An empty table of the smallest size, sized with `lfactor` within `limits`, whose
    /// growth runs the resize work through `resize_kick`.
    pub(crate) fn new(
        limits: SizeLimits,
        lfactor: i32,
        resize_kick: ResizeKick,
    ) -> Result<Arc<Self>> {
        let size = sizing::desired_size(None, 0, lfactor, limits);
        let table = Arc::new(
            ConnTable {
                current: RcuArc::new(),
                next: RcuArc::new(),
                limits,
                count: Atomic::new(0),
                wheel: Slots::new(wheel::SLOTS)?,
                wheel_clock: Atomic::new(jiffies() / HZ),
                resize_kick,
                resize_kicked: Atomic::new(false),
            },
            GFP_KERNEL,
        )?;
        // Nothing was published before: this does not wait for a grace period.
        table
            .current
            .replace(Some(ConnBuckets::new(size, lfactor, limits)?));
        Ok(table)
    }

    /// The number of chains (C: `get_conn_tab_size`, the current table's).
    pub(crate) fn size(&self) -> u32 {
        let guard = rcu::read_lock();
        self.current.get(&guard).map_or(0, |t| t.shape.size)
    }

    /// The tables to walk: the current one, and the next one during a resize.
    fn tables<'g>(&self, guard: &'g ReadSection) -> [Option<&'g ConnBuckets>; 2] {
        let current = self.current.get(guard);
        let next = self
            .next
            .get(guard)
            .filter(|n| !current.is_some_and(|c| core::ptr::eq(c, *n)));
        [current, next]
    }

    /// Finds a live connection on the chain of a client tuple matching `pred`, in the
    /// caller's read-side section (the packet path's hooks hold one for the whole packet).
    #[inline(always)]
    fn find(
        &self,
        guard: &ReadSection,
        tuple: (u16, u8, &NfInetAddr, u16),
        pred: impl Fn(&Conn) -> bool,
    ) -> Option<SlabArc<Conn>> {
        let now = jiffies();
        let [current, resized] = self.tables(guard);
        let resizing = resized.is_some();
        // The current table, then the one being filled by a resize (no iterator and no
        // closure, which would stay out of line around the inner call: this runs for every
        // packet).
        if let Some(table) = current {
            if let Some(found) = table.find(guard, tuple, now, resizing, &pred) {
                return Some(found);
            }
        }
        resized?.find(guard, tuple, now, resizing, &pred)
    }

    /// `conn_in_get`: the connection of a client packet, whose source is the client and
    /// destination the virtual service.
    #[inline(always)]
    pub(crate) fn in_get(&self, guard: &ReadSection, key: &PacketKey<'_>) -> Option<SlabArc<Conn>> {
        self.find(guard, (key.af, key.protocol, key.saddr, key.sport), |c| {
            c.cport == key.sport
                && c.vport == key.dport
                && c.protocol == key.protocol
                && c.af == key.af
                && c.caddr == *key.saddr
                && c.vaddr == *key.daddr
                && !c.is_template()
        })
    }

    /// `ip_vs_ct_in_get`: a valid persistence template of family `af`.
    pub(crate) fn template_get(
        &self,
        guard: &ReadSection,
        af: u16,
        key: &TemplateKey,
    ) -> Option<SlabArc<Conn>> {
        let caddr = nf_inet_of(key.client_addr);
        self.find(guard, (af, key.protocol, &caddr, key.client_port), |c| {
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

    /// `conn_out_get`: the connection of a packet back to a client: from the real server of
    /// a NAT connection, or, for the other methods (whose real servers answer as the virtual
    /// service), from the virtual address and port, as C 7.3 matches them.
    #[inline(always)]
    pub(crate) fn out_get(
        &self,
        guard: &ReadSection,
        key: &PacketKey<'_>,
    ) -> Option<SlabArc<Conn>> {
        self.find(guard, (key.af, key.protocol, key.daddr, key.dport), |c| {
            // The client side first: plain fields, which rule out the chain's other entries
            // before any atomic load.
            if c.cport != key.dport
                || c.protocol != key.protocol
                || c.af != key.af
                || c.caddr != *key.daddr
            {
                return false;
            }
            let conn_flags = c.flags.load(Relaxed);
            let (addr, port) = if conn_flags & uapi::fwd::MASK == uapi::fwd::MASQ {
                (&c.daddr, c.dport())
            } else {
                (&c.vaddr, c.vport)
            };
            port == key.sport && addr == key.saddr && conn_flags & flags::TEMPLATE == 0
        })
    }

    /// `ip_vs_conn_new`: creates, binds to `dest` (whose address it is sent to) and hashes a
    /// connection (packet path, atomic allocations). Its timer starts at 3 s in state NONE,
    /// or at `timeout` jiffies for a template. With `control`, it is controlled by that
    /// template (`ip_vs_control_add`). Without `dest` it is a cache bypass connection: sent to
    /// no real server (address 0), with `extra_flags` its only flags.
    pub(crate) fn new_conn(
        &self,
        p: &ConnParams,
        dest: Option<Arc<Dest>>,
        extra_flags: u32,
        conn_max: i32,
        control: Option<SlabArc<Conn>>,
        timeout: Option<u64>,
    ) -> Result<SlabArc<Conn>> {
        self.reserve(conn_max)?;
        let conn = match self.create(p, dest, extra_flags, None, control, timeout) {
            Ok(conn) => conn,
            Err(e) => {
                self.count.fetch_sub(1, Relaxed);
                return Err(e);
            }
        };
        Ok(conn)
    }

    /// `ip_vs_conn_new` for a backup's sync message (`ip_vs_proc_conn`): the connection
    /// `synced` describes, bound to `dest` if the backup has that real server (its forwarding
    /// method then the destination's, its activity the message's), or unbound, sent as the
    /// message says; its timer at `timeout` jiffies.
    pub(crate) fn new_synced(
        &self,
        p: &ConnParams,
        synced: Synced,
        dest: Option<Arc<Dest>>,
        conn_max: i32,
        timeout: u64,
    ) -> Result<SlabArc<Conn>> {
        self.reserve(conn_max)?;
        match self.create(p, dest, 0, Some(synced), None, Some(timeout)) {
            Ok(conn) => Ok(conn),
            Err(e) => {
                self.count.fetch_sub(1, Relaxed);
                Err(e)
            }
        }
    }

    /// Counts a connection about to be created, up to `conn_max` (C: `ip_vs_conn_new`'s
    /// compare-and-exchange): ENOMEM when the namespace holds that many.
    fn reserve(&self, conn_max: i32) -> Result {
        let mut count = self.count.load(Relaxed);
        loop {
            if count >= conn_max {
                return Err(ENOMEM);
            }
            match self.count.cmpxchg(count, count.wrapping_add(1), Relaxed) {
                Ok(_) => return Ok(()),
                Err(current) => count = current,
            }
        }
    }

    /// [`ConnTable::new_conn`] once counted.
    fn create(
        &self,
        p: &ConnParams,
        dest: Option<Arc<Dest>>,
        extra_flags: u32,
        synced: Option<Synced>,
        control: Option<SlabArc<Conn>>,
        timeout: Option<u64>,
    ) -> Result<SlabArc<Conn>> {
        // `ip_vs_bind_dest`: the destination's forwarding method; a new connection starts
        // inactive, and one whose replies bypass the director expects none. A synced one
        // keeps the master's activity (a template is inactive, as the destination's flags
        // make it in C).
        let bound_flags = |dest: &Dest, base: u32| {
            let fwd = dest.fwd_method.load(Relaxed) & uapi::fwd::MASK;
            let mut conn_flags = fwd | base;
            if fwd != uapi::fwd::MASQ {
                conn_flags |= flags::NOOUTPUT;
            }
            conn_flags
        };
        let (conn_flags, daddr) = match (&dest, synced) {
            (Some(dest), None) => (bound_flags(dest, flags::INACTIVE | extra_flags), dest.addr),
            (None, None) => (extra_flags, [0; 16]),
            (Some(dest), Some(s)) => {
                let mut base = s.flags & !(uapi::fwd::MASK | flags::NOOUTPUT);
                if base & flags::TEMPLATE != 0 {
                    base |= flags::INACTIVE;
                }
                (bound_flags(dest, base), dest.addr)
            }
            (None, Some(s)) => (s.flags, s.daddr),
        };
        let hz = u64::from(bindings::CONFIG_HZ);
        let initial_timeout = timeout.unwrap_or(3 * hz);
        let conn = CONN_CACHE.alloc_atomic(pin_init!(Conn {
            af: p.af,
            protocol: p.protocol,
            cport: p.cport,
            vport: p.vport,
            caddr: p.caddr,
            vaddr: p.vaddr,
            daddr,
            dport: Atomic::new(p.dport as i16),
            link: ChainLink::new(),
            control,
            n_control: Atomic::new(0),
            assured: Atomic::new(false),
            flags: Atomic::new(conn_flags),
            state: Atomic::new(0),
            refcount: Refcount::new(1),
            timeout: Atomic::new(u32::try_from(initial_timeout).unwrap_or(u32::MAX)),
            expires: Atomic::new(jiffies().wrapping_add(initial_timeout)),
            in_pkts: Atomic::new(0),
            fwmark: p.fwmark,
            old_state: Atomic::new(0),
            sync_endtime: Atomic::new((jiffies() as u32) & !3),
            wheel_link: SlotLink::new(),
            dead: Atomic::new(false),
            dest,
            transition <- new_spinlock_bh!((), "rust_ipvs_conn_transition"),
        }))?;
        if let Some(dest) = &conn.dest {
            if conn_flags & flags::TEMPLATE != 0 {
                dest.persist_conns.fetch_add(1, Relaxed);
            } else if conn_flags & flags::INACTIVE != 0 {
                dest.inactive_conns.fetch_add(1, Relaxed);
            } else {
                dest.active_conns.fetch_add(1, Relaxed);
            }
            dest.update_overload();
        }
        // `ip_vs_conn_hash` leaves one-packet connections out; new entries go to the table
        // a resize moves entries to, if one runs.
        let hashed = if conn_flags & flags::ONE_PACKET != 0 {
            Ok(())
        } else {
            let guard = rcu::read_lock();
            let [current, next] = self.tables(&guard);
            match next.or(current).and_then(|t| Some((t, t.chain_of(&conn)?))) {
                Some((table, chain)) => {
                    let pushed = chain.push_front(conn.clone());
                    self.grow_if_full(table);
                    pushed
                }
                None => Err(EINVAL),
            }
        };
        if let Err(e) = hashed {
            conn.unbind();
            return Err(e);
        }
        if conn_flags & flags::ONE_PACKET == 0 {
            self.file(conn.clone(), jiffies());
        }
        if let Some(ct) = &conn.control {
            ct.n_control.fetch_add(1, Relaxed);
        }
        Ok(conn)
    }

    /// Kicks the resize work when the count is past `table`'s threshold, once until the
    /// work starts (C: `ip_vs_conn_hash`'s `mod_delayed_work`).
    #[inline]
    fn grow_if_full(&self, table: &ConnBuckets) {
        let count = u32::try_from(self.count.load(Relaxed)).unwrap_or(0);
        if count > table.grow_at && !self.resize_kicked.xchg(true, Relaxed) {
            self.resize_kick.kick();
        }
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

    /// Files `conn` on the wheel under the second it expires at, or the next second if that
    /// is earlier (`now` in jiffies); a connection on the wheel already stays where it is.
    fn file(&self, conn: SlabArc<Conn>, now: u64) {
        let sec = wheel::filing_second(conn.expires.load(Relaxed), now, HZ);
        let slot = wheel::slot(sec, conn.stripe());
        // An entry is filed once at a time: one on the wheel already is visited there.
        let _ = self.wheel.insert(slot, conn);
    }

    /// Restarts `conn`'s timer (`ip_vs_conn_put`) and, when it now expires before the tick
    /// would visit its wheel slot (a state with a shorter timeout), files it earlier.
    #[inline(always)]
    pub(crate) fn touch(&self, conn: &Conn) {
        let Some(expires) = conn.restart() else {
            return;
        };
        let Some(slot) = self.wheel.slot_of(conn) else {
            return;
        };
        if expires / HZ >= wheel::next_visit(slot, jiffies() / HZ) {
            return;
        }
        // Taken off by the tick meanwhile: it files it again by its new expiry.
        if let Some(conn) = self.wheel.remove(conn) {
            self.file(conn, jiffies());
        }
    }

    /// What the tick does with a connection taken off the wheel at `now`: one claimed by
    /// someone else is left to them; one whose time has not come is filed again; a template
    /// still controlling connections lives on a minute more (`ip_vs_conn_expire`); the others
    /// are unlinked and released.
    fn expire_one(&self, conn: SlabArc<Conn>, now: u64, net: &Net, kept: &impl Fn(&Conn)) {
        if conn.expires.load(Relaxed) == CLAIMED || conn.dead.load(Relaxed) {
            return;
        }
        if !conn.expired(now) {
            self.file(conn, now);
            return;
        }
        if conn.n_control.load(Relaxed) > 0 {
            conn.set_timeout(60 * HZ);
            conn.restart();
            kept(&conn);
            self.file(conn, now);
            return;
        }
        // A lookup since it was taken off held it: it lives on.
        if !conn.claim_expired(now) {
            self.file(conn, now);
            return;
        }
        self.release(&conn, Some(net));
    }

    /// Takes `conn` off its chain, whichever table it is in (C: `ip_vs_conn_unlink`), and
    /// drops the chain's reference after a grace period. Whether it was on one: only one
    /// caller removes an entry.
    fn unlink(&self, conn: &Conn) -> bool {
        loop {
            {
                let guard = rcu::read_lock();
                for table in self.tables(&guard).into_iter().flatten() {
                    if table.chain_of(conn).is_some_and(|chain| chain.remove(conn)) {
                        return true;
                    }
                }
            }
            // On no chain we looked at: removed, or in flight between two tables.
            if !is_linked(conn) {
                return false;
            }
            core::hint::spin_loop();
        }
    }

    /// Takes `conn` off the table and releases it (`ip_vs_conn_expire`): its destination's
    /// counts, its template's control count, the table's count, and with `net` its conntrack
    /// entry when it owns one (`conntrack=1`). Whoever takes it off the table releases it,
    /// once.
    fn release(&self, conn: &Conn, net: Option<&Net>) {
        if !self.unlink(conn) {
            return;
        }
        // The wheel's reference, unless the tick holds it (it drops it then).
        drop(self.wheel.remove(conn));
        conn.unbind();
        if let Some(net) = net {
            if conn.flags.load(Relaxed) & flags::NFCT != 0 && conn.cport != 0 {
                net.drop_conntrack(
                    conn.af,
                    conn.protocol,
                    (&conn.caddr, conn.cport),
                    (&conn.vaddr, conn.vport),
                );
            }
        }
        if let Some(ct) = &conn.control {
            ct.n_control.fetch_sub(1, Relaxed);
        }
        self.count.fetch_sub(1, Relaxed);
    }

    /// Expires `conn` now (`ip_vs_conn_expire_now`, whose timer fires at the next tick): it
    /// is unlinked and released at once, not at the next tick, so that listings and the
    /// counts see the connection that replaces it alone. A template that still controls
    /// connections is left to its timer, as C's callers leave it: expired, and filed for the
    /// next tick to decide.
    pub(crate) fn expire_now(&self, conn: &Conn, net: &Net) {
        if conn.n_control.load(Relaxed) > 0 {
            let now = jiffies();
            let expires = conn.expires.load(Relaxed);
            if expires != CLAIMED && conn.expires.cmpxchg(expires, now.max(1), Relaxed).is_ok() {
                if let Some(conn) = self.wheel.remove(conn) {
                    self.file(conn, now);
                }
            }
            return;
        }
        conn.expires.store(CLAIMED, Relaxed);
        self.release(conn, Some(net));
    }

    /// `ip_vs_random_dropentry`: scans 1/32 of the current table's chains, from chain
    /// `start` on, and drops the connections `to_drop` picks at the time given (the defense's
    /// policy), as their expiry would. Process context (the namespace's tick, which also
    /// resizes: no resize runs meanwhile); it yields the CPU every 32 chains.
    pub(crate) fn drop_random(&self, start: u32, net: &Net, to_drop: impl Fn(&Conn, u64) -> bool) {
        let Some(table) = self.current.get_arc() else {
            return;
        };
        let now = jiffies();
        let mask = table.buckets.chains().len().wrapping_sub(1);
        let mut doomed: KVec<SlabArc<Conn>> = KVec::new();
        for index in 0..table.buckets.chains().len() >> 5 {
            let Some(chain) = table
                .buckets
                .chains()
                .get((start as usize).wrapping_add(index) & mask)
            else {
                continue;
            };
            {
                let guard = rcu::read_lock();
                for c in chain.iter(&guard) {
                    if to_drop(&c, now) && doomed.push(c.counted(), GFP_ATOMIC).is_err() {
                        break;
                    }
                }
            }
            for conn in doomed.iter() {
                if conn.claim() {
                    self.release(conn, Some(net));
                }
            }
            doomed.clear();
            if index % 32 == 31 {
                crate::ffi::timer::cond_resched();
            }
        }
    }

    /// The expiry, run by the namespace's tick every second (process context): the wheel's
    /// slots of the seconds since the last run (of the last [`wheel::SECONDS`] at most) are
    /// taken, their expired connections of `net` unlinked and released, the others filed
    /// again; `kept` is told of each expired template kept for the connections it still
    /// controls (a master sends it again). It yields the CPU between slots.
    pub(crate) fn expire(&self, net: &Net, kept: impl Fn(&Conn)) {
        let now = jiffies();
        let now_sec = now / HZ;
        let last = self.wheel_clock.load(Relaxed);
        for sec in wheel::seconds_due(last, now_sec) {
            for stripe in 0..wheel::STRIPES {
                self.wheel.drain(wheel::slot(sec, stripe), |conn| {
                    self.expire_one(conn, now, net, &kept)
                });
                crate::ffi::timer::cond_resched();
            }
        }
        self.wheel_clock.store(now_sec.max(last), Relaxed);
    }

    /// Resizes the table when its count crossed a threshold or `lfactor` (`conn_lfactor`)
    /// changed (C: `conn_resize_work_handler`); run by the namespace's resize work, never
    /// twice at once. False when the next table could not be allocated: the current one
    /// serves meanwhile, and the work tries again.
    pub(crate) fn resize(&self, lfactor: i32) -> bool {
        // Inserts from here on kick the work again (C clears the flag first too).
        self.resize_kicked.store(false, Relaxed);
        let Some(current) = self.current.get_arc() else {
            return true;
        };
        let count = u32::try_from(self.count.load(Relaxed)).unwrap_or(0);
        let Some(size) = sizing::resize_target(current.shape, count, lfactor, self.limits) else {
            return true;
        };
        let Ok(next) = ConnBuckets::new(size, lfactor, self.limits) else {
            return false;
        };
        // Once every reader sees it, new connections go to the next table only.
        self.next.replace(Some(next.clone()));
        // No connection is added to the current table after the grace period `replace` waited
        // for.
        current.buckets.move_all(|c| next.chain_of(c));
        // Lookups find everything in the next table now: it becomes the current one.
        self.current.replace(Some(next));
        self.next.replace(None);
        // The old table, empty, is freed with the last reference (`current` here).
        true
    }

    /// Unlinks and releases every connection (service flush is not enough: C keeps
    /// connections until they expire; this is for namespace teardown, where C leaves
    /// conntrack alone). Process context: it yields the CPU between chains.
    pub(crate) fn flush(&self) {
        let mut all: KVec<SlabArc<Conn>> = KVec::new();
        for table in [self.current.get_arc(), self.next.get_arc()]
            .into_iter()
            .flatten()
        {
            for chain in table.buckets.chains().iter() {
                // Collect this chain's connections under RCU, then release them one by one.
                {
                    let guard = rcu::read_lock();
                    for c in chain.iter(&guard) {
                        if all.push(c.counted(), GFP_ATOMIC).is_err() {
                            break;
                        }
                    }
                }
                for conn in all.iter() {
                    if conn.claim() {
                        self.release(conn, None);
                    }
                }
                // Drop the references outside any lock, then let others run.
                all.clear();
                crate::ffi::timer::cond_resched();
            }
        }
    }

    /// The current table's size and load factor.
    pub(crate) fn shape(&self) -> Option<Shape> {
        let guard = rcu::read_lock();
        self.current.get(&guard).map(|t| t.shape)
    }

    /// The lengths of the chains of the current table and, during a resize, of the next one
    /// (`/proc/net/ip_vs_status`); process context.
    pub(crate) fn chain_lengths(&self) -> ChainLengths {
        let mut lengths = ChainLengths::default();
        for table in [self.current.get_arc(), self.next.get_arc()]
            .into_iter()
            .flatten()
        {
            table
                .buckets
                .chain_lengths(ChainLengths::CAP, |len| lengths.add(len));
        }
        lengths
    }

    /// Calls `f` for every connection and template on chain `index` of the current table,
    /// newest first, as C's `/proc/net/ip_vs_conn` iterator visits them, in one read-side
    /// section.
    pub(crate) fn for_each_in_chain(&self, index: u64, mut f: impl FnMut(&Conn)) {
        let guard = rcu::read_lock();
        let chain = self
            .current
            .get(&guard)
            .and_then(|t| t.buckets.chains().get(usize::try_from(index).ok()?));
        for c in chain.into_iter().flat_map(|chain| chain.iter(&guard)) {
            f(&c);
        }
    }
}
