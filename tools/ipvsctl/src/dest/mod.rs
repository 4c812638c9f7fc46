//! Destinations (real servers) of a virtual service and their attribute forms.

pub mod attr;

use std::net::IpAddr;

use clap::ValueEnum;
use netlink_packet_core::DecodeError;

use self::attr::DestAttr;
use crate::addr::{Endpoint, Family, InetAddr};
use crate::service::ServiceKey;
use crate::stats::Stats;

/// `IP_VS_CONN_F_FWD_MASK`.
const IP_VS_CONN_F_FWD_MASK: u32 = 0x0007;
/// `IP_VS_CONN_F_MASQ`.
const IP_VS_CONN_F_MASQ: u32 = 0;
/// `IP_VS_CONN_F_LOCALNODE`.
const IP_VS_CONN_F_LOCALNODE: u32 = 1;
/// `IP_VS_CONN_F_TUNNEL`.
const IP_VS_CONN_F_TUNNEL: u32 = 2;
/// `IP_VS_CONN_F_DROUTE`.
const IP_VS_CONN_F_DROUTE: u32 = 3;

/// The largest weight the kernel accepts (it rejects negative `int` weights with ERANGE).
pub const MAX_WEIGHT: u32 = i32::MAX as u32;

/// How packets reach a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwdMethod {
    /// NAT (`-m`).
    Masq,
    /// Local node; the kernel picks it for local addresses.
    Local,
    /// IP-in-IP tunnel (`-i`).
    Tunnel,
    /// Direct routing (`-g`).
    Route,
    /// A value outside the known methods.
    Other(u32),
}

impl FwdMethod {
    /// The `IP_VS_CONN_F_*` value.
    pub fn value(self) -> u32 {
        match self {
            Self::Masq => IP_VS_CONN_F_MASQ,
            Self::Local => IP_VS_CONN_F_LOCALNODE,
            Self::Tunnel => IP_VS_CONN_F_TUNNEL,
            Self::Route => IP_VS_CONN_F_DROUTE,
            Self::Other(v) => v,
        }
    }

    /// The method of a FWD_METHOD value (masked like the kernel does).
    pub fn from_value(v: u32) -> Self {
        match v & IP_VS_CONN_F_FWD_MASK {
            IP_VS_CONN_F_MASQ => Self::Masq,
            IP_VS_CONN_F_LOCALNODE => Self::Local,
            IP_VS_CONN_F_TUNNEL => Self::Tunnel,
            IP_VS_CONN_F_DROUTE => Self::Route,
            other => Self::Other(other),
        }
    }

    /// The name `ipvsadm -Ln` prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Masq => "Masq",
            Self::Local => "Local",
            Self::Tunnel => "Tunnel",
            Self::Route => "Route",
            Self::Other(_) => "?",
        }
    }

    /// The ipvsadm switch that selects it (`ipvsadm -S`).
    pub fn switch(self) -> &'static str {
        match self {
            Self::Masq => "-m",
            Self::Tunnel => "-i",
            Self::Local | Self::Route | Self::Other(_) => "-g",
        }
    }
}

/// Tunnel encapsulation types (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TunType {
    /// IP-in-IP (0, the default).
    Ipip,
    /// Generic UDP encapsulation (1).
    Gue,
    /// GRE (2).
    Gre,
}

impl TunType {
    /// The wire value.
    pub fn value(self) -> u8 {
        match self {
            Self::Ipip => 0,
            Self::Gue => 1,
            Self::Gre => 2,
        }
    }

    /// The type of a wire value, if known.
    pub fn from_value(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Ipip),
            1 => Some(Self::Gue),
            2 => Some(Self::Gre),
            _ => None,
        }
    }

    /// The name ipvsadm uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ipip => "ipip",
            Self::Gue => "gue",
            Self::Gre => "gre",
        }
    }
}

/// `IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM`.
pub const TUN_F_NOCSUM: u16 = 0;
/// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM`.
pub const TUN_F_CSUM: u16 = 1 << 0;
/// `IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM`.
pub const TUN_F_REMCSUM: u16 = 1 << 1;

/// Tunnel settings of a tunnelling destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    /// Encapsulation type (raw wire value).
    pub tun_type: u8,
    /// GUE destination port.
    pub port: u16,
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    pub flags: u16,
}

