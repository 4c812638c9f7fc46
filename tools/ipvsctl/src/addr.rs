//! Addresses as IPVS carries them, and the `ADDR[:PORT]` / netmask syntax of the command line.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use netlink_packet_core::DecodeError;

/// `AF_INET` from `<sys/socket.h>`.
pub const AF_INET: u16 = 2;
/// `AF_INET6` from `<sys/socket.h>`.
pub const AF_INET6: u16 = 10;

/// The address family of a service or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self::Inet,
            IpAddr::V6(_) => Self::Inet6,
        }
    }

    /// The `AF_*` number sent on the wire.
    pub fn af(self) -> u16 {
        match self {
            Self::Inet => AF_INET,
            Self::Inet6 => AF_INET6,
        }
    }

    /// The family of an `AF_*` number, if IPVS supports it.
    pub fn from_af(af: u16) -> Result<Self, DecodeError> {
        match af {
            AF_INET => Ok(Self::Inet),
            AF_INET6 => Ok(Self::Inet6),
            other => Err(DecodeError::from(format!(
                "unsupported address family {other}"
            ))),
        }
    }

    /// The lower-case name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Inet => "inet",
            Self::Inet6 => "inet6",
        }
    }
}

/// An address in the layout of the kernel's `union nf_inet_addr`: 16 bytes, IPv4 in the first 4.
///
/// libipvs always sends all 16 bytes, so do we; replies carry 16 bytes too. The family travels in
/// a separate attribute, so the bytes alone do not say which kind of address they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InetAddr(pub [u8; 16]);

impl InetAddr {
    /// The wire form of an IP address.
    pub fn from_ip(ip: IpAddr) -> Self {
        let mut bytes = [0u8; 16];
        match ip {
            IpAddr::V4(v4) => bytes[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => bytes.copy_from_slice(&v6.octets()),
        }
        Self(bytes)
    }

    /// Reads an address attribute; the kernel accepts (and so do we) 4 to 16 bytes.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        if buf.len() > 16 {
            return Err(DecodeError::from(format!(
                "address attribute has {} bytes, at most 16 allowed",
                buf.len()
            )));
        }
        let mut bytes = [0u8; 16];
        bytes[..buf.len()].copy_from_slice(buf);
        Ok(Self(bytes))
    }

    /// The address, read as the given family.
    pub fn to_ip(self, family: Family) -> IpAddr {
        match family {
            Family::Inet => IpAddr::V4(Ipv4Addr::new(self.0[0], self.0[1], self.0[2], self.0[3])),
            Family::Inet6 => IpAddr::V6(Ipv6Addr::from(self.0)),
        }
    }
}

/// An `ADDR[:PORT]` argument: IPv4 `a.b.c.d[:port]` or IPv6 `[addr][:port]` (or a bare IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The address.
    pub ip: IpAddr,
    /// The port, when one was given.
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses `ADDR[:PORT]` with the standard library's address parsers.
    ///
    /// Host and service names are not resolved: addresses and ports are numeric.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Ok(sa) = text.parse::<SocketAddr>() {
            return Ok(Self {
                ip: sa.ip(),
                port: Some(sa.port()),
            });
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self { ip, port: None });
        }
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if let Ok(v6) = inner.parse::<Ipv6Addr>() {
                return Ok(Self {
                    ip: IpAddr::V6(v6),
                    port: None,
                });
            }
        }
        Err(format!(
            "invalid address `{text}`: expected a.b.c.d[:port] or [ipv6][:port] (numeric)"
        ))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_endpoint(self.ip, self.port.unwrap_or(0)))
    }
}

/// Formats an address and port as ipvsadm prints them: `a.b.c.d:port` or `[v6]:port`.
pub fn format_endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The value of `IPVS_SVC_ATTR_NETMASK` for a family's full mask: `/32` (as be32) or `/128`.
pub fn full_netmask(family: Family) -> u32 {
    match family {
        Family::Inet => u32::MAX,
        Family::Inet6 => 128,
    }
}

