//! The command line of `ipvsctl` (clap derive).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::addr::{Endpoint, Family};
use crate::conn::PROC_IP_VS_CONN;
use crate::daemon::{parse_group, parse_ifname, Daemon, SyncState};
use crate::dest::{DestOptions, FwdMethod, TunType, Tunnel, MAX_WEIGHT};
use crate::dest::{TUN_F_CSUM, TUN_F_NOCSUM, TUN_F_REMCSUM};
use crate::service::{Protocol, SchedFlag, ServiceKey, ServiceOptions, MAX_TIMEOUT};

/// Examples shown at the end of `ipvsctl --help`.
const EXAMPLES: &str = "\
Examples:
  ipvsctl service add --tcp 207.175.44.110:80 --scheduler rr
  ipvsctl dest add --tcp 207.175.44.110:80 --real 192.168.10.1:80 --weight 2
  ipvsctl service add --udp [2001:db8::80]:53 --scheduler sh --sh-port --persistent
  ipvsctl list --stats
  ipvsctl list --json
  ipvsctl watch --interval 1
  ipvsctl daemon start master --interface eth1 --syncid 7
  ipvsctl daemon list
  ipvsadm-save -n | ipvsctl restore";

/// Configure the rust_ipvs (IPVS) load balancer over the "IPVS" generic netlink family.
///
/// ipvsctl speaks the same netlink ABI as ipvsadm, so it works against rust_ipvs and the C
/// ip_vs module alike. Addresses and ports are numeric; IPv6 addresses go in brackets
/// (`[2001:db8::1]:80`). Changes need CAP_NET_ADMIN.
#[derive(Debug, Parser)]
#[command(name = "ipvsctl", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, edit or delete a virtual service (ipvsadm -A/-E/-D).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Add, edit or delete a real server of a virtual service (ipvsadm -a/-e/-d).
    #[command(subcommand)]
    Dest(DestCommand),
    /// List virtual services and real servers, like `ipvsadm -Ln` (ipvsadm -L -n).
    List(ListArgs),
    /// List connections from /proc/net/ip_vs_conn, like `ipvsadm -Lcn`.
    Conns(ConnsArgs),
    /// Show the TCP, TCP FIN and UDP timeouts, or set them with --set (ipvsadm --timeout/--set).
    Timeout(TimeoutArgs),
    /// Zero the packet, byte and rate counters of one service or of all (ipvsadm -Z).
    Zero(ZeroArgs),
    /// Delete all virtual services and their real servers (ipvsadm -C).
    Flush,
    /// Show the IPVS version and connection table size.
    Info(InfoArgs),
    /// Print the table as `ipvsadm-save -n` rules (ipvsadm -S -n).
    Save,
    /// Apply ipvsadm rules (as `ipvsadm-save` prints them) read from stdin (ipvsadm -R).
    ///
    /// Each line holds the options of one ipvsadm invocation, optionally starting with
    /// "ipvsadm": -A/-E/-D/-a/-e/-d/-C/-Z/--set with their usual options. `#` starts a comment.
    /// As in ipvsadm, a real server without -m/-g/-i uses direct routing (-g). Every line is
    /// checked before anything is applied; the first kernel error stops the run.
    Restore(RestoreArgs),
    /// Show live rates per service and real server, with their connection counts, refreshed
    /// every --interval seconds until interrupted (or --count refreshes).
    Watch(WatchArgs),
    /// Start, stop or list the connection-sync daemons (ipvsadm --start-daemon/--stop-daemon,
    /// -L --daemon).
    #[command(subcommand)]
    Daemon(DaemonCommand),
}

/// `ipvsctl service ...`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Add a virtual service.
    Add(ServiceArgs),
    /// Change a virtual service; options not given keep their current values.
    Edit(ServiceArgs),
    /// Delete a virtual service with its real servers.
    Del(ServiceKeyArgs),
}

/// `ipvsctl dest ...`.
#[derive(Debug, Subcommand)]
pub enum DestCommand {
    /// Add a real server to a virtual service.
    Add(DestArgs),
    /// Change a real server; options not given keep their current values.
    Edit(DestArgs),
    /// Delete a real server from a virtual service.
    Del(DestKeyArgs),
}

/// `ipvsctl daemon ...`.
#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start the master or the backup sync daemon; settings not given are the kernel's
    /// (group 224.0.0.81, port 8848, TTL 1, message size from the interface MTU).
    Start(DaemonStartArgs),
    /// Stop the master or the backup sync daemon.
    Stop(DaemonStopArgs),
    /// List the running sync daemons, one line each, as `ipvsadm -L --daemon` does.
    List,
}

