// SPDX-License-Identifier: GPL-2.0

//! The headers a tunnel destination puts in front of a packet (C: `ip_vs_tunnel_xmit`,
//! `ip_vs_tunnel_xmit_v6`, `ipvs_gue_encap`, `ipvs_gre_encap`): which encapsulation, how long
//! it is and the bytes of the outer IPv4 or IPv6 header and of the GUE header. Pure logic,
//! unit-tested on the host.

use crate::uapi::{
    ipproto, //
    tun_flags,
    tun_type,
};

/// Length of the outer IPv4 header (`sizeof(struct iphdr)`).
pub(crate) const OUTER_HEADER_LEN: usize = 20;
/// Length of the outer IPv6 header (`sizeof(struct ipv6hdr)`).
pub(crate) const OUTER_HEADER6_LEN: usize = 40;
/// Length of a UDP header.
const UDP_HEADER_LEN: u32 = 8;
/// Length of the GUE base header (`sizeof(struct guehdr)`).
const GUE_HEADER_LEN: u32 = 4;
/// The GUE private flags word and the remote checksum offsets (`GUE_LEN_PRIV +
/// GUE_PLEN_REMCSUM`).
const GUE_REMCSUM_LEN: u32 = 8;
/// Length of the GRE base header, and of its checksum field.
const GRE_WORD_LEN: u32 = 4;
/// The UDP and GUE base headers of a quoted GUE packet.
const QUOTED_GUE_BASE_LEN: usize = (UDP_HEADER_LEN + GUE_HEADER_LEN) as usize;
/// A GRE header with its checksum field.
const QUOTED_GRE_CSUM_LEN: usize = (2 * GRE_WORD_LEN) as usize;
/// GRE's checksum-present flag (`GRE_CSUM`), in the flags word.
const GRE_CSUM: u16 = 0x8000;
/// The EtherType of IPv4 (`ETH_P_IP`), GRE's protocol field for an IPv4 inner packet.
pub(crate) const ETH_P_IP: u16 = 0x0800;
/// The EtherType of IPv6 (`ETH_P_IPV6`), GRE's protocol field for an IPv6 inner packet.
pub(crate) const ETH_P_IPV6: u16 = 0x86dd;

/// The protocol number of an inner packet of IP version `inner_v6` (`next_protocol` of
/// `ip_vs_prepare_tunneled_skb`): `IPPROTO_IPV6` or `IPPROTO_IPIP`.
pub(crate) fn inner_protocol(inner_v6: bool) -> u8 {
    if inner_v6 {
        ipproto::IPV6
    } else {
        ipproto::IPIP
    }
}

/// GRE's protocol field for an inner packet of IP version `inner_v6` (`ipvs_gre_encap`).
pub(crate) fn gre_protocol(inner_v6: bool) -> u16 {
    if inner_v6 {
        ETH_P_IPV6
    } else {
        ETH_P_IP
    }
}

/// How a tunnel destination encapsulates (its `tun_type`, `tun_port` and `tun_flags`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Encap {
    /// IP in IP: the outer IPv4 header alone.
    Ipip,
    /// Generic UDP Encapsulation: a UDP header to `port` (host order) and a GUE header.
    Gue {
        /// The destination's `tun_port`.
        port: u16,
        /// Checksum the UDP header (`--tun-csum`).
        csum: bool,
        /// Remote checksum offload (`--tun-remcsum`): a checksum the device was to complete
        /// is left to the receiver, which the GUE header tells where it is.
        remcsum: bool,
    },
    /// GRE, with a checksum when `csum`.
    Gre {
        /// `--tun-csum`.
        csum: bool,
    },
}

impl Encap {
    /// The encapsulation of a destination with these settings; C sends any `tun_type` it
    /// does not know as IP in IP.
    pub(crate) fn of(ty: u8, port: u16, flags: u16) -> Self {
        let csum = flags & tun_flags::CSUM != 0;
        match ty {
            tun_type::GUE => Encap::Gue {
                port,
                csum,
                remcsum: flags & tun_flags::REMCSUM != 0,
            },
            tun_type::GRE => Encap::Gre { csum },
            _ => Encap::Ipip,
        }
    }

