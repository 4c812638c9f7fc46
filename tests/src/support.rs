// SPDX-License-Identifier: GPL-2.0

//! Test scaffolding: a destination type, a deterministic random source, and the C schedulers
//! transcribed onto a C-style doubly-linked list with a head sentinel.
//!
//! The transcriptions keep C's pointer logic (`list_for_each_entry_continue_rcu`, `p->next->prev`
//! after `list_del_rcu`, ...) so that comparing them with the index-based Rust schedulers over
//! random operation sequences checks the translation from list pointers to indices.

use crate::{
    c_models::SeededRandom,
    sched::{
        dest_view::{
            Algorithm, //
            ClientInfo,
            DestView,
            InetAddr,
        },
        dh::DestinationHashing,
        fo::WeightedFailover,
        lc::LeastConnection,
        mh::{
            MaglevHashing, //
            TABLE_SIZE,
        },
        nq::NeverQueue,
        ovf::WeightedOverflow,
        rr::RoundRobin,
        sed::ShortestExpectedDelay,
        sh::SourceHashing,
        twos::TwoChoices,
        wlc::WeightedLeastConnection,
        wrr::WeightedRoundRobin,
    },
};
use std::vec::Vec;

/// A destination as the tests see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TestDest {
    /// A name for the destination that survives index shifts.
    pub(crate) id: u32,
    /// `dest->weight`.
    pub(crate) weight: i32,
    /// `IP_VS_DEST_F_OVERLOAD`.
    pub(crate) overloaded: bool,
    /// `dest->activeconns`.
    pub(crate) active: u32,
    /// Inactive connections.
    pub(crate) inactive: u32,
    /// `dest->last_weight`.
    pub(crate) last_weight: i32,
    /// The real server's address (IPv4, host order).
    pub(crate) addr: u32,
    /// The real server's port.
    pub(crate) port: u16,
}

impl DestView for TestDest {
    fn weight(&self) -> i32 {
        self.weight
    }

    fn overloaded(&self) -> bool {
        self.overloaded
    }

    fn active_conns(&self) -> u32 {
        self.active
    }

    fn inactive_conns(&self) -> u32 {
        self.inactive
    }

    fn last_weight(&self) -> i32 {
        self.last_weight
    }

    fn addr(&self) -> InetAddr {
        InetAddr::V4(self.addr)
    }

    fn port(&self) -> u16 {
        self.port
    }
}

/// A destination with `id` and `weight`, not overloaded, without connections.
pub(crate) fn dest(id: u32, weight: i32) -> TestDest {
    TestDest {
        id,
        weight,
        overloaded: false,
        active: 0,
        inactive: 0,
        last_weight: weight,
        addr: 0xac10_0000 | id,
        port: 80,
    }
}

/// A destination with `weight`, `active` and `inactive` connections.
pub(crate) fn loaded(id: u32, weight: i32, active: u32, inactive: u32) -> TestDest {
    TestDest {
        active,
        inactive,
        ..dest(id, weight)
    }
}

/// Destinations in list order with ids 0, 1, ... and the given weights.
pub(crate) fn dests(weights: &[i32]) -> Vec<TestDest> {
    (0u32..)
        .zip(weights)
        .map(|(id, weight)| dest(id, *weight))
        .collect()
}

/// A client at an IPv4 address, port 0, for a service without flags.
pub(crate) fn client_v4(addr: u32) -> ClientInfo {
    ClientInfo {
        addr: InetAddr::V4(addr),
        port: 0,
        daddr: InetAddr::V4(0x0a00_0001),
        service_flags: 0,
    }
}

/// The schedulers behind one interface, so that tests can be generic over them.
pub(crate) trait Scheduler {
    /// `init_service`.
    fn init(dests: &[TestDest]) -> Self;
    /// `add_dest`, after the insertion at `index`.
    fn added(&mut self, dests: &[TestDest], index: usize);
    /// `del_dest`, after the removal from `index`.
    fn removed(&mut self, dests: &[TestDest], index: usize);
    /// `upd_dest`.
    fn updated(&mut self, dests: &[TestDest]);
    /// `schedule`.
    fn pick(&mut self, dests: &[TestDest], client: &ClientInfo) -> Option<usize>;
}

