//! Connection-sync daemons: start (NEW_DAEMON), stop (DEL_DAEMON) and list (GET_DAEMON), as
//! ipvsadm's `--start-daemon`, `--stop-daemon` and `-L --daemon` do.

pub mod attr;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use clap::ValueEnum;
use netlink_packet_core::DecodeError;

use self::attr::DaemonAttr;
use crate::message::{IpvsCmd, IpvsMessage};

/// `IP_VS_STATE_MASTER`.
const IP_VS_STATE_MASTER: u32 = 1;
/// `IP_VS_STATE_BACKUP`.
const IP_VS_STATE_BACKUP: u32 = 2;

/// The longest interface name: `IP_VS_IFNAME_MAXLEN` (16) less the NUL.
pub const MAX_IFNAME_LEN: usize = 15;

/// Which side of connection sync a daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncState {
    /// Sends this director's connections to the multicast group.
    Master,
    /// Receives the connections of a master.
    Backup,
}

impl SyncState {
    /// The `IP_VS_STATE_*` value.
    pub fn value(self) -> u32 {
        match self {
            Self::Master => IP_VS_STATE_MASTER,
            Self::Backup => IP_VS_STATE_BACKUP,
        }
    }

    /// The state of a STATE value, read as ipvsadm reads it (the master bit wins).
    pub fn from_value(v: u32) -> Option<Self> {
        if v & IP_VS_STATE_MASTER != 0 {
            Some(Self::Master)
        } else if v & IP_VS_STATE_BACKUP != 0 {
            Some(Self::Backup)
        } else {
            None
        }
    }

    /// The name ipvsadm uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::Backup => "backup",
        }
    }
}

/// A sync daemon: what `daemon start` asks for, or what GET_DAEMON reports.
///
/// The optional settings are left to the kernel when not given (group 224.0.0.81, port 8848,
/// TTL 1, message size from the interface MTU); GET_DAEMON reports them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    /// Master or backup.
    pub state: SyncState,
    /// The multicast interface.
    pub ifname: String,
    /// The sync id (ipvsadm sends 0 when none is given).
    pub syncid: u32,
    /// The largest sync message.
    pub maxlen: Option<u16>,
    /// The multicast group, IPv4 or IPv6.
    pub group: Option<IpAddr>,
    /// The UDP port.
    pub port: Option<u16>,
    /// The multicast TTL.
    pub ttl: Option<u8>,
}