/// Parses a persistence netmask into the raw `IPVS_SVC_ATTR_NETMASK` value.
///
/// IPv4 takes a dotted mask (`255.255.255.0`) or a prefix length (`24`) and yields the mask in
/// network byte order, as the kernel's `nla_get_be32` expects; IPv6 takes a prefix length 1..128,
/// sent as a plain number.
pub fn parse_netmask(text: &str, family: Family) -> Result<u32, String> {
    match family {
        Family::Inet => {
            if let Ok(mask) = text.parse::<Ipv4Addr>() {
                let bits = u32::from(mask);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return Err(format!("invalid netmask `{text}`: not contiguous"));
                }
                return Ok(u32::from_ne_bytes(mask.octets()));
            }
            match text.parse::<u8>() {
                Ok(len) if len <= 32 => {
                    let bits = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                    Ok(u32::from_ne_bytes(bits.to_be_bytes()))
                }
                _ => Err(format!(
                    "invalid IPv4 netmask `{text}`: expected a.b.c.d or a prefix length 0..32"
                )),
            }
        }
        Family::Inet6 => match text.parse::<u32>() {
            Ok(len) if (1..=128).contains(&len) => Ok(len),
            _ => Err(format!(
                "invalid IPv6 netmask `{text}`: expected a prefix length 1..128"
            )),
        },
    }
}

/// Formats a raw `IPVS_SVC_ATTR_NETMASK` value: dotted for IPv4, a prefix length for IPv6.
pub fn format_netmask(raw: u32, family: Family) -> String {
    match family {
        Family::Inet => Ipv4Addr::from(raw.to_ne_bytes()).to_string(),
        Family::Inet6 => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("10.0.0.1:80").unwrap();
        assert_eq!(e.ip, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(e.port, Some(80));
        let e = Endpoint::parse("10.0.0.1").unwrap();
        assert_eq!(e.port, None);
        let e = Endpoint::parse("[2001:db8::1]:443").unwrap();
        assert_eq!(e.ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(e.port, Some(443));
        let e = Endpoint::parse("[2001:db8::1]").unwrap();
        assert_eq!(e.port, None);
        let e = Endpoint::parse("2001:db8::1").unwrap();
        assert_eq!(e.port, None);
        assert!(Endpoint::parse("10.0.0.1:http").is_err());
        assert!(Endpoint::parse("10.0.0.1:70000").is_err());
        assert!(Endpoint::parse("example.com:80").is_err());
    }

    #[test]
    fn inet_addr_layout() {
        let a = InetAddr::from_ip("10.0.0.1".parse().unwrap());
        assert_eq!(&a.0[..4], &[10, 0, 0, 1]);
        assert!(a.0[4..].iter().all(|b| *b == 0));
        assert_eq!(
            InetAddr::parse(&[10, 0, 0, 1]).unwrap().to_ip(Family::Inet),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert!(InetAddr::parse(&[0; 17]).is_err());
    }

    #[test]
    fn netmasks() {
        let m = parse_netmask("255.255.255.0", Family::Inet).unwrap();
        assert_eq!(m.to_ne_bytes(), [255, 255, 255, 0]);
        assert_eq!(parse_netmask("24", Family::Inet).unwrap(), m);
        assert_eq!(parse_netmask("0", Family::Inet).unwrap(), 0);
        assert_eq!(parse_netmask("32", Family::Inet).unwrap(), u32::MAX);
        assert!(parse_netmask("255.0.255.0", Family::Inet).is_err());
        assert_eq!(parse_netmask("64", Family::Inet6).unwrap(), 64);
        assert!(parse_netmask("0", Family::Inet6).is_err());
        assert!(parse_netmask("129", Family::Inet6).is_err());
        assert_eq!(format_netmask(m, Family::Inet), "255.255.255.0");
        assert_eq!(format_netmask(64, Family::Inet6), "64");
    }
}
