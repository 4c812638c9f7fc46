// SPDX-License-Identifier: GPL-2.0

//! The deleted destinations of a namespace (C: `ipvs->dest_trash`), kept for an add of the
//! same destination to revive (`ip_vs_trash_get_dest`) until unused for a trash period
//! (`ip_vs_dest_trash_expire`).
//!
//! C walks its trash list for every destination added, so reloading a configuration
//! (`ipvsadm -C` then `ipvsadm -R`: the flush puts every real server in the trash, the restore
//! takes each back) compares n²/2 pairs for n real servers. Here the entries are chained by a
//! hash of what identifies them, and an add looks in one chain of about one entry.
//!
//! The entries lie in one vector in no order; each holds the index of the next entry of its
//! chain. An entry is hashed and chained when the trash is next searched, not when it is put
//! in: a flush puts every real server in at once (30,000 for 10,000 services) and is timed
//! against C's, whose list insertion does no more than link. Everything is changed under the
//! control mutex only.

use crate::{
    hash::mix::{
        hash_addr_port, //
        hash_mark,
    },
    packet::NfInetAddr,
    service::{
        Dest, //
        Service,
        ServiceKey,
    },
};
use kernel::{
    prelude::*,
    sync::{
        atomic::Relaxed, //
        Arc,
    },
};

/// A deleted destination (C: an entry of `ipvs->dest_trash`). Connections and templates may
/// still use it; an add of the same destination to a service with the same key revives it,
/// with its connections and counters, until it has been unused for a trash period.
pub(crate) struct TrashedDest {
    /// The service it was deleted from (C: `dest->svc`, to which it keeps a reference).
    pub(crate) service: Arc<Service>,
    /// The destination.
    pub(crate) dest: Arc<Dest>,
    /// When it was first found unused, in jiffies; 0 until then (`dest->idle_start`).
    idle_start: u64,
    /// [`identity_hash`] of its service key and address, once chained.
    hash: u32,
    /// The index of the next entry of its chain, plus one; 0 ends the chain.
    next: u32,
}

impl TrashedDest {
    /// Whether this is the destination `af`/`addr`/`port` of a service with `key`
    /// (`ip_vs_trash_get_dest`: a firewall-mark service matches by mark and protocol, an
    /// address service by protocol, address and port).
    fn is(&self, key: &ServiceKey, af: u16, addr: &NfInetAddr, port: u16) -> bool {
        let old = &self.service.key;
        let same_service = old.fwmark == key.fwmark
            && old.protocol == key.protocol
            && (key.fwmark != 0
                || (old.af == key.af && old.addr == key.addr && old.port == key.port));
        same_service && self.dest.af == af && self.dest.addr == *addr && self.dest.port == port
    }

    /// Whether connections or templates still use the destination.
    fn in_use(&self) -> bool {
        self.dest.total_conns() != 0 || self.dest.persist_conns.load(Relaxed) != 0
    }
}

/// The hash of the destination `af`/`addr`/`port` of a service with `key`, over what
/// [`TrashedDest::is`] compares: equal for every entry `is` matches.
fn identity_hash(key: &ServiceKey, af: u16, addr: &NfInetAddr, port: u16) -> u32 {
    // The protocol field is the IP protocol (a byte), as the service table hashes it.
    let protocol = key.protocol as u8;
    let service = if key.fwmark != 0 {
        hash_mark(u32::from(protocol), 0, key.fwmark)
    } else {
        hash_addr_port(0, key.af, protocol, &key.addr, key.port)
    };
    hash_addr_port(service, af, 0, addr, port)
}

/// The fewest chains a trash has once it has had room for an entry.
const MIN_HEADS: usize = 16;

/// The trash: [`TrashedDest`]s chained by [`identity_hash`].
///
/// # Invariants
///
/// `heads.len()` is a power of two (or 0 with no entries) at least `entries.len()`; each of
/// the first `chained` entries is on exactly one chain, that of `heads[hash & (heads.len() -
/// 1)]`, through the `next` links (indices into `entries`, plus one); the others are on none.
pub(crate) struct Trash {
    /// The entries, in no order. Both arrays may be large (a flush puts every real server
    /// in), so they come from `kvmalloc`: `kmalloc` gives at most 4 MB, 131,072 entries.
    entries: KVVec<TrashedDest>,
    /// The first entry of each chain, plus one; 0 for an empty chain.
    heads: KVVec<u32>,
    /// How many entries, from the first, are chained.
    chained: usize,
}

impl Trash {
    /// An empty trash.
    pub(crate) const fn new() -> Self {
        Trash {
            entries: KVVec::new(),
            heads: KVVec::new(),
            chained: 0,
        }
    }

    /// Makes room for `more` entries, so that as many [`Trash::push`] neither allocate nor
    /// fail.
    pub(crate) fn reserve(&mut self, more: usize) -> Result {
        self.entries.reserve(more, GFP_KERNEL)?;
        let wanted = self
            .entries
            .len()
            .checked_add(more)
            .and_then(usize::checked_next_power_of_two)
            .ok_or(ENOMEM)?
            .max(MIN_HEADS);
        if wanted > self.heads.len() {
            let mut heads = KVVec::with_capacity(wanted, GFP_KERNEL)?;
            heads.resize(wanted, 0, GFP_KERNEL)?;
            self.heads = heads;
            // The next search chains every entry on the new heads.
            self.chained = 0;
        }
        Ok(())
    }

