// SPDX-License-Identifier: GPL-2.0

//! The tunnel headers of `xmit/encap.rs` against C's `ip_vs_tunnel_xmit`, `ipvs_gue_encap`,
//! `gre_calc_hlen` and `INET_ECN_encapsulate`.

use crate::xmit::encap::{
    encapsulated_tos, //
    gre_protocol,
    gue_header,
    inner_protocol,
    outer_header,
    outer_header6,
    udp_header,
    Encap,
    ETH_P_IP,
};

/// `INET_ECN_encapsulate(outer, inner)` from include/net/inet_ecn.h, transcribed.
fn c_inet_ecn_encapsulate(outer: u8, inner: u8) -> u8 {
    const INET_ECN_MASK: u8 = 3;
    const INET_ECN_CE: u8 = 3;
    const INET_ECN_ECT_0: u8 = 2;
    let mut outer = outer & !INET_ECN_MASK;
    outer |= if inner & INET_ECN_MASK != INET_ECN_CE {
        inner & INET_ECN_MASK
    } else {
        INET_ECN_ECT_0
    };
    outer
}

#[test]
fn tos_is_encapsulated_as_c_does_for_every_value() {
    for tos in 0..=u8::MAX {
        assert_eq!(
            encapsulated_tos(tos),
            c_inet_ecn_encapsulate(tos, tos),
            "tos {tos:#x}"
        );
    }
    assert_eq!(encapsulated_tos(0x0b), 0x0a, "CE becomes ECT(0)");
    assert_eq!(encapsulated_tos(0xb9), 0xb9, "ECT(1) is kept with the DSCP");
}

#[test]
fn destination_settings_select_the_encapsulation() {
    assert_eq!(Encap::of(0, 0, 0), Encap::Ipip);
    assert_eq!(
        Encap::of(0, 6080, 3),
        Encap::Ipip,
        "IP-in-IP ignores port and flags"
    );
    assert_eq!(
        Encap::of(1, 6080, 0),
        Encap::Gue {
            port: 6080,
            csum: false,
            remcsum: false
        }
    );
    assert_eq!(
        Encap::of(1, 6080, 2),
        Encap::Gue {
            port: 6080,
            csum: false,
            remcsum: true
        }
    );
    assert_eq!(Encap::of(2, 0, 1), Encap::Gre { csum: true });
    // C's tunnel transmitter treats a type it does not know as IP-in-IP.
    assert_eq!(Encap::of(7, 0, 0), Encap::Ipip);
}

#[test]
fn header_lengths_and_path_overhead_are_c_s() {
    let gue = Encap::of(1, 6080, 0);
    let remcsum = Encap::of(1, 6080, 2);
    // udphdr + guehdr, plus GUE_PLEN_REMCSUM + GUE_LEN_PRIV for a CHECKSUM_PARTIAL packet.
    assert_eq!(gue.header_len(true), 12);
    assert_eq!(remcsum.header_len(false), 12);
    assert_eq!(remcsum.header_len(true), 20);
    // gre_calc_hlen: 4, plus 4 with TUNNEL_CSUM.
    assert_eq!(Encap::Gre { csum: false }.header_len(false), 4);
    assert_eq!(Encap::Gre { csum: true }.header_len(true), 8);
    assert_eq!(Encap::Ipip.overhead(true, false), 20);
    assert_eq!(remcsum.overhead(true, false), 40);
    // An IPv6 outer header: sizeof(struct ipv6hdr).
    assert_eq!(Encap::Ipip.overhead(false, true), 40);
    assert_eq!(Encap::Gre { csum: true }.overhead(false, true), 48);
    // IP-in-IP's outer protocol is the inner packet's version: IPPROTO_IPIP or IPPROTO_IPV6.
    assert_eq!(Encap::Ipip.outer_protocol(false), 4);
    assert_eq!(Encap::Ipip.outer_protocol(true), 41);
    assert_eq!(gue.outer_protocol(true), 17);
    assert_eq!(Encap::Gre { csum: false }.outer_protocol(false), 47);
    // GRE's protocol field for the IPv4 or IPv6 packet inside (ipvs_gre_encap).
    assert_eq!(ETH_P_IP, 0x0800);
    assert_eq!(gre_protocol(false), 0x0800);
    assert_eq!(gre_protocol(true), 0x86dd);
    assert_eq!(inner_protocol(false), 4);
    assert_eq!(inner_protocol(true), 41);
}

