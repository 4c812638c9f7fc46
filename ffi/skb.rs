// SPDX-License-Identifier: GPL-2.0

//! Socket buffers on the packet path: bounded reads, writes and checksum updates of an skb the
//! running hook owns, route lookup and transmit.
//!
//! Reads copy header bytes out with `skb_copy_bits`, which handles non-linear (paged) skbs and
//! fails instead of reading past the end; writes go through `skb_ensure_writable` and
//! `skb_store_bits`.

use super::rcu::ReadSection;
use super::{
    errno_result,
    net::Net, //
    netfilter::HookPoint,
    shim,
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{
        c_int, //
        c_uint,
        c_void,
    },
    prelude::*,
};

/// `PACKET_HOST`: addressed to this host.
pub(crate) const PACKET_HOST: u8 = 0;

/// The packet facts every hook checks first, which the C hook entry reads with the packet
/// (`rust_ipvs_skb_hook_flags`: bit fields the bindings do not reach, read inline there
/// rather than by a call per hook).
#[derive(Clone, Copy)]
pub(crate) struct HookFlags {
    /// `skb->pkt_type`.
    pub(crate) pkt_type: u8,
    /// IPVS handled the packet already (`skb->ipvs_property`).
    pub(crate) ipvs_property: bool,
    /// The packet has a route attached.
    pub(crate) has_dst: bool,
}

impl HookFlags {
    /// The flags as the C hook entry packs them: `pkt_type` in the low byte, then
    /// `ipvs_property` and whether a route is attached.
    #[inline]
    pub(crate) fn from_raw(raw: u32) -> Self {
        HookFlags {
            pkt_type: (raw & 0xff) as u8,
            ipvs_property: raw & (1 << 8) != 0,
            has_dst: raw & (1 << 9) != 0,
        }
    }
}

