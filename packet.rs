// SPDX-License-Identifier: GPL-2.0

//! The packet as the data path sees it (C: `struct ip_vs_iphdr`): address family, addresses,
//! protocol and header offsets, parsed once per packet with bounds checks and handed down to
//! the protocol, connection, scheduler and transmit layers.
//!
//! Addresses are `union nf_inet_addr` bytes ([`NfInetAddr`]) whatever the family, so a
//! connection, a template key or a service key has one shape for IPv4 and IPv6; IPv6 adds a
//! parser here, not a second copy of the layers above.

use crate::{
    ffi::skb::Skb,
    proto::sctp_state::Chunks,
    sched::dest_view::InetAddr, //
    uapi,
};

/// An address as `union nf_inet_addr` holds it: 16 bytes in network order, an IPv4 address in
/// the first four and the rest zero.
pub(crate) type NfInetAddr = [u8; 16];

/// Whether an IPv6 address is unicast (`ipv6_addr_type() & IPV6_ADDR_UNICAST`): anything but
/// multicast (`ff00::/8`), the unspecified address and IPv4-mapped addresses.
pub(crate) fn ipv6_is_unicast(addr: &NfInetAddr) -> bool {
    let multicast = addr[0] == 0xff;
    let unspecified = addr.iter().all(|&b| b == 0);
    let mapped = addr[..10].iter().all(|&b| b == 0) && addr[10] == 0xff && addr[11] == 0xff;
    !multicast && !unspecified && !mapped
}

/// The `nf_inet_addr` of an IPv4 address.
#[inline(always)]
pub(crate) const fn nf_inet_v4(addr: [u8; 4]) -> NfInetAddr {
    // As one word: the four bytes first whatever the byte order, one load and two stores
    // (byte by byte, the compiler kept four loads and four stores of each address).
    (u32::from_le_bytes(addr) as u128).to_le_bytes()
}

/// The IPv4 address in the first four bytes of an `nf_inet_addr`.
pub(crate) const fn v4_of(addr: &NfInetAddr) -> [u8; 4] {
    [addr[0], addr[1], addr[2], addr[3]]
}

/// The scheduler's view of an address of family `af` (host-order words, as the C schedulers
/// hash them).
pub(crate) fn sched_addr(af: u16, addr: &NfInetAddr) -> InetAddr {
    let word = |i: usize| {
        let b = |j: usize| addr.get(i * 4 + j).copied().unwrap_or(0);
        u32::from_be_bytes([b(0), b(1), b(2), b(3)])
    };
    if af == uapi::AF_INET6 {
        InetAddr::V6([word(0), word(1), word(2), word(3)])
    } else {
        InetAddr::V4(word(0))
    }
}

/// The `nf_inet_addr` of a scheduler address (the inverse of [`sched_addr`]).
pub(crate) fn nf_inet_of(addr: InetAddr) -> NfInetAddr {
    match addr {
        InetAddr::V4(word) => nf_inet_v4(word.to_be_bytes()),
        InetAddr::V6([w0, w1, w2, w3]) => {
            (u128::from(w0) << 96 | u128::from(w1) << 64 | u128::from(w2) << 32 | u128::from(w3))
                .to_be_bytes()
        }
    }
}

/// Offset of the TTL in the IPv4 header.
pub(crate) const IPV4_TTL_OFFSET: usize = 8;
/// Offset of the protocol in the IPv4 header.
const IPV4_PROTOCOL_OFFSET: usize = 9;
/// Offset of the header checksum in the IPv4 header.
pub(crate) const IPV4_CSUM_OFFSET: usize = 10;
/// Offset of the source address in the IPv4 header.
pub(crate) const IPV4_SADDR_OFFSET: usize = 12;
/// Offset of the destination address in the IPv4 header.
pub(crate) const IPV4_DADDR_OFFSET: usize = 16;
/// Length of an IPv4 header without options.
const IPV4_MIN_HEADER: usize = 20;
/// Length of the fixed IPv6 header.
const IPV6_HEADER: usize = 40;
/// Offset of the next-header field in the IPv6 header.
const IPV6_NEXT_HEADER_OFFSET: usize = 6;
/// Offset of the hop limit in the IPv6 header.
pub(crate) const IPV6_HOP_LIMIT_OFFSET: usize = 7;
/// Offset of the source address in the IPv6 header.
pub(crate) const IPV6_SADDR_OFFSET: usize = 8;
/// Offset of the destination address in the IPv6 header.
pub(crate) const IPV6_DADDR_OFFSET: usize = 24;

