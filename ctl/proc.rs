// SPDX-License-Identifier: GPL-2.0

//! The /proc/net files in the C formats (`ip_vs_info_seq_show`, `ip_vs_conn_seq_show`,
//! `ip_vs_stats_show`, `ip_vs_status_show`, `ip_vs_app_seq_show`): `ipvsadm -L -c` parses
//! `ip_vs_conn`.

use super::Control;
use crate::ffi::rcu;
use crate::{
    conn::Conn,
    ffi::percpu::possible_cpus,
    ffi::proc::{
        ProcList, //
        SeqFile,
    },
    ffi::timer::jiffies,
    hash::sizing::Shape,
    netns::Ipvs,
    packet::NfInetAddr,
    proto,
    service::{
        Dest, //
        Service,
    },
    stats::StatsSnapshot,
    uapi,
};
use core::fmt::{
    self, //
    Write,
};
use kernel::{
    bindings,
    sync::{
        atomic::Relaxed, //
        Arc,
        Mutex,
    },
};

/// Displays an IPv4 address as `%08X` of its host-order value, or IPv6 as `%pI6`.
struct ProcAddr<'a>(u16, &'a NfInetAddr);

impl fmt::Display for ProcAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.1;
        if self.0 == uapi::AF_INET6 {
            for (i, pair) in a.chunks(2).enumerate() {
                let word = pair.iter().fold(0u16, |w, &b| (w << 8) | u16::from(b));
                if i > 0 {
                    f.write_str(":")?;
                }
                write!(f, "{word:04x}")?;
            }
            Ok(())
        } else {
            let [b0, b1, b2, b3, ..] = *a;
            write!(f, "{:08X}", u32::from_be_bytes([b0, b1, b2, b3]))
        }
    }
}

/// `ip_vs_fwd_name`.
fn fwd_name(method: u32) -> &'static str {
    match method & uapi::fwd::MASK {
        uapi::fwd::LOCALNODE => "Local",
        uapi::fwd::TUNNEL => "Tunnel",
        uapi::fwd::DROUTE => "Route",
        uapi::fwd::MASQ => "Masq",
        _ => "Unknown",
    }
}

/// /proc/net/ip_vs.
pub(crate) fn services(control: &Mutex<Control>, ipvs: &Ipvs, out: &mut SeqFile) {
    let control = control.lock();
    let size = ipvs.conns.get_arc().map_or(0, |t| t.size());
    let _ = write!(
        out,
        "IP Virtual Server version 1.2.1 (size={size})\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
    );
    if let Some(table) = &control.services {
        let guard = rcu::read_lock();
        for service in table.iter(&guard) {
            let _ = write_service(out, &service);
        }
    }
}

/// One service of /proc/net/ip_vs with its destinations.
fn write_service(out: &mut SeqFile, service: &Service) -> fmt::Result {
    let key = &service.key;
    let flags = service.flags.load(Relaxed);
    let ops = if flags & uapi::svc_flags::ONEPACKET != 0 {
        "ops "
    } else {
        ""
    };
    let sched = service.scheduler_name();
    if key.fwmark != 0 {
        write!(out, "FWM  {:08X} {sched} {ops}", key.fwmark)?;
    } else if key.af == uapi::AF_INET6 {
        write!(
            out,
            "{}  [{}]:{:04X} {sched} ",
            proto::name(key.protocol),
            ProcAddr(key.af, &key.addr),
            key.port
        )?;
    } else {
        write!(
            out,
            "{}  {}:{:04X} {sched} {ops} ",
            proto::name(key.protocol),
            ProcAddr(key.af, &key.addr),
            key.port
        )?;
    }
    if flags & uapi::svc_flags::PERSISTENT != 0 {
        // C prints the timeout in jiffies and the netmask through ntohl().
        let jiffies = service
            .timeout
            .load(Relaxed)
            .wrapping_mul(bindings::CONFIG_HZ);
        writeln!(
            out,
            "persistent {} {:08X}",
            jiffies as i32,
            u32::from_be(service.netmask.load(Relaxed))
        )?;
    } else {
        out.write_str("\n")?;
    }
    let mut index = 0;
    while let Some(dest) = service.dest_at(index) {
        write_dest(out, &dest)?;
        index += 1;
    }
    Ok(())
}