/// An skb owned by the running netfilter hook.
///
/// # Invariants
///
/// `skb` is valid and owned by the hook for `'a`; it is not shared with another context. The
/// hook runs inside an RCU read-side section for `'a`.
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
    /// `skb` is the packet netfilter passed to the running hook, valid for `'a`, and the hook
    /// runs inside an RCU read-side section for `'a` (netfilter runs every hook inside one:
    /// `nf_hook` holds `rcu_read_lock` around `nf_hook_slow`, and a queued packet is
    /// reinjected from inside one, as the hook list it walks is itself RCU-protected).
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Self {
        // INVARIANT: the caller passes the hook's own skb, inside the hook's section.
        Skb {
            skb,
            _hook: PhantomData,
        }
    }

    /// The RCU read-side section the hook runs in, for as long as the hook runs.
    #[inline(always)]
    pub(crate) fn rcu(&self) -> &'a ReadSection {
        // SAFETY: the hook runs inside a read-side section for `'a` (type invariant).
        unsafe { ReadSection::assume() }
    }

    /// `skb->len`: bytes from the network header on, at the IPv4 hooks.
    #[inline]
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant); a plain read of its length, as C's.
        unsafe { (*self.skb).len }
    }

    /// Offset of the network header from `skb->data`.
    #[inline]
    pub(crate) fn network_offset(&self) -> Option<usize> {
        // SAFETY: a constant of the shim, never written.
        let at = unsafe { shim::rust_ipvs_skb_network_header_at };
        let skb = self.skb;
        // SAFETY: `skb` is valid (type invariant) and `at` is the offset of its `u16`
        // `network_header` (the shim's constant); `head` and `data` are plain fields.
        let (head, data, header) = unsafe {
            (
                (*skb).head,
                (*skb).data,
                skb.cast::<u8>().add(at).cast::<u16>().read(),
            )
        };
        // `skb_network_offset`: `skb->head + skb->network_header - skb->data`, None if
        // negative.
        head.addr()
            .wrapping_add(usize::from(header))
            .checked_sub(data.addr())
    }

    /// Copies `buf.len()` bytes at `offset` (from `skb->data`) into `buf`; `None` if the packet
    /// is shorter (`skb_header_pointer`).
    #[inline(always)]
    pub(crate) fn read<'b>(&self, offset: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        // The linear part first, copied inline (`skb_header_pointer`'s fast path): the packet
        // path reads headers many times per packet.
        if offset
            .checked_add(buf.len())
            .is_some_and(|end| end <= self.linear_len())
        {
            // `skb` is valid (type invariant) and its first `linear_len()` bytes from `data`
            // are its linear head, which the range lies in (checked); `buf` is writable for
            // its length and, a Rust buffer, does not overlap the packet.
            // SAFETY: both ranges are valid and disjoint (above).
            unsafe {
                let data = (*self.skb).data;
                core::ptr::copy_nonoverlapping(data.add(offset), buf.as_mut_ptr(), buf.len());
            }
            return Some(&*buf);
        }
        let off = c_int::try_from(offset).ok()?;
        let len = c_int::try_from(buf.len()).ok()?;
        // SAFETY: `skb` is valid (type invariant) and `buf` is writable for `len` bytes;
        // `skb_copy_bits` checks the range against the packet.
        let ret = unsafe {
            bindings::skb_copy_bits(self.skb, off, buf.as_mut_ptr().cast::<c_void>(), len)
        };
        (ret == 0).then_some(&*buf)
    }

    /// Bytes of the packet in its linear head from `skb->data` (`skb_headlen`).
    #[inline]
    fn linear_len(&self) -> usize {
        // SAFETY: `skb` is valid (type invariant); plain reads of its lengths.
        let (len, data_len) = unsafe { ((*self.skb).len, (*self.skb).data_len) };
        len.saturating_sub(data_len) as usize
    }

    /// Makes the first `len` bytes (from `skb->data`) private and linear
    /// (`skb_ensure_writable`); the returned view writes within them only.
    #[inline]
    pub(crate) fn make_writable(&mut self, len: usize) -> Result<Writable<'_, 'a>> {
        let raw_len = c_uint::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is valid and owned by the hook (type invariant).
        errno_result(unsafe { bindings::skb_ensure_writable(self.skb, raw_len) })?;
        // INVARIANT: `skb_ensure_writable` succeeded for `len` bytes, and the view borrows the
        // skb mutably, so nothing can share or reallocate its head while the view lives.
        Ok(Writable { skb: self, len })
    }

    /// Whether the checksum of the ICMP (IPv4) or ICMPv6 (`af` IPv6) message at `offset` is
    /// correct, or need not be checked (`ip_vs_checksum_common_check`).
    pub(crate) fn checksum_ok(&mut self, offset: usize, af: u16) -> bool {
        let Ok(off) = c_uint::try_from(offset) else {
            return false;
        };
        if offset > self.len() as usize {
            return false;
        }
        let proto = if af == crate::uapi::AF_INET6 {
            crate::uapi::ipproto::ICMPV6
        } else {
            crate::uapi::ipproto::ICMP
        };
        // SAFETY: `skb` is owned by the hook (type invariant); the range is checked above and
        // `nf_checksum` walks paged data itself.
        unsafe { shim::rust_ipvs_skb_csum_ok(self.skb, off, proto, af) }
    }

    /// The transport checksum is left to the device (`CHECKSUM_PARTIAL`).
    pub(crate) fn checksum_partial(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_csum_partial(self.skb) }
    }

    /// Reassembles the datagram this IPv4 fragment belongs to (`ip_vs_gather_frags` with
    /// the defragmentation user of `hook`): the packet is the whole datagram once its last
    /// fragment arrives; before that (or on error) the fragment is queued or freed and
    /// [`None`] is returned: the hook must return
    /// [`super::netfilter::Verdict::Stolen`].
    pub(crate) fn gather_fragments(self, net: &Net, hook: HookPoint) -> Option<Self> {
        // SAFETY: `net` is alive and the skb owned by the hook (invariants); on a non-zero
        // return the call consumed the skb, and `self` is not returned to be used again.
        let err = unsafe { shim::rust_ipvs_gather_frags(net.as_ptr(), self.skb, hook.to_raw()) };
        (err == 0).then_some(self)
    }

    /// Marks the packet as handled by IPVS.
    pub(crate) fn set_ipvs_property(&mut self) {
        // SAFETY: `skb` is owned by the hook (type invariant).
        unsafe { shim::rust_ipvs_skb_set_ipvs_property(self.skb) };
    }

    /// The packet has a route attached.
    #[inline]
    pub(crate) fn has_dst(&self) -> bool {
        // SAFETY: a constant of the shim, never written.
        let at = unsafe { shim::rust_ipvs_skb_refdst_at };
        // SAFETY: `skb` is valid (type invariant) and `at` is the offset of its `unsigned
        // long` `_skb_refdst` (the shim's constant).
        let refdst = unsafe { self.skb.cast::<u8>().add(at).cast::<usize>().read() };
        // `skb_dst(skb) != NULL`: the pointer without the no-reference bit.
        refdst & !(bindings::SKB_DST_NOREF as usize) != 0
    }

    /// Sent by this host (no device, or loopback).
    pub(crate) fn is_from_local(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_from_local(self.skb) }
    }

    /// `skb->mark`.
    #[inline]
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
    pub(crate) fn conntrack_alter_reply(&mut self, outin: bool, addr: &[u8; 16], port: u16) {
        // `skb` is owned by the hook (type invariant); the conntrack entry is only changed
        // while unconfirmed, i.e. not yet visible to other CPUs; `addr` is readable for the
        // 16 bytes of a `union nf_inet_addr`.
        // SAFETY: an owned skb, an unconfirmed entry, a readable address (above).
        unsafe { shim::rust_ipvs_ct_alter_reply(self.skb, outin, addr, port.to_be()) };
    }

    /// The upper layer of the IPv6 packet whose header is at `offset` (0: the network
    /// header), through the extension headers (`ipv6_find_hdr`): its protocol, its header's
    /// offset, the fragment offset and whether a fragment header was passed;
    /// [`None`] for a malformed chain or no upper layer.
    pub(crate) fn ipv6_upper_layer(&self, offset: usize) -> Option<(u8, usize, u16, bool)> {
        let mut offset = c_uint::try_from(offset).ok()?;
        let mut fragoff: u16 = 0;
        let mut flags: c_int = 0;
        let skb = self.skb;
        // SAFETY: `skb` is valid (type invariant); the call reads headers with
        // `skb_header_pointer` and writes the three locals.
        let found = unsafe { shim::ipv6_find_hdr(skb, &mut offset, -1, &mut fragoff, &mut flags) };
        let protocol = u8::try_from(found).ok()?;
        // `IP6_FH_F_FRAG`.
        let fragment = flags & 1 != 0;
        Some((protocol, usize::try_from(offset).ok()?, fragoff, fragment))
    }

    /// Sends an ICMPv6 error about this packet (`icmpv6_send`), from the address of the
    /// output device of its route when `output_dev` (a hop limit exceeded).
    pub(crate) fn icmpv6_send(&mut self, net: &Net, ty: u8, code: u8, info: u32, output_dev: bool) {
        if output_dev && !self.has_dst() {
            return;
        }
        // SAFETY: `net` is alive and `skb` owned by the hook (invariants); with
        // `output_dev` the packet has a route (checked above), whose device is read.
        unsafe { shim::rust_ipvs_icmpv6_send(net.as_ptr(), self.skb, ty, code, info, output_dev) };
    }

    /// Tells the sender of an IPv6 packet its destination is unreachable (the `err_unreach` of
    /// `__ip_vs_get_out_rt_v6`); nothing for a packet without a route.
    pub(crate) fn link_failure6(&mut self) {
        if !self.has_dst() {
            return;
        }
        // SAFETY: the skb is owned by the hook and has a route (checked above).
        unsafe { shim::rust_ipvs_dst_link_failure6(self.skb) };
    }

    /// Whether the IPv6 packet is too big for `mtu` (`__mtu_check_toobig_v6`).
    pub(crate) fn exceeds_mtu6(&self, mtu: u32) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_exceeds_mtu6(self.skb, mtu) }
    }

    /// Whether the packet's current IPv6 route delivers to this host; `false` without one.
    pub(crate) fn route_is_local6(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant) and has a route (checked first).
        self.has_dst() && unsafe { shim::rust_ipvs_skb_dst_is_local6(self.skb) }
    }

    /// Routes the IPv6 packet again from this host (`ip6_route_me_harder`), unless its route
    /// is local.
    pub(crate) fn route_me_harder6(&mut self, net: &Net) -> Result {
        if !self.has_dst() {
            return Err(EINVAL);
        }
        // SAFETY: `net` is alive and the skb owned by the hook, with a route (checked above).
        errno_result(unsafe { shim::rust_ipvs_route_me_harder6(net.as_ptr(), self.skb) })
    }

    /// Tells the sender its destination is unreachable (`dst_link_failure`, the `err_unreach`
    /// of `__ip_vs_get_out_rt`); nothing for a packet without a route, which names no sender
    /// interface.
    pub(crate) fn link_failure(&mut self) {
        if !self.has_dst() {
            return;
        }
        // SAFETY: the skb is owned by the hook (type invariant) and has a route (checked
        // above), which `dst_link_failure` reads.
        unsafe { shim::rust_ipvs_dst_link_failure(self.skb) };
    }

    /// Whether the packet is too big for `mtu` (`ip_vs_exceeds_mtu`).
    pub(crate) fn exceeds_mtu(&self, mtu: u32) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_exceeds_mtu(self.skb, mtu) }
    }

    /// Re-routes a reply leaving at FORWARD or LOCAL_OUT (`ip_vs_route_me_harder`); EINVAL
    /// for a packet without a route.
    #[inline]
    pub(crate) fn route_me_harder(&mut self, net: &Net) -> Result {
        if !self.has_dst() {
            return Err(EINVAL);
        }
        // SAFETY: `net` is alive and the skb owned by the hook (invariants), with a route
        // (checked above), whose flags the wrapper reads.
        errno_result(unsafe { shim::rust_ipvs_route_me_harder(net.as_ptr(), self.skb) })
    }

    /// Whether the device of the packet's current route computes SCTP CRC32c
    /// (`NETIF_F_SCTP_CRC`); `false` for a packet without a route.
    pub(crate) fn dst_offloads_sctp_crc(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant) and has a route, whose device is read.
        self.has_dst() && unsafe { shim::rust_ipvs_skb_dst_sctp_crc(self.skb) }
    }

    /// Whether the packet's IPv4 route is an input route: it came in from a link
    /// (`rt_is_input_route`); `false` for a packet without a route.
    pub(crate) fn route_is_input(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant) and has a route (checked first).
        self.has_dst() && unsafe { shim::rust_ipvs_skb_rt_is_input(self.skb) }
    }

    /// Whether the packet's current route delivers to this host (`RTCF_LOCAL`); `false` for
    /// a packet without a route.
    pub(crate) fn route_is_local(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant) and has a route, whose flags are read.
        self.has_dst() && unsafe { shim::rust_ipvs_skb_rt_is_local(self.skb) }
    }

    /// Lowers the path MTU a local sender's route knows to `mtu`, the tunnel's
    /// (`maybe_update_pmtu`); nothing for a forwarded packet.
    pub(crate) fn update_local_pmtu(&mut self, mtu: u32) {
        if !self.has_dst() {
            return;
        }
        // SAFETY: `skb` is owned by the hook (type invariant) and has a route (checked
        // above), which the wrapper updates only for a local full socket.
        unsafe { shim::rust_ipvs_maybe_update_pmtu(self.skb, mtu) };
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

    /// Attaches `route` and sends the packet through LOCAL_OUT to it (the end of
    /// `__ip_vs_get_out_rt`, then `ip_vs_nat_send_or_cont`); the hook must then return
    /// [`super::netfilter::Verdict::Stolen`].
    pub(crate) fn send_local_out(mut self, net: &Net, route: Route<'_>) {
        self.attach(route.into_dst());
        // SAFETY: the skb now has an output route; ownership passes to the stack, and `self`
        // is consumed so it is not used again.
        unsafe { shim::rust_ipvs_send_local_out(net.as_ptr(), self.skb) };
    }

    /// Attaches the IPv6 `route` and sends the packet through LOCAL_OUT to it (the IPv6
    /// `ip_vs_nat_send_or_cont`); the hook must then return
    /// [`super::netfilter::Verdict::Stolen`].
    pub(crate) fn send_local_out6(mut self, net: &Net, route: Route6<'_>) {
        self.attach(route.into_dst());
        // SAFETY: the skb now has an output route; ownership passes to the stack, and `self`
        // is consumed so it is not used again.
        unsafe { shim::rust_ipvs_send_local_out6(net.as_ptr(), self.skb) };
    }

    /// Replaces the packet's route with `route`: with its reference, or, for a cached route,
    /// without one (C: `skb_dst_set_noref`). Only for a packet the caller then hands to the
    /// stack or to a [`TunnelSkb`] of the route's section: the stack takes a reference of
    /// its own before a packet leaves the read-side section (`skb_dst_force` when queued).
    fn attach(&mut self, route: DstRef<'_>) {
        // The route is valid and its reference, if held, passes to the skb; a borrowed one
        // stays valid for the section the packet is handed on in (`DstRef`'s invariant).
        // SAFETY: the skb is owned by the hook (type invariant); the route as said above.
        unsafe { shim::rust_ipvs_skb_attach_dst(self.skb, route.dst, !route.held) };
        // Not dropped: the reference, if held, is the packet's now.
        core::mem::forget(route);
    }

    /// Frees the packet as used, not dropped (`consume_skb`); the hook must then return
    /// [`super::netfilter::Verdict::Stolen`].
    pub(crate) fn consume(self) {
        // SAFETY: the skb is owned by the hook (type invariant), which gives it up here;
        // `self` is consumed so it is not used again.
        unsafe { shim::rust_ipvs_consume_skb(self.skb) };
    }

    /// Drops the first `len` bytes, the header that follows becoming the network header with
    /// no IP options recorded (`pskb_pull`, `skb_reset_network_header`, `IPCB(skb)->opt`
    /// cleared), then makes sure `linear` bytes of it are in the linear part
    /// (`pskb_may_pull`). ENOMEM when the packet is shorter or cannot be pulled.
    pub(crate) fn pull_to_network(&mut self, len: usize, linear: usize) -> Result {
        let len = c_uint::try_from(len).map_err(|_| EINVAL)?;
        let linear = c_uint::try_from(linear).map_err(|_| EINVAL)?;
        // SAFETY: the skb is owned by the hook (type invariant); the wrapper checks the
        // lengths against the packet itself.
        errno_result(unsafe { shim::rust_ipvs_skb_pull_network(self.skb, len, linear) })
    }

    /// Sets the transport header `offset` bytes after the network header.
    pub(crate) fn set_transport_offset(&mut self, offset: usize) -> Result {
        let offset = c_int::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: the skb is owned by the hook (type invariant); only the header offset is
        // set.
        unsafe { shim::rust_ipvs_skb_set_transport_header(self.skb, offset) };
        Ok(())
    }

    /// Records `mtu` as the path MTU toward the destination of the IPv4 header at the network
    /// header, which must be linear (`ipv4_update_pmtu`).
    pub(crate) fn update_path_mtu(&mut self, net: &Net, mtu: u32) {
        // SAFETY: `net` is alive and the skb owned by the hook (invariants); the wrapper
        // reads the IPv4 header at the network header, which the caller pulled.
        unsafe { shim::rust_ipvs_ipv4_update_pmtu(net.as_ptr(), self.skb, mtu) };
    }
}

