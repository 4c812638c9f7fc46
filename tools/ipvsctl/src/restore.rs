//! `ipvsctl restore`: ipvsadm's rule syntax (`ipvsadm -R`), parsed line by line with clap.

use clap::{ArgGroup, Parser};

use crate::action::Action;
use crate::addr::Endpoint;
use crate::cli::{selector_key, TunnelArgs};
use crate::config::Timeouts;
use crate::dest::{Dest, DestOptions, FwdMethod, MAX_WEIGHT};
use crate::service::{SchedFlag, Service, ServiceKey, ServiceOptions, MAX_TIMEOUT};

/// The options of one ipvsadm invocation that can appear in a restore stream.
#[derive(Debug, Parser)]
#[command(
    name = "ipvsadm",
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true
)]
#[command(group(
    ArgGroup::new("command").required(true).multiple(false).args([
        "add_service", "edit_service", "delete_service", "add_server", "edit_server",
        "delete_server", "clear", "zero", "set",
    ])
))]
#[command(group(
    ArgGroup::new("service").multiple(false)
        .args(["tcp_service", "udp_service", "sctp_service", "fwmark_service"])
))]
#[command(group(
    ArgGroup::new("forward").multiple(false).args(["gatewaying", "ipip", "masquerading"])
))]
struct IpvsadmLine {
    /// `-A`.
    #[arg(short = 'A', long)]
    add_service: bool,
    /// `-E`.
    #[arg(short = 'E', long)]
    edit_service: bool,
    /// `-D`.
    #[arg(short = 'D', long)]
    delete_service: bool,
    /// `-a`.
    #[arg(short = 'a', long)]
    add_server: bool,
    /// `-e`.
    #[arg(short = 'e', long)]
    edit_server: bool,
    /// `-d`.
    #[arg(short = 'd', long)]
    delete_server: bool,
    /// `-C`.
    #[arg(short = 'C', long)]
    clear: bool,
    /// `-Z`.
    #[arg(short = 'Z', long)]
    zero: bool,
    /// `--set tcp tcpfin udp`.
    #[arg(long, num_args = 3, value_names = ["TCP", "TCPFIN", "UDP"],
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_TIMEOUT)))]
    set: Option<Vec<u32>>,
    /// `-t addr:port`.
    #[arg(short = 't', long, value_parser = Endpoint::parse)]
    tcp_service: Option<Endpoint>,
    /// `-u addr:port`.
    #[arg(short = 'u', long, value_parser = Endpoint::parse)]
    udp_service: Option<Endpoint>,
    /// `--sctp-service addr:port`.
    #[arg(long, value_parser = Endpoint::parse)]
    sctp_service: Option<Endpoint>,
    /// `-f mark`.
    #[arg(short = 'f', long, value_parser = clap::value_parser!(u32).range(1..))]
    fwmark_service: Option<u32>,
    /// `-6` (with `-f`).
    #[arg(short = '6', long, requires = "fwmark_service")]
    ipv6: bool,
    /// `-s scheduler`.
    #[arg(short = 's', long)]
    scheduler: Option<String>,
    /// `-p [timeout]`.
    #[arg(short = 'p', long, num_args = 0..=1, default_missing_value = "360",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TIMEOUT)))]
    persistent: Option<u32>,
    /// `-M netmask`.
    #[arg(short = 'M', long)]
    netmask: Option<String>,
    /// `-b flag[,flag...]`.
    #[arg(short = 'b', long, value_delimiter = ',')]
    sched_flags: Vec<SchedFlag>,
    /// `--pe engine`.
    #[arg(long)]
    pe: Option<String>,
    /// `-o`.
    #[arg(short = 'o', long)]
    ops: bool,
    /// `-r addr[:port]`.
    #[arg(short = 'r', long, value_parser = Endpoint::parse)]
    real_server: Option<Endpoint>,
    /// `-g`.
    #[arg(short = 'g', long)]
    gatewaying: bool,
    /// `-i`.
    #[arg(short = 'i', long)]
    ipip: bool,
    /// `-m`.
    #[arg(short = 'm', long)]
    masquerading: bool,
    /// `-w weight`.
    #[arg(short = 'w', long, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_WEIGHT)))]
    weight: Option<u32>,
    /// `-x uthreshold`.
    #[arg(short = 'x', long)]
    u_threshold: Option<u32>,
    /// `-y lthreshold`.
    #[arg(short = 'y', long)]
    l_threshold: Option<u32>,
    /// `--tun-type`, `--tun-port` and the checksum switches.
    #[command(flatten)]
    tunnel: TunnelArgs,
    /// `-n` (accepted and ignored: everything is numeric).
    #[arg(short = 'n', long)]
    numeric: bool,
}

