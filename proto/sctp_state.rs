// SPDX-License-Identifier: GPL-2.0

//! The SCTP association state machine of IPVS (C: `ip_vs_proto_sctp.c`).
//!
//! IPVS follows an association from the chunks it forwards, as the real server sees it: the
//! type of a packet's first chunk (or of an ABORT bundled after a COOKIE ECHO or COOKIE ACK)
//! selects a row of a transition table, the association's state a column. As for TCP there
//! is an input table, an output table and an input-only table for connections whose replies
//! bypass the director ([`Direction`]).

use super::tcp_state::Direction;

// The short names of the C tables.
use SctpState::{
    Closed as sCL, Cookie as sCO, CookieEchoed as sCE, CookieReplied as sCR, CookieSent as sCS,
    CookieWait as sCW, Established as sES, Init as sIN, Init1 as sI1, Rejected as sRJ,
    ShutdownAckSent as sSA, ShutdownReceived as sSR, ShutdownSent as sSS,
};

/// Chunk types IPVS tells apart (RFC 9260, section 3.2; C: `SCTP_CID_*`).
pub(crate) mod chunk {
    /// `SCTP_CID_DATA`.
    pub(crate) const DATA: u8 = 0;
    /// `SCTP_CID_INIT`.
    pub(crate) const INIT: u8 = 1;
    /// `SCTP_CID_INIT_ACK`.
    pub(crate) const INIT_ACK: u8 = 2;
    /// `SCTP_CID_SACK`.
    pub(crate) const SACK: u8 = 3;
    /// `SCTP_CID_HEARTBEAT`.
    pub(crate) const HEARTBEAT: u8 = 4;
    /// `SCTP_CID_HEARTBEAT_ACK`.
    pub(crate) const HEARTBEAT_ACK: u8 = 5;
    /// `SCTP_CID_ABORT`.
    pub(crate) const ABORT: u8 = 6;
    /// `SCTP_CID_SHUTDOWN`.
    pub(crate) const SHUTDOWN: u8 = 7;
    /// `SCTP_CID_SHUTDOWN_ACK`.
    pub(crate) const SHUTDOWN_ACK: u8 = 8;
    /// `SCTP_CID_ERROR`.
    pub(crate) const ERROR: u8 = 9;
    /// `SCTP_CID_COOKIE_ECHO`.
    pub(crate) const COOKIE_ECHO: u8 = 10;
    /// `SCTP_CID_COOKIE_ACK`.
    pub(crate) const COOKIE_ACK: u8 = 11;
    /// `SCTP_CID_ECN_ECNE`.
    pub(crate) const ECN_ECNE: u8 = 12;
    /// `SCTP_CID_ECN_CWR`.
    pub(crate) const ECN_CWR: u8 = 13;
    /// `SCTP_CID_SHUTDOWN_COMPLETE`.
    pub(crate) const SHUTDOWN_COMPLETE: u8 = 14;
}

/// What a packet's chunks say to IPVS, read once by the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunks {
    /// The type of the first chunk: what scheduling, connection reuse and the reply path's
    /// ABORT check look at.
    pub(crate) first: u8,
    /// The chunk type that drives the state: the first chunk's, or ABORT when an ABORT follows
    /// a first COOKIE ECHO or COOKIE ACK (`set_sctp_state`).
    pub(crate) for_state: u8,
}

impl Chunks {
    /// The chunks of a packet whose first chunk has type `first`, and whose second chunk, when
    /// [`Chunks::may_bundle_abort`] had it read, has type `second`.
    pub(crate) const fn new(first: u8, second: Option<u8>) -> Chunks {
        let bundled_abort = matches!(second, Some(chunk::ABORT))
            && (first == chunk::COOKIE_ECHO || first == chunk::COOKIE_ACK);
        Chunks {
            first,
            for_state: if bundled_abort { chunk::ABORT } else { first },
        }
    }

    /// Whether a packet whose first chunk has type `first` and length `length` (from its
    /// header) needs its second chunk read: only a COOKIE ECHO or COOKIE ACK of a valid
    /// length may have an ABORT after it that counts (`set_sctp_state`).
    pub(crate) const fn may_bundle_abort(first: u8, length: u16) -> bool {
        (first == chunk::COOKIE_ECHO || first == chunk::COOKIE_ACK) && length as usize >= 4
    }

    /// The offset of the second chunk from the first's: the first's length rounded up to 4.
    pub(crate) const fn second_offset(length: u16) -> usize {
        (length as usize).next_multiple_of(4)
    }
}