/// The route a tunnelled packet leaves by, of the real server's family: the outer header's.
pub(crate) enum TunnelRoute<'g> {
    /// An IPv4 route: the outer header is IPv4.
    V4(Route<'g>),
    /// An IPv6 route: the outer header is IPv6.
    V6(Route6<'g>),
}

impl TunnelRoute<'_> {
    /// Bytes the route's device reserves in front of the network header
    /// (`LL_RESERVED_SPACE`).
    pub(crate) fn link_headroom(&self) -> u32 {
        match self {
            TunnelRoute::V4(route) => route.link_headroom(),
            // SAFETY: the route is valid while `route` lives (`DstRef`'s invariant), and so is
            // the device it holds.
            TunnelRoute::V6(route) => unsafe { shim::rust_ipvs_dst_ll_reserved(route.dst()) },
        }
    }
}

impl Skb<'_> {
    /// Starts encapsulating the packet, of protocol `inner_protocol` (`IPPROTO_IPIP` for
    /// IPv4, `IPPROTO_IPV6` for IPv6), to send it along `route` (C: `ip_vs_tunnel_xmit` and
    /// `ip_vs_tunnel_xmit_v6` from `ip_vs_prepare_tunneled_skb` to
    /// `skb_set_inner_mac_header`): the route is attached, the head made private with
    /// `headroom` bytes in front (the packet may be copied), and `gso_type` (`SKB_GSO_*`) set
    /// up for segmentation. The hook's packet is consumed: the hook must return
    /// [`super::netfilter::Verdict::Stolen`]; [`None`] when it was freed.
    pub(crate) fn into_tunnel<'g>(
        mut self,
        route: TunnelRoute<'g>,
        headroom: u32,
        gso_type: u32,
        inner_protocol: u8,
    ) -> Option<TunnelSkb<'g>> {
        let v6 = matches!(route, TunnelRoute::V6(_));
        match route {
            TunnelRoute::V4(route) => self.attach(route.into_dst()),
            TunnelRoute::V6(route) => self.attach(route.into_dst()),
        }
        // SAFETY: the hook's skb, consumed by the call (`self` is not used after it); the
        // packet it returns is private to this function.
        let skb = unsafe { shim::rust_ipvs_skb_tunnel_headroom(self.skb, headroom) };
        if skb.is_null() {
            return None;
        }
        let gso_type = c_int::try_from(gso_type).unwrap_or(c_int::MAX);
        // SAFETY: `skb` is a valid packet this function owns (above); on failure the call
        // frees it and it is not used again.
        if unsafe { shim::rust_ipvs_iptunnel_handle_offloads(skb, gso_type) } != 0 {
            return None;
        }
        // SAFETY: as above; the call only moves header offsets.
        unsafe { shim::rust_ipvs_skb_tunnel_inner(skb, inner_protocol) };
        // INVARIANT: `skb` is owned here and given to the new value alone.
        Some(TunnelSkb {
            skb,
            v6,
            _route: PhantomData,
        })
    }
}

