//! The IPVS generic netlink message: commands, top-level attributes and [`GenlFamily`].

use netlink_packet_core::{
    parse_u32, DecodeError, DefaultNla, Emitable, ErrorContext, Nla, NlaBuffer, NlasIterator,
    Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::daemon::attr::{parse_daemon_nlas, DaemonAttr};
use crate::dest::attr::{parse_dest_nlas, DestAttr};
use crate::service::attr::{parse_svc_nlas, SvcAttr};

/// The family name the kernel registers.
pub const IPVS_GENL_NAME: &str = "IPVS";
/// `IPVS_GENL_VERSION`.
pub const IPVS_GENL_VERSION: u8 = 1;

/// `IPVS_CMD_ATTR_SERVICE`: nested service.
const IPVS_CMD_ATTR_SERVICE: u16 = 1;
/// `IPVS_CMD_ATTR_DEST`: nested destination.
const IPVS_CMD_ATTR_DEST: u16 = 2;
/// `IPVS_CMD_ATTR_DAEMON`: nested sync daemon.
const IPVS_CMD_ATTR_DAEMON: u16 = 3;
/// `IPVS_CMD_ATTR_TIMEOUT_TCP`: TCP ESTABLISHED timeout (u32 seconds).
const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
/// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`: TCP FIN_WAIT timeout (u32 seconds).
const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
/// `IPVS_CMD_ATTR_TIMEOUT_UDP`: UDP timeout (u32 seconds).
const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;

/// `IPVS_INFO_ATTR_VERSION`: IPVS version code (u32, `0x010201` = 1.2.1).
const IPVS_INFO_ATTR_VERSION: u16 = 1;
/// `IPVS_INFO_ATTR_CONN_TAB_SIZE`: connection hash table size (u32).
const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

/// `IPVS_CMD_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpvsCmd {
    /// Add a service (1).
    NewService,
    /// Edit a service (2).
    SetService,
    /// Delete a service (3).
    DelService,
    /// Get one service or dump all (4).
    GetService,
    /// Add a destination (5).
    NewDest,
    /// Edit a destination (6).
    SetDest,
    /// Delete a destination (7).
    DelDest,
    /// Dump a service's destinations (8).
    GetDest,
    /// Start a sync daemon (9).
    NewDaemon,
    /// Stop a sync daemon (10).
    DelDaemon,
    /// Dump the sync daemons (11).
    GetDaemon,
    /// Set the timeouts (12; libipvs calls it SET_TIMEOUT); also the GET_CONFIG reply.
    SetConfig,
    /// Get the timeouts (13).
    GetConfig,
    /// The GET_INFO reply (14).
    SetInfo,
    /// Get version and table size (15).
    GetInfo,
    /// Zero counters (16).
    Zero,
    /// Delete everything (17).
    Flush,
}

impl From<IpvsCmd> for u8 {
    fn from(cmd: IpvsCmd) -> u8 {
        match cmd {
            IpvsCmd::NewService => 1,
            IpvsCmd::SetService => 2,
            IpvsCmd::DelService => 3,
            IpvsCmd::GetService => 4,
            IpvsCmd::NewDest => 5,
            IpvsCmd::SetDest => 6,
            IpvsCmd::DelDest => 7,
            IpvsCmd::GetDest => 8,
            IpvsCmd::NewDaemon => 9,
            IpvsCmd::DelDaemon => 10,
            IpvsCmd::GetDaemon => 11,
            IpvsCmd::SetConfig => 12,
            IpvsCmd::GetConfig => 13,
            IpvsCmd::SetInfo => 14,
            IpvsCmd::GetInfo => 15,
            IpvsCmd::Zero => 16,
            IpvsCmd::Flush => 17,
        }
    }
}

impl TryFrom<u8> for IpvsCmd {
    type Error = DecodeError;

