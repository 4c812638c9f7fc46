// SPDX-License-Identifier: GPL-2.0

//! The SCTP state machine (`proto/sctp_state.rs`) against `ip_vs_proto_sctp.c`.

use crate::proto::{
    sctp_state::{
        chunk, //
        may_create_connection,
        next_state,
        Chunks,
        Event,
        SctpState,
        DEFAULT_TIMEOUTS,
    },
    tcp_state::Direction,
};
use std::vec::Vec;

/// Every state in C enum order.
const ALL: [SctpState; SctpState::COUNT] = [
    SctpState::None,
    SctpState::Init1,
    SctpState::Init,
    SctpState::CookieSent,
    SctpState::CookieReplied,
    SctpState::CookieWait,
    SctpState::Cookie,
    SctpState::CookieEchoed,
    SctpState::Established,
    SctpState::ShutdownSent,
    SctpState::ShutdownReceived,
    SctpState::ShutdownAckSent,
    SctpState::Rejected,
    SctpState::Closed,
];

/// The state a three-letter abbreviation of the C table stands for.
fn abbreviation(text: &str) -> SctpState {
    match text.trim() {
        "sNO" => SctpState::None,
        "sI1" => SctpState::Init1,
        "sIN" => SctpState::Init,
        "sCS" => SctpState::CookieSent,
        "sCR" => SctpState::CookieReplied,
        "sCW" => SctpState::CookieWait,
        "sCO" => SctpState::Cookie,
        "sCE" => SctpState::CookieEchoed,
        "sES" => SctpState::Established,
        "sSS" => SctpState::ShutdownSent,
        "sSR" => SctpState::ShutdownReceived,
        "sSA" => SctpState::ShutdownAckSent,
        "sRJ" => SctpState::Rejected,
        "sCL" => SctpState::Closed,
        other => panic!("unknown state {other}"),
    }
}

/// A chunk type of each row's event, as C's `sctp_events` maps them.
fn event_chunk(event: &str) -> u8 {
    match event {
        "d" => chunk::DATA,
        "i" => chunk::INIT,
        "i_a" => chunk::INIT_ACK,
        "c_e" => chunk::COOKIE_ECHO,
        "c_a" => chunk::COOKIE_ACK,
        "s" => chunk::SHUTDOWN,
        "s_a" => chunk::SHUTDOWN_ACK,
        "s_c" => chunk::SHUTDOWN_COMPLETE,
        "err" => chunk::ERROR,
        "ab" => chunk::ABORT,
        other => panic!("unknown event {other}"),
    }
}

