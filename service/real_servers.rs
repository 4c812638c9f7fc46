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
use crate::ffi::rcu::{self, ReadSection};
use crate::{
    ffi::rculist::{
        impl_chained,
        Chain, //
        ChainLink,
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
    sync::{
        atomic::Relaxed, //
        Arc,
    },
};

/// `IP_VS_RTAB_BITS`.
const BITS: u32 = 4;
/// `IP_VS_RTAB_SIZE`.
const SIZE: usize = 1 << BITS;

/// A destination on a chain, with the service attributes C copies into it.
struct Entry {
    /// The chain link.
    link: ChainLink,
    /// The destination.
    dest: Arc<Dest>,
    /// Its service's protocol (`dest->protocol`).
    protocol: u16,
    /// Its service's firewall mark (`dest->vfwmark`).
    fwmark: u32,
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

/// The port `dest` is hashed by as it is now: the control plane unhashes a destination
/// before it changes what it is hashed by.
fn current_hash_port(dest: &Dest) -> Option<u16> {
    hash_port(
        dest.port,
        dest.fwd_method.load(Relaxed),
        u8::try_from(dest.tun_type.load(Relaxed)).ok()?,
        u16::try_from(dest.tun_port.load(Relaxed)).ok()?,
    )
}

/// A destination's entry, allocated before the change that publishes it
/// ([`RealServers::prepare`], [`RealServers::publish`]), so that publishing cannot fail.
pub(crate) struct Prepared {
    /// The chain and the entry, if the destination is hashed.
    entry: Option<(usize, Arc<Entry>)>,
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
                dest: dest.clone(),
                protocol: service.protocol,
                fwmark: service.fwmark,
            },
            GFP_KERNEL,
        )?;
        Ok(Prepared {
            entry: Some((bucket(dest.af, &dest.addr, port), entry)),
        })
    }

    /// Hashes a prepared entry; the caller holds the control mutex and unhashed the
    /// destination before, if it was hashed.
    pub(crate) fn publish(&self, prepared: Prepared) {
        if let Some((index, entry)) = prepared.entry {
            if let Some(chain) = self.chains.get(index) {
                // A new entry is on no chain: this cannot fail.
                let _ = chain.push_front(entry);
            }
        }
    }

    /// Unhashes `dest` (`ip_vs_rs_unhash`), if it is hashed; the caller holds the control
    /// mutex, and `dest` still has the settings it was hashed with. The entry is freed after
    /// a grace period. C unlinks its node at once; this walks the one chain it is on.
    pub(crate) fn remove(&self, dest: &Arc<Dest>) {
        let Some(chain) =
            current_hash_port(dest).and_then(|port| self.chain(dest.af, &dest.addr, port))
        else {
            return;
        };
        let guard = rcu::read_lock();
        let found = chain
            .iter(&guard)
            .find(|e| Arc::ptr_eq(&e.dest, dest))
            .map(|e| e.counted());
        drop(guard);
        if let Some(entry) = found {
            chain.remove(&entry);
        }
    }

    /// Unhashes every destination (a flush, namespace teardown), in one pass over the chains
    /// where removing them one by one would walk a chain each time.
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
                e.dest.port == port
                    && e.dest.af == af
                    && e.dest.addr == *addr
                    && (e.protocol == u16::from(protocol) || e.fwmark != 0)
                    && e.dest.fwd_method.load(Relaxed) & fwd::MASK == fwd::MASQ
            })
        })
    }

    /// The tunnel destination at `addr` whose tunnel port is `tun_port` (0 for IP-in-IP and
    /// GRE), the most recently hashed first (`ip_vs_find_tunnel`).
    pub(crate) fn find_tunnel(
        &self,
        guard: &ReadSection,
        af: u16,
        addr: &NfInetAddr,
        tun_port: u16,
    ) -> Option<Arc<Dest>> {
        let chain = self.chain(af, addr, tun_port)?;
        chain
            .iter(guard)
            .find(|e| {
                e.dest.tun_port.load(Relaxed) == u32::from(tun_port)
                    && e.dest.af == af
                    && e.dest.addr == *addr
                    && e.dest.fwd_method.load(Relaxed) & fwd::MASK == fwd::TUNNEL
            })
            .map(|e| e.dest.clone())
    }
}
