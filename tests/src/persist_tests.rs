// SPDX-License-Identifier: GPL-2.0

//! Persistence keys (`sched/persist.rs`) against `ip_vs_sched_persist()`.

use crate::sched::{
    dest_view::InetAddr,
    persist::{
        connection_dport, //
        source_network,
        template_dport,
        template_key,
        template_usable,
        PersistentPacket,
        PersistentService,
        TemplateKey,
        FTP_PORT,
        INVALID_TEMPLATE_DPORT,
        PROTOCOL_IP,
    },
};

/// `IPPROTO_TCP`.
const TCP: u8 = 6;
/// `IPPROTO_UDP`.
const UDP: u8 = 17;
/// The VIP of the kernel's ipvs.sh selftest, 207.175.44.110.
const VIP: u32 = 0xcfaf_2c6e;

/// An address service on `port` with an IPv4 `netmask`.
fn service(port: u16, netmask: u32) -> PersistentService {
    PersistentService {
        port,
        fwmark: 0,
        netmask,
    }
}

/// A packet of `protocol` from `client` to `vip`:`port`.
fn packet(protocol: u8, client: InetAddr, vip: InetAddr, port: u16) -> PersistentPacket {
    PersistentPacket {
        protocol,
        client_addr: client,
        virtual_addr: vip,
        virtual_port: port,
    }
}

#[test]
fn normal_service_key_keeps_the_virtual_port() {
    let svc = service(8080, 0xffff_ffff);
    let pkt = packet(TCP, InetAddr::V4(0x0a00_0002), InetAddr::V4(VIP), 8080);
    assert_eq!(
        template_key(&svc, &pkt),
        TemplateKey {
            protocol: TCP,
            client_addr: InetAddr::V4(0x0a00_0002),
            client_port: 0,
            virtual_addr: InetAddr::V4(VIP),
            virtual_port: 8080,
        }
    );
    // The template forwards to the destination's port, and so does the connection.
    assert_eq!(template_dport(&svc, 8080, 80), 80);
    assert_eq!(connection_dport(&svc, 8080, 80), 80);
    // A destination port of 0 keeps the packet's port on the connection.
    assert_eq!(connection_dport(&svc, 8080, 0), 8080);
}

#[test]
fn ftp_service_key_drops_the_virtual_port() {
    let svc = service(FTP_PORT, 0xffff_ffff);
    let pkt = packet(TCP, InetAddr::V4(0x0a00_0002), InetAddr::V4(VIP), 21);
    let key = template_key(&svc, &pkt);
    assert_eq!(key.protocol, TCP);
    assert_eq!(key.virtual_addr, InetAddr::V4(VIP));
    assert_eq!(key.virtual_port, 0);
    assert_eq!(key.client_port, 0);
    assert_eq!(template_dport(&svc, 21, 2121), 0);
    // The connection itself still goes to the destination's port.
    assert_eq!(connection_dport(&svc, 21, 2121), 2121);
}

#[test]
fn port_zero_service_key_drops_the_virtual_port() {
    let svc = service(0, 0xffff_ffff);
    let pkt = packet(UDP, InetAddr::V4(0x0a00_0002), InetAddr::V4(VIP), 53);
    let key = template_key(&svc, &pkt);
    assert_eq!(
        key,
        TemplateKey {
            protocol: UDP,
            client_addr: InetAddr::V4(0x0a00_0002),
            client_port: 0,
            virtual_addr: InetAddr::V4(VIP),
            virtual_port: 0,
        }
    );
    // Every port of the service shares the template, whose dport is 0; connections keep the
    // packet's port.
    let other = packet(UDP, InetAddr::V4(0x0a00_0002), InetAddr::V4(VIP), 5353);
    assert_eq!(template_key(&svc, &other), key);
    assert_eq!(template_dport(&svc, 53, 0), 0);
    assert_eq!(connection_dport(&svc, 53, 0), 53);
    // Even a destination with a port does not change a port-zero connection's port.
    assert_eq!(connection_dport(&svc, 53, 8053), 53);
}

