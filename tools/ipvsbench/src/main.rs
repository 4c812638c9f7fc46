//! `ipvsbench`: a small load generator for comparing rust_ipvs with the C ip_vs.
//!
//! `server` runs in each real server; `tcp-crr`, `udp-flood`, `udp-conns`, `tcp-stream`,
//! `udp-stream`, `sequence`, `udp-request` and `syn-flood` run in the client against the
//! virtual service. Results are one line of `key=value` figures on stdout, parsed by
//! `selftests/bench.sh`.

mod cli;
mod load;
mod plan;
mod server;
mod signals;
mod synflood;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => server::run(args),
        Command::TcpCrr(args) => load::tcp_crr(args),
        Command::UdpFlood(args) => load::udp_flood(args),
        Command::UdpConns(args) => load::udp_conns(args),
        Command::TcpStream(args) => load::tcp_stream(args),
        Command::UdpStream(args) => load::udp_stream(args),
        Command::Sequence(args) => load::sequence(args),
        Command::SynFlood(args) => synflood::run(args),
        Command::UdpRequest(args) => load::udp_request(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ipvsbench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