/// Implements [`Scheduler`] for a scheduler type through [`Algorithm`], building it from the
/// destinations with `$init`.
macro_rules! impl_scheduler {
    ($type:ty, $init:expr) => {
        impl Scheduler for $type {
            fn init(dests: &[TestDest]) -> Self {
                $init(dests)
            }

            fn added(&mut self, dests: &[TestDest], index: usize) {
                self.dest_added(dests, index)
            }

            fn removed(&mut self, dests: &[TestDest], index: usize) {
                self.dest_removed(dests, index)
            }

            fn updated(&mut self, dests: &[TestDest]) {
                self.dest_updated(dests)
            }

            fn pick(&mut self, dests: &[TestDest], client: &ClientInfo) -> Option<usize> {
                self.schedule(dests, client)
            }
        }
    };
}

impl_scheduler!(RoundRobin, RoundRobin::new);
impl_scheduler!(WeightedRoundRobin, WeightedRoundRobin::new);
impl_scheduler!(SourceHashing, SourceHashing::new);
impl_scheduler!(WeightedLeastConnection, WeightedLeastConnection::new);
impl_scheduler!(LeastConnection, |_| LeastConnection);
impl_scheduler!(ShortestExpectedDelay, |_| ShortestExpectedDelay);
impl_scheduler!(NeverQueue, |_| NeverQueue);
impl_scheduler!(WeightedFailover, |_| WeightedFailover);
impl_scheduler!(WeightedOverflow, |_| WeightedOverflow);
impl_scheduler!(DestinationHashing, DestinationHashing::new);
impl_scheduler!(MaglevHashing<Vec<u16>>, |dests| {
    MaglevHashing::new(std::vec![0; TABLE_SIZE], std::vec![0; TABLE_SIZE], dests).unwrap()
});
// The same seed as `CTwos`, so both draw the same numbers.
impl_scheduler!(TwoChoices<SeededRandom>, |_| TwoChoices::new(SeededRandom(
    Rng::new(7)
)));

/// Runs `count` schedules and returns the ids picked (`None` for no destination).
pub(crate) fn picks<S: Scheduler>(
    scheduler: &mut S,
    dests: &[TestDest],
    client: &ClientInfo,
    count: usize,
) -> Vec<Option<u32>> {
    (0..count)
        .map(|_| scheduler.pick(dests, client).map(|index| dests[index].id))
        .collect()
}

/// Like [`picks`], with ids written as letters: id 0 is 'A', no destination is '-'.
pub(crate) fn pick_letters<S: Scheduler>(
    scheduler: &mut S,
    dests: &[TestDest],
    count: usize,
) -> std::string::String {
    picks(scheduler, dests, &client_v4(0x0a00_0002), count)
        .into_iter()
        .map(|id| id.map_or('-', |id| char::from(b'A' + id as u8)))
        .collect()
}

/// A xorshift64* generator: deterministic, so failures reproduce.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// The next 32 random bits.
    pub(crate) fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// A number below `bound` (which must not be 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        self.next_u32() as usize % bound
    }

    /// True with probability `numerator / denominator`.
    pub(crate) fn chance(&mut self, numerator: usize, denominator: usize) -> bool {
        self.below(denominator) < numerator
    }
}

/// The list head's node number in a [`CList`].
pub(crate) const HEAD: usize = 0;

/// A C `struct list_head` list of destinations: node 0 is the head sentinel.
pub(crate) struct CList {
    /// `n_list.next` of each node.
    next: Vec<usize>,
    /// `n_list.prev` of each node.
    prev: Vec<usize>,
    /// The destination of each node (node 0's is unused).
    dests: Vec<TestDest>,
}

impl CList {
    /// An empty list (`LIST_HEAD_INIT`).
    pub(crate) fn new() -> Self {
        CList {
            next: std::vec![HEAD],
            prev: std::vec![HEAD],
            dests: std::vec![dest(u32::MAX, 0)],
        }
    }

