// SPDX-License-Identifier: GPL-2.0

//! The binding layer: the only code in rust_ipvs with `unsafe`.
//!
//! `shim.c` holds the C objects the kernel's `bindings` crate cannot reach (the netfilter hook
//! table, the pernet operations) and one-line wrappers of static inline functions; the modules
//! here wrap them, and the C-facing callbacks, in safe types.

pub(crate) mod gc;
pub(crate) mod genl;
pub(crate) mod net;
pub(crate) mod netfilter;
pub(crate) mod proc;
pub(crate) mod rcu;
pub(crate) mod rculist;
mod shim;
pub(crate) mod skb;
pub(crate) mod sysctl;