/// The options of a destination add or edit; `None` means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestOptions {
    /// Weight.
    pub weight: Option<u32>,
    /// Forwarding method.
    pub fwd: Option<FwdMethod>,
    /// Upper connection threshold.
    pub u_threshold: Option<u32>,
    /// Lower connection threshold.
    pub l_threshold: Option<u32>,
    /// Tunnel settings (only with [`FwdMethod::Tunnel`]).
    pub tunnel: Option<Tunnel>,
}

/// A real server of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// Forwarding method.
    pub fwd: FwdMethod,
    /// Weight.
    pub weight: u32,
    /// Upper connection threshold (0 = none).
    pub u_threshold: u32,
    /// Lower connection threshold.
    pub l_threshold: u32,
    /// Active connections (replies).
    pub active_conns: u32,
    /// Inactive connections (replies).
    pub inact_conns: u32,
    /// Persistent templates (replies).
    pub persist_conns: u32,
    /// Tunnel settings, when sent or reported for a tunnel.
    pub tunnel: Option<Tunnel>,
    /// Counters (from STATS64 when present, else STATS).
    pub stats: Option<Stats>,
}

impl Dest {
    /// A destination with the given address and forwarding method and default settings.
    pub fn new(addr: IpAddr, port: u16, fwd: FwdMethod) -> Self {
        Self {
            addr,
            port,
            fwd,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tunnel: None,
            stats: None,
        }
    }

    /// Where a real server given as `ADDR[:PORT]` lives: a missing port means the service's.
    pub fn locate(service: &ServiceKey, real: Endpoint) -> (IpAddr, u16) {
        (real.ip, real.port.unwrap_or(service.port()))
    }

    /// Builds a destination as `ipvsadm -a`/`-e` does; `default_fwd` is used when none is given
    /// (ipvsadm: direct routing; ipvsctl: masquerading).
    pub fn build(
        service: &ServiceKey,
        real: Endpoint,
        opts: &DestOptions,
        default_fwd: FwdMethod,
    ) -> Result<Self, String> {
        let (addr, port) = Self::locate(service, real);
        Self::new(addr, port, default_fwd).overlay(service, opts)
    }

    /// Applies the given options over this destination and keeps everything else.
    pub fn overlay(&self, service: &ServiceKey, opts: &DestOptions) -> Result<Self, String> {
        let mut dest = self.clone();
        dest.stats = None;
        if let Some(fwd) = opts.fwd {
            dest.fwd = fwd;
        }
        if let Some(weight) = opts.weight {
            if weight > MAX_WEIGHT {
                return Err("illegal weight specified".to_string());
            }
            dest.weight = weight;
        }
        if let Some(u) = opts.u_threshold {
            dest.u_threshold = u;
        }
        if let Some(l) = opts.l_threshold {
            dest.l_threshold = l;
        }
        if opts.tunnel.is_some() {
            dest.tunnel = opts.tunnel;
        }
        if dest.fwd != FwdMethod::Tunnel {
            if opts.tunnel.is_some() {
                return Err("Tunnel options conflict with forward method".to_string());
            }
            dest.tunnel = None;
        }
        if let ServiceKey::Addr { port, .. } = service {
            // Direct routing and tunnelling cannot change the port.
            if matches!(dest.fwd, FwdMethod::Tunnel | FwdMethod::Route) {
                dest.port = *port;
            }
        }
        if Family::of(dest.addr) != service.family() && dest.fwd != FwdMethod::Tunnel {
            return Err(
                "Different address family is allowed only for tunneling servers".to_string(),
            );
        }
        if dest.l_threshold > dest.u_threshold {
            return Err(format!(
                "lower threshold {} exceeds upper threshold {}",
                dest.l_threshold, dest.u_threshold
            ));
        }
        Ok(dest)
    }

    /// The identifying attributes: ADDR_FAMILY, ADDR (16 bytes), PORT.
    pub fn key_nlas(&self) -> Vec<DestAttr> {
        vec![
            DestAttr::AddrFamily(Family::of(self.addr).af()),
            DestAttr::Addr(InetAddr::from_ip(self.addr)),
            DestAttr::Port(self.port),
        ]
    }

