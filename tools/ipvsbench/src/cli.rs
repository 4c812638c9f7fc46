//! Command line of `ipvsbench`: one subcommand per role or workload.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Load generator for comparing rust_ipvs with the C ip_vs through a NAT virtual service.
#[derive(Debug, Parser)]
#[command(name = "ipvsbench", version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Real-server side: a TCP responder and a UDP datagram counter.
    Server(ServerArgs),
    /// TCP connect/request/response/close loop against the virtual service.
    TcpCrr(TcpCrrArgs),
    /// UDP datagrams, each from a fresh socket (every packet a new IPVS connection).
    UdpFlood(UdpFloodArgs),
    /// One UDP datagram from each of N distinct source tuples (for memory measurements).
    UdpConns(UdpConnsArgs),
    /// One TCP connection per thread, each writing as fast as it can for the given time,
    /// then closing and waiting for the server to close (the server's `--sink-port`): the
    /// byte rate of established connections.
    TcpStream(StreamArgs),
    /// Datagrams from one connected socket per thread (one IPVS connection each) for the
    /// given time: the packet rate of established connections.
    UdpStream(StreamArgs),
    /// TCP connections one after another from chosen source tuples, printing the reply of
    /// each (the real server's name): the backend sequence a scheduler produces.
    Sequence(SequenceArgs),
    /// Spoofed TCP SYNs from many source tuples through a raw socket (a SYN flood).
    SynFlood(SynFloodArgs),
    /// One UDP request: a datagram from a connected socket, then the first answer written to
    /// stdout as it came, as soon as it comes (the tests' request to a UDP service).
    UdpRequest(UdpRequestArgs),
}

/// Options of `udp-request`.
#[derive(Debug, Args)]
pub struct UdpRequestArgs {
    /// The virtual service, IP:PORT.
    #[arg(long)]
    pub target: SocketAddr,
    /// Local address to bind, IP:PORT (port 0: the kernel's choice); default: any address,
    /// the kernel's port.
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// How long to wait for the answer, in seconds; none in time ends the request silently.
    #[arg(long, value_parser = parse_seconds, default_value = "2")]
    pub wait: Seconds,
    /// The datagram's payload.
    #[arg(long, default_value = "ping\n")]
    pub payload: String,
}

/// Options of `syn-flood`.
#[derive(Debug, Args)]
pub struct SynFloodArgs {
    /// The virtual service, IPv4:PORT.
    #[arg(long)]
    pub target: SocketAddr,
    /// Number of SYNs; SYN i comes from address `--source-net` + (i mod 65536) and port
    /// 10000 + (i / 65536), so every SYN is a new tuple and every run sends the same ones.
    #[arg(long)]
    pub count: u32,
    /// The first address of the spoofed /16 (its last two bytes are replaced).
    #[arg(long, default_value_t = Ipv4Addr::new(10, 99, 0, 0))]
    pub source_net: Ipv4Addr,
}

/// Options of `server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// TCP port to accept on: each connection gets one short reply, then is closed.
    #[arg(long)]
    pub tcp_port: u16,
    /// UDP port whose datagrams are counted.
    #[arg(long)]
    pub udp_port: u16,
    /// Address to bind both sockets to.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub bind: IpAddr,
    /// Threads per protocol (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the UDP datagram count to this file every 100 ms (and on exit).
    #[arg(long)]
    pub count_file: Option<PathBuf>,
    /// The TCP reply.
    #[arg(long, default_value = "ok\n")]
    pub reply: String,
    /// After replying, keep each TCP connection open until the client closes it.
    #[arg(long)]
    pub wait_close: bool,
    /// Answer each UDP datagram with the reply too (from the bound address), besides
    /// counting it.
    #[arg(long)]
    pub udp_reply: bool,
    /// Answer each UDP datagram with the reply followed by the sender's address and a
    /// newline (what the real server saw of the client), besides counting it.
    #[arg(long)]
    pub udp_reply_peer: bool,
    /// Also accept TCP connections on this port that are read until the client closes,
    /// then closed (the sink of `tcp-stream`).
    #[arg(long)]
    pub sink_port: Option<u16>,
    /// Also accept SCTP associations on this port (one-to-one sockets), served like the TCP
    /// connections.
    #[arg(long)]
    pub sctp_port: Option<u16>,
}

/// Options of `sequence`.
#[derive(Debug, Args)]
pub struct SequenceArgs {
    /// The virtual service, IP:PORT.
    #[arg(long)]
    pub target: SocketAddr,
    /// Number of connections.
    #[arg(long)]
    pub count: u32,
    /// Source addresses, used in turn (connection i from address i mod N); default: the
    /// kernel's choice.
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<IpAddr>,
    /// Source port of the first connection; connection i uses this plus i. Default: the
    /// kernel's choice.
    #[arg(long)]
    pub first_port: Option<u16>,
    /// Keep every connection open until the last one is made (the server must not close
    /// first: `server --wait-close`), so that each counts as active while the next is
    /// scheduled. Without it each connection is closed after the reply's first line, and
    /// the next one starts once the server has closed too.
    #[arg(long)]
    pub hold: bool,
    /// Connect and read timeout of one connection, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Open SCTP associations instead of TCP connections (one-to-one sockets; closing one
    /// is SCTP's SHUTDOWN).
    #[arg(long)]
    pub sctp: bool,
}

