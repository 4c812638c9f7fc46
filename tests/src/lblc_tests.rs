// SPDX-License-Identifier: GPL-2.0

//! lblc and lblcr against transcriptions of `ip_vs_lblc.c` and `ip_vs_lblcr.c`.
//!
//! The C models keep C's pointers as [`CList`] nodes, which outlive their unlinking as C's
//! trash list keeps a destination an entry points to; a destination added again is the same
//! node, linked again (`ip_vs_trash_get_dest`). The Rust schedulers get the list as
//! [`LiveDest`] handles, which read the destination's current state as the kernel's
//! `Arc<Dest>` does, also after it left the service.

use crate::{
    sched::{
        dest_view::{
            ClientInfo, //
            DestView,
            InetAddr,
        },
        lblc::{
            List, //
            Lists,
            LocalityLeastConnection,
            LocalityTable,
            DEFAULT_EXPIRATION_SECS,
            ENTRY_TIMEOUT_SECS,
            MAX_SIZE,
            TABLE_SIZE,
        },
        lblcr::{
            DestSet, //
            LocalityReplicated,
        },
    },
    support::{
        addr_bytes, //
        c_overhead,
        random_dest,
        random_weight,
        CList,
        CModel,
        CWlc,
        Rng,
        TestDest,
    },
};
use std::{
    cell::Cell, //
    rc::Rc,
    vec::Vec,
};

/// Jiffies per second in these tests (Debian's HZ).
const HZ: u64 = 250;

/// `ENTRY_TIMEOUT` in jiffies.
const ENTRY_TIMEOUT: u64 = ENTRY_TIMEOUT_SECS * HZ;

/// `std` vectors as the tables' lists.
struct VecLists;

impl Lists for VecLists {
    type List<T> = Vec<T>;
}

impl<T> List<T> for Vec<T> {
    fn empty() -> Self {
        Vec::new()
    }

    fn try_push(&mut self, item: T) -> bool {
        self.push(item);
        true
    }

    fn remove_at(&mut self, index: usize) -> Option<T> {
        (index < self.len()).then(|| self.remove(index))
    }
}

/// A destination the Rust schedulers hold: a handle on the test's state of it.
#[derive(Clone, Debug)]
struct LiveDest(Rc<Cell<TestDest>>);

impl DestView for LiveDest {
    fn weight(&self) -> i32 {
        self.0.get().weight
    }

    fn overloaded(&self) -> bool {
        self.0.get().overloaded
    }

    fn active_conns(&self) -> u32 {
        self.0.get().active
    }

    fn inactive_conns(&self) -> u32 {
        self.0.get().inactive
    }

    fn last_weight(&self) -> i32 {
        self.0.get().last_weight
    }

    fn addr(&self) -> InetAddr {
        InetAddr::V4(self.0.get().addr)
    }

    fn port(&self) -> u16 {
        self.0.get().port
    }
}

/// `time_before()` on `unsigned long` jiffies.
fn c_time_before(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) < 0
}

