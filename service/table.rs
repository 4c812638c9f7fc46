// SPDX-License-Identifier: GPL-2.0

//! The services of a namespace as the packet path finds them (C: `svc_table`): one RCU hash
//! of address services by protocol, address and port and of firewall-mark services by mark,
//! sized for its number of services as C 7.3 sizes it (`svc_lfactor`).
//!
//! Services change only under the namespace's control mutex, so a change is one insertion or
//! removal on one chain, which readers never wait for. A resize builds a whole new table
//! beside the old one, publishes it and frees the old one after a grace period (C moves the
//! entries instead, under a sequence count, to keep its memory flat); it happens once per
//! doubling or halving, so an add or delete costs O(1) amortised.

use crate::ffi::atomic::Atomic;
use crate::ffi::rcu::{self, ReadSection};
use crate::ffi::timer::cond_resched;
use crate::{
    ffi::rculist::{
        entry_ref,
        impl_chained,
        Chain, //
        ChainLink,
    },
    hash::{
        mix::{
            hash_addr_port, //
            hash_mark,
        },
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
    alloc::KVBox,
    prelude::*,
    sync::{
        atomic::Relaxed,
        Arc, //
        ArcBorrow,
    },
};

/// The table's bounds (C: `IP_VS_SVC_TAB_MIN_BITS`, `IP_VS_SVC_TAB_MAX_BITS`).
pub(crate) const LIMITS: SizeLimits = SizeLimits {
    min_bits: 4,
    max_bits: 20,
};

/// The FTP data port, whose packets an FTP service takes (C: `FTPDATA`).
pub(crate) const FTP_DATA_PORT: u16 = 20;

/// The chains a read-side section of [`ServiceTable::for_each_in_sections`] walks at most:
/// a sparse table's empty chains cost a load each.
const CHAINS_PER_SECTION: usize = 1024;

/// A service's entry in one table: a copy of its key, compared before the service itself is
/// read, and a counted reference to it.
struct ServiceNode {
    /// Its place on its chain.
    link: ChainLink,
    /// The service's key.
    key: ServiceKey,
    /// The service.
    service: Arc<Service>,
}

impl_chained!(ServiceNode, link);

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
    /// The chains, `shape.size` of them.
    chains: Pin<KVBox<[Chain<ServiceNode>]>>,
    /// IPv4 and IPv6 services by kind.
    families: [FamilyCounts; 2],
    /// Services in the table.
    len: Atomic<u32>,
}

/// The index of `af` in [`ServiceTable::families`] (C: `ip_vs_af_index`).
pub(crate) fn family_index(af: u16) -> usize {
    usize::from(af == uapi::AF_INET6)
}