    /// `list_add_rcu(&dest->n_list, &svc->destinations)`: inserts after the head.
    pub(crate) fn add_head(&mut self, dest: TestDest) -> usize {
        let node = self.dests.len();
        let first = self.next[HEAD];
        self.next.push(first);
        self.prev.push(HEAD);
        self.dests.push(dest);
        self.prev[first] = node;
        self.next[HEAD] = node;
        node
    }

    /// `list_del_rcu()`: unlinks `node` but leaves its `next` pointer valid.
    pub(crate) fn del(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = next;
        self.prev[next] = prev;
        // LIST_POISON2: any use of it must show.
        self.prev[node] = usize::MAX;
    }

    /// `list_add_rcu` of a destination that was unlinked (C's `ip_vs_trash_get_dest` reviving
    /// it): `node` is inserted after the head again, with its state.
    pub(crate) fn relink_head(&mut self, node: usize) {
        let first = self.next[HEAD];
        self.next[node] = first;
        self.prev[node] = HEAD;
        self.prev[first] = node;
        self.next[HEAD] = node;
    }

    /// Whether `node` is in the list (`IP_VS_DEST_CF_AVAILABLE`).
    pub(crate) fn is_linked(&self, node: usize) -> bool {
        node != HEAD && self.prev[node] != usize::MAX
    }

    /// The number of nodes ever added, the head included: nodes are `1..node_count()`.
    pub(crate) fn node_count(&self) -> usize {
        self.dests.len()
    }

    /// The node after `node` (`n_list.next`).
    pub(crate) fn next(&self, node: usize) -> usize {
        self.next[node]
    }

    /// The destination of `node`.
    pub(crate) fn dest(&self, node: usize) -> &TestDest {
        &self.dests[node]
    }

    /// The destination of `node`, to change it.
    pub(crate) fn dest_mut(&mut self, node: usize) -> &mut TestDest {
        &mut self.dests[node]
    }

    /// The nodes in list order.
    pub(crate) fn nodes(&self) -> Vec<usize> {
        let mut nodes = Vec::new();
        let mut node = self.next[HEAD];
        while node != HEAD {
            nodes.push(node);
            node = self.next[node];
        }
        nodes
    }

    /// The destinations in list order: the slice the Rust schedulers get.
    pub(crate) fn to_vec(&self) -> Vec<TestDest> {
        self.nodes()
            .into_iter()
            .map(|node| self.dests[node])
            .collect()
    }
}

/// A C scheduler transcribed onto [`CList`].
pub(crate) trait CModel {
    /// `init_service`.
    fn init(list: &CList) -> Self;
    /// `add_dest`, called after `list_add_rcu`; nothing when C leaves it `NULL`.
    fn add_dest(&mut self, _list: &CList, _node: usize) {}
    /// `del_dest`, called after `list_del_rcu`; nothing when C leaves it `NULL`.
    fn del_dest(&mut self, _list: &CList, _node: usize) {}
    /// `upd_dest`, called after the weight is set; nothing when C leaves it `NULL`.
    fn upd_dest(&mut self, _list: &CList, _node: usize) {}
    /// `schedule`: the node picked.
    fn schedule(&mut self, list: &CList, client: &ClientInfo) -> Option<usize>;
}

/// `ip_vs_rr.c`.
pub(crate) struct CRr {
    /// `svc->sched_data`.
    sched_data: usize,
}

impl CModel for CRr {
    fn init(_list: &CList) -> Self {
        CRr { sched_data: HEAD }
    }

    fn del_dest(&mut self, list: &CList, node: usize) {
        let p = self.sched_data;
        if p == node {
            // `p->next->prev`: the removed node's next pointer is still valid.
            self.sched_data = list.prev[list.next(p)];
        }
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let p = self.sched_data;
        let last = p;
        let mut dest = p;
        let mut pass = 0;
        loop {
            // list_for_each_entry_continue_rcu(dest, &svc->destinations, n_list)
            dest = list.next(dest);
            while dest != HEAD {
                let d = list.dest(dest);
                if !d.overloaded && d.weight > 0 {
                    self.sched_data = dest;
                    return Some(dest);
                }
                if dest == last {
                    return None;
                }
                dest = list.next(dest);
            }
            pass += 1;
            if !(pass < 2 && p != HEAD) {
                return None;
            }
        }
    }
}

