// SPDX-License-Identifier: GPL-2.0

//! The C schedulers added after rr/wrr/sh/wlc, transcribed onto [`CList`] as `support.rs` does
//! for those four: C's loops, `int` arithmetic and pointer walks, kept close to the C text so
//! that the differential tests check the translation to the index-based Rust schedulers.

use crate::{
    sched::dest_view::{
        ClientInfo, //
        InetAddr,
        Random,
    },
    support::{
        c_overhead, //
        CList,
        CModel,
        TestDest,
        HEAD,
    },
};
use std::vec::Vec;

/// `ip_vs_lc.c`.
pub(crate) struct CLc;

impl CModel for CLc {
    fn init(_list: &CList) -> Self {
        CLc
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut least = None;
        let mut loh: u32 = 0;
        for node in list.nodes() {
            let dest = list.dest(node);
            if dest.overloaded || dest.weight == 0 {
                continue;
            }
            let doh = c_overhead(dest) as u32;
            if least.is_none() || doh < loh {
                least = Some(node);
                loh = doh;
            }
        }
        least
    }
}

/// `ip_vs_sed_dest_overhead` and `ip_vs_nq_dest_overhead`.
fn c_sed_overhead(dest: &TestDest) -> i32 {
    (dest.active as i32).wrapping_add(1)
}

/// `ip_vs_sed.c`.
pub(crate) struct CSed;

impl CModel for CSed {
    fn init(_list: &CList) -> Self {
        CSed
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut dest = list.next(HEAD);
        let mut least = None;
        let mut loh = 0;
        while dest != HEAD {
            let d = list.dest(dest);
            if !d.overloaded && d.weight > 0 {
                least = Some(dest);
                loh = c_sed_overhead(d);
                break;
            }
            dest = list.next(dest);
        }
        let mut least = least?;
        // list_for_each_entry_continue_rcu
        dest = list.next(dest);
        while dest != HEAD {
            let d = list.dest(dest);
            if !d.overloaded {
                let doh = c_sed_overhead(d);
                if i64::from(loh) * i64::from(d.weight)
                    > i64::from(doh) * i64::from(list.dest(least).weight)
                {
                    least = dest;
                    loh = doh;
                }
            }
            dest = list.next(dest);
        }
        Some(least)
    }
}

/// `ip_vs_nq.c`.
pub(crate) struct CNq;

impl CModel for CNq {
    fn init(_list: &CList) -> Self {
        CNq
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut least: Option<usize> = None;
        let mut loh = 0;
        for node in list.nodes() {
            let dest = list.dest(node);
            if dest.overloaded || dest.weight == 0 {
                continue;
            }
            let doh = c_sed_overhead(dest);
            if dest.active == 0 {
                return Some(node);
            }
            if least.is_none()
                || i64::from(loh) * i64::from(dest.weight)
                    > i64::from(doh) * i64::from(list.dest(least.unwrap()).weight)
            {
                least = Some(node);
                loh = doh;
            }
        }
        least
    }
}

/// `ip_vs_fo.c`.
pub(crate) struct CFo;

impl CModel for CFo {
    fn init(_list: &CList) -> Self {
        CFo
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut hweight = None;
        let mut hw = 0;
        for node in list.nodes() {
            let dest = list.dest(node);
            if !dest.overloaded && dest.weight > hw {
                hweight = Some(node);
                hw = dest.weight;
            }
        }
        hweight
    }
}

/// `ip_vs_ovf.c`.
pub(crate) struct COvf;

impl CModel for COvf {
    fn init(_list: &CList) -> Self {
        COvf
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut h = None;
        let mut hw = 0;
        for node in list.nodes() {
            let dest = list.dest(node);
            let w = dest.weight;
            if dest.overloaded || dest.active as i32 > w || w == 0 {
                continue;
            }
            if h.is_none() || w > hw {
                h = Some(node);
                hw = w;
            }
        }
        h
    }
}