impl ServiceTable {
    /// An empty table of `size` buckets (a power of two) sized with `lfactor`.
    pub(crate) fn new(size: u32, lfactor: i32) -> Result<Arc<Self>> {
        let chains = KVBox::pin_slice(|_| Chain::new(), size as usize, GFP_KERNEL)?;
        Ok(Arc::new(
            ServiceTable {
                seed: crate::ffi::timer::random_u32(),
                shape: Shape { size, lfactor },
                chains,
                families: [FamilyCounts::new(), FamilyCounts::new()],
                len: Atomic::new(0),
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

    /// The chain of `key`.
    fn chain_of(&self, key: &ServiceKey) -> Option<&Chain<ServiceNode>> {
        let hash = if key.fwmark != 0 {
            hash_mark(self.seed, key.af, key.fwmark)
        } else {
            hash_addr_port(self.seed, key.af, key.protocol as u8, &key.addr, key.port)
        };
        let mask = self.shape.size.wrapping_sub(1);
        self.chains.get((hash & mask) as usize)
    }

    /// Adds `service` (`ip_vs_svc_hash`). Allocates; the caller holds the control mutex.
    pub(crate) fn insert(&self, service: &Arc<Service>) -> Result {
        let node = Arc::new(
            ServiceNode {
                link: ChainLink::new(),
                key: service.key,
                service: service.clone(),
            },
            GFP_KERNEL,
        )?;
        self.chain_of(&service.key)
            .ok_or(EINVAL)?
            .push_front(node)?;
        if let Some(family) = self.families.get(family_index(service.key.af)) {
            family.count(&service.key, 1);
        }
        self.len.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Takes `service` out (`ip_vs_svc_unhash`); readers still walking its chain see it until
    /// their read-side section ends. Whether it was in the table.
    pub(crate) fn remove(&self, service: &Service) -> bool {
        let Some(chain) = self.chain_of(&service.key) else {
            return false;
        };
        let node = {
            let guard = rcu::read_lock();
            chain
                .iter(&guard)
                .find(|n| core::ptr::eq(&*n.service, service))
                .map(|n| n.counted())
        };
        let Some(node) = node else {
            return false;
        };
        if !chain.remove(&node) {
            return false;
        }
        if let Some(family) = self.families.get(family_index(service.key.af)) {
            family.count(&service.key, -1);
        }
        self.len.fetch_sub(1, Relaxed);
        true
    }

    /// A copy of this table with `size` buckets and load factor `lfactor`, holding the same
    /// services, for the resize. Allocates; the caller holds the control mutex.
    pub(crate) fn resized(&self, size: u32, lfactor: i32) -> Result<Arc<Self>> {
        let table = Self::new(size, lfactor)?;
        // Collected first: inserting allocates, which may sleep, so not in a read-side
        // section.
        for service in self.collect()?.iter() {
            table.insert(service)?;
        }
        Ok(table)
    }

    /// The service with exactly `key` (`__ip_vs_service_find`, `__ip_vs_svc_fwm_find`): a
    /// firewall-mark key matches by family and mark, an address key by family, protocol,
    /// address and port.
    pub(crate) fn get<'g>(
        &'g self,
        guard: &'g ReadSection,
        key: &ServiceKey,
    ) -> Option<ArcBorrow<'g, Service>> {
        let chain = self.chain_of(key)?;
        let node = chain.iter(guard).find(|n| {
            let k = &n.key;
            if key.fwmark != 0 {
                k.fwmark == key.fwmark && k.af == key.af
            } else {
                k.port == key.port
                    && k.fwmark == 0
                    && k.protocol == key.protocol
                    && k.af == key.af
                    && k.addr == key.addr
            }
        })?;
        // The node, and so its reference to the service, lives for the read-side section.
        Some(entry_ref(node).service.as_arc_borrow())
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
    ) -> Option<ArcBorrow<'g, Service>> {
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

    /// Every service, chain by chain (C's table order), for the read-side section of `guard`.
    pub(crate) fn iter<'g>(
        &'g self,
        guard: &'g ReadSection,
    ) -> impl Iterator<Item = ArcBorrow<'g, Service>> + 'g {
        self.chains
            .iter()
            .flat_map(move |chain| chain.iter(guard))
            .map(|node| entry_ref(node).service.as_arc_borrow())
    }

    /// Calls `f` with every service, chain by chain, in read-side sections of at most
    /// `services_per_section` services (or [`CHAINS_PER_SECTION`] chains), rescheduling
    /// between them: a walk of a whole table that neither allocates nor holds up a grace
    /// period (C's estimator kthreads walk their chains with `cond_resched_rcu`). A chain is
    /// always walked within one section. The caller holds the table (it may be replaced by a
    /// resize meanwhile): services added to a chain already walked, or after a resize, are not
    /// seen this time; a service removed meanwhile may still be (it lives while seen).
    pub(crate) fn for_each_in_sections(
        &self,
        services_per_section: usize,
        mut f: impl FnMut(&Service),
    ) {
        let mut chains = self.chains.iter().peekable();
        while chains.peek().is_some() {
            {
                let guard = rcu::read_lock();
                let (mut services, mut walked) = (0usize, 0usize);
                while services < services_per_section && walked < CHAINS_PER_SECTION {
                    let Some(chain) = chains.next() else {
                        break;
                    };
                    walked += 1;
                    for node in chain.iter(&guard) {
                        f(&entry_ref(node).service);
                        services += 1;
                    }
                }
            }
            cond_resched();
        }
    }

    /// Counted references to every service, in table order, taken in one read-side section;
    /// allocates (the list first, outside the section). Under the control mutex the table does
    /// not change; without it (the locality caches' expiry, which then does not hold up the
    /// control requests), services added meanwhile fit in some room, and `ENOMEM` says more were.
    pub(crate) fn collect(&self) -> Result<KVec<Arc<Service>>> {
        /// Room for services added between the count and the walk.
        const ROOM: usize = 64;
        let capacity = (self.len() as usize).saturating_add(ROOM);
        let mut list = KVec::with_capacity(capacity, GFP_KERNEL)?;
        let guard = rcu::read_lock();
        for service in self.iter(&guard) {
            list.push_within_capacity(service.into())
                .map_err(|_| ENOMEM)?;
        }
        Ok(list)
    }
}
