// SPDX-License-Identifier: GPL-2.0

//! Source hashing (`sched/sh.rs`) against `ip_vs_sh.c`.

use crate::{
    sched::dest_view::Algorithm as _,
    sched::{
        dest_view::{
            ClientInfo, //
            InetAddr,
        },
        sh::{
            hash_key, //
            SourceHashing,
        },
    },
    support::{
        addr_bytes, //
        c_sh_hashkey,
        client_v4,
        dest,
        dests,
        differential,
        picks,
        CSh,
        Rng,
    },
    uapi::svc_flags::{
        SCHED1 as FLAG_FALLBACK, //
        SCHED2 as FLAG_PORT,
    },
};
use std::vec::Vec;

/// 10.0.0.2, the client of the kernel's ipvs.sh selftest.
const CLIENT: u32 = 0x0a00_0002;

/// A client at `addr`:`port` of a service with `flags`.
fn client(addr: InetAddr, port: u16, flags: u32) -> ClientInfo {
    ClientInfo {
        addr,
        port,
        daddr: InetAddr::V4(0x0a00_0001),
        service_flags: flags,
    }
}

/// The destination index of every bucket.
fn table(sh: &SourceHashing) -> Vec<Option<usize>> {
    (0..=u8::MAX).map(|bucket| sh.bucket(bucket)).collect()
}

#[test]
fn flags_match_the_uapi_header() {
    // IP_VS_SVC_F_SCHED1 and IP_VS_SVC_F_SCHED2 in include/uapi/linux/ip_vs.h.
    assert_eq!(FLAG_FALLBACK, 0x0008);
    assert_eq!(FLAG_PORT, 0x0010);
}

#[test]
fn reference_hash_vectors() {
    assert_eq!(hash_key(InetAddr::V4(CLIENT), 0, 0), 137);
    assert_eq!(hash_key(InetAddr::V4(CLIENT), 12345, 0), 232);
    assert_eq!(hash_key(InetAddr::V4(0xac10_0002), 0, 0), 220);
    // 2001:db8::1 folds to 0x20010db9.
    let ipv6 = InetAddr::V6([0x2001_0db8, 0, 0, 1]);
    assert_eq!(hash_key(ipv6, 0, 0), 63);
    assert_eq!(hash_key(ipv6, 443, 0), 117);
}

#[test]
fn hash_offset_wraps_at_the_table_size() {
    assert_eq!(hash_key(InetAddr::V4(CLIENT), 0, 100), 237);
    assert_eq!(hash_key(InetAddr::V4(CLIENT), 0, 119), 0);
    assert_eq!(hash_key(InetAddr::V4(CLIENT), 0, 137), 18);
}

#[test]
fn hash_matches_c_on_network_order_addresses() {
    let mut rng = Rng::new(7);
    for _ in 0..20_000 {
        let addr = if rng.chance(1, 2) {
            InetAddr::V4(rng.next_u32())
        } else {
            InetAddr::V6([
                rng.next_u32(),
                rng.next_u32(),
                rng.next_u32(),
                rng.next_u32(),
            ])
        };
        let port = rng.next_u32() as u16;
        let offset = rng.below(256) as u8;
        assert_eq!(
            u32::from(hash_key(addr, port, offset)),
            c_sh_hashkey(&addr_bytes(addr), port, u32::from(offset)),
            "{addr:?} port {port} offset {offset}"
        );
    }
}

#[test]
fn equal_weights_fill_buckets_in_turn() {
    let list = dests(&[1, 1, 1]);
    let sh = SourceHashing::new(&list);
    let expected: Vec<_> = (0..256).map(|bucket| Some(bucket % 3)).collect();
    assert_eq!(table(&sh), expected);
}

#[test]
fn weights_fill_consecutive_buckets() {
    let list = dests(&[3, 1, 2]);
    let sh = SourceHashing::new(&list);
    let cycle = [0, 0, 0, 1, 2, 2];
    let expected: Vec<_> = (0..256).map(|bucket| Some(cycle[bucket % 6])).collect();
    assert_eq!(table(&sh), expected);
}

#[test]
fn weight_zero_takes_one_bucket() {
    let list = dests(&[0, 2]);
    let sh = SourceHashing::new(&list);
    let cycle = [0, 1, 1];
    let expected: Vec<_> = (0..256).map(|bucket| Some(cycle[bucket % 3])).collect();
    assert_eq!(table(&sh), expected);
}

#[test]
fn weight_above_table_size_takes_every_bucket() {
    let list = dests(&[300, 1]);
    let sh = SourceHashing::new(&list);
    assert!(table(&sh).iter().all(|dest| *dest == Some(0)));
}

#[test]
fn more_dests_than_buckets() {
    // Each bucket takes the next destination; those after index 255 get none.
    let list = dests(&[1; 300]);
    let mut sh = SourceHashing::new(&list);
    let expected: Vec<_> = (0..256).map(Some).collect();
    assert_eq!(table(&sh), expected);
    assert_eq!(sh.schedule(&list, &client_v4(CLIENT)), Some(137));
}

#[test]
fn no_dests_no_buckets() {
    let list = dests(&[]);
    let mut sh = SourceHashing::new(&list);
    assert!(table(&sh).iter().all(Option::is_none));
    assert_eq!(sh.schedule(&list, &client_v4(CLIENT)), None);
}