/// The words of an address as `__be32` values sit in memory, read natively.
fn be_words(addr: InetAddr) -> Vec<u32> {
    match addr {
        InetAddr::V4(addr) => std::vec![addr.to_be()],
        InetAddr::V6(words) => words.iter().map(|word| word.to_be()).collect(),
    }
}

/// `addr_fold` of the hashing schedulers: `addr->ip`, or the XOR of `ip6[0..4]`.
fn c_addr_fold(addr: InetAddr) -> u32 {
    be_words(addr).into_iter().fold(0, |fold, word| fold ^ word)
}

/// `ip_vs_dh.c`.
pub(crate) struct CDh {
    /// `s->buckets[i].dest`.
    buckets: [Option<usize>; 256],
}

impl CDh {
    /// `ip_vs_dh_reassign`.
    fn reassign(&mut self, list: &CList) {
        let mut p = HEAD;
        let empty = list.next(HEAD) == HEAD;
        for bucket in self.buckets.iter_mut() {
            if empty {
                *bucket = None;
            } else {
                if p == HEAD {
                    p = list.next(p);
                }
                *bucket = Some(p);
                p = list.next(p);
            }
        }
    }
}

impl CModel for CDh {
    fn init(list: &CList) -> Self {
        let mut state = CDh {
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

    fn schedule(&mut self, list: &CList, client: &ClientInfo) -> Option<usize> {
        // hash_32(ntohl(addr_fold), IP_VS_DH_TAB_BITS)
        let hash = u32::from_be(c_addr_fold(client.daddr)).wrapping_mul(0x61C88647) >> 24;
        let dest = self.buckets[hash as usize]?;
        let d = list.dest(dest);
        if d.weight <= 0 || d.overloaded {
            return None;
        }
        Some(dest)
    }
}

/// A straightforward SipHash-1-3 over whole bytes, as `__hsiphash_unaligned` on 64 bits.
pub(crate) fn c_hsiphash(data: &[u8], key: [u64; 2]) -> u32 {
    let mut v0 = 0x736f6d6570736575u64 ^ key[0];
    let mut v1 = 0x646f72616e646f6du64 ^ key[1];
    let mut v2 = 0x6c7967656e657261u64 ^ key[0];
    let mut v3 = 0x7465646279746573u64 ^ key[1];
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13);
        *v1 ^= *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16);
        *v3 ^= *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21);
        *v3 ^= *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17);
        *v1 ^= *v2;
        *v2 = v2.rotate_left(32);
    };
    let mut b = (data.len() as u64) << 56;
    let blocks = data.len() / 8;
    for i in 0..blocks {
        let m = u64::from_le_bytes(data[i * 8..i * 8 + 8].try_into().unwrap());
        v3 ^= m;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= m;
    }
    for (i, byte) in data[blocks * 8..].iter().enumerate() {
        b |= u64::from(*byte) << (8 * i);
    }
    v3 ^= b;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= b;
    v2 ^= 0xff;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    ((v0 ^ v1) ^ (v2 ^ v3)) as u32
}

/// `IP_VS_MH_TAB_SIZE` with `CONFIG_IP_VS_MH_TAB_INDEX=12`.
const MH_TAB_SIZE: u32 = [
    251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
][12 - 8];

/// `ip_vs_mh_hashkey`.
fn c_mh_hashkey(addr: InetAddr, port: u16, key: [u64; 2], offset: u32) -> u32 {
    let v = offset
        .wrapping_add(u32::from(port))
        .wrapping_add(u32::from_be(c_addr_fold(addr)));
    c_hsiphash(&v.to_ne_bytes(), key)
}

/// `struct ip_vs_mh_dest_setup`.
#[derive(Clone, Copy, Default)]
struct CMhDestSetup {
    /// `offset`.
    offset: u32,
    /// `skip`.
    skip: u32,
    /// `perm`.
    perm: u32,
    /// `turns`.
    turns: i32,
}

/// `ip_vs_mh.c`.
pub(crate) struct CMh {
    /// `s->lookup[i].dest`.
    lookup: Vec<Option<usize>>,
    /// `s->gcd`.
    gcd: i32,
    /// `s->rshift`.
    rshift: i32,
}