/// Whether `ipv6_find_hdr` walks past an IPv6 header whose next header is `next_header`
/// (`ipv6_ext_hdr`, but for "no next header", where its walk ends as at an upper layer).
fn ipv6_walks_past(next_header: u8) -> bool {
    use uapi::ipproto::{AH, DSTOPTS, FRAGMENT, HOPOPTS, ROUTING};
    matches!(next_header, HOPOPTS | ROUTING | FRAGMENT | AH | DSTOPTS)
}

/// A parsed IP header (C: `struct ip_vs_iphdr`).
#[derive(Clone, Copy)]
pub(crate) struct IpHeader {
    /// Address family (`AF_INET`).
    pub(crate) af: u16,
    /// Offset of the IP header from `skb->data` (C: `off`).
    pub(crate) offset: usize,
    /// Offset of the transport header from `skb->data` (C: `len`).
    pub(crate) transport_offset: usize,
    /// IP protocol of the payload.
    pub(crate) protocol: u8,
    /// Fragment offset in 8-byte units; non-zero for every fragment but the first (C:
    /// `fragoffs`).
    pub(crate) fragment_offset: u16,
    /// Time to live.
    pub(crate) ttl: u8,
    /// Type of service (DSCP and ECN).
    pub(crate) tos: u8,
    /// Don't fragment (`IP_DF`).
    pub(crate) dont_fragment: bool,
    /// More fragments follow (`IP_MF`).
    pub(crate) more_fragments: bool,
    /// Source address.
    pub(crate) saddr: NfInetAddr,
    /// Destination address.
    pub(crate) daddr: NfInetAddr,
}

impl IpHeader {
    /// Parses the packet's IP header at its network header, of the family its version says
    /// (`ip_vs_fill_iph_skb`; a hook of one family only sees packets of that family).
    ///
    /// The packet path parses every packet in every hook: an IPv4 header is read once, the
    /// first 20 bytes serving for the version and the whole header (an IPv6 header is longer).
    #[inline(always)]
    pub(crate) fn parse(skb: &Skb<'_>) -> Option<Self> {
        let offset = skb.network_offset()?;
        let mut raw = [0u8; IPV4_MIN_HEADER];
        let raw = <&[u8; IPV4_MIN_HEADER]>::try_from(skb.read(offset, &mut raw)?).ok()?;
        match raw[0] >> 4 {
            4 => Self::decode_v4(raw, offset),
            6 => Self::parse_v6(skb, offset),
            _ => None,
        }
    }

    /// The protocol of an IPv4 packet (`ip_hdr(skb)->protocol`) without parsing the rest of
    /// its header; [`None`] for another packet.
    #[inline]
    pub(crate) fn ipv4_protocol(skb: &Skb<'_>) -> Option<u8> {
        let offset = skb.network_offset()?;
        let mut head = [0u8; IPV4_PROTOCOL_OFFSET + 1];
        let head = skb.read(offset, &mut head)?;
        match *head {
            [ver_ihl, .., protocol] if ver_ihl >> 4 == 4 => Some(protocol),
            _ => None,
        }
    }