/// `daemon start`.
#[derive(Debug, Args)]
pub struct DaemonStartArgs {
    /// Which daemon.
    #[arg(value_enum)]
    pub state: SyncState,
    /// The interface the multicast messages go out of or come in on (ipvsadm
    /// --mcast-interface).
    #[arg(short = 'i', long, value_name = "IF", value_parser = parse_ifname)]
    pub interface: String,
    /// Sync id 0..255: a master stamps its messages with it, a backup takes only messages with
    /// its id (0: any).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=255))]
    pub syncid: u32,
    /// The largest sync message, UDP payload bytes (ipvsadm --sync-maxlen).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=65507))]
    pub maxlen: Option<u16>,
    /// The multicast group, IPv4 or IPv6 (ipvsadm --mcast-group).
    #[arg(long, value_name = "ADDR", value_parser = parse_group)]
    pub group: Option<IpAddr>,
    /// The UDP port (ipvsadm --mcast-port).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// The multicast TTL 1..255 (ipvsadm --mcast-ttl).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..))]
    pub ttl: Option<u8>,
}

impl DaemonStartArgs {
    /// The daemon to start.
    pub fn daemon(&self) -> Daemon {
        Daemon {
            maxlen: self.maxlen,
            group: self.group,
            port: self.port,
            ttl: self.ttl,
            ..Daemon::new(self.state, self.interface.clone(), self.syncid)
        }
    }
}

/// `daemon stop`.
#[derive(Debug, Args)]
pub struct DaemonStopArgs {
    /// Which daemon.
    #[arg(value_enum)]
    pub state: SyncState,
}

/// Selects one virtual service.
#[derive(Debug, Clone, Args)]
#[group(skip)]
#[command(group(
    ArgGroup::new("service").required(true).multiple(false).args(["tcp", "udp", "sctp", "fwmark"])
))]
pub struct ServiceSelector {
    /// TCP service ADDR:PORT (IPv6: [ADDR]:PORT).
    #[arg(short = 't', long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub tcp: Option<Endpoint>,
    /// UDP service ADDR:PORT.
    #[arg(short = 'u', long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub udp: Option<Endpoint>,
    /// SCTP service ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub sctp: Option<Endpoint>,
    /// Firewall-mark service (mark > 0).
    #[arg(short = 'f', long, value_name = "MARK",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fwmark: Option<u32>,
    /// The fwmark service is IPv6.
    #[arg(short = '6', long, requires = "fwmark")]
    pub ipv6: bool,
}

impl ServiceSelector {
    /// The selected service.
    pub fn key(&self) -> Option<ServiceKey> {
        selector_key(self.tcp, self.udp, self.sctp, self.fwmark, self.ipv6)
    }
}

/// Optionally selects one virtual service (default: all).
#[derive(Debug, Clone, Args)]
#[group(skip)]
#[command(group(
    ArgGroup::new("service").multiple(false).args(["tcp", "udp", "sctp", "fwmark"])
))]
pub struct OptionalServiceSelector {
    /// Only the TCP service ADDR:PORT.
    #[arg(short = 't', long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub tcp: Option<Endpoint>,
    /// Only the UDP service ADDR:PORT.
    #[arg(short = 'u', long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub udp: Option<Endpoint>,
    /// Only the SCTP service ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub sctp: Option<Endpoint>,
    /// Only the firewall-mark service MARK.
    #[arg(short = 'f', long, value_name = "MARK",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fwmark: Option<u32>,
    /// The fwmark service is IPv6.
    #[arg(short = '6', long, requires = "fwmark")]
    pub ipv6: bool,
}

impl OptionalServiceSelector {
    /// The selected service, if any.
    pub fn key(&self) -> Option<ServiceKey> {
        selector_key(self.tcp, self.udp, self.sctp, self.fwmark, self.ipv6)
    }
}

/// The service key of the selector options (at most one is set).
pub fn selector_key(
    tcp: Option<Endpoint>,
    udp: Option<Endpoint>,
    sctp: Option<Endpoint>,
    fwmark: Option<u32>,
    ipv6: bool,
) -> Option<ServiceKey> {
    if let Some(mark) = fwmark {
        let family = if ipv6 { Family::Inet6 } else { Family::Inet };
        return Some(ServiceKey::Fwmark { family, mark });
    }
    [
        (Protocol::Tcp, tcp),
        (Protocol::Udp, udp),
        (Protocol::Sctp, sctp),
    ]
    .into_iter()
    .find_map(|(proto, ep)| ep.map(|ep| ServiceKey::from_endpoint(proto, ep)))
}