/// `generate_hash_secret`.
const MH_HASH1: [u64; 2] = [2654435761, 2654435761];
/// `generate_hash_secret`.
const MH_HASH2: [u64; 2] = [2654446892, 2654446892];

impl CMh {
    /// `ip_vs_mh_gcd_weight`.
    fn gcd_weight(list: &CList) -> i32 {
        let mut g = 0;
        for node in list.nodes() {
            let weight = list.dest(node).last_weight;
            if weight > 0 {
                if g > 0 {
                    g = crate::support::kernel_gcd(weight as u64, g as u64) as i32;
                } else {
                    g = weight;
                }
            }
        }
        g
    }

    /// `ip_vs_mh_shift_weight`.
    fn shift_weight(list: &CList, gcd: i32) -> i32 {
        if gcd < 1 {
            return 0;
        }
        let mut weight = 0;
        for node in list.nodes() {
            let new_weight = list.dest(node).last_weight;
            if new_weight > weight {
                weight = new_weight;
            }
        }
        let mw = weight / gcd;
        // fls()
        let fls = 32 - (mw as u32).leading_zeros() as i32;
        let shift = fls - 6;
        if shift >= 0 {
            shift
        } else {
            0
        }
    }

    /// `ip_vs_mh_reassign` (permutate and populate).
    fn reassign(&mut self, list: &CList) {
        let nodes = list.nodes();
        let mut ds: Vec<CMhDestSetup> = std::vec![CMhDestSetup::default(); nodes.len()];
        if self.gcd >= 1 {
            for (i, &node) in nodes.iter().enumerate() {
                let dest = list.dest(node);
                let addr = InetAddr::V4(dest.addr);
                ds[i].offset = c_mh_hashkey(addr, dest.port, MH_HASH1, 0) % MH_TAB_SIZE;
                ds[i].skip = c_mh_hashkey(addr, dest.port, MH_HASH2, 0) % (MH_TAB_SIZE - 1) + 1;
                ds[i].perm = ds[i].offset;
                let lw = dest.last_weight;
                let t = (lw / self.gcd) >> self.rshift;
                ds[i].turns = if t != 0 { t } else { i32::from(lw != 0) };
            }
        }
        if self.gcd < 1 {
            self.lookup.iter_mut().for_each(|slot| *slot = None);
            return;
        }
        let mut table = std::vec![false; MH_TAB_SIZE as usize];
        let mut p = HEAD;
        let mut n = 0;
        let mut dt_count = 0;
        'out: while n < MH_TAB_SIZE {
            if p == HEAD {
                p = list.next(p);
            }
            let mut d = 0;
            while p != HEAD {
                if ds[d].turns < 1 {
                    p = list.next(p);
                    d += 1;
                    continue;
                }
                let mut c = ds[d].perm;
                while table[c as usize] {
                    ds[d].perm += ds[d].skip;
                    if ds[d].perm >= MH_TAB_SIZE {
                        ds[d].perm -= MH_TAB_SIZE;
                    }
                    c = ds[d].perm;
                }
                table[c as usize] = true;
                self.lookup[c as usize] = Some(p);
                n += 1;
                if n == MH_TAB_SIZE {
                    break 'out;
                }
                dt_count += 1;
                if dt_count >= ds[d].turns {
                    dt_count = 0;
                    p = list.next(p);
                    d += 1;
                }
            }
        }
    }

    /// `ip_vs_mh_dest_changed`.
    fn dest_changed(&mut self, list: &CList) {
        self.gcd = Self::gcd_weight(list);
        self.rshift = Self::shift_weight(list, self.gcd);
        self.reassign(list);
    }

    /// `is_unavailable`.
    fn is_unavailable(list: &CList, node: usize) -> bool {
        list.dest(node).weight <= 0 || list.dest(node).overloaded
    }

    /// The C table: the node of each slot.
    pub(crate) fn lookup(&self) -> &[Option<usize>] {
        &self.lookup
    }
}

