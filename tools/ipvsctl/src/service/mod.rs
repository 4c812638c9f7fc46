//! Virtual services: the key that names one, its full definition, and their attribute forms.

pub mod attr;

use std::net::IpAddr;

use clap::ValueEnum;
use netlink_packet_core::DecodeError;

use self::attr::{SvcAttr, SvcFlags};
use crate::addr::{format_endpoint, full_netmask, parse_netmask, Endpoint, Family, InetAddr};
use crate::stats::Stats;

/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u16 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u16 = 17;
/// `IPPROTO_SCTP`.
pub const IPPROTO_SCTP: u16 = 132;

/// `IP_VS_SVC_F_PERSISTENT`: persistent service.
pub const IP_VS_SVC_F_PERSISTENT: u32 = 0x0001;
/// `IP_VS_SVC_F_HASHED`: set by the kernel on hashed services; never sent.
pub const IP_VS_SVC_F_HASHED: u32 = 0x0002;
/// `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling.
pub const IP_VS_SVC_F_ONEPACKET: u32 = 0x0004;
/// `IP_VS_SVC_F_SCHED1` (`IP_VS_SVC_F_SCHED_SH_FALLBACK`, mh-fallback).
pub const IP_VS_SVC_F_SCHED1: u32 = 0x0008;
/// `IP_VS_SVC_F_SCHED2` (`IP_VS_SVC_F_SCHED_SH_PORT`, mh-port).
pub const IP_VS_SVC_F_SCHED2: u32 = 0x0010;
/// `IP_VS_SVC_F_SCHED3`.
pub const IP_VS_SVC_F_SCHED3: u32 = 0x0020;
/// All scheduler flag bits.
pub const IP_VS_SVC_F_SCHED_MASK: u32 =
    IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

/// ipvsadm's default scheduler.
pub const DEFAULT_SCHEDULER: &str = "wlc";
/// ipvsadm's largest timeout: 31 days.
pub const MAX_TIMEOUT: u32 = 86400 * 31;
/// `IP_VS_SCHEDNAME_MAXLEN` less the NUL.
const SCHED_NAME_MAX: usize = 15;
/// `IP_VS_PENAME_MAXLEN`.
const PE_NAME_MAX: usize = 16;

/// The transport protocol of an address-based service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// Any other protocol number a kernel reports.
    Other(u16),
}

impl Protocol {
    /// The `IPPROTO_*` number.
    pub fn number(self) -> u16 {
        match self {
            Self::Tcp => IPPROTO_TCP,
            Self::Udp => IPPROTO_UDP,
            Self::Sctp => IPPROTO_SCTP,
            Self::Other(n) => n,
        }
    }

    /// The protocol of an `IPPROTO_*` number.
    pub fn from_number(n: u16) -> Self {
        match n {
            IPPROTO_TCP => Self::Tcp,
            IPPROTO_UDP => Self::Udp,
            IPPROTO_SCTP => Self::Sctp,
            other => Self::Other(other),
        }
    }

    /// The name ipvsadm lists: `TCP`, `UDP`, `SCTP` or `?`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
            Self::Other(_) => "?",
        }
    }

    /// The ipvsadm option that selects a service of this protocol.
    pub fn option(self) -> &'static str {
        match self {
            Self::Tcp => "-t",
            Self::Udp => "-u",
            Self::Sctp => "--sctp-service",
            Self::Other(_) => "--xxx-service",
        }
    }
}

/// The identity of a virtual service: protocol, address and port, or a firewall mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKey {
    /// A service on `protocol` `addr:port`.
    Addr {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual address.
        addr: IpAddr,
        /// Virtual port; 0 matches any port (persistent services only).
        port: u16,
    },
    /// A service for packets carrying a firewall mark.
    Fwmark {
        /// Address family of the marked packets.
        family: Family,
        /// The mark (greater than 0).
        mark: u32,
    },
}

impl ServiceKey {
    /// The key of an address-based service; a missing port means 0.
    pub fn from_endpoint(protocol: Protocol, endpoint: Endpoint) -> Self {
        Self::Addr {
            protocol,
            addr: endpoint.ip,
            port: endpoint.port.unwrap_or(0),
        }
    }

    /// The address family of the service.
    pub fn family(&self) -> Family {
        match self {
            Self::Addr { addr, .. } => Family::of(*addr),
            Self::Fwmark { family, .. } => *family,
        }
    }

