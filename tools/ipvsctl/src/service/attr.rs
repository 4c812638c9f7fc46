//! `IPVS_SVC_ATTR_*`: the attributes nested in `IPVS_CMD_ATTR_SERVICE`.

use netlink_packet_core::{
    parse_string, parse_u16, parse_u16_be, parse_u32, DecodeError, DefaultNla, Emitable,
    ErrorContext, Nla, NlaBuffer, NlasIterator, Parseable,
};

use crate::addr::InetAddr;
use crate::stats::{parse_stats_nlas, Stats32Attr, Stats64Attr};

/// `IPVS_SVC_ATTR_AF`: address family (u16).
const IPVS_SVC_ATTR_AF: u16 = 1;
/// `IPVS_SVC_ATTR_PROTOCOL`: IP protocol number (u16).
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
/// `IPVS_SVC_ATTR_ADDR`: virtual address (`union nf_inet_addr`).
const IPVS_SVC_ATTR_ADDR: u16 = 3;
/// `IPVS_SVC_ATTR_PORT`: virtual port (be16).
const IPVS_SVC_ATTR_PORT: u16 = 4;
/// `IPVS_SVC_ATTR_FWMARK`: firewall mark (u32).
const IPVS_SVC_ATTR_FWMARK: u16 = 5;
/// `IPVS_SVC_ATTR_SCHED_NAME`: scheduler name (NUL-terminated string).
const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
/// `IPVS_SVC_ATTR_FLAGS`: `struct ip_vs_flags`.
const IPVS_SVC_ATTR_FLAGS: u16 = 7;
/// `IPVS_SVC_ATTR_TIMEOUT`: persistence timeout in seconds (u32).
const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
/// `IPVS_SVC_ATTR_NETMASK`: persistence netmask (be32 mask for IPv4, prefix length for IPv6).
const IPVS_SVC_ATTR_NETMASK: u16 = 9;
/// `IPVS_SVC_ATTR_STATS`: legacy counters (nested).
const IPVS_SVC_ATTR_STATS: u16 = 10;
/// `IPVS_SVC_ATTR_PE_NAME`: persistence engine name (NUL-terminated string).
const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
/// `IPVS_SVC_ATTR_STATS64`: 64-bit counters (nested, replies only).
const IPVS_SVC_ATTR_STATS64: u16 = 12;

/// `struct ip_vs_flags`: the new flags and the mask of the bits to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SvcFlags {
    /// Flag values (`IP_VS_SVC_F_*`).
    pub flags: u32,
    /// Bits of `flags` that apply; libipvs and the kernel's replies use all ones.
    pub mask: u32,
}

impl SvcFlags {
    /// Wire size of `struct ip_vs_flags`.
    const LEN: usize = 8;
}

