//! `ipvsctl watch`: live rates per service and real server, refreshed, in the manner of
//! `watch ipvsadm -Ln --rate` but with the connection counts beside the rates.

use std::fmt::Write as _;

use serde::Serialize;

use crate::list::{ServiceEntry, ServiceJson};
use crate::stats::Stats;

/// Scales a rate for a 7-wide column: up to 9,999,999 as is, then K, M, G.
fn scaled(v: u64) -> String {
    match v {
        0..10_000_000 => v.to_string(),
        10_000_000..10_000_000_000 => format!("{}K", v / 1_000),
        10_000_000_000..10_000_000_000_000 => format!("{}M", v / 1_000_000),
        _ => format!("{}G", v / 1_000_000_000),
    }
}

/// One row: a name and its connection counts (blank for a service) and rates.
fn row(out: &mut String, name: &str, conns: Option<(u32, u32)>, stats: Stats) {
    let (active, inactive) = match conns {
        Some((a, i)) => (a.to_string(), i.to_string()),
        None => (String::new(), String::new()),
    };
    let _ = writeln!(
        out,
        "{name:<34} {active:>7} {inactive:>7} {:>7} {:>7} {:>7} {:>9} {:>9}",
        scaled(stats.cps),
        scaled(stats.inpps),
        scaled(stats.outpps),
        scaled(stats.inbps),
        scaled(stats.outbps),
    );
}

/// The screen of refresh number `refresh` (from 1): a header with the interval, then each
/// service with its rates and, under it, each real server with its active and inactive
/// connections and rates. The rates are the kernel's estimates (2 s period, 8 s average).
pub fn render_screen(entries: &[ServiceEntry], interval_secs: f64, refresh: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ipvsctl watch: every {interval_secs}s (refresh {refresh}); rates per second, as the kernel estimates them"
    );
    let _ = writeln!(
        out,
        "{:<34} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9}",
        "Prot LocalAddress:Port", "Active", "InAct", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
    );
    let _ = writeln!(out, "  -> RemoteAddress:Port");
    for entry in entries {
        let svc = &entry.service;
        row(
            &mut out,
            &svc.key.label(),
            None,
            svc.stats.unwrap_or_default(),
        );
        for dest in &entry.dests {
            let name = format!(
                "  -> {}",
                crate::addr::format_endpoint(dest.addr, dest.port)
            );
            row(
                &mut out,
                &name,
                Some((dest.active_conns, dest.inact_conns)),
                dest.stats.unwrap_or_default(),
            );
        }
    }
    out
}

/// One refresh as a line of JSON (`--json`: JSON Lines, one object per refresh).
#[derive(Debug, Serialize)]
pub struct ScreenJson {
    /// Refresh number, from 1.
    pub refresh: u64,
    /// The services, with their destinations and all counters and rates.
    pub services: Vec<ServiceJson>,
}

/// Renders one refresh as a single line of JSON.
pub fn render_json_line(entries: &[ServiceEntry], refresh: u64) -> serde_json::Result<String> {
    serde_json::to_string(&ScreenJson {
        refresh,
        services: entries.iter().map(ServiceJson::new).collect(),
    })
}