    fn try_from(value: u8) -> Result<Self, DecodeError> {
        Ok(match value {
            1 => Self::NewService,
            2 => Self::SetService,
            3 => Self::DelService,
            4 => Self::GetService,
            5 => Self::NewDest,
            6 => Self::SetDest,
            7 => Self::DelDest,
            8 => Self::GetDest,
            9 => Self::NewDaemon,
            10 => Self::DelDaemon,
            11 => Self::GetDaemon,
            12 => Self::SetConfig,
            13 => Self::GetConfig,
            14 => Self::SetInfo,
            15 => Self::GetInfo,
            16 => Self::Zero,
            17 => Self::Flush,
            other => return Err(DecodeError::from(format!("unknown IPVS command {other}"))),
        })
    }
}

/// `IPVS_INFO_ATTR_*`: the top-level attributes of a SET_INFO (GET_INFO reply) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoAttr {
    /// Version code.
    Version(u32),
    /// Connection table size.
    ConnTabSize(u32),
    /// An attribute this tool does not know.
    Other(DefaultNla),
}

impl Nla for InfoAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Version(_) | Self::ConnTabSize(_) => 4,
            Self::Other(attr) => attr.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Version(_) => IPVS_INFO_ATTR_VERSION,
            Self::ConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            Self::Other(attr) => attr.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Version(v) | Self::ConnTabSize(v) => buffer.copy_from_slice(&v.to_ne_bytes()),
            Self::Other(attr) => attr.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for InfoAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_INFO_ATTR_VERSION => {
                Self::Version(parse_u32(payload).context("invalid IPVS_INFO_ATTR_VERSION")?)
            }
            IPVS_INFO_ATTR_CONN_TAB_SIZE => Self::ConnTabSize(
                parse_u32(payload).context("invalid IPVS_INFO_ATTR_CONN_TAB_SIZE")?,
            ),
            _ => Self::Other(DefaultNla::parse(buf).context("invalid info NLA (unknown kind)")?),
        })
    }
}

/// A top-level attribute of an IPVS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsAttr {
    /// `IPVS_CMD_ATTR_SERVICE`.
    Service(Vec<SvcAttr>),
    /// `IPVS_CMD_ATTR_DEST`.
    Dest(Vec<DestAttr>),
    /// `IPVS_CMD_ATTR_DAEMON`.
    Daemon(Vec<DaemonAttr>),
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP`.
    TimeoutTcp(u32),
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`.
    TimeoutTcpFin(u32),
    /// `IPVS_CMD_ATTR_TIMEOUT_UDP`.
    TimeoutUdp(u32),
    /// `IPVS_INFO_ATTR_*`, which SET_INFO carries at the top level instead of the above.
    Info(InfoAttr),
    /// An attribute this tool does not know.
    Other(DefaultNla),
}

