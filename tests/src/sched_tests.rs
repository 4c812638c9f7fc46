// SPDX-License-Identifier: GPL-2.0

//! lc, sed, nq, fo, ovf, dh and twos against their C transcriptions (`c_models.rs`), and the
//! behaviour each is known for, on small fixed cases.

use crate::{
    c_models::{
        CDh, //
        CFo,
        CLc,
        CNq,
        COvf,
        CSed,
        CTwos,
        SeededRandom,
    },
    sched::{
        dest_view::{
            ClientInfo, //
            InetAddr,
        },
        dh::DestinationHashing,
        fo::WeightedFailover,
        lc::LeastConnection,
        nq::NeverQueue,
        ovf::WeightedOverflow,
        sed::ShortestExpectedDelay,
        twos::TwoChoices,
    },
    support::{
        client_v4, //
        dest,
        differential,
        loaded,
        CModel,
        Scheduler,
        TestDest,
    },
};
use std::vec::Vec;

/// The id `S` picks from `list` for a fixed client.
fn pick<S: Scheduler>(list: &[TestDest]) -> Option<u32> {
    S::init(list)
        .pick(list, &client_v4(0x0a00_0002))
        .map(|index| list[index].id)
}

/// Runs the differential test of `S` against `M` over many seeds.
fn many_differential<S: Scheduler, M: CModel>() {
    let mut found = 0;
    for seed in 1..=200 {
        found += differential::<S, M>(seed, 400);
    }
    assert!(found > 10_000, "only {found} successful schedules");
}

#[test]
fn lc_matches_c() {
    many_differential::<LeastConnection, CLc>();
}

#[test]
fn sed_matches_c() {
    many_differential::<ShortestExpectedDelay, CSed>();
}

#[test]
fn nq_matches_c() {
    many_differential::<NeverQueue, CNq>();
}

#[test]
fn fo_matches_c() {
    many_differential::<WeightedFailover, CFo>();
}

#[test]
fn ovf_matches_c() {
    many_differential::<WeightedOverflow, COvf>();
}

#[test]
fn dh_matches_c() {
    many_differential::<DestinationHashing, CDh>();
}

#[test]
fn twos_matches_c() {
    many_differential::<TwoChoices<SeededRandom>, CTwos>();
}

#[test]
fn lc_ignores_weights_but_zero() {
    // Overheads 257, 5 and 0; the idle one has weight 0 and is skipped.
    let list = [loaded(0, 9, 1, 0), loaded(1, 1, 0, 5), loaded(2, 0, 0, 0)];
    assert_eq!(pick::<LeastConnection>(&list), Some(1));
    // Ties go to the first.
    let list = [loaded(0, 1, 0, 3), loaded(1, 5, 0, 3)];
    assert_eq!(pick::<LeastConnection>(&list), Some(0));
}

#[test]
fn lc_compares_overheads_unsigned() {
    // 0x800000 active connections make an overhead that is negative as an int: C's
    // `unsigned int` comparison ranks it above any small one.
    let list = [loaded(0, 1, 0x80_0000, 0), loaded(1, 1, 3, 0)];
    assert_eq!(pick::<LeastConnection>(&list), Some(1));
}

#[test]
fn sed_counts_active_connections_and_the_new_one() {
    // (1 + 1) / 1 = 2 against (2 + 1) / 2 = 1.5: the heavier server wins; inactive
    // connections do not count.
    let list = [loaded(0, 1, 1, 0), loaded(1, 2, 2, 900)];
    assert_eq!(pick::<ShortestExpectedDelay>(&list), Some(1));
}

#[test]
fn nq_takes_an_idle_server_at_once() {
    // The second is idle: taken although the first has a far better ratio.
    let list = [loaded(0, 100, 1, 0), loaded(1, 1, 0, 50)];
    assert_eq!(pick::<NeverQueue>(&list), Some(1));
    // No idle server: the expected delay decides, 2/100 against 3/1.
    let list = [loaded(0, 1, 2, 0), loaded(1, 100, 1, 0)];
    assert_eq!(pick::<NeverQueue>(&list), Some(1));
}

#[test]
fn fo_takes_the_highest_weight_first_of_equals() {
    let list = [dest(0, 2), dest(1, 5), dest(2, 5)];
    assert_eq!(pick::<WeightedFailover>(&list), Some(1));
    let overloaded = TestDest {
        overloaded: true,
        ..dest(1, 5)
    };
    assert_eq!(pick::<WeightedFailover>(&[dest(0, 2), overloaded]), Some(0));
    assert_eq!(pick::<WeightedFailover>(&[dest(0, 0)]), None);
}

#[test]
fn ovf_overflows_when_active_exceeds_weight() {
    // The highest weight takes connections until its active count exceeds its weight.
    let list = [loaded(0, 1, 0, 0), loaded(1, 3, 3, 0)];
    assert_eq!(pick::<WeightedOverflow>(&list), Some(1));
    let list = [loaded(0, 1, 0, 0), loaded(1, 3, 4, 0)];
    assert_eq!(pick::<WeightedOverflow>(&list), Some(0));
    let list = [loaded(0, 1, 2, 0), loaded(1, 3, 4, 0)];
    assert_eq!(pick::<WeightedOverflow>(&list), None);
}

/// A client sending to `daddr`.
fn to(daddr: InetAddr) -> ClientInfo {
    ClientInfo {
        daddr,
        ..client_v4(0x0a00_0002)
    }
}

#[test]
fn dh_maps_a_destination_address_to_one_server() {
    let list: Vec<TestDest> = (0..3).map(|id| dest(id, 1)).collect();
    let mut dh = DestinationHashing::new(&list);
    // hash_32(0x0a000001, 8) = (0x0a000001 * 0x61c88647 mod 2^32) >> 24 = 0x27 = 39, and
    // bucket 39 holds destination 39 % 3 = 0.
    assert_eq!(dh.pick(&list, &to(InetAddr::V4(0x0a00_0001))), Some(0));
    // Every client for one address goes to the same server.
    for addr in 0..50 {
        let client = ClientInfo {
            addr: InetAddr::V4(addr),
            ..to(InetAddr::V4(0x0a00_0001))
        };
        assert_eq!(dh.pick(&list, &client), Some(0));
    }
    // A quiesced server is not replaced: the packet gets no destination.
    let mut quiesced = list.clone();
    quiesced[0].weight = 0;
    assert_eq!(dh.pick(&quiesced, &to(InetAddr::V4(0x0a00_0001))), None);
}

#[test]
fn twos_share_follows_weight() {
    // With idle servers the first draw wins the comparison unless the second's is strictly
    // better, so the share follows the weights: 1:3 over many draws.
    let list = [dest(0, 1), dest(1, 3)];
    let mut twos = TwoChoices::new(SeededRandom(crate::support::Rng::new(11)));
    let mut counts = [0u32; 2];
    for _ in 0..4000 {
        let index = twos.pick(&list, &client_v4(1)).unwrap();
        counts[index] += 1;
    }
    // Draws are uniform in 0..=4: 0 and 1 land on the first server (2/5), 2..=4 on the
    // second (3/5).
    assert!((1450..1750).contains(&counts[0]), "{counts:?}");
}
