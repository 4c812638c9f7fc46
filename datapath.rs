// SPDX-License-Identifier: GPL-2.0

//! The packet path behind the hooks (C: `ip_vs_core.c`): the request path (`ip_vs_in_hook`),
//! the reply path (`ip_vs_out_hook`), scheduling and the per-protocol state transitions.

use crate::{
    conn::{
        flags, //
        Conn,
        ConnParams,
        ConnTable,
    },
    ctl::service::{
        Dest, //
        Service,
        Stats,
    },
    ffi::sysctl::Sysctl,
    ffi::{
        net::Net,
        netfilter::{
            HookPoint, //
            Verdict,
        },
        skb::{
            Skb, //
            PACKET_HOST,
        },
    },
    netns::{
        NetState, //
        ServiceTable,
    },
    proto::{
        tcp_state::{
            self, //
            Direction,
            TableSet,
            TcpState,
        },
        udp_state::{
            self, //
            UdpState,
        },
    },
    sched::{
        dest_view::{
            ClientInfo, //
            InetAddr,
        },
        persist::{
            self, //
            PersistentPacket,
            PersistentService,
        },
    },
    xmit::nat,
};
use kernel::{
    bindings,
    sync::{
        atomic::Relaxed, //
        rcu,
        Arc,
    },
};

/// IP protocol numbers the path distinguishes.
const IPPROTO_ICMP: u8 = 1;
/// TCP.
const IPPROTO_TCP: u8 = 6;
/// UDP.
const IPPROTO_UDP: u8 = 17;
/// `ICMP_DEST_UNREACH`.
const ICMP_DEST_UNREACH: u8 = 3;
/// `ICMP_PORT_UNREACH`.
const ICMP_PORT_UNREACH: u8 = 3;
/// FTP data port, never scheduled (`FTPDATA`).
const FTPDATA: u16 = 20;
/// TCP RST flag.
const TCP_RST: u8 = 0x04;
/// TCP SYN flag.
const TCP_SYN: u8 = 0x02;

/// The parsed IPv4 header of a packet (C: `struct ip_vs_iphdr`).
pub(crate) struct Ipv4Header {
    /// Offset of the IP header from `skb->data`.
    pub(crate) offset: usize,
    /// Offset of the transport header from `skb->data`.
    pub(crate) transport_offset: usize,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// Time to live.
    pub(crate) ttl: u8,
    /// Source address.
    pub(crate) saddr: [u8; 4],
    /// Destination address.
    pub(crate) daddr: [u8; 4],
    /// Not the first fragment of a datagram.
    pub(crate) later_fragment: bool,
    /// Don't fragment (`IP_DF`).
    pub(crate) dont_fragment: bool,
}

impl Ipv4Header {
    /// Parses the IPv4 header with bounds checks (`ip_vs_fill_iph_skb`).
    fn parse(skb: &Skb<'_>) -> Option<Self> {
        Self::parse_at(skb, skb.network_offset()?)
    }

    /// Parses an IPv4 header at `offset`, for example one embedded in an ICMP error.
    fn parse_at(skb: &Skb<'_>, offset: usize) -> Option<Self> {
        let mut raw = [0u8; 20];
        let raw = skb.read(offset, &mut raw)?;
        let [ver_ihl, _tos, _, _, _, _, frag_hi, frag_lo, ttl, protocol, _, _, s0, s1, s2, s3, d0, d1, d2, d3] =
            *<&[u8; 20]>::try_from(raw).ok()?;
        if ver_ihl >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(ver_ihl & 0x0f) * 4;
        if ihl < 20 {
            return None;
        }
        let frag_off = u16::from_be_bytes([frag_hi & 0x1f, frag_lo]);
        Some(Ipv4Header {
            offset,
            transport_offset: offset.checked_add(ihl)?,
            protocol,
            ttl,
            saddr: [s0, s1, s2, s3],
            daddr: [d0, d1, d2, d3],
            later_fragment: frag_off != 0,
            dont_fragment: frag_hi & 0x40 != 0,
        })
    }
}

