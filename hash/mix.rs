// SPDX-License-Identifier: GPL-2.0

//! The hash of a tuple, seeded per table (C: `ip_vs_rht_hash_linfo` and `jhash_2words`), as
//! pure functions: an IPv4 address is one word, an IPv6 address four.

/// `AF_INET6`.
const AF_INET6: u16 = 10;

/// Mixes `word` into `h` (a multiply-xorshift round).
#[inline]
fn mix(h: u32, word: u32) -> u32 {
    let mut h = h ^ word;
    h = h.wrapping_mul(0x9e37_79b1);
    h ^= h >> 15;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^ (h >> 13)
}

/// The hash of `protocol`, an address of family `af` and `port`, with `seed`.
#[inline]
pub(crate) fn hash_addr_port(seed: u32, af: u16, protocol: u8, addr: &[u8; 16], port: u16) -> u32 {
    let mut h = seed ^ u32::from(protocol);
    let words = if af == AF_INET6 { 4 } else { 1 };
    for chunk in addr.chunks_exact(4).take(words) {
        let word = <[u8; 4]>::try_from(chunk).unwrap_or([0; 4]);
        h = mix(h, u32::from_ne_bytes(word));
    }
    mix(h, u32::from(port))
}

/// The hash of a firewall mark of family `af`, with `seed`.
#[inline]
pub(crate) fn hash_mark(seed: u32, af: u16, mark: u32) -> u32 {
    mix(mix(seed ^ u32::from(af), mark), 0)
}