/// One destination line of /proc/net/ip_vs.
fn write_dest(out: &mut SeqFile, dest: &Arc<Dest>) -> fmt::Result {
    let active = dest.active_conns.load(Relaxed);
    let addr = ProcAddr(dest.af, &dest.addr);
    if dest.af == uapi::AF_INET6 {
        write!(out, "  -> [{addr}]:{:04X}", dest.port)?;
    } else {
        write!(out, "  -> {addr}:{:04X}", dest.port)?;
    }
    writeln!(
        out,
        "      {:<7} {:<6} {:<10} {:<10}",
        fwd_name(dest.fwd_method.load(Relaxed)),
        dest.weight.load(Relaxed),
        active,
        dest.total_conns().wrapping_sub(active)
    )
}

/// Records of /proc/net/ip_vs_conn and ip_vs_conn_sync: the header, then one per chain of
/// the connection table (C lists the current table, as here).
pub(crate) fn conns_len(ipvs: &Ipvs) -> u64 {
    1 + ipvs.conns.get_arc().map_or(0, |t| u64::from(t.size()))
}

/// Record `index` of /proc/net/ip_vs_conn or ip_vs_conn_sync: the header, or the lines of one
/// chain of the connection table, newest first as C lists them.
pub(crate) fn conns_record(ipvs: &Ipvs, list: ProcList, index: u64, out: &mut SeqFile) {
    let sync = matches!(list, ProcList::ConnsSync);
    let Some(chain) = index.checked_sub(1) else {
        let _ = out.write_str(if sync {
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires\n"
        } else {
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
        });
        return;
    };
    let Some(table) = ipvs.conns.get_arc() else {
        return;
    };
    let now = jiffies();
    table.for_each_in_chain(chain, |c| {
        let _ = write_conn(out, c, now, sync);
    });
}

/// One line of /proc/net/ip_vs_conn (`ip_vs_conn_seq_show`) or, with `sync`, of
/// ip_vs_conn_sync (`ip_vs_conn_sync_seq_show`, with the origin before the expiry).
fn write_conn(out: &mut SeqFile, c: &Conn, now: u64, sync: bool) -> fmt::Result {
    let hz = u64::from(bindings::CONFIG_HZ);
    let left = (c.expires.load(Relaxed).saturating_sub(now) / hz) as u32;
    write!(
        out,
        "{:<3} {} {:04X} {} {:04X} {} {:04X} {:<11} ",
        proto::name(u16::from(c.protocol)),
        ProcAddr(c.af, &c.caddr),
        c.cport,
        ProcAddr(c.af, &c.vaddr),
        c.vport,
        ProcAddr(c.daf(), &c.daddr),
        c.dport(),
        proto::state_name(c),
    )?;
    if sync {
        // `ip_vs_origin_name`.
        let origin = if c.flags.load(Relaxed) & uapi::conn_flags::SYNC != 0 {
            "SYNC"
        } else {
            "LOCAL"
        };
        writeln!(out, "{origin:<6} {left:7}")
    } else {
        writeln!(out, "{left:7}")
    }
}

/// The counters of `s` after `counts_prefix`, a blank line, `rates_header`, and the rates
/// after `rates_prefix`: the common tail of /proc/net/ip_vs_stats and ip_vs_stats_percpu.
fn write_counts_and_rates(
    out: &mut SeqFile,
    s: &StatsSnapshot,
    counts_prefix: &str,
    rates_header: &str,
    rates_prefix: &str,
) {
    let _ = write!(
        out,
        "{counts_prefix}{:8X} {:8X} {:8X} {:16X} {:16X}\n\n{rates_header}\n\
         {rates_prefix}{:8X} {:8X} {:8X} {:16X} {:16X}\n",
        s.conns,
        s.inpkts,
        s.outpkts,
        s.inbytes,
        s.outbytes,
        s.cps,
        s.inpps,
        s.outpps,
        s.inbps,
        s.outbps
    );
}

