// SPDX-License-Identifier: GPL-2.0

//! Protocols (C: `struct ip_vs_protocol` and `ip_vs_proto.c`): what the data path does per
//! transport protocol, behind one trait. TCP ([`tcp`]), UDP ([`udp`]) and SCTP ([`sctp`])
//! implement it over their state tables ([`tcp_state`], [`udp_state`], [`sctp_state`], plain
//! Rust shared with the host tests); another protocol is one more file and one more arm of
//! [`Proto::lookup`].

pub(crate) mod sctp;
pub(crate) mod sctp_state;
pub(crate) mod tcp;
pub(crate) mod tcp_state;
pub(crate) mod udp;
pub(crate) mod udp_state;

use crate::ffi::atomic::Atomic;
use crate::{
    conn::Conn,
    ffi::skb::{
        Skb, //
        Writable,
    },
    packet::{
        v4_of, //
        IpHeader,
        NfInetAddr,
        Transport,
    },
    sysctl::Sysctls,
    uapi::{
        self, //
        ipproto,
    },
};
use core::fmt;
use kernel::{prelude::*, sync::atomic::Relaxed};
use tcp_state::{
    Direction, //
    TcpState,
};

/// A transport protocol IPVS balances (C: `struct ip_vs_protocol`).
pub(crate) trait Protocol: Sync {
    /// Bytes of the transport header the NAT handlers rewrite, up to and including the
    /// checksum: what must be writable.
    const NAT_HEADER_LEN: usize;

    /// Whether a checksum of 0 means "none" (UDP), so that an update that makes it 0 must
    /// write the other zero, 0xffff, instead (`CSUM_MANGLED_0`).
    const ZERO_CHECKSUM_IS_NONE: bool = false;

    /// Reads the transport header once (the `skb_header_pointer` of C's `conn_schedule`,
    /// `state_transition` and NAT handlers); [`None`] when it is truncated.
    fn parse(&self, skb: &Skb<'_>, iph: &IpHeader) -> Option<Transport>;

    /// Whether the transport header has every field the request path needs; a client packet
    /// without them is dropped (TCP: the flags of the fixed header).
    fn header_complete(&self, _l4: &Transport) -> bool {
        true
    }

    /// What a client packet without a connection gets before its service is looked up (the
    /// start of the protocol's `conn_schedule`).
    fn schedule_check(&self, sysctl: &Sysctls, l4: &Transport) -> ScheduleCheck;

    /// Whether the packet opens a new connection (`is_new_conn`), for `conn_reuse_mode`.
    fn is_new_conn(&self, _l4: &Transport) -> bool {
        false
    }

    /// Whether a new connection may replace `conn`, which has the packet's tuple
    /// (`is_new_conn_expected`).
    fn new_conn_expected(&self, _conn: &Conn, _reuse_mode: i32) -> bool {
        false
    }

    /// Whether a reply-looking packet without a connection is a reset, which gets no port
    /// unreachable (`ip_vs_out_hook`).
    fn is_reset(&self, _l4: &Transport) -> bool {
        false
    }

    /// Whether one-packet scheduling applies (`IP_VS_CONN_F_ONE_PACKET`, UDP only).
    fn one_packet_scheduling(&self) -> bool {
        false
    }

    /// The protocol's state transition for a packet of `conn` (`state_transition`, through
    /// `ip_vs_set_state`).
    fn state_transition(
        &self,
        ns: &NetSettings<'_>,
        conn: &Conn,
        direction: Direction,
        l4: &Transport,
    );

    /// The name of a state for /proc (`state_name`).
    fn state_name(&self, state: u32) -> &'static str;

    /// `dnat_handler`: a client packet's destination port becomes the real server's, with
    /// the transport checksum updated for it and for the address change the transmitter
    /// makes (`tcp_fast_csum_update` / `udp_fast_csum_update`). `crc_offload` says whether
    /// the output device computes SCTP's CRC32c (`NETIF_F_SCTP_CRC`); only SCTP reads it.
    fn dnat_handler(
        &self,
        w: &mut Writable<'_, '_>,
        iph: &IpHeader,
        l4: &Transport,
        conn: &Conn,
        _crc_offload: bool,
    ) -> Result {
        let port_at = iph.transport_offset.checked_add(2).ok_or(EINVAL)?;
        rewrite_port(
            w,
            iph,
            l4,
            PortChange {
                at: port_at,
                from: l4.dport,
                to: conn.dport(),
            },
            AddrChange {
                from: &iph.daddr,
                to: &conn.daddr,
                after: (&iph.saddr, &conn.daddr),
            },
            Self::ZERO_CHECKSUM_IS_NONE,
        )
    }

    /// `snat_handler`: a real server's reply comes from the virtual port, with the checksum
    /// updated for it and for the source address change.
    fn snat_handler(
        &self,
        w: &mut Writable<'_, '_>,
        iph: &IpHeader,
        l4: &Transport,
        conn: &Conn,
    ) -> Result {
        rewrite_port(
            w,
            iph,
            l4,
            PortChange {
                at: iph.transport_offset,
                from: l4.sport,
                to: conn.vport,
            },
            AddrChange {
                from: &iph.saddr,
                to: &conn.vaddr,
                after: (&conn.vaddr, &iph.daddr),
            },
            Self::ZERO_CHECKSUM_IS_NONE,
        )
    }
}

/// What a client packet without a connection gets from its protocol's check.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScheduleCheck {
    /// Look up its service and schedule it.
    Schedule,
    /// Let it pass untouched: it cannot open a connection (C returns 1 without scheduling).
    Pass,
    /// Drop it: its header is too short to say (C's `NF_DROP` when the ports are missing).
    Drop,
}

