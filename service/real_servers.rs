// SPDX-License-Identifier: GPL-2.0

//! The real servers of a namespace's services by address and port (C: `ipvs->rs_table`), for
//! the packet path's lookups that start from a real server rather than a service: whether a
//! packet comes from a NAT real server (`ip_vs_has_real_service`, for `nat_icmp_send`) and
//! which tunnel destination a router's error is about (`ip_vs_find_tunnel`).
//!
//! Sixteen RCU chains as C's, hashed as C's `ip_vs_rs_hashkey`: readers walk one chain without
//! a lock. NAT destinations are hashed by their port, tunnel destinations by their tunnel port
//! (GUE) or 0 (IP-in-IP, GRE); other methods are left out. The control plane, under its
//! mutex, hashes a destination when it joins a service and again when an edit changes what it
//! is hashed by, and unhashes it when it leaves.

use super::{
    Dest, //
    DestConfig,
    ServiceKey,
};
use crate::ffi::rcu::ReadSection;
use crate::{
    ffi::rculist::{
        impl_chained,
        Chain, //
        ChainLink,
        Retired,
    },
    packet::NfInetAddr,
    uapi::{
        self, //
        fwd,
        tun_type,
    },
};
use kernel::{
    alloc::KVBox,
    prelude::*,
    sync::Arc, //
};

/// `IP_VS_RTAB_BITS`.
const BITS: u32 = 4;
/// `IP_VS_RTAB_SIZE`.
const SIZE: usize = 1 << BITS;

/// A destination on a chain: what C's lookups compare of it (`dest->af`, `addr`, `port`, its
/// method and tunnel, and the service's `protocol` and `vfwmark` C copies into it). These do
/// not change while the entry is on its chain: an edit of the method or the tunnel hashes the
/// destination again, with a new entry.
struct Entry {
    /// The chain link.
    link: ChainLink,
    /// The destination's address family.
    af: u16,
    /// Its address.
    addr: NfInetAddr,
    /// Its port.
    port: u16,
    /// Its service's protocol (`dest->protocol`).
    protocol: u16,
    /// Its service's firewall mark (`dest->vfwmark`).
    fwmark: u32,
    /// Its forwarding method (`IP_VS_DFWD_METHOD`).
    fwd_method: u32,
    /// Its tunnel type.
    tun_type: u8,
    /// Its tunnel port.
    tun_port: u16,
}

impl_chained!(Entry, link);

/// The port a destination on `port` with method `fwd_method` and tunnel `tun_type` and
/// `tun_port` is hashed by, if it is hashed (`ip_vs_rs_hash`).
fn hash_port(port: u16, fwd_method: u32, tun: u8, tun_port: u16) -> Option<u16> {
    match fwd_method & fwd::MASK {
        fwd::MASQ => Some(port),
        fwd::TUNNEL => match tun {
            tun_type::GUE => Some(tun_port),
            tun_type::IPIP | tun_type::GRE => Some(0),
            _ => None,
        },
        _ => None,
    }
}

/// A destination's entry, allocated before the change that publishes it
/// ([`RealServers::prepare`], [`RealServers::publish`]), so that publishing cannot fail.
pub(crate) struct Prepared {
    /// Where it goes, if the destination is hashed.
    entry: Option<Hashed>,
}

/// Where a destination is hashed: its chain and its entry there. The destination keeps it
/// ([`Dest::hashed`]) so that unhashing takes the entry off its chain at once, as C's
/// `hlist_del_rcu` of `dest->d_list`, without a walk of the chain (all the real servers on
/// one address and port share one).
pub(crate) struct Hashed {
    /// The chain's index.
    chain: usize,
    /// The entry on it.
    entry: Arc<Entry>,
}

/// The chain of `addr:port` (`ip_vs_rs_hashkey`): an IPv6 address folded to a word first.
pub(crate) fn bucket(af: u16, addr: &NfInetAddr, port: u16) -> usize {
    let word = |i: usize| {
        let b = |j: usize| addr.get(i * 4 + j).copied().unwrap_or(0);
        u32::from_be_bytes([b(0), b(1), b(2), b(3)])
    };
    let fold = if af == uapi::AF_INET6 {
        word(0) ^ word(1) ^ word(2) ^ word(3)
    } else {
        word(0)
    };
    let port = u32::from(port);
    ((fold ^ (port >> BITS) ^ port) as usize) & (SIZE - 1)
}

/// Entries taken off their chains, released by batches after a grace period (C's unhash
/// frees nothing: the destination waits in the trash). Kept by the control plane, under its
/// mutex.
pub(crate) struct RetiredEntries(Retired<Entry>);

impl RetiredEntries {
    /// None pending.
    pub(crate) const fn new() -> Self {
        RetiredEntries(Retired::new())
    }