#[test]
fn schedules_by_bucket() {
    let list = dests(&[1, 1, 1]);
    let mut sh = SourceHashing::new(&list);
    // Bucket 137 holds dest 137 % 3 = 2, bucket 220 dest 1.
    assert_eq!(sh.schedule(&list, &client_v4(CLIENT)), Some(2));
    assert_eq!(sh.schedule(&list, &client_v4(0xac10_0002)), Some(1));
    // The same client always gets the same destination.
    assert_eq!(
        picks(&mut sh, &list, &client_v4(CLIENT), 5),
        std::vec![Some(2); 5]
    );
}

#[test]
fn port_counts_only_with_the_port_flag() {
    let list = dests(&[1, 1, 1]);
    let mut sh = SourceHashing::new(&list);
    let addr = InetAddr::V4(CLIENT);
    // Without the flag the port is ignored: bucket 137.
    assert_eq!(sh.schedule(&list, &client(addr, 12345, 0)), Some(2));
    // With it, bucket 232 holds dest 232 % 3 = 1.
    assert_eq!(sh.schedule(&list, &client(addr, 12345, FLAG_PORT)), Some(1));
    // Port 80: bucket 24, dest 0.
    assert_eq!(sh.schedule(&list, &client(addr, 80, FLAG_PORT)), Some(0));
}

#[test]
fn unavailable_dest_without_fallback_is_no_destination() {
    let mut list = dests(&[1, 1, 1]);
    let mut sh = SourceHashing::new(&list);
    list[2].overloaded = true;
    assert_eq!(sh.schedule(&list, &client_v4(CLIENT)), None);
    list[2].overloaded = false;
    list[2].weight = 0;
    assert_eq!(sh.schedule(&list, &client_v4(CLIENT)), None);
    // Other clients are unaffected.
    assert_eq!(sh.schedule(&list, &client_v4(0xac10_0002)), Some(1));
}

#[test]
fn fallback_probes_from_twice_the_hash() {
    // Buckets 0-99 A, 100-199 B, 200-255 C; 10.0.0.2 hashes to 137 (B).
    let mut list = dests(&[100, 100, 56]);
    let mut sh = SourceHashing::new(&list);
    let fallback = client(InetAddr::V4(CLIENT), 0, FLAG_FALLBACK);
    assert_eq!(sh.schedule(&list, &fallback), Some(1));
    list[1].overloaded = true;
    // C probes bucket (137 + 137 + offset) & 255, from 18: A, not the C of bucket 200.
    assert_eq!(sh.schedule(&list, &fallback), Some(0));
    list[0].weight = 0;
    // A is out too: the probes walk 18..=99 (A), 100..=199 (B), then reach C at 200.
    assert_eq!(sh.schedule(&list, &fallback), Some(2));
    list[2].overloaded = true;
    assert_eq!(sh.schedule(&list, &fallback), None);
}

#[test]
fn fallback_with_port() {
    let mut list = dests(&[1, 1, 1]);
    let mut sh = SourceHashing::new(&list);
    let flags = FLAG_FALLBACK | FLAG_PORT;
    let with_port = client(InetAddr::V4(CLIENT), 12345, flags);
    // Bucket 232: dest 1.
    assert_eq!(sh.schedule(&list, &with_port), Some(1));
    list[1].overloaded = true;
    // Probes start at (2 * 232) & 255 = 208: dest 208 % 3 = 1 (out), then 209: dest 2.
    assert_eq!(sh.schedule(&list, &with_port), Some(2));
}

#[test]
fn changes_reassign_the_buckets() {
    let mut list = dests(&[1, 1]);
    let mut sh = SourceHashing::new(&list);
    list.insert(0, dest(2, 2));
    sh.dest_added(&list, 0);
    let cycle = [0, 0, 1, 2];
    let expected: Vec<_> = (0..256).map(|bucket| Some(cycle[bucket % 4])).collect();
    assert_eq!(table(&sh), expected);

    list[1].weight = 3;
    sh.dest_updated(&list);
    let cycle = [0, 0, 1, 1, 1, 2];
    let expected: Vec<_> = (0..256).map(|bucket| Some(cycle[bucket % 6])).collect();
    assert_eq!(table(&sh), expected);

    list.remove(0);
    sh.dest_removed(&list, 0);
    let cycle = [0, 0, 0, 1];
    let expected: Vec<_> = (0..256).map(|bucket| Some(cycle[bucket % 4])).collect();
    assert_eq!(table(&sh), expected);

    list.clear();
    sh.dest_removed(&list, 0);
    assert!(table(&sh).iter().all(Option::is_none));
}

#[test]
fn fill_pattern_runs_through_the_last_bucket() {
    // 256 is not a multiple of the cycle of 3 * 2 buckets: the last bucket is cut mid-cycle,
    // dest (255 / 2) % 3 = 1.
    let list = dests(&[2, 2, 2]);
    let sh = SourceHashing::new(&list);
    assert_eq!(sh.bucket(0), Some(0));
    assert_eq!(sh.bucket(255), Some(1));
}

#[test]
fn matches_c_on_random_operation_sequences() {
    let mut found = 0;
    for seed in 1..=300 {
        found += differential::<SourceHashing, CSh>(seed, 400);
    }
    assert!(found > 10_000, "only {found} successful schedules");
}