/// What every timed load takes (`tcp-crr`, `udp-flood`, `tcp-stream`, `udp-stream`).
#[derive(Debug, Args)]
pub struct TimedLoad {
    /// The virtual service, IP:PORT.
    #[arg(long)]
    pub target: SocketAddr,
    /// How long to run.
    #[arg(long, value_parser = parse_seconds)]
    pub seconds: Seconds,
    /// Client threads, each running the load.
    #[arg(long, default_value_t = 1, value_parser = parse_threads)]
    pub threads: usize,
}

/// Options of `tcp-crr`.
#[derive(Debug, Args)]
pub struct TcpCrrArgs {
    /// Where, how long, how many threads.
    #[command(flatten)]
    pub load: TimedLoad,
    /// Connect and read timeout of one connection, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
}

/// Options of `udp-flood`.
#[derive(Debug, Args)]
pub struct UdpFloodArgs {
    /// Where, how long, how many threads.
    #[command(flatten)]
    pub load: TimedLoad,
    /// Source addresses to bind, with explicit ports from --port-range, cycling through every
    /// (address, port) pair; without it the kernel picks a random ephemeral port each time.
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<IpAddr>,
    /// Source ports used with --source.
    #[arg(long, default_value_t = PortRange::DEFAULT)]
    pub port_range: PortRange,
    /// Payload bytes per datagram.
    #[arg(long, default_value_t = 16)]
    pub payload: usize,
}

/// Options of `tcp-stream` and `udp-stream`.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Where, how long, how many threads (each with its own connection).
    #[command(flatten)]
    pub load: TimedLoad,
    /// Bytes per write (`tcp-stream`, default 65536) or per datagram (`udp-stream`, default
    /// 16).
    #[arg(long)]
    pub payload: Option<usize>,
}

/// Options of `udp-conns`.
#[derive(Debug, Args)]
pub struct UdpConnsArgs {
    /// The virtual service, IP:PORT.
    #[arg(long)]
    pub target: SocketAddr,
    /// Number of distinct source tuples (one datagram each).
    #[arg(long)]
    pub count: u64,
    /// Source addresses (all ports of the first, then the next, ...); default 0.0.0.0.
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<IpAddr>,
    /// Source ports to bind explicitly.
    #[arg(long, default_value_t = PortRange::DEFAULT)]
    pub port_range: PortRange,
    /// Payload bytes per datagram.
    #[arg(long, default_value_t = 16)]
    pub payload: usize,
}

/// A positive duration given in (possibly fractional) seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seconds(pub Duration);

/// Parses `--seconds`: a positive, finite number of seconds.
fn parse_seconds(s: &str) -> Result<Seconds, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if !v.is_finite() || v <= 0.0 || v > 1e6 {
        return Err(format!("{s}: must be a number of seconds in (0, 1e6]"));
    }
    Ok(Seconds(Duration::from_secs_f64(v)))
}

/// Parses `--threads`: at least one.
fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n > 1024 => Err("at most 1024".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}")),
    }
}

/// An inclusive range of ports, written `LO-HI`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub lo: u16,
    /// Last port (inclusive).
    pub hi: u16,
}

impl PortRange {
    /// Every unprivileged port.
    pub const DEFAULT: PortRange = PortRange {
        lo: 1024,
        hi: 65535,
    };

