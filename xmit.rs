// SPDX-License-Identifier: GPL-2.0

//! Transmitters (C: `ip_vs_xmit.c`): NAT only.

pub(crate) mod nat;
