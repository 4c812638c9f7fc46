// SPDX-License-Identifier: GPL-2.0

//! The /proc/net files in the C formats (`ip_vs_info_seq_show`, `ip_vs_conn_seq_show`,
//! `ip_vs_stats_show`): `ipvsadm -L -c` parses `ip_vs_conn`.

use super::{
    service::{
        Dest, //
        InetAddr,
        Service,
    },
    uapi,
};
use crate::{
    ffi::proc::SeqFile, //
    netns::NetState,
};
use core::fmt::{
    self, //
    Write,
};
use kernel::{
    bindings,
    prelude::*,
    sync::{
        atomic::Relaxed, //
        Arc,
    },
};

/// `ip_vs_proto_name`.
pub(crate) fn proto_name(protocol: u16) -> ProtoName {
    ProtoName(protocol)
}

/// Displays a protocol number as C's `ip_vs_proto_name` does.
pub(crate) struct ProtoName(u16);

impl fmt::Display for ProtoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("IP"),
            1 => f.write_str("ICMP"),
            6 => f.write_str("TCP"),
            17 => f.write_str("UDP"),
            58 => f.write_str("ICMPv6"),
            132 => f.write_str("SCTP"),
            other => write!(f, "IP_{other}"),
        }
    }
}

/// Displays an IPv4 address as `%08X` of its host-order value, or IPv6 as `%pI6`.
pub(crate) struct ProcAddr<'a>(pub(crate) u16, pub(crate) &'a InetAddr);

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
pub(crate) fn services(ipvs: &NetState, out: &mut SeqFile) {
    let (size, services) = {
        let control = ipvs.control.lock();
        let mut list = KVec::new();
        for s in control.services.iter() {
            if list.push(s.clone(), GFP_KERNEL).is_err() {
                break;
            }
        }
        (control.conn_tab_size, list)
    };
    let _ = write!(
        out,
        "IP Virtual Server version 1.2.1 (size={size})\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
    );
    for service in services.iter() {
        let _ = write_service(out, service);
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
            proto_name(key.protocol),
            ProcAddr(key.af, &key.addr),
            key.port
        )?;
    } else {
        write!(
            out,
            "{}  {}:{:04X} {sched} {ops}",
            proto_name(key.protocol),
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

/// /proc/net/ip_vs_conn: the header, then one line per connection and template.
pub(crate) fn conns(ipvs: &NetState, out: &mut SeqFile) {
    let _ = out.write_str(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
    );
    if let Some(table) = ipvs.conns.get_arc() {
        table.show(out);
    }
}

/// /proc/net/ip_vs_stats: the namespace's totals.
pub(crate) fn stats(ipvs: &NetState, out: &mut SeqFile) {
    let s = ipvs.total.snapshot();
    let _ = write!(
        out,
        "   Total Incoming Outgoing         Incoming         Outgoing\n   \
         Conns  Packets  Packets            Bytes            Bytes\n\
         {:8X} {:8X} {:8X} {:16X} {:16X}\n\n Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n\
         {:8X} {:8X} {:8X} {:16X} {:16X}\n",
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