    /// The full attribute set of NEW/SET_DEST, in libipvs's order: key, FWD_METHOD, WEIGHT,
    /// tunnel attributes (only when set), U_THRESH, L_THRESH.
    pub fn to_nlas(&self) -> Vec<DestAttr> {
        let mut nlas = self.key_nlas();
        nlas.push(DestAttr::FwdMethod(self.fwd.value()));
        nlas.push(DestAttr::Weight(self.weight));
        if let Some(tun) = self.tunnel {
            nlas.push(DestAttr::TunType(tun.tun_type));
            nlas.push(DestAttr::TunPort(tun.port));
            nlas.push(DestAttr::TunFlags(tun.flags));
        }
        nlas.push(DestAttr::UThresh(self.u_threshold));
        nlas.push(DestAttr::LThresh(self.l_threshold));
        nlas
    }

    /// Reads a destination nest of a NEW_DEST reply; `family` is the service's, used when the
    /// reply has no (or a zero) ADDR_FAMILY.
    pub fn from_nlas(nlas: &[DestAttr], family: Family) -> Result<Self, DecodeError> {
        let mut addr = None;
        let mut port = None;
        let mut af = None;
        let mut dest = Self::new(IpAddr::from([0u8; 4]), 0, FwdMethod::Masq);
        let mut tunnel = Tunnel {
            tun_type: 0,
            port: 0,
            flags: 0,
        };
        let mut stats32 = None;
        let mut stats64 = None;
        for nla in nlas {
            match nla {
                DestAttr::Addr(a) => addr = Some(*a),
                DestAttr::Port(p) => port = Some(*p),
                DestAttr::AddrFamily(f) if *f != 0 => af = Some(*f),
                DestAttr::FwdMethod(v) => dest.fwd = FwdMethod::from_value(*v),
                DestAttr::Weight(v) => dest.weight = *v,
                DestAttr::UThresh(v) => dest.u_threshold = *v,
                DestAttr::LThresh(v) => dest.l_threshold = *v,
                DestAttr::ActiveConns(v) => dest.active_conns = *v,
                DestAttr::InactConns(v) => dest.inact_conns = *v,
                DestAttr::PersistConns(v) => dest.persist_conns = *v,
                DestAttr::TunType(v) => tunnel.tun_type = *v,
                DestAttr::TunPort(v) => tunnel.port = *v,
                DestAttr::TunFlags(v) => tunnel.flags = *v,
                DestAttr::Stats(s) => stats32 = Some(Stats::from_nlas(s)),
                DestAttr::Stats64(s) => stats64 = Some(Stats::from_nlas(s)),
                _ => {}
            }
        }
        let family = match af {
            Some(af) => Family::from_af(af)?,
            None => family,
        };
        dest.addr = addr
            .ok_or("destination without IPVS_DEST_ATTR_ADDR")?
            .to_ip(family);
        dest.port = port.ok_or("destination without IPVS_DEST_ATTR_PORT")?;
        if dest.fwd == FwdMethod::Tunnel {
            dest.tunnel = Some(tunnel);
        }
        dest.stats = stats64.or(stats32);
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Protocol;

    fn svc() -> ServiceKey {
        ServiceKey::from_endpoint(Protocol::Tcp, Endpoint::parse("10.0.0.1:80").unwrap())
    }

    #[test]
    fn build_rules() {
        let real = Endpoint::parse("10.0.1.1").unwrap();
        let d = Dest::build(&svc(), real, &DestOptions::default(), FwdMethod::Masq).unwrap();
        assert_eq!((d.port, d.weight, d.fwd), (80, 1, FwdMethod::Masq));
        let real = Endpoint::parse("10.0.1.1:8080").unwrap();
        let opts = DestOptions {
            fwd: Some(FwdMethod::Route),
            ..DestOptions::default()
        };
        let d = Dest::build(&svc(), real, &opts, FwdMethod::Masq).unwrap();
        assert_eq!(d.port, 80, "DR keeps the service port");
        let real6 = Endpoint::parse("[2001:db8::1]:80").unwrap();
        assert!(Dest::build(&svc(), real6, &DestOptions::default(), FwdMethod::Masq).is_err());
        let opts = DestOptions {
            u_threshold: Some(10),
            l_threshold: Some(20),
            ..DestOptions::default()
        };
        assert!(Dest::build(&svc(), real, &opts, FwdMethod::Masq).is_err());
        let opts = DestOptions {
            tunnel: Some(Tunnel {
                tun_type: 1,
                port: 6080,
                flags: 0,
            }),
            ..DestOptions::default()
        };
        assert_eq!(
            Dest::build(&svc(), real, &opts, FwdMethod::Masq).unwrap_err(),
            "Tunnel options conflict with forward method"
        );
    }
}
