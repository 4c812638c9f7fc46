// SPDX-License-Identifier: GPL-2.0

//! Scheduling a client packet that has no connection (C: `ip_vs_try_to_schedule`, the
//! protocols' `conn_schedule`, `ip_vs_schedule` and `ip_vs_sched_persist`): find its service,
//! pick a real server with the service's scheduler or the client's persistence template, and
//! create the connection.

use super::{
    conn_stats, //
    port_unreachable,
};
use crate::ffi::rcu::ReadSection;
use crate::{
    conn::{
        Conn, //
        ConnParams,
        ConnTable,
        PacketKey,
    },
    ffi::{
        net::{
            AddrType, //
            Net,
        },
        netfilter::Verdict,
        skb::Skb,
        slab::SlabArc,
        timer::jiffies,
    },
    netns::Ipvs,
    packet::{
        ipv6_is_unicast, //
        sched_addr,
        v4_of,
    },
    proto::{
        Packet, //
        Proto,
        ScheduleCheck,
    },
    sched::{
        dest_view::ClientInfo,
        persist::{
            self, //
            PersistentPacket,
            PersistentService,
            FTP_PORT,
        },
        LocalityClock,
    },
    service::{
        table::FTP_DATA_PORT,
        Dest, //
        Scheduling,
        Service,
        ServiceKey,
        ServiceTable,
    },
    sysctl::Sysctl,
    uapi::{
        self, //
        conn_flags,
        fwd,
        svc_flags,
    },
};
use kernel::{
    bindings,
    sync::{
        atomic::Relaxed, //
        Arc,
    },
};

/// `ip_vs_try_to_schedule` with the protocol's `conn_schedule`: a new connection, or the
/// verdict for a packet that gets none.
pub(super) fn try_to_schedule(
    ipvs: &Ipvs,
    conns: &ConnTable,
    services: &ServiceTable,
    guard: &ReadSection,
    skb: &mut Skb<'_>,
    pkt: &Packet<'_>,
    key: &PacketKey<'_>,
) -> Result<SlabArc<Conn>, Verdict> {
    match pkt.proto.schedule_check(&ipvs.sysctl, &pkt.l4) {
        ScheduleCheck::Schedule => {}
        ScheduleCheck::Pass => return Err(Verdict::Accept),
        ScheduleCheck::Drop => return Err(Verdict::Drop),
    }
    schedule_new(ipvs, conns, services, guard, skb, pkt.proto, key)
}

/// The part of [`try_to_schedule`] after the protocol's look at the packet's header: the
/// service of `key` (the tuple of a client packet of protocol `proto`), a real server for it
/// and the new connection. An ICMP error whose quoted packet has no connection comes here
/// directly under `schedule_icmp` (C's `conn_schedule` skips the header checks for an ICMP
/// error: only the quoted ports are there). Inlined, so that a new connection's path has the
/// one call it had before the split (`try_to_schedule` is in `hot-path.txt`).
#[inline(always)]
pub(super) fn schedule_new(
    ipvs: &Ipvs,
    conns: &ConnTable,
    services: &ServiceTable,
    guard: &ReadSection,
    skb: &mut Skb<'_>,
    proto: Proto,
    key: &PacketKey<'_>,
) -> Result<SlabArc<Conn>, Verdict> {
    let net = ipvs.net.get();
    let packet = ServiceKey {
        af: key.af,
        protocol: u16::from(key.protocol),
        addr: *key.daddr,
        port: key.dport,
        fwmark: skb.mark(),
    };
    let unprivileged = |port| !net.port_requires_bind_service(port);
    let Some(service) = services.find(guard, &packet, unprivileged) else {
        return Err(Verdict::Accept);
    };
    // `ip_vs_todrop`: under `drop_packet`, one packet out of every `drop_rate` that would
    // create a connection is dropped.
    if ipvs.defense.packet_to_drop() {
        return Err(Verdict::Drop);
    }
    let request = Request {
        ipvs,
        conns,
        guard,
        service: &service,
        proto,
        key,
        // `ip_vs_conn_new`: conntrack=1 keeps conntrack for the connection.
        nfct: if ipvs.sysctl.enabled(Sysctl::Conntrack) {
            conn_flags::NFCT
        } else {
            0
        },
        conn_max: ipvs.sysctl.get(Sysctl::ConnMax),
        mark: skb.mark(),
    };
    let scheduled = match request.schedule(skb) {
        // `ip_vs_leave`: without a real server, a fwmark service may let the packet go on to
        // its own destination.
        Scheduled::NoDest => request.cache_bypass(net).unwrap_or(Scheduled::NoDest),
        scheduled => scheduled,
    };
    match scheduled {
        Scheduled::Conn(conn) => Ok(conn),
        Scheduled::Ignored => Err(Verdict::Accept),
        Scheduled::Failed => Err(Verdict::Drop),
        // `ip_vs_leave`: a packet the FTP service took for another port of its address
        // passes ("not ipvs job to decide to drop the packets").
        Scheduled::NoDest if service.key.port == FTP_PORT && key.dport != FTP_PORT => {
            Err(Verdict::Accept)
        }
        Scheduled::NoDest => {
            // `ip_vs_leave`: tell the client the service is unreachable.
            port_unreachable(net, skb, key.af);
            Err(Verdict::Drop)
        }
    }
}