/// `service add|edit`.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The service.
    #[command(flatten)]
    pub service: ServiceSelector,
    /// Scheduler: rr, wrr, sh, wlc, lc, ... (add: default wlc, as ipvsadm; edit: unchanged).
    #[arg(short = 's', long, value_name = "NAME")]
    pub scheduler: Option<String>,
    /// Make the service persistent for SECONDS (default 360 when the value is omitted).
    #[arg(short = 'p', long, value_name = "SECONDS", num_args = 0..=1,
          default_missing_value = "360",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TIMEOUT)))]
    pub persistent: Option<u32>,
    /// Make an edited service non-persistent.
    #[arg(long, conflicts_with = "persistent")]
    pub no_persistent: bool,
    /// Persistence granularity: IPv4 mask or prefix length (default 255.255.255.255), IPv6
    /// prefix length (default 128).
    #[arg(short = 'M', long, value_name = "MASK")]
    pub netmask: Option<String>,
    /// sh scheduler: hash the client's source port too (IP_VS_SVC_F_SCHED_SH_PORT, 0x10).
    #[arg(long)]
    pub sh_port: bool,
    /// sh scheduler: fall back to another real server when the hashed one is unavailable
    /// (IP_VS_SVC_F_SCHED_SH_FALLBACK, 0x08).
    #[arg(long)]
    pub sh_fallback: bool,
    /// One-packet scheduling (UDP and fwmark services).
    #[arg(short = 'o', long)]
    pub ops: bool,
    /// Persistence engine, such as sip.
    #[arg(long = "pe", value_name = "NAME")]
    pub pe: Option<String>,
}

impl ServiceArgs {
    /// The options as given.
    pub fn options(&self) -> ServiceOptions {
        let mut sched_flags = Vec::new();
        if self.sh_fallback {
            sched_flags.push(SchedFlag::ShFallback);
        }
        if self.sh_port {
            sched_flags.push(SchedFlag::ShPort);
        }
        ServiceOptions {
            scheduler: self.scheduler.clone(),
            persistent: self.persistent,
            no_persistent: self.no_persistent,
            netmask: self.netmask.clone(),
            sched_flags,
            one_packet: self.ops,
            pe_name: self.pe.clone(),
        }
    }
}

/// `service del`.
#[derive(Debug, Args)]
pub struct ServiceKeyArgs {
    /// The service.
    #[command(flatten)]
    pub service: ServiceSelector,
}

/// The forwarding method switches.
#[derive(Debug, Clone, Args)]
#[group(id = "forward", multiple = false)]
pub struct ForwardArgs {
    /// Masquerading (NAT); the default for `dest add`.
    #[arg(short = 'm', long)]
    pub masq: bool,
    /// Gatewaying (direct routing).
    #[arg(short = 'g', long)]
    pub gate: bool,
    /// IP-in-IP tunnelling.
    #[arg(short = 'i', long)]
    pub ipip: bool,
    /// Local node: the real server is this host, which receives the packets unchanged
    /// (`IP_VS_CONN_F_LOCALNODE`; ipvsadm has no switch for it).
    #[arg(long)]
    pub local: bool,
}

impl ForwardArgs {
    /// The method chosen, if any.
    pub fn method(&self) -> Option<FwdMethod> {
        if self.masq {
            Some(FwdMethod::Masq)
        } else if self.gate {
            Some(FwdMethod::Route)
        } else if self.ipip {
            Some(FwdMethod::Tunnel)
        } else if self.local {
            Some(FwdMethod::Local)
        } else {
            None
        }
    }
}

/// The tunnel settings of a tunnelling destination (ipvsadm's `--tun-*` options).
#[derive(Debug, Clone, Default, Args)]
#[group(id = "tunnel_opts", multiple = true)]
pub struct TunnelArgs {
    /// Tunnel type (with -i): ipip (the default), gue or gre.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub tun_type: Option<TunType>,
    /// Destination UDP port of GUE.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub tun_port: Option<u16>,
    /// No checksum in the tunnel header (GUE and GRE; the default).
    #[arg(long, conflicts_with_all = ["tun_csum", "tun_remcsum"])]
    pub tun_nocsum: bool,
    /// A checksum in the tunnel header (GUE and GRE).
    #[arg(long, conflicts_with = "tun_remcsum")]
    pub tun_csum: bool,
    /// Remote checksum offload (GUE).
    #[arg(long)]
    pub tun_remcsum: bool,
}

