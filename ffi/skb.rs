// SPDX-License-Identifier: GPL-2.0

//! Socket buffers on the packet path: bounded reads, writes and checksum updates of an skb the
//! running hook owns, route lookup and transmit.
//!
//! Reads copy header bytes out with `skb_copy_bits`, which handles non-linear (paged) skbs and
//! fails instead of reading past the end; writes go through `skb_ensure_writable` and
//! `skb_store_bits`.

use super::{
    net::Net, //
    shim,
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    error::{
        from_err_ptr, //
        to_result,
    },
    ffi::{
        c_int, //
        c_uint,
        c_void,
    },
    prelude::*,
};

/// `PACKET_HOST`: addressed to this host.
pub(crate) const PACKET_HOST: u8 = 0;

/// An skb owned by the running netfilter hook.
///
/// # Invariants
///
/// `skb` is valid and owned by the hook for `'a`; it is not shared with another context.
pub(crate) struct Skb<'a> {
    /// The packet.
    skb: *mut bindings::sk_buff,
    /// Borrowed from the hook invocation.
    _hook: PhantomData<&'a mut ()>,
}

impl<'a> Skb<'a> {
    /// Wraps the skb of a hook invocation.
    ///
    /// # Safety
    ///
    /// `skb` is the packet netfilter passed to the running hook, valid for `'a`.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Self {
        // INVARIANT: the caller passes the hook's own skb.
        Skb {
            skb,
            _hook: PhantomData,
        }
    }

    /// `skb->len`: bytes from the network header on, at the IPv4 hooks.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_len(self.skb) }
    }

    /// Offset of the network header from `skb->data`.
    pub(crate) fn network_offset(&self) -> Option<usize> {
        // SAFETY: `skb` is valid (type invariant).
        usize::try_from(unsafe { shim::rust_ipvs_skb_network_offset(self.skb) }).ok()
    }

    /// Copies `buf.len()` bytes at `offset` (from `skb->data`) into `buf`; `None` if the packet
    /// is shorter (`skb_header_pointer`).
    pub(crate) fn read<'b>(&self, offset: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let off = c_int::try_from(offset).ok()?;
        let len = c_int::try_from(buf.len()).ok()?;
        // SAFETY: `skb` is valid (type invariant) and `buf` is writable for `len` bytes;
        // `skb_copy_bits` checks the range against the packet.
        let ret = unsafe {
            bindings::skb_copy_bits(self.skb, off, buf.as_mut_ptr().cast::<c_void>(), len)
        };
        (ret == 0).then_some(&*buf)
    }

    /// Makes the first `len` bytes private and linear, for writing (`skb_ensure_writable`).
    pub(crate) fn make_writable(&mut self, len: usize) -> Result {
        let len = c_uint::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is valid and owned by the hook (type invariant).
        to_result(unsafe { bindings::skb_ensure_writable(self.skb, len) })
    }

    /// Writes `data` at `offset` (`skb_store_bits`); the range must be writable.
    pub(crate) fn write(&mut self, offset: usize, data: &[u8]) -> Result {
        let off = c_int::try_from(offset).map_err(|_| EINVAL)?;
        let len = c_int::try_from(data.len()).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is owned by the hook (type invariant); `skb_store_bits` checks the
        // range and `data` is readable for `len` bytes.
        to_result(unsafe {
            bindings::skb_store_bits(self.skb, off, data.as_ptr().cast::<c_void>(), len)
        })
    }

    /// Updates the L4 checksum at `csum_offset` for a 4-byte field change, including the
    /// pseudo-header when `pseudo` (`inet_proto_csum_replace4`). The checksum must lie inside
    /// the range made writable.
    pub(crate) fn csum_replace4(
        &mut self,
        csum_offset: usize,
        from: [u8; 4],
        to: [u8; 4],
        pseudo: bool,
    ) {
        if let Ok(off) = c_uint::try_from(csum_offset) {
            if csum_offset.saturating_add(2) <= self.len() as usize {
                // SAFETY: the checksum field lies in the writable, linear part (caller
                // contract, bounds checked against the length above).
                unsafe {
                    shim::rust_ipvs_l4_csum_replace4(
                        self.skb,
                        off,
                        u32::from_ne_bytes(from),
                        u32::from_ne_bytes(to),
                        pseudo,
                    )
                };
            }
        }
    }

    /// Updates the L4 checksum at `csum_offset` for a 2-byte field change.
    pub(crate) fn csum_replace2(&mut self, csum_offset: usize, from: [u8; 2], to: [u8; 2]) {
        if let Ok(off) = c_uint::try_from(csum_offset) {
            if csum_offset.saturating_add(2) <= self.len() as usize {
                // SAFETY: as in `csum_replace4`.
                unsafe {
                    shim::rust_ipvs_l4_csum_replace2(
                        self.skb,
                        off,
                        u16::from_ne_bytes(from),
                        u16::from_ne_bytes(to),
                    )
                };
            }
        }
    }

    /// Whether the checksum of the bytes from `offset` on is correct (`skb_csum_unnecessary`
    /// or `ip_vs_checksum_complete`).
    pub(crate) fn checksum_ok(&mut self, offset: usize) -> bool {
        let Ok(off) = c_uint::try_from(offset) else {
            return false;
        };
        if offset > self.len() as usize {
            return false;
        }
        // SAFETY: `skb` is owned by the hook (type invariant); the range is checked above and
        // `skb_checksum` walks paged data itself.
        unsafe { shim::rust_ipvs_skb_csum_ok(self.skb, off) }
    }

    /// Recomputes the ICMP checksum of the ICMP header at `offset`, which must lie in the
    /// writable part (`ip_vs_nat_icmp`).
    pub(crate) fn icmp_update_checksum(&mut self, offset: usize) {
        if let Ok(off) = c_uint::try_from(offset) {
            if offset.saturating_add(4) <= self.len() as usize {
                // SAFETY: the header is writable (caller contract) and inside the packet.
                unsafe { shim::rust_ipvs_icmp_update_csum(self.skb, off) };
            }
        }
    }

    /// Recomputes the IPv4 header checksum; the header must be writable.
    pub(crate) fn ip_send_check(&mut self) {
        // SAFETY: the header is writable (caller contract) and the skb owned (invariant).
        unsafe { shim::rust_ipvs_ip_send_check(self.skb) };
    }

    /// Already handled by IPVS (`skb->ipvs_property`).
    pub(crate) fn ipvs_property(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_ipvs_property(self.skb) }
    }

    /// Marks the packet as handled by IPVS.
    pub(crate) fn set_ipvs_property(&mut self) {
        // SAFETY: `skb` is owned by the hook (type invariant).
        unsafe { shim::rust_ipvs_skb_set_ipvs_property(self.skb) };
    }

    /// `skb->pkt_type`.
    pub(crate) fn pkt_type(&self) -> u8 {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_pkt_type(self.skb) }
    }

    /// The packet has a route attached.
    pub(crate) fn has_dst(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_has_dst(self.skb) }
    }

    /// Sent by this host (no device, or loopback).
    pub(crate) fn is_from_local(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_from_local(self.skb) }
    }

    /// `skb->mark`.
    pub(crate) fn mark(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_mark(self.skb) }
    }

    /// The packet's conntrack entry is confirmed (`ip_vs_conn_uses_old_conntrack`).
    pub(crate) fn conntrack_confirmed(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_ct_confirmed(self.skb) }
    }

    /// Detaches conntrack (`ip_vs_notrack`).
    pub(crate) fn notrack(&mut self) {
        // SAFETY: `skb` is owned by the hook (type invariant).
        unsafe { shim::rust_ipvs_skb_notrack(self.skb) };
    }

    /// Points an unconfirmed conntrack entry's reply direction at `addr:port` (network order
    /// address, host order port): the source when `outin`, else the destination.
    pub(crate) fn conntrack_alter_reply(&mut self, outin: bool, addr: [u8; 4], port: u16) {
        // SAFETY: `skb` is owned by the hook (type invariant); the conntrack entry is only
        // changed while unconfirmed, i.e. not yet visible to other CPUs.
        unsafe {
            shim::rust_ipvs_ct_alter_reply(self.skb, outin, u32::from_ne_bytes(addr), port.to_be())
        };
    }

    /// Attaches `route` to the packet (the end of `__ip_vs_get_out_rt`).
    pub(crate) fn set_route(&mut self, route: Route) {
        let rt = route.rt;
        core::mem::forget(route);
        // SAFETY: the skb is owned by the hook (type invariant) and `rt` a held route whose
        // reference passes to the skb (`route` is forgotten, so it is not put twice).
        unsafe { shim::rust_ipvs_skb_set_rt(self.skb, rt) };
    }

    /// Tells the sender its destination is unreachable (`dst_link_failure`, the `err_unreach`
    /// of `__ip_vs_get_out_rt`).
    pub(crate) fn link_failure(&mut self) {
        // SAFETY: the skb is owned by the hook (type invariant); at LOCAL_IN and LOCAL_OUT,
        // where the request path transmits, it has a route, which `dst_link_failure` reads.
        unsafe { shim::rust_ipvs_dst_link_failure(self.skb) };
    }

    /// Whether the packet is too big for `mtu` (`ip_vs_exceeds_mtu`).
    pub(crate) fn exceeds_mtu(&self, mtu: u32) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_exceeds_mtu(self.skb, mtu) }
    }

    /// Re-routes a reply leaving at FORWARD or LOCAL_OUT (`ip_vs_route_me_harder`).
    pub(crate) fn route_me_harder(&mut self, net: &Net) -> Result {
        // SAFETY: `net` is alive and the skb owned by the hook (invariants).
        to_result(unsafe { shim::rust_ipvs_route_me_harder(net.as_ptr(), self.skb) })
    }

    /// Sends an ICMP error about this packet (`icmp_send`).
    pub(crate) fn icmp_send(&mut self, ty: u8, code: u8) {
        self.icmp_send_info(ty, code, 0);
    }

    /// Sends an ICMP error about this packet with `info` (host order) in the ICMP header's
    /// second word, for example the next-hop MTU of "fragmentation needed".
    pub(crate) fn icmp_send_info(&mut self, ty: u8, code: u8, info: u32) {
        // SAFETY: `skb` is valid (type invariant); icmp_send only reads it.
        unsafe {
            shim::rust_ipvs_icmp_send(self.skb, c_int::from(ty), c_int::from(code), info.to_be())
        };
    }

    /// Sends the packet through LOCAL_OUT to its attached route; the hook must then return
    /// [`super::netfilter::Verdict::Stolen`].
    pub(crate) fn send_local_out(self, net: &Net) {
        // SAFETY: the skb is owned by the hook and has an output route (`set_route`);
        // ownership passes to the stack, and `self` is consumed so it is not used again.
        unsafe { shim::rust_ipvs_send_local_out(net.as_ptr(), self.skb) };
    }
}