    /// The service's port; fwmark services have none (0).
    pub fn port(&self) -> u16 {
        match self {
            Self::Addr { port, .. } => *port,
            Self::Fwmark { .. } => 0,
        }
    }

    /// The identifying attributes: AF, then FWMARK or PROTOCOL + ADDR (16 bytes) + PORT.
    pub fn to_nlas(self) -> Vec<SvcAttr> {
        let mut nlas = vec![SvcAttr::Af(self.family().af())];
        match self {
            Self::Addr {
                protocol,
                addr,
                port,
            } => {
                nlas.push(SvcAttr::Protocol(protocol.number()));
                nlas.push(SvcAttr::Addr(InetAddr::from_ip(addr)));
                nlas.push(SvcAttr::Port(port));
            }
            Self::Fwmark { mark, .. } => nlas.push(SvcAttr::Fwmark(mark)),
        }
        nlas
    }

    /// Reads the identifying attributes of a service nest.
    pub fn from_nlas(nlas: &[SvcAttr]) -> Result<Self, DecodeError> {
        let mut af = None;
        let mut protocol = None;
        let mut addr = None;
        let mut port = None;
        let mut fwmark = None;
        for nla in nlas {
            match nla {
                SvcAttr::Af(v) => af = Some(*v),
                SvcAttr::Protocol(v) => protocol = Some(*v),
                SvcAttr::Addr(v) => addr = Some(*v),
                SvcAttr::Port(v) => port = Some(*v),
                SvcAttr::Fwmark(v) => fwmark = Some(*v),
                _ => {}
            }
        }
        let family = Family::from_af(af.ok_or("service without IPVS_SVC_ATTR_AF")?)?;
        match (fwmark, protocol, addr, port) {
            (Some(mark), ..) if mark != 0 => Ok(Self::Fwmark { family, mark }),
            (_, Some(protocol), Some(addr), Some(port)) => Ok(Self::Addr {
                protocol: Protocol::from_number(protocol),
                addr: addr.to_ip(family),
                port,
            }),
            _ => Err(DecodeError::from(
                "service without FWMARK or PROTOCOL + ADDR + PORT",
            )),
        }
    }

    /// The order ipvsadm lists services in: fwmark, family, protocol, address, port.
    pub fn sort_key(&self) -> (u32, Family, u16, Option<IpAddr>, u16) {
        match self {
            Self::Addr {
                protocol,
                addr,
                port,
            } => (0, self.family(), protocol.number(), Some(*addr), *port),
            Self::Fwmark { family, mark } => (*mark, *family, IPPROTO_TCP, None, 0),
        }
    }

    /// The service as an ipvsadm rule option: `-t 10.0.0.1:80`, `-f 1` or `-f 1 -6`.
    pub fn rule(&self) -> String {
        match self {
            Self::Addr {
                protocol,
                addr,
                port,
            } => format!("{} {}", protocol.option(), format_endpoint(*addr, *port)),
            Self::Fwmark {
                family: Family::Inet,
                mark,
            } => format!("-f {mark}"),
            Self::Fwmark {
                family: Family::Inet6,
                mark,
            } => format!("-f {mark} -6"),
        }
    }

    /// The service as `ipvsadm -Ln` labels it: `TCP  10.0.0.1:80`, `FWM  1` or `FWM  1 IPv6`.
    pub fn label(&self) -> String {
        match self {
            Self::Addr {
                protocol,
                addr,
                port,
            } => {
                let mut label = format!("{:<4} {}", protocol.name(), format_endpoint(*addr, *port));
                // ipvsadm cuts IPv4 labels at 33 characters (its column width).
                if addr.is_ipv4() {
                    label.truncate(33);
                }
                label
            }
            Self::Fwmark {
                family: Family::Inet,
                mark,
            } => format!("FWM  {mark}"),
            Self::Fwmark {
                family: Family::Inet6,
                mark,
            } => format!("FWM  {mark} IPv6"),
        }
    }
}

/// A named scheduler flag, as `ipvsadm -b` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchedFlag {
    /// `IP_VS_SVC_F_SCHED1` for any scheduler.
    #[value(name = "flag-1")]
    Flag1,
    /// `IP_VS_SVC_F_SCHED2` for any scheduler.
    #[value(name = "flag-2")]
    Flag2,
    /// `IP_VS_SVC_F_SCHED3` for any scheduler.
    #[value(name = "flag-3")]
    Flag3,
    /// sh: fall back to another server when the hashed one is unavailable (`SCHED1`).
    #[value(name = "sh-fallback")]
    ShFallback,
    /// sh: hash the source port too (`SCHED2`).
    #[value(name = "sh-port")]
    ShPort,
    /// mh: fall back to another server (`SCHED1`).
    #[value(name = "mh-fallback")]
    MhFallback,
    /// mh: hash the source port too (`SCHED2`).
    #[value(name = "mh-port")]
    MhPort,
}