#[test]
fn fwmark_service_key_uses_ipproto_ip_and_the_mark() {
    let svc = PersistentService {
        port: 0,
        fwmark: 42,
        netmask: 0xffff_ffff,
    };
    let tcp = packet(TCP, InetAddr::V4(0x0a00_0002), InetAddr::V4(VIP), 443);
    let udp = packet(
        UDP,
        InetAddr::V4(0x0a00_0002),
        InetAddr::V4(0x0a00_0063),
        53,
    );
    let key = template_key(&svc, &tcp);
    assert_eq!(
        key,
        TemplateKey {
            protocol: PROTOCOL_IP,
            client_addr: InetAddr::V4(0x0a00_0002),
            client_port: 0,
            virtual_addr: InetAddr::V4(42),
            virtual_port: 0,
        }
    );
    // One template per client for the whole mark, whatever the protocol, address and port.
    assert_eq!(template_key(&svc, &udp), key);
    assert_eq!(template_dport(&svc, 443, 8443), 0);
    assert_eq!(connection_dport(&svc, 443, 8443), 443);
}

#[test]
fn fwmark_ipv6_key_puts_the_mark_in_the_first_word() {
    let svc = PersistentService {
        port: 0,
        fwmark: 0x1234,
        netmask: 128,
    };
    let client = InetAddr::V6([0x2001_0db8, 0, 0, 2]);
    let pkt = packet(TCP, client, InetAddr::V6([0x2001_0db8, 0, 0, 0x100]), 80);
    let key = template_key(&svc, &pkt);
    assert_eq!(key.protocol, PROTOCOL_IP);
    assert_eq!(key.client_addr, client);
    assert_eq!(key.virtual_addr, InetAddr::V6([0x1234, 0, 0, 0]));
    assert_eq!(key.virtual_port, 0);
}

#[test]
fn fwmark_packet_to_port_zero_takes_the_service_port_branch() {
    // C tests `dst_port == svc->port` first; a fwmark service has port 0, so a packet to port 0
    // keeps its protocol and address (and a vport of 0).
    let svc = PersistentService {
        port: 0,
        fwmark: 7,
        netmask: 0xffff_ffff,
    };
    let pkt = packet(UDP, InetAddr::V4(0x0a00_0002), InetAddr::V4(VIP), 0);
    let key = template_key(&svc, &pkt);
    assert_eq!(key.protocol, UDP);
    assert_eq!(key.virtual_addr, InetAddr::V4(VIP));
    assert_eq!(key.virtual_port, 0);
}

#[test]
fn netmask_groups_clients_into_one_template() {
    let svc = service(80, 0xffff_ff00);
    let key = |client| {
        template_key(
            &svc,
            &packet(TCP, InetAddr::V4(client), InetAddr::V4(VIP), 80),
        )
    };
    let first = key(0x0a00_0002);
    assert_eq!(first.client_addr, InetAddr::V4(0x0a00_0000));
    assert_eq!(key(0x0a00_00fe), first);
    assert_ne!(key(0x0a00_0102), first);
    // A /32 mask keeps clients apart.
    let exact = service(80, 0xffff_ffff);
    let exact_key = |client| {
        template_key(
            &exact,
            &packet(TCP, InetAddr::V4(client), InetAddr::V4(VIP), 80),
        )
    };
    assert_ne!(exact_key(0x0a00_0002), exact_key(0x0a00_0003));
}

#[test]
fn ipv4_netmask_is_a_plain_and() {
    assert_eq!(
        source_network(InetAddr::V4(0xc0a8_0117), 0xffff_0000),
        InetAddr::V4(0xc0a8_0000)
    );
    assert_eq!(
        source_network(InetAddr::V4(0xc0a8_0117), 0),
        InetAddr::V4(0)
    );
    // Any bit pattern, as C does not check that the mask is contiguous.
    assert_eq!(
        source_network(InetAddr::V4(0xffff_ffff), 0x0f0f_0f0f),
        InetAddr::V4(0x0f0f_0f0f)
    );
}

#[test]
fn ipv6_prefixes_mask_bit_by_bit() {
    let addr = InetAddr::V6([0x2001_0db8, 0x1234_5678, 0x9abc_def0, 0xffff_ffff]);
    let cases = [
        (0, [0, 0, 0, 0]),
        (1, [0, 0, 0, 0]),
        (3, [0x2000_0000, 0, 0, 0]),
        (16, [0x2001_0000, 0, 0, 0]),
        (32, [0x2001_0db8, 0, 0, 0]),
        (57, [0x2001_0db8, 0x1234_5600, 0, 0]),
        (64, [0x2001_0db8, 0x1234_5678, 0, 0]),
        (100, [0x2001_0db8, 0x1234_5678, 0x9abc_def0, 0xf000_0000]),
        (127, [0x2001_0db8, 0x1234_5678, 0x9abc_def0, 0xffff_fffe]),
        (128, [0x2001_0db8, 0x1234_5678, 0x9abc_def0, 0xffff_ffff]),
    ];
    for (prefix, expected) in cases {
        assert_eq!(
            source_network(addr, prefix),
            InetAddr::V6(expected),
            "/{prefix}"
        );
    }
}

