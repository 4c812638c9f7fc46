// SPDX-License-Identifier: GPL-2.0

//! The IPVS user ABI (`include/uapi/linux/ip_vs.h`), which the kernel's bindings do not export,
//! and the address-family and protocol numbers it uses: the one definition of each constant,
//! shared by the binding layer, the packet path and the control plane.

/// `IP_VS_VERSION_CODE`: 1.2.1, what GET_INFO reports.
pub(crate) const VERSION_CODE: u32 = 0x010201;

/// Generic netlink commands (`IPVS_CMD_*`).
pub(crate) mod cmd {
    /// Adds a service.
    pub(crate) const NEW_SERVICE: u8 = 1;
    /// Edits a service.
    pub(crate) const SET_SERVICE: u8 = 2;
    /// Deletes a service.
    pub(crate) const DEL_SERVICE: u8 = 3;
    /// Gets one service, or dumps all.
    pub(crate) const GET_SERVICE: u8 = 4;
    /// Adds a destination.
    pub(crate) const NEW_DEST: u8 = 5;
    /// Edits a destination.
    pub(crate) const SET_DEST: u8 = 6;
    /// Deletes a destination.
    pub(crate) const DEL_DEST: u8 = 7;
    /// Dumps the destinations of a service.
    pub(crate) const GET_DEST: u8 = 8;
    /// Starts a sync daemon.
    pub(crate) const NEW_DAEMON: u8 = 9;
    /// Stops a sync daemon.
    pub(crate) const DEL_DAEMON: u8 = 10;
    /// Dumps the sync daemons.
    pub(crate) const GET_DAEMON: u8 = 11;
    /// Sets the TCP, TCP FIN and UDP timeouts.
    pub(crate) const SET_CONFIG: u8 = 12;
    /// Gets the timeouts.
    pub(crate) const GET_CONFIG: u8 = 13;
    /// Reply command of GET_INFO.
    pub(crate) const SET_INFO: u8 = 14;
    /// Gets the version and connection table size.
    pub(crate) const GET_INFO: u8 = 15;
    /// Zeroes the counters of one service or all.
    pub(crate) const ZERO: u8 = 16;
    /// Deletes every service.
    pub(crate) const FLUSH: u8 = 17;
}

/// Top-level attributes (`IPVS_CMD_ATTR_*`).
pub(crate) mod cmd_attr {
    /// Nested service.
    pub(crate) const SERVICE: usize = 1;
    /// Nested destination.
    pub(crate) const DEST: usize = 2;
    /// Nested sync daemon.
    pub(crate) const DAEMON: usize = 3;
    /// TCP ESTABLISHED timeout, seconds.
    pub(crate) const TIMEOUT_TCP: usize = 4;
    /// TCP FIN_WAIT timeout, seconds.
    pub(crate) const TIMEOUT_TCP_FIN: usize = 5;
    /// UDP timeout, seconds.
    pub(crate) const TIMEOUT_UDP: usize = 6;
}
/// `IPVS_CMD_ATTR_MAX`.
pub(crate) const CMD_ATTR_MAX: usize = 6;

/// Service attributes (`IPVS_SVC_ATTR_*`).
pub(crate) mod svc_attr {
    /// Address family, u16.
    pub(crate) const AF: usize = 1;
    /// Protocol, u16.
    pub(crate) const PROTOCOL: usize = 2;
    /// Virtual address, up to 16 bytes.
    pub(crate) const ADDR: usize = 3;
    /// Virtual port, be16.
    pub(crate) const PORT: usize = 4;
    /// Firewall mark, u32.
    pub(crate) const FWMARK: usize = 5;
    /// Scheduler name, NUL-terminated.
    pub(crate) const SCHED_NAME: usize = 6;
    /// `struct ip_vs_flags`.
    pub(crate) const FLAGS: usize = 7;
    /// Persistence timeout, seconds.
    pub(crate) const TIMEOUT: usize = 8;
    /// Persistence netmask (IPv4: be32 mask; IPv6: prefix length).
    pub(crate) const NETMASK: usize = 9;
    /// Nested 32-bit statistics.
    pub(crate) const STATS: usize = 10;
    /// Persistence engine name.
    pub(crate) const PE_NAME: usize = 11;
    /// Nested 64-bit statistics.
    pub(crate) const STATS64: usize = 12;
}
/// `IPVS_SVC_ATTR_MAX`.
pub(crate) const SVC_ATTR_MAX: usize = 12;

