// SPDX-License-Identifier: GPL-2.0

//! The services of a namespace as the packet path finds them (C: `svc_table`): one RCU hash
//! of address services by protocol, address and port and of firewall-mark services by mark,
//! sized for its number of services as C 7.3 sizes it (`svc_lfactor`).
//!
//! A service is linked into its chain by the link it embeds (C: `s_list`), so an add or a
//! delete is one insertion or removal on one chain, made under the namespace's control mutex,
//! which readers never wait for. A resize (C: `svc_resize_work_handler`) moves the services
//! into a table of the new size under the same mutex, as C does: the next table is published
//! in the current one first (C: `t->new_tbl`), then each chain's services move in a write
//! section of its stripe's [`MoveCount`]; a lookup that a move disturbed walks its chain again,
//! and one that found nothing goes on to the next table. Nothing is allocated per service and
//! nobody waits for a grace period; the emptied table is freed a grace period after the next
//! one replaces it.

use crate::ffi::atomic::Atomic;
use crate::ffi::rcu::{self, RcuArc, ReadSection};
use crate::{
    ffi::rculist::{
        read_barrier,
        Buckets,
        Chain, //
        ChainRef,
        MoveCount,
        Retired,
    },
    hash::{
        mix::{
            hash_addr_port, //
            hash_mark,
        },
        report::ChainLengths,
        sizing::{
            self, //
            Shape,
            SizeLimits,
        },
    },
    sched::persist::FTP_PORT,
    service::{
        Service, //
        ServiceKey,
    },
    uapi,
};
use kernel::{
    prelude::*,
    sync::{
        atomic::Relaxed,
        Arc, //
    },
};

/// The table's bounds (C: `IP_VS_SVC_TAB_MIN_BITS`, `IP_VS_SVC_TAB_MAX_BITS`).
pub(crate) const LIMITS: SizeLimits = SizeLimits {
    min_bits: 4,
    max_bits: 20,
};

/// The FTP data port, whose packets an FTP service takes (C: `FTPDATA`).
pub(crate) const FTP_DATA_PORT: u16 = 20;

/// Services of one address family by what a lookup must try (C: `fwm_services`,
/// `nonfwm_services`, `ftpsvc_counter` and `nullsvc_counter`).
struct FamilyCounts {
    /// Firewall-mark services.
    marked: Atomic<u32>,
    /// Address services.
    addressed: Atomic<u32>,
    /// Address services of port 21.
    ftp: Atomic<u32>,
    /// Address services of port 0, which take every port.
    port_zero: Atomic<u32>,
}

impl FamilyCounts {
    /// No services.
    fn new() -> Self {
        FamilyCounts {
            marked: Atomic::new(0),
            addressed: Atomic::new(0),
            ftp: Atomic::new(0),
            port_zero: Atomic::new(0),
        }
    }

    /// The counters `key` counts in.
    fn of(&self, key: &ServiceKey) -> [Option<&Atomic<u32>>; 2] {
        if key.fwmark != 0 {
            return [Some(&self.marked), None];
        }
        let by_port = match key.port {
            FTP_PORT => Some(&self.ftp),
            0 => Some(&self.port_zero),
            _ => None,
        };
        [Some(&self.addressed), by_port]
    }

    /// Takes the counts of `other` (a resize's next table, before it is published).
    fn copy_from(&self, other: &FamilyCounts) {
        let pairs = [
            (&self.marked, &other.marked),
            (&self.addressed, &other.addressed),
            (&self.ftp, &other.ftp),
            (&self.port_zero, &other.port_zero),
        ];
        for (to, from) in pairs {
            to.store(from.load(Relaxed), Relaxed);
        }
    }

    /// Counts `key` in (`delta` 1) or out (`delta` -1).
    fn count(&self, key: &ServiceKey, delta: i32) {
        for counter in self.of(key).into_iter().flatten() {
            counter.fetch_add(delta as u32, Relaxed);
        }
    }
}

/// One generation of a namespace's service hash.
pub(crate) struct ServiceTable {
    /// Hash seed, random per table (C: `t->hash_key`).
    seed: u32,
    /// Its size and load factor.
    shape: Shape,
    /// The chains, `shape.size` of them, and their move counts.
    buckets: Buckets<Service>,
    /// IPv4 and IPv6 services by kind.
    families: [FamilyCounts; 2],
    /// Services in the table.
    len: Atomic<u32>,
    /// The table a resize moves the services to (C: `t->new_tbl`), published before the
    /// first one moves; empty until then.
    next: RcuArc<ServiceTable>,
}

