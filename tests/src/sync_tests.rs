// SPDX-License-Identifier: GPL-2.0

//! The sync protocol's messages against C's layouts (`struct ip_vs_sync_v4`, `_v6`,
//! `_conn_v0`, the headers), the backup's checks of `ip_vs_process_message`, and the
//! master's `ip_vs_sync_conn_needed`.

use crate::sync::{
    policy::{
        decide, //
        ConnView,
        Kind,
        Send,
        Settings,
    },
    wire::{
        first_entry_len,
        parse, //
        Dropped,
        MessageBuf,
        Parsed,
        SyncConn,
        Version,
        DEFAULT_GROUP_V4,
        DEFAULT_PORT,
    },
};
use std::{vec, vec::Vec};

/// A TCP connection 10.0.0.1:40000 -> 10.0.0.100:80 -> 10.0.1.2:8080, ESTABLISHED, DR.
fn tcp4() -> SyncConn {
    let mut c = SyncConn {
        ipv6: false,
        protocol: 6,
        flags: 0x0003 | 0x0080 | 0x0040, // DROUTE, NOOUTPUT, HASHED (never sent)
        state: 1,
        cport: 40000,
        vport: 80,
        dport: 8080,
        fwmark: 7,
        timeout_secs: 900,
        caddr: [0; 16],
        vaddr: [0; 16],
        daddr: [0; 16],
    };
    c.caddr[..4].copy_from_slice(&[10, 0, 0, 1]);
    c.vaddr[..4].copy_from_slice(&[10, 0, 0, 100]);
    c.daddr[..4].copy_from_slice(&[10, 0, 1, 2]);
    c
}

/// Protocol state counts as C's `pp->num_states`: TCP 11, UDP 1, SCTP 14.
fn states(protocol: u8) -> Option<u16> {
    match protocol {
        6 => Some(11),
        17 => Some(1),
        132 => Some(14),
        _ => None,
    }
}

/// Parses `buf` for sync ID `syncid`, collecting the entries.
fn collect(buf: &[u8], syncid: u8) -> (Result<Parsed, (Dropped, Parsed)>, Vec<SyncConn>) {
    let mut out = Vec::new();
    let r = parse(buf, syncid, states, |c| out.push(*c));
    (r, out)
}

/// A version-1 message of `conns` from sync ID 7, in a 1472-byte buffer.
fn message_v1(conns: &[SyncConn]) -> Vec<u8> {
    let mut m = MessageBuf::new(vec![0u8; 1472], Version::V1, 7).unwrap();
    for c in conns {
        assert!(m.push(c));
    }
    m.bytes().to_vec()
}

