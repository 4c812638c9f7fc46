// SPDX-License-Identifier: GPL-2.0

//! The connection table's and the mh scheduler's hsiphash (`hash/siphash.rs`) against the
//! reference vectors of the kernel's own test (`lib/tests/siphash_kunit.c`, 64-bit): key
//! 00..0f, messages 00 01 02 ... of every length up to 63 bytes, and four bytes.

use crate::c_models::c_hsiphash;
use crate::hash::siphash::{
    hash_tuple, //
    hsiphash,
    hsiphash_blocks,
    SipKey,
};
use std::vec::Vec;

/// The reference key, bytes 00..0f.
const KEY: SipKey = SipKey([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);

/// hsiphash of the messages 00, 00 01, ... up to 63 bytes, with [`KEY`]
/// (`test_vectors_hsiphash`, 64-bit).
const VECTORS: [u32; 64] = [
    0x050f_c4dc,
    0x7d57_ca93,
    0x4dc7_d44d,
    0xe7dd_f7fb,
    0x88d3_8328,
    0x4953_3b67,
    0xc59f_22a7,
    0x9bb1_1140,
    0x8d29_9a8e,
    0x6c06_3de4,
    0x92ff_097f,
    0xf94d_c352,
    0x57b4_d9a2,
    0x1229_ffa7,
    0xc0f9_5d34,
    0x2a51_9956,
    0x7d90_8b66,
    0x63db_d80c,
    0xb473_e63e,
    0x8d29_7d1c,
    0xa6cc_e040,
    0x2b45_f844,
    0xa320_872e,
    0xdae6_c123,
    0x6734_9c8c,
    0x705b_0979,
    0xca99_13a5,
    0x4ade_3b35,
    0xef6c_d00d,
    0x4ab1_e1f4,
    0x43c5_e663,
    0x8c21_d1bc,
    0x16a7_b60d,
    0x7a8f_f9bf,
    0x1f2a_753e,
    0xbf18_6b91,
    0xada2_6206,
    0xa3c3_3057,
    0xae3a_36a1,
    0x7b10_8392,
    0x99e4_1531,
    0x3f1a_d944,
    0xc813_8825,
    0xc289_49a6,
    0xfaf8_876b,
    0x9f04_2196,
    0x68b1_d623,
    0x8b51_14fd,
    0xdf07_4c46,
    0x12cc_86b3,
    0x0a52_098f,
    0x9d29_2f9a,
    0xa2f4_1f12,
    0x43a7_1ed0,
    0x73f0_bce6,
    0x70a7_e980,
    0x243c_6d75,
    0xfdb7_1513,
    0xa67d_8a08,
    0xb7e8_f148,
    0xf7a6_44ee,
    0x0f18_37f2,
    0x4b66_94e0,
    0xb7bb_b3a8,
];

/// The reference message of `len` bytes (byte i is i) as hsiphash reads it: its whole
/// little-endian words and its tail.
fn message(len: usize) -> (Vec<u64>, u64) {
    let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut chunks = bytes.chunks_exact(8);
    let words = chunks
        .by_ref()
        .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        .collect();
    let tail = chunks
        .remainder()
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    (words, tail)
}

#[test]
fn hsiphash_of_every_length_matches_the_reference_vectors() {
    for (len, &want) in VECTORS.iter().enumerate() {
        let (words, tail) = message(len);
        assert_eq!(
            hsiphash_blocks(&KEY, &words, tail, len as u64),
            want,
            "{len} bytes"
        );
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        assert_eq!(c_hsiphash(&bytes, KEY.0), want, "the C model, {len} bytes");
    }
    assert_eq!(hsiphash(&[0, 1, 2, 3], &KEY), VECTORS[4]);
}

/// The IPv4 tuple is the 7 bytes address, port (little-endian), protocol; the IPv6 tuple
/// the same 19 bytes.
#[test]
fn tuple_hash_is_hsiphash_of_the_tuple_bytes() {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, 2]);
    assert_eq!(
        hash_tuple(&KEY, 2, 17, &addr, 0x1234),
        c_hsiphash(&[10, 0, 0, 2, 0x34, 0x12, 17], KEY.0)
    );
    let addr6: [u8; 16] = core::array::from_fn(|i| 0xf0 | i as u8);
    let mut bytes6 = addr6.to_vec();
    bytes6.extend_from_slice(&[80, 0, 6]);
    assert_eq!(
        hash_tuple(&KEY, 10, 6, &addr6, 80),
        c_hsiphash(&bytes6, KEY.0)
    );
}

/// Every part of the tuple and of the key moves the hash.
#[test]
fn tuple_hash_depends_on_every_field_and_the_key() {
    let addr: [u8; 16] = core::array::from_fn(|i| i as u8);
    let base = hash_tuple(&KEY, 10, 6, &addr, 80);
    assert_ne!(base, hash_tuple(&KEY, 10, 17, &addr, 80));
    assert_ne!(base, hash_tuple(&KEY, 10, 6, &addr, 81));
    assert_ne!(base, hash_tuple(&KEY, 2, 6, &addr, 80));
    for byte in 0..16 {
        let mut other = addr;
        other[byte] ^= 1;
        assert_ne!(base, hash_tuple(&KEY, 10, 6, &other, 80), "byte {byte}");
    }
    assert_ne!(base, hash_tuple(&SipKey([1, 2]), 10, 6, &addr, 80));
}