/// Destination attributes (`IPVS_DEST_ATTR_*`).
pub(crate) mod dest_attr {
    /// Real server address, up to 16 bytes.
    pub(crate) const ADDR: usize = 1;
    /// Real server port, be16.
    pub(crate) const PORT: usize = 2;
    /// Forwarding method, u32.
    pub(crate) const FWD_METHOD: usize = 3;
    /// Weight, u32.
    pub(crate) const WEIGHT: usize = 4;
    /// Upper connection threshold, u32.
    pub(crate) const U_THRESH: usize = 5;
    /// Lower connection threshold, u32.
    pub(crate) const L_THRESH: usize = 6;
    /// Active connections, u32.
    pub(crate) const ACTIVE_CONNS: usize = 7;
    /// Inactive connections, u32.
    pub(crate) const INACT_CONNS: usize = 8;
    /// Persistent connections (templates), u32.
    pub(crate) const PERSIST_CONNS: usize = 9;
    /// Nested 32-bit statistics.
    pub(crate) const STATS: usize = 10;
    /// Address family, u16.
    pub(crate) const ADDR_FAMILY: usize = 11;
    /// Nested 64-bit statistics.
    pub(crate) const STATS64: usize = 12;
    /// Tunnel type, u8.
    pub(crate) const TUN_TYPE: usize = 13;
    /// Tunnel port, be16.
    pub(crate) const TUN_PORT: usize = 14;
    /// Tunnel flags, u16.
    pub(crate) const TUN_FLAGS: usize = 15;
}
/// `IPVS_DEST_ATTR_MAX`.
pub(crate) const DEST_ATTR_MAX: usize = 15;

/// `IPVS_DAEMON_ATTR_*`.
pub(crate) mod daemon_attr {
    pub(crate) const STATE: usize = 1;
    pub(crate) const MCAST_IFN: usize = 2;
    pub(crate) const SYNC_ID: usize = 3;
    pub(crate) const SYNC_MAXLEN: usize = 4;
    pub(crate) const MCAST_GROUP: usize = 5;
    pub(crate) const MCAST_GROUP6: usize = 6;
    pub(crate) const MCAST_PORT: usize = 7;
    pub(crate) const MCAST_TTL: usize = 8;
}

/// `IPVS_DAEMON_ATTR_MAX`.
pub(crate) const DAEMON_ATTR_MAX: usize = 8;

/// Statistics attributes (`IPVS_STATS_ATTR_*`).
pub(crate) mod stats_attr {
    /// Connections scheduled.
    pub(crate) const CONNS: u16 = 1;
    /// Incoming packets.
    pub(crate) const INPKTS: u16 = 2;
    /// Outgoing packets.
    pub(crate) const OUTPKTS: u16 = 3;
    /// Incoming bytes.
    pub(crate) const INBYTES: u16 = 4;
    /// Outgoing bytes.
    pub(crate) const OUTBYTES: u16 = 5;
    /// Connection rate.
    pub(crate) const CPS: u16 = 6;
    /// Incoming packet rate.
    pub(crate) const INPPS: u16 = 7;
    /// Outgoing packet rate.
    pub(crate) const OUTPPS: u16 = 8;
    /// Incoming byte rate.
    pub(crate) const INBPS: u16 = 9;
    /// Outgoing byte rate.
    pub(crate) const OUTBPS: u16 = 10;
    /// Padding for 64-bit attributes.
    pub(crate) const PAD: u16 = 11;
}

/// GET_INFO reply attributes (`IPVS_INFO_ATTR_*`).
pub(crate) mod info_attr {
    /// Version code, u32.
    pub(crate) const VERSION: u16 = 1;
    /// Connection table size, u32.
    pub(crate) const CONN_TAB_SIZE: u16 = 2;
}

/// Service flags (`IP_VS_SVC_F_*`).
pub(crate) mod svc_flags {
    /// Persistent service.
    pub(crate) const PERSISTENT: u32 = 0x0001;
    /// Hashed entry: set on every configured service.
    pub(crate) const HASHED: u32 = 0x0002;
    /// One-packet scheduling.
    pub(crate) const ONEPACKET: u32 = 0x0004;
    /// Scheduler flag 1 (sh: fallback).
    pub(crate) const SCHED1: u32 = 0x0008;
    /// Scheduler flag 2 (sh: hash the source port).
    pub(crate) const SCHED2: u32 = 0x0010;
    /// Scheduler flag 3.
    pub(crate) const SCHED3: u32 = 0x0020;
}

