// SPDX-License-Identifier: GPL-2.0

//! The UDP state (`proto/udp_state.rs`) against `ip_vs_proto_udp.c`.

use crate::proto::{
    tcp_state::Direction, //
    udp_state::{
        assures_template, //
        UdpState,
        DEFAULT_TIMEOUTS,
    },
};

#[test]
fn one_state_named_udp() {
    assert_eq!(UdpState::COUNT, 1);
    assert_eq!(UdpState::Normal.index(), 0);
    assert_eq!(UdpState::Normal.name(), "UDP");
}

#[test]
fn five_minute_timeout() {
    assert_eq!(DEFAULT_TIMEOUTS, [300]);
}

#[test]
fn replies_assure_the_template() {
    assert!(assures_template(Direction::Output));
    assert!(!assures_template(Direction::Input));
    assert!(!assures_template(Direction::InputOnly));
}
