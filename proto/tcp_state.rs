// SPDX-License-Identifier: GPL-2.0

//! The TCP connection state machine of IPVS (C: `ip_vs_proto_tcp.c`).
//!
//! IPVS tracks a TCP connection from the packets it forwards: each packet's flags select a row of
//! a transition table (RST before SYN before FIN before ACK), the connection's state a column.
//! Client packets use the input table, real-server packets the output table, and connections
//! whose replies bypass the director (DR, TUN: `IP_VS_CONN_F_NOOUTPUT`) the input-only table.

// The short names of the C tables.
use TcpState::{
    Close as sCL,
    CloseWait as sCW, //
    Established as sES,
    FinWait as sFW,
    LastAck as sLA,
    Listen as sLI,
    SynAck as sSA,
    SynRecv as sSR,
    SynSent as sSS,
    TimeWait as sTW,
};

/// The TCP FIN flag (byte 13 of the TCP header).
pub(crate) const FLAG_FIN: u8 = 0x01;
/// The TCP SYN flag.
pub(crate) const FLAG_SYN: u8 = 0x02;
/// The TCP RST flag.
pub(crate) const FLAG_RST: u8 = 0x04;
/// The TCP ACK flag.
pub(crate) const FLAG_ACK: u8 = 0x10;

/// The state of a TCP connection (C: `IP_VS_TCP_S_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum TcpState {
    /// `IP_VS_TCP_S_NONE`: new, and the state of templates.
    None = 0,
    /// `IP_VS_TCP_S_ESTABLISHED`.
    Established = 1,
    /// `IP_VS_TCP_S_SYN_SENT`.
    SynSent = 2,
    /// `IP_VS_TCP_S_SYN_RECV`.
    SynRecv = 3,
    /// `IP_VS_TCP_S_FIN_WAIT`.
    FinWait = 4,
    /// `IP_VS_TCP_S_TIME_WAIT`.
    TimeWait = 5,
    /// `IP_VS_TCP_S_CLOSE`.
    Close = 6,
    /// `IP_VS_TCP_S_CLOSE_WAIT`.
    CloseWait = 7,
    /// `IP_VS_TCP_S_LAST_ACK`.
    LastAck = 8,
    /// `IP_VS_TCP_S_LISTEN`.
    Listen = 9,
    /// `IP_VS_TCP_S_SYNACK`.
    SynAck = 10,
}

impl TcpState {
    /// The number of states (`IP_VS_TCP_S_LAST`).
    pub(crate) const COUNT: usize = 11;

    /// The state with this index, if any (the inverse of [`TcpState::index`]).
    pub(crate) const fn from_index(index: usize) -> Option<TcpState> {
        Some(match index {
            0 => TcpState::None,
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait,
            5 => TcpState::TimeWait,
            6 => TcpState::Close,
            7 => TcpState::CloseWait,
            8 => TcpState::LastAck,
            9 => TcpState::Listen,
            10 => TcpState::SynAck,
            _ => return None,
        })
    }

    /// The state's index into per-state tables such as [`DEFAULT_TIMEOUTS`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The state's name in `/proc/net/ip_vs_conn` (`tcp_state_name()`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::SynAck => "SYNACK",
        }
    }

    /// Whether a connection in this state counts in `activeconns` (`tcp_state_active()`).
    pub(crate) const fn is_active(self) -> bool {
        matches!(
            self,
            TcpState::Established | TcpState::SynSent | TcpState::SynRecv | TcpState::SynAck
        )
    }
}

/// The default timeout of each state in seconds, indexed by [`TcpState::index`] (`tcp_timeouts`).
///
/// Each network namespace starts from a copy; `IPVS_CMD_SET_CONFIG` changes the ESTABLISHED and
/// FIN_WAIT entries.
pub(crate) const DEFAULT_TIMEOUTS: [u32; TcpState::COUNT] = [
    2,       // NONE
    15 * 60, // ESTABLISHED
    2 * 60,  // SYN_SENT
    60,      // SYN_RECV
    2 * 60,  // FIN_WAIT
    2 * 60,  // TIME_WAIT
    10,      // CLOSE
    60,      // CLOSE_WAIT
    30,      // LAST_ACK
    2 * 60,  // LISTEN
    120,     // SYNACK
];

/// The direction of a packet relative to its connection (C: `IP_VS_DIR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `IP_VS_DIR_INPUT`: from the client to the virtual service.
    Input,
    /// `IP_VS_DIR_OUTPUT`: from the real server back to the client.
    Output,
    /// `IP_VS_DIR_INPUT_ONLY`: from the client, on a connection whose replies bypass the director.
    InputOnly,
}