#[test]
fn v1_ipv4_entry_is_c_layout() {
    let bytes = message_v1(&[tcp4()]);
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        0, 7, 0, 44, 1, 1, 0, 0,             // header: reserved, syncid, size, count, version
        0, 6, 0, 36,                         // type, protocol, ver_size
        0, 0, 0, 0x83,                       // flags without HASHED
        0, 1, 0x9c, 0x40, 0, 80, 0x1f, 0x90, // state, cport, vport, dport
        0, 0, 0, 7, 0, 0, 0x03, 0x84,        // fwmark, timeout
        10, 0, 0, 1, 10, 0, 0, 100, 10, 0, 1, 2,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn v1_ipv6_entry_after_ipv4_is_aligned_and_sized() {
    let mut c6 = tcp4();
    c6.ipv6 = true;
    c6.caddr = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    c6.vaddr = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64];
    c6.daddr = [0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let bytes = message_v1(&[tcp4(), c6]);
    assert_eq!(bytes.len(), 8 + 36 + 72);
    assert_eq!(&bytes[2..5], &[0, 116, 2]);
    let e = &bytes[44..];
    assert_eq!(&e[..4], &[1, 6, 0, 72]);
    assert_eq!(&e[24..40], &c6.caddr);
    assert_eq!(&e[40..56], &c6.vaddr);
    assert_eq!(&e[56..72], &c6.daddr);
    let (r, got) = collect(&bytes, 7);
    assert_eq!(
        r,
        Ok(Parsed {
            conns: 2,
            skipped: 0,
            invalid_pe: 0
        })
    );
    assert_eq!(got[1].caddr, c6.caddr);
    assert!(got[1].ipv6);
}

#[test]
fn v1_round_trip_keeps_backup_flags() {
    let mut tpl = tcp4();
    tpl.flags = 0x1000 | 0x0100 | 0x0020 | 0x0003 | (1 << 16); // TEMPLATE, INACTIVE, SYNC, DR, NFCT
    tpl.cport = 0;
    tpl.state = 0;
    let (r, got) = collect(&message_v1(&[tcp4(), tpl]), 0);
    assert_eq!(
        r,
        Ok(Parsed {
            conns: 2,
            skipped: 0,
            invalid_pe: 0
        })
    );
    // BACKUP_MASK | SYNC: HASHED and NOOUTPUT's neighbours dropped, SYNC added.
    assert_eq!(got[0].flags, 0x0003 | 0x0080 | 0x0020);
    assert_eq!(got[1].flags, 0x1000 | 0x0100 | 0x0003 | 0x0020);
    assert_eq!((got[0].timeout_secs, got[0].fwmark), (900, 7));
}

#[test]
fn v0_entry_is_c_layout_and_round_trips() {
    let mut m = MessageBuf::new(vec![0u8; 100], Version::V0, 3).unwrap();
    assert!(m.push(&tcp4()));
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        1, 3, 0, 28,                         // count, syncid, size
        0, 6, 0x9c, 0x40, 0, 80, 0x1f, 0x90, // reserved, protocol, cport, vport, dport
        10, 0, 0, 1, 10, 0, 0, 100, 10, 0, 1, 2,
        0, 0x83, 0, 1,                       // flags (16 bits), state
    ];
    assert_eq!(m.bytes(), &expected[..]);
    let mut c6 = tcp4();
    c6.ipv6 = true;
    assert!(!m.push(&c6), "version 0 has no IPv6");
    let (r, got) = collect(m.bytes(), 3);
    assert_eq!(
        r,
        Ok(Parsed {
            conns: 1,
            skipped: 0,
            invalid_pe: 0
        })
    );
    assert_eq!(
        (got[0].fwmark, got[0].timeout_secs, got[0].dport),
        (0, 0, 8080)
    );
}

#[test]
fn a_full_buffer_refuses_and_stays_valid() {
    // 8 + 2 * 36 = 80 bytes hold two IPv4 entries.
    let mut m = MessageBuf::new(vec![0u8; 100], Version::V1, 1).unwrap();
    assert!(m.push(&tcp4()) && m.push(&tcp4()));
    assert!(!m.push(&tcp4()));
    assert_eq!(m.count(), 2);
    assert_eq!(
        collect(m.bytes(), 1).0,
        Ok(Parsed {
            conns: 2,
            skipped: 0,
            invalid_pe: 0
        })
    );
}

#[test]
fn message_level_drops() {
    let good = message_v1(&[tcp4()]);
    assert_eq!(
        collect(&good[..3], 0).0,
        Err((Dropped::HeaderTooShort, Parsed::default()))
    );
    assert_eq!(
        collect(&good[..40], 0).0,
        Err((Dropped::BadSize, Parsed::default()))
    );
    assert_eq!(
        collect(&good, 8).0,
        Err((Dropped::OtherSyncId, Parsed::default()))
    );
    // Sync ID 0 accepts any.
    assert_eq!(
        collect(&good, 0).0,
        Ok(Parsed {
            conns: 1,
            skipped: 0,
            invalid_pe: 0
        })
    );
}

#[test]
fn entry_level_drops_keep_earlier_entries() {
    let mut two = message_v1(&[tcp4(), tcp4()]);
    // The second entry claims more bytes than the message has.
    two[44 + 3] = 40;
    let (r, got) = collect(&two, 0);
    assert_eq!(
        r,
        Err((
            Dropped::PastBuffer,
            Parsed {
                conns: 1,
                skipped: 0,
                invalid_pe: 0
            }
        ))
    );
    assert_eq!(got.len(), 1);
    // An entry-format version other than 0.
    let mut bad = message_v1(&[tcp4()]);
    bad[10] = 0x10;
    assert_eq!(
        collect(&bad, 0).0,
        Err((Dropped::UnknownVersion(1), Parsed::default()))
    );
    // A type with other bits than INET6's.
    let mut bad = message_v1(&[tcp4()]);
    bad[8] = 2;
    assert_eq!(
        collect(&bad, 0).0,
        Err((Dropped::BadEntry(-10), Parsed::default()))
    );
    // More entries counted than present.
    let mut bad = message_v1(&[tcp4()]);
    bad[4] = 2;
    assert_eq!(
        collect(&bad, 0).0,
        Err((
            Dropped::Truncated,
            Parsed {
                conns: 1,
                skipped: 0,
                invalid_pe: 0
            }
        ))
    );
}

