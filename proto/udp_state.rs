// SPDX-License-Identifier: GPL-2.0

//! The UDP "state machine" of IPVS (C: `ip_vs_proto_udp.c`): one state, whose timeout every
//! packet restarts.

use super::tcp_state::Direction;

/// The state of a UDP connection (C: `IP_VS_UDP_S_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum UdpState {
    /// `IP_VS_UDP_S_NORMAL`, the only state.
    Normal = 0,
}

impl UdpState {
    /// The number of states (`IP_VS_UDP_S_LAST`).
    pub(crate) const COUNT: usize = 1;

    /// The state's index into per-state tables such as [`DEFAULT_TIMEOUTS`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The state's name in `/proc/net/ip_vs_conn` (`udp_state_name()`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            UdpState::Normal => "UDP",
        }
    }
}

/// The default timeout of each state in seconds, indexed by [`UdpState::index`] (`udp_timeouts`).
///
/// `IPVS_CMD_SET_CONFIG` changes it per network namespace.
pub(crate) const DEFAULT_TIMEOUTS: [u32; UdpState::COUNT] = [5 * 60];

/// Whether a packet in `direction` marks the connection's template as assured
/// (`udp_state_transition` calls `ip_vs_control_assure_ct()` for replies).
pub(crate) fn assures_template(direction: Direction) -> bool {
    direction == Direction::Output
}