/// `ip_vs_lblc_hashkey` / `ip_vs_lblcr_hashkey`: `hash_32(ntohl(addr_fold), 10)`.
fn c_hashkey(addr: InetAddr) -> usize {
    let bytes = addr_bytes(addr);
    let fold = bytes
        .chunks(4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .fold(0, |a, b| a ^ b);
    (fold.wrapping_mul(0x61C8_8647) >> (32 - 10)) as usize
}

/// `struct ip_vs_lblc_entry` / `struct ip_vs_lblcr_entry`.
struct CEntry<V> {
    addr: InetAddr,
    lastuse: u64,
    value: V,
}

/// `struct ip_vs_lblc_table` / `struct ip_vs_lblcr_table`; each bucket an hlist, head first.
struct CTable<V> {
    bucket: Vec<Vec<CEntry<V>>>,
    entries: i32,
    max_size: i32,
    rover: usize,
    counter: i32,
}

impl<V> CTable<V> {
    /// `ip_vs_lblc_init_svc`.
    fn new() -> Self {
        CTable {
            bucket: (0..1024).map(|_| Vec::new()).collect(),
            entries: 0,
            max_size: 1024 * 16,
            rover: 0,
            counter: 1,
        }
    }

    /// `ip_vs_lblc_get`.
    fn get(&mut self, addr: InetAddr) -> Option<&mut CEntry<V>> {
        self.bucket[c_hashkey(addr)]
            .iter_mut()
            .find(|en| en.addr == addr)
    }

    /// `ip_vs_lblc_hash`: `hlist_add_head_rcu` and `atomic_inc`.
    fn hash(&mut self, en: CEntry<V>) {
        self.bucket[c_hashkey(en.addr)].insert(0, en);
        self.entries += 1;
    }

    /// The bucket walk of `ip_vs_lblc_full_check` (`timeout` the expiration, no goal) and of
    /// `ip_vs_lblc_check_expire` (`ENTRY_TIMEOUT` and the goal).
    fn walk(&mut self, now: u64, timeout: u64, mut goal: Option<i32>) {
        let mut j = self.rover;
        for _ in 0..1024 {
            j = (j + 1) & 1023;
            let bucket = &mut self.bucket[j];
            let mut i = 0;
            while i < bucket.len() {
                if c_time_before(now, bucket[i].lastuse.wrapping_add(timeout)) {
                    i += 1;
                    continue;
                }
                bucket.remove(i);
                self.entries -= 1;
                if let Some(goal) = goal.as_mut() {
                    *goal -= 1;
                }
            }
            if goal.is_some_and(|goal| goal <= 0) {
                break;
            }
        }
        self.rover = j;
    }

    /// `ip_vs_lblc_check_expire` (and lblcr's, the same text).
    fn check_expire(&mut self, now: u64, expiration: u64) {
        if self.counter % 30 == 0 {
            self.walk(now, expiration, None);
            self.counter = 1;
            return;
        }
        if self.entries <= self.max_size {
            self.counter += 1;
            return;
        }
        let mut goal = (self.entries - self.max_size) * 4 / 3;
        if goal > self.max_size / 2 {
            goal = self.max_size / 2;
        }
        self.walk(now, ENTRY_TIMEOUT, Some(goal));
    }
}

/// `is_overloaded` of `ip_vs_lblc.c` and `ip_vs_lblcr.c`.
fn c_is_overloaded(list: &CList, dest: usize) -> bool {
    if list.dest(dest).active as i32 > list.dest(dest).weight {
        for d in list.nodes() {
            if (list.dest(d).active as i32).wrapping_mul(2) < list.dest(d).weight {
                return true;
            }
        }
    }
    false
}

/// `__ip_vs_lblc_schedule` / `__ip_vs_lblcr_schedule`, which are wlc's loop.
fn c_least(list: &CList, client: &ClientInfo) -> Option<usize> {
    CWlc::init(list).schedule(list, client)
}

/// `ip_vs_lblc.c`.
struct CLblc {
    tbl: CTable<usize>,
}

impl CLblc {
    /// `ip_vs_lblc_new`.
    fn new_entry(&mut self, daddr: InetAddr, dest: usize, now: u64) {
        let h = c_hashkey(daddr);
        if let Some(i) = self.tbl.bucket[h].iter().position(|en| en.addr == daddr) {
            if self.tbl.bucket[h][i].value == dest {
                return;
            }
            self.tbl.bucket[h].remove(i);
            self.tbl.entries -= 1;
        }
        if self.tbl.entries >= self.tbl.max_size * 3 / 2 {
            return;
        }
        self.tbl.hash(CEntry {
            addr: daddr,
            lastuse: now,
            value: dest,
        });
    }

    /// `ip_vs_lblc_schedule`.
    fn schedule(&mut self, list: &CList, client: &ClientInfo, now: u64) -> Option<usize> {
        if let Some(en) = self.tbl.get(client.daddr) {
            en.lastuse = now;
            let dest = en.value;
            if list.is_linked(dest) && list.dest(dest).weight > 0 && !c_is_overloaded(list, dest) {
                return Some(dest);
            }
        }
        let dest = c_least(list, client)?;
        self.new_entry(client.daddr, dest, now);
        Some(dest)
    }
}

/// `struct ip_vs_dest_set`: the members in list order, head first.
struct CSet {
    size: i32,
    lastmod: u64,
    list: Vec<usize>,
}

impl CSet {
    /// `ip_vs_dest_set_insert`.
    fn insert(&mut self, dest: usize, check: bool, now: u64) {
        if check && self.list.contains(&dest) {
            return;
        }
        self.list.insert(0, dest);
        self.size += 1;
        self.lastmod = now;
    }

    /// `ip_vs_dest_set_erase`.
    fn erase(&mut self, dest: usize, now: u64) {
        if let Some(i) = self.list.iter().position(|&e| e == dest) {
            self.size -= 1;
            self.lastmod = now;
            self.list.remove(i);
        }
    }

    /// `ip_vs_dest_set_min`.
    fn min(&self, list: &CList) -> Option<usize> {
        let mut it = self.list.iter();
        let mut least;
        loop {
            least = *it.next()?;
            if list.dest(least).overloaded {
                continue;
            }
            if list.dest(least).weight > 0 && list.is_linked(least) {
                break;
            }
        }
        let mut loh = c_overhead(list.dest(least));
        for &dest in it {
            if list.dest(dest).overloaded {
                continue;
            }
            let doh = c_overhead(list.dest(dest));
            if i64::from(loh) * i64::from(list.dest(dest).weight)
                > i64::from(doh) * i64::from(list.dest(least).weight)
                && list.is_linked(dest)
            {
                least = dest;
                loh = doh;
            }
        }
        Some(least)
    }

    /// `ip_vs_dest_set_max`.
    fn max(&self, list: &CList) -> Option<usize> {
        let mut it = self.list.iter();
        let mut most;
        loop {
            most = *it.next()?;
            if list.dest(most).weight > 0 {
                break;
            }
        }
        let mut moh = c_overhead(list.dest(most));
        for &dest in it {
            let doh = c_overhead(list.dest(dest));
            if i64::from(moh) * i64::from(list.dest(dest).weight)
                < i64::from(doh) * i64::from(list.dest(most).weight)
                && list.dest(dest).weight > 0
            {
                most = dest;
                moh = doh;
            }
        }
        Some(most)
    }
}

/// `ip_vs_lblcr.c`.
struct CLblcr {
    tbl: CTable<CSet>,
}

impl CLblcr {
    /// `ip_vs_lblcr_schedule`.
    fn schedule(
        &mut self,
        list: &CList,
        client: &ClientInfo,
        now: u64,
        expiration: u64,
    ) -> Option<usize> {
        if let Some(en) = self.tbl.get(client.daddr) {
            en.lastuse = now;
            let dest = en.value.min(list);
            // time_after(jiffies, lastmod + expiration)
            if en.value.size > 1 && c_time_before(en.value.lastmod.wrapping_add(expiration), now) {
                if en.value.size > 1 {
                    if let Some(m) = en.value.max(list) {
                        en.value.erase(m, now);
                    }
                }
            }
            if let Some(dest) = dest {
                if !c_is_overloaded(list, dest) {
                    return Some(dest);
                }
            }
            let dest = c_least(list, client)?;
            en.value.insert(dest, true, now);
            return Some(dest);
        }
        let dest = c_least(list, client)?;
        // ip_vs_lblcr_new, for an address without an entry.
        if self.tbl.entries < self.tbl.max_size * 3 / 2 {
            let mut set = CSet {
                size: 0,
                lastmod: 0,
                list: Vec::new(),
            };
            set.insert(dest, false, now);
            self.tbl.hash(CEntry {
                addr: client.daddr,
                lastuse: now,
                value: set,
            });
        }
        Some(dest)
    }
}

/// One of the two schedulers with its C model.
trait Pair {
    /// What the Rust table caches per address.
    type Value;
    /// What the C table caches per address.
    type CValue;
    /// Both, for a new service.
    fn new() -> Self;
    /// The two tables.
    fn tables(
        &mut self,
    ) -> (
        &mut LocalityTable<VecLists, Self::Value>,
        &mut CTable<Self::CValue>,
    );
    /// Schedules `client` on both: the ids picked by Rust and by C.
    fn pick(
        &mut self,
        list: &CList,
        live: &[LiveDest],
        client: &ClientInfo,
        now: u64,
        expiration: u64,
    ) -> (Option<u32>, Option<u32>);
    /// One periodic check on both.
    fn check(&mut self, now: u64, expiration: u64) {
        let (rust, c) = self.tables();
        rust.check_expire_all(now, expiration, ENTRY_TIMEOUT);
        c.check_expire(now, expiration);
    }
    /// The entries of both tables.
    fn entries(&mut self) -> (usize, usize) {
        let (rust, c) = self.tables();
        (rust.len(), c.entries as usize)
    }
}

/// The list as the Rust scheduler gets it.
fn live_list(list: &CList, handles: &[LiveDest]) -> Vec<LiveDest> {
    list.nodes()
        .into_iter()
        .map(|n| handles[n].clone())
        .collect()
}

/// Buckets for a table.
fn buckets<V>() -> Vec<Vec<V>> {
    (0..TABLE_SIZE).map(|_| Vec::new()).collect()
}

/// lblc and its model.
struct LblcPair(LocalityLeastConnection<VecLists, LiveDest>, CLblc);

impl Pair for LblcPair {
    type Value = LiveDest;
    type CValue = usize;

    fn tables(&mut self) -> (&mut LocalityTable<VecLists, LiveDest>, &mut CTable<usize>) {
        (&mut self.0.table, &mut self.1.tbl)
    }

    fn new() -> Self {
        LblcPair(
            LocalityLeastConnection::new(buckets()).unwrap(),
            CLblc { tbl: CTable::new() },
        )
    }

    fn pick(
        &mut self,
        list: &CList,
        live: &[LiveDest],
        client: &ClientInfo,
        now: u64,
        _expiration: u64,
    ) -> (Option<u32>, Option<u32>) {
        let rust = self
            .0
            .schedule(live, client, now)
            .map(|i| live[i].0.get().id);
        let c = self.1.schedule(list, client, now).map(|n| list.dest(n).id);
        (rust, c)
    }
}

/// lblcr and its model.
struct LblcrPair(LocalityReplicated<VecLists, LiveDest>, CLblcr);

impl Pair for LblcrPair {
    type Value = DestSet<VecLists, LiveDest>;
    type CValue = CSet;

    fn tables(&mut self) -> (&mut LocalityTable<VecLists, Self::Value>, &mut CTable<CSet>) {
        (&mut self.0.table, &mut self.1.tbl)
    }

    fn new() -> Self {
        LblcrPair(
            LocalityReplicated::new(buckets()).unwrap(),
            CLblcr { tbl: CTable::new() },
        )
    }

    fn pick(
        &mut self,
        list: &CList,
        live: &[LiveDest],
        client: &ClientInfo,
        now: u64,
        expiration: u64,
    ) -> (Option<u32>, Option<u32>) {
        let rust = self
            .0
            .schedule(live, client, now, expiration)
            .map(|i| live[i].0.get().id);
        let c = self
            .1
            .schedule(list, client, now, expiration)
            .map(|n| list.dest(n).id);
        (rust, c)
    }
}

/// A client sending to one of a few destination addresses (IPv4 and IPv6), so that cache
/// entries are hit again.
fn client_to(rng: &mut Rng) -> ClientInfo {
    let daddr = match rng.below(12) {
        n @ 0..=8 => InetAddr::V4(0x0a00_0100 | n as u32),
        n => InetAddr::V6([0x2001_0db8, 0, 0, n as u32]),
    };
    ClientInfo {
        addr: InetAddr::V4(rng.next_u32()),
        port: rng.next_u32() as u16,
        daddr,
        service_flags: 0,
    }
}

/// Drives a scheduler and its C model through random destination changes (deletions and
/// re-additions included), load changes, time steps and periodic checks, and compares every
/// pick and the table sizes. Returns the number of picks that found a destination.
fn differential<P: Pair>(seed: u64, steps: usize) -> usize {
    let mut rng = Rng::new(seed);
    let mut list = CList::new();
    let mut handles = std::vec![LiveDest(Rc::new(Cell::new(*list.dest(0))))];
    let mut pair = P::new();
    let expiration = [5 * HZ, 60 * HZ, DEFAULT_EXPIRATION_SECS * HZ][rng.below(3)];
    let mut now = 1_000_000u64;
    let mut found = 0;
    for step in 0..steps {
        let nodes = list.nodes();
        let unlinked: Vec<usize> = (1..list.node_count())
            .filter(|&n| !list.is_linked(n))
            .collect();
        match rng.below(24) {
            0 if nodes.len() < 8 => {
                let id = list.node_count() as u32;
                let node = list.add_head(random_dest(&mut rng, id));
                handles.push(LiveDest(Rc::new(Cell::new(*list.dest(node)))));
            }
            1 if !nodes.is_empty() => list.del(nodes[rng.below(nodes.len())]),
            2 if !unlinked.is_empty() => list.relink_head(unlinked[rng.below(unlinked.len())]),
            3 | 4 if !nodes.is_empty() => {
                let node = nodes[rng.below(nodes.len())];
                let weight = random_weight(&mut rng);
                list.dest_mut(node).weight = weight;
            }
            5 if !nodes.is_empty() => {
                let node = nodes[rng.below(nodes.len())];
                let dest = list.dest_mut(node);
                dest.overloaded = !dest.overloaded;
            }
            // Connections come and go, also on destinations that left the service.
            6..=8 if list.node_count() > 1 => {
                let node = 1 + rng.below(list.node_count() - 1);
                let dest = list.dest_mut(node);
                // Few distinct loads, so that ties show the order of a walk.
                dest.active = rng.below(6) as u32;
                dest.inactive = [0, 1, rng.below(700) as u32][rng.below(3)];
            }
            9 => now = now.wrapping_add([1, HZ, 60 * HZ, expiration / 2, expiration][rng.below(5)]),
            10 => pair.check(now, expiration),
            _ => {
                let client = client_to(&mut rng);
                let live = live_list(&list, &handles);
                let (rust, c) = pair.pick(&list, &live, &client, now, expiration);
                assert_eq!(rust, c, "seed {seed} step {step}: client {client:?}");
                found += usize::from(rust.is_some());
            }
        }
        for (node, handle) in handles.iter().enumerate().skip(1) {
            handle.0.set(*list.dest(node));
        }
        let (rust, c) = pair.entries();
        assert_eq!(rust, c, "seed {seed} step {step}: entries");
    }
    found
}

#[test]
fn lblc_matches_c() {
    let found: usize = (0..300)
        .map(|seed| differential::<LblcPair>(seed, 400))
        .sum();
    assert!(found > 50_000, "{found} picks found a destination");
}

#[test]
fn lblcr_matches_c() {
    let found: usize = (0..300)
        .map(|seed| differential::<LblcrPair>(seed, 400))
        .sum();
    assert!(found > 50_000, "{found} picks found a destination");
}

/// A list of `n` destinations of weight 1 and its handles.
fn plain_list(n: u32) -> (CList, Vec<LiveDest>) {
    let mut list = CList::new();
    let mut handles = std::vec![LiveDest(Rc::new(Cell::new(*list.dest(0))))];
    for id in 0..n {
        let node = list.add_head(crate::support::dest(id, 1));
        handles.push(LiveDest(Rc::new(Cell::new(*list.dest(node)))));
    }
    (list, handles)
}

/// A client sending to 10.x.y.z number `n`.
fn to_address(n: u32) -> ClientInfo {
    ClientInfo {
        addr: InetAddr::V4(0xc0a8_0001),
        port: 1000,
        daddr: InetAddr::V4(0x0a00_0000 + n),
        service_flags: 0,
    }
}

/// Fills a table past its bound, then runs periodic checks through a partial collection
/// (entries over `MAX_SIZE` and idle for `ENTRY_TIMEOUT`) and the 30th, full one.
fn bounded_and_collected<P: Pair>() {
    let (list, handles) = plain_list(2);
    let live = live_list(&list, &handles);
    let mut pair = P::new();
    let expiration = DEFAULT_EXPIRATION_SECS * HZ;
    let start = 5_000u64;
    for n in 0..20_000 {
        pair.pick(&list, &live, &to_address(n), start, expiration);
    }
    // Newer entries, which the partial collection keeps.
    let later = start + ENTRY_TIMEOUT;
    for n in 20_000..26_000 {
        pair.pick(&list, &live, &to_address(n), later, expiration);
    }
    let (rust, c) = pair.entries();
    assert_eq!((rust, c), (MAX_SIZE * 3 / 2, MAX_SIZE * 3 / 2));
    let mut now = later + 1;
    let mut sizes = Vec::new();
    for _ in 0..31 {
        pair.check(now, expiration);
        let (rust, c) = pair.entries();
        assert_eq!(rust, c);
        sizes.push(rust);
        now += 60 * HZ;
    }
    // The first check collects (24576 - 16384) * 4 / 3 entries, bucket by bucket.
    assert!(sizes[0] < MAX_SIZE && sizes[0] > MAX_SIZE / 2, "{sizes:?}");
    assert_eq!(sizes[28], sizes[1], "{sizes:?}");
}

#[test]
fn lblc_table_bounded_and_collected_as_c() {
    bounded_and_collected::<LblcPair>();
}

#[test]
fn lblcr_table_bounded_and_collected_as_c() {
    bounded_and_collected::<LblcrPair>();
}

/// The full check drops what was idle for the expiration, whatever the table's size.
#[test]
fn full_check_expires_idle_entries() {
    let (list, handles) = plain_list(3);
    let live = live_list(&list, &handles);
    let mut pair = LblcPair::new();
    let expiration = 60 * HZ;
    pair.pick(&list, &live, &to_address(1), 0, expiration);
    pair.pick(&list, &live, &to_address(2), 40 * 60 * HZ, expiration);
    let mut now = 0;
    for check in 1..=30 {
        now += 60 * HZ;
        pair.check(now, expiration);
        let want = if check < 30 { 2 } else { 1 };
        assert_eq!(pair.entries(), (want, want), "check {check}");
    }
}

/// lblc keeps a destination address on its server while that one takes it, and moves it
/// when the server is deleted; added again, the server is the same one to the cache.
#[test]
fn lblc_sticks_to_the_cached_server() {
    let (mut list, handles) = plain_list(3);
    let mut pair = LblcPair::new();
    let exp = DEFAULT_EXPIRATION_SECS * HZ;
    let pick = |pair: &mut LblcPair, list: &CList, n: u32| {
        let live = live_list(list, &handles);
        let (rust, c) = pair.pick(list, &live, &to_address(n), 0, exp);
        assert_eq!(rust, c);
        rust
    };
    // Three servers, list order 2, 1, 0: the first least loaded is 2.
    let first = pick(&mut pair, &list, 7);
    assert_eq!(first, Some(2));
    assert_eq!(pick(&mut pair, &list, 7), Some(2));
    let node = list.nodes()[0];
    list.del(node);
    assert_eq!(pick(&mut pair, &list, 7), Some(1));
    list.relink_head(node);
    assert_eq!(pick(&mut pair, &list, 7), Some(1));
}
