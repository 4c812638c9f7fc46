//! Wire-level tests: requests against hand-computed bytes, canned kernel replies, and the
//! save/list/restore text formats. Integers are native-endian on the wire; the expected bytes
//! below are written for little-endian hosts (x86-64, arm64), as the kernel would see them.

#![cfg(target_endian = "little")]

use std::net::IpAddr;

use crate::action::Action;
use crate::addr::{Endpoint, Family};
use crate::config::{Info, Timeouts};
use crate::daemon::{self, Daemon, SyncState};
use crate::dest::{Dest, DestOptions, FwdMethod};
use crate::handle::{
    daemon_of, decode_replies, encode_request, family_id_of, family_request, get_dests_request,
    ReplyError, DOIT_FLAGS, DUMP_FLAGS,
};
use crate::list::{self, Columns, ServiceEntry};
use crate::message::{IpvsCmd, IpvsMessage};
use crate::restore::parse_rules;
use crate::save::render_save;
use crate::service::{Protocol, SchedFlag, Service, ServiceKey, ServiceOptions};
use crate::stats::Stats;

/// The family id used in these tests (the kernel assigns one dynamically).
const FAMILY: u16 = 0x1c;

/// A netlink attribute built by hand: length, type, value, zero padding to 4 bytes.
fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut out = Vec::new();
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(value);
    out.resize((len + 3) & !3, 0);
    out
}

/// A netlink message built by hand: nlmsghdr, genlmsghdr (version 1) and attributes.
fn genl_msg(msg_type: u16, flags: u16, seq: u32, cmd: u8, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + attrs.len();
    let mut out = Vec::new();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&msg_type.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[cmd, 1, 0, 0]);
    out.extend_from_slice(attrs);
    out
}