/// A place in a table's walk ([`ServiceTable::walk_from`]): a chain and how many of its
/// services come before it, in the table of hash seed `seed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The seed of the table the cursor belongs to.
    pub(crate) seed: u32,
    /// The chain's index.
    pub(crate) chain: usize,
    /// Services of the chain before the place.
    pub(crate) skip: usize,
}

/// The index of `af` in [`ServiceTable::families`] (C: `ip_vs_af_index`).
pub(crate) fn family_index(af: u16) -> usize {
    usize::from(af == uapi::AF_INET6)
}

impl ServiceTable {
    /// An empty table of `size` buckets (a power of two) sized with `lfactor`.
    pub(crate) fn new(size: u32, lfactor: i32) -> Result<Arc<Self>> {
        let buckets = Buckets::new(size as usize)?;
        Ok(Arc::new(
            ServiceTable {
                seed: crate::ffi::timer::random_u32(),
                shape: Shape { size, lfactor },
                buckets,
                families: [FamilyCounts::new(), FamilyCounts::new()],
                len: Atomic::new(0),
                next: RcuArc::new(),
            },
            GFP_KERNEL,
        )?)
    }

    /// The first table of a namespace, of the smallest size.
    pub(crate) fn first(lfactor: i32) -> Result<Arc<Self>> {
        Self::new(sizing::desired_size(None, 0, lfactor, LIMITS), lfactor)
    }

    /// Number of services.
    pub(crate) fn len(&self) -> u32 {
        self.len.load(Relaxed)
    }

    /// Number of services of address family `af` (C: `ipvs->num_services[af]`).
    pub(crate) fn family_len(&self, af: u16) -> u32 {
        self.families
            .get(family_index(af))
            .map_or(0, |f| f.marked.load(Relaxed) + f.addressed.load(Relaxed))
    }

    /// The size a table should have with `len` services and load factor `lfactor`, if it is
    /// not this one's: past the thresholds, or a changed `svc_lfactor`.
    pub(crate) fn resize_for(&self, len: u32, lfactor: i32) -> Option<u32> {
        sizing::resize_target(self.shape, len, lfactor, LIMITS)
    }

    /// The chain of `key` and its move count.
    #[inline]
    fn chain_of(&self, key: &ServiceKey) -> Option<(&Chain<Service>, &MoveCount)> {
        let hash = if key.fwmark != 0 {
            hash_mark(self.seed, key.af, key.fwmark)
        } else {
            hash_addr_port(self.seed, key.af, key.protocol as u8, &key.addr, key.port)
        };
        self.buckets.slot(hash as usize)
    }

