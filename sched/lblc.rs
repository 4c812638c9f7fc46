// SPDX-License-Identifier: GPL-2.0

//! Locality-based least-connection scheduling (C: `ip_vs_lblc.c`), and the table of
//! destination addresses that it shares with lblcr ([`LocalityTable`]).
//!
//! A cache maps each destination address packets are sent to (the VIP of a cache cluster's
//! clients, typically) to the real server chosen for it. A new connection goes to the cached
//! server while it is available, has a positive weight and is not overloaded (more active
//! connections than its weight while another server is under half its own); otherwise the
//! weighted least-connection server is picked and cached.
//!
//! The cache is bounded as C bounds it: at most `1.5 * MAX_SIZE` entries, allocated on the
//! packet path (atomically; a failed allocation only skips caching). Entries expire in
//! [`LocalityTable::check_expire`], which the module runs once a minute per service in
//! process context (C: `CHECK_EXPIRE_INTERVAL`), one bucket at a time.
//!
//! An entry names its server by address and port, which identify a destination within its
//! service: a server deleted and added again is the same server, as C's trash list makes it
//! (`ip_vs_trash_get_dest` revives the object the entry points to).

use super::{
    dest_view::{
        ClientInfo, //
        DestView,
        InetAddr,
    },
    wlc::{
        conn_overhead, //
        least_weighted_overhead,
    },
};
use core::ops::DerefMut;

/// Bits of the bucket index (`CONFIG_IP_VS_LBLC_TAB_BITS`, `CONFIG_IP_VS_LBLCR_TAB_BITS`).
pub(crate) const TABLE_BITS: u32 = 10;

/// Buckets of a table (`IP_VS_LBLC_TAB_SIZE`).
pub(crate) const TABLE_SIZE: usize = 1 << TABLE_BITS;

/// Entries above which the periodic check collects stale ones (`tbl->max_size`); no entry is
/// added at 1.5 times this.
pub(crate) const MAX_SIZE: usize = TABLE_SIZE * 16;

/// Seconds after which an unused entry may be collected when the table is over
/// [`MAX_SIZE`] (`ENTRY_TIMEOUT`).
pub(crate) const ENTRY_TIMEOUT_SECS: u64 = 6 * 60;

/// The default of `lblc_expiration` and `lblcr_expiration`, in seconds
/// (`DEFAULT_EXPIRATION`).
pub(crate) const DEFAULT_EXPIRATION_SECS: u64 = 24 * 60 * 60;

/// Every this many checks without a collection, a check is a full one that drops the entries
/// unused for the expiration time (`COUNT_FOR_FULL_EXPIRATION`).
const COUNT_FOR_FULL_EXPIRATION: u32 = 30;

/// A growable list whose growth may fail (the kernel's `KVec` with `GFP_ATOMIC`, a `Vec` in
/// the host tests).
pub(crate) trait List<T>: DerefMut<Target = [T]> {
    /// An empty list.
    fn empty() -> Self;

    /// Appends `item`; `false` when memory runs out (the item is dropped).
    fn try_push(&mut self, item: T) -> bool;

    /// Removes the item at `index`, keeping the order of the others.
    fn remove_at(&mut self, index: usize) -> Option<T>;
}

/// A family of [`List`] types, so one scheduler type can hold lists of several item types.
pub(crate) trait Lists {
    /// The list of `T` items.
    type List<T>: List<T>;
}

/// `time_before(a, b)`: `a` is earlier than `b`, with jiffies wrapping.
pub(crate) fn time_before(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) < 0
}

/// The bucket of a destination address (`ip_vs_lblc_hashkey`).
pub(crate) fn bucket_of(addr: &InetAddr) -> usize {
    super::dest_view::hash_32(addr.fold(), TABLE_BITS) as usize
}

/// Whether `dest` has more active connections than its weight while another server of
/// `dests` is under half of its own (`is_overloaded` of lblc and lblcr).
pub(crate) fn is_overloaded<D: DestView>(dest: &D, dests: &[D]) -> bool {
    // C reads both as `int`.
    if (dest.active_conns() as i32) <= dest.weight() {
        return false;
    }
    dests
        .iter()
        .any(|d| (d.active_conns() as i32).wrapping_mul(2) < d.weight())
}

/// The weighted least-connection destination (`__ip_vs_lblc_schedule`,
/// `__ip_vs_lblcr_schedule`: wlc's loop).
pub(crate) fn least_loaded<D: DestView>(dests: &[D]) -> Option<usize> {
    least_weighted_overhead(dests, conn_overhead)
}

