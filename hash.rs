// SPDX-License-Identifier: GPL-2.0

//! What the module's hash tables share: the seeded hash of a tuple ([`mix`]) and the sizing
//! rule of C's resizable tables ([`sizing`]). Both are pure logic, tested on the host.

pub(crate) mod mix;
pub(crate) mod sizing;
