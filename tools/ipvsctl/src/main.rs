//! `ipvsctl`: the userspace CLI of rust_ipvs.
//!
//! It talks to the generic netlink family "IPVS" (version 1), which rust_ipvs registers
//! wire-compatible with the kernel's C ip_vs, so the same tool drives both. The layout follows
//! the rust-netlink `ethtool` crate: one folder per attribute group (`service/`, `dest/`,
//! `daemon/`) with its `attr.rs`, `impl GenlFamily` in `message.rs`, and the socket in
//! `handle.rs`.

mod action;
mod addr;
mod cli;
mod config;
mod conn;
mod daemon;
mod dest;
mod error;
mod handle;
mod list;
mod message;
mod restore;
mod save;
mod service;
mod stats;
#[cfg(test)]
mod tests;
mod watch;

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context};
use clap::Parser;

use crate::action::Action;
use crate::cli::{Cli, Command, DaemonCommand, DestCommand, ListArgs, ServiceCommand, WatchArgs};
use crate::dest::{Dest, FwdMethod};
use crate::handle::IpvsHandle;
use crate::list::{Columns, ServiceEntry};
use crate::service::{Service, ServiceKey};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a closed pipe (`ipvsctl list | head`) is not an error.
fn output(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// The key of a required selector (clap already made sure one was given).
fn required(key: Option<ServiceKey>) -> anyhow::Result<ServiceKey> {
    key.ok_or_else(|| anyhow!("a service is required: --tcp, --udp, --sctp or --fwmark"))
}

/// Opens the netlink handle.
fn connect() -> anyhow::Result<IpvsHandle> {
    Ok(IpvsHandle::connect()?)
}

/// Reads the services (one, or all) with their destinations, sorted like ipvsadm.
fn read_table(
    handle: &mut IpvsHandle,
    only: Option<&ServiceKey>,
) -> anyhow::Result<Vec<ServiceEntry>> {
    let services = match only {
        Some(key) => vec![handle.service(key)?],
        None => handle.services()?,
    };
    let mut entries = Vec::with_capacity(services.len());
    for service in services {
        let dests = handle.dests(&service.key)?;
        entries.push(ServiceEntry { service, dests });
    }
    list::sort_entries(&mut entries);
    Ok(entries)
}

/// `ipvsctl list`.
fn list(args: &ListArgs) -> anyhow::Result<()> {
    let only = args.service.key();
    let mut handle = connect()?;
    let info = handle.info()?;
    let entries = read_table(&mut handle, only.as_ref())?;
    // ipvsadm prints the version banner only when listing everything.
    let banner = only.is_none().then_some(&info);
    if args.json {
        return output(&(list::render_json(Some(&info), &entries)? + "\n"));
    }
    let c = &args.columns;
    let columns = if c.stats {
        Columns::Stats
    } else if c.rate {
        Columns::Rate
    } else if c.thresholds {
        Columns::Thresholds
    } else if c.persistent_conn {
        Columns::PersistentConn
    } else {
        Columns::Plain
    };
    output(&list::render_table(banner, &entries, columns, args.exact))
}

/// `ipvsctl watch`: a screen (or a JSON line) per refresh; on a terminal each screen
/// replaces the last.
fn watch(args: &WatchArgs) -> anyhow::Result<()> {
    let only = args.service.key();
    let mut handle = connect()?;
    let clear = !args.json && io::stdout().is_terminal();
    let interval = Duration::from_secs_f64(args.interval);
    let mut refresh = 0;
    loop {
        refresh += 1;
        let entries = read_table(&mut handle, only.as_ref())?;
        let text = if args.json {
            watch::render_json_line(&entries, refresh)? + "\n"
        } else if clear {
            "\x1b[H\x1b[2J".to_string() + &watch::render_screen(&entries, args.interval, refresh)
        } else {
            watch::render_screen(&entries, args.interval, refresh) + "\n"
        };
        output(&text)?;
        if args.count.is_some_and(|count| refresh >= count) {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

/// `ipvsctl restore`.
fn restore(check: bool) -> anyhow::Result<()> {
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .context("reading rules from stdin")?;
    let rules = restore::parse_rules(&text).map_err(|e| anyhow!(e))?;
    if check {
        let lines: String = rules
            .iter()
            .map(|r| save::action_rule(&r.action) + "\n")
            .collect();
        return output(&lines);
    }
    if rules.is_empty() {
        return Ok(());
    }
    let mut handle = connect()?;
    for rule in &rules {
        handle
            .apply(&rule.action)
            .with_context(|| format!("line {}", rule.line))?;
    }
    Ok(())
}

/// Carries out the command line.
fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Service(ServiceCommand::Add(args)) => {
            let svc = Service::build(required(args.service.key())?, &args.options())
                .map_err(|e| anyhow!(e))?;
            connect()?.apply(&Action::AddService(svc))?;
        }
        Command::Service(ServiceCommand::Edit(args)) => {
            let key = required(args.service.key())?;
            let mut handle = connect()?;
            let current = handle.service(&key)?;
            let svc = current.overlay(&args.options()).map_err(|e| anyhow!(e))?;
            handle.apply(&Action::EditService(svc))?;
        }
        Command::Service(ServiceCommand::Del(args)) => {
            let key = required(args.service.key())?;
            connect()?.apply(&Action::DelService(key))?;
        }
        Command::Dest(DestCommand::Add(args)) => {
            let key = required(args.service.key())?;
            let opts = args.options().map_err(|e| anyhow!(e))?;
            let dest =
                Dest::build(&key, args.real, &opts, FwdMethod::Masq).map_err(|e| anyhow!(e))?;
            connect()?.apply(&Action::AddDest(key, dest))?;
        }
        Command::Dest(DestCommand::Edit(args)) => {
            let key = required(args.service.key())?;
            let mut handle = connect()?;
            let (addr, port) = Dest::locate(&key, args.real);
            let current = handle
                .dests(&key)?
                .into_iter()
                .find(|d| d.addr == addr && d.port == port);
            // Without a current entry the kernel gets the full request and says what is
            // missing (no such service or destination).
            let opts = args.options().map_err(|e| anyhow!(e))?;
            let dest = match current {
                Some(current) => current.overlay(&key, &opts),
                None => Dest::build(&key, args.real, &opts, FwdMethod::Masq),
            }
            .map_err(|e| anyhow!(e))?;
            handle.apply(&Action::EditDest(key, dest))?;
        }
        Command::Dest(DestCommand::Del(args)) => {
            let key = required(args.service.key())?;
            let (addr, port) = Dest::locate(&key, args.real);
            let dest = Dest::new(addr, port, FwdMethod::Masq);
            connect()?.apply(&Action::DelDest(key, dest))?;
        }
        Command::List(args) => list(&args)?,
        Command::Conns(args) => {
            let text = std::fs::read_to_string(&args.proc_file)
                .with_context(|| format!("cannot read {}", args.proc_file.display()))?;
            let conns = conn::parse_proc_conn(&text)
                .map_err(|e| anyhow!("unexpected input from {}: {e}", args.proc_file.display()))?;
            if args.json {
                output(&(serde_json::to_string_pretty(&conns)? + "\n"))?;
            } else {
                output(&conn::render_conns(&conns))?;
            }
        }
        Command::Timeout(args) => {
            let mut handle = connect()?;
            match args.set.as_deref() {
                Some([tcp, tcp_fin, udp]) => {
                    let t = config::Timeouts {
                        tcp: *tcp,
                        tcp_fin: *tcp_fin,
                        udp: *udp,
                    };
                    handle.apply(&Action::SetTimeout(t))?;
                }
                Some(_) => return Err(anyhow!("--set takes 3 timeout values")),
                None => {
                    let t = handle.timeouts()?;
                    if args.json {
                        output(&(serde_json::to_string_pretty(&t)? + "\n"))?;
                    } else {
                        output(&(t.line() + "\n"))?;
                    }
                }
            }
        }
        Command::Zero(args) => connect()?.apply(&Action::Zero(args.service.key()))?,
        Command::Flush => connect()?.apply(&Action::Flush)?,
        Command::Info(args) => {
            let info = connect()?.info()?;
            if args.json {
                let doc = serde_json::json!({
                    "version": info.version_text(),
                    "version_code": info.version,
                    "conn_tab_size": info.conn_tab_size,
                });
                output(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
            } else {
                output(&(info.banner() + "\n"))?;
            }
        }
        Command::Save => {
            let mut handle = connect()?;
            let entries = read_table(&mut handle, None)?;
            output(&save::render_save(&entries))?;
        }
        Command::Restore(args) => restore(args.check)?,
        Command::Watch(args) => watch(&args)?,
        Command::Daemon(DaemonCommand::Start(args)) => connect()?.start_daemon(&args.daemon())?,
        Command::Daemon(DaemonCommand::Stop(args)) => connect()?.stop_daemon(args.state)?,
        Command::Daemon(DaemonCommand::List) => {
            let lines: String = connect()?
                .daemons()?
                .iter()
                .map(|daemon| daemon.line() + "\n")
                .collect();
            output(&lines)?;
        }
    }
    Ok(())
}