impl Direction {
    /// The direction whose table a packet uses (the start of `set_tcp_state`).
    ///
    /// On a connection with `IP_VS_CONN_F_NOOUTPUT`, client packets use the input-only table;
    /// a real-server packet keeps the output table, and the caller clears the flag.
    pub(crate) const fn for_table(self, no_output: bool) -> Direction {
        match (self, no_output) {
            (Direction::Output, _) | (_, false) => self,
            (_, true) => Direction::InputOnly,
        }
    }
}

/// Which set of transition tables a network namespace uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TableSet {
    /// `tcp_states`, the default.
    Normal,
    /// `tcp_states_dos`, in use while the `secure_tcp` defense is on (`tcp_timeout_change`).
    SecureTcp,
}

/// A packet's flags reduced to a transition table row (C: `tcp_state_idx()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// SYN set, RST clear.
    Syn = 0,
    /// FIN set, SYN and RST clear.
    Fin = 1,
    /// ACK set, SYN, FIN and RST clear.
    Ack = 2,
    /// RST set.
    Rst = 3,
}

impl Event {
    /// The row the TCP header flags select, by priority RST > SYN > FIN > ACK; [`None`] when
    /// none of the four is set (`tcp_state_idx()` returns -1).
    pub(crate) const fn from_flags(tcp_flags: u8) -> Option<Event> {
        if tcp_flags & FLAG_RST != 0 {
            Some(Event::Rst)
        } else if tcp_flags & FLAG_SYN != 0 {
            Some(Event::Syn)
        } else if tcp_flags & FLAG_FIN != 0 {
            Some(Event::Fin)
        } else if tcp_flags & FLAG_ACK != 0 {
            Some(Event::Ack)
        } else {
            None
        }
    }
}

/// One transition table: the next state by event row and current state column.
type Table = [[TcpState; TcpState::COUNT]; 4];

/// `tcp_states`, INPUT part.
const NORMAL_INPUT: Table = [
    //  sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
    [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR], // syn
    [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW], // fin
    [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES], // ack
    [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR], // rst
];

/// `tcp_states`, OUTPUT part.
const NORMAL_OUTPUT: Table = [
    //  sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
    [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR], // syn
    [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW], // fin
    [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES], // ack
    [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL], // rst
];

/// `tcp_states`, INPUT-ONLY part.
const NORMAL_INPUT_ONLY: Table = [
    //  sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
    [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR], // syn
    [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW], // fin
    [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES], // ack
    [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL], // rst
];

/// `tcp_states_dos`, INPUT part.
const SECURE_INPUT: Table = [
    //  sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
    [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA], // syn
    [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA], // fin
    [sES, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA], // ack
    [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL], // rst
];

/// `tcp_states_dos`, OUTPUT part.
const SECURE_OUTPUT: Table = [
    //  sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
    [sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA], // syn
    [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW], // fin
    [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES], // ack
    [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL], // rst
];

/// `tcp_states_dos`, INPUT-ONLY part.
const SECURE_INPUT_ONLY: Table = [
    //  sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA
    [sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA], // syn
    [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW], // fin
    [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES], // ack
    [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL], // rst
];

/// The state a packet moves a connection to (the table lookup of `set_tcp_state`).
///
/// `direction` is the table's direction, after [`Direction::for_table`]. A packet with none of
/// RST, SYN, FIN and ACK moves the connection to CLOSE.
#[inline(always)]
pub(crate) fn next_state(
    tables: TableSet,
    direction: Direction,
    current: TcpState,
    tcp_flags: u8,
) -> TcpState {
    let Some(event) = Event::from_flags(tcp_flags) else {
        return TcpState::Close;
    };
    let table = match (tables, direction) {
        (TableSet::Normal, Direction::Input) => &NORMAL_INPUT,
        (TableSet::Normal, Direction::Output) => &NORMAL_OUTPUT,
        (TableSet::Normal, Direction::InputOnly) => &NORMAL_INPUT_ONLY,
        (TableSet::SecureTcp, Direction::Input) => &SECURE_INPUT,
        (TableSet::SecureTcp, Direction::Output) => &SECURE_OUTPUT,
        (TableSet::SecureTcp, Direction::InputOnly) => &SECURE_INPUT_ONLY,
    };
    table
        .get(event as usize)
        .and_then(|row| row.get(current.index()))
        .copied()
        .unwrap_or(TcpState::Close)
}

/// Whether a client packet without a connection may create one (the check of
/// `tcp_conn_schedule`): never with RST, and only with SYN unless `sloppy_tcp` is on.
pub(crate) const fn may_create_connection(tcp_flags: u8, sloppy_tcp: bool) -> bool {
    tcp_flags & FLAG_RST == 0 && (sloppy_tcp || tcp_flags & FLAG_SYN != 0)
}
