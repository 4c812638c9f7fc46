// SPDX-License-Identifier: GPL-2.0

//! The pure part of persistent scheduling (C: `ip_vs_sched_persist()` in `ip_vs_core.c`).
//!
//! A persistent service pins a client network to a real server with a connection template whose
//! key has the masked client address and client port 0:
//!
//! | service | template key | template dport |
//! |---|---|---|
//! | packet dport is the service port, not 21 | `<proto, snet, 0, vaddr, vport>` | dest port |
//! | FTP (port 21) | `<proto, snet, 0, vaddr, 0>` | 0 |
//! | port zero (any port) | `<proto, snet, 0, vaddr, 0>` | 0 |
//! | firewall mark | `<IPPROTO_IP, snet, 0, fwmark, 0>` | 0 |
//!
//! Ports here are in host byte order; addresses are [`InetAddr`] values (host-order words).

use super::dest_view::InetAddr;

/// `IPPROTO_IP`, the protocol of firewall-mark templates.
pub(crate) use crate::uapi::ipproto::IP as PROTOCOL_IP;

/// The FTP control port, whose templates leave out the virtual port (C: `FTPPORT`).
pub(crate) const FTP_PORT: u16 = 21;

/// The destination port that marks a template as invalid (`ip_vs_check_template` stores
/// `htons(0xffff)`; template lookups skip it).
pub(crate) const INVALID_TEMPLATE_DPORT: u16 = 0xffff;

/// What persistence reads of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PersistentService {
    /// The service port (`svc->port`); 0 for firewall-mark and port-zero services.
    pub(crate) port: u16,
    /// The firewall mark (`svc->fwmark`); 0 for address services.
    pub(crate) fwmark: u32,
    /// The persistence granularity (`svc->netmask`): for IPv4 the mask in host byte order
    /// (`0xffff_ff00` for /24; the netlink attribute carries it in network order), for IPv6 the
    /// prefix length.
    pub(crate) netmask: u32,
}

/// What persistence reads of the packet being scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PersistentPacket {
    /// The packet's transport protocol (`iph->protocol`).
    pub(crate) protocol: u8,
    /// The client address: the packet's source (its destination for an ICMP error about a
    /// reply, C's `ip_vs_iph_inverse()` case).
    pub(crate) client_addr: InetAddr,
    /// The virtual address: the packet's destination (its source in the inverse case).
    pub(crate) virtual_addr: InetAddr,
    /// The virtual port the packet is for (C: `dst_port`).
    pub(crate) virtual_port: u16,
}

/// The lookup key of a persistence template (the `struct ip_vs_conn_param` that
/// `ip_vs_sched_persist` builds for `ip_vs_ct_in_get`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TemplateKey {
    /// The protocol: the packet's, or [`PROTOCOL_IP`] for a firewall-mark template.
    pub(crate) protocol: u8,
    /// The client network: the client address masked with the service netmask.
    pub(crate) client_addr: InetAddr,
    /// The client port, always 0.
    pub(crate) client_port: u16,
    /// The virtual address, or the firewall mark in the first word of an address of the
    /// service's family.
    pub(crate) virtual_addr: InetAddr,
    /// The virtual port, or 0 for FTP, port-zero and firewall-mark templates.
    pub(crate) virtual_port: u16,
}

impl TemplateKey {
    /// Whether a template with key `template` is found by a lookup for `self` (the comparison of
    /// `ip_vs_ct_in_get`, without its TEMPLATE flag and invalid-dport checks).
    ///
    /// With [`PROTOCOL_IP`] the virtual address holds a firewall mark and only its first word
    /// is compared (C compares with `AF_UNSPEC`).
    pub(crate) fn matches(&self, template: &TemplateKey) -> bool {
        let virtual_addr_equal = if self.protocol == PROTOCOL_IP {
            first_word(self.virtual_addr) == first_word(template.virtual_addr)
                && is_ipv6(self.virtual_addr) == is_ipv6(template.virtual_addr)
        } else {
            self.virtual_addr == template.virtual_addr
        };
        self.client_addr == template.client_addr
            && virtual_addr_equal
            && self.virtual_port == template.virtual_port
            && self.client_port == template.client_port
            && self.protocol == template.protocol
    }
}