/// A held output route (`struct rtable`), released when dropped unless attached to a packet
/// with [`Skb::set_route`].
///
/// # Invariants
///
/// `rt` is a valid route this value holds one reference to.
pub(crate) struct Route {
    /// The route.
    rt: *mut shim::RtTable,
}

impl Route {
    /// Looks up the route to `daddr` in `net` (`do_output_route4`).
    pub(crate) fn output(net: &Net, daddr: [u8; 4]) -> Result<Self> {
        // SAFETY: `net` is alive (its invariant).
        let rt = unsafe { shim::rust_ipvs_route_output(net.as_ptr(), u32::from_ne_bytes(daddr)) };
        // INVARIANT: a route that is not an error pointer comes with a reference.
        Ok(Route {
            rt: from_err_ptr(rt)?,
        })
    }

    /// Whether the route delivers to this host (`RTCF_LOCAL`).
    pub(crate) fn is_local(&self) -> bool {
        // SAFETY: `rt` is valid (type invariant).
        unsafe { shim::rust_ipvs_rt_is_local(self.rt) }
    }

    /// The route's MTU (`dst_mtu`).
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: `rt` is valid (type invariant).
        unsafe { shim::rust_ipvs_rt_mtu(self.rt) }
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        // SAFETY: this value holds a reference (type invariant), released once here.
        unsafe { shim::rust_ipvs_rt_put(self.rt) };
    }
}
