//! Numbers from `include/uapi/linux/ip_vs.h`, `netlink.h` and `genetlink.h`.

/// The generic netlink family name.
pub const IPVS_GENL_NAME: &str = "IPVS";
/// `IPVS_GENL_VERSION`.
pub const IPVS_GENL_VERSION: u8 = 1;

/// `NLMSG_HDRLEN`.
pub const NLMSG_HDRLEN: usize = 16;
/// `GENL_HDRLEN`.
pub const GENL_HDRLEN: usize = 4;
/// `NLMSG_NOOP`: the message type the probe after each request uses.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: errors and ACKs.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// `NLMSG_OVERRUN`.
pub const NLMSG_OVERRUN: u16 = 4;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_ECHO`.
pub const NLM_F_ECHO: u16 = 0x8;
/// `NLM_F_ROOT`.
pub const NLM_F_ROOT: u16 = 0x100;
/// `NLM_F_MATCH`.
pub const NLM_F_MATCH: u16 = 0x200;
/// `NLM_F_DUMP`: both of ROOT and MATCH.
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;

/// `IPVS_CMD_NEW_SERVICE`.
pub const CMD_NEW_SERVICE: u8 = 1;
/// `IPVS_CMD_SET_SERVICE`.
pub const CMD_SET_SERVICE: u8 = 2;
/// `IPVS_CMD_DEL_SERVICE`.
pub const CMD_DEL_SERVICE: u8 = 3;
/// `IPVS_CMD_GET_SERVICE`.
pub const CMD_GET_SERVICE: u8 = 4;
/// `IPVS_CMD_NEW_DEST`.
pub const CMD_NEW_DEST: u8 = 5;
/// `IPVS_CMD_SET_DEST`.
pub const CMD_SET_DEST: u8 = 6;
/// `IPVS_CMD_DEL_DEST`.
pub const CMD_DEL_DEST: u8 = 7;
/// `IPVS_CMD_GET_DEST`.
pub const CMD_GET_DEST: u8 = 8;
/// `IPVS_CMD_NEW_DAEMON`.
pub const CMD_NEW_DAEMON: u8 = 9;
/// `IPVS_CMD_DEL_DAEMON`.
pub const CMD_DEL_DAEMON: u8 = 10;
/// `IPVS_CMD_GET_DAEMON`.
pub const CMD_GET_DAEMON: u8 = 11;
/// `IPVS_CMD_SET_CONFIG`.
pub const CMD_SET_CONFIG: u8 = 12;
/// `IPVS_CMD_GET_CONFIG`.
pub const CMD_GET_CONFIG: u8 = 13;
/// `IPVS_CMD_SET_INFO` (reply only).
pub const CMD_SET_INFO: u8 = 14;
/// `IPVS_CMD_GET_INFO`.
pub const CMD_GET_INFO: u8 = 15;
/// `IPVS_CMD_ZERO`.
pub const CMD_ZERO: u8 = 16;
/// `IPVS_CMD_FLUSH`.
pub const CMD_FLUSH: u8 = 17;
/// The highest command number the fuzzer sends (18..=20 do not exist).
pub const CMD_FUZZ_MAX: u8 = 20;
/// The family's `resv_start_op`: commands from here on get genetlink's strict header check.
pub const RESV_START_OP: u8 = CMD_FLUSH + 1;

/// `IPVS_CMD_ATTR_SERVICE`.
pub const CMD_ATTR_SERVICE: u16 = 1;
/// `IPVS_CMD_ATTR_DEST`.
pub const CMD_ATTR_DEST: u16 = 2;
/// `IPVS_CMD_ATTR_DAEMON`.
pub const CMD_ATTR_DAEMON: u16 = 3;
/// `IPVS_CMD_ATTR_TIMEOUT_TCP`.
pub const CMD_ATTR_TIMEOUT_TCP: u16 = 4;
/// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`.
pub const CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
/// `IPVS_CMD_ATTR_TIMEOUT_UDP`.
pub const CMD_ATTR_TIMEOUT_UDP: u16 = 6;
/// `IPVS_CMD_ATTR_MAX`.
pub const CMD_ATTR_MAX: u16 = 6;