impl CModel for CMh {
    fn init(list: &CList) -> Self {
        let mut state = CMh {
            lookup: std::vec![None; MH_TAB_SIZE as usize],
            gcd: 0,
            rshift: 0,
        };
        state.dest_changed(list);
        state
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

    fn schedule(&mut self, list: &CList, client: &ClientInfo) -> Option<usize> {
        let port = if client.service_flags & 0x10 != 0 {
            client.port
        } else {
            0
        };
        let ihash = c_mh_hashkey(client.addr, port, MH_HASH1, 0) % MH_TAB_SIZE;
        let dest = self.lookup[ihash as usize]?;
        if client.service_flags & 0x08 == 0 {
            return (!Self::is_unavailable(list, dest)).then_some(dest);
        }
        if !Self::is_unavailable(list, dest) {
            return Some(dest);
        }
        for offset in 0..MH_TAB_SIZE {
            let roffset = (offset + ihash) % MH_TAB_SIZE;
            let hash = c_mh_hashkey(client.addr, port, MH_HASH1, roffset) % MH_TAB_SIZE;
            let dest = self.lookup[hash as usize]?;
            if !Self::is_unavailable(list, dest) {
                return Some(dest);
            }
        }
        None
    }
}

/// A deterministic [`Random`] that C's model and the Rust scheduler can each own, so that
/// both draw the same numbers: `__get_random_u32_below`'s multiply-and-reject mapping over a
/// xorshift source.
pub(crate) struct SeededRandom(pub(crate) crate::support::Rng);

impl Random for SeededRandom {
    fn u32_below(&mut self, ceil: u32) -> u32 {
        if ceil == 0 {
            return self.0.next_u32();
        }
        let mut mult = u64::from(ceil) * u64::from(self.0.next_u32());
        if (mult as u32) < ceil {
            let bound = ceil.wrapping_neg() % ceil;
            while (mult as u32) < bound {
                mult = u64::from(ceil) * u64::from(self.0.next_u32());
            }
        }
        (mult >> 32) as u32
    }
}

/// `ip_vs_twos.c`, drawing from a [`SeededRandom`].
pub(crate) struct CTwos {
    /// `get_random_u32_below()`.
    pub(crate) random: SeededRandom,
}

impl CModel for CTwos {
    fn init(_list: &CList) -> Self {
        CTwos {
            random: SeededRandom(crate::support::Rng::new(7)),
        }
    }

    fn schedule(&mut self, list: &CList, _client: &ClientInfo) -> Option<usize> {
        let mut choice1 = None;
        let mut choice2 = None;
        let (mut weight1, mut weight2, mut overhead1, mut overhead2) = (-1i32, -1i32, 0i32, 0i32);
        let mut total_weight: i32 = 0;
        for node in list.nodes() {
            let dest = list.dest(node);
            if !dest.overloaded && dest.weight > 0 {
                total_weight = total_weight.wrapping_add(dest.weight);
                choice1 = Some(node);
            }
        }
        choice1?;
        total_weight = total_weight.wrapping_add(1);
        let mut rweight1 = self.random.u32_below(total_weight as u32) as i32;
        let mut rweight2 = self.random.u32_below(total_weight as u32) as i32;
        for node in list.nodes() {
            let dest = list.dest(node);
            if dest.overloaded {
                continue;
            }
            let weight = dest.weight;
            if weight <= 0 {
                continue;
            }
            rweight1 = rweight1.wrapping_sub(weight);
            rweight2 = rweight2.wrapping_sub(weight);
            if rweight1 <= 0 && weight1 == -1 {
                choice1 = Some(node);
                weight1 = weight;
                overhead1 = c_overhead(dest);
            }
            if rweight2 <= 0 && weight2 == -1 {
                choice2 = Some(node);
                weight2 = weight;
                overhead2 = c_overhead(dest);
            }
            if weight1 != -1 && weight2 != -1 {
                break;
            }
        }
        if choice2.is_some() && weight2.wrapping_mul(overhead1) > weight1.wrapping_mul(overhead2) {
            choice1 = choice2;
        }
        choice1
    }
}
