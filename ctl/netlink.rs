// SPDX-License-Identifier: GPL-2.0

//! The "IPVS" generic netlink commands (C: `ip_vs_genl_*` in `ip_vs_ctl.c`), with the C
//! requirements, errno values and reply layouts.

use super::Control;
use crate::ffi::rcu;
use crate::{
    ffi::genl::{
        Attr, //
        AttrTable,
        Dump,
        Policy,
        Request,
        Writer,
    },
    netns::Ipvs,
    packet::NfInetAddr,
    service::{
        table::Cursor,
        Dest, //
        DestConfig,
        Service,
        ServiceConfig,
        ServiceKey,
    },
    stats::StatsSnapshot,
    sync::{
        DaemonConfig, //
        Group,
    },
    uapi::{
        self, //
        cmd,
        cmd_attr,
        daemon_attr,
        dest_attr,
        info_attr,
        stats_attr,
        svc_attr,
    },
};
use kernel::{
    prelude::*,
    sync::{
        atomic::Relaxed, //
        Mutex,
    },
};

/// Copies an address attribute the way `nla_memcpy` into a `union nf_inet_addr` does: at most
/// 16 bytes, the rest zero (moby/ipvs sends 4-byte IPv4 addresses). For IPv4 only the first four
/// bytes count, as C compares them (`ip_vs_addr_equal`); the rest is cleared.
#[inline]
fn inet_addr_from(af: u16, payload: &[u8]) -> NfInetAddr {
    if af == uapi::AF_INET6 {
        return leading_bytes::<16>(payload);
    }
    let [a, b, c, d] = leading_bytes::<4>(payload);
    [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

/// The first `N` bytes of `payload`, zero-padded when it is shorter (as `nla_memcpy` into a
/// zeroed value): a whole chunk is read with fixed-size loads, not a `memcpy` call.
#[inline(always)]
fn leading_bytes<const N: usize>(payload: &[u8]) -> [u8; N] {
    match payload.first_chunk::<N>() {
        Some(chunk) => *chunk,
        None => short_payload(payload),
    }
}

/// [`leading_bytes`] of a payload shorter than `N` bytes (which the policies rule out for
/// fixed-size attributes): what there is, zero-padded.
#[cold]
#[inline(never)]
fn short_payload<const N: usize>(payload: &[u8]) -> [u8; N] {
    let mut bytes = [0u8; N];
    for (dst, src) in bytes.iter_mut().zip(payload) {
        *dst = *src;
    }
    bytes
}

/// A parsed service attribute (`struct ip_vs_service_user_kern` and the lookup).
struct ServiceRequest<'a> {
    /// What identifies the service.
    key: ServiceKey,
    /// The full entry, when the command needs one.
    full: Option<FullService<'a>>,
}

/// The settings part of a service attribute.
struct FullService<'a> {
    /// Scheduler name, without the NUL.
    sched_name: &'a [u8],
    /// Persistence engine name, if given and not empty; none is available (C: ENOENT).
    pe_name: Option<&'a [u8]>,
    /// Requested flags and the mask saying which to change.
    flags: u32,
    /// Mask of `flags`.
    mask: u32,
    /// Persistence timeout, seconds.
    timeout: u32,
    /// Persistence netmask.
    netmask: u32,
}

/// Reads a `u16` attribute (`nla_get_u16`); the policy guarantees its length.
#[inline(always)]
fn get_u16(attr: Attr<'_>) -> u16 {
    u16::from_ne_bytes(leading_bytes(attr.payload()))
}

/// Reads a `__be16` attribute as a host-order value (`ntohs(nla_get_be16())`).
#[inline]
fn get_be16(attr: Attr<'_>) -> u16 {
    u16::from_be(get_u16(attr))
}

/// Reads a `u32` attribute (`nla_get_u32`).
#[inline(always)]
fn get_u32(attr: Attr<'_>) -> u32 {
    u32::from_ne_bytes(leading_bytes(attr.payload()))
}

/// Reads a `u8` attribute (`nla_get_u8`).
#[inline]
fn get_u8(attr: Attr<'_>) -> u8 {
    attr.payload().first().copied().unwrap_or(0)
}