impl TunnelArgs {
    /// Whether any tunnel option was given.
    pub fn given(&self) -> bool {
        self.tun_type.is_some()
            || self.tun_port.is_some()
            || self.tun_nocsum
            || self.tun_csum
            || self.tun_remcsum
    }

    /// The tunnel settings, checked like ipvsadm's `tunnel_opt_check`; [`None`] when none
    /// was given.
    pub fn tunnel(&self) -> Result<Option<Tunnel>, String> {
        if !self.given() {
            return Ok(None);
        }
        let tun_type = self.tun_type.unwrap_or(TunType::Ipip);
        let csum_given = self.tun_nocsum || self.tun_csum || self.tun_remcsum;
        match tun_type {
            TunType::Ipip if self.tun_port.is_some() || csum_given => {
                return Err("tunnel options are not valid with --tun-type ipip".to_string())
            }
            TunType::Gue if self.tun_port.is_none() => {
                return Err("--tun-type gue needs --tun-port".to_string())
            }
            TunType::Gre if self.tun_port.is_some() || self.tun_remcsum => {
                return Err("--tun-port and --tun-remcsum are not valid with --tun-type gre".into())
            }
            _ => {}
        }
        let flags = if self.tun_csum {
            TUN_F_CSUM
        } else if self.tun_remcsum {
            TUN_F_REMCSUM
        } else {
            TUN_F_NOCSUM
        };
        Ok(Some(Tunnel {
            tun_type: tun_type.value(),
            port: self.tun_port.unwrap_or(0),
            flags,
        }))
    }
}

/// `dest add|edit`.
#[derive(Debug, Args)]
pub struct DestArgs {
    /// The service.
    #[command(flatten)]
    pub service: ServiceSelector,
    /// Real server ADDR[:PORT] (IPv6: [ADDR]:PORT); the port defaults to the service's.
    #[arg(short = 'r', long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub real: Endpoint,
    /// Weight 0..2147483647 (add: default 1; 0 quiesces the server).
    #[arg(short = 'w', long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_WEIGHT)))]
    pub weight: Option<u32>,
    /// Forwarding method.
    #[command(flatten)]
    pub forward: ForwardArgs,
    /// Upper connection threshold (0 = none).
    #[arg(short = 'x', long, value_name = "N")]
    pub u_threshold: Option<u32>,
    /// Lower connection threshold.
    #[arg(short = 'y', long, value_name = "N")]
    pub l_threshold: Option<u32>,
    /// Tunnel settings.
    #[command(flatten)]
    pub tunnel: TunnelArgs,
}

impl DestArgs {
    /// The options as given; an error for tunnel options ipvsadm would refuse.
    pub fn options(&self) -> Result<DestOptions, String> {
        Ok(DestOptions {
            weight: self.weight,
            fwd: self.forward.method(),
            u_threshold: self.u_threshold,
            l_threshold: self.l_threshold,
            tunnel: self.tunnel.tunnel()?,
        })
    }
}

/// `dest del`.
#[derive(Debug, Args)]
pub struct DestKeyArgs {
    /// The service.
    #[command(flatten)]
    pub service: ServiceSelector,
    /// Real server ADDR[:PORT]; the port defaults to the service's.
    #[arg(short = 'r', long, value_name = "ADDR:PORT", value_parser = Endpoint::parse)]
    pub real: Endpoint,
}

/// The column sets of `list`.
#[derive(Debug, Clone, Args)]
#[group(id = "columns", multiple = false)]
pub struct ColumnArgs {
    /// Show counters: connections, packets and bytes.
    #[arg(long)]
    pub stats: bool,
    /// Show rates: connections, packets and bytes per second.
    #[arg(long)]
    pub rate: bool,
    /// Show the upper and lower connection thresholds.
    #[arg(long)]
    pub thresholds: bool,
    /// Show persistent connection counts.
    #[arg(long)]
    pub persistent_conn: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Which service (default: all).
    #[command(flatten)]
    pub service: OptionalServiceSelector,
    /// Columns.
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Print exact counters instead of K/M/G/T abbreviations.
    #[arg(short = 'X', long)]
    pub exact: bool,
    /// Print JSON (services, real servers and all counters) for automation.
    #[arg(long, conflicts_with_all = ["columns", "exact"])]
    pub json: bool,
}