/// The protocols IPVS balances, each dispatching to its [`Protocol`] handler statically (no
/// indirect call per packet, where C has `INDIRECT_CALL`s).
#[derive(Clone, Copy)]
pub(crate) enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// Runs `$body` with `$p` bound to the protocol's handler.
macro_rules! with_proto {
    ($proto:expr, $p:ident => $body:expr) => {
        match $proto {
            Proto::Tcp => {
                let $p = &tcp::Tcp;
                $body
            }
            Proto::Udp => {
                let $p = &udp::Udp;
                $body
            }
            Proto::Sctp => {
                let $p = &sctp::Sctp;
                $body
            }
        }
    };
}

impl Proto {
    /// The handler of `protocol`, if IPVS balances it (`ip_vs_proto_get`).
    pub(crate) fn lookup(protocol: u8) -> Option<Self> {
        match protocol {
            ipproto::TCP => Some(Proto::Tcp),
            ipproto::UDP => Some(Proto::Udp),
            ipproto::SCTP => Some(Proto::Sctp),
            _ => None,
        }
    }

    /// The number of states of the protocol (`pp->num_states`), which a sync message's state
    /// must be below.
    pub(crate) fn state_count(self) -> u16 {
        match self {
            Proto::Tcp => TcpState::COUNT as u16,
            Proto::Udp => crate::proto::udp_state::UdpState::COUNT as u16,
            Proto::Sctp => crate::proto::sctp_state::SctpState::COUNT as u16,
        }
    }

    /// See [`Protocol::parse`].
    #[inline(always)]
    pub(crate) fn parse(self, skb: &Skb<'_>, iph: &IpHeader) -> Option<Transport> {
        with_proto!(self, p => p.parse(skb, iph))
    }

    /// See [`Protocol::header_complete`].
    #[inline]
    pub(crate) fn header_complete(self, l4: &Transport) -> bool {
        with_proto!(self, p => p.header_complete(l4))
    }

    /// See [`Protocol::schedule_check`].
    pub(crate) fn schedule_check(self, sysctl: &Sysctls, l4: &Transport) -> ScheduleCheck {
        with_proto!(self, p => p.schedule_check(sysctl, l4))
    }

    /// Whether the protocol's checksum is SCTP's CRC32c, whose offload the NAT transmitter
    /// must ask the output device about.
    pub(crate) fn uses_crc32c(self) -> bool {
        matches!(self, Proto::Sctp)
    }

    /// See [`Protocol::is_new_conn`].
    pub(crate) fn is_new_conn(self, l4: &Transport) -> bool {
        with_proto!(self, p => p.is_new_conn(l4))
    }

    /// See [`Protocol::new_conn_expected`].
    pub(crate) fn new_conn_expected(self, conn: &Conn, reuse_mode: i32) -> bool {
        with_proto!(self, p => p.new_conn_expected(conn, reuse_mode))
    }

    /// See [`Protocol::is_reset`].
    pub(crate) fn is_reset(self, l4: &Transport) -> bool {
        with_proto!(self, p => p.is_reset(l4))
    }

    /// See [`Protocol::one_packet_scheduling`].
    pub(crate) fn one_packet_scheduling(self) -> bool {
        with_proto!(self, p => p.one_packet_scheduling())
    }

    /// See [`Protocol::state_transition`].
    #[inline(always)]
    pub(crate) fn state_transition(
        self,
        ns: &NetSettings<'_>,
        conn: &Conn,
        direction: Direction,
        l4: &Transport,
    ) {
        with_proto!(self, p => p.state_transition(ns, conn, direction, l4))
    }