/// A 16-byte `union nf_inet_addr` for an address.
fn addr16(ip: &str) -> Vec<u8> {
    match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => {
            let mut b = v4.octets().to_vec();
            b.resize(16, 0);
            b
        }
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn tcp(text: &str) -> ServiceKey {
    ServiceKey::from_endpoint(Protocol::Tcp, Endpoint::parse(text).unwrap())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn family_resolution() {
    let bytes = encode_request(family_request(), 0, DOIT_FLAGS, 1);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 32, type GENL_ID_CTRL (0x10), REQUEST|ACK, seq 1.
        32, 0, 0, 0,  0x10, 0,  0x05, 0,  1, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: CTRL_CMD_GETFAMILY (3), version 2.
        3, 2, 0, 0,
        // CTRL_ATTR_FAMILY_NAME = "IPVS\0".
        9, 0, 2, 0,  b'I', b'P', b'V', b'S',  0, 0, 0, 0,
    ];
    assert_eq!(bytes, expected);

    // CTRL_CMD_NEWFAMILY reply: name, id, version, hdrsize, maxattr, one op.
    let mut attrs = nla(2, b"IPVS\0");
    attrs.extend(nla(1, &FAMILY.to_le_bytes()));
    attrs.extend(nla(3, &1u32.to_le_bytes()));
    attrs.extend(nla(4, &0u32.to_le_bytes()));
    attrs.extend(nla(5, &6u32.to_le_bytes()));
    let mut op = nla(1, &1u32.to_le_bytes());
    op.extend(nla(2, &0x1eu32.to_le_bytes()));
    attrs.extend(nla(6, &nla(1, &op)));
    let mut datagram = genl_msg(0x10, 0, 1, 1, &attrs);
    datagram.extend_from_slice(&[36, 0, 0, 0, 2, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    datagram.extend_from_slice(&[0; 4]);
    datagram.extend_from_slice(&bytes[..16]);
    let mut replies = Vec::new();
    assert!(decode_replies(&datagram, 1, &mut replies).unwrap());
    assert_eq!(family_id_of(&replies), Some(FAMILY));
}

#[test]
fn new_service_bytes() {
    let svc = Service::build(
        tcp("10.0.0.1:80"),
        &ServiceOptions {
            scheduler: Some("rr".into()),
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    let (msg, _) = Action::AddService(svc).request();
    let bytes = encode_request(msg, FAMILY, DOIT_FLAGS, 1);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 104, type = family, flags REQUEST|ACK, seq 1, pid 0.
        104, 0, 0, 0,  0x1c, 0,  0x05, 0,  1, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd NEW_SERVICE (1), version 1.
        1, 1, 0, 0,
        // IPVS_CMD_ATTR_SERVICE, 84 bytes, no NLA_F_NESTED.
        84, 0, 1, 0,
        // AF = AF_INET.
        6, 0, 1, 0,  2, 0, 0, 0,
        // PROTOCOL = IPPROTO_TCP.
        6, 0, 2, 0,  6, 0, 0, 0,
        // ADDR = 10.0.0.1 in 16 bytes.
        20, 0, 3, 0,  10, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        // PORT = 80, big-endian.
        6, 0, 4, 0,  0, 80, 0, 0,
        // SCHED_NAME = "rr\0".
        7, 0, 6, 0,  b'r', b'r', 0, 0,
        // FLAGS = {flags 0, mask 0xffffffff}.
        12, 0, 7, 0,  0, 0, 0, 0,  0xff, 0xff, 0xff, 0xff,
        // TIMEOUT = 0.
        8, 0, 8, 0,  0, 0, 0, 0,
        // NETMASK = 255.255.255.255.
        8, 0, 9, 0,  0xff, 0xff, 0xff, 0xff,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn new_service_persistent_sh_bytes() {
    let svc = Service::build(
        tcp("10.0.0.1:443"),
        &ServiceOptions {
            scheduler: Some("sh".into()),
            persistent: Some(360),
            netmask: Some("255.255.255.0".into()),
            sched_flags: vec![SchedFlag::ShPort, SchedFlag::ShFallback],
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    let (msg, _) = Action::EditService(svc).request();
    let bytes = encode_request(msg, FAMILY, DOIT_FLAGS, 7);
    // Only the tail differs from the plain case: cmd SET_SERVICE, port, "sh", flags 0x19,
    // timeout 360, netmask 255.255.255.0.
    assert_eq!(&bytes[8..12], &[7, 0, 0, 0]);
    assert_eq!(bytes[16], 2);
    assert_eq!(&bytes[60..68], &[6, 0, 4, 0, 0x01, 0xbb, 0, 0]);
    #[rustfmt::skip]
    let tail: Vec<u8> = vec![
        7, 0, 6, 0,  b's', b'h', 0, 0,
        12, 0, 7, 0,  0x19, 0, 0, 0,  0xff, 0xff, 0xff, 0xff,
        8, 0, 8, 0,  0x68, 0x01, 0, 0,
        8, 0, 9, 0,  255, 255, 255, 0,
    ];
    assert_eq!(&bytes[68..], tail.as_slice());
}

#[test]
fn new_dest_bytes() {
    let key = tcp("10.0.0.1:80");
    let dest = Dest::build(
        &key,
        Endpoint::parse("10.0.1.1:8080").unwrap(),
        &DestOptions::default(),
        FwdMethod::Masq,
    )
    .unwrap();
    let (msg, _) = Action::AddDest(key, dest).request();
    let bytes = encode_request(msg, FAMILY, DOIT_FLAGS, 2);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 140.
        140, 0, 0, 0,  0x1c, 0,  0x05, 0,  2, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd NEW_DEST (5).
        5, 1, 0, 0,
        // SERVICE nest, identifying attributes only.
        48, 0, 1, 0,
        6, 0, 1, 0,  2, 0, 0, 0,
        6, 0, 2, 0,  6, 0, 0, 0,
        20, 0, 3, 0,  10, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        6, 0, 4, 0,  0, 80, 0, 0,
        // DEST nest.
        72, 0, 2, 0,
        // ADDR_FAMILY = AF_INET.
        6, 0, 11, 0,  2, 0, 0, 0,
        // ADDR = 10.0.1.1.
        20, 0, 1, 0,  10, 0, 1, 1,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        // PORT = 8080 (0x1f90), big-endian.
        6, 0, 2, 0,  0x1f, 0x90, 0, 0,
        // FWD_METHOD = MASQ.
        8, 0, 3, 0,  0, 0, 0, 0,
        // WEIGHT = 1.
        8, 0, 4, 0,  1, 0, 0, 0,
        // U_THRESH = 0, L_THRESH = 0.
        8, 0, 5, 0,  0, 0, 0, 0,
        8, 0, 6, 0,  0, 0, 0, 0,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn del_dest_sends_key_only() {
    let key = tcp("10.0.0.1:80");
    let dest = Dest::new(ip("10.0.1.1"), 80, FwdMethod::Masq);
    let (msg, _) = Action::DelDest(key, dest).request();
    let bytes = encode_request(msg, FAMILY, DOIT_FLAGS, 3);
    // 20 header bytes + 48 service + (4 + 8 + 20 + 8) dest.
    assert_eq!(bytes.len(), 20 + 48 + 40);
    assert_eq!(bytes[16], 7);
}

#[test]
fn get_dest_dump_bytes_ipv6() {
    let bytes = encode_request(
        get_dests_request(&tcp("[2001:db8::80]:80")),
        FAMILY,
        DUMP_FLAGS,
        9,
    );
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 68, flags REQUEST|DUMP (0x301), seq 9.
        68, 0, 0, 0,  0x1c, 0,  0x01, 0x03,  9, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd GET_DEST (8).
        8, 1, 0, 0,
        // SERVICE nest.
        48, 0, 1, 0,
        // AF = AF_INET6.
        6, 0, 1, 0,  10, 0, 0, 0,
        6, 0, 2, 0,  6, 0, 0, 0,
        20, 0, 3, 0,
        0x20, 0x01, 0x0d, 0xb8,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0x80,
        6, 0, 4, 0,  0, 80, 0, 0,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn set_config_bytes() {
    let t = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };
    let (msg, _) = Action::SetTimeout(t).request();
    let bytes = encode_request(msg, FAMILY, DOIT_FLAGS, 4);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        44, 0, 0, 0,  0x1c, 0,  0x05, 0,  4, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd SET_CONFIG (12).
        12, 1, 0, 0,
        // TIMEOUT_TCP 900, TIMEOUT_TCP_FIN 120, TIMEOUT_UDP 300.
        8, 0, 4, 0,  0x84, 0x03, 0, 0,
        8, 0, 5, 0,  120, 0, 0, 0,
        8, 0, 6, 0,  0x2c, 0x01, 0, 0,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn bare_requests() {
    let flush = encode_request(IpvsMessage::bare(IpvsCmd::Flush), FAMILY, DOIT_FLAGS, 5);
    assert_eq!(
        flush,
        vec![20, 0, 0, 0, 0x1c, 0, 5, 0, 5, 0, 0, 0, 0, 0, 0, 0, 17, 1, 0, 0]
    );
    let (zero_one, _) = Action::Zero(Some(ServiceKey::Fwmark {
        family: Family::Inet,
        mark: 7,
    }))
    .request();
    let bytes = encode_request(zero_one, FAMILY, DOIT_FLAGS, 6);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        40, 0, 0, 0,  0x1c, 0,  5, 0,  6, 0, 0, 0,  0, 0, 0, 0,
        16, 1, 0, 0,
        20, 0, 1, 0,
        6, 0, 1, 0,  2, 0, 0, 0,
        // FWMARK = 7.
        8, 0, 5, 0,  7, 0, 0, 0,
    ];
    assert_eq!(bytes, expected);
}

/// The STATS nest the C kernel emits: u32 counters except the two u64 byte counters.
fn stats32_nest(kind: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(nla(1, &5u32.to_le_bytes()));
    body.extend(nla(2, &100u32.to_le_bytes()));
    body.extend(nla(3, &90u32.to_le_bytes()));
    body.extend(nla(4, &6000u64.to_le_bytes()));
    body.extend(nla(5, &5000u64.to_le_bytes()));
    for (k, v) in [(6u16, 1u32), (7, 2), (8, 3), (9, 4), (10, 5)] {
        body.extend(nla(k, &v.to_le_bytes()));
    }
    nla(kind, &body)
}

/// The STATS64 nest: every counter u64, with a PAD attribute thrown in.
fn stats64_nest(kind: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(nla(11, &[]));
    let values: [u64; 10] = [5, 100, 90, 1 << 33, 5000, 1, 2, 3, 4, 5];
    for (i, v) in values.iter().enumerate() {
        body.extend(nla(i as u16 + 1, &v.to_le_bytes()));
    }
    nla(kind, &body)
}

/// The service nest of a kernel NEW_SERVICE reply for 10.0.0.1:80/TCP, rr, hashed.
fn service_reply_nest(with_stats64: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(nla(1, &2u16.to_le_bytes()));
    body.extend(nla(2, &6u16.to_le_bytes()));
    body.extend(nla(3, &addr16("10.0.0.1")));
    body.extend(nla(4, &80u16.to_be_bytes()));
    body.extend(nla(6, b"rr\0"));
    body.extend(nla(7, &[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]));
    body.extend(nla(8, &0u32.to_le_bytes()));
    body.extend(nla(9, &[0xff; 4]));
    body.extend(stats32_nest(10));
    if with_stats64 {
        body.extend(stats64_nest(12));
    }
    nla(1, &body)
}

#[test]
fn parse_service_reply_with_stats() {
    let mut datagram = genl_msg(FAMILY, 0x2, 11, 1, &service_reply_nest(true));
    datagram.extend(genl_msg(FAMILY, 0x2, 11, 1, &service_reply_nest(false)));
    // NLMSG_DONE with code 0.
    datagram.extend_from_slice(&[20, 0, 0, 0, 3, 0, 2, 0, 11, 0, 0, 0, 0, 0, 0, 0]);
    datagram.extend_from_slice(&[0, 0, 0, 0]);
    let mut replies: Vec<IpvsMessage> = Vec::new();
    assert!(decode_replies(&datagram, 11, &mut replies).unwrap());
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0].cmd, IpvsCmd::NewService);

    let svc = Service::from_nlas(replies[0].service_nlas().unwrap()).unwrap();
    assert_eq!(svc.key, tcp("10.0.0.1:80"));
    assert_eq!(svc.scheduler, "rr");
    assert_eq!(svc.flags, 0x2);
    assert_eq!(svc.netmask, u32::MAX);
    assert_eq!(svc.pe_name, None);
    let stats = svc.stats.unwrap();
    assert_eq!(stats.inbytes, 1 << 33, "STATS64 wins over STATS");
    assert_eq!((stats.conns, stats.inpkts, stats.outbps), (5, 100, 5));

    let legacy = Service::from_nlas(replies[1].service_nlas().unwrap()).unwrap();
    let stats = legacy.stats.unwrap();
    assert_eq!((stats.inbytes, stats.outbytes, stats.cps), (6000, 5000, 1));
}

#[test]
fn parse_dest_reply_with_stats64() {
    let mut body = Vec::new();
    body.extend(nla(1, &addr16("10.0.1.1")));
    body.extend(nla(2, &8080u16.to_be_bytes()));
    body.extend(nla(3, &0u32.to_le_bytes()));
    body.extend(nla(4, &3u32.to_le_bytes()));
    body.extend(nla(13, &[0]));
    body.extend(nla(14, &0u16.to_be_bytes()));
    body.extend(nla(15, &0u16.to_le_bytes()));
    body.extend(nla(5, &0u32.to_le_bytes()));
    body.extend(nla(6, &0u32.to_le_bytes()));
    body.extend(nla(7, &2u32.to_le_bytes()));
    body.extend(nla(8, &7u32.to_le_bytes()));
    body.extend(nla(9, &1u32.to_le_bytes()));
    body.extend(nla(11, &2u16.to_le_bytes()));
    body.extend(stats32_nest(10));
    body.extend(stats64_nest(12));
    // An attribute from a future kernel must not break parsing.
    body.extend(nla(42, &[1, 2, 3]));
    let datagram = genl_msg(FAMILY, 0x2, 12, 5, &nla(2, &body));
    let mut replies: Vec<IpvsMessage> = Vec::new();
    assert!(!decode_replies(&datagram, 12, &mut replies).unwrap());
    let dest = Dest::from_nlas(replies[0].dest_nlas().unwrap(), Family::Inet).unwrap();
    assert_eq!(dest.addr, ip("10.0.1.1"));
    assert_eq!(dest.port, 8080);
    assert_eq!(dest.fwd, FwdMethod::Masq);
    assert_eq!(dest.weight, 3);
    assert_eq!(
        (dest.active_conns, dest.inact_conns, dest.persist_conns),
        (2, 7, 1)
    );
    assert_eq!(dest.tunnel, None);
    assert_eq!(dest.stats.unwrap().inbytes, 1 << 33);
}

#[test]
fn parse_dest_reply_ipv6_four_byte_moby_style() {
    // A 4-byte IPv4 address, as moby/ipvs sends them, parses too.
    let mut body = Vec::new();
    body.extend(nla(1, &[10, 0, 1, 2]));
    body.extend(nla(2, &80u16.to_be_bytes()));
    let datagram = genl_msg(FAMILY, 0x2, 1, 5, &nla(2, &body));
    let mut replies: Vec<IpvsMessage> = Vec::new();
    decode_replies(&datagram, 1, &mut replies).unwrap();
    let dest = Dest::from_nlas(replies[0].dest_nlas().unwrap(), Family::Inet).unwrap();
    assert_eq!(dest.addr, ip("10.0.1.2"));
}

#[test]
fn parse_info_and_config_replies() {
    let mut attrs = nla(1, &0x010201u32.to_le_bytes());
    attrs.extend(nla(2, &4096u32.to_le_bytes()));
    let mut datagram = genl_msg(FAMILY, 0, 3, 14, &attrs);
    // The ACK that follows a doit reply.
    datagram.extend_from_slice(&[36, 0, 0, 0, 2, 0, 0x1, 0x1, 3, 0, 0, 0, 0, 0, 0, 0]);
    datagram.extend_from_slice(&[0, 0, 0, 0]);
    datagram.extend_from_slice(&[20, 0, 0, 0, FAMILY as u8, 0, 5, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
    let mut replies: Vec<IpvsMessage> = Vec::new();
    assert!(decode_replies(&datagram, 3, &mut replies).unwrap());
    let info = Info::from_message(&replies[0]).unwrap();
    assert_eq!(info.banner(), "IP Virtual Server version 1.2.1 (size=4096)");

    let mut attrs = nla(4, &900u32.to_le_bytes());
    attrs.extend(nla(5, &120u32.to_le_bytes()));
    attrs.extend(nla(6, &300u32.to_le_bytes()));
    let datagram = genl_msg(FAMILY, 0, 4, 12, &attrs);
    let mut replies: Vec<IpvsMessage> = Vec::new();
    decode_replies(&datagram, 4, &mut replies).unwrap();
    assert_eq!(
        Timeouts::from_message(&replies[0]).line(),
        "Timeout (tcp tcpfin udp): 900 120 300"
    );
}

#[test]
fn error_replies() {
    // NLMSG_ERROR -EEXIST, echoing the request header.
    let mut datagram = vec![36, 0, 0, 0, 2, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0];
    datagram.extend_from_slice(&(-17i32).to_le_bytes());
    datagram.extend_from_slice(&[20, 0, 0, 0, FAMILY as u8, 0, 5, 0, 8, 0, 0, 0, 0, 0, 0, 0]);
    let mut replies: Vec<IpvsMessage> = Vec::new();
    match decode_replies(&datagram, 8, &mut replies) {
        Err(ReplyError::Errno(17)) => {}
        other => panic!("expected EEXIST, got {other:?}"),
    }
    // A reply to another request is skipped.
    let mut replies: Vec<IpvsMessage> = Vec::new();
    assert!(!decode_replies(&datagram, 9, &mut replies).unwrap());
}

#[test]
fn new_daemon_bytes_ipv4() {
    let daemon = Daemon {
        maxlen: Some(1400),
        group: Some(ip("224.0.0.82")),
        port: Some(9000),
        ttl: Some(3),
        ..Daemon::new(SyncState::Master, "eth1", 7)
    };
    let bytes = encode_request(daemon.start_request(), FAMILY, DOIT_FLAGS, 13);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 84, REQUEST|ACK, seq 13.
        84, 0, 0, 0,  0x1c, 0,  0x05, 0,  13, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd NEW_DAEMON (9), version 1.
        9, 1, 0, 0,
        // IPVS_CMD_ATTR_DAEMON (3), 64 bytes, no NLA_F_NESTED.
        64, 0, 3, 0,
        // STATE = IP_VS_STATE_MASTER (1).
        8, 0, 1, 0,  1, 0, 0, 0,
        // MCAST_IFN = "eth1\0": length 9, padded to 12.
        9, 0, 2, 0,  b'e', b't', b'h', b'1',  0, 0, 0, 0,
        // SYNC_ID = 7.
        8, 0, 3, 0,  7, 0, 0, 0,
        // SYNC_MAXLEN = 1400 (0x578), u16: length 6, padded to 8.
        6, 0, 4, 0,  0x78, 0x05, 0, 0,
        // MCAST_PORT = 9000 (0x2328), u16 in host order.
        6, 0, 7, 0,  0x28, 0x23, 0, 0,
        // MCAST_TTL = 3, u8: length 5, padded to 8.
        5, 0, 8, 0,  3, 0, 0, 0,
        // MCAST_GROUP = 224.0.0.82 as a struct in_addr (network order).
        8, 0, 5, 0,  224, 0, 0, 82,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn new_daemon_bytes_ipv6_and_defaults() {
    let daemon = Daemon {
        group: Some(ip("ff02::81")),
        ..Daemon::new(SyncState::Backup, "sy1", 0)
    };
    let bytes = encode_request(daemon.start_request(), FAMILY, DOIT_FLAGS, 14);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 68.
        68, 0, 0, 0,  0x1c, 0,  0x05, 0,  14, 0, 0, 0,  0, 0, 0, 0,
        9, 1, 0, 0,
        48, 0, 3, 0,
        // STATE = IP_VS_STATE_BACKUP (2).
        8, 0, 1, 0,  2, 0, 0, 0,
        // MCAST_IFN = "sy1\0": exactly 8, no padding.
        8, 0, 2, 0,  b's', b'y', b'1', 0,
        // SYNC_ID = 0: always sent, the kernel requires it.
        8, 0, 3, 0,  0, 0, 0, 0,
        // MCAST_GROUP6 = ff02::81; no SYNC_MAXLEN, MCAST_PORT or MCAST_TTL.
        20, 0, 6, 0,
        0xff, 0x02, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0x81,
    ];
    assert_eq!(bytes, expected);

    // Nothing optional given: the three required attributes only.
    let plain = encode_request(
        Daemon::new(SyncState::Master, "sy0", 7).start_request(),
        FAMILY,
        DOIT_FLAGS,
        15,
    );
    assert_eq!(plain.len(), 20 + 4 + 8 + 8 + 8);
    assert_eq!(&plain[20..24], &[28, 0, 3, 0]);
}

#[test]
fn del_and_get_daemon_bytes() {
    let bytes = encode_request(
        daemon::stop_request(SyncState::Backup),
        FAMILY,
        DOIT_FLAGS,
        16,
    );
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 32.
        32, 0, 0, 0,  0x1c, 0,  0x05, 0,  16, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd DEL_DAEMON (10).
        10, 1, 0, 0,
        // DAEMON nest with STATE = backup only.
        12, 0, 3, 0,
        8, 0, 1, 0,  2, 0, 0, 0,
    ];
    assert_eq!(bytes, expected);

    let bytes = encode_request(daemon::list_request(), FAMILY, DUMP_FLAGS, 17);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        // nlmsghdr: length 20, REQUEST|DUMP (0x301); genlmsghdr: cmd GET_DAEMON (11).
        20, 0, 0, 0,  0x1c, 0,  0x01, 0x03,  17, 0, 0, 0,  0, 0, 0, 0,
        11, 1, 0, 0,
    ];
    assert_eq!(bytes, expected);
}

/// The DAEMON nest of a GET_DAEMON reply, as the kernel fills it (`ip_vs_genl_fill_daemon`):
/// STATE, MCAST_IFN, SYNC_ID, SYNC_MAXLEN, MCAST_PORT, MCAST_TTL, then the group.
fn daemon_reply_nest(state: u32, ifname: &str, syncid: u32, maxlen: u16, group: &str) -> Vec<u8> {
    let mut name = ifname.as_bytes().to_vec();
    name.push(0);
    let mut body = Vec::new();
    body.extend(nla(1, &state.to_le_bytes()));
    body.extend(nla(2, &name));
    body.extend(nla(3, &syncid.to_le_bytes()));
    body.extend(nla(4, &maxlen.to_le_bytes()));
    match ip(group) {
        IpAddr::V4(v4) => {
            body.extend(nla(7, &8848u16.to_le_bytes()));
            body.extend(nla(8, &[1]));
            body.extend(nla(5, &v4.octets()));
        }
        IpAddr::V6(v6) => {
            body.extend(nla(7, &9000u16.to_le_bytes()));
            body.extend(nla(8, &[3]));
            body.extend(nla(6, &v6.octets()));
        }
    }
    nla(3, &body)
}

/// Decodes a GET_DAEMON dump answer (NLM_F_MULTI parts, NLMSG_DONE) into the listed lines.
fn daemon_lines(nests: &[Vec<u8>], seq: u32) -> Vec<String> {
    let mut datagram = Vec::new();
    for nest in nests {
        // The dump replies carry command NEW_DAEMON (9).
        datagram.extend(genl_msg(FAMILY, 0x2, seq, 9, nest));
    }
    datagram.extend_from_slice(&[20, 0, 0, 0, 3, 0, 2, 0]);
    datagram.extend_from_slice(&seq.to_le_bytes());
    datagram.extend_from_slice(&[0; 8]);
    let mut replies: Vec<IpvsMessage> = Vec::new();
    assert!(decode_replies(&datagram, seq, &mut replies).unwrap());
    assert!(replies.iter().all(|r| r.cmd == IpvsCmd::NewDaemon));
    replies
        .iter()
        .map(|reply| daemon_of(reply).unwrap().line())
        .collect()
}

#[test]
fn parse_daemon_replies() {
    // The kernel's defaults (group 224.0.0.81, port 8848, TTL 1), IPv4.
    let lines = daemon_lines(
        &[
            daemon_reply_nest(1, "sy0", 7, 1472, "224.0.0.81"),
            daemon_reply_nest(2, "sy1", 7, 1472, "224.0.0.81"),
        ],
        18,
    );
    assert_eq!(
        lines,
        [
            "master sync daemon (mcast=sy0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)",
            "backup sync daemon (mcast=sy1, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)",
        ]
    );

    // An IPv6 group, as ipvsadm prints it with C's ip_vs.
    let mut master = daemon_reply_nest(1, "sy0", 7, 200, "ff02::81");
    // An attribute from a future kernel is skipped.
    master.extend(nla(42, &[1, 2, 3]));
    let fixed = u16::try_from(master.len()).unwrap();
    master[..2].copy_from_slice(&fixed.to_le_bytes());
    let lines = daemon_lines(
        &[master, daemon_reply_nest(2, "sy1", 7, 1452, "ff02::81")],
        19,
    );
    assert_eq!(
        lines,
        [
            "master sync daemon (mcast=sy0, syncid=7, maxlen=200, group=ff02::81, port=9000, ttl=3)",
            "backup sync daemon (mcast=sy1, syncid=7, maxlen=1452, group=ff02::81, port=9000, ttl=3)",
        ]
    );

    // No daemon: an empty dump, no lines.
    assert!(daemon_lines(&[], 20).is_empty());

    // Like libipvs: STATE, MCAST_IFN and SYNC_ID are required; zero and absent settings are
    // left out of the line.
    let mut body = nla(1, &2u32.to_le_bytes());
    body.extend(nla(2, b"eth0\0"));
    body.extend(nla(3, &0u32.to_le_bytes()));
    body.extend(nla(4, &0u16.to_le_bytes()));
    let datagram = genl_msg(FAMILY, 0x2, 21, 9, &nla(3, &body));
    let mut replies: Vec<IpvsMessage> = Vec::new();
    decode_replies(&datagram, 21, &mut replies).unwrap();
    assert_eq!(
        daemon_of(&replies[0]).unwrap().line(),
        "backup sync daemon (mcast=eth0, syncid=0)"
    );
    let datagram = genl_msg(FAMILY, 0x2, 22, 9, &nla(3, &nla(1, &1u32.to_le_bytes())));
    let mut replies: Vec<IpvsMessage> = Vec::new();
    decode_replies(&datagram, 22, &mut replies).unwrap();
    assert!(daemon_of(&replies[0]).is_err());
    let datagram = genl_msg(FAMILY, 0x2, 23, 9, &[]);
    let mut replies: Vec<IpvsMessage> = Vec::new();
    decode_replies(&datagram, 23, &mut replies).unwrap();
    assert!(daemon_of(&replies[0]).is_err());
}

#[test]
fn daemon_round_trips_through_its_attributes() {
    let daemon = Daemon {
        maxlen: Some(200),
        group: Some(ip("ff02::81")),
        port: Some(9000),
        ttl: Some(3),
        ..Daemon::new(SyncState::Master, "sy0", 7)
    };
    assert_eq!(Daemon::from_nlas(&daemon.to_nlas()).unwrap(), daemon);
    assert_eq!(
        daemon.line(),
        "master sync daemon (mcast=sy0, syncid=7, maxlen=200, group=ff02::81, port=9000, ttl=3)"
    );
}

/// A sample table in kernel order (unsorted, as a dump may return it).
fn sample_entries() -> Vec<ServiceEntry> {
    let svc = |key: ServiceKey, opts: ServiceOptions| Service::build(key, &opts).unwrap();
    let rr = || ServiceOptions {
        scheduler: Some("rr".into()),
        ..ServiceOptions::default()
    };
    let dest = |key: &ServiceKey, real: &str, fwd: FwdMethod, weight: u32| {
        let opts = DestOptions {
            weight: Some(weight),
            fwd: Some(fwd),
            ..DestOptions::default()
        };
        Dest::build(key, Endpoint::parse(real).unwrap(), &opts, FwdMethod::Masq).unwrap()
    };
    let fw = ServiceKey::Fwmark {
        family: Family::Inet,
        mark: 1,
    };
    let web = tcp("10.0.0.1:80");
    let tls = tcp("10.0.0.1:443");
    let dns = ServiceKey::from_endpoint(Protocol::Udp, Endpoint::parse("10.0.0.1:53").unwrap());
    let v6 = tcp("[2001:db8::80]:80");
    let mut web_svc = svc(web, rr());
    web_svc.flags |= crate::service::IP_VS_SVC_F_HASHED;
    vec![
        ServiceEntry {
            service: svc(fw, rr()),
            dests: vec![dest(&fw, "192.168.10.1:0", FwdMethod::Masq, 1)],
        },
        ServiceEntry {
            service: svc(v6, rr()),
            dests: vec![dest(&v6, "[2001:db8::a0a0]:80", FwdMethod::Masq, 1)],
        },
        ServiceEntry {
            service: svc(
                tls,
                ServiceOptions {
                    scheduler: Some("sh".into()),
                    persistent: Some(360),
                    netmask: Some("255.255.255.0".into()),
                    sched_flags: vec![SchedFlag::ShFallback, SchedFlag::ShPort],
                    ..ServiceOptions::default()
                },
            ),
            dests: vec![dest(&tls, "10.0.1.3", FwdMethod::Route, 1)],
        },
        ServiceEntry {
            service: svc(
                dns,
                ServiceOptions {
                    scheduler: Some("wrr".into()),
                    ..ServiceOptions::default()
                },
            ),
            dests: vec![],
        },
        ServiceEntry {
            service: web_svc,
            dests: vec![
                dest(&web, "10.0.1.2:80", FwdMethod::Masq, 2),
                dest(&web, "10.0.1.1:80", FwdMethod::Masq, 1),
            ],
        },
    ]
}

/// What `ipvsadm-save -n` prints for the sample.
const SAMPLE_SAVE: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 2
-A -t 10.0.0.1:443 -s sh -p 360 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 10.0.0.1:443 -r 10.0.1.3:443 -g -w 1
-A -u 10.0.0.1:53 -s wrr
-A -t [2001:db8::80]:80 -s rr
-a -t [2001:db8::80]:80 -r [2001:db8::a0a0]:80 -m -w 1
-A -f 1 -s rr
-a -f 1 -r 192.168.10.1:0 -m -w 1
";

#[test]
fn save_format() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    assert_eq!(render_save(&entries), SAMPLE_SAVE);
}

#[test]
fn restore_of_save_recreates_the_table() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    let rules = parse_rules(SAMPLE_SAVE).unwrap();
    let mut expected = Vec::new();
    for entry in &entries {
        let mut svc = entry.service.clone();
        svc.flags &= !crate::service::IP_VS_SVC_F_HASHED;
        expected.push(Action::AddService(svc));
        for dest in &entry.dests {
            expected.push(Action::AddDest(entry.service.key, dest.clone()));
        }
    }
    let actions: Vec<Action> = rules.into_iter().map(|r| r.action).collect();
    assert_eq!(actions, expected);
}

#[test]
fn list_table_format() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    entries[0].dests[0].active_conns = 3;
    entries[0].dests[0].inact_conns = 12;
    let text = list::render_table(Some(&info), &entries[..2], Columns::Plain, false);
    let expected = "\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 rr
  -> 10.0.1.1:80                  Masq    1      3          12        
  -> 10.0.1.2:80                  Masq    2      0          0         
TCP  10.0.0.1:443 sh (sh-fallback,sh-port) persistent 360 mask 255.255.255.0
  -> 10.0.1.3:443                 Route   1      0          0         
";
    assert_eq!(text, expected);
}

#[test]
fn list_stats_format() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    entries[0].service.stats = Some(Stats {
        conns: 12,
        inpkts: 345,
        outpkts: 300,
        inbytes: 123_456_789,
        outbytes: 150_000_000_000,
        ..Stats::default()
    });
    let text = list::render_table(None, &entries[..1], Columns::Stats, false);
    let expected = "\
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.0.1:80                        12      345      300  123456K     150G
  -> 10.0.1.1:80                         0        0        0        0        0
  -> 10.0.1.2:80                         0        0        0        0        0
";
    assert_eq!(text, expected);
}

#[test]
fn list_json() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let text = list::render_json(Some(&info), &entries).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], "1.2.1");
    assert_eq!(doc["services"][0]["protocol"], "tcp");
    assert_eq!(doc["services"][0]["address"], "10.0.0.1");
    assert_eq!(doc["services"][0]["port"], 80);
    assert_eq!(doc["services"][0]["destinations"][1]["weight"], 2);
    assert_eq!(doc["services"][0]["destinations"][1]["forward"], "masq");
    assert_eq!(doc["services"][1]["sched_flags"][1], "sh-port");
    assert_eq!(doc["services"][1]["netmask"], "255.255.255.0");
    assert_eq!(doc["services"][3]["family"], "inet6");
    assert_eq!(doc["services"][4]["fwmark"], 1);
    assert!(doc["services"][4]["address"].is_null());
}