/// A packet being encapsulated: headers are pushed in front of it, innermost first, then it
/// is sent ([`TunnelSkb::send`]) or, when dropped, freed.
///
/// # Invariants
///
/// `skb` is a valid packet with a route that this value owns alone; the route is valid for
/// `'g` (a cached route attached without a reference).
pub(crate) struct TunnelSkb<'g> {
    /// The packet.
    skb: *mut bindings::sk_buff,
    /// Its route, and so the outer header, is IPv6.
    v6: bool,
    /// The read-side section its route is valid for.
    _route: PhantomData<&'g ReadSection>,
}

impl TunnelSkb<'_> {
    /// `skb->len`: bytes from `skb->data` on.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_len(self.skb) }
    }

    /// The transport checksum is left to the device (`CHECKSUM_PARTIAL`).
    pub(crate) fn checksum_partial(&self) -> bool {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { shim::rust_ipvs_skb_csum_partial(self.skb) }
    }

    /// Where the device is to start its checksum and where to store it, from `skb->data`
    /// (`skb_checksum_start_offset`, then plus `csum_offset`), for a `CHECKSUM_PARTIAL`
    /// packet.
    pub(crate) fn partial_checksum_offsets(&self) -> (i32, u16) {
        // SAFETY: `skb` is valid (type invariant).
        let start = unsafe { shim::rust_ipvs_skb_csum_start_offset(self.skb) };
        // SAFETY: as above.
        let offset = unsafe { shim::rust_ipvs_skb_csum_offset(self.skb) };
        (start, offset)
    }

    /// The checksum is no longer the device's to complete (remote checksum offload leaves
    /// it to the receiver): `CHECKSUM_NONE`, unless the packet is to be segmented.
    pub(crate) fn hand_checksum_to_receiver(&mut self) {
        // SAFETY: `skb` is owned here (type invariant).
        unsafe { shim::rust_ipvs_skb_remcsum_done(self.skb) };
    }

    /// Pushes `header` in front of the packet, which becomes its transport header
    /// (`skb_push`, `skb_reset_transport_header`); EINVAL without the room for it.
    pub(crate) fn push_transport(&mut self, header: &[u8]) -> Result {
        let len = c_uint::try_from(header.len()).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is owned here (type invariant); the room in front is checked before
        // the push, and the pushed bytes are stored at once.
        unsafe {
            if shim::rust_ipvs_skb_headroom(self.skb) < len {
                return Err(EINVAL);
            }
            shim::rust_ipvs_skb_push_transport(self.skb, len);
            errno_result(bindings::skb_store_bits(
                self.skb,
                0,
                header.as_ptr().cast::<c_void>(),
                len as c_int,
            ))
        }
    }

    /// Fills in the checksum of the UDP header at the transport header, over `saddr` and
    /// `daddr` (the outer header's: IPv4 in their first four bytes), or leaves it 0 when
    /// `nocheck` (`udp_set_csum`, `udp6_set_csum`).
    pub(crate) fn udp_set_checksum(&mut self, nocheck: bool, saddr: &[u8; 16], daddr: &[u8; 16]) {
        let len = c_int::try_from(self.len()).unwrap_or(c_int::MAX);
        if self.v6 {
            // The transport header is a UDP header just pushed, private and linear.
            // SAFETY: `skb` is owned here (type invariant); addresses readable for 16 bytes.
            unsafe { shim::rust_ipvs_udp6_set_csum(nocheck, self.skb, saddr, daddr, len) };
            return;
        }
        let v4 = |a: &[u8; 16]| u32::from_ne_bytes([a[0], a[1], a[2], a[3]]);
        // SAFETY: as above.
        unsafe { shim::rust_ipvs_udp_set_csum(nocheck, self.skb, v4(saddr), v4(daddr), len) };
    }

    /// Pushes a GRE header for an inner packet of EtherType `protocol`, with a checksum when
    /// `csum` (`gre_build_header`); EINVAL without the room for it.
    pub(crate) fn push_gre(&mut self, protocol: u16, csum: bool, len: u32) -> Result {
        // SAFETY: `skb` is owned here (type invariant); the room in front is checked before
        // the header is pushed and written.
        unsafe {
            if shim::rust_ipvs_skb_headroom(self.skb) < len {
                return Err(EINVAL);
            }
            shim::rust_ipvs_gre_build_header(self.skb, csum, protocol.to_be());
        }
        Ok(())
    }

    /// The UDP source port for the packet's flow (`udp_flow_src_port`), host order.
    pub(crate) fn flow_source_port(&self, net: &Net) -> u16 {
        // SAFETY: `skb` is owned here (type invariant); the call hashes its flow.
        u16::from_be(unsafe { shim::rust_ipvs_udp_flow_src_port(net.as_ptr(), self.skb) })
    }

    /// Whether the outer header is IPv6 (the route is).
    pub(crate) fn is_v6(&self) -> bool {
        self.v6
    }

    /// Pushes the outer `header`, IPv4 (its length, identification and checksum left to
    /// fill) or IPv6 as the route is, and sends the packet (C: the end of
    /// `ip_vs_tunnel_xmit` and `ip_vs_tunnel_xmit_v6`). `nfct` keeps the packet's conntrack
    /// entry, which is then confirmed.
    pub(crate) fn send(self, net: &Net, header: &[u8], nfct: bool) -> Result {
        // A whole IPv4 header without options, or the fixed IPv6 header.
        let expected = if self.v6 { 40 } else { 20 };
        if header.len() != expected {
            return Err(EINVAL);
        }
        let len = c_uint::try_from(header.len()).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is owned here (type invariant).
        if unsafe { shim::rust_ipvs_skb_headroom(self.skb) } < len {
            return Err(EINVAL);
        }
        // `self` is forgotten so the packet is not freed twice: from here `skb` is owned by
        // this function until the sending call consumes it.
        let skb = self.skb;
        let v6 = self.v6;
        core::mem::forget(self);
        // SAFETY: `skb` is owned here with `len` bytes of room in front (checked above).
        unsafe { shim::rust_ipvs_skb_push_network(skb, len) };
        // SAFETY: the `len` pushed bytes at `skb->data` are private and linear; `header` is
        // readable for `len` bytes.
        unsafe { bindings::skb_store_bits(skb, 0, header.as_ptr().cast::<c_void>(), len as c_int) };
        if !v6 {
            // SAFETY: `skb` is owned here and has a complete IPv4 header at its network
            // header.
            unsafe { shim::rust_ipvs_ip_select_ident(net.as_ptr(), skb) };
        }
        // SAFETY: `skb` is owned here, with a route and an outer header of the route's
        // family; the call consumes it and it is not used after it.
        unsafe { shim::rust_ipvs_tunnel_send(net.as_ptr(), skb, nfct, v6) };
        Ok(())
    }
}