#[test]
fn gue_header_bytes() {
    assert_eq!(
        gue_header(4, None),
        ([0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4)
    );
    // hlen 2, GUE_FLAG_PRIV, GUE_PFLAG_REMCSUM, then csum_start and csum_start + csum_offset.
    assert_eq!(
        gue_header(4, Some((20, 36))),
        ([2, 4, 0, 1, 0x80, 0, 0, 0, 0, 20, 0, 36], 12)
    );
}

#[test]
fn udp_and_outer_headers() {
    assert_eq!(
        udp_header(0xc001, 6080, 61),
        [0xc0, 0x01, 0x17, 0xc0, 0, 61, 0, 0]
    );
    let outer = outer_header(4, 0x0b, 63, true, [172, 16, 0, 1], [172, 16, 0, 11]);
    assert_eq!(
        outer,
        [0x45, 0x0a, 0, 0, 0, 0, 0x40, 0, 63, 4, 0, 0, 172, 16, 0, 1, 172, 16, 0, 11]
    );
    assert_eq!(outer_header(47, 0, 1, false, [1; 4], [2; 4])[6], 0, "no DF");
}

#[test]
fn outer_ipv6_header() {
    let saddr = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let daddr = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11];
    // Version 6; traffic class 0x0b (ECN CE) encapsulated as 0x0a (ECT(0)) across the
    // version and flow-label nibbles; flow label 0; payload length; next header; hop limit.
    let outer = outer_header6(41, 0x0b, 63, 0x0123, &saddr, &daddr);
    assert_eq!(outer[..8], [0x60, 0xa0, 0, 0, 0x01, 0x23, 41, 63]);
    assert_eq!(outer[8..24], saddr);
    assert_eq!(outer[24..], daddr);
    // A traffic class using the high nibble: 0xb8 (EF) stays.
    assert_eq!(
        outer_header6(4, 0xb8, 1, 0, &saddr, &daddr)[..2],
        [0x6b, 0x80]
    );
}

#[test]
fn quoted_gue_headers() {
    use crate::xmit::encap::quoted_gue_len;
    // Version 0 data message carrying IPv4 (proto_ctype 4), no options: UDP 8 + GUE 4.
    assert_eq!(quoted_gue_len([0x00, 4, 0, 0]), Some(12));
    // hlen 2 words of options (the remote checksum's private flags and offsets).
    assert_eq!(quoted_gue_len([0x02, 4, 0, 0]), Some(20));
    assert_eq!(quoted_gue_len([0x1f, 4, 0, 0]), Some(12 + 31 * 4));
    // A control message, another version, IPv6 inside: not decoded.
    assert_eq!(quoted_gue_len([0x20, 4, 0, 0]), None);
    assert_eq!(quoted_gue_len([0x40, 4, 0, 0]), None);
    assert_eq!(quoted_gue_len([0x00, 41, 0, 0]), None);
}

#[test]
fn quoted_gre_headers() {
    use crate::xmit::encap::quoted_gre_len;
    assert_eq!(quoted_gre_len([0x00, 0x00, 0x08, 0x00]), Some(4));
    assert_eq!(quoted_gre_len([0x80, 0x00, 0x08, 0x00]), Some(8));
    // Key, sequence number, a version other than 0, IPv6: not ours.
    assert_eq!(quoted_gre_len([0x20, 0x00, 0x08, 0x00]), None);
    assert_eq!(quoted_gre_len([0x10, 0x00, 0x08, 0x00]), None);
    assert_eq!(quoted_gre_len([0x00, 0x01, 0x08, 0x00]), None);
    assert_eq!(quoted_gre_len([0x00, 0x00, 0x86, 0xdd]), None);
}

#[test]
fn ttl_decrement_checksum() {
    use crate::xmit::encap::checksum_after_ttl_decrement;
    // The checksum of a header, recomputed after its TTL drops, is what the update gives.
    let checksum = |h: &[u8; 20]| {
        let mut sum: u32 = h
            .chunks(2)
            .enumerate()
            .filter(|(i, _)| *i != 5)
            .map(|(_, w)| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        (!(sum as u16)).to_be_bytes()
    };
    for (ttl, tos, addr) in [
        (64u8, 0u8, 0x0a00_0001u32),
        (2, 0xb8, 0xc0a8_0102),
        (255, 0xff, 0xffff_fffe),
        (1, 0, 0),
    ] {
        let mut h = [0u8; 20];
        h[0] = 0x45;
        h[1] = tos;
        h[8] = ttl;
        h[9] = 6;
        h[12..16].copy_from_slice(&addr.to_be_bytes());
        h[16..20].copy_from_slice(&(!addr).to_be_bytes());
        let before = checksum(&h);
        h[8] = ttl - 1;
        let after = checksum(&h);
        assert_eq!(
            checksum_after_ttl_decrement(before),
            after,
            "ttl {ttl}, tos {tos:#x}"
        );
    }
}