/// What `ip_vs_schedule` decided.
enum Scheduled {
    /// A new connection.
    Conn(SlabArc<Conn>),
    /// Not for scheduling (`*ignored = 1`): the packet continues.
    Ignored,
    /// No destination available (`*ignored = 0`): `ip_vs_leave`.
    NoDest,
    /// The connection could not be created (`*ignored = -1`): drop.
    Failed,
}

/// A client packet being scheduled by its service.
struct Request<'a> {
    /// The namespace.
    ipvs: &'a Ipvs,
    /// Its connection table.
    conns: &'a ConnTable,
    /// The hook's read-side section, which the lookups of the tables run in.
    guard: &'a ReadSection,
    /// The service the packet is for.
    service: &'a Service,
    /// The packet's protocol.
    proto: Proto,
    /// Its tuple.
    key: &'a PacketKey<'a>,
    /// `IP_VS_CONN_F_NFCT` when conntrack=1.
    nfct: u32,
    /// `conn_max`.
    conn_max: i32,
    /// The packet's firewall mark, which its connections keep (`ip_vs_conn_new`'s
    /// `skb->mark`).
    mark: u32,
}

impl Request<'_> {
    /// `ip_vs_schedule`.
    fn schedule(&self, skb: &Skb<'_>) -> Scheduled {
        let key = self.key;
        if key.sport == FTP_DATA_PORT {
            return Scheduled::Ignored;
        }
        // Do not schedule replies from a local real server.
        if skb.is_from_local() && self.conns.in_get(self.guard, &key.inverse()).is_some() {
            return Scheduled::Ignored;
        }
        let service = self.service;
        if service.flags.load(Relaxed) & svc_flags::PERSISTENT != 0 {
            return self.sched_persist();
        }
        if service.key.fwmark == 0 && key.dport != service.key.port {
            return Scheduled::NoDest;
        }
        let Some(dest) = self.pick_dest() else {
            return Scheduled::NoDest;
        };
        let dport = if dest.port != 0 { dest.port } else { key.dport };
        let params = ConnParams {
            fwmark: self.mark,
            ..ConnParams::for_packet(key, dport)
        };
        self.new_conn(&params, &dest, None)
    }

    /// `ip_vs_sched_persist`: schedule through the client's persistence template.
    fn sched_persist(&self) -> Scheduled {
        let (service, key) = (self.service, self.key);
        let persistent = PersistentService {
            port: service.key.port,
            fwmark: service.key.fwmark,
            // An IPv4 mask as sent (network order); an IPv6 prefix length as it is.
            netmask: if key.af == uapi::AF_INET6 {
                service.netmask.load(Relaxed)
            } else {
                u32::from_be(service.netmask.load(Relaxed))
            },
        };
        let packet = PersistentPacket {
            protocol: key.protocol,
            client_addr: sched_addr(key.af, key.saddr),
            virtual_addr: sched_addr(key.af, key.daddr),
            virtual_port: key.dport,
        };
        let tkey = persist::template_key(&persistent, &packet);
        let expire_quiescent = self.ipvs.sysctl.enabled(Sysctl::ExpireQuiescentTemplate);
        // `ip_vs_check_template`: a template whose server is gone (or quiesced, with
        // expire_quiescent_template) is invalidated and the client rescheduled.
        let template = self
            .conns
            .template_get(self.guard, key.af, &tkey)
            .filter(|ct| {
                let usable = ct.dest.as_ref().is_some_and(|d| {
                    persist::template_usable(
                        d.available.load(Relaxed),
                        d.weight.load(Relaxed),
                        expire_quiescent,
                    )
                });
                if !usable {
                    ct.set_dport(persist::INVALID_TEMPLATE_DPORT);
                }
                usable
            });
        let (template, dest) = match template.and_then(|ct| ct.dest.clone().map(|d| (ct, d))) {
            Some(found) => found,
            None => {
                let Some(dest) = self.pick_dest() else {
                    return Scheduled::NoDest;
                };
                let dport = persist::template_dport(&persistent, key.dport, dest.port);
                let params = ConnParams {
                    fwmark: self.mark,
                    ..ConnParams::for_template(key.af, &tkey, dport)
                };
                let timeout = u64::from(service.timeout.load(Relaxed))
                    .saturating_mul(u64::from(bindings::CONFIG_HZ));
                match self.conns.new_conn(
                    &params,
                    Some(dest.clone()),
                    conn_flags::TEMPLATE,
                    self.conn_max,
                    None,
                    Some(timeout),
                ) {
                    Ok(ct) => (ct, dest),
                    Err(_) => return Scheduled::Failed,
                }
            }
        };
        let dport = persist::connection_dport(&persistent, key.dport, dest.port);
        let params = ConnParams {
            fwmark: self.mark,
            ..ConnParams::for_packet(key, dport)
        };
        let scheduled = self.new_conn(&params, &dest, Some(template.clone()));
        // Each use restarts the template's timer (`ip_vs_conn_put(ct)`).
        self.conns.touch(&template);
        scheduled
    }

    /// Creates the connection to `dest` (`ip_vs_conn_new`) and counts it.
    fn new_conn(
        &self,
        params: &ConnParams,
        dest: &Arc<Dest>,
        template: Option<SlabArc<Conn>>,
    ) -> Scheduled {
        match self.conns.new_conn(
            params,
            Some(dest.clone()),
            self.nfct | self.one_packet_flag(),
            self.conn_max,
            template,
            None,
        ) {
            Ok(conn) => {
                conn_stats(self.ipvs, self.service, dest);
                Scheduled::Conn(conn)
            }
            Err(_) => Scheduled::Failed,
        }
    }

    /// The cache bypass of `ip_vs_leave`: with `cache_bypass` on, a packet for a fwmark
    /// service that has no real server for it, addressed to a unicast address elsewhere, gets
    /// a connection of the bypass transmitter (no real server, address 0, port 0), which
    /// sends it and the rest of its flow on to that address. [`None`] when it does not apply.
    fn cache_bypass(&self, net: &Net) -> Option<Scheduled> {
        let key = self.key;
        // `ip_vs_addr_is_unicast`.
        let unicast = if key.af == uapi::AF_INET6 {
            ipv6_is_unicast(key.daddr)
        } else {
            net.addr_type(v4_of(key.daddr)) == AddrType::Unicast
        };
        if !self.ipvs.sysctl.enabled(Sysctl::CacheBypass)
            || self.service.key.fwmark == 0
            || !unicast
        {
            return None;
        }
        let params = ConnParams {
            fwmark: self.mark,
            ..ConnParams::for_packet(key, 0)
        };
        let flags = fwd::BYPASS | self.nfct | self.one_packet_flag();
        Some(
            match self
                .conns
                .new_conn(&params, None, flags, self.conn_max, None, None)
            {
                Ok(conn) => Scheduled::Conn(conn),
                Err(_) => Scheduled::Failed,
            },
        )
    }

    /// `IP_VS_CONN_F_ONE_PACKET` for a one-packet-scheduling service, where the protocol
    /// allows it.
    fn one_packet_flag(&self) -> u32 {
        let ops = self.service.flags.load(Relaxed) & svc_flags::ONEPACKET != 0;
        if ops && self.proto.one_packet_scheduling() {
            conn_flags::ONE_PACKET
        } else {
            0
        }
    }

    /// Runs the service's scheduler for the client of this packet.
    fn pick_dest(&self) -> Option<Arc<Dest>> {
        let service = self.service;
        let client = ClientInfo {
            addr: sched_addr(self.key.af, self.key.saddr),
            port: self.key.sport,
            daddr: sched_addr(self.key.af, self.key.daddr),
            service_flags: service.flags.load(Relaxed),
        };
        let clock = LocalityClock {
            now: jiffies(),
            lblcr_expiration: self.ipvs.sysctl.jiffies(Sysctl::LblcrExpiration),
        };
        let mut scheduling = service.scheduling.lock();
        let Scheduling { scheduler, dests } = &mut *scheduling;
        let index = scheduler.as_mut()?.schedule(dests, &client, &clock)?;
        dests.get(index).cloned()
    }
}