    /// Number of ports in the range.
    pub fn len(self) -> u64 {
        u64::from(self.hi) - u64::from(self.lo) + 1
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.lo, self.hi)
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (lo, hi) = s
            .split_once('-')
            .ok_or_else(|| format!("{s}: expected LO-HI"))?;
        let lo: u16 = lo.trim().parse().map_err(|e| format!("{lo}: {e}"))?;
        let hi: u16 = hi.trim().parse().map_err(|e| format!("{hi}: {e}"))?;
        if lo == 0 || lo > hi {
            return Err(format!("{s}: need 1 <= LO <= HI"));
        }
        Ok(PortRange { lo, hi })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ipvsbench").chain(args.iter().copied()))
    }

    #[test]
    fn server_args() {
        let cli = parse(&[
            "server",
            "--tcp-port",
            "8080",
            "--udp-port",
            "9000",
            "--count-file",
            "/tmp/c",
        ])
        .expect("parses");
        let Command::Server(a) = cli.command else {
            panic!("not server: {cli:?}");
        };
        assert_eq!(a.tcp_port, 8080);
        assert_eq!(a.udp_port, 9000);
        assert_eq!(a.count_file, Some(PathBuf::from("/tmp/c")));
        assert_eq!(a.bind, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(a.threads, None);
        assert_eq!(a.reply, "ok\n");
        assert_eq!(a.sctp_port, None);
        assert!(parse(&["server", "--tcp-port", "8080"]).is_err());
        assert!(parse(&["server", "--tcp-port", "70000", "--udp-port", "1"]).is_err());
    }

    #[test]
    fn tcp_crr_args() {
        let cli = parse(&[
            "tcp-crr",
            "--target",
            "10.0.0.1:8080",
            "--seconds",
            "2.5",
            "--threads",
            "3",
        ])
        .expect("parses");
        let Command::TcpCrr(a) = cli.command else {
            panic!("not tcp-crr: {cli:?}");
        };
        assert_eq!(a.load.target, "10.0.0.1:8080".parse().expect("addr"));
        assert_eq!(a.load.seconds, Seconds(Duration::from_millis(2500)));
        assert_eq!(a.load.threads, 3);
        assert_eq!(a.timeout_ms, 2000);
    }

    #[test]
    fn bad_numbers_are_rejected() {
        for secs in ["0", "-1", "nan", "inf", "x"] {
            assert!(
                parse(&["tcp-crr", "--target", "10.0.0.1:80", "--seconds", secs]).is_err(),
                "{secs}"
            );
        }
        assert!(parse(&[
            "udp-flood",
            "--target",
            "10.0.0.1:53",
            "--seconds",
            "1",
            "--threads",
            "0"
        ])
        .is_err());
        assert!(parse(&["udp-flood", "--target", "10.0.0.1", "--seconds", "1"]).is_err());
    }

    #[test]
    fn udp_flood_args() {
        let cli = parse(&[
            "udp-flood",
            "--target",
            "10.0.0.1:9000",
            "--seconds",
            "10",
            "--threads",
            "2",
            "--source",
            "10.0.0.3,10.0.0.4",
            "--source",
            "10.0.0.5",
        ])
        .expect("parses");
        let Command::UdpFlood(a) = cli.command else {
            panic!("not udp-flood: {cli:?}");
        };
        assert_eq!(a.load.seconds, Seconds(Duration::from_secs(10)));
        assert_eq!(a.load.threads, 2);
        assert_eq!(a.sources.len(), 3);
        assert_eq!(a.port_range, PortRange::DEFAULT);
        assert_eq!(a.payload, 16);
    }

    #[test]
    fn stream_args() {
        let cli =
            parse(&["udp-stream", "--target", "[fd00::1]:9000", "--seconds", "3"]).expect("parses");
        let Command::UdpStream(a) = cli.command else {
            panic!("not udp-stream: {cli:?}");
        };
        assert_eq!(a.load.target, "[fd00::1]:9000".parse().expect("addr"));
        assert_eq!(a.load.threads, 1);
        assert_eq!(a.payload, None);
        let cli = parse(&[
            "tcp-stream",
            "--target",
            "10.0.0.1:8090",
            "--seconds",
            "1",
            "--payload",
            "1000",
        ])
        .expect("parses");
        let Command::TcpStream(a) = cli.command else {
            panic!("not tcp-stream: {cli:?}");
        };
        assert_eq!(a.payload, Some(1000));
    }

    #[test]
    fn udp_conns_args() {
        let cli = parse(&[
            "udp-conns",
            "--target",
            "10.0.0.1:9000",
            "--count",
            "100000",
            "--port-range",
            "2000-3000",
        ])
        .expect("parses");
        let Command::UdpConns(a) = cli.command else {
            panic!("not udp-conns: {cli:?}");
        };
        assert_eq!(a.count, 100_000);
        assert!(a.sources.is_empty());
        assert_eq!(a.port_range, PortRange { lo: 2000, hi: 3000 });
    }

    #[test]
    fn udp_request_args() {
        let cli = parse(&[
            "udp-request",
            "--target",
            "[2001:db8::1]:53",
            "--bind",
            "[::]:40001",
            "--wait",
            "0.5",
        ])
        .expect("parses");
        let Command::UdpRequest(a) = cli.command else {
            panic!("not udp-request: {cli:?}");
        };
        assert_eq!(a.bind, Some("[::]:40001".parse().unwrap()));
        assert_eq!(a.wait, Seconds(Duration::from_millis(500)));
        assert_eq!(a.payload, "ping\n");
        assert!(parse(&["udp-request", "--target", "10.0.0.1:53", "--wait", "0"]).is_err());
    }

    #[test]
    fn sequence_args() {
        let cli = parse(&[
            "sequence",
            "--target",
            "10.0.0.100:81",
            "--count",
            "12",
            "--source",
            "10.0.0.10,10.0.0.11",
            "--first-port",
            "30000",
            "--hold",
        ])
        .expect("parses");
        let Command::Sequence(a) = cli.command else {
            panic!("not sequence: {cli:?}");
        };
        assert_eq!(a.count, 12);
        assert_eq!(a.sources.len(), 2);
        assert_eq!(a.first_port, Some(30000));
        assert!(a.hold);
        assert!(!a.sctp);
        assert!(parse(&["sequence", "--target", "10.0.0.1:80"]).is_err());
    }

    #[test]
    fn port_range() {
        assert_eq!("1-1".parse::<PortRange>().map(PortRange::len), Ok(1));
        assert_eq!(PortRange::DEFAULT.len(), 64512);
        assert_eq!(PortRange::DEFAULT.to_string(), "1024-65535");
        for bad in ["", "5", "0-10", "10-5", "1-65536", "a-b"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }
}