impl Daemon {
    /// A daemon on an interface with the kernel's defaults.
    pub fn new(state: SyncState, ifname: impl Into<String>, syncid: u32) -> Self {
        Self {
            state,
            ifname: ifname.into(),
            syncid,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// The attributes of NEW_DAEMON, in libipvs's order: STATE, MCAST_IFN, SYNC_ID (all three
    /// required by the kernel), then SYNC_MAXLEN, MCAST_PORT, MCAST_TTL and MCAST_GROUP or
    /// MCAST_GROUP6 when given.
    pub fn to_nlas(&self) -> Vec<DaemonAttr> {
        let mut nlas = vec![
            DaemonAttr::State(self.state.value()),
            DaemonAttr::McastIfn(self.ifname.clone()),
            DaemonAttr::SyncId(self.syncid),
        ];
        if let Some(maxlen) = self.maxlen {
            nlas.push(DaemonAttr::SyncMaxlen(maxlen));
        }
        if let Some(port) = self.port {
            nlas.push(DaemonAttr::McastPort(port));
        }
        if let Some(ttl) = self.ttl {
            nlas.push(DaemonAttr::McastTtl(ttl));
        }
        match self.group {
            Some(IpAddr::V6(v6)) => nlas.push(DaemonAttr::McastGroup6(v6.octets())),
            Some(IpAddr::V4(v4)) => nlas.push(DaemonAttr::McastGroup(v4.octets())),
            None => {}
        }
        nlas
    }

    /// Reads a daemon nest of a GET_DAEMON reply; like libipvs, it needs STATE, MCAST_IFN and
    /// SYNC_ID. An IPv4 group wins over an IPv6 one, as in libipvs.
    pub fn from_nlas(nlas: &[DaemonAttr]) -> Result<Self, DecodeError> {
        let mut state = None;
        let mut ifname = None;
        let mut syncid = None;
        let mut maxlen = None;
        let mut group4 = None;
        let mut group6 = None;
        let mut port = None;
        let mut ttl = None;
        for nla in nlas {
            match nla {
                DaemonAttr::State(v) => state = Some(*v),
                DaemonAttr::McastIfn(name) => ifname = Some(name.clone()),
                DaemonAttr::SyncId(v) => syncid = Some(*v),
                DaemonAttr::SyncMaxlen(v) => maxlen = Some(*v),
                DaemonAttr::McastGroup(a) => group4 = Some(IpAddr::V4(Ipv4Addr::from(*a))),
                DaemonAttr::McastGroup6(a) => group6 = Some(IpAddr::V6(Ipv6Addr::from(*a))),
                DaemonAttr::McastPort(v) => port = Some(*v),
                DaemonAttr::McastTtl(v) => ttl = Some(*v),
                DaemonAttr::Other(_) => {}
            }
        }
        let state = state.ok_or("daemon without IPVS_DAEMON_ATTR_STATE")?;
        Ok(Self {
            state: SyncState::from_value(state)
                .ok_or_else(|| DecodeError::from(format!("unknown sync daemon state {state}")))?,
            ifname: ifname.ok_or("daemon without IPVS_DAEMON_ATTR_MCAST_IFN")?,
            syncid: syncid.ok_or("daemon without IPVS_DAEMON_ATTR_SYNC_ID")?,
            maxlen,
            group: group4.or(group6),
            port,
            ttl,
        })
    }

    /// The NEW_DAEMON request.
    pub fn start_request(&self) -> IpvsMessage {
        IpvsMessage::with_daemon(IpvsCmd::NewDaemon, self.to_nlas())
    }

    /// The line `ipvsadm -L --daemon` prints: the settings that are 0 (or, for the group,
    /// absent) are left out.
    pub fn line(&self) -> String {
        // ipvsadm prints the sync id with %d of an int.
        let syncid = i32::from_ne_bytes(self.syncid.to_ne_bytes());
        let mut line = format!(
            "{} sync daemon (mcast={}, syncid={syncid}",
            self.state.name(),
            self.ifname
        );
        if let Some(maxlen) = self.maxlen.filter(|&v| v != 0) {
            line.push_str(&format!(", maxlen={maxlen}"));
        }
        if let Some(group) = self.group {
            line.push_str(&format!(", group={group}"));
        }
        if let Some(port) = self.port.filter(|&v| v != 0) {
            line.push_str(&format!(", port={port}"));
        }
        if let Some(ttl) = self.ttl.filter(|&v| v != 0) {
            line.push_str(&format!(", ttl={ttl}"));
        }
        line.push(')');
        line
    }
}

/// The DEL_DAEMON request: the kernel reads only the state.
pub fn stop_request(state: SyncState) -> IpvsMessage {
    IpvsMessage::with_daemon(IpvsCmd::DelDaemon, vec![DaemonAttr::State(state.value())])
}

/// The GET_DAEMON dump request (no attributes).
pub fn list_request() -> IpvsMessage {
    IpvsMessage::bare(IpvsCmd::GetDaemon)
}

/// Checks an interface name as the kernel would hold it: 1 to 15 bytes (ipvsadm would cut a
/// longer one short and start the daemon on another name).
pub fn parse_ifname(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("empty interface name".into());
    }
    if text.len() > MAX_IFNAME_LEN {
        return Err(format!(
            "interface name longer than {MAX_IFNAME_LEN} bytes: {text}"
        ));
    }
    if text.contains('\0') {
        return Err("interface name with a NUL byte".into());
    }
    Ok(text.to_string())
}

/// A multicast group, IPv4 (224.0.0.0/4) or IPv6 (ff00::/8), as ipvsadm checks it.
pub fn parse_group(text: &str) -> Result<IpAddr, String> {
    match text.parse::<IpAddr>() {
        Ok(ip) if ip.is_multicast() => Ok(ip),
        Ok(IpAddr::V4(_)) => Err(format!("invalid IPv4 mcast-group `{text}'")),
        Ok(IpAddr::V6(_)) => Err(format!("invalid IPv6 mcast-group `{text}'")),
        Err(_) => Err(format!("not an IPv4 or IPv6 address: {text}")),
    }
}