/// The transport header fields the path needs.
struct Ports {
    /// Source port, host order.
    source: u16,
    /// Destination port, host order.
    dest: u16,
    /// TCP flags; [`None`] for UDP or a TCP header shorter than 20 bytes.
    tcp_flags: Option<u8>,
}

/// ICMP types whose payload IPVS translates.
const ICMP_SOURCE_QUENCH: u8 = 4;
/// `ICMP_TIME_EXCEEDED`.
const ICMP_TIME_EXCEEDED: u8 = 11;

/// What an ICMP packet is to IPVS.
enum Icmp {
    /// Not an error IPVS translates: handled like any other protocol (`*related = 0`).
    Unrelated,
    /// The final verdict, without a connection lookup.
    Verdict(Verdict),
    /// An error whose embedded packet may belong to a connection; with its embedded ports.
    Error(nat::IcmpError, u16, u16),
}

/// Parses an ICMP packet as `ip_vs_in_icmp` / `ip_vs_out_icmp` do, with bounds checks on the
/// embedded headers: truncated or bogus payloads are accepted and ignored.
fn parse_icmp(skb: &Skb<'_>, iph: &Ipv4Header) -> Icmp {
    let mut ic = [0u8; 8];
    let Some(&[ty, ..]) = skb.read(iph.transport_offset, &mut ic) else {
        return Icmp::Verdict(Verdict::Drop);
    };
    if ty != ICMP_DEST_UNREACH && ty != ICMP_SOURCE_QUENCH && ty != ICMP_TIME_EXCEEDED {
        return Icmp::Unrelated;
    }
    let Some(inner_offset) = iph.transport_offset.checked_add(8) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    let Some(inner) = Ipv4Header::parse_at(skb, inner_offset) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    if inner.protocol != IPPROTO_TCP && inner.protocol != IPPROTO_UDP {
        return Icmp::Verdict(Verdict::Accept);
    }
    let mut raw = [0u8; 4];
    let Some(&[s0, s1, d0, d1]) = skb.read(inner.transport_offset, &mut raw) else {
        return Icmp::Verdict(Verdict::Accept);
    };
    let err = nat::IcmpError {
        icmp_offset: iph.transport_offset,
        inner,
    };
    Icmp::Error(
        err,
        u16::from_be_bytes([s0, s1]),
        u16::from_be_bytes([d0, d1]),
    )
}

/// `ip_vs_in_icmp`: an ICMP error sent to the virtual service (or routed through the
/// director) about a packet the director sent to a client; `None` when it is unrelated.
fn request_icmp(
    ipvs: &NetState,
    net: &Net,
    conns: &ConnTable,
    mut skb: Skb<'_>,
    iph: &Ipv4Header,
) -> Option<Verdict> {
    let (err, sport, dport) = match parse_icmp(&skb, iph) {
        Icmp::Unrelated => return None,
        Icmp::Verdict(v) => return Some(v),
        Icmp::Error(err, sport, dport) => (err, sport, dport),
    };
    // The embedded packet went virtual service -> client: its addresses are reversed.
    let inner = &err.inner;
    let Some(conn) = conns.in_get(inner.protocol, inner.daddr, dport, inner.saddr, sport) else {
        return Some(Verdict::Accept);
    };
    if !skb.checksum_ok(err.icmp_offset) {
        return Some(Verdict::Drop);
    }
    in_stats(ipvs, &conn, skb.len());
    Some(nat::icmp_xmit(net, skb, iph, &err, &conn))
}