#[test]
fn watch_screen_format() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    entries[0].service.stats = Some(Stats {
        cps: 12,
        inpps: 345,
        outpps: 300,
        inbps: 123_456_789,
        outbps: 15_000_000_000,
        ..Stats::default()
    });
    entries[0].dests[1].active_conns = 7;
    entries[0].dests[1].inact_conns = 40;
    entries[0].dests[1].stats = Some(Stats {
        cps: 3,
        ..Stats::default()
    });
    let text = crate::watch::render_screen(&entries[..1], 2.0, 5);
    let expected = "\
ipvsctl watch: every 2s (refresh 5); rates per second, as the kernel estimates them
Prot LocalAddress:Port              Active   InAct     CPS   InPPS  OutPPS     InBPS    OutBPS
  -> RemoteAddress:Port
TCP  10.0.0.1:80                                        12     345     300   123456K    15000M
  -> 10.0.1.1:80                         0       0       0       0       0         0         0
  -> 10.0.1.2:80                         7      40       3       0       0         0         0
";
    assert_eq!(text, expected);
}

#[test]
fn watch_json_lines() {
    let mut entries = sample_entries();
    list::sort_entries(&mut entries);
    let line = crate::watch::render_json_line(&entries, 3).unwrap();
    assert!(!line.contains('\n'));
    let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(doc["refresh"], 3);
    assert_eq!(doc["services"][0]["port"], 80);
    assert_eq!(doc["services"][0]["destinations"][1]["weight"], 2);
}

#[test]
fn watch_interval_bounds() {
    use clap::Parser;
    let parse = |args: &[&str]| crate::cli::Cli::try_parse_from(args);
    assert!(parse(&["ipvsctl", "watch", "--interval", "0.5", "--count", "2"]).is_ok());
    assert!(parse(&["ipvsctl", "watch", "--interval", "0.01"]).is_err());
    assert!(parse(&["ipvsctl", "watch", "--interval", "x"]).is_err());
    assert!(parse(&["ipvsctl", "watch", "--count", "0"]).is_err());
    assert!(parse(&["ipvsctl", "watch", "-t", "10.0.0.1:80", "--json"]).is_ok());
}