impl Drop for TunnelSkb<'_> {
    fn drop(&mut self) {
        // SAFETY: the packet is owned by this value alone (type invariant) and freed once.
        unsafe { shim::rust_ipvs_kfree_skb(self.skb) };
    }
}

/// The first `len` bytes of an [`Skb`], made private and linear by [`Skb::make_writable`]:
/// in-place writes and checksum updates, each checked to lie within them.
///
/// # Invariants
///
/// `skb_ensure_writable(skb, len)` succeeded and the skb has not been changed since but
/// through this view, which borrows it mutably.
pub(crate) struct Writable<'s, 'a> {
    /// The packet.
    skb: &'s mut Skb<'a>,
    /// Bytes from `skb->data` that are private and linear.
    len: usize,
}

impl Writable<'_, '_> {
    /// Checks that `len` bytes at `offset` lie in the writable part.
    fn check(&self, offset: usize, len: usize) -> Result<c_uint> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(EINVAL);
        }
        c_uint::try_from(offset).map_err(|_| EINVAL)
    }

    /// Reads `buf.len()` bytes at `offset` (see [`Skb::read`]).
    #[inline(always)]
    pub(crate) fn read<'b>(&self, offset: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        self.skb.read(offset, buf)
    }

    /// Writes `data` at `offset`.
    pub(crate) fn write(&mut self, offset: usize, data: &[u8]) -> Result {
        self.check(offset, data.len())?;
        // `skb` is owned by the hook, and its first `len` bytes from `data` private and linear
        // (type invariants), which the range lies in (checked above); `data` is readable for
        // its length (a copy that tolerates overlap, as `memmove`).
        // SAFETY: the destination range is private and linear, the source readable (above).
        unsafe {
            let base = (*self.skb.skb).data;
            core::ptr::copy(data.as_ptr(), base.add(offset), data.len());
        }
        Ok(())
    }

    /// Updates the transport checksum at `csum_offset` for a 4-byte field change, including
    /// the pseudo-header when `pseudo` (`inet_proto_csum_replace4`).
    #[inline(always)]
    pub(crate) fn csum_replace4(
        &mut self,
        csum_offset: usize,
        from: [u8; 4],
        to: [u8; 4],
        pseudo: bool,
    ) -> Result {
        let off = self.check(csum_offset, 2)?;
        self.csum_replace(
            off,
            u32::from_ne_bytes(from),
            u32::from_ne_bytes(to),
            pseudo,
        );
        Ok(())
    }

    /// Updates the transport checksum at `csum_offset` for a 2-byte field change.
    #[inline(always)]
    pub(crate) fn csum_replace2(
        &mut self,
        csum_offset: usize,
        from: [u8; 2],
        to: [u8; 2],
    ) -> Result {
        let off = self.check(csum_offset, 2)?;
        // C's `inet_proto_csum_replace2` passes the two values on, widened, to the function
        // below.
        let (from, to) = (u16::from_ne_bytes(from), u16::from_ne_bytes(to));
        self.csum_replace(off, u32::from(from), u32::from(to), false);
        Ok(())
    }

    /// `inet_proto_csum_replace4` of the checksum at `off`, which [`Writable::check`] found in
    /// the private, linear part: an exported function, called without a wrapper.
    #[inline(always)]
    fn csum_replace(&mut self, off: u32, from: u32, to: u32, pseudo: bool) {
        let skb = self.skb.skb;
        // SAFETY: a live packet the hook owns (`Skb`'s invariant), whose checksum at
        // `skb->data + off` the caller found in the private, linear part the function rewrites.
        unsafe {
            let sum = (*skb).data.add(off as usize).cast();
            bindings::inet_proto_csum_replace4(sum, skb, from, to, pseudo)
        }
    }

    /// Writes `CSUM_MANGLED_0` (0xffff, the other ones' complement zero) over a transport
    /// checksum at `csum_offset` that an update made 0, for UDP, where 0 means "no
    /// checksum" (`udp_fast_csum_update`). Not for a checksum the device completes
    /// ([`Self::checksum_partial`]), which holds a partial sum instead.
    pub(crate) fn mangle_zero_csum(&mut self, csum_offset: usize) -> Result {
        let mut csum = [0u8; 2];
        if self.read(csum_offset, &mut csum) == Some(&[0, 0]) {
            self.write(csum_offset, &[0xff, 0xff])?;
        }
        Ok(())
    }

    /// The transport checksum is left to the device (`CHECKSUM_PARTIAL`).
    pub(crate) fn checksum_partial(&self) -> bool {
        self.skb.checksum_partial()
    }

    /// The packet is a GSO super-packet, whose segments get their checksums when split.
    pub(crate) fn is_gso(&self) -> bool {
        // SAFETY: `skb` is a live packet owned by the hook (type invariant of `Skb`).
        unsafe { shim::rust_ipvs_skb_is_gso(self.skb.skb) }
    }

    /// Marks the transport checksum as verified (`CHECKSUM_UNNECESSARY`), as C's SCTP NAT
    /// handlers do for a packet they leave unchanged.
    pub(crate) fn set_checksum_unnecessary(&mut self) {
        // SAFETY: `skb` is owned by the hook (type invariant of `Skb`).
        unsafe { shim::rust_ipvs_skb_set_csum_unnecessary(self.skb.skb) };
    }

    /// Recomputes the CRC32c of the SCTP packet whose common header is at `offset` over the
    /// whole packet, and marks it verified (`sctp_nat_csum`).
    pub(crate) fn sctp_update_checksum(&mut self, offset: usize) -> Result {
        // The common header: ports, verification tag, checksum.
        let off = self.check(offset, 12)?;
        // The wrapper zeroes and writes the checksum through `skb->data + off`; the CRC reads
        // the rest of the packet with `skb_crc32c`, which walks paged data itself.
        // SAFETY: the SCTP common header lies in the private, linear part (checked above).
        unsafe { shim::rust_ipvs_sctp_nat_csum(self.skb.skb, off) };
        Ok(())
    }

    /// Computes the checksum of the UDP datagram whose header is at `offset` from scratch,
    /// over the pseudo-header of `saddr` and `daddr` of family `af`, writing 0xffff for 0, and
    /// marks it verified (the full calculation of `udp_snat_handler` / `udp_dnat_handler`).
    pub(crate) fn udp_checksum_full(
        &mut self,
        offset: usize,
        af: u16,
        saddr: &[u8; 16],
        daddr: &[u8; 16],
    ) -> Result {
        // The UDP header.
        let off = self.check(offset, 8)?;
        let v6 = af == crate::uapi::AF_INET6;
        // The wrapper writes the checksum through `skb->data + off`; the sum reads the rest
        // with `skb_checksum`; the addresses are readable for 16 bytes each.
        // SAFETY: the UDP header lies in the private, linear part (checked above).
        unsafe { shim::rust_ipvs_udp_csum_full(self.skb.skb, off, saddr, daddr, v6) };
        Ok(())
    }

    /// Updates the transport checksum at `csum_offset` for an IPv6 address change in the
    /// pseudo-header (`inet_proto_csum_replace16`).
    pub(crate) fn csum_replace16(
        &mut self,
        csum_offset: usize,
        from: &[u8; 16],
        to: &[u8; 16],
    ) -> Result {
        let off = self.check(csum_offset, 2)?;
        // SAFETY: the two checksum bytes lie in the private, linear part (type invariant,
        // checked above); `from` and `to` are readable for 16 bytes each.
        unsafe { shim::rust_ipvs_l4_csum_replace16(self.skb.skb, off, from, to) };
        Ok(())
    }

    /// Recomputes the checksum of the ICMP message whose header is at `offset`
    /// (`ip_vs_nat_icmp`).
    pub(crate) fn icmp_update_checksum(&mut self, offset: usize) -> Result {
        let off = self.check(offset, 4)?;
        // SAFETY: the ICMP header's first four bytes, which the wrapper writes, lie in the
        // private, linear part (checked above); the sum reads the rest with `skb_checksum`.
        unsafe { shim::rust_ipvs_icmp_update_csum(self.skb.skb, off) };
        Ok(())
    }

    /// Recomputes the checksum of the ICMPv6 message whose header is at `offset`, as a
    /// partial sum the device completes (`ip_vs_nat_icmp_v6`).
    pub(crate) fn icmpv6_update_checksum(&mut self, offset: usize) -> Result {
        let off = self.check(offset, 4)?;
        // The IPv6 header at the network header is read for the pseudo-header.
        // SAFETY: the ICMPv6 header's first four bytes lie in the private, linear part.
        unsafe { shim::rust_ipvs_icmpv6_update_csum(self.skb.skb, off) };
        Ok(())
    }

    /// Recomputes the checksum of the IPv4 header at `offset` (`ip_send_check`).
    #[inline(always)]
    pub(crate) fn ip_send_check(&mut self, offset: usize) -> Result {
        let mut first = [0u8; 1];
        let ihl = match self.skb.read(offset, &mut first) {
            Some(&[ver_ihl]) => usize::from(ver_ihl & 0x0f) * 4,
            _ => return Err(EINVAL),
        };
        if ihl < 20 {
            return Err(EINVAL);
        }
        self.check(offset, ihl)?;
        // SAFETY: the whole IPv4 header, whose length the wrapper reads from it, lies in the
        // private, linear part (checked above), from `skb->data + offset`.
        unsafe { shim::rust_ipvs_ip_send_check((*self.skb.skb).data.add(offset).cast()) };
        Ok(())
    }
}