/// Whether `a` and `b` are the same real server of a service (address and port).
pub(crate) fn same_dest<A: DestView, B: DestView>(a: &A, b: &B) -> bool {
    a.port() == b.port() && a.addr() == b.addr()
}

/// The index in `dests` of the server `dest` names, when it is still in the service.
pub(crate) fn find_dest<D: DestView>(dests: &[D], dest: &D) -> Option<usize> {
    dests.iter().position(|d| same_dest(d, dest))
}

/// An entry of a [`LocalityTable`]: what is cached for one destination address.
pub(crate) struct Entry<V> {
    /// The destination address (`en->addr`).
    pub(crate) addr: InetAddr,
    /// When the entry was last looked up or created, in jiffies (`en->lastuse`).
    pub(crate) lastuse: u64,
    /// The cached server (lblc) or server set (lblcr).
    pub(crate) value: V,
}

/// How [`LocalityTable::check_expire`] collects entries, one bucket at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sweep {
    /// The first bucket to visit: the one after the bucket the last sweep stopped at.
    pub(crate) start: usize,
    /// Entries unused for this many jiffies are dropped.
    pub(crate) timeout: u64,
    /// Stop after the bucket in which this many entries were dropped; [`None`] visits every
    /// bucket (the full check).
    pub(crate) goal: Option<usize>,
}

/// The hash table of lblc and lblcr (C: `struct ip_vs_lblc_table`), [`TABLE_SIZE`] buckets
/// of entries in any order (a destination address has one entry at most, so the order of a
/// bucket changes no lookup and no collection).
pub(crate) struct LocalityTable<L: Lists, V> {
    /// The buckets.
    buckets: L::List<L::List<Entry<V>>>,
    /// Entries in all buckets (`tbl->entries`).
    entries: usize,
    /// The bucket the last collection stopped at (`tbl->rover`).
    rover: usize,
    /// Checks since the last full one, from 1 (`tbl->counter`).
    counter: u32,
}

impl<L: Lists, V> LocalityTable<L, V> {
    /// An empty table over `buckets`, which must hold [`TABLE_SIZE`] empty lists (allocated by
    /// the caller, off the packet path); [`None`] otherwise.
    pub(crate) fn new(buckets: L::List<L::List<Entry<V>>>) -> Option<Self> {
        if buckets.len() != TABLE_SIZE || buckets.iter().any(|b| !b.is_empty()) {
            return None;
        }
        Some(LocalityTable {
            buckets,
            entries: 0,
            rover: 0,
            counter: 1,
        })
    }

    /// The number of entries.
    #[allow(dead_code, reason = "the host tests check the bound")]
    pub(crate) fn len(&self) -> usize {
        self.entries
    }

    /// The entry of `addr` (`ip_vs_lblc_get`).
    pub(crate) fn get_mut(&mut self, addr: &InetAddr) -> Option<&mut Entry<V>> {
        self.buckets
            .get_mut(bucket_of(addr))?
            .iter_mut()
            .find(|en| en.addr == *addr)
    }

    /// Removes the entry of `addr`, if any.
    pub(crate) fn remove(&mut self, addr: &InetAddr) {
        let Some(bucket) = self.buckets.get_mut(bucket_of(addr)) else {
            return;
        };
        if let Some(index) = bucket.iter().position(|en| en.addr == *addr) {
            if bucket.remove_at(index).is_some() {
                self.entries = self.entries.saturating_sub(1);
            }
        }
    }

    /// Adds an entry for an address that has none, unless the table holds 1.5 times
    /// [`MAX_SIZE`] or memory runs out (`ip_vs_lblc_new`); `true` when added.
    pub(crate) fn insert(&mut self, addr: InetAddr, now: u64, value: V) -> bool {
        if self.entries >= MAX_SIZE * 3 / 2 {
            return false;
        }
        let Some(bucket) = self.buckets.get_mut(bucket_of(&addr)) else {
            return false;
        };
        let added = bucket.try_push(Entry {
            addr,
            lastuse: now,
            value,
        });
        if added {
            self.entries = self.entries.saturating_add(1);
        }
        added
    }