/// A version-1 message of one IPv4 entry with `options` appended to it.
fn with_options(options: &[u8]) -> Vec<u8> {
    let mut m = message_v1(&[tcp4()]);
    m.extend_from_slice(options);
    let entry = (36 + options.len()) as u16;
    m[10..12].copy_from_slice(&entry.to_be_bytes());
    let total = m.len() as u16;
    m[2..4].copy_from_slice(&total.to_be_bytes());
    m
}

#[test]
fn options_are_checked_as_c() {
    let seq = |t: u8| {
        let mut o = vec![t, 24];
        o.extend_from_slice(&[0; 24]);
        o
    };
    // Sequence data once: accepted; twice: the message dropped.
    assert_eq!(
        collect(&with_options(&seq(1)), 0).0,
        Ok(Parsed {
            conns: 1,
            skipped: 0,
            invalid_pe: 0
        })
    );
    let twice = [seq(1), seq(1)].concat();
    assert_eq!(
        collect(&with_options(&twice), 0).0,
        Err((Dropped::BadEntry(-50), Parsed::default()))
    );
    // Wrong length, zero length, running past the entry.
    assert!(collect(&with_options(&[1, 4, 0, 0, 0, 0]), 0).0.is_err());
    assert_eq!(
        collect(&with_options(&[9, 0, 0, 0]), 0).0,
        Err((Dropped::BadEntry(-40), Parsed::default()))
    );
    assert_eq!(
        collect(&with_options(&[0x49, 8, 0, 0]), 0).0,
        Err((Dropped::BadEntry(-40), Parsed::default()))
    );
    // An unknown optional parameter is passed over; a mandatory one skips the entry.
    assert_eq!(
        collect(&with_options(&[0x49, 2, 0, 0]), 0).0,
        Ok(Parsed {
            conns: 1,
            skipped: 0,
            invalid_pe: 0
        })
    );
    assert_eq!(
        collect(&with_options(&[9, 2, 0, 0]), 0).0,
        Ok(Parsed {
            conns: 0,
            skipped: 1,
            invalid_pe: 0
        })
    );
    // Persistence-engine data: no engine here, the entry is skipped; a name alone is ignored.
    assert_eq!(
        collect(
            &with_options(&[2, 2, 1, 2, 3, 3, b's', b'i', b'p', 0, 0, 0]),
            0
        )
        .0,
        Err((Dropped::BadEntry(-40), Parsed::default())),
        "an option of length 0 after the name"
    );
    assert!(
        collect(&with_options(&[2, 2, 1, 2, 3, 3, b's', b'i', b'p', 0]), 0)
            .0
            .is_err()
    );
    assert_eq!(
        collect(&with_options(&[2, 2, 1, 2]), 0).0,
        Ok(Parsed {
            conns: 0,
            skipped: 1,
            invalid_pe: 1
        })
    );
    assert_eq!(
        collect(&with_options(&[3, 2, b's', b'i']), 0).0,
        Ok(Parsed {
            conns: 1,
            skipped: 0,
            invalid_pe: 0
        })
    );
    // An entry C skips for its flags is not reported for its engine data: C checks the
    // flags first.
    let mut one_packet = with_options(&[2, 2, 1, 2]);
    one_packet[12..16].copy_from_slice(&0x2000u32.to_be_bytes());
    assert_eq!(
        collect(&one_packet, 0).0,
        Ok(Parsed {
            conns: 0,
            skipped: 1,
            invalid_pe: 0
        })
    );
    // A name longer than IP_VS_PENAME_MAXLEN.
    let mut long = vec![3, 17];
    long.extend_from_slice(&[b'x'; 17]);
    long.extend_from_slice(&[0, 0, 0]);
    assert!(collect(&with_options(&long), 0).0.is_err());
}