/// One attribute of a service nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcAttr {
    /// Address family (`AF_INET` or `AF_INET6`).
    Af(u16),
    /// IP protocol (`IPPROTO_TCP`, `IPPROTO_UDP`, `IPPROTO_SCTP`).
    Protocol(u16),
    /// Virtual address.
    Addr(InetAddr),
    /// Virtual port, in host order here and network order on the wire.
    Port(u16),
    /// Firewall mark of a fwmark service.
    Fwmark(u32),
    /// Scheduler name.
    SchedName(String),
    /// Service flags and mask.
    Flags(SvcFlags),
    /// Persistence timeout in seconds.
    Timeout(u32),
    /// Raw persistence netmask (see [`crate::addr::parse_netmask`]).
    Netmask(u32),
    /// Legacy counters.
    Stats(Vec<Stats32Attr>),
    /// Persistence engine name.
    PeName(String),
    /// 64-bit counters.
    Stats64(Vec<Stats64Attr>),
    /// An attribute this tool does not know.
    Other(DefaultNla),
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Af(_) | Self::Protocol(_) | Self::Port(_) => 2,
            Self::Fwmark(_) | Self::Timeout(_) | Self::Netmask(_) => 4,
            Self::Addr(addr) => addr.0.len(),
            Self::SchedName(s) | Self::PeName(s) => s.len() + 1,
            Self::Flags(_) => SvcFlags::LEN,
            Self::Stats(nlas) => nlas.as_slice().buffer_len(),
            Self::Stats64(nlas) => nlas.as_slice().buffer_len(),
            Self::Other(attr) => attr.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        // Nests go out without NLA_F_NESTED, as the kernel and moby/ipvs send them.
        match self {
            Self::Af(_) => IPVS_SVC_ATTR_AF,
            Self::Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Self::Addr(_) => IPVS_SVC_ATTR_ADDR,
            Self::Port(_) => IPVS_SVC_ATTR_PORT,
            Self::Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            Self::SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Self::Flags(_) => IPVS_SVC_ATTR_FLAGS,
            Self::Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Self::Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Self::Stats(_) => IPVS_SVC_ATTR_STATS,
            Self::PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            Self::Stats64(_) => IPVS_SVC_ATTR_STATS64,
            Self::Other(attr) => attr.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Af(v) | Self::Protocol(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            Self::Port(port) => buffer.copy_from_slice(&port.to_be_bytes()),
            Self::Fwmark(v) | Self::Timeout(v) | Self::Netmask(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            Self::Addr(addr) => buffer.copy_from_slice(&addr.0),
            Self::SchedName(s) | Self::PeName(s) => {
                buffer[..s.len()].copy_from_slice(s.as_bytes());
                buffer[s.len()] = 0;
            }
            Self::Flags(flags) => {
                buffer[..4].copy_from_slice(&flags.flags.to_ne_bytes());
                buffer[4..].copy_from_slice(&flags.mask.to_ne_bytes());
            }
            Self::Stats(nlas) => nlas.as_slice().emit(buffer),
            Self::Stats64(nlas) => nlas.as_slice().emit(buffer),
            Self::Other(attr) => attr.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for SvcAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => Self::Af(parse_u16(payload).context("invalid IPVS_SVC_ATTR_AF")?),
            IPVS_SVC_ATTR_PROTOCOL => {
                Self::Protocol(parse_u16(payload).context("invalid IPVS_SVC_ATTR_PROTOCOL")?)
            }
            IPVS_SVC_ATTR_ADDR => {
                Self::Addr(InetAddr::parse(payload).context("invalid IPVS_SVC_ATTR_ADDR")?)
            }
            IPVS_SVC_ATTR_PORT => {
                Self::Port(parse_u16_be(payload).context("invalid IPVS_SVC_ATTR_PORT")?)
            }
            IPVS_SVC_ATTR_FWMARK => {
                Self::Fwmark(parse_u32(payload).context("invalid IPVS_SVC_ATTR_FWMARK")?)
            }
            IPVS_SVC_ATTR_SCHED_NAME => {
                Self::SchedName(parse_string(payload).context("invalid IPVS_SVC_ATTR_SCHED_NAME")?)
            }
            IPVS_SVC_ATTR_FLAGS => {
                if payload.len() != SvcFlags::LEN {
                    return Err(DecodeError::from(format!(
                        "invalid IPVS_SVC_ATTR_FLAGS: {} bytes, expected {}",
                        payload.len(),
                        SvcFlags::LEN
                    )));
                }
                Self::Flags(SvcFlags {
                    flags: parse_u32(&payload[..4])?,
                    mask: parse_u32(&payload[4..])?,
                })
            }
            IPVS_SVC_ATTR_TIMEOUT => {
                Self::Timeout(parse_u32(payload).context("invalid IPVS_SVC_ATTR_TIMEOUT")?)
            }
            IPVS_SVC_ATTR_NETMASK => {
                Self::Netmask(parse_u32(payload).context("invalid IPVS_SVC_ATTR_NETMASK")?)
            }
            IPVS_SVC_ATTR_STATS => Self::Stats(parse_stats_nlas(payload)?),
            IPVS_SVC_ATTR_PE_NAME => {
                Self::PeName(parse_string(payload).context("invalid IPVS_SVC_ATTR_PE_NAME")?)
            }
            IPVS_SVC_ATTR_STATS64 => Self::Stats64(parse_stats_nlas(payload)?),
            _ => Self::Other(DefaultNla::parse(buf).context("invalid service NLA (unknown kind)")?),
        })
    }
}

/// Parses the attributes of a service nest.
pub fn parse_svc_nlas(payload: &[u8]) -> Result<Vec<SvcAttr>, DecodeError> {
    NlasIterator::new(payload)
        .map(|nla| nla.and_then(|nla| SvcAttr::parse(&nla)))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to parse IPVS service attributes")
}