/// A NUL-terminated string attribute without its NUL (the policy guarantees one).
fn get_str(attr: Attr<'_>) -> &[u8] {
    let payload = attr.payload();
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    payload.get(..end).unwrap_or(payload)
}

/// Whether the address family is served (`ip_vs_is_af_valid`).
fn af_valid(af: u16) -> bool {
    af == uapi::AF_INET || af == uapi::AF_INET6
}

/// Parses a service attribute (`ip_vs_genl_parse_service`).
fn parse_service(attr: Option<Attr<'_>>, full_entry: bool) -> Result<ServiceRequest<'_>> {
    let attr = attr.ok_or(EINVAL)?;
    let attrs: AttrTable<'_, { uapi::SVC_ATTR_MAX + 1 }> =
        attr.parse_nested(Policy::Service).map_err(|_| EINVAL)?;
    let af = attrs.get(svc_attr::AF);
    let protocol = attrs.get(svc_attr::PROTOCOL);
    let addr = attrs.get(svc_attr::ADDR);
    let port = attrs.get(svc_attr::PORT);
    let fwmark = attrs.get(svc_attr::FWMARK);
    let (Some(af), true) = (
        af,
        fwmark.is_some() || (port.is_some() && protocol.is_some() && addr.is_some()),
    ) else {
        return Err(EINVAL);
    };
    let af = get_u16(af);
    if !af_valid(af) {
        return Err(EAFNOSUPPORT);
    }
    let key = match fwmark {
        Some(mark) => ServiceKey {
            af,
            protocol: u16::from(uapi::ipproto::TCP),
            addr: [0; 16],
            port: 0,
            fwmark: get_u32(mark),
        },
        None => ServiceKey {
            af,
            protocol: protocol.map_or(0, get_u16),
            addr: addr.map_or([0; 16], |a| inet_addr_from(af, a.payload())),
            port: port.map_or(0, get_be16),
            fwmark: 0,
        },
    };
    let full = if full_entry {
        let (Some(sched), Some(flags), Some(timeout), Some(netmask)) = (
            attrs.get(svc_attr::SCHED_NAME),
            attrs.get(svc_attr::FLAGS),
            attrs.get(svc_attr::TIMEOUT),
            attrs.get(svc_attr::NETMASK),
        ) else {
            return Err(EINVAL);
        };
        // `struct ip_vs_flags { u32 flags; u32 mask; }`, copied as nla_memcpy does.
        let mut raw = [0u8; 8];
        for (dst, src) in raw.iter_mut().zip(flags.payload()) {
            *dst = *src;
        }
        let [f0, f1, f2, f3, m0, m1, m2, m3] = raw;
        Some(FullService {
            sched_name: get_str(sched),
            pe_name: attrs
                .get(svc_attr::PE_NAME)
                .map(get_str)
                .filter(|n| !n.is_empty()),
            flags: u32::from_ne_bytes([f0, f1, f2, f3]),
            mask: u32::from_ne_bytes([m0, m1, m2, m3]),
            timeout: get_u32(timeout),
            netmask: get_u32(netmask),
        })
    } else {
        None
    };
    Ok(ServiceRequest { key, full })
}

/// A parsed destination attribute (`ip_vs_genl_parse_dest`).
struct DestRequest {
    /// Address family, 0 for "the service's".
    af: u16,
    /// Real server address.
    addr: NfInetAddr,
    /// Real server port, host order.
    port: u16,
    /// The settings, when the command needs them.
    config: Option<DestConfig>,
}

/// Parses a destination attribute (`ip_vs_genl_parse_dest`).
fn parse_dest(attr: Option<Attr<'_>>, full_entry: bool) -> Result<DestRequest> {
    let attr = attr.ok_or(EINVAL)?;
    let attrs: AttrTable<'_, { uapi::DEST_ATTR_MAX + 1 }> =
        attr.parse_nested(Policy::Dest).map_err(|_| EINVAL)?;
    let (Some(addr), Some(port)) = (attrs.get(dest_attr::ADDR), attrs.get(dest_attr::PORT)) else {
        return Err(EINVAL);
    };
    let config = if full_entry {
        let (Some(fwd), Some(weight), Some(u_thresh), Some(l_thresh)) = (
            attrs.get(dest_attr::FWD_METHOD),
            attrs.get(dest_attr::WEIGHT),
            attrs.get(dest_attr::U_THRESH),
            attrs.get(dest_attr::L_THRESH),
        ) else {
            return Err(EINVAL);
        };
        Some(DestConfig {
            fwd_method: get_u32(fwd) & uapi::fwd::MASK,
            // C stores the u32 in an int: huge weights read back negative and give ERANGE.
            weight: get_u32(weight) as i32,
            u_threshold: get_u32(u_thresh),
            l_threshold: get_u32(l_thresh),
            tun_type: attrs.get(dest_attr::TUN_TYPE).map_or(0, get_u8),
            tun_port: attrs.get(dest_attr::TUN_PORT).map_or(0, get_be16),
            tun_flags: attrs.get(dest_attr::TUN_FLAGS).map_or(0, get_u16),
        })
    } else {
        None
    };
    Ok(DestRequest {
        af: attrs.get(dest_attr::ADDR_FAMILY).map_or(0, get_u16),
        // The family may still be 0 ("the service's"): normalised once it is known.
        addr: inet_addr_from(uapi::AF_INET6, addr.payload()),
        port: get_be16(port),
        config,
    })
}

/// Handles every `doit` command (`ip_vs_genl_set_cmd`, `ip_vs_genl_get_cmd`,
/// `ip_vs_genl_set_daemon`).
pub(crate) fn doit(control: &Mutex<Control>, ipvs: &Ipvs, request: &Request<'_>) -> Result {
    match request.cmd() {
        cmd::GET_SERVICE | cmd::GET_INFO | cmd::GET_CONFIG => get_cmd(control, ipvs, request),
        cmd::NEW_DAEMON | cmd::DEL_DAEMON => set_daemon(control, ipvs, request),
        command => set_cmd(control, ipvs, request, command),
    }
}

/// NEW_DAEMON / DEL_DAEMON (`ip_vs_genl_set_daemon`): EINVAL for a missing or malformed
/// daemon attribute or missing members, a group that is not multicast; then C's
/// `start_sync_thread` / `stop_sync_thread` errors.
fn set_daemon(control: &Mutex<Control>, ipvs: &Ipvs, request: &Request<'_>) -> Result {
    let attr = request.attr(cmd_attr::DAEMON).ok_or(EINVAL)?;
    let attrs: AttrTable<'_, { uapi::DAEMON_ATTR_MAX + 1 }> =
        attr.parse_nested(Policy::Daemon).map_err(|_| EINVAL)?;
    let state = attrs.get(daemon_attr::STATE).map(get_u32);
    if request.cmd() == cmd::DEL_DAEMON {
        let state = state.ok_or(EINVAL)?;
        let mut control = control.lock();
        return crate::sync::stop(&mut control.daemons, ipvs, state);
    }
    let (Some(state), Some(ifn), Some(syncid)) = (
        state,
        attrs.get(daemon_attr::MCAST_IFN),
        attrs.get(daemon_attr::SYNC_ID),
    ) else {
        return Err(EINVAL);
    };
    // `strscpy` into IP_VS_IFNAME_MAXLEN bytes: at most 15, NUL-padded.
    let mut ifname = [0u8; 16];
    for (dst, src) in ifname.iter_mut().zip(get_str(ifn)).take(15) {
        *dst = *src;
    }
    let group = if let Some(a) = attrs.get(daemon_attr::MCAST_GROUP) {
        let addr = get_u32(a).to_ne_bytes();
        if addr[0] & 0xf0 != 0xe0 {
            return Err(EINVAL);
        }
        Some(Group::V4(addr))
    } else if let Some(a) = attrs.get(daemon_attr::MCAST_GROUP6) {
        let addr = leading_bytes::<16>(a.payload());
        if addr[0] != 0xff {
            return Err(EINVAL);
        }
        Some(Group::V6(addr))
    } else {
        None
    };
    let config = DaemonConfig {
        ifname,
        syncid: get_u32(syncid),
        sync_maxlen: attrs.get(daemon_attr::SYNC_MAXLEN).map_or(0, get_u16),
        group,
        port: attrs.get(daemon_attr::MCAST_PORT).map_or(0, get_u16),
        ttl: attrs.get(daemon_attr::MCAST_TTL).map_or(0, get_u8),
    };
    control.lock().start_daemon(ipvs, config, state)
}

/// The commands that change configuration (`ip_vs_genl_set_cmd`).
fn set_cmd(control: &Mutex<Control>, ipvs: &Ipvs, request: &Request<'_>, command: u8) -> Result {
    let mut control = control.lock();
    match command {
        cmd::FLUSH => return control.flush(ipvs),
        cmd::SET_CONFIG => return set_config(ipvs, request),
        cmd::ZERO if request.attr(cmd_attr::SERVICE).is_none() => {
            control.zero_all(&ipvs.total);
            return Ok(());
        }
        _ => {}
    }
    let full_service = command == cmd::NEW_SERVICE || command == cmd::SET_SERVICE;
    let svc = parse_service(request.attr(cmd_attr::SERVICE), full_service)?;
    let existing = control.find_service(&svc.key);
    let service = match (command, existing) {
        (cmd::NEW_SERVICE, Some(_)) => return Err(EEXIST),
        (cmd::NEW_SERVICE, None) => {
            let full = svc.full.as_ref().ok_or(EINVAL)?;
            let config = ServiceConfig {
                flags: full.flags & full.mask,
                timeout: full.timeout,
                netmask: full.netmask,
            };
            return control.add_service(ipvs, svc.key, full.sched_name, full.pe_name, &config);
        }
        (_, None) => return Err(ESRCH),
        (_, Some(service)) => service,
    };

    let dest = if matches!(command, cmd::NEW_DEST | cmd::SET_DEST | cmd::DEL_DEST) {
        let mut dest = parse_dest(request.attr(cmd_attr::DEST), command != cmd::DEL_DEST)?;
        if dest.af == 0 {
            dest.af = service.key.af;
        }
        dest.addr = inet_addr_from(dest.af, &dest.addr);
        if !af_valid(dest.af) {
            return Err(EAFNOSUPPORT);
        }
        // Mixed-family destinations are only allowed for tunnels.
        let tunnel = dest
            .config
            .is_some_and(|c| c.fwd_method == uapi::fwd::TUNNEL);
        // The sync protocol cannot carry them: refused while a daemon runs.
        let syncing = control.daemons.master.is_some() || control.daemons.backup.is_some();
        if dest.af != service.key.af && command != cmd::DEL_DEST && (syncing || !tunnel) {
            return Err(EINVAL);
        }
        Some(dest)
    } else {
        None
    };

    match (command, dest) {
        (cmd::SET_SERVICE, _) => {
            let full = svc.full.as_ref().ok_or(EINVAL)?;
            let old = service.flags.load(Relaxed);
            let config = ServiceConfig {
                flags: (old & !full.mask) | (full.flags & full.mask),
                timeout: full.timeout,
                netmask: full.netmask,
            };
            control.edit_service(&service, full.sched_name, full.pe_name, &config)
        }
        (cmd::DEL_SERVICE, _) => control.del_service(ipvs, &service),
        (cmd::NEW_DEST, Some(d)) => {
            let config = d.config.ok_or(EINVAL)?;
            control.add_dest(ipvs, &service, d.af, &d.addr, d.port, &config)
        }
        (cmd::SET_DEST, Some(d)) => {
            let config = d.config.ok_or(EINVAL)?;
            control.edit_dest(ipvs, &service, d.af, &d.addr, d.port, &config)
        }
        (cmd::DEL_DEST, Some(d)) => control.del_dest(ipvs, &service, d.af, &d.addr, d.port),
        (cmd::ZERO, _) => {
            super::zero_service(&service);
            Ok(())
        }
        _ => Err(EINVAL),
    }
}

/// SET_CONFIG: the TCP ESTABLISHED, TCP FIN_WAIT and UDP timeouts; 0 leaves one unchanged
/// (`ip_vs_genl_set_config`, `ip_vs_set_timeout`).
fn set_config(ipvs: &Ipvs, request: &Request<'_>) -> Result {
    // C keeps timeouts in jiffies in an int: values above INT_MAX / HZ are refused.
    const MAX_SECONDS: u32 = (i32::MAX as u32) / kernel::bindings::CONFIG_HZ;
    let mut values = ipvs.timeouts.get();
    if let Some(a) = request.attr(cmd_attr::TIMEOUT_TCP) {
        values.tcp = get_u32(a);
    }
    if let Some(a) = request.attr(cmd_attr::TIMEOUT_TCP_FIN) {
        values.tcp_fin = get_u32(a);
    }
    if let Some(a) = request.attr(cmd_attr::TIMEOUT_UDP) {
        values.udp = get_u32(a);
    }
    // The C values are ints: anything above INT_MAX is negative there and refused too.
    if [values.tcp, values.tcp_fin, values.udp]
        .iter()
        .any(|&v| v > MAX_SECONDS)
    {
        return Err(EINVAL);
    }
    ipvs.timeouts.set(&values);
    Ok(())
}

/// GET_SERVICE, GET_INFO and GET_CONFIG (`ip_vs_genl_get_cmd`).
fn get_cmd(control: &Mutex<Control>, ipvs: &Ipvs, request: &Request<'_>) -> Result {
    match request.cmd() {
        cmd::GET_SERVICE => {
            let svc = parse_service(request.attr(cmd_attr::SERVICE), false)?;
            let service = control.lock().find_service(&svc.key).ok_or(ESRCH)?;
            request.reply(cmd::NEW_SERVICE, |w| fill_service(w, &service))
        }
        cmd::GET_CONFIG => {
            let values = ipvs.timeouts.get();
            request.reply(cmd::SET_CONFIG, |w| {
                w.put_u32(cmd_attr::TIMEOUT_TCP as u16, values.tcp)?;
                w.put_u32(cmd_attr::TIMEOUT_TCP_FIN as u16, values.tcp_fin)?;
                w.put_u32(cmd_attr::TIMEOUT_UDP as u16, values.udp)
            })
        }
        _ => {
            // C: `get_conn_tab_size`, 0 until the first service allocates the table.
            let size = ipvs.conns.get_arc().map_or(0, |t| t.size());
            request.reply(cmd::SET_INFO, |w| {
                w.put_u32(info_attr::VERSION, uapi::VERSION_CODE)?;
                w.put_u32(info_attr::CONN_TAB_SIZE, size)
            })
        }
    }
}

/// Writes STATS and STATS64 nests (`ip_vs_genl_fill_stats`, `ip_vs_genl_fill_stats64`).
fn fill_stats(w: &mut Writer<'_>, ty32: usize, ty64: usize, s: &StatsSnapshot) -> Result {
    let rates = [s.cps, s.inpps, s.outpps, s.inbps, s.outbps];
    w.nest(ty32 as u16, |w| {
        w.put_u32(stats_attr::CONNS, s.conns as u32)?;
        w.put_u32(stats_attr::INPKTS, s.inpkts as u32)?;
        w.put_u32(stats_attr::OUTPKTS, s.outpkts as u32)?;
        w.put_u64(stats_attr::INBYTES, s.inbytes, stats_attr::PAD)?;
        w.put_u64(stats_attr::OUTBYTES, s.outbytes, stats_attr::PAD)?;
        for (ty, rate) in (stats_attr::CPS..=stats_attr::OUTBPS).zip(rates) {
            w.put_u32(ty, rate as u32)?;
        }
        Ok(())
    })?;
    w.nest(ty64 as u16, |w| {
        w.put_u64(stats_attr::CONNS, s.conns, stats_attr::PAD)?;
        w.put_u64(stats_attr::INPKTS, s.inpkts, stats_attr::PAD)?;
        w.put_u64(stats_attr::OUTPKTS, s.outpkts, stats_attr::PAD)?;
        w.put_u64(stats_attr::INBYTES, s.inbytes, stats_attr::PAD)?;
        w.put_u64(stats_attr::OUTBYTES, s.outbytes, stats_attr::PAD)?;
        for (ty, rate) in (stats_attr::CPS..=stats_attr::OUTBPS).zip(rates) {
            w.put_u64(ty, rate, stats_attr::PAD)?;
        }
        Ok(())
    })
}

/// Writes a service nest (`ip_vs_genl_fill_service`).
fn fill_service(w: &mut Writer<'_>, service: &Service) -> Result {
    let key = &service.key;
    w.nest(cmd_attr::SERVICE as u16, |w| {
        w.put_u16(svc_attr::AF as u16, key.af)?;
        if key.fwmark != 0 {
            w.put_u32(svc_attr::FWMARK as u16, key.fwmark)?;
        } else {
            w.put_u16(svc_attr::PROTOCOL as u16, key.protocol)?;
            w.put(svc_attr::ADDR as u16, &key.addr)?;
            w.put(svc_attr::PORT as u16, &key.port.to_be_bytes())?;
        }
        let name = service.scheduler_name();
        let mut sched = [0u8; uapi::SCHEDNAME_MAXLEN];
        for (dst, src) in sched.iter_mut().zip(name.as_bytes()) {
            *dst = *src;
        }
        w.put(
            svc_attr::SCHED_NAME as u16,
            sched.get(..=name.len()).unwrap_or(&sched),
        )?;
        let mut flags = [0u8; 8];
        let (f, m) = flags.split_at_mut(4);
        f.copy_from_slice(&service.flags.load(Relaxed).to_ne_bytes());
        m.copy_from_slice(&u32::MAX.to_ne_bytes());
        w.put(svc_attr::FLAGS as u16, &flags)?;
        w.put_u32(svc_attr::TIMEOUT as u16, service.timeout.load(Relaxed))?;
        w.put_u32(svc_attr::NETMASK as u16, service.netmask.load(Relaxed))?;
        fill_stats(
            w,
            svc_attr::STATS,
            svc_attr::STATS64,
            &service.stats.snapshot(),
        )
    })
}

/// Writes a destination nest (`ip_vs_genl_fill_dest`).
fn fill_dest(w: &mut Writer<'_>, dest: &Dest) -> Result {
    w.nest(cmd_attr::DEST as u16, |w| {
        let active = dest.active_conns.load(Relaxed);
        w.put(dest_attr::ADDR as u16, &dest.addr)?;
        w.put(dest_attr::PORT as u16, &dest.port.to_be_bytes())?;
        w.put_u32(dest_attr::FWD_METHOD as u16, dest.fwd_method.load(Relaxed))?;
        w.put_u32(dest_attr::WEIGHT as u16, dest.weight.load(Relaxed) as u32)?;
        w.put_u8(
            dest_attr::TUN_TYPE as u16,
            dest.tun_type.load(Relaxed) as u8,
        )?;
        w.put(
            dest_attr::TUN_PORT as u16,
            &(dest.tun_port.load(Relaxed) as u16).to_be_bytes(),
        )?;
        w.put_u16(
            dest_attr::TUN_FLAGS as u16,
            dest.tun_flags.load(Relaxed) as u16,
        )?;
        w.put_u32(dest_attr::U_THRESH as u16, dest.u_threshold.load(Relaxed))?;
        w.put_u32(dest_attr::L_THRESH as u16, dest.l_threshold.load(Relaxed))?;
        w.put_u32(dest_attr::ACTIVE_CONNS as u16, active as u32)?;
        w.put_u32(
            dest_attr::INACT_CONNS as u16,
            dest.total_conns().wrapping_sub(active) as u32,
        )?;
        w.put_u32(
            dest_attr::PERSIST_CONNS as u16,
            dest.persist_conns.load(Relaxed) as u32,
        )?;
        w.put_u16(dest_attr::ADDR_FAMILY as u16, dest.af)?;
        fill_stats(
            w,
            dest_attr::STATS,
            dest_attr::STATS64,
            &dest.stats.snapshot(),
        )
    })
}

/// Handles the dumps: GET_SERVICE, GET_DEST and GET_DAEMON. Resumes from `args[0]`.
pub(crate) fn dumpit(control: &Mutex<Control>, dump: &mut Dump<'_>) {
    match dump.cmd() {
        cmd::GET_SERVICE => dump_services(control, dump),
        cmd::GET_DEST => dump_dests(control, dump),
        cmd::GET_DAEMON => dump_daemons(control, dump),
        _ => {}
    }
}

/// Dumps the running daemons, master first (`ip_vs_genl_dump_daemons`): `args[0]` and
/// `args[1]` say which were dumped.
fn dump_daemons(control: &Mutex<Control>, dump: &mut Dump<'_>) {
    let control = control.lock();
    let daemons = [
        (0, crate::sync::STATE_MASTER, control.daemons.master),
        (1, crate::sync::STATE_BACKUP, control.daemons.backup),
    ];
    for (slot, state, config) in daemons {
        let Some(config) = config else {
            continue;
        };
        if dump.args()[slot] != 0 {
            continue;
        }
        let filled = dump.entry(cmd::NEW_DAEMON, |w| {
            w.nest(cmd_attr::DAEMON as u16, |w| fill_daemon(w, state, &config))
        });
        if filled.is_err() {
            return;
        }
        dump.args()[slot] = 1;
    }
}

/// A daemon's attributes (`ip_vs_genl_fill_daemon`), the defaults C fills in included.
fn fill_daemon(w: &mut Writer<'_>, state: u32, c: &DaemonConfig) -> Result {
    let mut ifname = [0u8; 17];
    for (dst, src) in ifname.iter_mut().zip(c.ifname()) {
        *dst = *src;
    }
    let name_len = c.ifname().len() + 1;
    w.put_u32(daemon_attr::STATE as u16, state)?;
    w.put(
        daemon_attr::MCAST_IFN as u16,
        ifname.get(..name_len).unwrap_or(&[0]),
    )?;
    w.put_u32(daemon_attr::SYNC_ID as u16, c.syncid)?;
    w.put_u16(daemon_attr::SYNC_MAXLEN as u16, c.sync_maxlen)?;
    w.put_u16(daemon_attr::MCAST_PORT as u16, c.port)?;
    w.put_u8(daemon_attr::MCAST_TTL as u16, c.ttl)?;
    match c.group {
        Some(Group::V6(addr)) => w.put(daemon_attr::MCAST_GROUP6 as u16, &addr),
        Some(Group::V4(addr)) => w.put(daemon_attr::MCAST_GROUP as u16, &addr),
        None => w.put(
            daemon_attr::MCAST_GROUP as u16,
            &crate::sync::wire::DEFAULT_GROUP_V4,
        ),
    }
}

/// Dumps every service (`ip_vs_genl_dump_services`), in the table's order, under the mutex
/// as C holds its `service_mutex`. `args[0]` counts the services dumped (C's resume point);
/// `args[1..4]` say where the last message stopped in which table, so that the next one goes
/// on from there rather than walking the chains before it again; after a resize, it counts.
fn dump_services(control: &Mutex<Control>, dump: &mut Dump<'_>) {
    let args = *dump.args();
    let mut index = usize::try_from(args[0]).unwrap_or(0);
    let control = control.lock();
    let Some(table) = &control.services else {
        return;
    };
    let guard = rcu::read_lock();
    let saved = Cursor {
        seed: args[1] as u32,
        chain: usize::try_from(args[2]).unwrap_or(usize::MAX),
        skip: usize::try_from(args[3]).unwrap_or(0),
    };
    let start = if index != 0 && table.owns(&saved) {
        saved
    } else {
        table.cursor_at(&guard, index)
    };
    let end = table.walk_from(&guard, start, |service| {
        let filled = dump.entry(cmd::NEW_SERVICE, |w| fill_service(w, service));
        index += usize::from(filled.is_ok());
        filled.is_ok()
    });
    let args = dump.args();
    args[0] = index as kernel::ffi::c_long;
    args[1] = end.seed as kernel::ffi::c_long;
    args[2] = end.chain as kernel::ffi::c_long;
    args[3] = end.skip as kernel::ffi::c_long;
}

/// Dumps the destinations of the service named in the request (`ip_vs_genl_dump_dests`); an
/// unknown service gives an empty dump.
fn dump_dests(control: &Mutex<Control>, dump: &mut Dump<'_>) {
    let Ok(attrs) = dump.request_attrs() else {
        return;
    };
    let Ok(svc) = parse_service(attrs.get(cmd_attr::SERVICE), false) else {
        return;
    };
    let Some(service) = control.lock().find_service(&svc.key) else {
        return;
    };
    let start = usize::try_from(dump.args()[0]).unwrap_or(0);
    let mut index = start;
    while let Some(dest) = service.dest_at(index) {
        if dump.entry(cmd::NEW_DEST, |w| fill_dest(w, &dest)).is_err() {
            break;
        }
        index += 1;
    }
    dump.args()[0] = index as kernel::ffi::c_long;
}
