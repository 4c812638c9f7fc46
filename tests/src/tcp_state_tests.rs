// SPDX-License-Identifier: GPL-2.0

//! The TCP state machine (`proto/tcp_state.rs`) against `ip_vs_proto_tcp.c` and the semantics
//! reference (`shared/reference/ipvs-semantics.md`, section 3).

use crate::proto::tcp_state::{
    may_create_connection, //
    next_state,
    Direction,
    Event,
    TableSet,
    TcpState,
    DEFAULT_TIMEOUTS,
    FLAG_ACK,
    FLAG_FIN,
    FLAG_RST,
    FLAG_SYN,
};
use std::vec::Vec;

/// Every state in C enum order.
const ALL: [TcpState; TcpState::COUNT] = [
    TcpState::None,
    TcpState::Established,
    TcpState::SynSent,
    TcpState::SynRecv,
    TcpState::FinWait,
    TcpState::TimeWait,
    TcpState::Close,
    TcpState::CloseWait,
    TcpState::LastAck,
    TcpState::Listen,
    TcpState::SynAck,
];

/// The TCP PSH flag, which plays no part in the transitions.
const FLAG_PSH: u8 = 0x08;
/// The TCP URG flag, which plays no part in the transitions.
const FLAG_URG: u8 = 0x20;

/// The state a two-letter abbreviation of the C tables and the reference stands for.
fn abbreviation(text: &str) -> TcpState {
    let text = text.trim_start_matches('s');
    match text {
        "NO" => TcpState::None,
        "ES" => TcpState::Established,
        "SS" => TcpState::SynSent,
        "SR" => TcpState::SynRecv,
        "FW" => TcpState::FinWait,
        "TW" => TcpState::TimeWait,
        "CL" => TcpState::Close,
        "CW" => TcpState::CloseWait,
        "LA" => TcpState::LastAck,
        "LI" => TcpState::Listen,
        "SA" => TcpState::SynAck,
        _ => panic!("unknown state {text}"),
    }
}

/// The flags byte of a row's event.
fn event_flags(event: &str) -> u8 {
    match event {
        "syn" => FLAG_SYN,
        "fin" => FLAG_FIN,
        "ack" => FLAG_ACK,
        "rst" => FLAG_RST,
        _ => panic!("unknown event {event}"),
    }
}

/// The semantics reference's transition table, verbatim.
const REFERENCE: &str = "
| IN syn | SR ES ES SR SR SR SR SR SR SR SR |
| IN fin | CL CW SS TW TW TW CL CW LA LI TW |
| IN ack | ES ES SS ES FW TW CL CW CL LI ES |
| IN rst | CL CL CL SR CL CL CL CL LA LI SR |
| OUT syn | SS ES SS SR SS SS SS SS SS LI SR |
| OUT fin | TW FW SS TW FW TW CL TW LA LI TW |
| OUT ack | ES ES SS ES FW TW CL CW LA ES ES |
| OUT rst | CL CL SS CL CL TW CL CL CL CL CL |
";

/// The rows of [`REFERENCE`]: direction, event, next states.
fn reference_rows() -> Vec<(Direction, &'static str, Vec<TcpState>)> {
    REFERENCE
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (direction, event) = cells[1].split_once(' ').unwrap();
            let direction = match direction {
                "IN" => Direction::Input,
                "OUT" => Direction::Output,
                _ => panic!("unknown direction {direction}"),
            };
            let states = cells[2].split_whitespace().map(abbreviation).collect();
            (direction, event, states)
        })
        .collect()
}

/// Parses C `tcp_states_t` rows like `/*syn*/ {{sSR, sES, ...}},` into (event, next states).
fn c_rows(text: &str) -> Vec<(&str, Vec<TcpState>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let event = line.strip_prefix("/*")?.split_once("*/")?.0;
            if !["syn", "fin", "ack", "rst"].contains(&event) {
                return None;
            }
            let body = line.split_once("{{")?.1.split_once("}}")?.0;
            Some((
                event,
                body.split(',').map(|s| abbreviation(s.trim())).collect(),
            ))
        })
        .collect()
}

/// `tcp_states` from `ip_vs_proto_tcp.c` (Linux 7.3), verbatim.
const C_TCP_STATES: &str = "
/*	INPUT */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR }},
/*fin*/ {{sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES }},
/*rst*/ {{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR }},

/*	OUTPUT */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR }},
/*fin*/ {{sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES }},
/*rst*/ {{sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL }},

/*	INPUT-ONLY */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR }},
/*fin*/ {{sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES }},
/*rst*/ {{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL }},
";

/// `tcp_states_dos` from `ip_vs_proto_tcp.c` (Linux 7.3), verbatim.
const C_TCP_STATES_DOS: &str = "
/*	INPUT */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA }},
/*fin*/ {{sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA }},
/*ack*/ {{sES, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA }},
/*rst*/ {{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL }},