    /// Queues the release of the pending entries after a grace period.
    pub(crate) fn release(&mut self) {
        self.0.release();
    }
}

/// A namespace's real-server table.
pub(crate) struct RealServers {
    /// The chains, [`SIZE`] of them.
    chains: Pin<KVBox<[Chain<Entry>]>>,
}

impl RealServers {
    /// An empty table.
    pub(crate) fn new() -> Result<Self> {
        Ok(RealServers {
            chains: KVBox::pin_slice(|_| Chain::new(), SIZE, GFP_KERNEL)?,
        })
    }

    /// The chain of `addr:port`.
    fn chain(&self, af: u16, addr: &NfInetAddr, port: u16) -> Option<&Chain<Entry>> {
        self.chains.get(bucket(af, addr, port))
    }

    /// Allocates the entry of `dest`, of the service `service`, as `config` will have it
    /// hashed (`ip_vs_rs_hash`, which C cannot fail: the allocation comes first here).
    pub(crate) fn prepare(
        &self,
        dest: &Arc<Dest>,
        config: &DestConfig,
        service: &ServiceKey,
    ) -> Result<Prepared> {
        let Some(port) = hash_port(
            dest.port,
            config.fwd_method,
            config.tun_type,
            config.tun_port,
        ) else {
            return Ok(Prepared { entry: None });
        };
        let entry = Arc::new(
            Entry {
                link: ChainLink::new(),
                af: dest.af,
                addr: dest.addr,
                port: dest.port,
                protocol: service.protocol,
                fwmark: service.fwmark,
                fwd_method: config.fwd_method & fwd::MASK,
                tun_type: config.tun_type,
                tun_port: config.tun_port,
            },
            GFP_KERNEL,
        )?;
        Ok(Prepared {
            entry: Some(Hashed {
                chain: bucket(dest.af, &dest.addr, port),
                entry,
            }),
        })
    }

    /// Hashes `dest` with its prepared entry; the caller holds the control mutex and unhashed
    /// the destination before, if it was hashed.
    pub(crate) fn publish(&self, dest: &Dest, prepared: Prepared) {
        let Some(hashed) = prepared.entry else {
            return;
        };
        let Some(chain) = self.chains.get(hashed.chain) else {
            return;
        };
        // A new entry is on no chain: this cannot fail.
        let _ = chain.push_front(hashed.entry.clone());
        *dest.hashed.lock() = Some(hashed);
    }

    /// Unhashes `dest` (`ip_vs_rs_unhash`), if it is hashed; the caller holds the control
    /// mutex. The entry is freed after a grace period, with the others `retired` holds.
    pub(crate) fn remove(&self, dest: &Dest, retired: &mut RetiredEntries) {
        let Some(hashed) = dest.hashed.lock().take() else {
            return;
        };
        if let Some(chain) = self.chains.get(hashed.chain) {
            chain.retire(&hashed.entry, &mut retired.0);
        }
    }

    /// Forgets where `dest` was hashed, after [`RealServers::clear`] took every entry off its
    /// chain.
    pub(crate) fn forget(&self, dest: &Dest) {
        drop(dest.hashed.lock().take());
    }

    /// Unhashes every destination (a flush, namespace teardown), in one pass over the chains
    /// that releases their entries by batches; the caller then [`RealServers::forget`]s each
    /// destination's entry.
    pub(crate) fn clear(&self) {
        for chain in self.chains.iter() {
            chain.clear();
        }
    }

    /// Whether `addr:port` is a NAT real server of a service of `protocol`, or of a firewall
    /// mark service (`ip_vs_has_real_service`).
    pub(crate) fn has_real_service(
        &self,
        guard: &ReadSection,
        af: u16,
        protocol: u8,
        addr: &NfInetAddr,
        port: u16,
    ) -> bool {
        self.chain(af, addr, port).is_some_and(|chain| {
            chain.iter(guard).any(|e| {
                e.port == port
                    && e.af == af
                    && e.addr == *addr
                    && (e.protocol == u16::from(protocol) || e.fwmark != 0)
                    && e.fwd_method == fwd::MASQ
            })
        })
    }

    /// The tunnel type of the tunnel destination at `addr` whose tunnel port is `tun_port` (0
    /// for IP-in-IP and GRE), the most recently hashed first (`ip_vs_find_tunnel`, whose
    /// callers then check the type).
    pub(crate) fn find_tunnel(
        &self,
        guard: &ReadSection,
        af: u16,
        addr: &NfInetAddr,
        tun_port: u16,
    ) -> Option<u8> {
        let chain = self.chain(af, addr, tun_port)?;
        chain
            .iter(guard)
            .find(|e| {
                e.tun_port == tun_port
                    && e.af == af
                    && e.addr == *addr
                    && e.fwd_method == fwd::TUNNEL
            })
            .map(|e| e.tun_type)
    }
}