    /// Adds `service` (`ip_vs_svc_hash`); the caller holds the control mutex. `EEXIST` if
    /// the service is or was in a table.
    pub(crate) fn insert(&self, service: &Arc<Service>) -> Result {
        let (chain, _) = self.chain_of(&service.key).ok_or(EINVAL)?;
        chain.push_front(service.clone())?;
        if let Some(family) = self.families.get(family_index(service.key.af)) {
            family.count(&service.key, 1);
        }
        self.len.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Takes `service` out (`ip_vs_svc_unhash`); readers still walking its chain see it until
    /// their read-side section ends, and the table's reference goes after a grace period with
    /// the others `retired` holds. Whether it was in the table.
    pub(crate) fn remove(&self, service: &Service, retired: &mut Retired<Service>) -> bool {
        let Some((chain, _)) = self.chain_of(&service.key) else {
            return false;
        };
        if !chain.retire(service, retired) {
            return false;
        }
        if let Some(family) = self.families.get(family_index(service.key.af)) {
            family.count(&service.key, -1);
        }
        self.len.fetch_sub(1, Relaxed);
        true
    }

    /// Moves every service into `next`, an empty table of another size, which then holds
    /// them (C: `svc_resize_work_handler`); the caller holds the control mutex and publishes
    /// `next` in this table's place afterwards. `next` is published in this table first, so
    /// that a lookup that misses a moved service here finds it there.
    pub(crate) fn move_into(&self, next: Arc<ServiceTable>) {
        for (to, from) in next.families.iter().zip(self.families.iter()) {
            to.copy_from(from);
        }
        next.len.store(self.len(), Relaxed);
        // Nothing was published before: this does not wait for a grace period.
        self.next.replace(Some(next.clone()));
        // Nothing is added to this table meanwhile: the caller holds the mutex.
        self.buckets
            .move_all(|s| next.chain_of(&s.key).map(|(c, _)| c));
    }

    /// The table a resize moved this one's services to, read after a walk of this one
    /// (C: `ip_vs_rht_for_each_table_rcu`): published before the first service moved, so a
    /// walk that missed a moved service sees it.
    #[inline]
    fn next_table<'g>(&self, guard: &'g ReadSection) -> Option<&'g ServiceTable> {
        read_barrier();
        self.next.get(guard)
    }

    /// The service with exactly `key` on its chain of this table, the walk repeated when a
    /// resize moved services off the chain meanwhile (C: `ip_vs_rht_walk_bucket_rcu`).
    #[inline]
    fn get_here<'g>(
        &'g self,
        guard: &'g ReadSection,
        key: &ServiceKey,
    ) -> Option<ChainRef<'g, Service>> {
        let (chain, moves) = self.chain_of(key)?;
        // Always with the move count: a resize moves services without waiting for readers.
        chain.find(guard, Some(moves), |s| {
            let k = &s.key;
            if key.fwmark != 0 {
                k.fwmark == key.fwmark && k.af == key.af
            } else {
                k.port == key.port
                    && k.fwmark == 0
                    && k.protocol == key.protocol
                    && k.af == key.af
                    && k.addr == key.addr
            }
        })
    }

    /// The service with exactly `key` (`__ip_vs_service_find`, `__ip_vs_svc_fwm_find`): a
    /// firewall-mark key matches by family and mark, an address key by family, protocol,
    /// address and port.
    pub(crate) fn get<'g>(
        &'g self,
        guard: &'g ReadSection,
        key: &ServiceKey,
    ) -> Option<ChainRef<'g, Service>> {
        let mut table = self;
        loop {
            if let Some(service) = table.get_here(guard, key) {
                return Some(service);
            }
            table = table.next_table(guard)?;
        }
    }

    /// The service a packet is for (`ip_vs_service_find`); `packet` holds its family,
    /// protocol, destination address and port, and its firewall mark. A firewall-mark
    /// service comes first, then the address service of the port, then, for TCP, an FTP
    /// service of the address when the port is the FTP data port or one that takes no
    /// privilege to bind (`unprivileged`), then a port-zero service of the address.
    pub(crate) fn find<'g>(
        &'g self,
        guard: &'g ReadSection,
        packet: &ServiceKey,
        unprivileged: impl Fn(u16) -> bool,
    ) -> Option<ChainRef<'g, Service>> {
        let family = self.families.get(family_index(packet.af))?;
        if packet.fwmark != 0 && family.marked.load(Relaxed) != 0 {
            let key = ServiceKey {
                protocol: u16::from(uapi::ipproto::TCP),
                addr: [0; 16],
                port: 0,
                ..*packet
            };
            if let Some(service) = self.get(guard, &key) {
                return Some(service);
            }
        }
        if family.addressed.load(Relaxed) == 0 {
            return None;
        }
        let mut key = ServiceKey {
            fwmark: 0,
            ..*packet
        };
        if let Some(service) = self.get(guard, &key) {
            return Some(service);
        }
        if key.protocol == u16::from(uapi::ipproto::TCP)
            && family.ftp.load(Relaxed) != 0
            && (key.port == FTP_DATA_PORT || unprivileged(key.port))
        {
            key.port = FTP_PORT;
            if let Some(service) = self.get(guard, &key) {
                return Some(service);
            }
        }
        if family.port_zero.load(Relaxed) != 0 {
            key.port = 0;
            return self.get(guard, &key);
        }
        None
    }

    /// Every service, chain by chain (C's table order), for the read-side section of `guard`;
    /// then, should a resize have moved services meanwhile, those of the table they moved to
    /// (C: `ip_vs_rht_walk_buckets_rcu`): each service in the table throughout is seen at
    /// least once. Under the control mutex no resize runs, and each is seen once.
    pub(crate) fn iter<'g>(
        &'g self,
        guard: &'g ReadSection,
    ) -> impl Iterator<Item = ChainRef<'g, Service>> + 'g {
        // Not `successors`, which would read the next table before this one is walked.
        let mut walked: Option<&'g ServiceTable> = None;
        core::iter::from_fn(move || {
            let table = match walked {
                None => self,
                Some(last) => last.next_table(guard)?,
            };
            walked = Some(table);
            Some(table)
        })
        .flat_map(move |table| table.buckets.chains().iter())
        .flat_map(move |chain| chain.iter(guard))
    }

    /// Where the `index`th service is (C's table order, from 0): the cursor
    /// [`ServiceTable::walk_from`] starts from there, found by counting (C's dumps resume so).
    pub(crate) fn cursor_at(&self, guard: &ReadSection, index: usize) -> Cursor {
        let mut left = index;
        for (chain_index, chain) in self.buckets.chains().iter().enumerate() {
            let on_chain = chain.iter(guard).take(left.saturating_add(1)).count();
            if on_chain > left {
                return Cursor {
                    seed: self.seed,
                    chain: chain_index,
                    skip: left,
                };
            }
            left -= on_chain;
        }
        Cursor {
            seed: self.seed,
            chain: self.buckets.chains().len(),
            skip: 0,
        }
    }

    /// Calls `f` with each service from `cursor` on, chain by chain, while it returns true;
    /// returns where the walk stopped: at the service `f` refused, or at the end. A dump
    /// resumes its next message there without counting the services before it (as C's
    /// `ip_vs_genl_dump_services` does, which walks every chain before them again: a dump of
    /// 10,000 services over a table of 131,072 chains took about 80 messages).
    pub(crate) fn walk_from(
        &self,
        guard: &ReadSection,
        cursor: Cursor,
        mut f: impl FnMut(&Service) -> bool,
    ) -> Cursor {
        let mut skip = cursor.skip;
        for (chain_index, chain) in self.buckets.chains().iter().enumerate().skip(cursor.chain) {
            for (position, service) in chain.iter(guard).enumerate().skip(skip) {
                if !f(&service) {
                    return Cursor {
                        seed: self.seed,
                        chain: chain_index,
                        skip: position,
                    };
                }
            }
            skip = 0;
        }
        Cursor {
            seed: self.seed,
            chain: self.buckets.chains().len(),
            skip: 0,
        }
    }

    /// Whether `cursor` was taken in this table (another one after a resize).
    pub(crate) fn owns(&self, cursor: &Cursor) -> bool {
        cursor.seed == self.seed && cursor.chain <= self.buckets.chains().len()
    }

    /// The table's size and load factor.
    pub(crate) fn shape(&self) -> Shape {
        self.shape
    }

    /// The lengths of its chains and, during a resize, of the next table's
    /// (`/proc/net/ip_vs_status`).
    pub(crate) fn chain_lengths(&self) -> ChainLengths {
        let mut lengths = ChainLengths::default();
        self.buckets
            .chain_lengths(ChainLengths::CAP, |len| lengths.add(len));
        if let Some(next) = self.next.get_arc() {
            next.buckets
                .chain_lengths(ChainLengths::CAP, |len| lengths.add(len));
        }
        lengths
    }

    /// Counted references to every service, in table order, taken in one read-side section;
    /// allocates (the list first, outside the section). Under the control mutex the table does
    /// not change; without it (the locality caches' expiry, which then does not hold up the
    /// control requests), services added meanwhile fit in some room, and `ENOMEM` says more were.
    /// The list comes from `kvmalloc`: 100,000 services are 800 KB.
    pub(crate) fn collect(&self) -> Result<KVVec<Arc<Service>>> {
        /// Room for services added between the count and the walk.
        const ROOM: usize = 64;
        let capacity = (self.len() as usize).saturating_add(ROOM);
        let mut list = KVVec::with_capacity(capacity, GFP_KERNEL)?;
        let guard = rcu::read_lock();
        for service in self.iter(&guard) {
            list.push_within_capacity(service.counted())
                .map_err(|_| ENOMEM)?;
        }
        Ok(list)
    }
}
