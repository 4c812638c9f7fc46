//! `ipvsctl list`: the `ipvsadm -Ln` table and its JSON form.

use serde::Serialize;

use crate::addr::{format_endpoint, format_netmask};
use crate::config::Info;
use crate::dest::{Dest, FwdMethod, TunType};
use crate::service::{Protocol, Service, ServiceKey, IP_VS_SVC_F_ONEPACKET};
use crate::stats::Stats;

/// A service with its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The service.
    pub service: Service,
    /// Its destinations.
    pub dests: Vec<Dest>,
}

/// Sorts services and destinations as ipvsadm does by default.
pub fn sort_entries(entries: &mut [ServiceEntry]) {
    entries.sort_by_key(|e| e.service.key.sort_key());
    for entry in entries.iter_mut() {
        entry.dests.sort_by_key(|d| (d.addr, d.port));
    }
}

/// Which columns the table shows (ipvsadm's `--stats`, `--rate`, ... options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Columns {
    /// Forward, Weight, ActiveConn, InActConn.
    #[default]
    Plain,
    /// Conns, InPkts, OutPkts, InBytes, OutBytes.
    Stats,
    /// CPS, InPPS, OutPPS, InBPS, OutBPS.
    Rate,
    /// Uthreshold, Lthreshold, ActiveConn, InActConn.
    Thresholds,
    /// Weight, PersistConn, ActiveConn, InActConn.
    PersistentConn,
}

/// Formats a counter like ipvsadm's `print_largenum`: 9 columns, scaled to K/M/G/T unless exact.
fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let digits = i.to_string();
        let width = if digits.len() <= 8 {
            9
        } else {
            digits.len() + 1
        };
        return format!("{digits:>width$}");
    }
    match i {
        0..100_000_000 => format!("{i:>9}"),
        100_000_000..1_000_000_000 => format!("{:>8}K", i / 1_000),
        1_000_000_000..100_000_000_000 => format!("{:>8}M", i / 1_000_000),
        100_000_000_000..100_000_000_000_000 => format!("{:>8}G", i / 1_000_000_000),
        _ => format!("{:>8}T", i / 1_000_000_000_000),
    }
}

/// A destination's `addr:port` as the table shows it (IPv4 cut to 28 characters like ipvsadm).
fn dest_name(dest: &Dest) -> String {
    let mut name = format_endpoint(dest.addr, dest.port);
    if dest.addr.is_ipv4() {
        name.truncate(28);
    }
    name
}

/// The column titles.
fn title(columns: Columns) -> String {
    let names: [&str; 5] = match columns {
        Columns::Stats => ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"],
        Columns::Rate => ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"],
        Columns::Thresholds => {
            return format!(
                "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
                "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
            )
        }
        Columns::PersistentConn => {
            return format!(
                "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
                "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
            )
        }
        Columns::Plain => {
            return "Prot LocalAddress:Port Scheduler Flags\n  \
                    -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                .to_string()
        }
    };
    let [a, b, c, d, e] = names;
    format!(
        "{:<33} {a:>8} {b:>8} {c:>8} {d:>8} {e:>8}\n  -> RemoteAddress:Port\n",
        "Prot LocalAddress:Port"
    )
}

/// The service line of the plain table.
fn service_line(svc: &Service) -> String {
    let mut line = format!("{} {}", svc.key.label(), svc.scheduler);
    if let Some(flags) = svc.sched_flags_text() {
        line.push_str(&format!(" ({flags})"));
    }
    if svc.is_persistent() {
        line.push_str(&format!(" persistent {}", svc.timeout));
        let family = svc.key.family();
        if svc.netmask != crate::addr::full_netmask(family) {
            line.push_str(&format!(" mask {}", format_netmask(svc.netmask, family)));
        }
        if let Some(pe) = &svc.pe_name {
            line.push_str(&format!(" pe {pe}"));
        }
    }
    if svc.flags & IP_VS_SVC_F_ONEPACKET != 0 {
        line.push_str(" ops");
    }
    line
}