/// The state of an SCTP association (C: `IP_VS_SCTP_S_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum SctpState {
    /// `IP_VS_SCTP_S_NONE`: new.
    None = 0,
    /// `IP_VS_SCTP_S_INIT1`: the client's first INIT sent, waiting for the INIT ACK.
    Init1 = 1,
    /// `IP_VS_SCTP_S_INIT`: a later INIT sent.
    Init = 2,
    /// `IP_VS_SCTP_S_COOKIE_SENT`: the server's INIT ACK sent.
    CookieSent = 3,
    /// `IP_VS_SCTP_S_COOKIE_REPLIED`: the client's COOKIE ECHO sent.
    CookieReplied = 4,
    /// `IP_VS_SCTP_S_COOKIE_WAIT`: the server's INIT sent (an association it opens).
    CookieWait = 5,
    /// `IP_VS_SCTP_S_COOKIE`: the client's INIT ACK sent.
    Cookie = 6,
    /// `IP_VS_SCTP_S_COOKIE_ECHOED`: the server's COOKIE ECHO sent.
    CookieEchoed = 7,
    /// `IP_VS_SCTP_S_ESTABLISHED`.
    Established = 8,
    /// `IP_VS_SCTP_S_SHUTDOWN_SENT`.
    ShutdownSent = 9,
    /// `IP_VS_SCTP_S_SHUTDOWN_RECEIVED`.
    ShutdownReceived = 10,
    /// `IP_VS_SCTP_S_SHUTDOWN_ACK_SENT`.
    ShutdownAckSent = 11,
    /// `IP_VS_SCTP_S_REJECTED`: an INIT answered with ABORT.
    Rejected = 12,
    /// `IP_VS_SCTP_S_CLOSED`.
    Closed = 13,
}

impl SctpState {
    /// The number of states (`IP_VS_SCTP_S_LAST`).
    pub(crate) const COUNT: usize = 14;

    /// The state with this index, if any (the inverse of [`SctpState::index`]).
    pub(crate) const fn from_index(index: usize) -> Option<SctpState> {
        Some(match index {
            0 => SctpState::None,
            1 => SctpState::Init1,
            2 => SctpState::Init,
            3 => SctpState::CookieSent,
            4 => SctpState::CookieReplied,
            5 => SctpState::CookieWait,
            6 => SctpState::Cookie,
            7 => SctpState::CookieEchoed,
            8 => SctpState::Established,
            9 => SctpState::ShutdownSent,
            10 => SctpState::ShutdownReceived,
            11 => SctpState::ShutdownAckSent,
            12 => SctpState::Rejected,
            13 => SctpState::Closed,
            _ => return None,
        })
    }

    /// The state's index into per-state tables such as [`DEFAULT_TIMEOUTS`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The state's name in `/proc/net/ip_vs_conn` (`sctp_state_name_table`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            SctpState::None => "NONE",
            SctpState::Init1 => "INIT1",
            SctpState::Init => "INIT",
            SctpState::CookieSent => "C-SENT",
            SctpState::CookieReplied => "C-REPLIED",
            SctpState::CookieWait => "C-WAIT",
            SctpState::Cookie => "COOKIE",
            SctpState::CookieEchoed => "C-ECHOED",
            SctpState::Established => "ESTABLISHED",
            SctpState::ShutdownSent => "S-SENT",
            SctpState::ShutdownReceived => "S-RECEIVED",
            SctpState::ShutdownAckSent => "S-ACK-SENT",
            SctpState::Rejected => "REJECTED",
            SctpState::Closed => "CLOSED",
        }
    }

    /// Whether the destination counts the association as active: only when established
    /// (`set_sctp_state`).
    pub(crate) const fn is_active(self) -> bool {
        matches!(self, SctpState::Established)
    }
}

/// `IP_VS_SCTP_MAX_RTO` in seconds: the timeout of the handshake and shutdown states.
const MAX_RTO: u32 = 60 + 1;

/// The timeout of each state in seconds, indexed by [`SctpState::index`] (`sctp_timeouts`,
/// whole seconds there too). C offers no way to change them.
pub(crate) const DEFAULT_TIMEOUTS: [u32; SctpState::COUNT] = [
    2,       // NONE
    3 + 1,   // INIT1
    MAX_RTO, // INIT
    MAX_RTO, // COOKIE_SENT
    MAX_RTO, // COOKIE_REPLIED
    MAX_RTO, // COOKIE_WAIT
    MAX_RTO, // COOKIE
    MAX_RTO, // COOKIE_ECHOED
    15 * 60, // ESTABLISHED
    MAX_RTO, // SHUTDOWN_SENT
    MAX_RTO, // SHUTDOWN_RECEIVED
    MAX_RTO, // SHUTDOWN_ACK_SENT
    3 + 1,   // REJECTED
    MAX_RTO, // CLOSED
];

/// A chunk type reduced to a transition table row (C: `enum ipvs_sctp_event_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// DATA, SACK, HEARTBEAT, HEARTBEAT ACK, ECNE, CWR and any type C does not list.
    Data = 0,
    /// INIT.
    Init = 1,
    /// INIT ACK.
    InitAck = 2,
    /// COOKIE ECHO.
    CookieEcho = 3,
    /// COOKIE ACK.
    CookieAck = 4,
    /// SHUTDOWN.
    Shutdown = 5,
    /// SHUTDOWN ACK.
    ShutdownAck = 6,
    /// SHUTDOWN COMPLETE.
    ShutdownComplete = 7,
    /// ERROR.
    Error = 8,
    /// ABORT.
    Abort = 9,
}

