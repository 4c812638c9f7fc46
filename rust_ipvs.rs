// SPDX-License-Identifier: GPL-2.0

//! rust_ipvs: the IP Virtual Server NAT load balancer, in Rust.
//!
//! The module follows the C IPVS (`net/netfilter/ipvs/`): per network namespace, netfilter hooks
//! at the C priorities hand packets to the request path ([`datapath`]) and the reply path, which look
//! up or schedule connections and transmit them with NAT. All `unsafe` lives in [`ffi`].

use kernel::prelude::*;

mod conn;
mod ctl;
mod datapath;
mod ffi;
mod netns;
mod proto;
mod sched;
mod xmit;

module! {
    type: RustIpvs,
    name: "rust_ipvs",
    authors: ["rust_ipvs developers"],
    description: "IP Virtual Server (NAT load balancer) written in Rust",
    license: "GPL",
    // MODULE_ALIAS_GENL_FAMILY("IPVS"): genetlink loads the module on the family's first use.
    alias: ["net-pf-16-proto-16-family-IPVS"],
}

/// The loaded module: owns the per-network-namespace registration.
///
/// Dropping it (module unload) runs the namespace exit for every namespace, which removes the
/// hooks and frees each namespace's state.
struct RustIpvs {
    /// The "IPVS" generic netlink family; dropped first, so no request outlives the state.
    _genl: ffi::genl::FamilyRegistration,
    /// Per-namespace state for every network namespace, present and future.
    _pernet: ffi::net::PernetRegistration,
    /// Dropped last: waits for the connections' deferred releases (`call_rcu`).
    _releases: ffi::rculist::ReleaseBarrier,
}

impl kernel::Module for RustIpvs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let pernet = ffi::net::PernetRegistration::new()?;
        let genl = ffi::genl::FamilyRegistration::new()?;
        pr_info!("IPVS (Rust) loaded\n");
        Ok(RustIpvs {
            _genl: genl,
            _pernet: pernet,
            _releases: ffi::rculist::ReleaseBarrier,
        })
    }
}

impl Drop for RustIpvs {
    fn drop(&mut self) {
        pr_info!("IPVS (Rust) unloading\n");
    }
}