#[test]
fn entries_c_skips() {
    let skip = |f: &dyn Fn(&mut SyncConn)| {
        let mut c = tcp4();
        f(&mut c);
        collect(&message_v1(&[c, tcp4()]), 0).0
    };
    let one_skipped = Ok(Parsed {
        conns: 1,
        skipped: 1,
        invalid_pe: 0,
    });
    assert_eq!(skip(&|c| c.flags |= 0x2000), one_skipped, "ONE_PACKET");
    assert_eq!(
        skip(&|c| c.flags |= 0x1000 | 0x0800),
        one_skipped,
        "template without cport"
    );
    assert_eq!(skip(&|c| c.state = 11), one_skipped, "TCP has 11 states");
    assert_eq!(skip(&|c| c.protocol = 50), one_skipped, "ESP is not served");
    assert_eq!(
        skip(&|c| {
            c.protocol = 17;
            c.state = 1
        }),
        one_skipped,
        "UDP has 1 state"
    );
    assert_eq!(
        skip(&|c| {
            c.flags |= 0x1000;
            c.state = 2
        }),
        one_skipped,
        "template states"
    );
    // A template of an unknown protocol (a firewall mark's, IPPROTO_IP) is fine.
    assert_eq!(
        skip(&|c| {
            c.flags |= 0x1000;
            c.protocol = 0;
            c.state = 1
        }),
        Ok(Parsed {
            conns: 2,
            skipped: 0,
            invalid_pe: 0
        })
    );
    // NO_CPORT without TEMPLATE is allowed.
    assert_eq!(
        skip(&|c| c.flags |= 0x0800),
        Ok(Parsed {
            conns: 2,
            skipped: 0,
            invalid_pe: 0
        })
    );
}

#[test]
fn v0_truncation_and_options() {
    let mut m = MessageBuf::new(vec![0u8; 100], Version::V0, 0).unwrap();
    assert!(m.push(&tcp4()));
    let mut bytes = m.bytes().to_vec();
    // The SEQ flags promise 24 more bytes.
    bytes[4 + 20] |= 0x06;
    assert_eq!(
        collect(&bytes, 0).0,
        Err((Dropped::V0OptionsTruncated, Parsed::default()))
    );
    bytes.extend_from_slice(&[0; 24]);
    let size = bytes.len() as u16;
    bytes[2..4].copy_from_slice(&size.to_be_bytes());
    assert_eq!(
        collect(&bytes, 0).0,
        Ok(Parsed {
            conns: 1,
            skipped: 0,
            invalid_pe: 0
        })
    );
    bytes[0] = 2;
    assert_eq!(
        collect(&bytes, 0).0,
        Err((
            Dropped::V0Truncated,
            Parsed {
                conns: 1,
                skipped: 0,
                invalid_pe: 0
            }
        ))
    );
}

/// C's defaults: threshold 3, period 50, no refresh period, no retries.
fn defaults() -> Settings {
    Settings {
        threshold: 3,
        period: 50,
        refresh_period: 0,
        retries: 0,
        persist_mode: false,
        hz: 250,
    }
}

fn tcp_view(state: u32, old_state: u32) -> ConnView {
    ConnView {
        template: false,
        in_persistence: false,
        kind: Kind::Tcp,
        state,
        old_state,
        timeout: 900 * 250,
    }
}

#[test]
fn sends_on_threshold_and_period() {
    let s = defaults();
    let est = tcp_view(1, 1);
    let sent: Vec<i32> = (1..=110)
        .filter(|&p| decide(&s, &est, p, 0, 1000).is_some())
        .collect();
    assert_eq!(sent, vec![3, 53, 103]);
    // SYN_RECV is not sent; the move to ESTABLISHED is, on a threshold packet only.
    assert_eq!(decide(&s, &tcp_view(3, 0), 3, 0, 1000), None);
    assert_eq!(decide(&s, &tcp_view(1, 3), 2, 0, 1000), None);
    let endtime = (1000 + 900 * 250) & !3;
    assert_eq!(
        decide(&s, &tcp_view(1, 3), 3, 0, 1000),
        Some(Send {
            endtime,
            force: true
        })
    );
    // A move to FIN_WAIT, TIME_WAIT or CLOSE is sent at once, whatever the packet.
    assert_eq!(
        decide(&s, &tcp_view(4, 1), 7, 0, 1000),
        Some(Send {
            endtime,
            force: true
        })
    );
    assert_eq!(decide(&s, &tcp_view(4, 4), 7, 0, 1000), None);
    // Period 0: the threshold packet only.
    let once = Settings { period: 0, ..s };
    let sent: Vec<i32> = (1..=110)
        .filter(|&p| decide(&once, &est, p, 0, 1000).is_some())
        .collect();
    assert_eq!(sent, vec![3]);
}