/// /proc/net/ip_vs_stats: the namespace's totals.
pub(crate) fn stats(ipvs: &Ipvs, out: &mut SeqFile) {
    let _ = out.write_str(
        "   Total Incoming Outgoing         Incoming         Outgoing\n   \
         Conns  Packets  Packets            Bytes            Bytes\n",
    );
    let rates = " Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s";
    write_counts_and_rates(out, &ipvs.total.snapshot(), "", rates, "");
}

/// /proc/net/ip_vs_stats_percpu: the namespace's totals per possible CPU (raw, as C lists
/// them), their sum since the last zeroing, and the rates.
pub(crate) fn stats_per_cpu(ipvs: &Ipvs, out: &mut SeqFile) {
    let _ = out.write_str(
        "       Total Incoming Outgoing         Incoming         Outgoing\n\
         CPU    Conns  Packets  Packets            Bytes            Bytes\n",
    );
    for cpu in possible_cpus() {
        let [conns, inpkts, outpkts, inbytes, outbytes] = ipvs.total.of_cpu(cpu);
        let _ = writeln!(
            out,
            "{cpu:3X} {conns:8X} {inpkts:8X} {outpkts:8X} {inbytes:16X} {outbytes:16X}"
        );
    }
    let rates = "     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s";
    write_counts_and_rates(out, &ipvs.total.snapshot(), "  ~ ", rates, "    ");
}

/// /proc/net/ip_vs_status (C 7.3's `ip_vs_status_show`): the connection count and table
/// (size, bits, load factor) with its chain lengths, the same for the services, then the
/// estimator: its thread slots (one thread here, once started), the services it estimates per
/// read-side section (C: the estimators of a chain) and the estimators it runs (every
/// service's, every real server's and the totals; C: what a thread can run).
pub(crate) fn status(control: &Mutex<Control>, ipvs: &Ipvs, out: &mut SeqFile) {
    let conns = ipvs.conns.get_arc();
    let count = conns.as_ref().map_or(0, |t| t.count.load(Relaxed));
    let _ = writeln!(out, "Conns:\t{count}");
    let _ = write_table_shape(out, "Conn", conns.as_ref().and_then(|t| t.shape()));
    if let Some(conns) = conns.filter(|_| count != 0) {
        let _ = conns.chain_lengths().write(out, "Conn");
    }
    let services = ipvs.services.get_arc();
    let count = services.as_ref().map_or(0, |t| t.len());
    let _ = writeln!(out, "Services:\t{count}");
    let _ = write_table_shape(out, "Service", services.as_ref().map(|t| t.shape()));
    if let Some(services) = services.filter(|_| count != 0) {
        let _ = services.chain_lengths().write(out, "Service");
    }
    let estimators = ipvs.stats_pool.listed_count();
    let threads = u32::from(control.lock().estimator.running());
    let _ = write!(
        out,
        "Stats thread slots:\t{threads} (max 1)\n\
         Stats chain max len:\t{}\n\
         Stats thread ests:\t{estimators}\n",
        crate::stats::ESTIMATORS_PER_CHAIN
    );
}

/// The line of /proc/net/ip_vs_status about a table's shape: its size, bits and load factor,
/// zeros when there is no table.
fn write_table_shape(out: &mut SeqFile, what: &str, shape: Option<Shape>) -> fmt::Result {
    let Shape { size, lfactor } = shape.unwrap_or(Shape {
        size: 0,
        lfactor: 0,
    });
    let bits = size.checked_ilog2().unwrap_or(0);
    writeln!(
        out,
        "{what} buckets:\t{size} ({bits} bits, lfactor {lfactor})"
    )
}

/// /proc/net/ip_vs_app: the application helpers (C: `ip_vs_app_seq_show`), of which there are
/// none: the header alone, as C shows it without `ip_vs_ftp`.
pub(crate) fn apps(out: &mut SeqFile) {
    let _ = out.write_str("prot port    usecnt name\n");
}