/// Renders the table `ipvsadm -Ln` prints; `info` adds the version banner (ipvsadm omits it
/// when listing a single service).
pub fn render_table(
    info: Option<&Info>,
    entries: &[ServiceEntry],
    columns: Columns,
    exact: bool,
) -> String {
    let mut out = String::new();
    if let Some(info) = info {
        out.push_str(&info.banner());
        out.push('\n');
    }
    out.push_str(&title(columns));
    for entry in entries {
        let svc = &entry.service;
        let stats = svc.stats.unwrap_or_default();
        match columns {
            Columns::Stats => {
                out.push_str(&format!("{:<33}", svc.key.label()));
                for v in [
                    stats.conns,
                    stats.inpkts,
                    stats.outpkts,
                    stats.inbytes,
                    stats.outbytes,
                ] {
                    out.push_str(&largenum(v, exact));
                }
            }
            Columns::Rate => {
                out.push_str(&format!("{:<33}", svc.key.label()));
                for v in [
                    stats.cps,
                    stats.inpps,
                    stats.outpps,
                    stats.inbps,
                    stats.outbps,
                ] {
                    out.push_str(&largenum(v, exact));
                }
            }
            _ => out.push_str(&service_line(svc)),
        }
        out.push('\n');
        for dest in &entry.dests {
            let name = dest_name(dest);
            let ds = dest.stats.unwrap_or_default();
            let line = match columns {
                Columns::Plain => format!(
                    "  -> {name:<28} {:<7} {:<6} {:<10} {:<10}",
                    dest.fwd.name(),
                    dest.weight,
                    dest.active_conns,
                    dest.inact_conns
                ),
                Columns::Stats => {
                    let mut line = format!("  -> {name:<28}");
                    for v in [ds.conns, ds.inpkts, ds.outpkts, ds.inbytes, ds.outbytes] {
                        line.push_str(&largenum(v, exact));
                    }
                    line
                }
                Columns::Rate => format!(
                    "  -> {name:<28} {:>8} {:>8} {:>8}{}{}",
                    ds.cps,
                    ds.inpps,
                    ds.outpps,
                    largenum(ds.inbps, exact),
                    largenum(ds.outbps, exact)
                ),
                Columns::Thresholds => format!(
                    "  -> {name:<28} {:<10} {:<10} {:<10} {:<10}",
                    dest.u_threshold, dest.l_threshold, dest.active_conns, dest.inact_conns
                ),
                Columns::PersistentConn => format!(
                    "  -> {name:<28} {:<9} {:<11} {:<10} {:<10}",
                    dest.weight, dest.persist_conns, dest.active_conns, dest.inact_conns
                ),
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The JSON form of the whole listing.
#[derive(Debug, Serialize)]
pub struct ListJson {
    /// IPVS version (`1.2.1`), when known.
    pub version: Option<String>,
    /// Connection table size, when known.
    pub conn_tab_size: Option<u32>,
    /// The services.
    pub services: Vec<ServiceJson>,
}

/// The JSON form of a service.
#[derive(Debug, Serialize)]
pub struct ServiceJson {
    /// `inet` or `inet6`.
    pub family: &'static str,
    /// `tcp`, `udp`, `sctp` (or the protocol number); null for fwmark services.
    pub protocol: Option<String>,
    /// Virtual address; null for fwmark services.
    pub address: Option<String>,
    /// Virtual port; null for fwmark services.
    pub port: Option<u16>,
    /// Firewall mark; null for address services.
    pub fwmark: Option<u32>,
    /// Scheduler.
    pub scheduler: String,
    /// Raw `IP_VS_SVC_F_*` flags as the kernel reports them (0x2 = hashed).
    pub flags: u32,
    /// Scheduler flag names (`sh-port`, ...).
    pub sched_flags: Vec<String>,
    /// Whether the service is persistent.
    pub persistent: bool,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// Persistence netmask: dotted for IPv4, prefix length for IPv6.
    pub netmask: String,
    /// Persistence engine.
    pub pe_name: Option<String>,
    /// One-packet scheduling.
    pub one_packet: bool,
    /// Counters.
    pub stats: Option<Stats>,
    /// Real servers.
    pub destinations: Vec<DestJson>,
}

/// The JSON form of a destination.
#[derive(Debug, Serialize)]
pub struct DestJson {
    /// Address.
    pub address: String,
    /// Port.
    pub port: u16,
    /// `masq`, `local`, `tunnel`, `route` (or `?`).
    pub forward: String,
    /// Weight.
    pub weight: u32,
    /// Upper connection threshold.
    pub u_threshold: u32,
    /// Lower connection threshold.
    pub l_threshold: u32,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inactive_conns: u32,
    /// Persistent templates.
    pub persist_conns: u32,
    /// Tunnel type (`ipip`, `gue`, `gre`) for tunnelling destinations.
    pub tunnel_type: Option<String>,
    /// Counters.
    pub stats: Option<Stats>,
}

impl ServiceJson {
    /// The JSON form of an entry.
    pub fn new(entry: &ServiceEntry) -> Self {
        let svc = &entry.service;
        let family = svc.key.family();
        let (protocol, address, port, fwmark) = match svc.key {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                let name = match protocol {
                    Protocol::Other(n) => n.to_string(),
                    known => known.name().to_lowercase(),
                };
                (Some(name), Some(addr.to_string()), Some(port), None)
            }
            ServiceKey::Fwmark { mark, .. } => (None, None, None, Some(mark)),
        };
        Self {
            family: family.name(),
            protocol,
            address,
            port,
            fwmark,
            scheduler: svc.scheduler.clone(),
            flags: svc.flags,
            sched_flags: svc
                .sched_flags_text()
                .map(|t| t.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            persistent: svc.is_persistent(),
            timeout: svc.timeout,
            netmask: format_netmask(svc.netmask, family),
            pe_name: svc.pe_name.clone(),
            one_packet: svc.flags & IP_VS_SVC_F_ONEPACKET != 0,
            stats: svc.stats,
            destinations: entry.dests.iter().map(DestJson::new).collect(),
        }
    }
}

impl DestJson {
    /// The JSON form of a destination.
    pub fn new(dest: &Dest) -> Self {
        Self {
            address: dest.addr.to_string(),
            port: dest.port,
            forward: dest.fwd.name().to_lowercase(),
            weight: dest.weight,
            u_threshold: dest.u_threshold,
            l_threshold: dest.l_threshold,
            active_conns: dest.active_conns,
            inactive_conns: dest.inact_conns,
            persist_conns: dest.persist_conns,
            tunnel_type: match (dest.fwd, dest.tunnel) {
                (FwdMethod::Tunnel, Some(t)) => Some(
                    TunType::from_value(t.tun_type)
                        .map(|t| t.name().to_string())
                        .unwrap_or_else(|| t.tun_type.to_string()),
                ),
                _ => None,
            },
            stats: dest.stats,
        }
    }
}

/// Renders the listing as pretty JSON.
pub fn render_json(info: Option<&Info>, entries: &[ServiceEntry]) -> serde_json::Result<String> {
    let doc = ListJson {
        version: info.map(Info::version_text),
        conn_tab_size: info.map(|i| i.conn_tab_size),
        services: entries.iter().map(ServiceJson::new).collect(),
    };
    serde_json::to_string_pretty(&doc)
}