impl Event {
    /// The row of a chunk type (`sctp_events`).
    pub(crate) const fn of_chunk(chunk_type: u8) -> Event {
        match chunk_type {
            chunk::INIT => Event::Init,
            chunk::INIT_ACK => Event::InitAck,
            chunk::ABORT => Event::Abort,
            chunk::SHUTDOWN => Event::Shutdown,
            chunk::SHUTDOWN_ACK => Event::ShutdownAck,
            chunk::ERROR => Event::Error,
            chunk::COOKIE_ECHO => Event::CookieEcho,
            chunk::COOKIE_ACK => Event::CookieAck,
            chunk::SHUTDOWN_COMPLETE => Event::ShutdownComplete,
            chunk::DATA
            | chunk::SACK
            | chunk::HEARTBEAT
            | chunk::HEARTBEAT_ACK
            | chunk::ECN_ECNE
            | chunk::ECN_CWR => Event::Data,
            // Types past the table: C's lookup falls back to DATA.
            _ => Event::Data,
        }
    }
}

/// One direction's transition table: the next state by event row and current state column.
type Table = [[SctpState; SctpState::COUNT]; 10];

/// `sctp_states`, INPUT part.
const INPUT: Table = [
    //  sNO, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL
    [
        sES, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // d
    [
        sI1, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sIN, sIN,
    ], // i
    [
        sCW, sCW, sCW, sCS, sCR, sCO, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // i_a
    [
        sCR, sIN, sIN, sCR, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // c_e
    [
        sES, sI1, sIN, sCS, sCR, sCW, sCO, sES, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // c_a
    [
        sSR, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sSR, sSS, sSR, sSA, sRJ, sCL,
    ], // s
    [
        sCL, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sES, sCL, sSR, sCL, sRJ, sCL,
    ], // s_a
    [
        sCL, sCL, sCL, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sCL, sRJ, sCL,
    ], // s_c
    [
        sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCL, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // err
    [
        sCL, sCL, sCL, sCL, sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,
    ], // ab
];

/// `sctp_states`, OUTPUT part.
const OUTPUT: Table = [
    //  sNO, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL
    [
        sES, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // d
    [
        sCW, sCW, sCW, sCW, sCW, sCW, sCW, sCW, sES, sCW, sCW, sCW, sCW, sCW,
    ], // i
    [
        sCS, sCS, sCS, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // i_a
    [
        sCE, sCE, sCE, sCE, sCE, sCE, sCE, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // c_e
    [
        sES, sES, sES, sES, sES, sES, sES, sES, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // c_a
    [
        sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSR, sSA, sRJ, sCL,
    ], // s
    [
        sSA, sSA, sSA, sSA, sSA, sCW, sCO, sCE, sES, sSA, sSA, sSA, sRJ, sCL,
    ], // s_a
    [
        sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // s_c
    [
        sCL, sCL, sCL, sCL, sCL, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // err
    [
        sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,
    ], // ab
];

/// `sctp_states`, INPUT-ONLY part.
const INPUT_ONLY: Table = [
    //  sNO, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL
    [
        sES, sI1, sIN, sCS, sCR, sES, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // d
    [
        sI1, sIN, sIN, sIN, sIN, sIN, sCO, sCE, sES, sSS, sSR, sSA, sIN, sIN,
    ], // i
    [
        sCE, sCE, sCE, sCE, sCE, sCE, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // i_a
    [
        sES, sES, sES, sES, sES, sES, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // c_e
    [
        sES, sI1, sIN, sES, sES, sCW, sES, sES, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // c_a
    [
        sSR, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sSR, sSS, sSR, sSA, sRJ, sCL,
    ], // s
    [
        sCL, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sCL, sCL, sSR, sCL, sRJ, sCL,
    ], // s_a
    [
        sCL, sCL, sCL, sCL, sCL, sCW, sCO, sCE, sES, sSS, sCL, sCL, sRJ, sCL,
    ], // s_c
    [
        sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL,
    ], // err
    [
        sCL, sCL, sCL, sCL, sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,
    ], // ab
];

/// The state a packet whose state-driving chunk has type `chunk_type` moves an association
/// in `current` to (the table lookup of `set_sctp_state`); `direction` is the table's, after
/// [`Direction::for_table`].
pub(crate) fn next_state(direction: Direction, current: SctpState, chunk_type: u8) -> SctpState {
    let table = match direction {
        Direction::Input => &INPUT,
        Direction::Output => &OUTPUT,
        Direction::InputOnly => &INPUT_ONLY,
    };
    table
        .get(Event::of_chunk(chunk_type) as usize)
        .and_then(|row| row.get(current.index()))
        .copied()
        .unwrap_or(SctpState::Closed)
}

/// Whether a client packet without a connection may create one (the check of
/// `sctp_conn_schedule`): never when its first chunk is an ABORT, and only with an INIT unless
/// `sloppy_sctp` is on.
pub(crate) const fn may_create_connection(first_chunk: u8, sloppy_sctp: bool) -> bool {
    first_chunk != chunk::ABORT && (sloppy_sctp || first_chunk == chunk::INIT)
}