    /// See [`Protocol::state_name`].
    pub(crate) fn state_name(self, state: u32) -> &'static str {
        with_proto!(self, p => p.state_name(state))
    }

    /// Bytes from `skb->data` the NAT handlers need writable for this packet.
    pub(crate) fn nat_writable_len(self, iph: &IpHeader) -> usize {
        let l4 = with_proto!(self, p => nat_header_len(p));
        iph.transport_offset.saturating_add(l4)
    }

    /// See [`Protocol::dnat_handler`].
    pub(crate) fn dnat_handler(
        self,
        w: &mut Writable<'_, '_>,
        iph: &IpHeader,
        l4: &Transport,
        conn: &Conn,
        crc_offload: bool,
    ) -> Result {
        with_proto!(self, p => p.dnat_handler(w, iph, l4, conn, crc_offload))
    }

    /// See [`Protocol::snat_handler`].
    pub(crate) fn snat_handler(
        self,
        w: &mut Writable<'_, '_>,
        iph: &IpHeader,
        l4: &Transport,
        conn: &Conn,
    ) -> Result {
        with_proto!(self, p => p.snat_handler(w, iph, l4, conn))
    }
}

/// [`Protocol::NAT_HEADER_LEN`] of a handler.
fn nat_header_len<P: Protocol>(_p: &P) -> usize {
    P::NAT_HEADER_LEN
}

/// A port a NAT handler rewrites.
struct PortChange {
    /// Offset of the port from `skb->data`.
    at: usize,
    /// The port now, host order.
    from: u16,
    /// The port to write.
    to: u16,
}

/// The address change the transmitter makes alongside a port rewrite, which the transport
/// checksum covers through the pseudo-header.
struct AddrChange<'a> {
    /// The address before.
    from: &'a NfInetAddr,
    /// The address after.
    to: &'a NfInetAddr,
    /// The packet's source and destination once rewritten, for a checksum computed anew.
    after: (&'a NfInetAddr, &'a NfInetAddr),
}

/// Writes the new port and updates the transport checksum for it and for the address change
/// (`tcp_fast_csum_update`, `udp_fast_csum_update`, or their `_partial_` forms for a checksum
/// the device completes). A UDP checksum of 0 (`zero_is_none`: none was computed) is computed
/// in full, as C's UDP handlers do; one an update makes 0 is written as 0xffff.
#[inline(always)]
fn rewrite_port(
    w: &mut Writable<'_, '_>,
    iph: &IpHeader,
    l4: &Transport,
    port: PortChange,
    addr: AddrChange<'_>,
    zero_is_none: bool,
) -> Result {
    let (from_port, to_port) = (port.from.to_be_bytes(), port.to.to_be_bytes());
    w.write(port.at, &to_port)?;
    let Some(csum) = l4.csum_offset else {
        return Ok(());
    };
    // UDP's checksum, unless the device completes it (`CHECKSUM_PARTIAL`: the field holds a
    // partial sum, where 0 means nothing).
    let udp_checksum = zero_is_none && !w.checksum_partial();
    if udp_checksum {
        let mut old = [0u8; 2];
        if w.read(csum, &mut old) == Some(&[0, 0]) {
            return w.udp_checksum_full(iph.transport_offset, iph.af, addr.after.0, addr.after.1);
        }
    }
    w.csum_replace2(csum, from_port, to_port)?;
    if iph.af == uapi::AF_INET6 {
        w.csum_replace16(csum, addr.from, addr.to)?;
    } else {
        w.csum_replace4(csum, v4_of(addr.from), v4_of(addr.to), true)?;
    }
    if udp_checksum {
        w.mangle_zero_csum(csum)?;
    }
    Ok(())
}

/// The direction whose table a packet of `conn` moves it by: a connection whose replies
/// bypass the director (`IP_VS_CONN_F_NOOUTPUT`) uses the input-only table until a reply
/// shows up, which clears the flag (`set_tcp_state`, `set_sctp_state`).
#[inline(always)]
fn table_direction(conn: &Conn, direction: Direction) -> Direction {
    let no_output = conn.flags.load(Relaxed) & uapi::conn_flags::NOOUTPUT != 0;
    if no_output && direction == Direction::Output {
        conn.clear_flags(uapi::conn_flags::NOOUTPUT);
    }
    direction.for_table(no_output)
}

/// The state name /proc shows for a connection (`ip_vs_state_name`): templates are NONE or
/// ASSURED.
pub(crate) fn state_name(conn: &Conn) -> &'static str {
    if conn.is_template() {
        return if conn.assured.load(Relaxed) {
            "ASSURED"
        } else {
            "NONE"
        };
    }
    match Proto::lookup(conn.protocol) {
        Some(p) => p.state_name(conn.state()),
        None if conn.protocol == ipproto::IP => "NONE",
        None => "ERR!",
    }
}