impl SchedFlag {
    /// The flag bit.
    pub fn bits(self) -> u32 {
        match self {
            Self::Flag1 | Self::ShFallback | Self::MhFallback => IP_VS_SVC_F_SCHED1,
            Self::Flag2 | Self::ShPort | Self::MhPort => IP_VS_SVC_F_SCHED2,
            Self::Flag3 => IP_VS_SVC_F_SCHED3,
        }
    }

    /// The scheduler this flag belongs to, if it is scheduler-specific.
    fn scheduler(self) -> Option<&'static str> {
        match self {
            Self::ShFallback | Self::ShPort => Some("sh"),
            Self::MhFallback | Self::MhPort => Some("mh"),
            _ => None,
        }
    }

    /// The flag's name.
    fn name(self) -> &'static str {
        match self {
            Self::Flag1 => "flag-1",
            Self::Flag2 => "flag-2",
            Self::Flag3 => "flag-3",
            Self::ShFallback => "sh-fallback",
            Self::ShPort => "sh-port",
            Self::MhFallback => "mh-fallback",
            Self::MhPort => "mh-port",
        }
    }
}

/// The options of a service add or edit; `None` means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceOptions {
    /// Scheduler name.
    pub scheduler: Option<String>,
    /// Persistence timeout in seconds: makes the service persistent.
    pub persistent: Option<u32>,
    /// Make the service non-persistent (edit only).
    pub no_persistent: bool,
    /// Persistence netmask text (dotted or prefix length).
    pub netmask: Option<String>,
    /// Scheduler flags; empty means "not given".
    pub sched_flags: Vec<SchedFlag>,
    /// One-packet scheduling.
    pub one_packet: bool,
    /// Persistence engine name.
    pub pe_name: Option<String>,
}

/// A virtual service as configured, plus its counters when read from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Which service.
    pub key: ServiceKey,
    /// Scheduler name (`none` when the kernel has none).
    pub scheduler: String,
    /// `IP_VS_SVC_F_*` flags.
    pub flags: u32,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// Raw persistence netmask.
    pub netmask: u32,
    /// Persistence engine, if any.
    pub pe_name: Option<String>,
    /// Counters (from STATS64 when present, else STATS).
    pub stats: Option<Stats>,
}

impl Service {
    /// A service with ipvsadm's defaults: wlc, not persistent, full netmask.
    pub fn new(key: ServiceKey) -> Self {
        Self {
            key,
            scheduler: DEFAULT_SCHEDULER.to_string(),
            flags: 0,
            timeout: 0,
            netmask: full_netmask(key.family()),
            pe_name: None,
            stats: None,
        }
    }

    /// Builds a service as `ipvsadm -A`/`-E` does: options not given take their defaults.
    pub fn build(key: ServiceKey, opts: &ServiceOptions) -> Result<Self, String> {
        Self::new(key).overlay(opts)
    }

    /// Applies the given options over this service and keeps everything else.
    ///
    /// The kernel-owned HASHED flag is dropped. Scheduler flags not given are kept unless the
    /// scheduler changes, in which case they are cleared.
    pub fn overlay(&self, opts: &ServiceOptions) -> Result<Self, String> {
        let mut svc = self.clone();
        svc.stats = None;
        svc.flags &= !IP_VS_SVC_F_HASHED;
        if let Some(sched) = &opts.scheduler {
            if *sched != svc.scheduler && opts.sched_flags.is_empty() {
                svc.flags &= !IP_VS_SVC_F_SCHED_MASK;
            }
            svc.scheduler = sched.clone();
        }
        if let Some(timeout) = opts.persistent {
            if !(1..=MAX_TIMEOUT).contains(&timeout) {
                return Err(format!("invalid timeout value `{timeout}' specified"));
            }
            svc.flags |= IP_VS_SVC_F_PERSISTENT;
            svc.timeout = timeout;
        } else if opts.no_persistent {
            svc.flags &= !IP_VS_SVC_F_PERSISTENT;
            svc.timeout = 0;
        }
        if let Some(mask) = &opts.netmask {
            svc.netmask = parse_netmask(mask, svc.key.family())?;
        }
        if !opts.sched_flags.is_empty() {
            svc.flags &= !IP_VS_SVC_F_SCHED_MASK;
            for flag in &opts.sched_flags {
                if let Some(sched) = flag.scheduler() {
                    if sched != svc.scheduler {
                        return Err(format!("incompatible scheduler flag `{}'", flag.name()));
                    }
                }
                svc.flags |= flag.bits();
            }
        }
        if opts.one_packet {
            svc.flags |= IP_VS_SVC_F_ONEPACKET;
        }
        if let Some(pe) = &opts.pe_name {
            svc.pe_name = Some(pe.clone());
        }
        svc.validate()?;
        Ok(svc)
    }