/// `sctp_states` from `ip_vs_proto_sctp.c` (Linux 7.3), verbatim.
const C_SCTP_STATES: &str = "
	{ /* INPUT */
/*        sNO, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL*/
/* d   */{sES, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* i   */{sI1, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sIN, sIN},
/* i_a */{sCW, sCW, sCW, sCS, sCR, sCO, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* c_e */{sCR, sIN, sIN, sCR, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* c_a */{sES, sI1, sIN, sCS, sCR, sCW, sCO, sES, sES, sSS, sSR, sSA, sRJ, sCL},
/* s   */{sSR, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sSR, sSS, sSR, sSA, sRJ, sCL},
/* s_a */{sCL, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sES, sCL, sSR, sCL, sRJ, sCL},
/* s_c */{sCL, sCL, sCL, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sCL, sRJ, sCL},
/* err */{sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCL, sES, sSS, sSR, sSA, sRJ, sCL},
/* ab  */{sCL, sCL, sCL, sCL, sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	},
	{ /* OUTPUT */
/*        sNO, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL*/
/* d   */{sES, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* i   */{sCW, sCW, sCW, sCW, sCW, sCW, sCW, sCW, sES, sCW, sCW, sCW, sCW, sCW},
/* i_a */{sCS, sCS, sCS, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* c_e */{sCE, sCE, sCE, sCE, sCE, sCE, sCE, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* c_a */{sES, sES, sES, sES, sES, sES, sES, sES, sES, sSS, sSR, sSA, sRJ, sCL},
/* s   */{sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSR, sSA, sRJ, sCL},
/* s_a */{sSA, sSA, sSA, sSA, sSA, sCW, sCO, sCE, sES, sSA, sSA, sSA, sRJ, sCL},
/* s_c */{sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* err */{sCL, sCL, sCL, sCL, sCL, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* ab  */{sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	},
	{ /* INPUT-ONLY */
/*        sNO, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL*/
/* d   */{sES, sI1, sIN, sCS, sCR, sES, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* i   */{sI1, sIN, sIN, sIN, sIN, sIN, sCO, sCE, sES, sSS, sSR, sSA, sIN, sIN},
/* i_a */{sCE, sCE, sCE, sCE, sCE, sCE, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* c_e */{sES, sES, sES, sES, sES, sES, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* c_a */{sES, sI1, sIN, sES, sES, sCW, sES, sES, sES, sSS, sSR, sSA, sRJ, sCL},
/* s   */{sSR, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sSR, sSS, sSR, sSA, sRJ, sCL},
/* s_a */{sCL, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sCL, sCL, sSR, sCL, sRJ, sCL},
/* s_c */{sCL, sCL, sCL, sCL, sCL, sCW, sCO, sCE, sES, sSS, sCL, sCL, sRJ, sCL},
/* err */{sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
/* ab  */{sCL, sCL, sCL, sCL, sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	},
};
";

/// Parses C rows like `/* d   */{sES, sI1, ...},` into (event, next states).
fn c_rows(text: &str) -> Vec<(&str, Vec<SctpState>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let event = line.strip_prefix("/*")?.split_once("*/")?;
            let body = event.1.trim().strip_prefix('{')?.split_once('}')?.0;
            let event = event.0.trim();
            if event.starts_with("sNO") {
                return None;
            }
            Some((event, body.split(',').map(abbreviation).collect()))
        })
        .collect()
}

#[test]
fn tables_match_c() {
    let rows = c_rows(C_SCTP_STATES);
    assert_eq!(rows.len(), 30);
    let directions = [Direction::Input, Direction::Output, Direction::InputOnly];
    for (row_index, (event, states)) in rows.iter().enumerate() {
        let direction = directions[row_index / 10];
        assert_eq!(states.len(), SctpState::COUNT);
        assert_eq!(Event::of_chunk(event_chunk(event)) as usize, row_index % 10);
        for (current, expected) in ALL.iter().zip(states) {
            assert_eq!(
                next_state(direction, *current, event_chunk(event)),
                *expected,
                "{direction:?} {event} in {current:?}"
            );
        }
    }
}

#[test]
fn enum_values_match_c() {
    for (index, state) in ALL.iter().enumerate() {
        assert_eq!(state.index(), index);
        assert_eq!(SctpState::from_index(index), Some(*state));
    }
    assert_eq!(SctpState::from_index(SctpState::COUNT), None);
}

#[test]
fn names_match_sctp_state_name_table() {
    let names: Vec<_> = ALL.iter().map(|state| state.name()).collect();
    assert_eq!(
        names,
        [
            "NONE",
            "INIT1",
            "INIT",
            "C-SENT",
            "C-REPLIED",
            "C-WAIT",
            "COOKIE",
            "C-ECHOED",
            "ESTABLISHED",
            "S-SENT",
            "S-RECEIVED",
            "S-ACK-SENT",
            "REJECTED",
            "CLOSED",
        ]
    );
}

#[test]
fn timeouts_match_sctp_timeouts() {
    // In units of HZ: MAX_RTO is (60 + 1) * HZ.
    assert_eq!(
        DEFAULT_TIMEOUTS,
        [2, 4, 61, 61, 61, 61, 61, 61, 900, 61, 61, 61, 4, 61]
    );
}

#[test]
fn only_established_is_active() {
    for state in ALL {
        assert_eq!(state.is_active(), state == SctpState::Established);
    }
}

#[test]
fn events_of_every_chunk_type() {
    let data_like = [
        chunk::DATA,
        chunk::SACK,
        chunk::HEARTBEAT,
        chunk::HEARTBEAT_ACK,
        chunk::ECN_ECNE,
        chunk::ECN_CWR,
    ];
    for ty in data_like {
        assert_eq!(Event::of_chunk(ty), Event::Data);
    }
    // AUTH, I-DATA, ASCONF, FORWARD-TSN and the rest past `sctp_events`: DATA.
    for ty in 15..=255u8 {
        assert_eq!(Event::of_chunk(ty), Event::Data, "chunk type {ty}");
    }
}

#[test]
fn scheduling_needs_init_unless_sloppy_and_never_abort() {
    for ty in 0..=255u8 {
        assert_eq!(may_create_connection(ty, false), ty == chunk::INIT);
        assert_eq!(may_create_connection(ty, true), ty != chunk::ABORT);
    }
}

#[test]
fn abort_bundled_after_cookie_chunks_drives_the_state() {
    for first in [chunk::COOKIE_ECHO, chunk::COOKIE_ACK] {
        assert!(Chunks::may_bundle_abort(first, 4));
        assert!(!Chunks::may_bundle_abort(first, 3));
        let chunks = Chunks::new(first, Some(chunk::ABORT));
        assert_eq!((chunks.first, chunks.for_state), (first, chunk::ABORT));
        let chunks = Chunks::new(first, Some(chunk::DATA));
        assert_eq!(chunks.for_state, first);
        assert_eq!(Chunks::new(first, None).for_state, first);
    }
    // Only after COOKIE ECHO and COOKIE ACK.
    assert!(!Chunks::may_bundle_abort(chunk::DATA, 16));
    assert_eq!(
        Chunks::new(chunk::DATA, Some(chunk::ABORT)).for_state,
        chunk::DATA
    );
    // ALIGN(length, 4).
    assert_eq!(Chunks::second_offset(4), 4);
    assert_eq!(Chunks::second_offset(5), 8);
    assert_eq!(Chunks::second_offset(8), 8);
    assert_eq!(Chunks::second_offset(u16::MAX), 65536);
}