/// `IPVS_SVC_ATTR_AF`.
pub const SVC_ATTR_AF: u16 = 1;
/// `IPVS_SVC_ATTR_PROTOCOL`.
pub const SVC_ATTR_PROTOCOL: u16 = 2;
/// `IPVS_SVC_ATTR_ADDR`.
pub const SVC_ATTR_ADDR: u16 = 3;
/// `IPVS_SVC_ATTR_PORT`.
pub const SVC_ATTR_PORT: u16 = 4;
/// `IPVS_SVC_ATTR_FWMARK`.
pub const SVC_ATTR_FWMARK: u16 = 5;
/// `IPVS_SVC_ATTR_SCHED_NAME`.
pub const SVC_ATTR_SCHED_NAME: u16 = 6;
/// `IPVS_SVC_ATTR_FLAGS`.
pub const SVC_ATTR_FLAGS: u16 = 7;
/// `IPVS_SVC_ATTR_TIMEOUT`.
pub const SVC_ATTR_TIMEOUT: u16 = 8;
/// `IPVS_SVC_ATTR_NETMASK`.
pub const SVC_ATTR_NETMASK: u16 = 9;
/// `IPVS_SVC_ATTR_STATS`.
pub const SVC_ATTR_STATS: u16 = 10;
/// `IPVS_SVC_ATTR_PE_NAME`.
pub const SVC_ATTR_PE_NAME: u16 = 11;
/// `IPVS_SVC_ATTR_MAX` (STATS64 = 12).
pub const SVC_ATTR_MAX: u16 = 12;

/// `IPVS_DEST_ATTR_ADDR`.
pub const DEST_ATTR_ADDR: u16 = 1;
/// `IPVS_DEST_ATTR_PORT`.
pub const DEST_ATTR_PORT: u16 = 2;
/// `IPVS_DEST_ATTR_FWD_METHOD`.
pub const DEST_ATTR_FWD_METHOD: u16 = 3;
/// `IPVS_DEST_ATTR_WEIGHT`.
pub const DEST_ATTR_WEIGHT: u16 = 4;
/// `IPVS_DEST_ATTR_U_THRESH`.
pub const DEST_ATTR_U_THRESH: u16 = 5;
/// `IPVS_DEST_ATTR_L_THRESH`.
pub const DEST_ATTR_L_THRESH: u16 = 6;
/// `IPVS_DEST_ATTR_STATS`.
pub const DEST_ATTR_STATS: u16 = 10;
/// `IPVS_DEST_ATTR_ADDR_FAMILY`.
pub const DEST_ATTR_ADDR_FAMILY: u16 = 11;
/// `IPVS_DEST_ATTR_TUN_TYPE`.
pub const DEST_ATTR_TUN_TYPE: u16 = 13;
/// `IPVS_DEST_ATTR_TUN_PORT`.
pub const DEST_ATTR_TUN_PORT: u16 = 14;
/// `IPVS_DEST_ATTR_TUN_FLAGS`.
pub const DEST_ATTR_TUN_FLAGS: u16 = 15;
/// `IPVS_DEST_ATTR_MAX`.
pub const DEST_ATTR_MAX: u16 = 15;

/// `IPVS_DAEMON_ATTR_STATE`.
pub const DAEMON_ATTR_STATE: u16 = 1;
/// `IPVS_DAEMON_ATTR_MCAST_IFN`.
pub const DAEMON_ATTR_MCAST_IFN: u16 = 2;
/// `IPVS_DAEMON_ATTR_SYNC_ID`.
pub const DAEMON_ATTR_SYNC_ID: u16 = 3;
/// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`.
pub const DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
/// `IPVS_DAEMON_ATTR_MCAST_GROUP`.
pub const DAEMON_ATTR_MCAST_GROUP: u16 = 5;
/// `IPVS_DAEMON_ATTR_MCAST_GROUP6`.
pub const DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
/// `IPVS_DAEMON_ATTR_MCAST_PORT`.
pub const DAEMON_ATTR_MCAST_PORT: u16 = 7;
/// `IPVS_DAEMON_ATTR_MCAST_TTL`.
pub const DAEMON_ATTR_MCAST_TTL: u16 = 8;
/// `IPVS_DAEMON_ATTR_MAX`.
pub const DAEMON_ATTR_MAX: u16 = 8;

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u16 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u16 = 17;
/// `IP_VS_CONN_F_FWD_MASK`.
pub const CONN_F_FWD_MASK: u32 = 0x7;
/// `IP_VS_CONN_F_TUNNEL`.
pub const CONN_F_TUNNEL: u32 = 0x2;
/// `IP_VS_CONN_F_TUNNEL_TYPE_GUE`.
pub const TUNNEL_TYPE_GUE: u8 = 1;