/*	OUTPUT */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA }},
/*fin*/ {{sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES }},
/*rst*/ {{sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL }},

/*	INPUT-ONLY */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA }},
/*fin*/ {{sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES }},
/*rst*/ {{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL }},
";

/// Checks every cell of `tables` against the 12 C rows: 4 input, 4 output, 4 input-only.
fn check_against_c(tables: TableSet, c_text: &str) {
    let rows = c_rows(c_text);
    assert_eq!(rows.len(), 12);
    let directions = [Direction::Input, Direction::Output, Direction::InputOnly];
    for (row_index, (event, states)) in rows.iter().enumerate() {
        let direction = directions[row_index / 4];
        assert_eq!(states.len(), TcpState::COUNT);
        for (current, expected) in ALL.iter().zip(states) {
            assert_eq!(
                next_state(tables, direction, *current, event_flags(event)),
                *expected,
                "{tables:?} {direction:?} {event} in {current:?}"
            );
        }
    }
}

#[test]
fn enum_values_match_c() {
    for (index, state) in ALL.iter().enumerate() {
        assert_eq!(state.index(), index);
        assert_eq!(*state as u8 as usize, index);
    }
}

#[test]
fn names_match_tcp_state_name() {
    let names: Vec<_> = ALL.iter().map(|state| state.name()).collect();
    assert_eq!(
        names,
        [
            "NONE",
            "ESTABLISHED",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT",
            "TIME_WAIT",
            "CLOSE",
            "CLOSE_WAIT",
            "LAST_ACK",
            "LISTEN",
            "SYNACK"
        ]
    );
    // `/proc/net/ip_vs_conn` prints the name with %-11s: every name fits.
    assert!(names.iter().all(|name| name.len() <= 11));
}

#[test]
fn default_timeouts_match_tcp_timeouts() {
    assert_eq!(
        DEFAULT_TIMEOUTS,
        [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120]
    );
}

#[test]
fn active_states() {
    let active: Vec<_> = ALL
        .iter()
        .copied()
        .filter(|state| state.is_active())
        .collect();
    assert_eq!(
        active,
        [
            TcpState::Established,
            TcpState::SynSent,
            TcpState::SynRecv,
            TcpState::SynAck
        ]
    );
}

#[test]
fn normal_tables_match_the_reference_cell_by_cell() {
    let rows = reference_rows();
    assert_eq!(rows.len(), 8);
    let mut cells = 0;
    for (direction, event, states) in rows {
        for (current, expected) in ALL.iter().zip(&states) {
            assert_eq!(
                next_state(TableSet::Normal, direction, *current, event_flags(event)),
                *expected,
                "{direction:?} {event} in {current:?}"
            );
            cells += 1;
        }
    }
    assert_eq!(cells, 88);
}

#[test]
fn input_only_differs_from_input_in_three_cells() {
    // The reference: INPUT-ONLY = INPUT except fin in sES -> FW, fin in sFW -> FW, rst in sSA -> CL.
    let mut differences = Vec::new();
    for event in ["syn", "fin", "ack", "rst"] {
        for current in ALL {
            let flags = event_flags(event);
            let input = next_state(TableSet::Normal, Direction::Input, current, flags);
            let input_only = next_state(TableSet::Normal, Direction::InputOnly, current, flags);
            if input != input_only {
                differences.push((event, current, input_only));
            }
        }
    }
    assert_eq!(
        differences,
        [
            ("fin", TcpState::Established, TcpState::FinWait),
            ("fin", TcpState::FinWait, TcpState::FinWait),
            ("rst", TcpState::SynAck, TcpState::Close),
        ]
    );
}

#[test]
fn normal_tables_match_c_tcp_states() {
    check_against_c(TableSet::Normal, C_TCP_STATES);
}

#[test]
fn secure_tables_match_c_tcp_states_dos() {
    check_against_c(TableSet::SecureTcp, C_TCP_STATES_DOS);
}

#[test]
fn flag_priority_is_rst_syn_fin_ack() {
    assert_eq!(
        Event::from_flags(FLAG_RST | FLAG_SYN | FLAG_FIN | FLAG_ACK),
        Some(Event::Rst)
    );
    assert_eq!(
        Event::from_flags(FLAG_SYN | FLAG_FIN | FLAG_ACK),
        Some(Event::Syn)
    );
    assert_eq!(Event::from_flags(FLAG_SYN | FLAG_ACK), Some(Event::Syn));
    assert_eq!(Event::from_flags(FLAG_FIN | FLAG_ACK), Some(Event::Fin));
    assert_eq!(Event::from_flags(FLAG_ACK | FLAG_PSH), Some(Event::Ack));
    assert_eq!(Event::from_flags(FLAG_PSH | FLAG_URG), None);
    assert_eq!(Event::from_flags(0), None);
    // Every flags byte: the row is the one of its highest-priority flag.
    for flags in 0..=u8::MAX {
        let expected = if flags & FLAG_RST != 0 {
            Some(Event::Rst)
        } else if flags & FLAG_SYN != 0 {
            Some(Event::Syn)
        } else if flags & FLAG_FIN != 0 {
            Some(Event::Fin)
        } else if flags & FLAG_ACK != 0 {
            Some(Event::Ack)
        } else {
            None
        };
        assert_eq!(Event::from_flags(flags), expected, "flags {flags:#04x}");
    }
}