    /// The checks ipvsadm makes before adding or editing a service.
    fn validate(&self) -> Result<(), String> {
        if self.scheduler.is_empty() || self.scheduler.len() > SCHED_NAME_MAX {
            return Err(format!(
                "invalid scheduler name `{}': 1 to {SCHED_NAME_MAX} characters",
                self.scheduler
            ));
        }
        if let Some(pe) = &self.pe_name {
            if pe.is_empty() || pe.len() > PE_NAME_MAX {
                return Err(format!(
                    "invalid persistence engine `{pe}': 1 to {PE_NAME_MAX} characters"
                ));
            }
        }
        if let ServiceKey::Addr { protocol, port, .. } = self.key {
            if port == 0 && !self.is_persistent() {
                return Err("Zero port specified for non-persistent service".to_string());
            }
            if self.flags & IP_VS_SVC_F_ONEPACKET != 0 && protocol != Protocol::Udp {
                return Err("One-Packet Scheduling is only for UDP virtual services".to_string());
            }
        }
        Ok(())
    }

    /// Whether the service is persistent.
    pub fn is_persistent(&self) -> bool {
        self.flags & IP_VS_SVC_F_PERSISTENT != 0
    }

    /// The full attribute set of NEW/SET_SERVICE, in libipvs's order:
    /// key, SCHED_NAME, PE_NAME (if any), FLAGS {flags, ~0}, TIMEOUT, NETMASK.
    pub fn to_nlas(&self) -> Vec<SvcAttr> {
        let mut nlas = self.key.to_nlas();
        nlas.push(SvcAttr::SchedName(self.scheduler.clone()));
        if let Some(pe) = &self.pe_name {
            nlas.push(SvcAttr::PeName(pe.clone()));
        }
        nlas.push(SvcAttr::Flags(SvcFlags {
            flags: self.flags,
            mask: u32::MAX,
        }));
        nlas.push(SvcAttr::Timeout(self.timeout));
        nlas.push(SvcAttr::Netmask(self.netmask));
        nlas
    }

    /// Reads a service nest of a NEW_SERVICE reply.
    pub fn from_nlas(nlas: &[SvcAttr]) -> Result<Self, DecodeError> {
        let key = ServiceKey::from_nlas(nlas)?;
        let mut svc = Self::new(key);
        svc.scheduler = String::new();
        let mut stats32 = None;
        let mut stats64 = None;
        for nla in nlas {
            match nla {
                SvcAttr::SchedName(name) => svc.scheduler = name.clone(),
                SvcAttr::Flags(flags) => svc.flags = flags.flags,
                SvcAttr::Timeout(t) => svc.timeout = *t,
                SvcAttr::Netmask(m) => svc.netmask = *m,
                SvcAttr::PeName(pe) if !pe.is_empty() => svc.pe_name = Some(pe.clone()),
                SvcAttr::Stats(s) => stats32 = Some(Stats::from_nlas(s)),
                SvcAttr::Stats64(s) => stats64 = Some(Stats::from_nlas(s)),
                _ => {}
            }
        }
        svc.stats = stats64.or(stats32);
        Ok(svc)
    }