/// `conns`.
#[derive(Debug, Args)]
pub struct ConnsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Read this file instead of /proc/net/ip_vs_conn.
    #[arg(long, value_name = "PATH", default_value = PROC_IP_VS_CONN)]
    pub proc_file: PathBuf,
}

/// `timeout`.
#[derive(Debug, Args)]
pub struct TimeoutArgs {
    /// Set the TCP, TCP FIN and UDP timeouts in seconds (0 keeps a value).
    #[arg(long, num_args = 3, value_names = ["TCP", "TCPFIN", "UDP"],
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_TIMEOUT)))]
    pub set: Option<Vec<u32>>,
    /// Print JSON.
    #[arg(long, conflicts_with = "set")]
    pub json: bool,
}

/// `zero`.
#[derive(Debug, Args)]
pub struct ZeroArgs {
    /// Which service (default: all).
    #[command(flatten)]
    pub service: OptionalServiceSelector,
}

/// `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Which service (default: all).
    #[command(flatten)]
    pub service: OptionalServiceSelector,
    /// Seconds between refreshes (the kernel's rate estimates change every 2 s).
    #[arg(short = 'n', long, value_name = "SECONDS", default_value_t = 2.0,
          value_parser = parse_interval)]
    pub interval: f64,
    /// Stop after this many refreshes.
    #[arg(short = 'c', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Print each refresh as one line of JSON (JSON Lines) instead of a screen.
    #[arg(long)]
    pub json: bool,
}

/// A refresh interval: at least 0.1 s, at most a day.
fn parse_interval(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("not a number of seconds: {text}"))?;
    if (0.1..=86_400.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("interval {secs} out of range 0.1-86400"))
    }
}

