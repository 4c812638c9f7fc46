// SPDX-License-Identifier: GPL-2.0

//! The kernel's `hsiphash` on 64-bit kernels (SipHash-1-3, `lib/siphash.c`: `HPREAMBLE`,
//! `HPOSTAMBLE`), inline and in safe Rust: of the connection table's tuple, and of four bytes
//! for the mh scheduler's hash (`ip_vs_mh_hashkey`).
//!
//! The connection table is keyed by what clients send: a keyed pseudo-random function with a
//! random key per table, as C 7.3's `ip_vs_conn_hashkey` (`siphash_2u64`), keeps an attacker
//! who picks source addresses and ports from aiming them at one chain. SipHash-1-3 is the
//! kernel's choice for hash tables whose hashes are not shown (`hsiphash`) and Rust's for its
//! `HashMap`. A lookup's hash and chain index cost about 90 instructions (`chain_of`, of the
//! tuple's 7 bytes, on the -O2 perf kernel), SipHash-2-4 about 190; C's `siphash_2u64` 160,
//! out of line.

/// `AF_INET6`.
const AF_INET6: u16 = 10;

/// An hsiphash key (C: `hsiphash_key_t` on 64-bit kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SipKey(pub(crate) [u64; 2]);

/// SipHash's initial state constants ("somepseudorandomlygeneratedbytes").
const INIT: [u64; 4] = [
    0x736f_6d65_7073_6575,
    0x646f_7261_6e64_6f6d,
    0x6c79_6765_6e65_7261,
    0x7465_6462_7974_6573,
];

/// The four state words.
struct State([u64; 4]);

impl State {
    /// The state keyed with `key` (C: `PREAMBLE`).
    #[inline(always)]
    fn new(key: &SipKey) -> Self {
        let [k0, k1] = key.0;
        State([INIT[0] ^ k0, INIT[1] ^ k1, INIT[2] ^ k0, INIT[3] ^ k1])
    }

    /// One SipRound (C: `SIPHASH_PERMUTATION`).
    #[inline(always)]
    fn round(&mut self) {
        let [mut a, mut b, mut c, mut d] = self.0;
        a = a.wrapping_add(b);
        b = b.rotate_left(13) ^ a;
        a = a.rotate_left(32);
        c = c.wrapping_add(d);
        d = d.rotate_left(16) ^ c;
        a = a.wrapping_add(d);
        d = d.rotate_left(21) ^ a;
        c = c.wrapping_add(b);
        b = b.rotate_left(17) ^ c;
        c = c.rotate_left(32);
        self.0 = [a, b, c, d];
    }

    /// Absorbs one message word with one round (SipHash-1-3's compression).
    #[inline(always)]
    fn absorb(&mut self, word: u64) {
        self.0[3] ^= word;
        self.round();
        self.0[0] ^= word;
    }

    /// The finalization's three rounds and the result, truncated to 32 bits as C's `u32`
    /// return value of the `u64` expression (`HPOSTAMBLE`).
    #[inline(always)]
    fn finish(mut self) -> u32 {
        self.0[2] ^= 0xff;
        self.round();
        self.round();
        self.round();
        let [a, b, c, d] = self.0;
        (a ^ b ^ c ^ d) as u32
    }
}

/// hsiphash with `key` of a message of `len` bytes: its whole little-endian `words`, then
/// `tail`, its last `len % 8` bytes (little-endian, zero above them), which share the last
/// block with the length in its top byte.
#[inline(always)]
pub(crate) fn hsiphash_blocks(key: &SipKey, words: &[u64], tail: u64, len: u64) -> u32 {
    let mut state = State::new(key);
    for &word in words {
        state.absorb(word);
    }
    state.absorb(len << 56 | tail);
    state.finish()
}

/// hsiphash with `key` of four bytes (C: `hsiphash(data, 4, key)`, `hsiphash_1u32`).
#[inline]
pub(crate) fn hsiphash(data: &[u8; 4], key: &SipKey) -> u32 {
    hsiphash_blocks(key, &[], u64::from(u32::from_le_bytes(*data)), 4)
}

/// The hash of a connection's client tuple (`protocol`, the address of family `af`, `port`)
/// with the table's `key`: hsiphash of the address, the port (little-endian) and the
/// protocol, 7 bytes for IPv4 and 19 for IPv6, whose last bytes share the length's block (a
/// round fewer than whole words: 2 blocks for IPv4, 3 for IPv6).
#[inline(always)]
pub(crate) fn hash_tuple(key: &SipKey, af: u16, protocol: u8, addr: &[u8; 16], port: u16) -> u32 {
    let low = addr
        .first_chunk::<8>()
        .map_or(0, |b| u64::from_le_bytes(*b));
    let port_protocol = u64::from(protocol) << 16 | u64::from(port);
    if af == AF_INET6 {
        let high = addr.last_chunk::<8>().map_or(0, |b| u64::from_le_bytes(*b));
        hsiphash_blocks(key, &[low, high], port_protocol, 19)
    } else {
        // The IPv4 address is the first four bytes.
        hsiphash_blocks(key, &[], port_protocol << 32 | low & 0xffff_ffff, 7)
    }
}