#[test]
fn combined_flags_use_the_priority_row() {
    // SYN+ACK from the server in SYN_RECV: the syn row (stays SYN_RECV), not ack (ESTABLISHED).
    let syn_ack = FLAG_SYN | FLAG_ACK;
    assert_eq!(
        next_state(
            TableSet::Normal,
            Direction::Output,
            TcpState::SynRecv,
            syn_ack
        ),
        TcpState::SynRecv
    );
    // RST+ACK from the client in ESTABLISHED: the rst row.
    assert_eq!(
        next_state(
            TableSet::Normal,
            Direction::Input,
            TcpState::Established,
            FLAG_RST | FLAG_ACK
        ),
        TcpState::Close
    );
    // FIN+ACK from the client in ESTABLISHED: the fin row.
    assert_eq!(
        next_state(
            TableSet::Normal,
            Direction::Input,
            TcpState::Established,
            FLAG_FIN | FLAG_ACK
        ),
        TcpState::CloseWait
    );
}

#[test]
fn no_known_flag_closes_from_every_state() {
    for tables in [TableSet::Normal, TableSet::SecureTcp] {
        for direction in [Direction::Input, Direction::Output, Direction::InputOnly] {
            for current in ALL {
                for flags in [0, FLAG_PSH, FLAG_URG | FLAG_PSH, 0xc0] {
                    assert_eq!(
                        next_state(tables, direction, current, flags),
                        TcpState::Close
                    );
                }
            }
        }
    }
}

#[test]
fn nat_connection_lifecycle() {
    let step = |state, direction, flags| next_state(TableSet::Normal, direction, state, flags);
    let (input, output) = (Direction::Input, Direction::Output);
    let mut state = TcpState::None;
    state = step(state, input, FLAG_SYN);
    assert_eq!(state, TcpState::SynRecv);
    state = step(state, output, FLAG_SYN | FLAG_ACK);
    assert_eq!(state, TcpState::SynRecv);
    state = step(state, input, FLAG_ACK);
    assert_eq!(state, TcpState::Established);
    state = step(state, input, FLAG_ACK | FLAG_PSH);
    assert_eq!(state, TcpState::Established);
    // The client closes first.
    state = step(state, input, FLAG_FIN | FLAG_ACK);
    assert_eq!(state, TcpState::CloseWait);
    state = step(state, output, FLAG_ACK);
    assert_eq!(state, TcpState::CloseWait);
    state = step(state, output, FLAG_FIN | FLAG_ACK);
    assert_eq!(state, TcpState::TimeWait);
    state = step(state, input, FLAG_ACK);
    assert_eq!(state, TcpState::TimeWait);
    assert_eq!(DEFAULT_TIMEOUTS[state.index()], 120);
    assert!(!state.is_active());
}

#[test]
fn no_output_connections_use_the_input_only_table() {
    assert_eq!(Direction::Input.for_table(false), Direction::Input);
    assert_eq!(Direction::Output.for_table(false), Direction::Output);
    assert_eq!(Direction::Input.for_table(true), Direction::InputOnly);
    // A reply on a NOOUTPUT connection keeps the output table (and C clears the flag).
    assert_eq!(Direction::Output.for_table(true), Direction::Output);
    assert_eq!(Direction::InputOnly.for_table(false), Direction::InputOnly);
    assert_eq!(Direction::InputOnly.for_table(true), Direction::InputOnly);
}

#[test]
fn only_syn_without_rst_creates_connections() {
    assert!(may_create_connection(FLAG_SYN, false));
    assert!(may_create_connection(FLAG_SYN | FLAG_ACK, false));
    assert!(!may_create_connection(FLAG_SYN | FLAG_RST, false));
    assert!(!may_create_connection(FLAG_ACK, false));
    assert!(!may_create_connection(FLAG_FIN, false));
    assert!(!may_create_connection(0, false));
    // sloppy_tcp: anything but RST.
    assert!(may_create_connection(FLAG_ACK, true));
    assert!(may_create_connection(0, true));
    assert!(!may_create_connection(FLAG_RST | FLAG_ACK, true));
}

/// `from_index` inverts `index` for every state (a connection stores the index) and refuses
/// anything past `IP_VS_TCP_S_LAST`.
#[test]
fn index_round_trip() {
    for state in ALL {
        assert_eq!(TcpState::from_index(state.index()), Some(state));
    }
    assert_eq!(TcpState::from_index(TcpState::COUNT), None);
    assert_eq!(TcpState::from_index(usize::MAX), None);
}