/// `ip_vs_out_icmp`: an ICMP error from a real server about a packet of a connection.
fn reply_icmp(
    ipvs: &NetState,
    net: &Net,
    conns: &ConnTable,
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    hook: HookPoint,
) -> Option<Verdict> {
    let (err, sport, dport) = match parse_icmp(skb, iph) {
        Icmp::Unrelated => return None,
        Icmp::Verdict(v) => return Some(v),
        Icmp::Error(err, sport, dport) => (err, sport, dport),
    };
    // The embedded packet went client -> real server.
    let inner = &err.inner;
    let conn = conns.out_get(inner.protocol, inner.daddr, dport, inner.saddr, sport)?;
    let verdict = nat::icmp_response(ipvs, net, skb, iph, &err, &conn, hook);
    if verdict == Verdict::Accept {
        out_stats(ipvs, &conn, skb.len());
    }
    Some(verdict)
}

/// Reads the ports (and TCP flags) at the transport header; [`None`] if truncated.
fn read_ports(skb: &Skb<'_>, iph: &Ipv4Header) -> Option<Ports> {
    let mut raw = [0u8; 4];
    let [s0, s1, d0, d1] = *<&[u8; 4]>::try_from(skb.read(iph.transport_offset, &mut raw)?).ok()?;
    let tcp_flags = if iph.protocol == IPPROTO_TCP {
        // The whole fixed header must be there, as `skb_header_pointer(sizeof(tcphdr))`.
        let mut th = [0u8; 20];
        skb.read(iph.transport_offset, &mut th)
            .and_then(|th| th.get(13).copied())
    } else {
        None
    };
    Some(Ports {
        source: u16::from_be_bytes([s0, s1]),
        dest: u16::from_be_bytes([d0, d1]),
        tcp_flags,
    })
}

/// Counts a new connection (`ip_vs_conn_stats`).
fn conn_stats(ipvs: &NetState, service: &Service, dest: &Dest) {
    for stats in [&dest.stats, &service.stats, &ipvs.total] {
        stats.conns.add(1, Relaxed);
    }
}

/// The counters a connection's packets add to: its destination's, its service's and the
/// namespace's.
fn counters<'a>(ipvs: &'a NetState, conn: &'a Conn) -> impl Iterator<Item = &'a Stats> {
    [
        conn.dest.as_ref().map(|d| &d.stats),
        conn.svc.as_ref().map(|s| &s.stats),
        Some(&ipvs.total),
    ]
    .into_iter()
    .flatten()
}

/// Counts a client packet (`ip_vs_in_stats`).
fn in_stats(ipvs: &NetState, conn: &Conn, bytes: u32) {
    for stats in counters(ipvs, conn) {
        stats.inpkts.add(1, Relaxed);
        stats.inbytes.add(u64::from(bytes), Relaxed);
    }
}

/// Counts a real server packet (`ip_vs_out_stats`).
fn out_stats(ipvs: &NetState, conn: &Conn, bytes: u32) {
    for stats in counters(ipvs, conn) {
        stats.outpkts.add(1, Relaxed);
        stats.outbytes.add(u64::from(bytes), Relaxed);
    }
}

/// The protocol's state transition (`ip_vs_set_state`).
fn set_state(ipvs: &NetState, conn: &Conn, direction: Direction, tcp_flags: Option<u8>) {
    match conn.protocol {
        IPPROTO_TCP => {
            // Without a full TCP header C leaves the state alone.
            let Some(tcp_flags) = tcp_flags else {
                return;
            };
            let f = conn.flags.load(Relaxed);
            let no_output = f & flags::NOOUTPUT != 0;
            if no_output && direction == Direction::Output {
                conn.clear_flags(flags::NOOUTPUT);
            }
            let table = direction.for_table(no_output);
            // secure_tcp=3 always uses the DoS tables; the memory-driven modes 1 and 2 are not
            // modelled (no memory-pressure defense), so they keep the normal tables.
            let tables = if ipvs.sysctl.get(Sysctl::SecureTcp) == 3 {
                TableSet::SecureTcp
            } else {
                TableSet::Normal
            };
            let new = tcp_state::next_state(tables, table, conn.tcp_state(), tcp_flags);
            conn.set_state(
                new.index() as u32,
                new.is_active(),
                ipvs.timeouts.tcp_state(new),
            );
        }
        _ => {
            if udp_state::assures_template(direction) {
                conn.assure_control();
            }
            let state = UdpState::Normal.index() as u32;
            conn.set_state(state, false, ipvs.timeouts.udp.load(Relaxed))
        }
    }
}

