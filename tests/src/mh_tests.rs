// SPDX-License-Identifier: GPL-2.0

//! Maglev hashing (`sched/mh.rs`) against `ip_vs_mh.c` and the kernel's hsiphash.

use crate::{
    c_models::{
        c_hsiphash, //
        CMh,
    },
    hash::siphash::{
        hsiphash, //
        SipKey,
    },
    sched::{
        dest_view::{
            Algorithm as _, //
            ClientInfo,
            InetAddr,
        },
        mh::MaglevHashing,
    },
    support::{dest, differential, CList, CModel, Scheduler, TestDest},
    uapi::svc_flags::{
        SCHED1 as FLAG_FALLBACK, //
        SCHED2 as FLAG_PORT,
    },
};
use std::vec::Vec;

/// The key of the kernel's hsiphash self-test (`lib/tests/siphash_kunit.c`, 64-bit).
const TEST_KEY: [u64; 2] = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];

#[test]
fn hsiphash_matches_the_kernel_self_test() {
    // `test_vectors_hsiphash[4]`: the bytes 0, 1, 2, 3; also `hsiphash_1u32(0x03020100)`.
    assert_eq!(hsiphash(&[0, 1, 2, 3], &SipKey(TEST_KEY)), 0x88d3_8328);
    assert_eq!(c_hsiphash(&[0, 1, 2, 3], TEST_KEY), 0x88d3_8328);
    // The transcription agrees with other lengths of the same vectors.
    assert_eq!(c_hsiphash(&[], TEST_KEY), 0x050f_c4dc);
    assert_eq!(c_hsiphash(&[0], TEST_KEY), 0x7d57_ca93);
    assert_eq!(c_hsiphash(&[0, 1, 2, 3, 4, 5, 6, 7], TEST_KEY), 0x8d29_9a8e);
    assert_eq!(
        c_hsiphash(&[0, 1, 2, 3, 4, 5, 6, 7, 8], TEST_KEY),
        0x6c06_3de4
    );
}

/// A client at `addr:port` of a service with `flags`.
fn client(addr: u32, port: u16, flags: u32) -> ClientInfo {
    ClientInfo {
        addr: InetAddr::V4(addr),
        port,
        daddr: InetAddr::V4(0x0a00_0001),
        service_flags: flags,
    }
}

/// The Rust scheduler for `list`.
fn maglev(list: &[TestDest]) -> MaglevHashing<Vec<u16>> {
    <MaglevHashing<Vec<u16>> as Scheduler>::init(list)
}

/// The id each of `clients` clients (10.1.x.y, port 1000 + i) gets from the Rust scheduler.
fn assignment(
    mh: &mut MaglevHashing<Vec<u16>>,
    list: &[TestDest],
    clients: u32,
    flags: u32,
) -> Vec<Option<u32>> {
    (0..clients)
        .map(|i| {
            let c = client(0x0a01_0000 + i, 1000 + i as u16, flags);
            mh.pick(list, &c).map(|index| list[index].id)
        })
        .collect()
}

/// A C list holding `list` in order.
fn c_list(list: &[TestDest]) -> CList {
    let mut c = CList::new();
    for dest in list.iter().rev() {
        c.add_head(*dest);
    }
    c
}

#[test]
fn table_matches_c_for_weighted_servers() {
    let list: Vec<TestDest> = [1, 3, 2, 7, 1, 100, 64, 5]
        .iter()
        .zip(0..)
        .map(|(weight, id)| dest(id, *weight))
        .collect();
    let c = c_list(&list);
    let mut model = CMh::init(&c);
    let mut mh = maglev(&list);
    for flags in [0, FLAG_PORT, FLAG_FALLBACK, FLAG_PORT | FLAG_FALLBACK] {
        let rust = assignment(&mut mh, &list, 3000, flags);
        let expected: Vec<Option<u32>> = (0..3000u32)
            .map(|i| {
                let cl = client(0x0a01_0000 + i, 1000 + i as u16, flags);
                model.schedule(&c, &cl).map(|node| c.dest(node).id)
            })
            .collect();
        assert_eq!(rust, expected, "flags {flags:#x}");
    }
    // Every slot of the C table is taken, in proportion to the (shifted) weights.
    assert!(model.lookup().iter().all(Option::is_some));
}

#[test]
fn slots_follow_the_weights() {
    let list = [dest(0, 1), dest(1, 3)];
    let c = c_list(&list);
    let model = CMh::init(&c);
    let first = model
        .lookup()
        .iter()
        .filter(|node| c.dest(node.unwrap()).id == 0)
        .count();
    // 4093 slots shared 1:3.
    assert_eq!(first, 4093 / 4 + 1);
}

#[test]
fn removing_a_server_moves_mostly_its_own_clients() {
    let list: Vec<TestDest> = (0..10).map(|id| dest(id, 1)).collect();
    let mut mh = maglev(&list);
    let before = assignment(&mut mh, &list, 2000, 0);
    let mut after_list = list.clone();
    after_list.remove(4);
    mh.dest_removed(&after_list, 4);
    let after = assignment(&mut mh, &after_list, 2000, 0);
    let moved_others = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| **b != Some(4) && b != a)
        .count();
    assert!(after.iter().all(|id| *id != Some(4)));
    // Maglev's disruption is small but not zero: a few percent of the other clients.
    assert!(moved_others < 200, "{moved_others} other clients moved");
}

#[test]
fn quiesced_server_keeps_its_slots() {
    // Weight 0 after a non-zero weight: `last_weight` keeps the slots, so its clients get no
    // destination without fallback and another one with it.
    let mut list: Vec<TestDest> = (0..4).map(|id| dest(id, 2)).collect();
    let mut mh = maglev(&list);
    let before = assignment(&mut mh, &list, 500, 0);
    list[2].weight = 0;
    mh.dest_updated(&list);
    let after = assignment(&mut mh, &list, 500, 0);
    for (b, a) in before.iter().zip(&after) {
        if *b == Some(2) {
            assert_eq!(*a, None);
        } else {
            assert_eq!(a, b);
        }
    }
    let fallback = assignment(&mut mh, &list, 500, FLAG_FALLBACK);
    assert!(fallback.iter().all(|id| id.is_some() && *id != Some(2)));
}

#[test]
fn matches_c_on_random_operation_sequences() {
    let mut found = 0;
    for seed in 1..=60 {
        found += differential::<MaglevHashing<Vec<u16>>, CMh>(seed, 300);
    }
    assert!(found > 3000, "only {found} successful schedules");
}
