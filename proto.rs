// SPDX-License-Identifier: GPL-2.0

//! Protocols (C: `struct ip_vs_protocol`): state tables and timeouts of TCP and UDP, plain Rust
//! shared with the host tests.

pub(crate) mod tcp_state;
pub(crate) mod udp_state;
