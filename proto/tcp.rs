// SPDX-License-Identifier: GPL-2.0

//! TCP (C: `ip_vs_proto_tcp.c`): header parsing, the scheduling check, connection reuse and
//! the state transitions over the tables of [`super::tcp_state`].

use super::{
    tcp_state::{
        self, //
        Direction,
        TableSet,
        TcpState,
        FLAG_RST,
        FLAG_SYN,
    },
    NetSettings, Protocol, ScheduleCheck,
};
use crate::{
    conn::Conn,
    ffi::skb::Skb,
    packet::{
        Control, //
        IpHeader,
        Transport,
    },
    sysctl::{
        Sysctl, //
        Sysctls,
    },
    uapi::conn_flags,
};
use kernel::sync::atomic::Relaxed;

/// Length of the TCP header without options.
const HEADER_LEN: usize = 20;
/// Offset of the checksum in the TCP header.
const CSUM_OFFSET: usize = 16;

/// The TCP state of a connection.
fn state_of(conn: &Conn) -> TcpState {
    TcpState::from_index(conn.state() as usize).unwrap_or(TcpState::None)
}

/// The TCP handler (C: `ip_vs_protocol_tcp`).
pub(crate) struct Tcp;

impl Protocol for Tcp {
    const NAT_HEADER_LEN: usize = CSUM_OFFSET + 2;

    #[inline(always)]
    fn parse(&self, skb: &Skb<'_>, iph: &IpHeader) -> Option<Transport> {
        let mut raw = [0u8; HEADER_LEN];
        // Flags need the whole fixed header, as `skb_header_pointer(sizeof(tcphdr))`; the
        // connection lookups need the ports only (C reads them alone), and the caller decides
        // what a packet without flags gets.
        let (ports, tcp_flags) = match skb.read(iph.transport_offset, &mut raw) {
            Some(&[s0, s1, d0, d1, _, _, _, _, _, _, _, _, _, flags, ..]) => {
                ([s0, s1, d0, d1], Some(flags))
            }
            _ => {
                let mut raw = [0u8; 4];
                match skb.read(iph.transport_offset, &mut raw) {
                    Some(&[s0, s1, d0, d1]) => ([s0, s1, d0, d1], None),
                    _ => return None,
                }
            }
        };
        let [s0, s1, d0, d1] = ports;
        Some(Transport {
            sport: u16::from_be_bytes([s0, s1]),
            dport: u16::from_be_bytes([d0, d1]),
            control: tcp_flags.map_or(Control::Absent, Control::TcpFlags),
            csum_offset: iph.transport_offset.checked_add(CSUM_OFFSET),
        })
    }

    fn header_complete(&self, l4: &Transport) -> bool {
        l4.tcp_flags().is_some()
    }

    fn schedule_check(&self, sysctl: &Sysctls, l4: &Transport) -> ScheduleCheck {
        let flags = l4.tcp_flags().unwrap_or(0);
        let sloppy = sysctl.enabled(Sysctl::SloppyTcp);
        if tcp_state::may_create_connection(flags & (FLAG_RST | FLAG_SYN), sloppy) {
            ScheduleCheck::Schedule
        } else {
            ScheduleCheck::Pass
        }
    }

    fn is_new_conn(&self, l4: &Transport) -> bool {
        l4.tcp_flags().is_some_and(|f| f & FLAG_SYN != 0)
    }

    fn new_conn_expected(&self, conn: &Conn, reuse_mode: i32) -> bool {
        let state = state_of(conn);
        state == TcpState::TimeWait
            || state == TcpState::Close
            || (reuse_mode & 2 != 0
                && state == TcpState::FinWait
                && conn.flags.load(Relaxed) & conn_flags::NOOUTPUT != 0)
    }

    fn is_reset(&self, l4: &Transport) -> bool {
        l4.tcp_flags().is_some_and(|f| f & FLAG_RST != 0)
    }

    #[inline(always)]
    fn state_transition(
        &self,
        ns: &NetSettings<'_>,
        conn: &Conn,
        direction: Direction,
        l4: &Transport,
    ) {
        // Without a full TCP header C leaves the state alone.
        let Some(tcp_flags) = l4.tcp_flags() else {
            return;
        };
        let table = super::table_direction(conn, direction);
        // The defense level chose the tables (`tcp_timeout_change`).
        let tables = if ns.secure_tcp_tables {
            TableSet::SecureTcp
        } else {
            TableSet::Normal
        };
        conn.transition(|current| {
            let current = TcpState::from_index(current as usize).unwrap_or(TcpState::None);
            let new = tcp_state::next_state(tables, table, current, tcp_flags);
            (
                new.index() as u32,
                new.is_active(),
                ns.timeouts.tcp_state(new),
            )
        });
        if state_of(conn) == TcpState::Established {
            conn.assure_control();
        }
    }

    fn state_name(&self, state: u32) -> &'static str {
        TcpState::from_index(state as usize).map_or("ERR!", TcpState::name)
    }
}