/// The template key for `packet` to persistent `service` (`ip_vs_sched_persist`).
pub(crate) fn template_key(service: &PersistentService, packet: &PersistentPacket) -> TemplateKey {
    let client_addr = source_network(packet.client_addr, service.netmask);
    let mut protocol = packet.protocol;
    let mut virtual_addr = packet.virtual_addr;
    let mut virtual_port = 0;
    if packet.virtual_port == service.port {
        // A template of the service port: <protocol, caddr, 0, vaddr, vport> except for FTP,
        // whose data connections use other ports: <protocol, caddr, 0, vaddr, 0>.
        if service.port != FTP_PORT {
            virtual_port = packet.virtual_port;
        }
    } else if service.fwmark != 0 {
        // A firewall-mark template: <IPPROTO_IP, caddr, 0, fwmark, 0>. A port-zero service
        // keeps <protocol, caddr, 0, vaddr, 0>.
        protocol = PROTOCOL_IP;
        virtual_addr = fwmark_addr(service.fwmark, packet.client_addr);
    }
    TemplateKey {
        protocol,
        client_addr,
        client_port: 0,
        virtual_addr,
        virtual_port,
    }
}

/// The destination port of a new template for a packet to `virtual_port`, scheduled to a
/// destination listening on `dest_port`: the destination port for a template of the service
/// port (not FTP), else 0.
pub(crate) fn template_dport(
    service: &PersistentService,
    virtual_port: u16,
    dest_port: u16,
) -> u16 {
    if virtual_port == service.port && service.port != FTP_PORT {
        dest_port
    } else {
        0
    }
}

/// The destination port of a connection created from a template: the packet's port, replaced
/// by the destination's port when the packet is for the service port and the destination port
/// is not 0.
pub(crate) fn connection_dport(
    service: &PersistentService,
    virtual_port: u16,
    dest_port: u16,
) -> u16 {
    if virtual_port == service.port && dest_port != 0 {
        dest_port
    } else {
        virtual_port
    }
}

/// Whether a template bound to a destination may still be used (`ip_vs_check_template` without
/// its `cdest` argument): the destination was not deleted (`IP_VS_DEST_CF_AVAILABLE`) and, with
/// the `expire_quiescent_template` sysctl, its weight is not 0.
pub(crate) fn template_usable(
    dest_available: bool,
    dest_weight: i32,
    expire_quiescent_template: bool,
) -> bool {
    dest_available && !(expire_quiescent_template && dest_weight == 0)
}

/// The client network: `addr` masked with a service netmask (`snet` in `ip_vs_sched_persist`).
///
/// IPv4 applies `netmask` as a host-order mask; IPv6 keeps the first `netmask` bits
/// (`ipv6_addr_prefix()`), all of them for a prefix length above 128.
pub(crate) fn source_network(addr: InetAddr, netmask: u32) -> InetAddr {
    match addr {
        InetAddr::V4(addr) => InetAddr::V4(addr & netmask),
        InetAddr::V6(words) => {
            let mut prefix = [0u32; 4];
            let mut bits_left = netmask;
            for (masked, word) in prefix.iter_mut().zip(words) {
                let bits = bits_left.min(u32::BITS);
                bits_left = bits_left.saturating_sub(u32::BITS);
                // The top `bits` bits: the complement of the low `32 - bits` bits.
                let mask = u32::MAX
                    .checked_shr(bits)
                    .map_or(u32::MAX, |low_bits| !low_bits);
                *masked = word & mask;
            }
            InetAddr::V6(prefix)
        }
    }
}

/// The virtual address of a firewall-mark template: the mark as the first word of an address
/// of the client's family (C: `union nf_inet_addr fwmark = { .ip = htonl(svc->fwmark) }`).
fn fwmark_addr(fwmark: u32, family_of: InetAddr) -> InetAddr {
    match family_of {
        InetAddr::V4(_) => InetAddr::V4(fwmark),
        InetAddr::V6(_) => InetAddr::V6([fwmark, 0, 0, 0]),
    }
}

/// The first word of an address (C: `addr->ip`).
fn first_word(addr: InetAddr) -> u32 {
    match addr {
        InetAddr::V4(addr) => addr,
        InetAddr::V6([first, ..]) => first,
    }
}

/// Whether an address is IPv6.
fn is_ipv6(addr: InetAddr) -> bool {
    matches!(addr, InetAddr::V6(_))
}
