//! `IPVS_DAEMON_ATTR_*`: the attributes nested in `IPVS_CMD_ATTR_DAEMON`.

use netlink_packet_core::{
    parse_u16, parse_u32, parse_u8, DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer,
    NlasIterator, Parseable,
};

/// `IPVS_DAEMON_ATTR_STATE`: `IP_VS_STATE_MASTER` (1) or `IP_VS_STATE_BACKUP` (2) (u32).
const IPVS_DAEMON_ATTR_STATE: u16 = 1;
/// `IPVS_DAEMON_ATTR_MCAST_IFN`: multicast interface name (NUL-terminated string).
const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
/// `IPVS_DAEMON_ATTR_SYNC_ID`: sync id (u32).
const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
/// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`: largest sync message (u16).
const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
/// `IPVS_DAEMON_ATTR_MCAST_GROUP`: IPv4 multicast group (u32 in network order, `struct in_addr`).
const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
/// `IPVS_DAEMON_ATTR_MCAST_GROUP6`: IPv6 multicast group (`struct in6_addr`).
const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
/// `IPVS_DAEMON_ATTR_MCAST_PORT`: UDP port (u16, host order).
const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
/// `IPVS_DAEMON_ATTR_MCAST_TTL`: multicast TTL (u8).
const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;

/// One attribute of a sync daemon nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    /// Master or backup.
    State(u32),
    /// Multicast interface name.
    McastIfn(String),
    /// Sync id.
    SyncId(u32),
    /// Largest sync message.
    SyncMaxlen(u16),
    /// IPv4 group, as its four address bytes (network order on the wire).
    McastGroup([u8; 4]),
    /// IPv6 group.
    McastGroup6([u8; 16]),
    /// UDP port, in host order here and on the wire.
    McastPort(u16),
    /// Multicast TTL.
    McastTtl(u8),
    /// An attribute this tool does not know.
    Other(DefaultNla),
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::State(_) | Self::SyncId(_) => 4,
            Self::McastIfn(name) => name.len() + 1,
            Self::SyncMaxlen(_) | Self::McastPort(_) => 2,
            Self::McastGroup(addr) => addr.len(),
            Self::McastGroup6(addr) => addr.len(),
            Self::McastTtl(_) => 1,
            Self::Other(attr) => attr.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::State(_) => IPVS_DAEMON_ATTR_STATE,
            Self::McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            Self::SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            Self::SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            Self::McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            Self::McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            Self::McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            Self::McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            Self::Other(attr) => attr.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::State(v) | Self::SyncId(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            Self::McastIfn(name) => {
                buffer[..name.len()].copy_from_slice(name.as_bytes());
                buffer[name.len()] = 0;
            }
            Self::SyncMaxlen(v) | Self::McastPort(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            Self::McastGroup(addr) => buffer.copy_from_slice(addr),
            Self::McastGroup6(addr) => buffer.copy_from_slice(addr),
            Self::McastTtl(v) => buffer[0] = *v,
            Self::Other(attr) => attr.emit_value(buffer),
        }
    }
}

/// A string attribute read as C's `nla_get_string` reads it: up to the first NUL. Interface
/// names are bytes, not necessarily UTF-8; anything else is replaced, not refused.
fn parse_c_string(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

/// A fixed-size address attribute.
fn parse_addr<const N: usize>(payload: &[u8], name: &str) -> Result<[u8; N], DecodeError> {
    payload.try_into().map_err(|_| {
        DecodeError::from(format!(
            "invalid {name}: {} bytes, expected {N}",
            payload.len()
        ))
    })
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => {
                Self::State(parse_u32(payload).context("invalid IPVS_DAEMON_ATTR_STATE")?)
            }
            IPVS_DAEMON_ATTR_MCAST_IFN => Self::McastIfn(parse_c_string(payload)),
            IPVS_DAEMON_ATTR_SYNC_ID => {
                Self::SyncId(parse_u32(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_ID")?)
            }
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => Self::SyncMaxlen(
                parse_u16(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_MAXLEN")?,
            ),
            IPVS_DAEMON_ATTR_MCAST_GROUP => {
                Self::McastGroup(parse_addr(payload, "IPVS_DAEMON_ATTR_MCAST_GROUP")?)
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => {
                Self::McastGroup6(parse_addr(payload, "IPVS_DAEMON_ATTR_MCAST_GROUP6")?)
            }
            IPVS_DAEMON_ATTR_MCAST_PORT => {
                Self::McastPort(parse_u16(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_PORT")?)
            }
            IPVS_DAEMON_ATTR_MCAST_TTL => {
                Self::McastTtl(parse_u8(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_TTL")?)
            }
            _ => Self::Other(DefaultNla::parse(buf).context("invalid daemon NLA (unknown kind)")?),
        })
    }
}

/// Parses the attributes of a daemon nest.
pub fn parse_daemon_nlas(payload: &[u8]) -> Result<Vec<DaemonAttr>, DecodeError> {
    NlasIterator::new(payload)
        .map(|nla| nla.and_then(|nla| DaemonAttr::parse(&nla)))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to parse IPVS daemon attributes")
}