    /// Starts the periodic check (`ip_vs_lblc_check_expire`): the sweep to run over the
    /// buckets with [`LocalityTable::sweep_bucket`], or [`None`] when this check collects
    /// nothing.
    ///
    /// Every [`COUNT_FOR_FULL_EXPIRATION`]th check is full: every bucket, `expiration`
    /// jiffies. Otherwise only a table over [`MAX_SIZE`] is swept, for entries unused for
    /// `entry_timeout` jiffies, until about a third more than the excess is gone (at most
    /// half of [`MAX_SIZE`]).
    pub(crate) fn check_expire(&mut self, expiration: u64, entry_timeout: u64) -> Option<Sweep> {
        if self.counter % COUNT_FOR_FULL_EXPIRATION == 0 {
            self.counter = 1;
            return Some(Sweep {
                start: self.sweep_start(),
                timeout: expiration,
                goal: None,
            });
        }
        if self.entries <= MAX_SIZE {
            self.counter = self.counter.saturating_add(1);
            return None;
        }
        let goal = (self.entries.saturating_sub(MAX_SIZE))
            .saturating_mul(4)
            .checked_div(3)
            .unwrap_or(0)
            .min(MAX_SIZE / 2);
        Some(Sweep {
            start: self.sweep_start(),
            timeout: entry_timeout,
            goal: Some(goal),
        })
    }

    /// The first bucket a sweep visits: the one after the rover.
    fn sweep_start(&self) -> usize {
        self.rover.wrapping_add(1) & (TABLE_SIZE - 1)
    }

    /// Drops the entries of `bucket` unused for `timeout` jiffies at `now`, records `bucket`
    /// as where the sweep is, and returns how many were dropped.
    pub(crate) fn sweep_bucket(&mut self, bucket: usize, now: u64, timeout: u64) -> usize {
        self.rover = bucket & (TABLE_SIZE - 1);
        let Some(list) = self.buckets.get_mut(self.rover) else {
            return 0;
        };
        let mut dropped = 0usize;
        let mut index = 0;
        while let Some(en) = list.get(index) {
            if time_before(now, en.lastuse.wrapping_add(timeout)) {
                index = index.saturating_add(1);
            } else if list.remove_at(index).is_some() {
                dropped = dropped.saturating_add(1);
            } else {
                break;
            }
        }
        self.entries = self.entries.saturating_sub(dropped);
        dropped
    }

    /// Runs a whole check at `now` on a table the caller holds throughout (the host tests;
    /// the module runs [`LocalityTable::sweep_bucket`] under the service's lock one bucket
    /// at a time, as C does).
    #[allow(dead_code, reason = "the host tests run whole checks")]
    pub(crate) fn check_expire_all(&mut self, now: u64, expiration: u64, entry_timeout: u64) {
        let Some(sweep) = self.check_expire(expiration, entry_timeout) else {
            return;
        };
        let mut bucket = sweep.start;
        let mut dropped = 0usize;
        for _ in 0..TABLE_SIZE {
            dropped = dropped.saturating_add(self.sweep_bucket(bucket, now, sweep.timeout));
            if sweep.goal.is_some_and(|goal| dropped >= goal) {
                break;
            }
            bucket = bucket.wrapping_add(1) & (TABLE_SIZE - 1);
        }
    }
}

/// Locality-based least-connection scheduling of one service (C: the lblc table of
/// `svc->sched_data`): each destination address cached with one server `D`.
pub(crate) struct LocalityLeastConnection<L: Lists, D> {
    /// The cache.
    pub(crate) table: LocalityTable<L, D>,
}

impl<L: Lists, D: DestView + Clone> LocalityLeastConnection<L, D> {
    /// Starts scheduling a service with `buckets` for its table (`ip_vs_lblc_init_svc`).
    pub(crate) fn new(buckets: L::List<L::List<Entry<D>>>) -> Option<Self> {
        Some(LocalityLeastConnection {
            table: LocalityTable::new(buckets)?,
        })
    }

    /// Picks a destination for a packet to `client.daddr` at `now` (`ip_vs_lblc_schedule`).
    pub(crate) fn schedule(&mut self, dests: &[D], client: &ClientInfo, now: u64) -> Option<usize> {
        if let Some(en) = self.table.get_mut(&client.daddr) {
            en.lastuse = now;
            if let Some(index) = find_dest(dests, &en.value) {
                let dest = dests.get(index)?;
                // The server as it is now (after a delete and re-add, the one in the list).
                en.value = dest.clone();
                if dest.weight() > 0 && !is_overloaded(dest, dests) {
                    return Some(index);
                }
            }
        }
        let index = least_loaded(dests)?;
        let dest = dests.get(index)?;
        match self.table.get_mut(&client.daddr) {
            Some(en) if same_dest(&en.value, dest) => {}
            _ => {
                self.table.remove(&client.daddr);
                self.table.insert(client.daddr, now, dest.clone());
            }
        }
        Some(index)
    }
}