/// Request path (`ip_vs_in_hook`): client packets to a virtual service.
pub(crate) fn request(ipvs: &NetState, net: &Net, hook: HookPoint, mut skb: Skb<'_>) -> Verdict {
    if skb.ipvs_property() {
        return Verdict::Accept;
    }
    if (skb.pkt_type() != PACKET_HOST && hook != HookPoint::LocalOut) || !skb.has_dst() {
        return Verdict::Accept;
    }
    let guard = rcu::read_lock();
    let Some((services, conns)) = ipvs.tables(&guard) else {
        return Verdict::Accept;
    };
    let Some(iph) = Ipv4Header::parse(&skb) else {
        return Verdict::Accept;
    };
    if iph.protocol == IPPROTO_ICMP {
        return request_icmp(ipvs, net, conns, skb, &iph).unwrap_or(Verdict::Accept);
    }
    if iph.protocol != IPPROTO_TCP && iph.protocol != IPPROTO_UDP {
        return Verdict::Accept;
    }
    if iph.later_fragment {
        return Verdict::Accept;
    }
    let Some(ports) = read_ports(&skb, &iph) else {
        // C: no ports, no connection, and `conn_schedule` drops the packet.
        return Verdict::Drop;
    };
    if iph.protocol == IPPROTO_TCP && ports.tcp_flags.is_none() {
        return Verdict::Drop;
    }
    let mut conn = conns.in_get(iph.protocol, iph.saddr, ports.source, iph.daddr, ports.dest);

    // A new connection reusing the tuple of an old one (`conn_reuse_mode`, `expire_nodest_conn`).
    let is_syn = ports.tcp_flags.is_some_and(|f| f & TCP_SYN != 0);
    if let (true, Some(cp)) = (is_syn, &conn) {
        let reuse_mode = ipvs.sysctl.get(Sysctl::ConnReuseMode);
        let mut resched = false;
        let mut old_ct = false;
        let dest_weight_zero = cp
            .dest
            .as_ref()
            .is_some_and(|d| d.weight.load(Relaxed) == 0);
        if ipvs.sysctl.get(Sysctl::ExpireNodestConn) != 0 && dest_weight_zero {
            resched = true;
            old_ct = skb.conntrack_confirmed();
        } else if reuse_mode != 0 && new_conn_expected(cp, reuse_mode) {
            old_ct = skb.conntrack_confirmed();
            resched = true;
        }
        if resched {
            if !old_ct {
                cp.clear_flags(flags::NFCT);
            }
            cp.expire_now();
            if old_ct {
                return Verdict::Drop;
            }
            conn = None;
        }
    }

    // The server of an existing connection was removed.
    if let Some(cp) = &conn {
        if cp.dest.as_ref().is_some_and(|d| !d.available.load(Relaxed)) {
            if ipvs.sysctl.get(Sysctl::ExpireNodestConn) == 0 {
                return Verdict::Drop;
            }
            let old_ct = skb.conntrack_confirmed();
            if !old_ct {
                cp.clear_flags(flags::NFCT);
            }
            cp.expire_now();
            if old_ct {
                return Verdict::Drop;
            }
            conn = None;
        }
    }

    let conn = match conn {
        Some(conn) => conn,
        None => match try_to_schedule(ipvs, conns, services, &mut skb, &iph, &ports) {
            Ok(conn) => conn,
            Err(verdict) => return verdict,
        },
    };
    in_stats(ipvs, &conn, skb.len());
    set_state(ipvs, &conn, Direction::Input, ports.tcp_flags);
    let verdict = nat::nat_xmit(net, skb, &iph, &conn);
    conn.touch();
    conns.put_one_packet(&conn);
    verdict
}