impl IpvsadmLine {
    /// The service options given on the line, with their option names.
    fn service_opts_given(&self) -> Vec<&'static str> {
        [
            (self.scheduler.is_some(), "-s"),
            (self.persistent.is_some(), "-p"),
            (self.netmask.is_some(), "-M"),
            (!self.sched_flags.is_empty(), "-b"),
            (self.pe.is_some(), "--pe"),
            (self.ops, "-o"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    /// The destination options given on the line (besides `-r`), with their option names.
    fn dest_opts_given(&self) -> Vec<&'static str> {
        [
            (
                self.gatewaying || self.ipip || self.masquerading,
                "-g/-i/-m",
            ),
            (self.weight.is_some(), "-w"),
            (self.u_threshold.is_some(), "-x"),
            (self.l_threshold.is_some(), "-y"),
            (self.tunnel.given(), "--tun-*"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    /// The command of the line (clap makes sure there is exactly one).
    fn line_cmd(&self) -> LineCmd {
        [
            (self.add_service, LineCmd::AddService),
            (self.edit_service, LineCmd::EditService),
            (self.delete_service, LineCmd::DelService),
            (self.add_server, LineCmd::AddDest),
            (self.edit_server, LineCmd::EditDest),
            (self.delete_server, LineCmd::DelDest),
            (self.zero, LineCmd::Zero),
            (self.clear, LineCmd::Clear),
        ]
        .into_iter()
        .find_map(|(given, cmd)| given.then_some(cmd))
        .unwrap_or(LineCmd::Set)
    }

    /// The forwarding method switch on the line, if any.
    fn forward(&self) -> Option<FwdMethod> {
        if self.masquerading {
            Some(FwdMethod::Masq)
        } else if self.ipip {
            Some(FwdMethod::Tunnel)
        } else if self.gatewaying {
            Some(FwdMethod::Route)
        } else {
            None
        }
    }

    /// Checks that the line carries the options its command needs and no others.
    fn check_options(&self, cmd: LineCmd) -> Result<(), String> {
        let name = cmd.name();
        let has_service = self.tcp_service.is_some()
            || self.udp_service.is_some()
            || self.sctp_service.is_some()
            || self.fwmark_service.is_some();
        match cmd.service() {
            Need::Required if !has_service => {
                return Err(format!(
                    "{name} needs a service (-t, -u, --sctp-service or -f)"
                ))
            }
            Need::Forbidden if has_service => return Err(format!("{name} takes no service")),
            _ => {}
        }
        if !matches!(cmd, LineCmd::AddService | LineCmd::EditService) {
            if let Some(opt) = self.service_opts_given().first() {
                return Err(format!("option {opt} is not valid with {name}"));
            }
        }
        if !matches!(cmd, LineCmd::AddDest | LineCmd::EditDest) {
            if let Some(opt) = self.dest_opts_given().first() {
                return Err(format!("option {opt} is not valid with {name}"));
            }
        }
        let wants_real = matches!(cmd, LineCmd::AddDest | LineCmd::EditDest | LineCmd::DelDest);
        match (wants_real, self.real_server.is_some()) {
            (true, false) => Err(format!("{name} needs a real server (-r)")),
            (false, true) => Err(format!("option -r is not valid with {name}")),
            _ => Ok(()),
        }
    }

    /// The change this line asks for.
    fn action(&self) -> Result<Action, String> {
        let cmd = self.line_cmd();
        self.check_options(cmd)?;
        let key = selector_key(
            self.tcp_service,
            self.udp_service,
            self.sctp_service,
            self.fwmark_service,
            self.ipv6,
        );
        let missing = || format!("{} is missing an option", cmd.name());
        let service_opts = || ServiceOptions {
            scheduler: self.scheduler.clone(),
            persistent: self.persistent,
            no_persistent: false,
            netmask: self.netmask.clone(),
            sched_flags: self.sched_flags.clone(),
            one_packet: self.ops,
            pe_name: self.pe.clone(),
        };
        let dest = |key: &ServiceKey| -> Result<Dest, String> {
            let real = self.real_server.ok_or_else(missing)?;
            let opts = DestOptions {
                weight: self.weight,
                fwd: self.forward(),
                u_threshold: self.u_threshold,
                l_threshold: self.l_threshold,
                tunnel: self.tunnel.tunnel()?,
            };
            // ipvsadm's default forwarding method is direct routing.
            Dest::build(key, real, &opts, FwdMethod::Route)
        };
        Ok(match cmd {
            LineCmd::AddService => {
                Action::AddService(Service::build(key.ok_or_else(missing)?, &service_opts())?)
            }
            LineCmd::EditService => {
                Action::EditService(Service::build(key.ok_or_else(missing)?, &service_opts())?)
            }
            LineCmd::DelService => Action::DelService(key.ok_or_else(missing)?),
            LineCmd::AddDest => {
                let key = key.ok_or_else(missing)?;
                Action::AddDest(key, dest(&key)?)
            }
            LineCmd::EditDest => {
                let key = key.ok_or_else(missing)?;
                Action::EditDest(key, dest(&key)?)
            }
            LineCmd::DelDest => {
                let key = key.ok_or_else(missing)?;
                let (addr, port) = Dest::locate(&key, self.real_server.ok_or_else(missing)?);
                Action::DelDest(key, Dest::new(addr, port, FwdMethod::Route))
            }
            LineCmd::Zero => Action::Zero(key),
            LineCmd::Clear => Action::Flush,
            LineCmd::Set => match self.set.as_deref() {
                Some(&[tcp, tcp_fin, udp]) => Action::SetTimeout(Timeouts { tcp, tcp_fin, udp }),
                _ => return Err("--set option requires 3 timeout values".to_string()),
            },
        })
    }
}

/// Whether a command takes a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// It must have one.
    Required,
    /// It may have one.
    Optional,
    /// It must not have one.
    Forbidden,
}

/// The ipvsadm commands a restore line can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineCmd {
    /// `-A`.
    AddService,
    /// `-E`.
    EditService,
    /// `-D`.
    DelService,
    /// `-a`.
    AddDest,
    /// `-e`.
    EditDest,
    /// `-d`.
    DelDest,
    /// `-Z`.
    Zero,
    /// `-C`.
    Clear,
    /// `--set`.
    Set,
}

impl LineCmd {
    /// The option that names the command.
    fn name(self) -> &'static str {
        match self {
            Self::AddService => "-A",
            Self::EditService => "-E",
            Self::DelService => "-D",
            Self::AddDest => "-a",
            Self::EditDest => "-e",
            Self::DelDest => "-d",
            Self::Zero => "-Z",
            Self::Clear => "-C",
            Self::Set => "--set",
        }
    }

    /// Whether the command takes a service.
    fn service(self) -> Need {
        match self {
            Self::Zero => Need::Optional,
            Self::Clear | Self::Set => Need::Forbidden,
            _ => Need::Required,
        }
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn clap_message(err: &clap::Error) -> String {
    let text = err.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// Parses one rule line; `Ok(None)` for blank and comment lines.
pub fn parse_line(line: &str) -> Result<Option<Action>, String> {
    let mut words = shlex::split(line).ok_or("unbalanced quotes")?;
    if words.first().map(String::as_str) == Some("ipvsadm") {
        words.remove(0);
    }
    if words.is_empty() {
        return Ok(None);
    }
    let parsed = IpvsadmLine::try_parse_from(&words).map_err(|e| clap_message(&e))?;
    parsed.action().map(Some)
}

/// A parsed rule and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line number.
    pub line: usize,
    /// The change.
    pub action: Action,
}

/// Parses a whole rule stream; the error names the first bad line.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(action)) => rules.push(Rule {
                line: n + 1,
                action,
            }),
            Ok(None) => {}
            Err(err) => return Err(format!("line {}: {err}", n + 1)),
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Family;
    use crate::dest::{Tunnel, TUN_F_CSUM};
    use crate::service::Protocol;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        <IpvsadmLine as CommandFactory>::command().debug_assert();
    }

    fn action(line: &str) -> Action {
        parse_line(line).unwrap().unwrap()
    }

    fn tcp(text: &str) -> ServiceKey {
        ServiceKey::from_endpoint(Protocol::Tcp, Endpoint::parse(text).unwrap())
    }

    #[test]
    fn service_lines() {
        let Action::AddService(svc) = action("-A -t 10.0.0.1:80 -s rr") else {
            panic!("not an add")
        };
        assert_eq!(svc.key, tcp("10.0.0.1:80"));
        assert_eq!(
            (svc.scheduler.as_str(), svc.flags, svc.timeout),
            ("rr", 0, 0)
        );
        assert_eq!(svc.netmask, u32::MAX);

        let Action::AddService(svc) = action("ipvsadm -A -u 10.0.0.1:53") else {
            panic!("not an add")
        };
        assert_eq!(svc.scheduler, "wlc");

        let Action::AddService(svc) =
            action("-A -t 10.0.0.1:443 -s sh -p -M 255.255.255.0 -b sh-port,sh-fallback")
        else {
            panic!("not an add")
        };
        assert_eq!(svc.flags, 0x1 | 0x8 | 0x10);
        assert_eq!(svc.timeout, 360);
        assert_eq!(svc.netmask.to_ne_bytes(), [255, 255, 255, 0]);

        let Action::EditService(svc) = action("-E -f 7 -6 -s rr -p 600") else {
            panic!("not an edit")
        };
        assert_eq!(
            svc.key,
            ServiceKey::Fwmark {
                family: Family::Inet6,
                mark: 7
            }
        );
        assert_eq!((svc.timeout, svc.netmask), (600, 128));

        assert_eq!(
            action("-D -t [2001:db8::80]:80"),
            Action::DelService(tcp("[2001:db8::80]:80"))
        );
        // Combined short options, as popt allows them.
        assert_eq!(
            action("-Dt 10.0.0.1:80"),
            Action::DelService(tcp("10.0.0.1:80"))
        );
    }

    #[test]
    fn dest_lines() {
        let Action::AddDest(key, dest) = action("-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3")
        else {
            panic!("not a dest add")
        };
        assert_eq!(key, tcp("10.0.0.1:80"));
        assert_eq!(dest.addr, "10.0.1.1".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(
            (dest.port, dest.weight, dest.fwd),
            (8080, 3, FwdMethod::Masq)
        );

        // No method: direct routing, as ipvsadm; the port follows the service.
        let Action::AddDest(_, dest) = action("-a -t 10.0.0.1:80 -r 10.0.1.1:8080") else {
            panic!("not a dest add")
        };
        assert_eq!(
            (dest.fwd, dest.port, dest.weight),
            (FwdMethod::Route, 80, 1)
        );

        let Action::AddDest(_, dest) = action(
            "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum",
        ) else {
            panic!("not a dest add")
        };
        assert_eq!(
            dest.tunnel,
            Some(Tunnel {
                tun_type: 1,
                port: 6080,
                flags: TUN_F_CSUM
            })
        );

        let Action::EditDest(_, dest) = action("-e -f 1 -r 192.168.10.1:0 -m -x 100 -y 50") else {
            panic!("not a dest edit")
        };
        assert_eq!(
            (dest.u_threshold, dest.l_threshold, dest.port),
            (100, 50, 0)
        );

        let Action::DelDest(_, dest) = action("-d -u 10.0.0.1:53 -r 10.0.1.1") else {
            panic!("not a dest del")
        };
        assert_eq!(dest.port, 53);
    }

    #[test]
    fn other_lines() {
        assert_eq!(action("-C"), Action::Flush);
        assert_eq!(action("-Z"), Action::Zero(None));
        assert_eq!(
            action("-Z -t 10.0.0.1:80"),
            Action::Zero(Some(tcp("10.0.0.1:80")))
        );
        assert_eq!(
            action("--set 900 120 300"),
            Action::SetTimeout(Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300
            })
        );
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("   # a comment").unwrap(), None);
        assert_eq!(parse_line("ipvsadm").unwrap(), None);
    }

    #[test]
    fn bad_lines() {
        let err = |line: &str| parse_line(line).unwrap_err();
        assert!(
            err("-A -s rr").contains("needs a service"),
            "{}",
            err("-A -s rr")
        );
        assert!(err("-A -t 10.0.0.1:80 -D").contains("cannot be used with"));
        assert!(err("-a -t 10.0.0.1:80 -m").contains("needs a real server"));
        assert!(err("-A -t 10.0.0.1:80 -w 5").contains("-w is not valid with -A"));
        assert!(err("-a -t 10.0.0.1:80 -r 10.0.1.1 -s rr").contains("-s is not valid"));
        assert!(err("-A -t 10.0.0.1:http").contains("invalid address"));
        assert!(err("-A -t 10.0.0.1:80 -b sh-port").contains("incompatible scheduler flag"));
        assert!(err("-A -t 10.0.0.1:80 -b bogus").contains("invalid value"));
        assert!(err("-A -t 10.0.0.1").contains("Zero port"));
        assert!(err("--set 1 2").contains("3 values") || err("--set 1 2").contains("TCP"));
        assert!(err("-L -n").contains("unexpected argument"));
        assert!(err("-A -f 0").contains("not in"));
        assert!(err("-a -t 10.0.0.1:80 -r 10.0.1.1 -m -w -1").contains("unexpected argument"));
        assert!(err("-A -t 10.0.0.1:80 \"unterminated").contains("unbalanced"));

        let e = parse_rules("-A -t 10.0.0.1:80 -s rr\n\n-a -t 10.0.0.1:80 -q\n").unwrap_err();
        assert!(e.starts_with("line 3: "), "{e}");
        let rules = parse_rules("# saved\n-A -t 10.0.0.1:80 -s rr\n-C\n").unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].line, 2);
    }
}