/// The kernel's `gcd()` (`lib/math/gcd.c`, the binary algorithm with `__ffs`).
pub(crate) fn kernel_gcd(mut a: u64, mut b: u64) -> u64 {
    let r = a | b;
    if a == 0 || b == 0 {
        return r;
    }
    b >>= b.trailing_zeros();
    if b == 1 {
        return r & r.wrapping_neg();
    }
    loop {
        a >>= a.trailing_zeros();
        if a == 1 {
            return r & r.wrapping_neg();
        }
        if a == b {
            return a << r.trailing_zeros();
        }
        if a < b {
            core::mem::swap(&mut a, &mut b);
        }
        a -= b;
    }
}

/// `ip_vs_wrr.c`.
pub(crate) struct CWrr {
    /// `mark->cl`.
    cl: usize,
    /// `mark->cw`.
    cw: i32,
    /// `mark->mw`.
    mw: i32,
    /// `mark->di`.
    di: i32,
}

impl CWrr {
    /// `ip_vs_wrr_gcd_weight`.
    fn gcd_weight(list: &CList) -> i32 {
        let mut g: i32 = 0;
        for node in list.nodes() {
            let weight = list.dest(node).weight;
            if weight > 0 {
                if g > 0 {
                    g = kernel_gcd(weight as u64, g as u64) as i32;
                } else {
                    g = weight;
                }
            }
        }
        if g != 0 {
            g
        } else {
            1
        }
    }

    /// `ip_vs_wrr_max_weight`.
    fn max_weight(list: &CList) -> i32 {
        let mut weight = 0;
        for node in list.nodes() {
            let new_weight = list.dest(node).weight;
            if new_weight > weight {
                weight = new_weight;
            }
        }
        weight
    }

    /// `ip_vs_wrr_dest_changed`.
    fn dest_changed(&mut self, list: &CList) {
        self.cl = HEAD;
        self.di = Self::gcd_weight(list);
        self.mw = Self::max_weight(list) - (self.di - 1);
        if self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di) * self.di + 1;
        }
    }
}

impl CModel for CWrr {
    fn init(list: &CList) -> Self {
        let di = Self::gcd_weight(list);
        let mw = Self::max_weight(list) - (di - 1);
        CWrr {
            cl: HEAD,
            cw: mw,
            mw,
            di,
        }
    }

    fn add_dest(&mut self, list: &CList, _node: usize) {
        self.dest_changed(list);
    }

    fn del_dest(&mut self, list: &CList, _node: usize) {
        self.dest_changed(list);
    }

    fn upd_dest(&mut self, list: &CList, _node: usize) {
        self.dest_changed(list);
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut dest = self.cl;
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        if self.mw == 0 {
            self.cl = dest;
            return None;
        }
        let last = dest;
        loop {
            dest = list.next(dest);
            while dest != HEAD {
                let d = list.dest(dest);
                if !d.overloaded && d.weight >= self.cw {
                    self.cl = dest;
                    return Some(dest);
                }
                if Some(dest) == stop {
                    self.cl = dest;
                    return None;
                }
                dest = list.next(dest);
            }
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last == HEAD {
                    self.cl = dest;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last != HEAD {
                stop = Some(last);
            }
        }
    }
}

/// `ip_vs_sh.c`.
pub(crate) struct CSh {
    /// `s->buckets[i].dest`.
    buckets: [Option<usize>; 256],
}

/// `ip_vs_sh_hashkey`, from an address in network byte order as C holds it.
pub(crate) fn c_sh_hashkey(addr: &[u8], port: u16, offset: u32) -> u32 {
    // `__be32` words as they sit in memory, read natively as C does.
    let word = |i: usize| u32::from_ne_bytes([addr[i], addr[i + 1], addr[i + 2], addr[i + 3]]);
    let addr_fold = if addr.len() == 16 {
        word(0) ^ word(4) ^ word(8) ^ word(12)
    } else {
        word(0)
    };
    // hash_32(ntohs(port) + ntohl(addr_fold), 8)
    let hash =
        (u32::from(port).wrapping_add(u32::from_be(addr_fold))).wrapping_mul(0x61C88647) >> 24;
    (offset + hash) & 255
}

/// The network-order bytes of an address.
pub(crate) fn addr_bytes(addr: InetAddr) -> Vec<u8> {
    match addr {
        InetAddr::V4(addr) => addr.to_be_bytes().to_vec(),
        InetAddr::V6(words) => words.iter().flat_map(|word| word.to_be_bytes()).collect(),
    }
}

impl CSh {
    /// `ip_vs_sh_reassign`.
    fn reassign(&mut self, list: &CList) {
        let mut p = HEAD;
        let empty = list.next(HEAD) == HEAD;
        let mut d_count = 0;
        for bucket in self.buckets.iter_mut() {
            if empty {
                *bucket = None;
            } else {
                if p == HEAD {
                    p = list.next(p);
                }
                *bucket = Some(p);
                d_count += 1;
                if d_count >= list.dest(p).weight {
                    p = list.next(p);
                    d_count = 0;
                }
            }
        }
    }