/// A route not yet attached to a packet, the core of [`Route`] and [`Route6`]: one looked up,
/// whose reference this value holds and releases when dropped unless it goes to a packet, or a
/// destination's cached route, borrowed for the read-side section `'g` (C attaches those with
/// `skb_dst_set_noref`).
///
/// # Invariants
///
/// `dst` is a valid route; this value holds one reference to it when `held`, and otherwise
/// it stays valid until the read-side section `'g` ends.
struct DstRef<'g> {
    /// The route.
    dst: *mut shim::DstEntry,
    /// Whether this value holds a reference.
    held: bool,
    /// The read-side section a cached route is borrowed for.
    _section: PhantomData<&'g ReadSection>,
}

impl<'g> DstRef<'g> {
    /// A route just looked up, with the reference the lookup took.
    ///
    /// # Safety
    ///
    /// `dst` is a valid route, and the caller gives up one reference to it.
    unsafe fn held(dst: *mut shim::DstEntry) -> Self {
        // INVARIANT: valid, with its reference (caller).
        DstRef {
            dst,
            held: true,
            _section: PhantomData,
        }
    }

    /// A cached route, borrowed for the read-side section `_rcu`.
    ///
    /// # Safety
    ///
    /// `dst` is a valid route that stays valid until `_rcu`'s section ends (its holder releases
    /// it only after a grace period).
    unsafe fn borrowed(_rcu: &'g ReadSection, dst: *mut shim::DstEntry) -> Self {
        // INVARIANT: valid for the section `'g` (caller), no reference held.
        DstRef {
            dst,
            held: false,
            _section: PhantomData,
        }
    }
}