    /// Whether a packet whose checksum the device was to complete (`partial`) has its
    /// checksum left to the receiver.
    pub(crate) fn remote_checksum(self, partial: bool) -> bool {
        matches!(self, Encap::Gue { remcsum: true, .. }) && partial
    }

    /// Bytes between the outer IP header and the inner packet.
    pub(crate) fn header_len(self, partial: bool) -> u32 {
        match self {
            Encap::Ipip => 0,
            Encap::Gue { .. } => {
                let options = if self.remote_checksum(partial) {
                    GUE_REMCSUM_LEN
                } else {
                    0
                };
                (UDP_HEADER_LEN + GUE_HEADER_LEN).saturating_add(options)
            }
            Encap::Gre { csum: false } => GRE_WORD_LEN,
            Encap::Gre { csum: true } => 2 * GRE_WORD_LEN,
        }
    }

    /// What the MTU of the path to the real server loses to the tunnel, the outer header
    /// (IPv6 when `outer_v6`) included (the `mtu` of `__ip_vs_get_out_rt` and
    /// `__ip_vs_get_out_rt_v6` with `IP_VS_RT_MODE_TUNNEL`).
    pub(crate) fn overhead(self, partial: bool, outer_v6: bool) -> u32 {
        let outer = if outer_v6 {
            OUTER_HEADER6_LEN
        } else {
            OUTER_HEADER_LEN
        };
        (outer as u32).saturating_add(self.header_len(partial))
    }

    /// The protocol of the outer IP header, for an inner packet of IP version `inner_v6`.
    pub(crate) fn outer_protocol(self, inner_v6: bool) -> u8 {
        match self {
            Encap::Ipip => inner_protocol(inner_v6),
            Encap::Gue { .. } => ipproto::UDP,
            Encap::Gre { .. } => ipproto::GRE,
        }
    }
}