    /// Parses the IPv6 header at `offset` (the network header, or one embedded in an ICMPv6
    /// error) and finds the upper layer through the extension headers (`ipv6_find_hdr`).
    /// IPv6 fragments are reassembled before the hooks (`nf_defrag_ipv6`): a later fragment
    /// has a non-zero `fragment_offset`, and `more_fragments` says a fragment header was
    /// passed (`IP6_FH_F_FRAG`).
    pub(crate) fn parse_v6(skb: &Skb<'_>, offset: usize) -> Option<Self> {
        let mut raw = [0u8; IPV6_HEADER];
        let raw = skb.read(offset, &mut raw)?;
        let raw = <&[u8; IPV6_HEADER]>::try_from(raw).ok()?;
        if raw[0] >> 4 != 6 {
            return None;
        }
        let next_header = *raw.get(IPV6_NEXT_HEADER_OFFSET)?;
        let (protocol, transport_offset, fragoff, fragment) = if ipv6_walks_past(next_header) {
            skb.ipv6_upper_layer(offset)?
        } else {
            // No extension header: the upper layer follows, where `ipv6_find_hdr` stops at
            // once.
            (next_header, offset.checked_add(IPV6_HEADER)?, 0, false)
        };
        let saddr = *raw.get(8..)?.first_chunk::<16>()?;
        let daddr = *raw.get(24..)?.first_chunk::<16>()?;
        let [b0, b1, ..] = *raw;
        Some(IpHeader {
            af: uapi::AF_INET6,
            offset,
            transport_offset,
            protocol,
            fragment_offset: fragoff >> 3,
            ttl: *raw.get(IPV6_HOP_LIMIT_OFFSET)?,
            tos: (b0 << 4) | (b1 >> 4),
            // No fragmenting on the way: a packet too big for a link is refused.
            dont_fragment: true,
            more_fragments: fragment,
            saddr,
            daddr,
        })
    }

    /// Parses an IPv4 header at `offset`, for example one embedded in an ICMP error.
    pub(crate) fn parse_v4(skb: &Skb<'_>, offset: usize) -> Option<Self> {
        let mut raw = [0u8; IPV4_MIN_HEADER];
        let raw = <&[u8; IPV4_MIN_HEADER]>::try_from(skb.read(offset, &mut raw)?).ok()?;
        Self::decode_v4(raw, offset)
    }

    /// Decodes the first 20 bytes `raw` of an IPv4 header at `offset`.
    #[inline(always)]
    fn decode_v4(raw: &[u8; IPV4_MIN_HEADER], offset: usize) -> Option<Self> {
        let [ver_ihl, tos, _, _, _, _, frag_hi, frag_lo, ttl, protocol, _, _, ..] = *raw;
        let [saddr, daddr] = [IPV4_SADDR_OFFSET, IPV4_DADDR_OFFSET].map(|at| {
            raw.get(at..)
                .and_then(|b| b.first_chunk::<4>())
                .copied()
                .unwrap_or_default()
        });
        if ver_ihl >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(ver_ihl & 0x0f) * 4;
        if ihl < IPV4_MIN_HEADER {
            return None;
        }
        Some(IpHeader {
            af: uapi::AF_INET,
            offset,
            transport_offset: offset.checked_add(ihl)?,
            protocol,
            fragment_offset: u16::from_be_bytes([frag_hi & 0x1f, frag_lo]),
            ttl,
            tos,
            dont_fragment: frag_hi & 0x40 != 0,
            more_fragments: frag_hi & 0x20 != 0,
            saddr: nf_inet_v4(saddr),
            daddr: nf_inet_v4(daddr),
        })
    }

    /// An IPv4 fragment, the first or a later one (`ip_is_fragment`), which IPVS gathers.
    pub(crate) fn is_fragment(&self) -> bool {
        self.af == uapi::AF_INET && (self.more_fragments || self.fragment_offset != 0)
    }

    /// An ICMP message of the header's family: ICMP for IPv4, ICMPv6 for IPv6.
    pub(crate) fn is_icmp(&self) -> bool {
        if self.af == uapi::AF_INET6 {
            self.protocol == uapi::ipproto::ICMPV6
        } else {
            self.protocol == uapi::ipproto::ICMP
        }
    }

    /// Not the first fragment of a datagram: no transport header follows.
    pub(crate) fn later_fragment(&self) -> bool {
        self.fragment_offset != 0
    }

    /// Length of the IP header.
    pub(crate) fn header_len(&self) -> usize {
        self.transport_offset.saturating_sub(self.offset)
    }
}

