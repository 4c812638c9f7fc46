//! `nlfuzz`: sends malformed requests to the generic netlink family "IPVS" (rust_ipvs or the
//! kernel's C ip_vs) and counts the answers.
//!
//! Each request is a structured mutation of a valid one ([`gen`]): every command number 0..=20
//! with and without NLM_F_DUMP / NLM_F_ACK, truncated and overlong attributes, wrong widths,
//! oversized addresses and names, strings without NUL, missing, flat and deeply nested nests,
//! unknown attribute types, out-of-range values, random payloads, bad genl headers. A model of
//! the C implementation ([`model`]) predicts each answer. As root, requests that write (service,
//! destination, daemon and timeout changes) always carry a defect the C implementation
//! certainly rejects, so the configuration must be exactly what it was afterwards; FLUSH is
//! only sent with NLM_F_DUMP (which it has no handler for). Without CAP_NET_ADMIN everything,
//! valid FLUSH included, is sent as is: the kernel must answer EPERM.
//!
//! Output: requests that were accepted, answered unlike the model, or lost (the first five;
//! all with `--verbose`), then one summary line. Exit status: 0; 1 with `--strict` if any such
//! request was seen; 2 if the socket failed or the family is missing.

mod attr;
mod gen;
mod model;
mod net;
mod request;
mod summary;
mod uapi;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use crate::gen::{Generator, Known, Planned};
use crate::net::{Conn, OpenError};
use crate::summary::{judge, Judgement, Summary};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "Send malformed requests to the IPVS generic netlink family and count the answers"
)]
struct Cli {
    /// How many requests to send.
    #[arg(long, default_value_t = 5000)]
    count: u64,
    /// Seed of the request generator (a run is reproducible for a seed and a configuration).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How long to wait for an answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    /// Send only request INDEX of the run and show it with its answer (to reproduce a finding).
    #[arg(long, value_name = "INDEX")]
    only: Option<u64>,
    /// Exit 1 if a request was accepted or answered unlike the C ip_vs, or got no answer.
    #[arg(long)]
    strict: bool,
    /// Print every notable request with its bytes (default: the first five).
    #[arg(long, short)]
    verbose: bool,
    /// Write one line per request (index, command, flags, prediction, answer) to FILE.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Print the requests and predictions without sending anything (aims at no known service).
    #[arg(long)]
    dry_run: bool,
}

/// How many notable requests are printed without `--verbose`.
const NOTABLE_DEFAULT: u64 = 5;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            println!("nlfuzz: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the fuzzer; errors are the socket's.
fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let privileged = has_cap_net_admin();
    let indices: Vec<u64> = match cli.only {
        Some(index) => vec![index],
        None => (0..cli.count).collect(),
    };
    if cli.dry_run {
        let generator = Generator::new(cli.seed, Known::default(), privileged);
        for &index in &indices {
            match generator.plan(index) {
                Some(plan) => println!("{}", describe(index, &plan, &plan.request.encode(0, 0))),
                None => println!("#{index}: skipped"),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut conn = match Conn::open(Duration::from_millis(cli.timeout_ms)) {
        Ok(conn) => conn,
        Err(OpenError::FamilyMissing) => {
            anyhow::bail!(
                "generic netlink family \"IPVS\" not found (rust_ipvs or ip_vs not loaded?)"
            )
        }
        Err(OpenError::Socket(err)) => return Err(err),
    };
    // Without CAP_NET_ADMIN the dumps fail with EPERM: aim at nothing in particular.
    let known = conn.discover().unwrap_or_default();
    let generator = Generator::new(cli.seed, known, privileged);
    let mut log = match &cli.log {
        Some(path) => Some(BufWriter::new(
            File::create(path).with_context(|| format!("create {}", path.display()))?,
        )),
        None => None,
    };
    let mut summary = Summary::default();
    let mut notable = 0u64;
    for &index in &indices {
        let Some(plan) = generator.plan(index) else {
            summary.skipped += 1;
            continue;
        };
        if !plan.defects.is_empty() {
            summary.forced += 1;
        }
        let (outcome, bytes) = conn.exchange(&plan.request)?;
        let judgement = judge(&plan.verdict, &outcome);
        summary.add(&outcome, judgement);
        if let Some(log) = &mut log {
            writeln!(
                log,
                "{index} cmd={} flags={:#x} len={} predicted=[{}] got={outcome} {}",
                plan.request.cmd,
                plan.request.flags,
                bytes.len(),
                plan.verdict,
                tag(judgement)
            )
            .context("write log")?;
        }
        // With --only the one request is always shown: its answer may be one the model
        // allows and still differ from the C ip_vs's.
        if judgement != Judgement::Agree || cli.only.is_some() {
            notable += 1;
            if cli.verbose || notable <= NOTABLE_DEFAULT {
                println!("nlfuzz: {}: got {outcome}", tag(judgement));
                println!("{}", describe(index, &plan, &bytes));
            }
        }
    }
    if let Some(log) = &mut log {
        log.flush().context("write log")?;
    }
    println!(
        "nlfuzz: seed={} family={} cap_net_admin={} {summary}",
        cli.seed,
        conn.family(),
        if privileged { "yes" } else { "no" }
    );
    Ok(if cli.strict && summary.anomalies() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The word for a judgement in the log.
fn tag(judgement: Judgement) -> &'static str {
    match judgement {
        Judgement::Agree => "ok",
        Judgement::UnexpectedOk => "UNEXPECTED_OK",
        Judgement::Mismatch => "MISMATCH",
        Judgement::Lost => "LOST",
    }
}

/// A request for humans: index, command, flags, prediction, how it was made, and its bytes.
fn describe(index: u64, plan: &Planned, bytes: &[u8]) -> String {
    let mut hex = String::new();
    for (i, byte) in bytes.iter().take(1024).enumerate() {
        if i > 0 && i % 32 == 0 {
            hex.push_str("\n    ");
        }
        let _ = write!(hex, "{byte:02x}");
    }
    if bytes.len() > 1024 {
        let _ = write!(hex, " ... ({} bytes)", bytes.len());
    }
    let attrs = bytes
        .get(uapi::NLMSG_HDRLEN + uapi::GENL_HDRLEN..)
        .filter(|_| plan.request.genl_len >= uapi::GENL_HDRLEN)
        .map_or_else(String::new, attr::describe_attrs);
    format!(
        "#{index} cmd={} flags={:#x} len={} predicted=[{}] mutations={:?} defects={:?}\n    \
         attrs: {attrs}\n    {hex}",
        plan.request.cmd,
        plan.request.flags,
        bytes.len(),
        plan.verdict,
        plan.mutations,
        plan.defects
    )
}

/// Whether this process has CAP_NET_ADMIN in its effective set (assumed if unknown: then
/// write requests stay certainly invalid).
fn has_cap_net_admin() -> bool {
    /// CAP_NET_ADMIN.
    const CAP_NET_ADMIN: u32 = 12;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return true;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_none_or(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Outcome;

    #[test]
    fn cli_defaults() {
        let cli = Cli::parse_from(["nlfuzz"]);
        assert_eq!(cli.count, 5000);
        assert_eq!(cli.seed, 1);
        assert!(!cli.strict);
        let cli = Cli::parse_from(["nlfuzz", "--count", "10", "--seed", "2", "--only", "3"]);
        assert_eq!((cli.count, cli.seed, cli.only), (10, 2, Some(3)));
    }

    #[test]
    fn outcome_default_is_silent() {
        assert_eq!(Outcome::default().category(), "silent");
    }
}