    /// Puts `dest`, deleted from `service`, in the trash, whose room the caller reserved
    /// ([`Trash::reserve`]): this neither allocates nor sleeps, and drops nothing but an
    /// entry for which there was no room. It is chained by the next search.
    pub(crate) fn push(&mut self, service: &Arc<Service>, dest: Arc<Dest>) {
        self.put_back(TrashedDest {
            service: service.clone(),
            dest,
            idle_start: 0,
            hash: 0,
            next: 0,
        });
    }

    /// Puts `entry`, just taken out by [`Trash::take`], back (its room is still there), to
    /// be chained by the next search.
    pub(crate) fn put_back(&mut self, entry: TrashedDest) {
        if self.entries.len() < self.heads.len() {
            let _ = self.entries.push_within_capacity(entry);
        }
    }

    /// Hashes and chains the entries put in since the last search.
    fn chain_new_entries(&mut self) {
        let heads = self.heads.len();
        for (index, entry) in self.entries.iter_mut().enumerate().skip(self.chained) {
            entry.hash = identity_hash(
                &entry.service.key,
                entry.dest.af,
                &entry.dest.addr,
                entry.dest.port,
            );
            if let Some(head) = self.heads.get_mut(chain(entry.hash, heads)) {
                entry.next = *head;
                *head = index as u32 + 1;
            }
        }
        self.chained = self.entries.len();
    }

    /// Takes out the destination `af`/`addr`/`port` of a service with `key`, if the trash
    /// has it (`ip_vs_trash_get_dest`).
    pub(crate) fn take(
        &mut self,
        key: &ServiceKey,
        af: u16,
        addr: &NfInetAddr,
        port: u16,
    ) -> Option<TrashedDest> {
        self.chain_new_entries();
        let hash = identity_hash(key, af, addr, port);
        let link = self.find_link(hash, |e| e.hash == hash && e.is(key, af, addr, port))?;
        let entry = self.unlink(hash, link);
        self.chained = self.entries.len();
        entry
    }

    /// The link (index plus one) of the first entry of chain `hash` that `wanted` accepts.
    fn find_link(&self, hash: u32, wanted: impl Fn(&TrashedDest) -> bool) -> Option<u32> {
        let mut link = *self.heads.get(chain(hash, self.heads.len()))?;
        while link != 0 {
            let entry = self.entries.get((link - 1) as usize)?;
            if wanted(entry) {
                return Some(link);
            }
            link = entry.next;
        }
        None
    }

    /// Removes the entry at `link` (index plus one, not 0), on chain `hash`: unlinked, its
    /// place taken by the last entry, whose own link is redirected.
    fn unlink(&mut self, hash: u32, link: u32) -> Option<TrashedDest> {
        let index = (link - 1) as usize;
        let next = self.entries.get(index)?.next;
        self.redirect(hash, link, next);
        let last = self.entries.pop()?;
        let last_link = self.entries.len() as u32 + 1;
        if last_link == link {
            return Some(last);
        }
        self.redirect(last.hash, last_link, link);
        Some(core::mem::replace(self.entries.get_mut(index)?, last))
    }

    /// Makes what points to `from` on chain `hash` (its head, or an entry's `next`) point to
    /// `to`.
    fn redirect(&mut self, hash: u32, from: u32, to: u32) {
        let at = chain(hash, self.heads.len());
        let Some(head) = self.heads.get_mut(at) else {
            return;
        };
        if *head == from {
            *head = to;
            return;
        }
        let mut link = *head;
        while let Some(entry) = link
            .checked_sub(1)
            .and_then(|i| self.entries.get_mut(i as usize))
        {
            if entry.next == from {
                entry.next = to;
                return;
            }
            link = entry.next;
        }
    }

    /// Frees the entries unused for `period` jiffies (`ip_vs_dest_trash_expire`, which C runs
    /// every half period): the first pass that finds one unused starts its idle time, a pass
    /// a period later frees it.
    pub(crate) fn expire(&mut self, now: u64, period: u64) {
        let before = self.entries.len();
        self.entries.retain(|t| {
            if t.in_use() {
                return true;
            }
            if t.idle_start == 0 {
                t.idle_start = now.max(1);
                return true;
            }
            crate::sched::lblc::time_before(now, t.idle_start.wrapping_add(period))
        });
        if self.entries.len() != before {
            self.unchain_all();
        }
    }

    /// Empties the trash.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.unchain_all();
    }

    /// Empties every chain: entries moved or gone, the next search chains them all again.
    fn unchain_all(&mut self) {
        self.heads.iter_mut().for_each(|head| *head = 0);
        self.chained = 0;
    }
}

/// The chain of `hash` among `heads` heads (a power of two).
fn chain(hash: u32, heads: usize) -> usize {
    hash as usize & heads.wrapping_sub(1)
}