/// What the transport header says, read once by the packet's protocol
/// (the protocol layer's `parse`).
#[derive(Clone, Copy)]
pub(crate) struct Transport {
    /// Source port, host order.
    pub(crate) sport: u16,
    /// Destination port, host order.
    pub(crate) dport: u16,
    /// What the protocol's state machine reads beyond the ports.
    pub(crate) control: Control,
    /// Offset of the checksum field from `skb->data`; [`None`] when the packet carries no
    /// checksum to update (UDP with checksum 0).
    pub(crate) csum_offset: Option<usize>,
}

/// What a transport header holds for its protocol's state machine and scheduling check.
#[derive(Clone, Copy)]
pub(crate) enum Control {
    /// Nothing: UDP, the embedded header of an ICMP error, or a header too short to hold it.
    Absent,
    /// The TCP flags byte.
    TcpFlags(u8),
    /// The SCTP chunk types that matter.
    Sctp(Chunks),
}

impl Transport {
    /// The TCP flags, if the header has them.
    pub(crate) fn tcp_flags(&self) -> Option<u8> {
        match self.control {
            Control::TcpFlags(flags) => Some(flags),
            _ => None,
        }
    }

    /// The SCTP chunk types, if the packet has a chunk.
    pub(crate) fn sctp_chunks(&self) -> Option<Chunks> {
        match self.control {
            Control::Sctp(chunks) => Some(chunks),
            _ => None,
        }
    }
}

/// ICMPv6 types and codes the data path sends.
pub(crate) mod icmpv6 {
    /// `ICMPV6_DEST_UNREACH`.
    pub(crate) const DEST_UNREACH: u8 = 1;
    /// `ICMPV6_PORT_UNREACH`, a code of [`DEST_UNREACH`].
    pub(crate) const PORT_UNREACH: u8 = 4;
    /// `ICMPV6_PKT_TOOBIG`.
    pub(crate) const PKT_TOOBIG: u8 = 2;
    /// `ICMPV6_TIME_EXCEED`.
    pub(crate) const TIME_EXCEED: u8 = 3;
    /// `ICMPV6_EXC_HOPLIMIT`, a code of [`TIME_EXCEED`].
    pub(crate) const EXC_HOPLIMIT: u8 = 0;
    /// `ICMPV6_INFOMSG_MASK`: the types of informational messages, which are no errors.
    pub(crate) const INFOMSG_MASK: u8 = 0x80;
}

/// ICMP types and codes the data path reads or sends.
pub(crate) mod icmp {
    /// `ICMP_DEST_UNREACH`.
    pub(crate) const DEST_UNREACH: u8 = 3;
    /// `ICMP_SOURCE_QUENCH`.
    pub(crate) const SOURCE_QUENCH: u8 = 4;
    /// `ICMP_TIME_EXCEEDED`.
    pub(crate) const TIME_EXCEEDED: u8 = 11;
    /// `ICMP_PORT_UNREACH`, a code of [`DEST_UNREACH`].
    pub(crate) const PORT_UNREACH: u8 = 3;
    /// `ICMP_FRAG_NEEDED`, a code of [`DEST_UNREACH`].
    pub(crate) const FRAG_NEEDED: u8 = 4;
    /// `ICMP_EXC_TTL`, a code of [`TIME_EXCEEDED`].
    pub(crate) const EXC_TTL: u8 = 0;
    /// Length of the ICMP header before the embedded packet.
    pub(crate) const HEADER_LEN: usize = 8;
}

/// An ICMP error whose embedded packet may belong to an IPVS connection (C: the parts of
/// `ip_vs_in_icmp` / `ip_vs_out_icmp` the lookup and the translation need).
#[derive(Clone, Copy)]
pub(crate) struct IcmpError {
    /// Offset of the ICMP header from `skb->data`.
    pub(crate) icmp_offset: usize,
    /// The embedded IP header.
    pub(crate) inner: IpHeader,
    /// The embedded transport header's ports (no [`Control`], no `csum_offset`).
    pub(crate) inner_ports: Transport,
}
