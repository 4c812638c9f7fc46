// SPDX-License-Identifier: GPL-2.0

//! UDP (C: `ip_vs_proto_udp.c`): header parsing and the one-state transition of
//! [`super::udp_state`].

use super::{
    tcp_state::Direction,
    udp_state::{
        self, //
        UdpState,
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
    sysctl::Sysctls,
};

/// Length of the UDP header.
const HEADER_LEN: usize = 8;
/// Offset of the checksum in the UDP header.
const CSUM_OFFSET: usize = 6;

/// The UDP handler (C: `ip_vs_protocol_udp`).
pub(crate) struct Udp;

impl Protocol for Udp {
    const NAT_HEADER_LEN: usize = HEADER_LEN;
    const ZERO_CHECKSUM_IS_NONE: bool = true;

    #[inline]
    fn parse(&self, skb: &Skb<'_>, iph: &IpHeader) -> Option<Transport> {
        let mut raw = [0u8; HEADER_LEN];
        // C reads the ports alone (`skb_header_pointer` of two ports) to schedule and look up;
        // without the checksum field there is no checksum to update (and NAT drops the
        // packet, whose header cannot be made writable).
        let (ports, complete) = match skb.read(iph.transport_offset, &mut raw) {
            Some(&[s0, s1, d0, d1, ..]) => ([s0, s1, d0, d1], true),
            _ => {
                let mut raw = [0u8; 4];
                match skb.read(iph.transport_offset, &mut raw) {
                    Some(&[s0, s1, d0, d1]) => ([s0, s1, d0, d1], false),
                    _ => return None,
                }
            }
        };
        let [s0, s1, d0, d1] = ports;
        Some(Transport {
            sport: u16::from_be_bytes([s0, s1]),
            dport: u16::from_be_bytes([d0, d1]),
            control: Control::Absent,
            // A checksum of 0 (none computed) is computed in full by the NAT handlers.
            csum_offset: complete
                .then(|| iph.transport_offset.checked_add(CSUM_OFFSET))
                .flatten(),
        })
    }

    fn schedule_check(&self, _sysctl: &Sysctls, _l4: &Transport) -> ScheduleCheck {
        ScheduleCheck::Schedule
    }

    fn one_packet_scheduling(&self) -> bool {
        true
    }

    fn state_transition(
        &self,
        ns: &NetSettings<'_>,
        conn: &Conn,
        direction: Direction,
        _l4: &Transport,
    ) {
        if udp_state::assures_template(direction) {
            conn.assure_control();
        }
        let timeout = ns.timeouts.udp();
        conn.transition(|_| (UdpState::Normal.index() as u32, false, timeout));
    }

    fn state_name(&self, _state: u32) -> &'static str {
        UdpState::Normal.name()
    }
}
