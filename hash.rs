// SPDX-License-Identifier: GPL-2.0

//! What the module's hash tables share: the seeded hash of a tuple for the tables the control
//! plane fills ([`mix`]), the keyed SipHash of the connection table, which clients fill
//! ([`siphash`]), the sizing rule of C's resizable tables ([`sizing`]) and their chain-length
//! report ([`report`]). All are pure logic, tested on the host.

pub(crate) mod mix;
pub(crate) mod report;
pub(crate) mod siphash;
pub(crate) mod sizing;