    /// The scheduler flags as ipvsadm names them (`sh-fallback,sh-port`), if any are set.
    pub fn sched_flags_text(&self) -> Option<String> {
        let names: &[(u32, &str)] = match self.scheduler.as_str() {
            "sh" => &[
                (IP_VS_SVC_F_SCHED1, "sh-fallback"),
                (IP_VS_SVC_F_SCHED2, "sh-port"),
            ],
            "mh" => &[
                (IP_VS_SVC_F_SCHED1, "mh-fallback"),
                (IP_VS_SVC_F_SCHED2, "mh-port"),
            ],
            _ => &[
                (IP_VS_SVC_F_SCHED1, "flag-1"),
                (IP_VS_SVC_F_SCHED2, "flag-2"),
                (IP_VS_SVC_F_SCHED3, "flag-3"),
            ],
        };
        let text = names
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(",");
        (!text.is_empty()).then_some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(text: &str) -> ServiceKey {
        ServiceKey::from_endpoint(Protocol::Tcp, Endpoint::parse(text).unwrap())
    }

    #[test]
    fn build_defaults() {
        let svc = Service::build(tcp("10.0.0.1:80"), &ServiceOptions::default()).unwrap();
        assert_eq!(svc.scheduler, "wlc");
        assert_eq!(svc.flags, 0);
        assert_eq!(svc.timeout, 0);
        assert_eq!(svc.netmask, u32::MAX);
        let v6 = Service::build(tcp("[2001:db8::1]:80"), &ServiceOptions::default()).unwrap();
        assert_eq!(v6.netmask, 128);
    }

    #[test]
    fn build_checks() {
        let zero = Service::build(tcp("10.0.0.1"), &ServiceOptions::default());
        assert_eq!(
            zero.unwrap_err(),
            "Zero port specified for non-persistent service"
        );
        let opts = ServiceOptions {
            persistent: Some(360),
            ..ServiceOptions::default()
        };
        assert!(Service::build(tcp("10.0.0.1"), &opts).is_ok());
        let opts = ServiceOptions {
            sched_flags: vec![SchedFlag::ShPort],
            ..ServiceOptions::default()
        };
        assert_eq!(
            Service::build(tcp("10.0.0.1:80"), &opts).unwrap_err(),
            "incompatible scheduler flag `sh-port'"
        );
        let opts = ServiceOptions {
            scheduler: Some("sh".into()),
            sched_flags: vec![SchedFlag::ShPort, SchedFlag::ShFallback],
            ..ServiceOptions::default()
        };
        let svc = Service::build(tcp("10.0.0.1:80"), &opts).unwrap();
        assert_eq!(svc.flags, 0x18);
        assert_eq!(svc.sched_flags_text().unwrap(), "sh-fallback,sh-port");
        let opts = ServiceOptions {
            one_packet: true,
            ..ServiceOptions::default()
        };
        assert!(Service::build(tcp("10.0.0.1:80"), &opts).is_err());
    }

    #[test]
    fn overlay_keeps_unspecified() {
        let opts = ServiceOptions {
            scheduler: Some("sh".into()),
            persistent: Some(600),
            netmask: Some("255.255.255.0".into()),
            sched_flags: vec![SchedFlag::ShPort],
            ..ServiceOptions::default()
        };
        let mut svc = Service::build(tcp("10.0.0.1:80"), &opts).unwrap();
        svc.flags |= IP_VS_SVC_F_HASHED;
        let edited = svc
            .overlay(&ServiceOptions {
                persistent: Some(60),
                ..ServiceOptions::default()
            })
            .unwrap();
        assert_eq!(edited.scheduler, "sh");
        assert_eq!(edited.timeout, 60);
        assert_eq!(
            edited.flags,
            IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_PORT_FOR_TEST
        );
        let rr = svc
            .overlay(&ServiceOptions {
                scheduler: Some("rr".into()),
                no_persistent: true,
                ..ServiceOptions::default()
            })
            .unwrap();
        assert_eq!(rr.flags, 0);
        assert_eq!(rr.timeout, 0);
    }

    /// `IP_VS_SVC_F_SCHED_SH_PORT`.
    const IP_VS_SVC_F_SCHED_SH_PORT_FOR_TEST: u32 = 0x10;

    #[test]
    fn labels_and_rules() {
        assert_eq!(tcp("10.0.0.1:80").label(), "TCP  10.0.0.1:80");
        assert_eq!(tcp("10.0.0.1:80").rule(), "-t 10.0.0.1:80");
        assert_eq!(tcp("[2001:db8::1]:80").rule(), "-t [2001:db8::1]:80");
        let fw6 = ServiceKey::Fwmark {
            family: Family::Inet6,
            mark: 7,
        };
        assert_eq!(fw6.label(), "FWM  7 IPv6");
        assert_eq!(fw6.rule(), "-f 7 -6");
    }
}