impl Drop for DstRef<'_> {
    fn drop(&mut self) {
        if self.held {
            // SAFETY: this value holds a reference (type invariant), released once here.
            unsafe { shim::rust_ipvs_dst_release(self.dst) };
        }
    }
}

/// An IPv4 output route (`struct rtable`), held or borrowed as its [`DstRef`] says.
///
/// # Invariants
///
/// `rt` is the `struct rtable` that embeds `dst`'s route.
pub(crate) struct Route<'g> {
    /// The route as a `dst_entry`.
    dst: DstRef<'g>,
    /// The same route as a `struct rtable`.
    rt: *mut shim::RtTable,
}

/// How [`Route::output`] looks a route up (C: `IP_VS_RT_MODE_KNOWN_NH` and
/// `IP_VS_RT_MODE_CONNECT`).
#[derive(Clone, Copy)]
pub(crate) struct Lookup {
    /// The destination is the next hop, whatever the packet's destination address (direct
    /// routing: the frame goes to the real server, the packet to the virtual address).
    pub(crate) known_nh: bool,
    /// Bind the route to the source address it selects (a tunnel's outer source).
    pub(crate) connect: bool,
}

impl<'g> Route<'g> {
    /// Looks up the route to `daddr` in `net` (`do_output_route4`), with the source address
    /// it selected.
    pub(crate) fn output(net: &Net, daddr: [u8; 4], lookup: Lookup) -> Result<(Self, [u8; 4])> {
        let mut saddr = 0u32;
        // SAFETY: `net` is alive (its invariant); `saddr` is writable.
        let rt = unsafe {
            shim::rust_ipvs_route_output(
                net.as_ptr(),
                u32::from_ne_bytes(daddr),
                lookup.known_nh,
                lookup.connect,
                &mut saddr,
            )
        };
        let rt = from_err_ptr(rt)?;
        // SAFETY: a route that is not an error pointer is valid and comes with a reference,
        // which goes to the `DstRef`; `rt` embeds its `dst_entry`.
        let dst = unsafe { DstRef::held(shim::rust_ipvs_rt_dst(rt)) };
        // INVARIANT: `rt` embeds `dst`.
        Ok((Route { dst, rt }, saddr.to_ne_bytes()))
    }