impl Nla for IpvsAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Service(nlas) => nlas.as_slice().buffer_len(),
            Self::Dest(nlas) => nlas.as_slice().buffer_len(),
            Self::Daemon(nlas) => nlas.as_slice().buffer_len(),
            Self::TimeoutTcp(_) | Self::TimeoutTcpFin(_) | Self::TimeoutUdp(_) => 4,
            Self::Info(attr) => attr.value_len(),
            Self::Other(attr) => attr.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        // Nests go out without NLA_F_NESTED: the kernel parses IPVS with the deprecated
        // (non-strict) parser, emits its own nests without the flag, and moby/ipvs omits it too.
        match self {
            Self::Service(_) => IPVS_CMD_ATTR_SERVICE,
            Self::Dest(_) => IPVS_CMD_ATTR_DEST,
            Self::Daemon(_) => IPVS_CMD_ATTR_DAEMON,
            Self::TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            Self::TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            Self::TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            Self::Info(attr) => attr.kind(),
            Self::Other(attr) => attr.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Service(nlas) => nlas.as_slice().emit(buffer),
            Self::Dest(nlas) => nlas.as_slice().emit(buffer),
            Self::Daemon(nlas) => nlas.as_slice().emit(buffer),
            Self::TimeoutTcp(v) | Self::TimeoutTcpFin(v) | Self::TimeoutUdp(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            Self::Info(attr) => attr.emit_value(buffer),
            Self::Other(attr) => attr.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_CMD_ATTR_SERVICE => Self::Service(parse_svc_nlas(payload)?),
            IPVS_CMD_ATTR_DEST => Self::Dest(parse_dest_nlas(payload)?),
            IPVS_CMD_ATTR_TIMEOUT_TCP => {
                Self::TimeoutTcp(parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => Self::TimeoutTcpFin(
                parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?,
            ),
            IPVS_CMD_ATTR_TIMEOUT_UDP => {
                Self::TimeoutUdp(parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_UDP")?)
            }
            IPVS_CMD_ATTR_DAEMON => Self::Daemon(parse_daemon_nlas(payload)?),
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS NLA (unknown kind)")?),
        })
    }
}

/// An IPVS generic netlink message: a command and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command (`genlmsghdr.cmd`).
    pub cmd: IpvsCmd,
    /// The top-level attributes.
    pub nlas: Vec<IpvsAttr>,
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.nlas.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.nlas.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buffer: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let cmd = IpvsCmd::try_from(header.cmd)?;
        let mut nlas = Vec::new();
        for nla in NlasIterator::new(buffer) {
            let nla = nla.context("failed to parse IPVS message attributes")?;
            nlas.push(match cmd {
                IpvsCmd::SetInfo => IpvsAttr::Info(InfoAttr::parse(&nla)?),
                _ => IpvsAttr::parse(&nla)?,
            });
        }
        Ok(Self { cmd, nlas })
    }
}

impl IpvsMessage {
    /// A message with no attributes.
    pub fn bare(cmd: IpvsCmd) -> Self {
        Self {
            cmd,
            nlas: Vec::new(),
        }
    }

    /// A message with one service nest.
    pub fn with_service(cmd: IpvsCmd, svc: Vec<SvcAttr>) -> Self {
        Self {
            cmd,
            nlas: vec![IpvsAttr::Service(svc)],
        }
    }

    /// A message with a service nest and a destination nest.
    pub fn with_dest(cmd: IpvsCmd, svc: Vec<SvcAttr>, dest: Vec<DestAttr>) -> Self {
        Self {
            cmd,
            nlas: vec![IpvsAttr::Service(svc), IpvsAttr::Dest(dest)],
        }
    }

    /// A message with one sync daemon nest.
    pub fn with_daemon(cmd: IpvsCmd, daemon: Vec<DaemonAttr>) -> Self {
        Self {
            cmd,
            nlas: vec![IpvsAttr::Daemon(daemon)],
        }
    }

    /// SET_CONFIG with all three timeouts (0 leaves one unchanged).
    pub fn set_config(tcp: u32, tcp_fin: u32, udp: u32) -> Self {
        Self {
            cmd: IpvsCmd::SetConfig,
            nlas: vec![
                IpvsAttr::TimeoutTcp(tcp),
                IpvsAttr::TimeoutTcpFin(tcp_fin),
                IpvsAttr::TimeoutUdp(udp),
            ],
        }
    }

    /// The first service nest of the message, if any.
    pub fn service_nlas(&self) -> Option<&[SvcAttr]> {
        self.nlas.iter().find_map(|nla| match nla {
            IpvsAttr::Service(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    /// The first destination nest of the message, if any.
    pub fn dest_nlas(&self) -> Option<&[DestAttr]> {
        self.nlas.iter().find_map(|nla| match nla {
            IpvsAttr::Dest(d) => Some(d.as_slice()),
            _ => None,
        })
    }

    /// The first sync daemon nest of the message, if any.
    pub fn daemon_nlas(&self) -> Option<&[DaemonAttr]> {
        self.nlas.iter().find_map(|nla| match nla {
            IpvsAttr::Daemon(d) => Some(d.as_slice()),
            _ => None,
        })
    }
}