/// Forwarding methods (`IP_VS_CONN_F_FWD_MASK` values).
pub(crate) mod fwd {
    pub(crate) const MASK: u32 = 0x0007;
    pub(crate) const MASQ: u32 = 0x0000;
    pub(crate) const LOCALNODE: u32 = 0x0001;
    pub(crate) const TUNNEL: u32 = 0x0002;
    pub(crate) const DROUTE: u32 = 0x0003;
    pub(crate) const BYPASS: u32 = 0x0004;
}

/// Tunnel encapsulations of a tunnel destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
pub(crate) mod tun_type {
    pub(crate) const IPIP: u8 = 0;
    pub(crate) const GUE: u8 = 1;
    pub(crate) const GRE: u8 = 2;
}

/// Tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
pub(crate) mod tun_flags {
    /// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM`: checksum the UDP or GRE header.
    pub(crate) const CSUM: u16 = 1 << 0;
    /// `IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM`: remote checksum offload (GUE).
    pub(crate) const REMCSUM: u16 = 1 << 1;
}

/// Connection flags (`IP_VS_CONN_F_*`); the low bits are the forwarding method ([`fwd`]).
pub(crate) mod conn_flags {
    /// Hashed in the connection table (never sent to a backup).
    pub(crate) const HASHED: u32 = 0x0040;
    /// Created by the sync daemon of a backup director.
    pub(crate) const SYNC: u32 = 0x0020;
    /// Sequence adjustment of an application helper, in and out.
    pub(crate) const SEQ_MASK: u32 = 0x0600;
    /// No client port known yet.
    pub(crate) const NO_CPORT: u32 = 0x0800;
    /// Replies do not pass the director (DR, TUN).
    pub(crate) const NOOUTPUT: u32 = 0x0080;
    /// Counted in the destination's inactive connections.
    pub(crate) const INACTIVE: u32 = 0x0100;
    /// A persistence template.
    pub(crate) const TEMPLATE: u32 = 0x1000;
    /// One-packet scheduling: never hashed, released after its packet.
    pub(crate) const ONE_PACKET: u32 = 0x2000;
    /// Keep conntrack for this connection (`IP_VS_CONN_F_NFCT`).
    pub(crate) const NFCT: u32 = 1 << 16;
    /// The bits a backup takes from a sync message (`IP_VS_CONN_F_BACKUP_MASK`).
    pub(crate) const BACKUP_MASK: u32 =
        super::fwd::MASK | NOOUTPUT | INACTIVE | SEQ_MASK | NO_CPORT | TEMPLATE;
    /// The bits a sync message may change in a backup's connection
    /// (`IP_VS_CONN_F_BACKUP_UPD_MASK`).
    pub(crate) const BACKUP_UPD_MASK: u32 = INACTIVE | SEQ_MASK;
}

pub(crate) const AF_INET: u16 = 2;
pub(crate) const AF_INET6: u16 = 10;

/// IP protocol numbers (`IPPROTO_*`).
pub(crate) mod ipproto {
    /// `IPPROTO_IP`: the protocol of firewall-mark templates.
    pub(crate) const IP: u8 = 0;
    pub(crate) const ICMP: u8 = 1;
    /// `IPPROTO_IPIP`: IPv4 in IPv4.
    pub(crate) const IPIP: u8 = 4;
    /// `IPPROTO_IPV6`: IPv6 in IPv4 or IPv6.
    pub(crate) const IPV6: u8 = 41;
    pub(crate) const TCP: u8 = 6;
    pub(crate) const UDP: u8 = 17;
    /// `IPPROTO_GRE`.
    pub(crate) const GRE: u8 = 47;
    pub(crate) const ICMPV6: u8 = 58;
    pub(crate) const SCTP: u8 = 132;
    /// `NEXTHDR_HOP`: IPv6 hop-by-hop options.
    pub(crate) const HOPOPTS: u8 = 0;
    /// `NEXTHDR_ROUTING`: an IPv6 routing header.
    pub(crate) const ROUTING: u8 = 43;
    /// `NEXTHDR_FRAGMENT`: an IPv6 fragment header.
    pub(crate) const FRAGMENT: u8 = 44;
    /// `NEXTHDR_AUTH`: an authentication header.
    pub(crate) const AH: u8 = 51;
    /// `NEXTHDR_DEST`: IPv6 destination options.
    pub(crate) const DSTOPTS: u8 = 60;
}

pub(crate) const SCHEDNAME_MAXLEN: usize = 16;
