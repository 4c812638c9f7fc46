//! `ipvsctl conns`: the connection table from `/proc/net/ip_vs_conn`.
//!
//! The kernel (`ip_vs_conn_seq_show`) writes a header line and then one line per connection:
//! `Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires [PEName PEData]`, with IPv4 addresses and
//! all ports in upper-case hex (host order) and IPv6 addresses in full `%pI6` form. Templates of
//! persistent services appear too (client port 0, state NONE, protocol IP for fwmark services).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::addr::format_endpoint;

/// Where the kernel publishes the connection table.
pub const PROC_IP_VS_CONN: &str = "/proc/net/ip_vs_conn";

/// One connection (or persistence template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conn {
    /// Protocol name (`TCP`, `UDP`, `SCTP`, `IP`, ...).
    pub protocol: String,
    /// Client address.
    pub client_address: IpAddr,
    /// Client port.
    pub client_port: u16,
    /// Virtual address.
    pub virtual_address: IpAddr,
    /// Virtual port.
    pub virtual_port: u16,
    /// Real server address.
    pub dest_address: IpAddr,
    /// Real server port.
    pub dest_port: u16,
    /// State name (`ESTABLISHED`, `SYN_RECV`, `NONE`, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    /// Persistence engine name, if any.
    pub pe_name: Option<String>,
    /// Persistence engine data, if any.
    pub pe_data: Option<String>,
}

/// Reads an address field: IPv6 text, or IPv4 as 8 hex digits in host order.
fn parse_addr(field: &str) -> Result<IpAddr, String> {
    if field.contains(':') {
        return field
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| format!("invalid IPv6 address `{field}`"));
    }
    u32::from_str_radix(field, 16)
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
        .map_err(|_| format!("invalid hex IPv4 address `{field}`"))
}

/// Reads a hex port field.
fn parse_port(field: &str) -> Result<u16, String> {
    u16::from_str_radix(field, 16).map_err(|_| format!("invalid hex port `{field}`"))
}

/// Reads one connection line.
fn parse_line(line: &str) -> Result<Conn, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [protocol, caddr, cport, vaddr, vport, daddr, dport, state, expires, pe @ ..] =
        fields.as_slice()
    else {
        return Err(format!(
            "expected at least 9 fields, found {}",
            fields.len()
        ));
    };
    Ok(Conn {
        protocol: protocol.to_string(),
        client_address: parse_addr(caddr)?,
        client_port: parse_port(cport)?,
        virtual_address: parse_addr(vaddr)?,
        virtual_port: parse_port(vport)?,
        dest_address: parse_addr(daddr)?,
        dest_port: parse_port(dport)?,
        state: state.to_string(),
        expires: expires
            .parse()
            .map_err(|_| format!("invalid expiry `{expires}`"))?,
        pe_name: pe.first().map(|s| s.to_string()),
        pe_data: pe.get(1).map(|s| s.to_string()),
    })
}

/// Parses the whole file; the header line is skipped, blank lines are ignored.
pub fn parse_proc_conn(text: &str) -> Result<Vec<Conn>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with("Pro "))
        .map(|(n, line)| parse_line(line).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// Renders the table `ipvsadm -Lcn` prints.
pub fn render_conns(conns: &[Conn]) -> String {
    let mut out = String::from("IPVS connection entries\n");
    out.push_str(&format!(
        "pro expire {:<11} {:<18} {:<18} destination\n",
        "state", "source", "virtual"
    ));
    for c in conns {
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        out.push_str(&format!(
            "{:<3} {expire:<6} {:<11} {:<18} {:<18} {}\n",
            c.protocol,
            c.state,
            format_endpoint(c.client_address, c.client_port),
            format_endpoint(c.virtual_address, c.virtual_port),
            format_endpoint(c.dest_address, c.dest_port),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot in the kernel's format: a NAT connection, a template and an IPv6 one.
    const SAMPLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A000002 9C40 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED     899
TCP 0A000002 0000 CFAF2C6E 1F90 AC100002 1F90 NONE            359
IP  0A000002 0000 00000001 0000 AC100002 0000 NONE            300
UDP 2001:0db8:0000:0000:0000:0000:0000:0002 D431 2001:0db8:0000:0000:0000:0000:0000:0080 0035 2001:0db8:0000:0000:0000:0000:0000:a0a0 0035 UDP              59
UDP 0A000002 D431 CFAF2C6E 13C4 AC100002 13C4 UDP             120 sip 4a6f
";

    #[test]
    fn parse_sample() {
        let conns = parse_proc_conn(SAMPLE).unwrap();
        assert_eq!(conns.len(), 5);
        let c = &conns[0];
        assert_eq!(c.protocol, "TCP");
        assert_eq!(c.client_address, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(c.client_port, 40000);
        assert_eq!(
            c.virtual_address,
            "207.175.44.110".parse::<IpAddr>().unwrap()
        );
        assert_eq!(c.virtual_port, 8080);
        assert_eq!(c.dest_address, "172.16.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(c.dest_port, 8080);
        assert_eq!(c.state, "ESTABLISHED");
        assert_eq!(c.expires, 899);
        assert_eq!(c.pe_name, None);
        assert_eq!(conns[1].client_port, 0);
        assert_eq!(conns[2].protocol, "IP");
        assert_eq!(
            conns[2].virtual_address,
            "0.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            conns[3].client_address,
            "2001:db8::2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            conns[3].dest_address,
            "2001:db8::a0a0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(conns[3].virtual_port, 53);
        assert_eq!(conns[4].pe_name.as_deref(), Some("sip"));
        assert_eq!(conns[4].pe_data.as_deref(), Some("4a6f"));
    }

    #[test]
    fn render_sample() {
        let conns = parse_proc_conn(SAMPLE).unwrap();
        let text = render_conns(&conns[..1]);
        assert_eq!(
            text,
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             TCP 14:59  ESTABLISHED 10.0.0.2:40000     207.175.44.110:8080 172.16.0.2:8080\n"
        );
    }

    #[test]
    fn bad_lines() {
        assert!(parse_proc_conn("TCP 0A000002 9C40").is_err());
        let err = parse_proc_conn("Pro x\nTCP ZZ 0 0 0 0 0 NONE 1\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
    }
}