    /// The cached IPv4 route `dst`, borrowed for the read-side section `rcu`.
    ///
    /// # Safety
    ///
    /// `dst` is a valid IPv4 route (a `struct rtable`'s) that stays valid until `rcu`'s
    /// section ends (its holder releases it only after a grace period).
    pub(super) unsafe fn cached(rcu: &'g ReadSection, dst: *mut shim::DstEntry) -> Self {
        // INVARIANT: `rt` is the `struct rtable` embedding `dst`.
        Route {
            // SAFETY: `dst` is an IPv4 route, embedded in its `struct rtable` (caller).
            rt: unsafe { shim::rust_ipvs_dst_rtable(dst) },
            // SAFETY: valid for `rcu`'s section (caller).
            dst: unsafe { DstRef::borrowed(rcu, dst) },
        }
    }

    /// Gives the route up for [`Skb::attach`].
    fn into_dst(self) -> DstRef<'g> {
        self.dst
    }

    /// The route as a `dst_entry`, valid while this value lives.
    pub(super) fn dst(&self) -> *mut shim::DstEntry {
        self.dst.dst
    }

    /// Bytes the route's device reserves in front of the network header
    /// (`LL_RESERVED_SPACE`).
    pub(crate) fn link_headroom(&self) -> u32 {
        // SAFETY: `rt` embeds the route, valid while this value lives (invariants), and so is
        // the device it holds.
        unsafe { shim::rust_ipvs_rt_ll_reserved(self.rt) }
    }

    /// Whether the route delivers to this host (`RTCF_LOCAL`).
    pub(crate) fn is_local(&self) -> bool {
        // SAFETY: `rt` embeds the route, valid while this value lives (invariants).
        unsafe { shim::rust_ipvs_rt_is_local(self.rt) }
    }

    /// The route's MTU (`dst_mtu`).
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: `rt` embeds the route, valid while this value lives (invariants).
        unsafe { shim::rust_ipvs_rt_mtu(self.rt) }
    }

    /// Whether the route's device computes SCTP CRC32c (`NETIF_F_SCTP_CRC`).
    pub(crate) fn offloads_sctp_crc(&self) -> bool {
        // SAFETY: `rt` embeds the route, valid while this value lives (invariants), and so is
        // the device it holds.
        unsafe { shim::rust_ipvs_rt_sctp_crc(self.rt) }
    }
}

/// An IPv6 route (`struct rt6_info`, through its `dst_entry`), held or borrowed as its
/// [`DstRef`] says.
pub(crate) struct Route6<'g> {
    /// The route.
    dst: DstRef<'g>,
}

impl<'g> Route6<'g> {
    /// Looks up the route to `daddr` in `net` (`__ip_vs_route_output_v6`), with `daddr` as
    /// the next hop when `known_nh`, and the source address for it.
    pub(crate) fn output(net: &Net, daddr: &[u8; 16], known_nh: bool) -> Result<(Self, [u8; 16])> {
        let mut saddr = [0u8; 16];
        let net = net.as_ptr();
        // SAFETY: `net` is alive (its invariant); `daddr` is readable and `saddr` writable
        // for 16 bytes.
        let dst = unsafe { shim::rust_ipvs_route_output6(net, daddr, known_nh, &mut saddr) };
        if dst.is_null() {
            return Err(ENETUNREACH);
        }
        // SAFETY: a non-null route is valid and comes with a reference, which goes to the
        // `DstRef`.
        let dst = unsafe { DstRef::held(dst) };
        Ok((Route6 { dst }, saddr))
    }

    /// The cached IPv6 route `dst`, borrowed for the read-side section `rcu`.
    ///
    /// # Safety
    ///
    /// `dst` is a valid IPv6 route that stays valid until `rcu`'s section ends (its holder
    /// releases it only after a grace period).
    pub(super) unsafe fn cached(rcu: &'g ReadSection, dst: *mut shim::DstEntry) -> Self {
        Route6 {
            // SAFETY: valid for `rcu`'s section (caller).
            dst: unsafe { DstRef::borrowed(rcu, dst) },
        }
    }

    /// Gives the route up for [`Skb::attach`].
    fn into_dst(self) -> DstRef<'g> {
        self.dst
    }

    /// The route, valid while this value lives.
    pub(super) fn dst(&self) -> *mut shim::DstEntry {
        self.dst.dst
    }

    /// Whether the route's device computes SCTP CRC32c (`NETIF_F_SCTP_CRC`).
    pub(crate) fn offloads_sctp_crc(&self) -> bool {
        // SAFETY: the route is valid while this value lives (`DstRef`'s invariant), and so is
        // the device it holds.
        unsafe { shim::rust_ipvs_dst_sctp_crc(self.dst()) }
    }

    /// Whether the route delivers to this host (`__ip_vs_is_local_route6`).
    pub(crate) fn is_local(&self) -> bool {
        // SAFETY: the route is valid while this value lives (`DstRef`'s invariant).
        unsafe { shim::rust_ipvs_dst_is_local6(self.dst()) }
    }

    /// The route's MTU (`dst_mtu`).
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: the route is valid while this value lives (`DstRef`'s invariant).
        unsafe { shim::rust_ipvs_dst_mtu(self.dst()) }
    }
}