/// `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Only check the rules and print them back in save format; change nothing.
    #[arg(long)]
    pub check: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_service_and_dest_commands() {
        let cli = Cli::try_parse_from([
            "ipvsctl",
            "service",
            "add",
            "--tcp",
            "10.0.0.1:80",
            "-s",
            "sh",
            "-p",
            "--sh-port",
        ])
        .unwrap();
        let Command::Service(ServiceCommand::Add(args)) = cli.command else {
            panic!("wrong command")
        };
        let opts = args.options();
        assert_eq!(opts.persistent, Some(360));
        assert_eq!(opts.sched_flags, vec![SchedFlag::ShPort]);

        let cli = Cli::try_parse_from([
            "ipvsctl",
            "dest",
            "add",
            "-f",
            "3",
            "-6",
            "-r",
            "[2001:db8::2]:80",
            "-w",
            "5",
        ])
        .unwrap();
        let Command::Dest(DestCommand::Add(args)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(
            args.service.key(),
            Some(ServiceKey::Fwmark {
                family: Family::Inet6,
                mark: 3
            })
        );
        assert_eq!(args.options().unwrap().fwd, None);

        // A mixed-family tunnel destination with GUE options, and options ipvsadm refuses.
        let dest_add = |extra: &[&str]| {
            let mut argv = vec![
                "ipvsctl",
                "dest",
                "add",
                "-u",
                "[2001:db8::1]:53",
                "-r",
                "10.0.0.7",
            ];
            argv.extend_from_slice(extra);
            let Command::Dest(DestCommand::Add(args)) = Cli::try_parse_from(argv)?.command else {
                panic!("wrong command")
            };
            Ok::<_, clap::Error>(args.options())
        };
        let opts = dest_add(&[
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6080",
            "--tun-csum",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(opts.fwd, Some(FwdMethod::Tunnel));
        assert_eq!(
            opts.tunnel,
            Some(Tunnel {
                tun_type: 1,
                port: 6080,
                flags: TUN_F_CSUM
            })
        );
        assert!(dest_add(&["-i", "--tun-type", "gue"]).unwrap().is_err());
        assert!(dest_add(&["-i", "--tun-port", "6080"]).unwrap().is_err());
        assert!(dest_add(&["-i", "--tun-csum", "--tun-remcsum"]).is_err());

        assert!(Cli::try_parse_from(["ipvsctl", "service", "add", "-s", "rr"]).is_err());
        assert!(Cli::try_parse_from([
            "ipvsctl",
            "service",
            "del",
            "-t",
            "10.0.0.1:80",
            "-u",
            "10.0.0.1:53"
        ])
        .is_err());
        assert!(Cli::try_parse_from(["ipvsctl", "zero", "-6"]).is_err());
        assert!(Cli::try_parse_from(["ipvsctl", "dest", "add", "-t", "1.2.3.4:80"]).is_err());
        assert!(Cli::try_parse_from(["ipvsctl", "list", "--stats", "--rate"]).is_err());
        assert!(Cli::try_parse_from(["ipvsctl", "list", "--json", "--stats"]).is_err());
        let cli = Cli::try_parse_from(["ipvsctl", "timeout", "--set", "900", "120", "300"]);
        assert!(cli.is_ok());
    }

    #[test]
    fn parses_daemon_commands() {
        let cli = Cli::try_parse_from([
            "ipvsctl",
            "daemon",
            "start",
            "master",
            "--interface",
            "sy0",
            "--syncid",
            "7",
            "--maxlen",
            "200",
            "--group",
            "ff02::81",
            "--port",
            "9000",
            "--ttl",
            "3",
        ])
        .unwrap();
        let Command::Daemon(DaemonCommand::Start(args)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(
            args.daemon(),
            Daemon {
                state: SyncState::Master,
                ifname: "sy0".into(),
                syncid: 7,
                maxlen: Some(200),
                group: Some("ff02::81".parse().unwrap()),
                port: Some(9000),
                ttl: Some(3),
            }
        );

        // Only the interface is needed; the sync id defaults to 0, the rest to the kernel's.
        let cli = Cli::try_parse_from(["ipvsctl", "daemon", "start", "backup", "-i", "eth1"]);
        let Command::Daemon(DaemonCommand::Start(args)) = cli.unwrap().command else {
            panic!("wrong command")
        };
        assert_eq!(args.daemon(), Daemon::new(SyncState::Backup, "eth1", 0));

        let cli = Cli::try_parse_from([
            "ipvsctl",
            "daemon",
            "start",
            "master",
            "-i",
            "e",
            "--group",
            "224.0.0.82",
        ]);
        let Command::Daemon(DaemonCommand::Start(args)) = cli.unwrap().command else {
            panic!("wrong command")
        };
        assert_eq!(args.group, Some("224.0.0.82".parse().unwrap()));

        let cli = Cli::try_parse_from(["ipvsctl", "daemon", "stop", "backup"]).unwrap();
        let Command::Daemon(DaemonCommand::Stop(args)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(args.state, SyncState::Backup);
        let cli = Cli::try_parse_from(["ipvsctl", "daemon", "list"]).unwrap();
        assert!(matches!(cli.command, Command::Daemon(DaemonCommand::List)));

        let start = |extra: &[&str]| {
            let mut argv = vec!["ipvsctl", "daemon", "start"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv)
        };
        // No state, an unknown state, no interface.
        assert!(start(&["-i", "eth0"]).is_err());
        assert!(start(&["primary", "-i", "eth0"]).is_err());
        assert!(start(&["master"]).is_err());
        // Interface names: 1 to 15 bytes.
        assert!(start(&["master", "-i", ""]).is_err());
        assert!(start(&["master", "-i", "a23456789012345"]).is_ok());
        assert!(start(&["master", "-i", "a234567890123456"]).is_err());
        // Ranges, as ipvsadm checks them.
        assert!(start(&["master", "-i", "e", "--syncid", "255"]).is_ok());
        assert!(start(&["master", "-i", "e", "--syncid", "256"]).is_err());
        assert!(start(&["master", "-i", "e", "--maxlen", "0"]).is_err());
        assert!(start(&["master", "-i", "e", "--maxlen", "65507"]).is_ok());
        assert!(start(&["master", "-i", "e", "--maxlen", "65508"]).is_err());
        assert!(start(&["master", "-i", "e", "--port", "0"]).is_err());
        assert!(start(&["master", "-i", "e", "--ttl", "0"]).is_err());
        assert!(start(&["master", "-i", "e", "--ttl", "256"]).is_err());
        // Groups must be multicast.
        assert!(start(&["master", "-i", "e", "--group", "10.0.0.1"]).is_err());
        assert!(start(&["master", "-i", "e", "--group", "2001:db8::1"]).is_err());
        assert!(start(&["master", "-i", "e", "--group", "nosuch"]).is_err());
        // stop takes only the state.
        assert!(Cli::try_parse_from(["ipvsctl", "daemon", "stop"]).is_err());
        assert!(Cli::try_parse_from(["ipvsctl", "daemon", "stop", "master", "-i", "e"]).is_err());
    }
}