/// The GUE header for an inner packet of protocol `inner_protocol` (`ipvs_gue_encap`), with
/// the remote checksum option when `remote_csum` holds the inner checksum's start and its
/// field, from the inner packet's start; returns the bytes and how many of them are used.
pub(crate) fn gue_header(inner_protocol: u8, remote_csum: Option<(u16, u16)>) -> ([u8; 12], usize) {
    match remote_csum {
        None => ([0, inner_protocol, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4),
        Some((start, field)) => {
            let [s0, s1] = start.to_be_bytes();
            let [f0, f1] = field.to_be_bytes();
            // hlen 2 (words of options), GUE_FLAG_PRIV, then the private flags with
            // GUE_PFLAG_REMCSUM and the two offsets.
            ([2, inner_protocol, 0, 1, 0x80, 0, 0, 0, s0, s1, f0, f1], 12)
        }
    }
}

/// A UDP header from `sport` to `dport` (host order) of `len` bytes, checksum 0.
pub(crate) fn udp_header(sport: u16, dport: u16, len: u16) -> [u8; 8] {
    let [s0, s1] = sport.to_be_bytes();
    let [d0, d1] = dport.to_be_bytes();
    let [l0, l1] = len.to_be_bytes();
    [s0, s1, d0, d1, l0, l1, 0, 0]
}

/// The ECN field of the type of service (`INET_ECN_MASK`).
const ECN_MASK: u8 = 0x03;
/// Congestion experienced (`INET_ECN_CE`).
const ECN_CE: u8 = 0x03;
/// ECN-capable transport 0 (`INET_ECN_ECT_0`).
const ECN_ECT_0: u8 = 0x02;

/// The outer type of service for an inner one (`INET_ECN_encapsulate(tos, tos)`): the same,
/// but "congestion experienced" is not copied out (it becomes ECT(0)).
pub(crate) fn encapsulated_tos(inner: u8) -> u8 {
    let ecn = if inner & ECN_MASK == ECN_CE {
        ECN_ECT_0
    } else {
        inner & ECN_MASK
    };
    (inner & !ECN_MASK) | ecn
}

/// The outer IPv6 header of next header `next` (C: the one `ip_vs_tunnel_xmit_v6`
/// installs): flow label 0, the inner packet's type of service or traffic class as its
/// traffic class, `payload_len` (which the IPv6 output sets again), `hop_limit`.
pub(crate) fn outer_header6(
    next: u8,
    inner_tos: u8,
    hop_limit: u8,
    payload_len: u16,
    saddr: &[u8; 16],
    daddr: &[u8; 16],
) -> [u8; OUTER_HEADER6_LEN] {
    let tclass = encapsulated_tos(inner_tos);
    let [l0, l1] = payload_len.to_be_bytes();
    let mut header = [0u8; OUTER_HEADER6_LEN];
    let fixed = [
        0x60 | (tclass >> 4),
        tclass << 4,
        0,
        0,
        l0,
        l1,
        next,
        hop_limit,
    ];
    for (slot, byte) in header
        .iter_mut()
        .zip(fixed.iter().chain(saddr).chain(daddr))
    {
        *slot = *byte;
    }
    header
}

/// The outer IPv4 header of protocol `protocol` (C: the one `ip_vs_tunnel_xmit` installs),
/// without its length, identification and checksum, which the IP output fills in.
pub(crate) fn outer_header(
    protocol: u8,
    inner_tos: u8,
    ttl: u8,
    dont_fragment: bool,
    saddr: [u8; 4],
    daddr: [u8; 4],
) -> [u8; OUTER_HEADER_LEN] {
    let [s0, s1, s2, s3] = saddr;
    let [d0, d1, d2, d3] = daddr;
    let df = if dont_fragment { 0x40 } else { 0 };
    [
        0x45,
        encapsulated_tos(inner_tos),
        0,
        0,
        0,
        0,
        df,
        0,
        ttl,
        protocol,
        0,
        0,
        s0,
        s1,
        s2,
        s3,
        d0,
        d1,
        d2,
        d3,
    ]
}

/// The length of the UDP and GUE headers in front of a quoted packet, from the first four
/// bytes of its GUE header (`ipvs_udp_decap`): [`None`] unless it is a version 0 data message
/// carrying IPv4 (C does not decode IPv6 there yet).
pub(crate) fn quoted_gue_len(gue: [u8; 4]) -> Option<usize> {
    let [first, proto_ctype, ..] = gue;
    // `struct guehdr`: version in the top two bits, the control flag, then `hlen` in words.
    let version = first >> 6;
    let control = (first >> 5) & 1;
    if version != 0 || control != 0 || proto_ctype != ipproto::IPIP {
        return None;
    }
    let options = usize::from(first & 0x1f).checked_mul(4)?;
    options.checked_add(QUOTED_GUE_BASE_LEN)
}

/// The length of the GRE header in front of a quoted packet, from its first four bytes
/// (`ipvs_gre_decap`, `gre_calc_hlen`): [`None`] unless it is version 0, with no flag but the
/// checksum, carrying IPv4.
pub(crate) fn quoted_gre_len(gre: [u8; 4]) -> Option<usize> {
    let [f0, f1, p0, p1] = gre;
    let flags = u16::from_be_bytes([f0, f1]);
    if flags & !GRE_CSUM != 0 || u16::from_be_bytes([p0, p1]) != ETH_P_IP {
        return None;
    }
    Some(if flags & GRE_CSUM != 0 {
        QUOTED_GRE_CSUM_LEN
    } else {
        GRE_WORD_LEN as usize
    })
}

/// The IPv4 header checksum `check` (as on the wire) once the TTL has dropped by one: updated
/// for the change, not recomputed (`ip_decrease_ttl`, RFC 1624's incremental update).
pub(crate) fn checksum_after_ttl_decrement(check: [u8; 2]) -> [u8; 2] {
    // The TTL is the high byte of its 16-bit word: the sum loses 0x0100, so its complement
    // gains 0x0100, with the end-around carry.
    // Below 2^17: no overflow.
    let sum = u32::from(u16::from_be_bytes(check)).wrapping_add(0x0100);
    let sum = sum.wrapping_add(u32::from(sum >= 0xffff));
    (sum as u16).to_be_bytes()
}
