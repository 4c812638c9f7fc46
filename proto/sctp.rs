// SPDX-License-Identifier: GPL-2.0

//! SCTP (C: `ip_vs_proto_sctp.c`): header and chunk parsing, the scheduling check on INIT,
//! connection reuse, the state transitions over the tables of [`super::sctp_state`], and NAT
//! with the CRC32c checksum recomputed over the whole packet.

use super::{
    sctp_state::{
        self, //
        chunk,
        Chunks,
        SctpState,
    },
    tcp_state::Direction,
    NetSettings, Protocol, ScheduleCheck,
};
use crate::{
    conn::Conn,
    ffi::skb::{
        Skb, //
        Writable,
    },
    packet::{
        Control, //
        IpHeader,
        Transport,
    },
    sysctl::{
        Sysctl, //
        Sysctls,
    },
};
use kernel::prelude::*;

/// Length of the SCTP common header (`struct sctphdr`).
const HEADER_LEN: usize = 12;
/// Length of a chunk header (`struct sctp_chunkhdr`).
const CHUNK_HEADER_LEN: usize = 4;

/// The SCTP state of a connection.
fn state_of(conn: &Conn) -> SctpState {
    SctpState::from_index(conn.state() as usize).unwrap_or(SctpState::None)
}

/// Reads the chunk types that matter (`sctp_conn_schedule`, `set_sctp_state`): the first
/// chunk's, and for a COOKIE ECHO or COOKIE ACK the next chunk's, which may be an ABORT.
fn read_chunks(skb: &Skb<'_>, first_at: usize) -> Option<Chunks> {
    let mut raw = [0u8; CHUNK_HEADER_LEN];
    let &[first, _, l0, l1] = skb.read(first_at, &mut raw)? else {
        return None;
    };
    let length = u16::from_be_bytes([l0, l1]);
    let second = if Chunks::may_bundle_abort(first, length) {
        first_at
            .checked_add(Chunks::second_offset(length))
            .and_then(|at| skb.read(at, &mut raw))
            .and_then(|header| header.first().copied())
    } else {
        None
    };
    Some(Chunks::new(first, second))
}

/// The SCTP handler (C: `ip_vs_protocol_sctp`).
pub(crate) struct Sctp;

impl Protocol for Sctp {
    const NAT_HEADER_LEN: usize = HEADER_LEN;

    fn parse(&self, skb: &Skb<'_>, iph: &IpHeader) -> Option<Transport> {
        let mut raw = [0u8; HEADER_LEN];
        // The lookups need the ports alone (C reads them alone); scheduling and the state
        // need the whole common header and a chunk header after it.
        let (ports, chunks) = match skb.read(iph.transport_offset, &mut raw) {
            Some(&[s0, s1, d0, d1, ..]) => {
                let chunks = iph
                    .transport_offset
                    .checked_add(HEADER_LEN)
                    .and_then(|at| read_chunks(skb, at));
                ([s0, s1, d0, d1], chunks)
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
            control: chunks.map_or(Control::Absent, Control::Sctp),
            // CRC32c has no ones' complement sum to update: the handlers recompute it.
            csum_offset: None,
        })
    }

    fn schedule_check(&self, sysctl: &Sysctls, l4: &Transport) -> ScheduleCheck {
        // Without a chunk header C finds no ports and drops the packet.
        let Some(chunks) = l4.sctp_chunks() else {
            return ScheduleCheck::Drop;
        };
        if sctp_state::may_create_connection(chunks.first, sysctl.enabled(Sysctl::SloppySctp)) {
            ScheduleCheck::Schedule
        } else {
            ScheduleCheck::Pass
        }
    }

    fn is_new_conn(&self, l4: &Transport) -> bool {
        l4.sctp_chunks().is_some_and(|c| c.first == chunk::INIT)
    }

    fn new_conn_expected(&self, conn: &Conn, _reuse_mode: i32) -> bool {
        state_of(conn) == SctpState::Closed
    }

    fn is_reset(&self, l4: &Transport) -> bool {
        // `is_sctp_abort`.
        l4.sctp_chunks().is_some_and(|c| c.first == chunk::ABORT)
    }

    fn state_transition(
        &self,
        _ns: &NetSettings<'_>,
        conn: &Conn,
        direction: Direction,
        l4: &Transport,
    ) {
        // Without a chunk header C leaves the state alone.
        let Some(chunks) = l4.sctp_chunks() else {
            return;
        };
        let table = super::table_direction(conn, direction);
        conn.transition(|current| {
            let current = SctpState::from_index(current as usize).unwrap_or(SctpState::None);
            let new = sctp_state::next_state(table, current, chunks.for_state);
            let timeout = sctp_state::DEFAULT_TIMEOUTS
                .get(new.index())
                .copied()
                .unwrap_or(0);
            (new.index() as u32, new.is_active(), timeout)
        });
        if state_of(conn) == SctpState::Established {
            conn.assure_control();
        }
    }

    fn state_name(&self, state: u32) -> &'static str {
        SctpState::from_index(state as usize).map_or("ERR!", SctpState::name)
    }

    fn dnat_handler(
        &self,
        w: &mut Writable<'_, '_>,
        iph: &IpHeader,
        l4: &Transport,
        conn: &Conn,
        crc_offload: bool,
    ) -> Result {
        // `sctp_dnat_handler`: only what must change is recomputed; a checksum left to a
        // device that cannot compute CRC32c is computed here.
        let partial = w.checksum_partial();
        if l4.dport != conn.dport() || (partial && !crc_offload) {
            let port_at = iph.transport_offset.checked_add(2).ok_or(EINVAL)?;
            w.write(port_at, &conn.dport().to_be_bytes())?;
            if !w.is_gso() {
                w.sctp_update_checksum(iph.transport_offset)?;
            }
        } else if !partial {
            w.set_checksum_unnecessary();
        }
        Ok(())
    }

    fn snat_handler(
        &self,
        w: &mut Writable<'_, '_>,
        iph: &IpHeader,
        l4: &Transport,
        conn: &Conn,
    ) -> Result {
        // `sctp_snat_handler`.
        if l4.sport != conn.vport || w.checksum_partial() {
            w.write(iph.transport_offset, &conn.vport.to_be_bytes())?;
            if !w.is_gso() {
                w.sctp_update_checksum(iph.transport_offset)?;
            }
        } else {
            w.set_checksum_unnecessary();
        }
        Ok(())
    }
}
