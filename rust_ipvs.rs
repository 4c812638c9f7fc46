// SPDX-License-Identifier: GPL-2.0

//! rust_ipvs: the IP Virtual Server load balancer, in Rust.
//!
//! The module follows the C IPVS (`net/netfilter/ipvs/`). Per network namespace
//! ([`pernet::NetState`]), netfilter hooks at the C priorities hand packets to the packet path
//! ([`datapath`]): the request path looks up or schedules a connection ([`conn`], [`sched`])
//! and sends it with its transmitter ([`xmit`]); the reply path rewrites the real server's
//! answers back. Protocols ([`proto`]) parse and track the transport. The control plane
//! ([`ctl`]) changes services ([`service`]) over generic netlink and shows them in /proc. All
//! `unsafe` lives in [`ffi`], which knows none of this: the namespace state implements its
//! callback traits.

use kernel::prelude::*;

mod conn;
mod ctl;
mod datapath;
mod defense;
mod ffi;
mod hash;
mod netns;
mod packet;
mod pernet;
mod proto;
mod sched;
mod service;
mod stats;
mod sync;
mod sysctl;
#[allow(
    dead_code,
    reason = "the whole ABI is mirrored; not every value is used"
)]
mod uapi;
mod xmit;

module! {
    type: RustIpvs,
    name: "rust_ipvs",
    authors: ["rust_ipvs developers"],
    description: "IP Virtual Server (load balancer) written in Rust",
    license: "GPL",
    // MODULE_ALIAS_GENL_FAMILY("IPVS"): genetlink loads the module on the family's first use.
    alias: ["net-pf-16-proto-16-family-IPVS"],
    params: {
        conn_tab_bits: i32 {
            default: 12,
            description: "Set connections' hash size",
        },
    },
}

/// The largest connection table a namespace may grow (C: the `conn_tab_bits` module
/// parameter, 8 to 27 and what memory allows; the table starts at 2^8 chains).
pub(crate) fn conn_tab_bits() -> i32 {
    module_parameters::conn_tab_bits.value()
}

// The C entry points of shim.c, for the one per-namespace state type.
ffi::callbacks!(pernet::NetState);

/// The loaded module: owns the per-network-namespace registration.
///
/// Dropping it (module unload) runs the namespace exit for every namespace, which removes the
/// hooks and frees each namespace's state.
struct RustIpvs {
    /// The "IPVS" generic netlink family; dropped first, so no request outlives the state.
    _genl: ffi::genl::FamilyRegistration,
    /// Drops cached routes through devices going down; before the state it reaches goes.
    _netdev: ffi::route_cache::NetdevNotifier,
    /// Per-namespace state for every network namespace, present and future.
    _pernet: ffi::net::PernetRegistration,
    /// Waits for the connections' deferred releases (`call_rcu`).
    _releases: ffi::rculist::ReleaseBarrier,
    /// The connections' slab cache; dropped when every connection is gone.
    _conn_cache: ffi::slab::SlabCacheRegistration<conn::Conn>,
    /// Logs the unload once everything else is gone.
    _unloaded: UnloadLog,
}

/// Logs "ipvs unloaded." when dropped, as C's `ip_vs_cleanup` does at its end.
struct UnloadLog;

impl Drop for UnloadLog {
    fn drop(&mut self) {
        ffi::log::ipvs_info!("ipvs unloaded.\n");
    }
}

impl kernel::Module for RustIpvs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let conn_cache = conn::CONN_CACHE.register(c"rust_ipvs_conn")?;
        let pernet = ffi::net::PernetRegistration::new()?;
        let netdev = ffi::route_cache::NetdevNotifier::register()?;
        let genl = ffi::genl::FamilyRegistration::new()?;
        // What C logs at load (`ip_vs_protocol_init`, `ip_vs_conn_init`, `ip_vs_init`): the
        // largest connection table, of 8-byte chain heads.
        let conn_tab_size = 1u64 << conn::table_limits(conn_tab_bits()).max_bits;
        ffi::log::ipvs_info!("Registered protocols (TCP, UDP, SCTP)\n");
        ffi::log::ipvs_info!(
            "Connection hash table configured (size={conn_tab_size}, memory={}Kbytes)\n",
            conn_tab_size * 8 / 1024
        );
        ffi::log::ipvs_info!("ipvs loaded.\n");
        pr_info!("IPVS (Rust) loaded\n");
        Ok(RustIpvs {
            _genl: genl,
            _netdev: netdev,
            _pernet: pernet,
            _releases: ffi::rculist::ReleaseBarrier,
            _conn_cache: conn_cache,
            _unloaded: UnloadLog,
        })
    }
}

impl Drop for RustIpvs {
    fn drop(&mut self) {
        pr_info!("IPVS (Rust) unloading\n");
    }
}