#[test]
fn templates_udp_and_persist_mode() {
    let s = defaults();
    let tpl = ConnView {
        template: true,
        in_persistence: false,
        kind: Kind::Other,
        state: 0,
        old_state: 0,
        timeout: 360 * 250,
    };
    // A template is sent whenever asked (its count of controlled packets is its own).
    assert!(decide(&s, &tpl, 4, 0, 1000).is_some());
    let udp = ConnView {
        template: false,
        in_persistence: true,
        kind: Kind::Other,
        state: 0,
        old_state: 0,
        timeout: 300 * 250,
    };
    assert!(decide(&s, &udp, 3, 0, 1000).is_some());
    assert!(decide(&s, &udp, 4, 0, 1000).is_none());
    let persist = Settings {
        persist_mode: true,
        ..s
    };
    assert!(decide(&persist, &udp, 3, 0, 1000).is_none());
}

#[test]
fn refresh_period_and_retries() {
    // Refresh every 10 s (HZ 250), one retry, no packet rule.
    let s = Settings {
        threshold: 3,
        period: 0,
        refresh_period: 2500,
        retries: 1,
        persist_mode: false,
        hz: 250,
    };
    let est = tcp_view(1, 1);
    let timeout = est.timeout;
    let now = 100_000u32;
    let sent_at = (now + timeout) & !3;
    // Just sent (endtime = now + timeout): within the period, only a retry an eighth of it
    // (312 jiffies) later.
    assert_eq!(decide(&s, &est, 9, sent_at, now + 100), None);
    let retry = decide(&s, &est, 9, sent_at, now + 400).unwrap();
    assert_eq!(retry.endtime & 3, 1);
    // Retries used up.
    assert_eq!(decide(&s, &est, 9, retry.endtime, now + 800), None);
    // Beyond the period: sent, retry count reset.
    let later = decide(&s, &est, 9, sent_at, now + 3000).unwrap();
    assert_eq!(later.endtime, (now + 3000 + timeout) & !3);
}

#[test]
fn defaults_and_first_entry_sizes() {
    assert_eq!((DEFAULT_GROUP_V4, DEFAULT_PORT), ([224, 0, 0, 81], 8848));
    let mut c6 = tcp4();
    c6.ipv6 = true;
    assert_eq!(first_entry_len(Version::V0, &tcp4()), 28);
    assert_eq!(first_entry_len(Version::V1, &tcp4()), 44);
    assert_eq!(first_entry_len(Version::V1, &c6), 80);
    let m = MessageBuf::new(vec![0u8; 44], Version::V1, 0).unwrap();
    assert_eq!(m.version(), Version::V1);
}

#[test]
fn sctp_states_sent() {
    let s = defaults();
    let view = |state, old_state| ConnView {
        kind: Kind::Sctp,
        ..tcp_view(state, old_state)
    };
    // COOKIE_ECHOED is not sent; ESTABLISHED on the threshold; SHUTDOWN_SENT and CLOSED at once.
    assert_eq!(decide(&s, &view(7, 7), 3, 0, 1000), None);
    assert!(decide(&s, &view(8, 7), 3, 0, 1000).is_some());
    assert_eq!(decide(&s, &view(8, 7), 4, 0, 1000), None);
    assert!(decide(&s, &view(9, 8), 4, 0, 1000).is_some_and(|d| d.force));
    assert!(decide(&s, &view(13, 9), 4, 0, 1000).is_some_and(|d| d.force));
    assert_eq!(
        decide(&s, &view(12, 8), 4, 0, 1000),
        None,
        "REJECTED is not sent"
    );
}
