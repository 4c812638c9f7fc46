// SPDX-License-Identifier: GPL-2.0

//! Declarations of the functions defined in `shim.c`.

use kernel::bindings;
use kernel::ffi::{
    c_int, //
    c_long,
    c_uint,
    c_void,
};

// `struct net` embeds a zero-sized array on some configurations, which rustc flags although it
// only ever crosses this boundary by pointer.
#[allow(improper_ctypes)]
extern "C" {
    /// Registers the IPv4 (`rust_ipvs_ops4`) or the IPv6 (`rust_ipvs_ops6`) hook set in `net`.
    pub(crate) fn rust_ipvs_register_hooks(net: *mut bindings::net, v6: bool) -> c_int;
    /// Unregisters that hook set from `net`. Hooks already running may still finish: the
    /// hook entries are freed after a grace period.
    pub(crate) fn rust_ipvs_unregister_hooks(net: *mut bindings::net, v6: bool);
    /// `register_pernet_subsys()` of the module's pernet operations.
    pub(crate) fn rust_ipvs_register_pernet() -> c_int;
    /// `unregister_pernet_subsys()` of the module's pernet operations.
    pub(crate) fn rust_ipvs_unregister_pernet();
    /// `net_generic()`: the pointer-sized per-namespace slot of this module.
    pub(crate) fn rust_ipvs_net_slot(net: *mut bindings::net) -> *mut *mut c_void;
}