/// `is_new_conn_expected`: a SYN may replace this connection.
fn new_conn_expected(conn: &Conn, reuse_mode: i32) -> bool {
    if conn.protocol != IPPROTO_TCP {
        return false;
    }
    let state = conn.tcp_state();
    state == TcpState::TimeWait
        || state == TcpState::Close
        || (reuse_mode & 2 != 0
            && state == TcpState::FinWait
            && conn.flags.load(Relaxed) & flags::NOOUTPUT != 0)
}

/// `ip_vs_try_to_schedule` with the protocols' `conn_schedule`: a new connection, or the
/// verdict for a packet that gets none.
fn try_to_schedule(
    ipvs: &NetState,
    conns: &ConnTable,
    services: &ServiceTable,
    skb: &mut Skb<'_>,
    iph: &Ipv4Header,
    ports: &Ports,
) -> core::result::Result<Arc<Conn>, Verdict> {
    if let Some(tcp_flags) = ports.tcp_flags {
        let sloppy = ipvs.sysctl.get(Sysctl::SloppyTcp) != 0;
        if !tcp_state::may_create_connection(tcp_flags & (TCP_RST | TCP_SYN), sloppy) {
            return Err(Verdict::Accept);
        }
    }
    let Some(service) = services.find(skb.mark(), iph.protocol, iph.daddr, ports.dest) else {
        return Err(Verdict::Accept);
    };
    // `ip_vs_conn_new`: conntrack=1 keeps conntrack for the connection.
    let nfct = if ipvs.sysctl.get(Sysctl::Conntrack) != 0 {
        flags::NFCT
    } else {
        0
    };
    let conn_max = ipvs.sysctl.get(Sysctl::ConnMax);
    match schedule(ipvs, conns, &service, skb, iph, ports, nfct, conn_max) {
        Scheduled::Conn(conn) => Ok(conn),
        Scheduled::Ignored => Err(Verdict::Accept),
        Scheduled::Failed => Err(Verdict::Drop),
        Scheduled::NoDest => {
            // `ip_vs_leave`: tell the client the service is unreachable.
            skb.icmp_send(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
            Err(Verdict::Drop)
        }
    }
}

/// What `ip_vs_schedule` decided.
enum Scheduled {
    /// A new connection.
    Conn(Arc<Conn>),
    /// Not for scheduling (`*ignored = 1`): the packet continues.
    Ignored,
    /// No destination available (`*ignored = 0`): `ip_vs_leave`.
    NoDest,
    /// The connection could not be created (`*ignored = -1`): drop.
    Failed,
}

/// `ip_vs_schedule` for a non-persistent service.
#[expect(clippy::too_many_arguments)]
fn schedule(
    ipvs: &NetState,
    conns: &ConnTable,
    service: &Arc<Service>,
    skb: &Skb<'_>,
    iph: &Ipv4Header,
    ports: &Ports,
    nfct_flag: u32,
    conn_max: i32,
) -> Scheduled {
    if ports.source == FTPDATA {
        return Scheduled::Ignored;
    }
    // Do not schedule replies from a local real server.
    if skb.is_from_local()
        && conns
            .in_get(iph.protocol, iph.daddr, ports.dest, iph.saddr, ports.source)
            .is_some()
    {
        return Scheduled::Ignored;
    }
    if service.flags.load(Relaxed) & crate::ctl::uapi::svc_flags::PERSISTENT != 0 {
        return sched_persist(ipvs, conns, service, iph, ports, nfct_flag, conn_max);
    }
    let key = &service.key;
    if key.fwmark == 0 && ports.dest != key.port {
        return Scheduled::NoDest;
    }
    let Some(dest) = pick_dest(service, iph, ports) else {
        return Scheduled::NoDest;
    };
    let [d0, d1, d2, d3, ..] = dest.addr;
    let params = ConnParams {
        protocol: iph.protocol,
        caddr: iph.saddr,
        cport: ports.source,
        vaddr: iph.daddr,
        vport: ports.dest,
        daddr: [d0, d1, d2, d3],
        dport: if dest.port != 0 {
            dest.port
        } else {
            ports.dest
        },
    };
    match conns.new_conn(
        &params,
        dest.clone(),
        Some(service.clone()),
        nfct_flag | one_packet_flag(service, iph),
        conn_max,
        None,
        None,
    ) {
        Ok(conn) => {
            // `ip_vs_conn_stats`.
            conn_stats(ipvs, service, &dest);
            Scheduled::Conn(conn)
        }
        Err(_) => Scheduled::Failed,
    }
}

/// `ip_vs_sched_persist`: schedule through the client's persistence template.
fn sched_persist(
    ipvs: &NetState,
    conns: &ConnTable,
    service: &Arc<Service>,
    iph: &Ipv4Header,
    ports: &Ports,
    nfct_flag: u32,
    conn_max: i32,
) -> Scheduled {
    let key = &service.key;
    let persistent = PersistentService {
        port: key.port,
        fwmark: key.fwmark,
        netmask: u32::from_be(service.netmask.load(Relaxed)),
    };
    let packet = PersistentPacket {
        protocol: iph.protocol,
        client_addr: InetAddr::V4(u32::from_be_bytes(iph.saddr)),
        virtual_addr: InetAddr::V4(u32::from_be_bytes(iph.daddr)),
        virtual_port: ports.dest,
    };
    let tkey = persist::template_key(&persistent, &packet);
    let (InetAddr::V4(tcaddr), InetAddr::V4(tvaddr)) = (tkey.client_addr, tkey.virtual_addr) else {
        return Scheduled::Failed;
    };
    let expire_quiescent = ipvs.sysctl.get(Sysctl::ExpireQuiescentTemplate) != 0;
    // `ip_vs_check_template`: a template whose server is gone (or quiesced, with
    // expire_quiescent_template) is invalidated and the client rescheduled.
    let template = conns.template_get(&tkey).filter(|ct| {
        let usable = ct.dest.as_ref().is_some_and(|d| {
            persist::template_usable(
                d.available.load(Relaxed),
                d.weight.load(Relaxed),
                expire_quiescent,
            )
        });
        if !usable {
            ct.dport
                .store(u32::from(persist::INVALID_TEMPLATE_DPORT), Relaxed);
        }
        usable
    });
    let (template, dest) = match template.and_then(|ct| ct.dest.clone().map(|d| (ct, d))) {
        Some(found) => found,
        None => {
            let Some(dest) = pick_dest(service, iph, ports) else {
                return Scheduled::NoDest;
            };
            let [d0, d1, d2, d3, ..] = dest.addr;
            let params = ConnParams {
                protocol: tkey.protocol,
                caddr: tcaddr.to_be_bytes(),
                cport: 0,
                vaddr: tvaddr.to_be_bytes(),
                vport: tkey.virtual_port,
                daddr: [d0, d1, d2, d3],
                dport: persist::template_dport(&persistent, ports.dest, dest.port),
            };
            let timeout = u64::from(service.timeout.load(Relaxed)) * u64::from(bindings::CONFIG_HZ);
            match conns.new_conn(
                &params,
                dest.clone(),
                Some(service.clone()),
                flags::TEMPLATE,
                conn_max,
                None,
                Some(timeout),
            ) {
                Ok(ct) => (ct, dest),
                Err(_) => return Scheduled::Failed,
            }
        }
    };
    let [d0, d1, d2, d3, ..] = dest.addr;
    let params = ConnParams {
        protocol: iph.protocol,
        caddr: iph.saddr,
        cport: ports.source,
        vaddr: iph.daddr,
        vport: ports.dest,
        daddr: [d0, d1, d2, d3],
        dport: persist::connection_dport(&persistent, ports.dest, dest.port),
    };
    let conn = conns.new_conn(
        &params,
        dest.clone(),
        Some(service.clone()),
        nfct_flag | one_packet_flag(service, iph),
        conn_max,
        Some(template.clone()),
        None,
    );
    // Each use restarts the template's timer (`ip_vs_conn_put(ct)`).
    template.touch();
    match conn {
        Ok(conn) => {
            conn_stats(ipvs, service, &dest);
            Scheduled::Conn(conn)
        }
        Err(_) => Scheduled::Failed,
    }
}

/// `IP_VS_CONN_F_ONE_PACKET` for a UDP connection of a one-packet-scheduling service.
fn one_packet_flag(service: &Service, iph: &Ipv4Header) -> u32 {
    let ops = service.flags.load(Relaxed) & crate::ctl::uapi::svc_flags::ONEPACKET != 0;
    if ops && iph.protocol == IPPROTO_UDP {
        flags::ONE_PACKET
    } else {
        0
    }
}

/// Runs the service's scheduler for the client of this packet.
fn pick_dest(service: &Service, iph: &Ipv4Header, ports: &Ports) -> Option<Arc<Dest>> {
    let client = ClientInfo {
        addr: InetAddr::V4(u32::from_be_bytes(iph.saddr)),
        port: ports.source,
        service_flags: service.flags.load(Relaxed),
    };
    let mut scheduling = service.scheduling.lock();
    let crate::ctl::service::Scheduling { scheduler, dests } = &mut *scheduling;
    let index = scheduler.as_mut()?.schedule(dests, &client)?;
    dests.get(index).cloned()
}

/// Reply path (`ip_vs_out_hook`): real-server packets back to a client.
pub(crate) fn reply(ipvs: &NetState, net: &Net, hook: HookPoint, mut skb: Skb<'_>) -> Verdict {
    if skb.ipvs_property() || !skb.has_dst() {
        return Verdict::Accept;
    }
    let guard = rcu::read_lock();
    let Some((services, conns)) = ipvs.tables(&guard) else {
        return Verdict::Accept;
    };
    let Some(iph) = Ipv4Header::parse(&skb) else {
        return Verdict::Accept;
    };
    if iph.protocol == IPPROTO_ICMP {
        if let Some(verdict) = reply_icmp(ipvs, net, conns, &mut skb, &iph, hook) {
            return verdict;
        }
    }
    if (iph.protocol != IPPROTO_TCP && iph.protocol != IPPROTO_UDP) || iph.later_fragment {
        return Verdict::Accept;
    }
    let Some(ports) = read_ports(&skb, &iph) else {
        return Verdict::Accept;
    };
    if let Some(conn) = conns.out_get(iph.protocol, iph.saddr, ports.source, iph.daddr, ports.dest)
    {
        if nat::snat_response(ipvs, net, &mut skb, &iph, &conn, hook).is_err() {
            return Verdict::Drop;
        }
        out_stats(ipvs, &conn, skb.len());
        set_state(ipvs, &conn, Direction::Output, ports.tcp_flags);
        nat::finish_response(&mut skb, &conn);
        conn.touch();
        return Verdict::Accept;
    }
    // A reply-looking packet from a real server with no connection.
    if ipvs.sysctl.get(Sysctl::NatIcmpSend) != 0
        && services.has_real_service(iph.protocol, iph.saddr, ports.source)
    {
        let tcp_reset = ports.tcp_flags.is_some_and(|f| f & TCP_RST != 0);
        if iph.protocol != IPPROTO_TCP || !tcp_reset {
            skb.icmp_send(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
            return Verdict::Drop;
        }
    }
    Verdict::Accept
}

/// ICMP errors routed through the director (`ip_vs_forward_icmp`).
pub(crate) fn forward_icmp(ipvs: &NetState, net: &Net, _hook: HookPoint, skb: Skb<'_>) -> Verdict {
    let guard = rcu::read_lock();
    let Some((_, conns)) = ipvs.tables(&guard) else {
        return Verdict::Accept;
    };
    match Ipv4Header::parse(&skb) {
        Some(iph) if iph.protocol == IPPROTO_ICMP => {
            request_icmp(ipvs, net, conns, skb, &iph).unwrap_or(Verdict::Accept)
        }
        _ => Verdict::Accept,
    }
}