/// `ip_vs_proto_name`: a protocol number as C names it.
pub(crate) fn name(protocol: u16) -> ProtoName {
    ProtoName(protocol)
}

/// Displays a protocol number as C's `ip_vs_proto_name` does.
pub(crate) struct ProtoName(u16);

impl fmt::Display for ProtoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(protocol) = u8::try_from(self.0) else {
            return write!(f, "IP_{}", self.0);
        };
        match protocol {
            ipproto::IP => f.write_str("IP"),
            ipproto::ICMP => f.write_str("ICMP"),
            ipproto::TCP => f.write_str("TCP"),
            ipproto::UDP => f.write_str("UDP"),
            ipproto::ICMPV6 => f.write_str("ICMPv6"),
            ipproto::SCTP => f.write_str("SCTP"),
            other => write!(f, "IP_{other}"),
        }
    }
}

/// What a protocol's state transition reads of its namespace: the timeouts and the state tables.
pub(crate) struct NetSettings<'a> {
    /// The namespace's protocol timeouts.
    pub(crate) timeouts: &'a Timeouts,
    /// Whether TCP uses its defense state tables (`secure_tcp`, [`crate::defense`]).
    pub(crate) secure_tcp_tables: bool,
}

/// The three timeouts SET_CONFIG and GET_CONFIG carry, in seconds.
#[derive(Clone, Copy)]
pub(crate) struct TimeoutValues {
    /// TCP ESTABLISHED.
    pub(crate) tcp: u32,
    /// TCP FIN_WAIT.
    pub(crate) tcp_fin: u32,
    /// UDP.
    pub(crate) udp: u32,
}

/// Per-namespace protocol timeouts in seconds (C: each protocol's `pd->timeout_table`).
pub(crate) struct Timeouts {
    /// TCP timeout of each state, indexed by [`TcpState::index`].
    tcp: [Atomic<u32>; TcpState::COUNT],
    /// UDP timeout.
    udp: Atomic<u32>,
}

impl Timeouts {
    /// The C defaults.
    pub(crate) fn new() -> Self {
        Timeouts {
            tcp: tcp_state::DEFAULT_TIMEOUTS.map(Atomic::new),
            udp: Atomic::new(udp_state::DEFAULT_TIMEOUTS[0]),
        }
    }

    /// The timeout of a TCP state.
    pub(crate) fn tcp_state(&self, state: TcpState) -> u32 {
        self.tcp.get(state.index()).map_or(0, |t| t.load(Relaxed))
    }

    /// The UDP timeout.
    pub(crate) fn udp(&self) -> u32 {
        self.udp.load(Relaxed)
    }

    /// The timeout of `state` of `protocol` in seconds (its `timeout_table` entry), for a
    /// connection a version-0 sync message brings without one; `None` for other protocols.
    pub(crate) fn of_state(&self, protocol: u8, state: u16) -> Option<u32> {
        let state = usize::from(state);
        match protocol {
            ipproto::TCP => self.tcp.get(state).map(|t| t.load(Relaxed)),
            ipproto::UDP => Some(self.udp()),
            ipproto::SCTP => crate::proto::sctp_state::DEFAULT_TIMEOUTS
                .get(state)
                .copied(),
            _ => None,
        }
    }

    /// The values GET_CONFIG reports.
    pub(crate) fn get(&self) -> TimeoutValues {
        TimeoutValues {
            tcp: self.tcp_state(TcpState::Established),
            tcp_fin: self.tcp_state(TcpState::FinWait),
            udp: self.udp(),
        }
    }

    /// Applies SET_CONFIG: zero leaves a value unchanged.
    pub(crate) fn set(&self, values: &TimeoutValues) {
        let store = |slot: Option<&Atomic<u32>>, value: u32| {
            if let (Some(slot), true) = (slot, value != 0) {
                slot.store(value, Relaxed);
            }
        };
        store(self.tcp.get(TcpState::Established.index()), values.tcp);
        store(self.tcp.get(TcpState::FinWait.index()), values.tcp_fin);
        store(Some(&self.udp), values.udp);
    }
}

/// A packet of a protocol IPVS balances, parsed once: its IP header, its protocol and what
/// the protocol read of the transport header.
#[derive(Clone, Copy)]
pub(crate) struct Packet<'a> {
    /// The IP header.
    pub(crate) iph: &'a IpHeader,
    /// The protocol's handler.
    pub(crate) proto: Proto,
    /// The transport header.
    pub(crate) l4: Transport,
}