// Generic netlink (see ffi/genl.rs).
#[allow(improper_ctypes)]
extern "C" {
    /// Registers the "IPVS" family.
    pub(crate) fn rust_ipvs_genl_register() -> c_int;
    /// Unregisters the "IPVS" family.
    pub(crate) fn rust_ipvs_genl_unregister();
    /// Parses a nested attribute with `ip_vs_svc_policy` into `tb[IPVS_SVC_ATTR_MAX + 1]`.
    pub(crate) fn rust_ipvs_parse_service(
        tb: *mut *mut bindings::nlattr,
        nla: *const bindings::nlattr,
    ) -> c_int;
    /// Parses a nested attribute with `ip_vs_dest_policy` into `tb[IPVS_DEST_ATTR_MAX + 1]`.
    pub(crate) fn rust_ipvs_parse_dest(
        tb: *mut *mut bindings::nlattr,
        nla: *const bindings::nlattr,
    ) -> c_int;
    /// Parses a nested attribute with `ip_vs_daemon_policy` into `tb[IPVS_DAEMON_ATTR_MAX + 1]`.
    pub(crate) fn rust_ipvs_parse_daemon(
        tb: *mut *mut bindings::nlattr,
        nla: *const bindings::nlattr,
    ) -> c_int;
    /// Parses a dump request's attributes with the family policy into `tb[IPVS_CMD_ATTR_MAX + 1]`.
    pub(crate) fn rust_ipvs_parse_dump_request(
        tb: *mut *mut bindings::nlattr,
        cb: *mut bindings::netlink_callback,
    ) -> c_int;
    /// `info->genlhdr->cmd`.
    pub(crate) fn rust_ipvs_info_cmd(info: *const bindings::genl_info) -> u8;
    /// `info->attrs[type]`.
    pub(crate) fn rust_ipvs_info_attr(
        info: *const bindings::genl_info,
        ty: c_int,
    ) -> *mut bindings::nlattr;
    /// `genl_info_net(info)`.
    pub(crate) fn rust_ipvs_info_net(info: *const bindings::genl_info) -> *mut bindings::net;
    /// The command of a dump.
    pub(crate) fn rust_ipvs_dump_cmd(cb: *mut bindings::netlink_callback) -> u8;
    /// `sock_net(skb->sk)`.
    pub(crate) fn rust_ipvs_skb_net(skb: *const bindings::sk_buff) -> *mut bindings::net;
    /// `cb->args`.
    pub(crate) fn rust_ipvs_dump_args(cb: *mut bindings::netlink_callback) -> *mut c_long;
    /// `genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL)`.
    pub(crate) fn rust_ipvs_genlmsg_new() -> *mut bindings::sk_buff;
    /// `genlmsg_put_reply()` for the family.
    pub(crate) fn rust_ipvs_genlmsg_put_reply(
        skb: *mut bindings::sk_buff,
        info: *mut bindings::genl_info,
        cmd: u8,
    ) -> *mut c_void;
    /// `genlmsg_put()` of a dump entry (NLM_F_MULTI) for the family.
    pub(crate) fn rust_ipvs_genlmsg_put_dump(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
        cmd: u8,
    ) -> *mut c_void;
    /// `genlmsg_end()`.
    pub(crate) fn rust_ipvs_genlmsg_end(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    /// `genlmsg_cancel()`.
    pub(crate) fn rust_ipvs_genlmsg_cancel(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    /// `genlmsg_reply()`; consumes `skb`.
    pub(crate) fn rust_ipvs_genlmsg_reply(
        skb: *mut bindings::sk_buff,
        info: *mut bindings::genl_info,
    ) -> c_int;
    /// `nlmsg_free()`.
    pub(crate) fn rust_ipvs_nlmsg_free(skb: *mut bindings::sk_buff);
    /// `nla_nest_start_noflag()`.
    pub(crate) fn rust_ipvs_nla_nest_start(
        skb: *mut bindings::sk_buff,
        ty: c_int,
    ) -> *mut bindings::nlattr;
    /// `nla_nest_end()`.
    pub(crate) fn rust_ipvs_nla_nest_end(skb: *mut bindings::sk_buff, start: *mut bindings::nlattr);
    /// `nla_nest_cancel()`.
    pub(crate) fn rust_ipvs_nla_nest_cancel(
        skb: *mut bindings::sk_buff,
        start: *mut bindings::nlattr,
    );
    /// `skb->len`.
    pub(crate) fn rust_ipvs_skb_len(skb: *const bindings::sk_buff) -> c_uint;
}

// /proc/net files (see ffi/proc.rs).
#[allow(improper_ctypes)]
extern "C" {
    /// Creates /proc/net/ip_vs, ip_vs_conn and ip_vs_stats in `net`.
    pub(crate) fn rust_ipvs_proc_register(net: *mut bindings::net) -> c_int;
    /// Removes them.
    pub(crate) fn rust_ipvs_proc_unregister(net: *mut bindings::net);
    /// `seq_file_single_net(seq)`.
    pub(crate) fn rust_ipvs_seq_net(seq: *mut bindings::seq_file) -> *mut bindings::net;
    /// `seq_file_net()`: the namespace of a `proc_create_net` file.
    pub(crate) fn rust_ipvs_seq_file_net(seq: *mut bindings::seq_file) -> *mut bindings::net;
}

/// `struct nf_conn`, which the kernel's bindings do not export; only used by pointer.
#[repr(C)]
pub(crate) struct NfConn {
    _opaque: [u8; 0],
}

/// `struct rtable`, which the kernel's bindings do not export; only used by pointer.
#[repr(C)]
pub(crate) struct RtTable {
    _opaque: [u8; 0],
}

/// `struct dst_entry` (an IPv6 route's), which the bindings of every kernel need not export;
/// only used by pointer.
#[repr(C)]
pub(crate) struct DstEntry {
    _opaque: [u8; 0],
}

/// `struct rust_ipvs_gc` of shim.c: the namespace's periodic works; only used by pointer.
#[repr(C)]
pub(crate) struct Timer {
    _opaque: [u8; 0],
}

// Packet access and transmit (see ffi/skb.rs), the expiry timer (ffi/timer.rs).
#[allow(improper_ctypes)]
extern "C" {
    /// `skb->ipvs_property = 1`.
    pub(crate) fn rust_ipvs_skb_set_ipvs_property(skb: *mut bindings::sk_buff);
    /// The offset of `_skb_refdst` (an `unsigned long`) in `struct sk_buff`, in an anonymous
    /// union as `network_header` is.
    pub(crate) static rust_ipvs_skb_refdst_at: usize;
    /// No device or a loopback device: sent by this host.
    pub(crate) fn rust_ipvs_skb_from_local(skb: *const bindings::sk_buff) -> bool;
    /// `skb->mark`.
    pub(crate) fn rust_ipvs_skb_mark(skb: *const bindings::sk_buff) -> u32;
    /// The offset of `network_header` (a `u16`) in `struct sk_buff`, which the bindings name
    /// differently in each kernel (it is in an anonymous union).
    pub(crate) static rust_ipvs_skb_network_header_at: usize;
    /// `skb->ip_summed == CHECKSUM_PARTIAL`: the transport checksum is left to the device.
    pub(crate) fn rust_ipvs_skb_csum_partial(skb: *const bindings::sk_buff) -> bool;
    /// `skb->ip_summed = CHECKSUM_UNNECESSARY`.
    pub(crate) fn rust_ipvs_skb_set_csum_unnecessary(skb: *mut bindings::sk_buff);
    /// `skb_is_gso()`.
    pub(crate) fn rust_ipvs_skb_is_gso(skb: *const bindings::sk_buff) -> bool;
    /// `sctp_nat_csum()`: the CRC32c of the SCTP packet whose header is at `off`.
    pub(crate) fn rust_ipvs_sctp_nat_csum(skb: *mut bindings::sk_buff, off: c_uint);
    /// The route's device computes SCTP CRC32c (`NETIF_F_SCTP_CRC`).
    pub(crate) fn rust_ipvs_dst_sctp_crc(dst: *const DstEntry) -> bool;
    /// `rt_is_input_route(skb_rtable(skb))`.
    pub(crate) fn rust_ipvs_skb_rt_is_input(skb: *const bindings::sk_buff) -> bool;
    /// The device of the packet's route computes SCTP CRC32c (`NETIF_F_SCTP_CRC`).
    pub(crate) fn rust_ipvs_skb_dst_sctp_crc(skb: *const bindings::sk_buff) -> bool;
    /// The packet's checksum from `off` on verifies (or needs no check).
    pub(crate) fn rust_ipvs_skb_csum_ok(
        skb: *mut bindings::sk_buff,
        off: c_uint,
        proto: u8,
        af: u16,
    ) -> bool;
    /// Recomputes the ICMPv6 checksum of the header at `off` as a partial sum the device
    /// completes (the end of `ip_vs_nat_icmp_v6()`).
    pub(crate) fn rust_ipvs_icmpv6_update_csum(skb: *mut bindings::sk_buff, off: c_uint);
    /// Recomputes the ICMP checksum of the header at `off`.
    pub(crate) fn rust_ipvs_icmp_update_csum(skb: *mut bindings::sk_buff, off: c_uint);
    /// `ip_send_check(iph)`: recomputes the checksum of the IPv4 header at `iph`.
    pub(crate) fn rust_ipvs_ip_send_check(iph: *mut c_void);
    /// The packet's conntrack entry exists and is confirmed.
    pub(crate) fn rust_ipvs_skb_ct_confirmed(skb: *const bindings::sk_buff) -> bool;
    /// `ip_vs_notrack()`.
    pub(crate) fn rust_ipvs_skb_notrack(skb: *mut bindings::sk_buff);
    /// The reply-tuple edit of `ip_vs_update_conntrack()`.
    pub(crate) fn rust_ipvs_ct_alter_reply(
        skb: *mut bindings::sk_buff,
        outin: bool,
        addr: *const [u8; 16],
        port: u16,
    );
    /// The conntrack entry whose original direction is this tuple, with a reference, or null
    /// (the lookup of `ip_vs_conn_drop_conntrack()`).
    pub(crate) fn rust_ipvs_ct_find(
        net: *mut bindings::net,
        af: u16,
        protocol: u8,
        caddr: *const [u8; 16],
        cport: u16,
        vaddr: *const [u8; 16],
        vport: u16,
    ) -> *mut NfConn;
    /// `nf_ct_kill()`.
    pub(crate) fn rust_ipvs_ct_kill(ct: *mut NfConn);
    /// `nf_ct_put()`.
    pub(crate) fn rust_ipvs_ct_put(ct: *mut NfConn);
    /// `do_output_route4()`: a held route or an `ERR_PTR`; the source address it chose is
    /// stored in `*saddr`.
    pub(crate) fn rust_ipvs_route_output(
        net: *mut bindings::net,
        daddr: u32,
        known_nh: bool,
        connect: bool,
        saddr: *mut u32,
    ) -> *mut RtTable;
    /// `skb_rtable(skb)->rt_flags & RTCF_LOCAL`.
    pub(crate) fn rust_ipvs_skb_rt_is_local(skb: *const bindings::sk_buff) -> bool;
    /// `LL_RESERVED_SPACE()` of the route's device.
    pub(crate) fn rust_ipvs_rt_ll_reserved(rt: *const RtTable) -> c_uint;
    /// `LL_RESERVED_SPACE()` of the route's device.
    pub(crate) fn rust_ipvs_dst_ll_reserved(dst: *const DstEntry) -> c_uint;
    /// `maybe_update_pmtu()`.
    pub(crate) fn rust_ipvs_maybe_update_pmtu(skb: *mut bindings::sk_buff, mtu: c_uint);
    /// Orphans the skb and gives it `max_headroom` private bytes in front; returns the packet
    /// to use on, or NULL after freeing it. Consumes `skb`.
    pub(crate) fn rust_ipvs_skb_tunnel_headroom(
        skb: *mut bindings::sk_buff,
        max_headroom: c_uint,
    ) -> *mut bindings::sk_buff;
    /// `iptunnel_handle_offloads()`; frees the skb when it fails.
    pub(crate) fn rust_ipvs_iptunnel_handle_offloads(
        skb: *mut bindings::sk_buff,
        gso_type: c_int,
    ) -> c_int;
    /// Makes the packet, of protocol `inner_proto`, the inner one of a tunnel.
    pub(crate) fn rust_ipvs_skb_tunnel_inner(skb: *mut bindings::sk_buff, inner_proto: u8);
    /// `skb_headroom()`.
    pub(crate) fn rust_ipvs_skb_headroom(skb: *const bindings::sk_buff) -> c_uint;
    /// `skb_push()` of `len` bytes that become the transport header.
    pub(crate) fn rust_ipvs_skb_push_transport(skb: *mut bindings::sk_buff, len: c_uint);
    /// `skb_push()` of `len` bytes that become the network header.
    pub(crate) fn rust_ipvs_skb_push_network(skb: *mut bindings::sk_buff, len: c_uint);
    /// `skb_checksum_start_offset()`.
    pub(crate) fn rust_ipvs_skb_csum_start_offset(skb: *const bindings::sk_buff) -> c_int;
    /// `skb->csum_offset`.
    pub(crate) fn rust_ipvs_skb_csum_offset(skb: *const bindings::sk_buff) -> u16;
    /// `CHECKSUM_NONE` and no encapsulation offload, unless the packet is GSO.
    pub(crate) fn rust_ipvs_skb_remcsum_done(skb: *mut bindings::sk_buff);
    /// `udp_set_csum()`.
    pub(crate) fn rust_ipvs_udp_set_csum(
        nocheck: bool,
        skb: *mut bindings::sk_buff,
        saddr: u32,
        daddr: u32,
        len: c_int,
    );
    /// `udp6_set_csum()`.
    pub(crate) fn rust_ipvs_udp6_set_csum(
        nocheck: bool,
        skb: *mut bindings::sk_buff,
        saddr: *const [u8; 16],
        daddr: *const [u8; 16],
        len: c_int,
    );
    /// `gre_build_header()` without key and sequence number.
    pub(crate) fn rust_ipvs_gre_build_header(skb: *mut bindings::sk_buff, csum: bool, proto: u16);
    /// `udp_flow_src_port(net, skb, 0, 0, false)`.
    pub(crate) fn rust_ipvs_udp_flow_src_port(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
    ) -> u16;
    /// `ip_vs_gather_frags()` for the hook `hooknum`; non-zero when the skb was consumed.
    pub(crate) fn rust_ipvs_gather_frags(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        hooknum: c_uint,
    ) -> c_int;
    /// `kfree_skb()`.
    pub(crate) fn rust_ipvs_kfree_skb(skb: *mut bindings::sk_buff);
    /// `ip_select_ident()`.
    pub(crate) fn rust_ipvs_ip_select_ident(net: *mut bindings::net, skb: *mut bindings::sk_buff);
    /// `ip_vs_tunnel_xmit_prepare()`, then `ip_local_out()` or, with `v6`,
    /// `ip6_local_out()`; consumes the skb.
    pub(crate) fn rust_ipvs_tunnel_send(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        nfct: bool,
        v6: bool,
    );
    /// `rt->rt_flags & RTCF_LOCAL`.
    pub(crate) fn rust_ipvs_rt_is_local(rt: *const RtTable) -> bool;
    /// `dst_mtu(&rt->dst)`.
    pub(crate) fn rust_ipvs_rt_mtu(rt: *const RtTable) -> c_uint;
    /// The route's device computes SCTP CRC32c (`NETIF_F_SCTP_CRC`).
    pub(crate) fn rust_ipvs_rt_sctp_crc(rt: *const RtTable) -> bool;
    /// `&rt->dst`.
    pub(crate) fn rust_ipvs_rt_dst(rt: *mut RtTable) -> *mut DstEntry;
    /// `dst_rtable()`.
    pub(crate) fn rust_ipvs_dst_rtable(dst: *mut DstEntry) -> *mut RtTable;
    /// `dst_hold()`.
    pub(crate) fn rust_ipvs_dst_hold(dst: *mut DstEntry);
    /// `dst_check()` succeeds: the route is still valid.
    pub(crate) fn rust_ipvs_dst_check(dst: *mut DstEntry, cookie: u32) -> bool;
    /// `rt_dev_is_down(dst_dev_rcu())`.
    pub(crate) fn rust_ipvs_dst_dev_is_down(dst: *mut DstEntry) -> bool;
    /// `dst_dev(dst) == dev`.
    pub(crate) fn rust_ipvs_dst_dev_is(
        dst: *const DstEntry,
        dev: *const bindings::net_device,
    ) -> bool;
    /// `rt6_get_cookie(dst_rt6_info())`.
    pub(crate) fn rust_ipvs_dst_rt6_cookie(dst: *mut DstEntry) -> u32;
    /// `dev_net()`.
    pub(crate) fn rust_ipvs_dev_net(dev: *const bindings::net_device) -> *mut bindings::net;
    /// `register_netdevice_notifier()` of the `NETDEV_DOWN` notifier.
    pub(crate) fn rust_ipvs_register_netdev_notifier() -> c_int;
    /// `unregister_netdevice_notifier()` of that notifier.
    pub(crate) fn rust_ipvs_unregister_netdev_notifier();
    /// Replaces the skb's route with `dst`: `skb_dst_set()`, taking over its reference, or
    /// with `noref` `skb_dst_set_noref()`, valid for the caller's read-side section.
    pub(crate) fn rust_ipvs_skb_attach_dst(
        skb: *mut bindings::sk_buff,
        dst: *mut DstEntry,
        noref: bool,
    );
    /// `dst_link_failure()`: ICMP host unreachable to the sender.
    pub(crate) fn rust_ipvs_dst_link_failure(skb: *mut bindings::sk_buff);
    /// `ip_vs_exceeds_mtu()`.
    pub(crate) fn rust_ipvs_skb_exceeds_mtu(skb: *const bindings::sk_buff, mtu: c_uint) -> bool;
    /// Sends through LOCAL_OUT; consumes the skb.
    pub(crate) fn rust_ipvs_send_local_out(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
    ) -> c_int;
    /// `icmp_send()`.
    pub(crate) fn rust_ipvs_icmp_send(
        skb: *mut bindings::sk_buff,
        ty: c_int,
        code: c_int,
        info: u32,
    );
    /// `ip_vs_route_me_harder()` for IPv4.
    pub(crate) fn rust_ipvs_route_me_harder(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
    ) -> c_int;
    /// Starts the per-namespace works.
    pub(crate) fn rust_ipvs_gc_start(net: *mut bindings::net) -> *mut Timer;
    /// Runs the resize work at once; nothing once the works are stopped.
    pub(crate) fn rust_ipvs_gc_resize(gc: *mut Timer);
    /// Stops (disables) the works; returns after running callbacks finished.
    pub(crate) fn rust_ipvs_gc_stop(gc: *mut Timer);
    /// Frees the works, stopped before.
    pub(crate) fn rust_ipvs_gc_free(gc: *mut Timer);
}

// Sysctls (see ffi/sysctl.rs).
#[allow(improper_ctypes)]
extern "C" {
    /// Registers `net/ipv4/vs` in `net` with `n` data pointers, entries whose bit is set in
    /// `read_only` read-only.
    pub(crate) fn rust_ipvs_sysctl_register(
        net: *mut bindings::net,
        data: *const *mut i32,
        n: c_uint,
        read_only: u64,
        hdr: *mut *mut bindings::ctl_table_header,
    ) -> c_int;
    /// Unregisters it and frees the table copy.
    pub(crate) fn rust_ipvs_sysctl_unregister(hdr: *mut bindings::ctl_table_header);
}

// Namespace settings (see ffi/net.rs).
#[allow(improper_ctypes)]
extern "C" {
    /// `inet_port_requires_bind_service()`: `port` is below `ip_unprivileged_port_start`.
    pub(crate) fn rust_ipvs_port_requires_bind_service(net: *mut bindings::net, port: u16) -> bool;
    /// `consume_skb()`.
    pub(crate) fn rust_ipvs_consume_skb(skb: *mut bindings::sk_buff);
    /// `__ip_vs_route_output_v6()`: a held route and its source address, or null.
    pub(crate) fn rust_ipvs_route_output6(
        net: *mut bindings::net,
        daddr: *const [u8; 16],
        known_nh: bool,
        saddr: *mut [u8; 16],
    ) -> *mut DstEntry;
    /// `__ip_vs_is_local_route6()`.
    pub(crate) fn rust_ipvs_dst_is_local6(dst: *const DstEntry) -> bool;
    /// `dst_mtu()`.
    pub(crate) fn rust_ipvs_dst_mtu(dst: *const DstEntry) -> c_uint;
    /// `dst_release()`.
    pub(crate) fn rust_ipvs_dst_release(dst: *mut DstEntry);
    /// `__ip_vs_is_local_route6()` of the packet's route.
    pub(crate) fn rust_ipvs_skb_dst_is_local6(skb: *const bindings::sk_buff) -> bool;
    /// The IPv6 `ip_vs_nat_send_or_cont()` send: LOCAL_OUT, then `dst_output`.
    pub(crate) fn rust_ipvs_send_local_out6(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
    ) -> c_int;
    /// `icmpv6_send()` from the output device's address (`output_dev`) or, without a device,
    /// the loopback device's.
    pub(crate) fn rust_ipvs_icmpv6_send(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        ty: u8,
        code: u8,
        info: u32,
        output_dev: bool,
    );
    /// `dst_link_failure()` of an IPv6 packet.
    pub(crate) fn rust_ipvs_dst_link_failure6(skb: *mut bindings::sk_buff);
    /// `__mtu_check_toobig_v6()`.
    pub(crate) fn rust_ipvs_skb_exceeds_mtu6(skb: *const bindings::sk_buff, mtu: c_uint) -> bool;
    /// The full UDP checksum calculation of `udp_dnat_handler` for the header at `off`.
    pub(crate) fn rust_ipvs_udp_csum_full(
        skb: *mut bindings::sk_buff,
        off: c_uint,
        saddr: *const [u8; 16],
        daddr: *const [u8; 16],
        v6: bool,
    );
    /// `inet_proto_csum_replace16()` (pseudo-header) on the checksum at `skb->data + off`.
    pub(crate) fn rust_ipvs_l4_csum_replace16(
        skb: *mut bindings::sk_buff,
        off: c_uint,
        from: *const [u8; 16],
        to: *const [u8; 16],
    );
    /// The IPv6 half of `ip_vs_route_me_harder()`.
    pub(crate) fn rust_ipvs_route_me_harder6(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
    ) -> c_int;
    /// `pskb_pull(skb, len)`, the network header reset there and its IP options cleared, then
    /// `pskb_may_pull(skb, linear)`; -ENOMEM when either fails.
    pub(crate) fn rust_ipvs_skb_pull_network(
        skb: *mut bindings::sk_buff,
        len: c_uint,
        linear: c_uint,
    ) -> c_int;
    /// `skb_set_transport_header()`.
    pub(crate) fn rust_ipvs_skb_set_transport_header(skb: *mut bindings::sk_buff, offset: c_int);
    /// `ipv4_update_pmtu(skb, net, mtu, 0, 0)`.
    pub(crate) fn rust_ipvs_ipv4_update_pmtu(
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        mtu: u32,
    );
    /// `nf_defrag_ipv6_enable()`.
    pub(crate) fn rust_ipvs_nf_defrag_ipv6_enable(net: *mut bindings::net) -> c_int;
    /// `inet_addr_type()`: the `RTN_*` type of an IPv4 address in `net`.
    pub(crate) fn rust_ipvs_inet_addr_type(net: *mut bindings::net, addr: u32) -> c_uint;
    /// `net_eq(net, &init_net)`.
    pub(crate) fn rust_ipvs_net_is_init(net: *const bindings::net) -> bool;
}

// Per-CPU counters (see ffi/percpu.rs).
extern "C" {
    /// `__alloc_percpu()`: zeroed per-CPU memory, a per-CPU address or null.
    pub(crate) fn rust_ipvs_alloc_percpu(size: usize, align: usize) -> *mut core::ffi::c_void;
    /// `this_cpu_add()` of `v` to `*p`, a per-CPU address (used where Rust has no segment
    /// instruction for it).
    #[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
    pub(crate) fn rust_ipvs_this_cpu_add_u64(p: *mut u64, v: u64);
}

// RCU hash chains (see ffi/rculist.rs).
extern "C" {
    /// `seqcount_init()`.
    pub(crate) fn rust_ipvs_seqcount_init(s: *mut bindings::seqcount_t);
    /// `write_seqcount_begin()`.
    pub(crate) fn rust_ipvs_write_seqcount_begin(s: *mut bindings::seqcount_t);
    /// `write_seqcount_end()`.
    pub(crate) fn rust_ipvs_write_seqcount_end(s: *mut bindings::seqcount_t);
    /// `totalram_pages()`.
    pub(crate) fn rust_ipvs_totalram_pages() -> core::ffi::c_ulong;
    /// `cond_resched()`.
    pub(crate) fn rust_ipvs_cond_resched();
    /// `hlist_add_head_rcu()`.
    pub(crate) fn rust_ipvs_hlist_add_head_rcu(
        node: *mut bindings::hlist_node,
        head: *mut bindings::hlist_head,
    );
    /// `hlist_del_rcu()`.
    pub(crate) fn rust_ipvs_hlist_del_rcu(node: *mut bindings::hlist_node);
    /// `hlist_add_head()`.
    pub(crate) fn rust_ipvs_hlist_add_head(
        node: *mut bindings::hlist_node,
        head: *mut bindings::hlist_head,
    );
    /// `hlist_del_init()`.
    pub(crate) fn rust_ipvs_hlist_del_init(node: *mut bindings::hlist_node);
    /// `hlist_move_list()`.
    pub(crate) fn rust_ipvs_hlist_move_list(
        old: *mut bindings::hlist_head,
        new: *mut bindings::hlist_head,
    );
    /// `spin_lock_bh()` (where it is not `_raw_spin_lock_bh`, see `bhlock`).
    #[cfg(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_LOCK_BH))]
    pub(crate) fn rust_ipvs_spin_lock_bh(lock: *mut bindings::spinlock_t);
    /// `spin_unlock_bh()` (where it is not `_raw_spin_unlock_bh`, see `bhlock`).
    #[cfg(any(CONFIG_PREEMPT_RT, CONFIG_INLINE_SPIN_UNLOCK_BH))]
    pub(crate) fn rust_ipvs_spin_unlock_bh(lock: *mut bindings::spinlock_t);
    /// `spin_trylock_bh()`.
    pub(crate) fn rust_ipvs_spin_trylock_bh(lock: *mut bindings::spinlock_t) -> c_int;
}

// The namespace's threads and the sync daemon's sockets (see ffi/kthread.rs and ffi/sock.rs).
#[allow(improper_ctypes)]
extern "C" {
    /// `kthread_create(fn, data, "ipvs-<kind>:<gen>:<id>")` with a reference on the task,
    /// `nice` and, unless null, the `preferred` CPUs set before it is woken; or an `ERR_PTR`.
    pub(crate) fn rust_ipvs_kthread_run(
        thread: unsafe extern "C" fn(*mut c_void) -> c_int,
        data: *mut c_void,
        kind: core::ffi::c_char,
        gen: c_int,
        id: c_int,
        nice: c_int,
        preferred: *const bindings::cpumask,
    ) -> *mut bindings::task_struct;
    /// `set_current_state(TASK_INTERRUPTIBLE)`.
    pub(crate) fn rust_ipvs_set_current_interruptible();
    /// `set_current_state(TASK_IDLE)`.
    pub(crate) fn rust_ipvs_set_current_idle();
    /// `__set_current_state(TASK_RUNNING)`.
    pub(crate) fn rust_ipvs_set_current_running();
    /// Whether a datagram is queued on the UDP socket.
    pub(crate) fn rust_ipvs_sock_readable(sock: *mut bindings::socket) -> bool;
    /// Sleeps until a datagram is queued or the current kthread is asked to stop.
    pub(crate) fn rust_ipvs_sock_wait_readable(sock: *mut bindings::socket);
    /// Sleeps until the socket has send space or the current kthread is asked to stop.
    pub(crate) fn rust_ipvs_sock_wait_writable(sock: *mut bindings::socket);
    /// `setsockopt()` on a kernel socket, `len` bytes at `val`.
    pub(crate) fn rust_ipvs_sock_setsockopt(
        sock: *mut bindings::socket,
        level: c_int,
        name: c_int,
        val: *mut c_void,
        len: c_uint,
    ) -> c_int;
    /// Sends `len` bytes without blocking (`ip_vs_send_async`); bytes sent or an errno.
    pub(crate) fn rust_ipvs_sock_send(
        sock: *mut bindings::socket,
        buf: *const c_void,
        len: usize,
    ) -> c_int;
    /// Receives a datagram into `len` bytes without blocking (`ip_vs_receive`).
    pub(crate) fn rust_ipvs_sock_recv(
        sock: *mut bindings::socket,
        buf: *mut c_void,
        len: usize,
    ) -> c_int;
    /// Index, MTU and first IPv4 address of the interface named `name` in `net`.
    pub(crate) fn rust_ipvs_dev_lookup(
        net: *mut bindings::net,
        name: *const core::ffi::c_char,
        ifindex: *mut c_int,
        mtu: *mut c_uint,
        addr: *mut u32,
    ) -> c_int;
    /// `nr_free_buffer_pages()`.
    pub(crate) fn rust_ipvs_nr_free_buffer_pages() -> core::ffi::c_ulong;
}

// Exported kernel functions whose headers the kernel's bindings do not include
// (`net/ipv6.h`), declared as the kernel declares them.
extern "C" {
    /// `ipv6_find_hdr()`: the protocol of the header of type `target` (-1: the upper layer)
    /// after the extension headers from `*offset` (0: the network header), or a negative
    /// errno; `*offset` becomes that header's offset, `*fragoff` the fragment offset and
    /// `*flags` has `IP6_FH_F_FRAG` set past a fragment header (it is read as input too:
    /// 0 here).
    pub(crate) fn ipv6_find_hdr(
        skb: *const bindings::sk_buff,
        offset: *mut c_uint,
        target: c_int,
        fragoff: *mut u16,
        flags: *mut c_int,
    ) -> c_int;
}