    /// `is_unavailable`.
    fn is_unavailable(list: &CList, node: usize) -> bool {
        list.dest(node).weight <= 0 || list.dest(node).overloaded
    }
}

impl CModel for CSh {
    fn init(list: &CList) -> Self {
        let mut state = CSh {
            buckets: [None; 256],
        };
        state.reassign(list);
        state
    }

    fn add_dest(&mut self, list: &CList, _node: usize) {
        self.reassign(list);
    }

    fn del_dest(&mut self, list: &CList, _node: usize) {
        self.reassign(list);
    }

    fn upd_dest(&mut self, list: &CList, _node: usize) {
        self.reassign(list);
    }

    fn schedule(&mut self, list: &CList, client: &ClientInfo) -> Option<usize> {
        let addr = addr_bytes(client.addr);
        let port = if client.service_flags & 0x10 != 0 {
            client.port
        } else {
            0
        };
        if client.service_flags & 0x08 != 0 {
            let ihash = c_sh_hashkey(&addr, port, 0);
            let dest = self.buckets[ihash as usize]?;
            if !Self::is_unavailable(list, dest) {
                return Some(dest);
            }
            for offset in 0..256 {
                let roffset = (offset + ihash) % 256;
                let hash = c_sh_hashkey(&addr, port, roffset);
                let dest = self.buckets[hash as usize]?;
                if !Self::is_unavailable(list, dest) {
                    return Some(dest);
                }
            }
            None
        } else {
            let hash = c_sh_hashkey(&addr, port, 0);
            let dest = self.buckets[hash as usize]?;
            (!Self::is_unavailable(list, dest)).then_some(dest)
        }
    }
}

/// `ip_vs_wlc.c`.
pub(crate) struct CWlc;

/// `ip_vs_dest_conn_overhead`: `(activeconns << 8) + totalconns` in `int`.
pub(crate) fn c_overhead(dest: &TestDest) -> i32 {
    let total = dest.active.wrapping_add(dest.inactive);
    ((dest.active as i32) << 8).wrapping_add(total as i32)
}

impl CModel for CWlc {
    fn init(_list: &CList) -> Self {
        CWlc
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let nodes = list.nodes();
        let first = nodes
            .iter()
            .position(|&node| !list.dest(node).overloaded && list.dest(node).weight > 0)?;
        let mut least = nodes[first];
        let mut loh = c_overhead(list.dest(least));
        for &node in &nodes[first + 1..] {
            let dest = list.dest(node);
            if dest.overloaded {
                continue;
            }
            let doh = c_overhead(dest);
            let least_weight = list.dest(least).weight;
            if i64::from(loh) * i64::from(dest.weight) > i64::from(doh) * i64::from(least_weight) {
                least = node;
                loh = doh;
            }
        }
        Some(least)
    }
}

/// Drives a Rust scheduler and its C transcription through the same random operations and
/// checks that every schedule picks the same destination. Returns the number of schedules that
/// found a destination, so callers can check the run was not trivially empty.
pub(crate) fn differential<S: Scheduler, M: CModel>(seed: u64, steps: usize) -> usize {
    let mut rng = Rng::new(seed);
    let mut list = CList::new();
    let mut next_id = 0u32;
    // Start with a few destinations, as a service configured before traffic.
    for _ in 0..rng.below(4) {
        list.add_head(random_dest(&mut rng, next_id));
        next_id += 1;
    }
    let mut rust = S::init(&list.to_vec());
    let mut model = M::init(&list);
    let mut found = 0;
    for step in 0..steps {
        let nodes = list.nodes();
        match rng.below(20) {
            // Add a destination (at the head, as C does).
            0 | 1 if nodes.len() < 12 => {
                let node = list.add_head(random_dest(&mut rng, next_id));
                next_id += 1;
                rust.added(&list.to_vec(), 0);
                model.add_dest(&list, node);
            }
            // Delete a destination.
            2 | 3 if !nodes.is_empty() => {
                let index = rng.below(nodes.len());
                list.del(nodes[index]);
                rust.removed(&list.to_vec(), index);
                model.del_dest(&list, nodes[index]);
            }
            // Change a weight through the control plane (SET_DEST).
            4 | 5 if !nodes.is_empty() => {
                let node = nodes[rng.below(nodes.len())];
                let weight = random_weight(&mut rng);
                let dest = list.dest_mut(node);
                dest.weight = weight;
                // `__ip_vs_update_dest` keeps the latest non-zero weight.
                if weight != 0 {
                    dest.last_weight = weight;
                }
                rust.updated(&list.to_vec());
                model.upd_dest(&list, node);
            }
            // Overload changes with connection counts; schedulers are not told.
            6 if !nodes.is_empty() => {
                let node = nodes[rng.below(nodes.len())];
                let dest = list.dest_mut(node);
                dest.overloaded = !dest.overloaded;
            }
            // Connection counts change with traffic; schedulers are not told.
            7 if !nodes.is_empty() => {
                let node = nodes[rng.below(nodes.len())];
                let dest = list.dest_mut(node);
                dest.active = rng.below(5) as u32;
                dest.inactive = rng.below(700) as u32;
            }
            _ => {
                let client = random_client(&mut rng);
                let dests = list.to_vec();
                let picked = rust.pick(&dests, &client).map(|index| dests[index].id);
                let expected = model
                    .schedule(&list, &client)
                    .map(|node| list.dest(node).id);
                assert_eq!(
                    picked, expected,
                    "seed {seed} step {step}: dests {dests:?}, client {client:?}"
                );
                found += usize::from(picked.is_some());
            }
        }
    }
    found
}

/// A random weight: mostly small, sometimes 0, rarely negative or above the sh table size.
pub(crate) fn random_weight(rng: &mut Rng) -> i32 {
    match rng.below(40) {
        0 => -1,
        1 => 300,
        2..=5 => 0,
        6..=9 => 6,
        10..=12 => 8,
        _ => 1 + rng.below(4) as i32,
    }
}

/// A random destination with id `id`.
pub(crate) fn random_dest(rng: &mut Rng, id: u32) -> TestDest {
    let weight = random_weight(rng);
    TestDest {
        id,
        weight,
        overloaded: rng.chance(1, 8),
        active: rng.below(4) as u32,
        inactive: rng.below(600) as u32,
        last_weight: weight,
        addr: 0xac10_0000 | id,
        port: 80,
    }
}

/// A random client: IPv4 or IPv6, any port, any combination of the sh flags.
fn random_client(rng: &mut Rng) -> ClientInfo {
    let addr = if rng.chance(1, 4) {
        InetAddr::V6([
            rng.next_u32(),
            rng.next_u32(),
            rng.next_u32(),
            rng.next_u32(),
        ])
    } else {
        InetAddr::V4(rng.next_u32())
    };
    ClientInfo {
        addr,
        port: rng.next_u32() as u16,
        daddr: InetAddr::V4(0x0a00_0000 | rng.below(64) as u32),
        service_flags: [0, 0x08, 0x10, 0x18][rng.below(4)],
    }
}
