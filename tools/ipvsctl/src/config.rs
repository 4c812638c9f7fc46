//! Global IPVS settings: version and table size (GET_INFO) and timeouts (GET/SET_CONFIG).

use netlink_packet_core::DecodeError;
use serde::Serialize;

use crate::message::{InfoAttr, IpvsAttr, IpvsMessage};

/// What GET_INFO reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Info {
    /// Version code, `0x010201` for 1.2.1.
    pub version: u32,
    /// Connection hash table size.
    pub conn_tab_size: u32,
}

impl Info {
    /// Reads a SET_INFO reply; like libipvs, it needs both attributes.
    pub fn from_message(msg: &IpvsMessage) -> Result<Self, DecodeError> {
        let mut version = None;
        let mut size = None;
        for nla in &msg.nlas {
            match nla {
                IpvsAttr::Info(InfoAttr::Version(v)) => version = Some(*v),
                IpvsAttr::Info(InfoAttr::ConnTabSize(v)) => size = Some(*v),
                _ => {}
            }
        }
        Ok(Self {
            version: version.ok_or("GET_INFO reply without IPVS_INFO_ATTR_VERSION")?,
            conn_tab_size: size.ok_or("GET_INFO reply without IPVS_INFO_ATTR_CONN_TAB_SIZE")?,
        })
    }

    /// The version as `major.minor.patch`.
    pub fn version_text(&self) -> String {
        format!(
            "{}.{}.{}",
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff
        )
    }

    /// The banner `ipvsadm -L` starts with.
    pub fn banner(&self) -> String {
        format!(
            "IP Virtual Server version {} (size={})",
            self.version_text(),
            self.conn_tab_size
        )
    }
}

/// The connection timeouts in seconds (0 in a SET_CONFIG request leaves one unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    /// TCP ESTABLISHED.
    pub tcp: u32,
    /// TCP FIN_WAIT.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

impl Timeouts {
    /// Reads a GET_CONFIG reply (command SET_CONFIG); missing values read as 0.
    pub fn from_message(msg: &IpvsMessage) -> Self {
        let mut t = Self::default();
        for nla in &msg.nlas {
            match nla {
                IpvsAttr::TimeoutTcp(v) => t.tcp = *v,
                IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
                IpvsAttr::TimeoutUdp(v) => t.udp = *v,
                _ => {}
            }
        }
        t
    }

    /// The line `ipvsadm --timeout` prints.
    pub fn line(&self) -> String {
        format!(
            "Timeout (tcp tcpfin udp): {} {} {}",
            self.tcp, self.tcp_fin, self.udp
        )
    }
}
