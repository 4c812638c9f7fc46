// SPDX-License-Identifier: GPL-2.0

//! Locality-based least-connection scheduling with replication (C: `ip_vs_lblcr.c`).
//!
//! As lblc, but each destination address is cached with a set of servers: a new connection
//! goes to the weighted least-connection member of the set; when that one is overloaded, the
//! weighted least-connection server of the whole service joins the set and takes it. A set
//! that has not changed for `lblcr_expiration` loses its most loaded member on the next
//! lookup, so a set shrinks back once its load has passed.
//!
//! A set lists its members newest first (C inserts at the head); it is stored oldest first
//! and walked in reverse. A member that left the service stays in the set, as C's reference
//! keeps it in the trash list: never picked, but still weighed when the most loaded member is
//! dropped.

use super::{
    dest_view::{
        ClientInfo, //
        DestView,
    },
    lblc::{
        find_dest, //
        is_overloaded,
        least_loaded,
        same_dest,
        time_before,
        Entry,
        List,
        Lists,
        LocalityTable,
    },
    wlc::conn_overhead,
};

/// The servers cached for one destination address (C: `struct ip_vs_dest_set`).
pub(crate) struct DestSet<L: Lists, D> {
    /// When a member was last added or removed, in jiffies (`set->lastmod`).
    lastmod: u64,
    /// The members, oldest first.
    members: L::List<D>,
}

impl<L: Lists, D: DestView + Clone> DestSet<L, D> {
    /// The members in C list order, newest first, each as it is now: the copy in `dests`
    /// while the server is in the service (with `true`), the kept one otherwise.
    fn members<'a>(&'a self, dests: &'a [D]) -> impl Iterator<Item = (&'a D, bool)> + 'a {
        self.members.iter().rev().map(move |member| {
            match find_dest(dests, member).and_then(|index| dests.get(index)) {
                Some(current) => (current, true),
                None => (member, false),
            }
        })
    }

    /// Adds `dest` at `now` unless it is a member already (`ip_vs_dest_set_insert` with
    /// `check`); a failed allocation leaves the set as it was.
    fn insert(&mut self, dest: &D, now: u64) {
        if self.members.iter().any(|member| same_dest(member, dest)) {
            return;
        }
        if self.members.try_push(dest.clone()) {
            self.lastmod = now;
        }
    }

    /// Removes the member that is the server `dest` at `now` (`ip_vs_dest_set_erase`).
    fn erase(&mut self, dest: &D, now: u64) {
        if let Some(index) = self.members.iter().position(|m| same_dest(m, dest)) {
            self.members.remove_at(index);
            self.lastmod = now;
        }
    }

    /// The weighted least-connection member still in the service, not overloaded and of
    /// positive weight (`ip_vs_dest_set_min`): its index in `dests`.
    fn min(&self, dests: &[D]) -> Option<usize> {
        let mut members = self.members(dests);
        let (mut least, _) = members
            .by_ref()
            .find(|(d, available)| !d.overloaded() && d.weight() > 0 && *available)?;
        let mut least_overhead = conn_overhead(least);
        for (dest, available) in members {
            if dest.overloaded() {
                continue;
            }
            let overhead = conn_overhead(dest);
            // Products of two `i32` values fit in an `i64`.
            if i64::from(least_overhead).wrapping_mul(i64::from(dest.weight()))
                > i64::from(overhead).wrapping_mul(i64::from(least.weight()))
                && available
            {
                least = dest;
                least_overhead = overhead;
            }
        }
        find_dest(dests, least)
    }

    /// The weighted most-connection member of positive weight, whether or not it is still
    /// in the service (`ip_vs_dest_set_max`).
    fn max(&self, dests: &[D]) -> Option<D> {
        let mut members = self.members(dests);
        let (mut most, _) = members.by_ref().find(|(d, _)| d.weight() > 0)?;
        let mut most_overhead = conn_overhead(most);
        for (dest, _) in members {
            let overhead = conn_overhead(dest);
            if i64::from(most_overhead).wrapping_mul(i64::from(dest.weight()))
                < i64::from(overhead).wrapping_mul(i64::from(most.weight()))
                && dest.weight() > 0
            {
                most = dest;
                most_overhead = overhead;
            }
        }
        Some(most.clone())
    }
}

/// Locality-based least-connection scheduling with replication of one service (C: the
/// lblcr table of `svc->sched_data`).
pub(crate) struct LocalityReplicated<L: Lists, D> {
    /// The cache.
    pub(crate) table: LocalityTable<L, DestSet<L, D>>,
}

impl<L: Lists, D: DestView + Clone> LocalityReplicated<L, D> {
    /// Starts scheduling a service with `buckets` for its table (`ip_vs_lblcr_init_svc`).
    pub(crate) fn new(buckets: L::List<L::List<Entry<DestSet<L, D>>>>) -> Option<Self> {
        Some(LocalityReplicated {
            table: LocalityTable::new(buckets)?,
        })
    }

    /// Picks a destination for a packet to `client.daddr` at `now`, where a set unchanged for
    /// `expiration` jiffies sheds its most loaded member (`ip_vs_lblcr_schedule`).
    pub(crate) fn schedule(
        &mut self,
        dests: &[D],
        client: &ClientInfo,
        now: u64,
        expiration: u64,
    ) -> Option<usize> {
        if let Some(en) = self.table.get_mut(&client.daddr) {
            en.lastuse = now;
            let set = &mut en.value;
            let picked = set.min(dests);
            if set.members.len() > 1 && time_before(set.lastmod.wrapping_add(expiration), now) {
                if let Some(most) = set.max(dests) {
                    set.erase(&most, now);
                }
            }
            if let Some(index) = picked {
                if dests.get(index).is_some_and(|d| !is_overloaded(d, dests)) {
                    return Some(index);
                }
            }
            let index = least_loaded(dests)?;
            set.insert(dests.get(index)?, now);
            return Some(index);
        }
        let index = least_loaded(dests)?;
        let dest = dests.get(index)?;
        let mut set: DestSet<L, D> = DestSet {
            lastmod: now,
            members: List::empty(),
        };
        // `ip_vs_dest_set_insert` without the check; the entry stays if it fails.
        if set.members.try_push(dest.clone()) {
            set.lastmod = now;
        }
        self.table.insert(client.daddr, now, set);
        Some(index)
    }
}