#[test]
fn ipv6_prefix_matches_ipv6_addr_prefix() {
    // `ipv6_addr_prefix()` works on bytes: whole bytes, then `0xff00 >> b` on the next one.
    let bytes: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0xff, 0xee, 0xdd,
        0xcc,
    ];
    let words = core::array::from_fn(|i| {
        u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ])
    });
    for plen in 0..=128u32 {
        let (o, b) = ((plen >> 3) as usize, plen & 7);
        let mut pfx = [0u8; 16];
        pfx[..o].copy_from_slice(&bytes[..o]);
        if b != 0 {
            pfx[o] = bytes[o] & (0xff00u32 >> b) as u8;
        }
        let expected = core::array::from_fn(|i| {
            u32::from_be_bytes([pfx[4 * i], pfx[4 * i + 1], pfx[4 * i + 2], pfx[4 * i + 3]])
        });
        assert_eq!(
            source_network(InetAddr::V6(words), plen),
            InetAddr::V6(expected),
            "/{plen}"
        );
    }
}

#[test]
fn ipv6_netmask_groups_clients() {
    let svc = service(443, 64);
    let key = |client| {
        template_key(
            &svc,
            &packet(
                TCP,
                InetAddr::V6(client),
                InetAddr::V6([0x2001_0db8, 0, 0, 1]),
                443,
            ),
        )
    };
    let first = key([0x2001_0db8, 7, 1, 2]);
    assert_eq!(first.client_addr, InetAddr::V6([0x2001_0db8, 7, 0, 0]));
    assert_eq!(first.virtual_port, 443);
    assert_eq!(key([0x2001_0db8, 7, 0xffff, 0xffff]), first);
    assert_ne!(key([0x2001_0db8, 8, 1, 2]), first);
}

#[test]
fn template_lookup_comparison() {
    let key = TemplateKey {
        protocol: TCP,
        client_addr: InetAddr::V4(0x0a00_0000),
        client_port: 0,
        virtual_addr: InetAddr::V4(VIP),
        virtual_port: 80,
    };
    assert!(key.matches(&key));
    assert!(!key.matches(&TemplateKey {
        virtual_port: 81,
        ..key
    }));
    assert!(!key.matches(&TemplateKey {
        protocol: UDP,
        ..key
    }));
    assert!(!key.matches(&TemplateKey {
        client_addr: InetAddr::V4(0x0a00_0100),
        ..key
    }));
    assert!(!key.matches(&TemplateKey {
        virtual_addr: InetAddr::V4(VIP + 1),
        ..key
    }));
    assert!(!key.matches(&TemplateKey {
        client_port: 1,
        ..key
    }));
    assert!(!key.matches(&TemplateKey {
        client_addr: InetAddr::V6([0x0a00_0000, 0, 0, 0]),
        ..key
    }));
    // Firewall-mark keys compare only the first word of the virtual address (AF_UNSPEC).
    let mark = TemplateKey {
        protocol: PROTOCOL_IP,
        client_addr: InetAddr::V6([1, 2, 3, 4]),
        client_port: 0,
        virtual_addr: InetAddr::V6([5, 0, 0, 0]),
        virtual_port: 0,
    };
    assert!(mark.matches(&TemplateKey {
        virtual_addr: InetAddr::V6([5, 9, 9, 9]),
        ..mark
    }));
    assert!(!mark.matches(&TemplateKey {
        virtual_addr: InetAddr::V6([6, 0, 0, 0]),
        ..mark
    }));
}

#[test]
fn template_validity() {
    assert!(template_usable(true, 1, false));
    assert!(template_usable(true, 0, false));
    assert!(!template_usable(true, 0, true));
    assert!(template_usable(true, 3, true));
    assert!(!template_usable(false, 1, false));
    assert!(!template_usable(false, 1, true));
    assert_eq!(INVALID_TEMPLATE_DPORT, 0xffff);
}
