// SPDX-License-Identifier: GPL-2.0

//! Host tests of rust_ipvs's pure logic.
//!
//! The scheduler, state-table, persistence and rate-estimator files of the module are compiled
//! here exactly as they are in the kernel crate: the same `sched`, `proto` and `stats` nesting,
//! so `super::` paths inside them resolve alike. The crate is `no_std` like the kernel, which proves those files
//! need nothing beyond `core`; only the tests themselves use `std`.

#![no_std]

#[cfg(test)]
extern crate std;

/// The kernel crate's `sched` module: the files under `../sched`.
///
/// Code that runs in the kernel must not panic: the lints catch indexing, unwrapping and
/// arithmetic that could (run `cargo clippy -p rust_ipvs-host-tests --tests`).
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../sched"]
mod sched {
    pub(crate) mod dest_view;
    pub(crate) mod dh;
    pub(crate) mod fo;
    pub(crate) mod lblc;
    pub(crate) mod lblcr;
    pub(crate) mod lc;
    pub(crate) mod mh;
    pub(crate) mod nq;
    pub(crate) mod ovf;
    pub(crate) mod persist;
    pub(crate) mod rr;
    pub(crate) mod sed;
    pub(crate) mod sh;
    pub(crate) mod twos;
    pub(crate) mod wlc;
    pub(crate) mod wrr;
}

/// The kernel crate's `proto` module: the files under `../proto`, under the same lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../proto"]
mod proto {
    pub(crate) mod sctp_state;
    pub(crate) mod tcp_state;
    pub(crate) mod udp_state;
}

/// The kernel crate's `stats` module, for its pure-logic file, under the same lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../stats"]
mod stats {
    pub(crate) mod estimator;
}

/// The kernel crate's `hash` module: the tuple hash and the table sizing rule, under the same
/// lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../hash"]
mod hash {
    #[allow(
        dead_code,
        reason = "the tests use the sizing rule and the report only"
    )]
    pub(crate) mod mix;
    pub(crate) mod report;
    pub(crate) mod siphash;
    pub(crate) mod sizing;
}

/// The kernel crate's `conn` module, for its pure-logic file (the expiry wheel's
/// arithmetic), under the same lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../conn"]
mod conn {
    pub(crate) mod wheel;
}

/// The kernel crate's `defense` module, for its pure-logic file, under the same lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../defense"]
mod defense {
    pub(crate) mod level;
}

/// The kernel crate's `xmit` module, for its pure-logic file, under the same lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../xmit"]
mod xmit {
    pub(crate) mod encap;
}

/// The kernel crate's `sync` module, for its pure-logic files (the message format and the
/// master's send decision), under the same lints.
#[cfg(test)]
#[warn(
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]
#[path = "../../sync"]
mod sync {
    pub(crate) mod policy;
    pub(crate) mod wire;
}

/// The kernel crate's `uapi` module: the ABI constants the pure-logic files use.
#[cfg(test)]
#[allow(
    dead_code,
    reason = "the whole ABI is mirrored; the tests use a few values"
)]
#[path = "../../uapi.rs"]
mod uapi;

#[cfg(test)]
mod support;
#[cfg(test)]
mod sync_tests;

#[cfg(test)]
mod c_models;
#[cfg(test)]
mod defense_tests;
#[cfg(test)]
mod encap_tests;
#[cfg(test)]
mod estimator_tests;
#[cfg(test)]
mod lblc_tests;
#[cfg(test)]
mod mh_tests;
#[cfg(test)]
mod persist_tests;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod rr_tests;
#[cfg(test)]
mod sched_tests;
#[cfg(test)]
mod sctp_state_tests;
#[cfg(test)]
mod sh_tests;
#[cfg(test)]
mod siphash_tests;
#[cfg(test)]
mod sizing_tests;
#[cfg(test)]
mod tcp_state_tests;
#[cfg(test)]
mod udp_state_tests;
#[cfg(test)]
mod wheel_tests;
#[cfg(test)]
mod wlc_tests;
#[cfg(test)]
mod wrr_tests;
