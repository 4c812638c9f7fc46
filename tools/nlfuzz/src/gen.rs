//! The requests: a valid base request per command, structured mutations of it, and, for the
//! commands that write, the defects that make sure the C implementation rejects the result.
//!
//! Request `i` of seed `s` depends only on `(s, i)` and the services the kernel had when the
//! run started (see [`Known`]), so a single request can be regenerated with `--only i`.

use fastrand::Rng;

use crate::attr::{Attr, Body, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK};
use crate::model::{predict, Verdict};
use crate::request::Request;
use crate::uapi::*;

/// The identity of a service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SvcKey {
    /// A firewall-mark service.
    Fwmark {
        /// Address family.
        af: u16,
        /// The mark.
        mark: u32,
    },
    /// A protocol/address/port service.
    Tuple {
        /// Address family.
        af: u16,
        /// IP protocol.
        proto: u16,
        /// The address, zero-padded to 16 bytes.
        addr: [u8; 16],
        /// The port (host order).
        port: u16,
    },
}

/// The identity of a destination.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DestKey {
    /// Address family.
    pub af: u16,
    /// The address, zero-padded to 16 bytes.
    pub addr: [u8; 16],
    /// The port (host order).
    pub port: u16,
}

/// The services and destinations the kernel had at the start, so that requests can aim at
/// entries that exist and reach the checks behind the existence test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Services, sorted.
    pub services: Vec<SvcKey>,
    /// Destinations with their service, sorted.
    pub dests: Vec<(SvcKey, DestKey)>,
}

/// A structured mutation of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// An attribute's `nla_len` below the header size (0..=3).
    ShortLen,
    /// An attribute's `nla_len` beyond its payload (swallowing what follows, or past the end).
    LongLen,
    /// A payload of odd length, sometimes without the padding after it.
    OddLen,
    /// A payload of the wrong width (a u16 of 1 byte, a u32 of 8, ...).
    WrongWidth,
    /// An ADDR of 17 bytes up to 64 KiB.
    BigAddr,
    /// SCHED_NAME, PE_NAME or MCAST_IFN too long.
    LongString,
    /// A string attribute without its NUL.
    NoNul,
    /// A top-level nest removed.
    DropNest,
    /// A nest whose payload is not attributes.
    FlatNest,
    /// NLA_F_NESTED or NLA_F_NET_BYTEORDER toggled.
    NestFlag,
    /// Deeply nested garbage.
    DeepNest,
    /// An attribute with an unknown type number.
    UnknownAttr,
    /// An attribute twice (the kernel keeps the last).
    Duplicate,
    /// An attribute removed.
    RemoveAttr,
    /// A nest emptied.
    EmptyNest,
    /// A huge or negative WEIGHT.
    Weight,
    /// L_THRESH above U_THRESH, or huge thresholds.
    Thresholds,
    /// AF / ADDR_FAMILY of 0, 1, 3, 0xffff (or a valid one).
    AfValue,
    /// FWMARK 0 instead of protocol/address/port.
    FwmarkZero,
    /// NETMASK 0, 200, 129, ... (and IPv6).
    Netmask,
    /// PROTOCOL 0, 255, ...
    Protocol,
    /// PORT 0.
    PortZero,
    /// Tunnel type, port and flags, GUE without a port.
    TunAttrs,
    /// A sync daemon multicast group that is not multicast, or short.
    DaemonGroup,
    /// FLAGS of the wrong size or random bits.
    FlagsAttr,
    /// Top-level timeouts that are huge, negative or zero.
    Timeouts,
    /// Random bytes after the generic netlink header instead of attributes.
    RandomPayload,
    /// Random bytes after the attributes.
    RandomTail,
    /// A generic netlink version other than 1.
    BadVersion,
    /// A non-zero reserved field.
    Reserved,
    /// No (or a partial) generic netlink header.
    NoPayload,
    /// Attributes in another order.
    Shuffle,
}

impl Mutation {
    /// Every mutation.
    pub const ALL: [Mutation; 32] = [
        Mutation::ShortLen,
        Mutation::LongLen,
        Mutation::OddLen,
        Mutation::WrongWidth,
        Mutation::BigAddr,
        Mutation::LongString,
        Mutation::NoNul,
        Mutation::DropNest,
        Mutation::FlatNest,
        Mutation::NestFlag,
        Mutation::DeepNest,
        Mutation::UnknownAttr,
        Mutation::Duplicate,
        Mutation::RemoveAttr,
        Mutation::EmptyNest,
        Mutation::Weight,
        Mutation::Thresholds,
        Mutation::AfValue,
        Mutation::FwmarkZero,
        Mutation::Netmask,
        Mutation::Protocol,
        Mutation::PortZero,
        Mutation::TunAttrs,
        Mutation::DaemonGroup,
        Mutation::FlagsAttr,
        Mutation::Timeouts,
        Mutation::RandomPayload,
        Mutation::RandomTail,
        Mutation::BadVersion,
        Mutation::Reserved,
        Mutation::NoPayload,
        Mutation::Shuffle,
    ];

    /// Applies the mutation to `req`.
    pub fn apply(self, req: &mut Request, rng: &mut Rng) {
        match self {
            Mutation::ShortLen => {
                if let Some(attr) = random_attr(&mut req.attrs, rng) {
                    attr.len_override = Some(rng.u16(0..4));
                }
            }
            Mutation::LongLen => {
                if let Some(attr) = random_attr(&mut req.attrs, rng) {
                    let len = attr.true_len();
                    let long = match rng.u8(0..3) {
                        0 => len + 4,
                        1 => len + rng.usize(1..=64),
                        _ => usize::from(u16::MAX),
                    };
                    attr.len_override = Some(u16::try_from(long).unwrap_or(u16::MAX));
                }
            }
            Mutation::OddLen => {
                if let Some(data) = random_raw(&mut req.attrs, rng) {
                    if data.len() % 2 == 0 {
                        data.push(rng.u8(..));
                    } else {
                        data.pop();
                    }
                }
                if let Some(attr) = random_attr(&mut req.attrs, rng) {
                    attr.unpadded = rng.bool();
                }
            }
            Mutation::WrongWidth => {
                if let Some(data) = random_raw(&mut req.attrs, rng) {
                    let width = [0, 1, 2, 3, 5, 6, 7, 8, 12, 16, 17][rng.usize(..11)];
                    *data = random_bytes(rng, width);
                }
            }
            Mutation::BigAddr => {
                let size = [17, 20, 32, 256, 65_000, 65_531][rng.usize(..6)];
                let data = vec![rng.u8(..); size];
                let (nest, kind) = if rng.bool() {
                    (CMD_ATTR_SERVICE, SVC_ATTR_ADDR)
                } else {
                    (CMD_ATTR_DEST, DEST_ATTR_ADDR)
                };
                insert_random(nest_of(req, nest), Attr::bytes(kind, data), rng);
            }
            Mutation::LongString | Mutation::NoNul => {
                let (nest, kind) = [
                    (CMD_ATTR_SERVICE, SVC_ATTR_SCHED_NAME),
                    (CMD_ATTR_SERVICE, SVC_ATTR_PE_NAME),
                    (CMD_ATTR_DAEMON, DAEMON_ATTR_MCAST_IFN),
                ][rng.usize(..3)];
                let attr = if self == Mutation::LongString {
                    let len = [15, 16, 17, 100][rng.usize(..4)];
                    let mut data = vec![b'a'; len];
                    data.push(0);
                    Attr::bytes(kind, data)
                } else {
                    let text: &[u8] =
                        [&b"rr"[..], b"wrr", b"lo", b"xxxxxxxxxxxxxxxx"][rng.usize(..4)];
                    Attr::bytes(kind, text.to_vec())
                };
                set_attr(nest_of(req, nest), attr);
            }
            Mutation::DropNest => {
                let kind = [CMD_ATTR_SERVICE, CMD_ATTR_DEST, CMD_ATTR_DAEMON][rng.usize(..3)];
                remove_attr(&mut req.attrs, kind);
            }
            Mutation::FlatNest => {
                if let Some(attr) = random_nest(&mut req.attrs, rng) {
                    attr.body = if rng.bool() {
                        Body::Raw(rng.u32(..).to_le_bytes().to_vec())
                    } else {
                        Body::Raw(bytes_in(rng, 1..=8))
                    };
                }
            }
            Mutation::NestFlag => {
                if let Some(attr) = random_attr(&mut req.attrs, rng) {
                    attr.kind ^= if rng.bool() {
                        NLA_F_NESTED
                    } else {
                        NLA_F_NET_BYTEORDER
                    };
                }
            }
            Mutation::DeepNest => {
                let depth = rng.usize(2..=80);
                let mut attr = Attr::bytes(rng.u16(0..16), bytes_in(rng, 0..16));
                for _ in 0..depth {
                    attr = Attr::nest(rng.u16(0..16), vec![attr]);
                }
                let list = random_list(&mut req.attrs, rng);
                insert_random(list, attr, rng);
            }
            Mutation::UnknownAttr => {
                let kind = [
                    0,
                    7,
                    13,
                    16,
                    100,
                    NLA_TYPE_MASK,
                    rng.u16(..) & NLA_TYPE_MASK,
                ][rng.usize(..7)];
                let attr = Attr::bytes(kind, bytes_in(rng, 0..=24));
                let list = random_list(&mut req.attrs, rng);
                insert_random(list, attr, rng);
            }
            Mutation::Duplicate => {
                let list = random_list(&mut req.attrs, rng);
                if !list.is_empty() {
                    let mut copy = list[rng.usize(..list.len())].clone();
                    if let Body::Raw(data) = &mut copy.body {
                        if rng.bool() {
                            *data = random_bytes(rng, data.len());
                        }
                    }
                    insert_random(list, copy, rng);
                }
            }
            Mutation::RemoveAttr => {
                let list = random_list(&mut req.attrs, rng);
                if !list.is_empty() {
                    list.remove(rng.usize(..list.len()));
                }
            }
            Mutation::EmptyNest => {
                if let Some(children) =
                    random_nest(&mut req.attrs, rng).and_then(Attr::children_mut)
                {
                    children.clear();
                }
            }
            Mutation::Weight => {
                let weight = [0x8000_0000, u32::MAX, 0x7fff_ffff, 0, 65_536][rng.usize(..5)];
                set_attr(
                    nest_of(req, CMD_ATTR_DEST),
                    Attr::u32(DEST_ATTR_WEIGHT, weight),
                );
            }
            Mutation::Thresholds => {
                let (u, l) =
                    [(5, 10), (0, 1), (0x8000_0000, 0), (u32::MAX, u32::MAX)][rng.usize(..4)];
                let dest = nest_of(req, CMD_ATTR_DEST);
                set_attr(dest, Attr::u32(DEST_ATTR_U_THRESH, u));
                set_attr(dest, Attr::u32(DEST_ATTR_L_THRESH, l));
            }
            Mutation::AfValue => {
                let af = [0, 1, 3, 0xffff, AF_INET, AF_INET6][rng.usize(..6)];
                if rng.bool() {
                    set_attr(nest_of(req, CMD_ATTR_SERVICE), Attr::u16(SVC_ATTR_AF, af));
                } else {
                    set_attr(
                        nest_of(req, CMD_ATTR_DEST),
                        Attr::u16(DEST_ATTR_ADDR_FAMILY, af),
                    );
                }
            }
            Mutation::FwmarkZero => {
                let svc = nest_of(req, CMD_ATTR_SERVICE);
                if rng.bool() {
                    for kind in [SVC_ATTR_PROTOCOL, SVC_ATTR_ADDR, SVC_ATTR_PORT] {
                        remove_attr(svc, kind);
                    }
                }
                set_attr(svc, Attr::u32(SVC_ATTR_FWMARK, 0));
            }
            Mutation::Netmask => {
                let mask = [0, 200, 129, 33, 128, u32::MAX][rng.usize(..6)];
                let svc = nest_of(req, CMD_ATTR_SERVICE);
                set_attr(svc, Attr::u32(SVC_ATTR_NETMASK, mask));
                if rng.bool() {
                    set_attr(svc, Attr::u16(SVC_ATTR_AF, AF_INET6));
                }
            }
            Mutation::Protocol => {
                let proto = [0, 255, 132, 1, 0xffff][rng.usize(..5)];
                set_attr(
                    nest_of(req, CMD_ATTR_SERVICE),
                    Attr::u16(SVC_ATTR_PROTOCOL, proto),
                );
            }
            Mutation::PortZero => {
                if rng.bool() {
                    set_attr(nest_of(req, CMD_ATTR_SERVICE), Attr::be16(SVC_ATTR_PORT, 0));
                } else {
                    set_attr(nest_of(req, CMD_ATTR_DEST), Attr::be16(DEST_ATTR_PORT, 0));
                }
            }
            Mutation::TunAttrs => {
                let dest = nest_of(req, CMD_ATTR_DEST);
                set_attr(
                    dest,
                    Attr::u8(DEST_ATTR_TUN_TYPE, [1, 2, 3, 255][rng.usize(..4)]),
                );
                set_attr(
                    dest,
                    Attr::be16(DEST_ATTR_TUN_PORT, [0, 1, 6080][rng.usize(..3)]),
                );
                set_attr(dest, Attr::u16(DEST_ATTR_TUN_FLAGS, rng.u16(..)));
                if rng.bool() {
                    set_attr(dest, Attr::u32(DEST_ATTR_FWD_METHOD, CONN_F_TUNNEL));
                }
            }
            Mutation::DaemonGroup => {
                let daemon = nest_of(req, CMD_ATTR_DAEMON);
                let attr = match rng.u8(0..4) {
                    0 => Attr::bytes(DAEMON_ATTR_MCAST_GROUP, vec![10, 0, 0, 1]),
                    1 => Attr::bytes(DAEMON_ATTR_MCAST_GROUP, vec![224, 0, 0, 81]),
                    2 => Attr::bytes(DAEMON_ATTR_MCAST_GROUP6, vec![0xff, 2, 0, 0]),
                    _ => {
                        let mut addr = vec![0u8; 16];
                        addr[0] = [0xff, 0x20][rng.usize(..2)];
                        addr[15] = 1;
                        Attr::bytes(DAEMON_ATTR_MCAST_GROUP6, addr)
                    }
                };
                set_attr(daemon, attr);
            }
            Mutation::FlagsAttr => {
                let len = [0, 4, 8, 9, 16][rng.usize(..5)];
                set_attr(
                    nest_of(req, CMD_ATTR_SERVICE),
                    Attr::bytes(SVC_ATTR_FLAGS, random_bytes(rng, len)),
                );
            }
            Mutation::Timeouts => {
                let kind = [
                    CMD_ATTR_TIMEOUT_TCP,
                    CMD_ATTR_TIMEOUT_TCP_FIN,
                    CMD_ATTR_TIMEOUT_UDP,
                ][rng.usize(..3)];
                let value = [u32::MAX, 0x8000_0000, 0, 1, rng.u32(..)][rng.usize(..5)];
                set_attr(&mut req.attrs, Attr::u32(kind, value));
            }
            Mutation::RandomPayload => {
                req.attrs.clear();
                req.tail = bytes_in(rng, 1..=512);
            }
            Mutation::RandomTail => {
                req.tail = bytes_in(rng, 1..=64);
            }
            Mutation::BadVersion => {
                req.version = [0, 2, 255][rng.usize(..3)];
            }
            Mutation::Reserved => {
                req.reserved = rng.u16(1..);
            }
            Mutation::NoPayload => {
                req.genl_len = rng.usize(0..GENL_HDRLEN);
            }
            Mutation::Shuffle => {
                let list = random_list(&mut req.attrs, rng);
                rng.shuffle(list);
            }
        }
    }
}

/// A defect that the C implementation certainly rejects, added to write requests until the
/// model says the request cannot change the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    /// NLM_F_DUMP on a command without dumpit: EOPNOTSUPP.
    DumpFlag,
    /// A top-level attribute shorter than its policy (a 2-byte TIMEOUT_TCP): ERANGE.
    TopPolicy,
    /// No SERVICE attribute: EINVAL.
    NoService,
    /// SERVICE without AF: EINVAL.
    SvcNoAf,
    /// SERVICE with AF 0, 1, 3 or 0xffff: EAFNOSUPPORT.
    SvcBadAf,
    /// SERVICE with neither FWMARK nor all of PROTOCOL, ADDR, PORT: EINVAL.
    SvcNoIdentity,
    /// SERVICE with an attribute that fails the policy: EINVAL.
    SvcPolicy,
    /// NEW/SET_SERVICE without one of SCHED_NAME, FLAGS, TIMEOUT, NETMASK: EINVAL.
    SvcNotFull,
    /// NEW/SET_SERVICE for IPv6 with netmask 0 or 200: EINVAL (or EEXIST, ESRCH, ENOENT).
    SvcV6Netmask,
    /// No DEST attribute: EINVAL (or ESRCH).
    NoDest,
    /// DEST without ADDR or PORT: EINVAL (or ESRCH).
    DestNoAddr,
    /// DEST with an attribute that fails the policy: EINVAL (or ESRCH).
    DestPolicy,
    /// NEW/SET_DEST without one of FWD_METHOD, WEIGHT, U_THRESH, L_THRESH: EINVAL (or ESRCH).
    DestNotFull,
    /// NEW/SET_DEST with a negative weight: ERANGE (or ESRCH).
    DestWeight,
    /// NEW/SET_DEST with L_THRESH above U_THRESH: ERANGE (or ESRCH).
    DestThresh,
    /// DEST with ADDR_FAMILY 1, 3 or 0xffff: EAFNOSUPPORT (or ESRCH).
    DestBadAf,
    /// No DAEMON attribute: EINVAL.
    NoDaemon,
    /// DAEMON without STATE: EINVAL.
    DaemonNoState,
    /// NEW_DAEMON without MCAST_IFN or SYNC_ID: EINVAL.
    DaemonNotFull,
    /// NEW_DAEMON with a unicast MCAST_GROUP: EINVAL.
    DaemonBadGroup,
    /// DAEMON with an attribute that fails the policy: EINVAL.
    DaemonPolicy,
    /// SET_CONFIG with a timeout above INT_MAX: EINVAL.
    ConfigNegative,
}

impl Defect {
    /// The defects that can make a request for `cmd` fail.
    pub fn for_cmd(cmd: u8) -> &'static [Defect] {
        use Defect::*;
        match cmd {
            CMD_NEW_SERVICE | CMD_SET_SERVICE => &[
                DumpFlag,
                TopPolicy,
                NoService,
                SvcNoAf,
                SvcBadAf,
                SvcNoIdentity,
                SvcPolicy,
                SvcNotFull,
                SvcV6Netmask,
            ],
            CMD_DEL_SERVICE => &[
                DumpFlag,
                TopPolicy,
                NoService,
                SvcNoAf,
                SvcBadAf,
                SvcNoIdentity,
                SvcPolicy,
            ],
            CMD_NEW_DEST | CMD_SET_DEST => &[
                DumpFlag,
                TopPolicy,
                NoService,
                SvcNoAf,
                SvcBadAf,
                SvcNoIdentity,
                SvcPolicy,
                NoDest,
                DestNoAddr,
                DestPolicy,
                DestNotFull,
                DestWeight,
                DestThresh,
                DestBadAf,
            ],
            CMD_DEL_DEST => &[
                DumpFlag,
                TopPolicy,
                NoService,
                SvcNoAf,
                SvcBadAf,
                SvcNoIdentity,
                SvcPolicy,
                NoDest,
                DestNoAddr,
                DestPolicy,
                DestBadAf,
            ],
            CMD_NEW_DAEMON => &[
                DumpFlag,
                TopPolicy,
                NoDaemon,
                DaemonNoState,
                DaemonNotFull,
                DaemonBadGroup,
                DaemonPolicy,
            ],
            CMD_DEL_DAEMON => &[DumpFlag, TopPolicy, NoDaemon, DaemonNoState, DaemonPolicy],
            CMD_SET_CONFIG => &[DumpFlag, TopPolicy, ConfigNegative],
            // FLUSH takes no attributes: a FLUSH doit always flushes.
            CMD_FLUSH => &[DumpFlag],
            _ => &[DumpFlag, TopPolicy],
        }
    }

    /// Applies the defect to `req`.
    pub fn apply(self, req: &mut Request, rng: &mut Rng) {
        match self {
            Defect::DumpFlag => req.flags |= NLM_F_DUMP,
            Defect::TopPolicy => {
                let attr = if rng.bool() {
                    let kind = [
                        CMD_ATTR_TIMEOUT_TCP,
                        CMD_ATTR_TIMEOUT_TCP_FIN,
                        CMD_ATTR_TIMEOUT_UDP,
                    ][rng.usize(..3)];
                    Attr::bytes(kind, bytes_in(rng, 0..4))
                } else {
                    let kind = [CMD_ATTR_SERVICE, CMD_ATTR_DEST, CMD_ATTR_DAEMON][rng.usize(..3)];
                    Attr::bytes(kind, bytes_in(rng, 1..4))
                };
                req.attrs.insert(0, attr);
            }
            Defect::NoService => remove_attr(&mut req.attrs, CMD_ATTR_SERVICE),
            Defect::SvcNoAf => each_nest(req, CMD_ATTR_SERVICE, |svc| {
                remove_attr(svc, SVC_ATTR_AF);
            }),
            Defect::SvcBadAf => {
                let af = [0, 1, 3, 0xffff][rng.usize(..4)];
                each_nest(req, CMD_ATTR_SERVICE, |svc| {
                    set_attr(svc, Attr::u16(SVC_ATTR_AF, af))
                });
            }
            Defect::SvcNoIdentity => {
                let kind = [SVC_ATTR_PROTOCOL, SVC_ATTR_ADDR, SVC_ATTR_PORT][rng.usize(..3)];
                each_nest(req, CMD_ATTR_SERVICE, |svc| {
                    remove_attr(svc, SVC_ATTR_FWMARK);
                    remove_attr(svc, kind);
                });
            }
            Defect::SvcPolicy => {
                let bad = match rng.u8(0..12) {
                    0 => Attr::bytes(SVC_ATTR_ADDR, vec![0xab; rng.usize(17..=64)]),
                    1 => Attr::bytes(SVC_ATTR_SCHED_NAME, b"rr".to_vec()),
                    2 => Attr::string(SVC_ATTR_SCHED_NAME, &"s".repeat(99)),
                    3 => Attr::string(SVC_ATTR_PE_NAME, &"p".repeat(99)),
                    4 => Attr::u8(SVC_ATTR_AF, 2),
                    5 => Attr::u8(SVC_ATTR_PROTOCOL, 6),
                    6 => Attr::u8(SVC_ATTR_PORT, 80),
                    7 => Attr::bytes(SVC_ATTR_FWMARK, vec![1, 0, 0]),
                    8 => Attr::bytes(SVC_ATTR_TIMEOUT, vec![1, 0]),
                    9 => Attr::bytes(SVC_ATTR_NETMASK, vec![0xff; 3]),
                    10 => Attr::bytes(SVC_ATTR_FLAGS, vec![0; rng.usize(9..=16)]),
                    _ => Attr::bytes(SVC_ATTR_STATS, vec![0; rng.usize(1..4)]),
                };
                each_nest(req, CMD_ATTR_SERVICE, |svc| svc.insert(0, bad.clone()));
            }
            Defect::SvcNotFull => {
                let kind = [
                    SVC_ATTR_SCHED_NAME,
                    SVC_ATTR_FLAGS,
                    SVC_ATTR_TIMEOUT,
                    SVC_ATTR_NETMASK,
                ][rng.usize(..4)];
                each_nest(req, CMD_ATTR_SERVICE, |svc| remove_attr(svc, kind));
            }
            Defect::SvcV6Netmask => {
                let mask = [0, 200][rng.usize(..2)];
                each_nest(req, CMD_ATTR_SERVICE, |svc| {
                    set_attr(svc, Attr::u16(SVC_ATTR_AF, AF_INET6));
                    set_attr(svc, Attr::u32(SVC_ATTR_NETMASK, mask));
                });
            }
            Defect::NoDest => remove_attr(&mut req.attrs, CMD_ATTR_DEST),
            Defect::DestNoAddr => {
                let kind = [DEST_ATTR_ADDR, DEST_ATTR_PORT][rng.usize(..2)];
                each_nest(req, CMD_ATTR_DEST, |dest| remove_attr(dest, kind));
            }
            Defect::DestPolicy => {
                let bad = match rng.u8(0..7) {
                    0 => Attr::bytes(DEST_ATTR_ADDR, vec![0xcd; rng.usize(17..=64)]),
                    1 => Attr::u8(DEST_ATTR_PORT, 1),
                    2 => Attr::bytes(DEST_ATTR_WEIGHT, vec![1, 0]),
                    3 => Attr::bytes(DEST_ATTR_FWD_METHOD, vec![0; 3]),
                    4 => Attr::u8(DEST_ATTR_ADDR_FAMILY, 2),
                    5 => Attr::bytes(DEST_ATTR_TUN_TYPE, Vec::new()),
                    _ => Attr::bytes(DEST_ATTR_STATS, vec![0; 2]),
                };
                each_nest(req, CMD_ATTR_DEST, |dest| dest.insert(0, bad.clone()));
            }
            Defect::DestNotFull => {
                let kind = [
                    DEST_ATTR_FWD_METHOD,
                    DEST_ATTR_WEIGHT,
                    DEST_ATTR_U_THRESH,
                    DEST_ATTR_L_THRESH,
                ][rng.usize(..4)];
                each_nest(req, CMD_ATTR_DEST, |dest| remove_attr(dest, kind));
            }
            Defect::DestWeight => {
                let weight = [0x8000_0000, u32::MAX][rng.usize(..2)];
                each_nest(req, CMD_ATTR_DEST, |dest| {
                    set_attr(dest, Attr::u32(DEST_ATTR_WEIGHT, weight));
                });
            }
            Defect::DestThresh => each_nest(req, CMD_ATTR_DEST, |dest| {
                set_attr(dest, Attr::u32(DEST_ATTR_U_THRESH, 5));
                set_attr(dest, Attr::u32(DEST_ATTR_L_THRESH, 10));
            }),
            Defect::DestBadAf => {
                let af = [1, 3, 0xffff][rng.usize(..3)];
                each_nest(req, CMD_ATTR_DEST, |dest| {
                    set_attr(dest, Attr::u16(DEST_ATTR_ADDR_FAMILY, af));
                });
            }
            Defect::NoDaemon => remove_attr(&mut req.attrs, CMD_ATTR_DAEMON),
            Defect::DaemonNoState => each_nest(req, CMD_ATTR_DAEMON, |d| {
                remove_attr(d, DAEMON_ATTR_STATE);
            }),
            Defect::DaemonNotFull => {
                let kind = [DAEMON_ATTR_MCAST_IFN, DAEMON_ATTR_SYNC_ID][rng.usize(..2)];
                each_nest(req, CMD_ATTR_DAEMON, |d| remove_attr(d, kind));
            }
            Defect::DaemonBadGroup => each_nest(req, CMD_ATTR_DAEMON, |d| {
                set_attr(
                    d,
                    Attr::bytes(DAEMON_ATTR_MCAST_GROUP, vec![192, 168, 1, 1]),
                );
            }),
            Defect::DaemonPolicy => {
                let bad = match rng.u8(0..3) {
                    0 => Attr::bytes(DAEMON_ATTR_MCAST_IFN, b"lo".to_vec()),
                    1 => Attr::bytes(DAEMON_ATTR_STATE, vec![1, 0]),
                    _ => Attr::bytes(DAEMON_ATTR_MCAST_GROUP6, vec![0xff, 2, 0, 0]),
                };
                each_nest(req, CMD_ATTR_DAEMON, |d| d.insert(0, bad.clone()));
            }
            Defect::ConfigNegative => {
                let value = [0x8000_0000, u32::MAX][rng.usize(..2)];
                let kinds = [
                    CMD_ATTR_TIMEOUT_TCP,
                    CMD_ATTR_TIMEOUT_TCP_FIN,
                    CMD_ATTR_TIMEOUT_UDP,
                ];
                let mut any = false;
                for attr in &mut req.attrs {
                    if kinds.contains(&attr.type_id()) {
                        attr.body = Body::Raw(value.to_le_bytes().to_vec());
                        any = true;
                    }
                }
                if !any {
                    req.attrs.insert(0, Attr::u32(kinds[rng.usize(..3)], value));
                }
            }
        }
    }
}

/// One request ready to send, with how it was made and what the C implementation answers.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The request.
    pub request: Request,
    /// The mutations applied to the base request.
    pub mutations: Vec<Mutation>,
    /// The defects added to make it safe.
    pub defects: Vec<Defect>,
    /// The model's prediction.
    pub verdict: Verdict,
}

/// Makes request `i` of a run.
#[derive(Clone, Debug)]
pub struct Generator {
    /// The run's seed.
    seed: u64,
    /// What the kernel had at the start.
    known: Known,
    /// The sender has CAP_NET_ADMIN: write requests must then be certainly rejected.
    privileged: bool,
}

/// How many defects are tried before falling back to NLM_F_DUMP.
const MAX_DEFECTS: usize = 12;

impl Generator {
    /// A generator for `seed`, aiming at `known` entries.
    pub fn new(seed: u64, known: Known, privileged: bool) -> Self {
        Self {
            seed,
            known,
            privileged,
        }
    }

    /// Request `index`: `None` if it could not be made safe (never seen in practice).
    pub fn plan(&self, index: u64) -> Option<Planned> {
        let mut rng = Rng::with_seed(splitmix64(self.seed ^ splitmix64(index)));
        // One request in three takes any number 0..=20; the others a command with an op.
        let cmd = if rng.u8(0..3) == 0 {
            rng.u8(0..=CMD_FUZZ_MAX)
        } else {
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17][rng.usize(..16)]
        };
        let mut request = Request::new(cmd, self.flags(cmd, &mut rng), self.base(cmd, &mut rng));
        let count = [0, 1, 1, 2, 2, 3, 4][rng.usize(..7)];
        let mut mutations = Vec::new();
        for _ in 0..count {
            let mutation = Mutation::ALL[rng.usize(..Mutation::ALL.len())];
            mutation.apply(&mut request, &mut rng);
            mutations.push(mutation);
        }
        let mut verdict = predict(&request.encode(0, 0), self.privileged);
        let mut defects = Vec::new();
        while !verdict.is_safe() && defects.len() < MAX_DEFECTS {
            let choices = Defect::for_cmd(cmd);
            // DumpFlag is the first choice and the least interesting: take it 1 time in 8.
            let defect = if choices.len() == 1 || rng.u8(0..8) == 0 {
                choices[0]
            } else {
                choices[rng.usize(1..choices.len())]
            };
            defect.apply(&mut request, &mut rng);
            defects.push(defect);
            verdict = predict(&request.encode(0, 0), self.privileged);
        }
        if !verdict.is_safe() {
            Defect::DumpFlag.apply(&mut request, &mut rng);
            defects.push(Defect::DumpFlag);
            verdict = predict(&request.encode(0, 0), self.privileged);
        }
        verdict.is_safe().then_some(Planned {
            request,
            mutations,
            defects,
            verdict,
        })
    }

    /// The netlink flags: ACK or not, dump or not (half of the time for the commands that have
    /// a dumpit, a fifth for the others), sometimes only half of NLM_F_DUMP, ECHO or a stray
    /// bit.
    fn flags(&self, cmd: u8, rng: &mut Rng) -> u16 {
        let mut flags = NLM_F_REQUEST;
        if rng.bool() {
            flags |= NLM_F_ACK;
        }
        let dumpable = matches!(cmd, CMD_GET_SERVICE | CMD_GET_DEST | CMD_GET_DAEMON);
        match rng.u8(0..20) {
            0..=9 if dumpable => flags |= NLM_F_DUMP,
            0..=3 => flags |= NLM_F_DUMP,
            18 => flags |= NLM_F_ROOT,
            19 => flags |= NLM_F_MATCH,
            _ => {}
        }
        if rng.u8(0..30) == 0 {
            flags |= NLM_F_ECHO;
        }
        if rng.u8(0..40) == 0 {
            flags |= [0x10, 0x20, 0x400, 0x800, 0x1000][rng.usize(..5)];
        }
        flags
    }

    /// A valid request body for `cmd` (for unknown commands, that of a random known one).
    fn base(&self, cmd: u8, rng: &mut Rng) -> Vec<Attr> {
        let cmd = if cmd == 0 || cmd == CMD_SET_INFO || cmd > CMD_FLUSH {
            rng.u8(1..=CMD_FLUSH)
        } else {
            cmd
        };
        match cmd {
            CMD_NEW_SERVICE | CMD_SET_SERVICE => {
                let key = self.pick_service(rng);
                vec![Attr::nest(CMD_ATTR_SERVICE, full_service(&key, rng))]
            }
            CMD_DEL_SERVICE | CMD_GET_DEST => {
                let key = self.pick_service(rng);
                vec![Attr::nest(CMD_ATTR_SERVICE, service_identity(&key, rng))]
            }
            CMD_GET_SERVICE | CMD_ZERO => {
                if rng.u8(0..4) == 0 {
                    Vec::new()
                } else {
                    let key = self.pick_service(rng);
                    vec![Attr::nest(CMD_ATTR_SERVICE, service_identity(&key, rng))]
                }
            }
            CMD_NEW_DEST | CMD_SET_DEST | CMD_DEL_DEST => {
                let (key, dest) = self.pick_dest(rng);
                vec![
                    Attr::nest(CMD_ATTR_SERVICE, service_identity(&key, rng)),
                    Attr::nest(CMD_ATTR_DEST, dest_attrs(&dest, cmd != CMD_DEL_DEST, rng)),
                ]
            }
            CMD_NEW_DAEMON => vec![Attr::nest(CMD_ATTR_DAEMON, daemon_attrs(rng))],
            CMD_DEL_DAEMON => vec![Attr::nest(
                CMD_ATTR_DAEMON,
                vec![Attr::u32(DAEMON_ATTR_STATE, rng.u32(1..=2))],
            )],
            CMD_SET_CONFIG => vec![
                Attr::u32(CMD_ATTR_TIMEOUT_TCP, rng.u32(0..1000)),
                Attr::u32(CMD_ATTR_TIMEOUT_TCP_FIN, rng.u32(0..1000)),
                Attr::u32(CMD_ATTR_TIMEOUT_UDP, rng.u32(0..1000)),
            ],
            _ => Vec::new(),
        }
    }

    /// A known service (3 times in 4) or a random one.
    fn pick_service(&self, rng: &mut Rng) -> SvcKey {
        if !self.known.services.is_empty() && rng.u8(0..4) != 0 {
            return self.known.services[rng.usize(..self.known.services.len())].clone();
        }
        random_service(rng)
    }

    /// A known destination with its service (3 times in 4) or a random one.
    fn pick_dest(&self, rng: &mut Rng) -> (SvcKey, DestKey) {
        if !self.known.dests.is_empty() && rng.u8(0..4) != 0 {
            return self.known.dests[rng.usize(..self.known.dests.len())].clone();
        }
        let key = self.pick_service(rng);
        let af = match key {
            SvcKey::Fwmark { af, .. } | SvcKey::Tuple { af, .. } => af,
        };
        let dest = DestKey {
            af,
            addr: random_addr(af, rng),
            port: [0, 80, 8080, rng.u16(..)][rng.usize(..4)],
        };
        (key, dest)
    }
}

/// SplitMix64: spreads a seed and an index over the 64 bits.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `len` random bytes.
fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.u8(..)).collect()
}

/// A random number of random bytes, the count drawn from `range`.
fn bytes_in(rng: &mut Rng, range: impl std::ops::RangeBounds<usize>) -> Vec<u8> {
    let len = rng.usize(range);
    random_bytes(rng, len)
}

/// A random address of family `af` in the test networks, zero-padded to 16 bytes.
fn random_addr(af: u16, rng: &mut Rng) -> [u8; 16] {
    let mut addr = [0u8; 16];
    if af == AF_INET6 {
        addr[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        addr[15] = rng.u8(1..32);
    } else {
        addr[..4].copy_from_slice(&[10, 0, rng.u8(0..3), rng.u8(1..12)]);
    }
    addr
}

/// A service that probably does not exist.
fn random_service(rng: &mut Rng) -> SvcKey {
    let af = if rng.u8(0..4) == 0 { AF_INET6 } else { AF_INET };
    if rng.u8(0..4) == 0 {
        SvcKey::Fwmark {
            af,
            mark: rng.u32(1..20),
        }
    } else {
        SvcKey::Tuple {
            af,
            proto: [IPPROTO_TCP, IPPROTO_UDP, 132][rng.usize(..3)],
            addr: random_addr(af, rng),
            port: [80, 443, 53, rng.u16(..)][rng.usize(..4)],
        }
    }
}

/// An address attribute: 4 bytes or 16 for IPv4 (the kernel takes both), 16 for IPv6.
fn addr_attr(kind: u16, af: u16, addr: &[u8; 16], rng: &mut Rng) -> Attr {
    if af == AF_INET && rng.bool() {
        Attr::bytes(kind, addr[..4].to_vec())
    } else {
        Attr::bytes(kind, addr.to_vec())
    }
}

/// The identifying attributes of a service.
fn service_identity(key: &SvcKey, rng: &mut Rng) -> Vec<Attr> {
    match key {
        SvcKey::Fwmark { af, mark } => vec![
            Attr::u16(SVC_ATTR_AF, *af),
            Attr::u32(SVC_ATTR_FWMARK, *mark),
        ],
        SvcKey::Tuple {
            af,
            proto,
            addr,
            port,
        } => vec![
            Attr::u16(SVC_ATTR_AF, *af),
            Attr::u16(SVC_ATTR_PROTOCOL, *proto),
            addr_attr(SVC_ATTR_ADDR, *af, addr, rng),
            Attr::be16(SVC_ATTR_PORT, *port),
        ],
    }
}

/// A full NEW/SET_SERVICE body. Scheduler names are the four the C reference run loads, "none"
/// and names no module has, so that the C ip_vs never loads a scheduler module on the way.
fn full_service(key: &SvcKey, rng: &mut Rng) -> Vec<Attr> {
    let af = match key {
        SvcKey::Fwmark { af, .. } | SvcKey::Tuple { af, .. } => *af,
    };
    let mut attrs = service_identity(key, rng);
    let sched = ["rr", "wrr", "sh", "wlc", "none", "nosuch", ""][rng.usize(..7)];
    attrs.push(Attr::string(SVC_ATTR_SCHED_NAME, sched));
    let flags = [0u32, 1, 2, 0x8, 0x10, rng.u32(..)][rng.usize(..6)];
    let mask = [0u32, u32::MAX, rng.u32(..)][rng.usize(..3)];
    let mut flag_bytes = flags.to_le_bytes().to_vec();
    flag_bytes.extend_from_slice(&mask.to_le_bytes());
    attrs.push(Attr::bytes(SVC_ATTR_FLAGS, flag_bytes));
    attrs.push(Attr::u32(
        SVC_ATTR_TIMEOUT,
        [0, 300, rng.u32(..)][rng.usize(..3)],
    ));
    // IPv6: a prefix length in host order; IPv4: a mask in network order.
    attrs.push(if af == AF_INET6 {
        Attr::u32(SVC_ATTR_NETMASK, [128, 64][rng.usize(..2)])
    } else {
        Attr::bytes(
            SVC_ATTR_NETMASK,
            vec![0xff, 0xff, 0xff, [0xff, 0][rng.usize(..2)]],
        )
    });
    if rng.u8(0..4) == 0 {
        attrs.push(Attr::string(
            SVC_ATTR_PE_NAME,
            ["", "nosuch"][rng.usize(..2)],
        ));
    }
    attrs
}

/// A destination body; `full` adds what NEW/SET_DEST need.
fn dest_attrs(dest: &DestKey, full: bool, rng: &mut Rng) -> Vec<Attr> {
    let mut attrs = vec![
        addr_attr(DEST_ATTR_ADDR, dest.af, &dest.addr, rng),
        Attr::be16(DEST_ATTR_PORT, dest.port),
    ];
    if rng.bool() {
        attrs.push(Attr::u16(
            DEST_ATTR_ADDR_FAMILY,
            [0, dest.af][rng.usize(..2)],
        ));
    }
    if full {
        let u = [0, 100, 1000][rng.usize(..3)];
        attrs.push(Attr::u32(DEST_ATTR_FWD_METHOD, rng.u32(0..=3)));
        attrs.push(Attr::u32(DEST_ATTR_WEIGHT, rng.u32(0..=10)));
        attrs.push(Attr::u32(DEST_ATTR_U_THRESH, u));
        attrs.push(Attr::u32(
            DEST_ATTR_L_THRESH,
            if u == 0 { 0 } else { rng.u32(0..=u) },
        ));
        if rng.u8(0..4) == 0 {
            attrs.push(Attr::u8(DEST_ATTR_TUN_TYPE, rng.u8(0..=2)));
            attrs.push(Attr::be16(DEST_ATTR_TUN_PORT, 6080));
        }
    }
    attrs
}

/// A full NEW_DAEMON body.
fn daemon_attrs(rng: &mut Rng) -> Vec<Attr> {
    let mut attrs = vec![
        Attr::u32(DAEMON_ATTR_STATE, rng.u32(1..=2)),
        Attr::string(DAEMON_ATTR_MCAST_IFN, "lo"),
        Attr::u32(DAEMON_ATTR_SYNC_ID, rng.u32(0..256)),
    ];
    if rng.bool() {
        attrs.push(Attr::u16(DAEMON_ATTR_SYNC_MAXLEN, 1472));
        attrs.push(Attr::bytes(DAEMON_ATTR_MCAST_GROUP, vec![224, 0, 0, 81]));
        attrs.push(Attr::u16(DAEMON_ATTR_MCAST_PORT, 8848));
        attrs.push(Attr::u8(DAEMON_ATTR_MCAST_TTL, 1));
    }
    attrs
}

/// Every attribute's path (indices from the top level down).
fn paths(attrs: &[Attr]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for (i, attr) in attrs.iter().enumerate() {
        out.push(vec![i]);
        if let Body::Nest(children) = &attr.body {
            for mut sub in paths(children) {
                sub.insert(0, i);
                out.push(sub);
            }
        }
    }
    out
}

/// The attribute at `path`.
fn at_path<'a>(attrs: &'a mut [Attr], path: &[usize]) -> Option<&'a mut Attr> {
    let (first, rest) = path.split_first()?;
    let attr = attrs.get_mut(*first)?;
    if rest.is_empty() {
        return Some(attr);
    }
    match &mut attr.body {
        Body::Nest(children) => at_path(children, rest),
        Body::Raw(_) => None,
    }
}

/// A random attribute anywhere in the tree.
fn random_attr<'a>(attrs: &'a mut [Attr], rng: &mut Rng) -> Option<&'a mut Attr> {
    let all = paths(attrs);
    if all.is_empty() {
        return None;
    }
    at_path(attrs, &all[rng.usize(..all.len())])
}

/// The payload of a random non-nested attribute.
fn random_raw<'a>(attrs: &'a mut [Attr], rng: &mut Rng) -> Option<&'a mut Vec<u8>> {
    let raw: Vec<Vec<usize>> = paths(attrs)
        .into_iter()
        .filter(|p| matches!(at_path(attrs, p).map(|a| &a.body), Some(Body::Raw(_))))
        .collect();
    if raw.is_empty() {
        return None;
    }
    match &mut at_path(attrs, &raw[rng.usize(..raw.len())])?.body {
        Body::Raw(data) => Some(data),
        Body::Nest(_) => None,
    }
}

/// A random nested attribute.
fn random_nest<'a>(attrs: &'a mut [Attr], rng: &mut Rng) -> Option<&'a mut Attr> {
    let nests: Vec<Vec<usize>> = paths(attrs)
        .into_iter()
        .filter(|p| matches!(at_path(attrs, p).map(|a| &a.body), Some(Body::Nest(_))))
        .collect();
    if nests.is_empty() {
        return None;
    }
    at_path(attrs, &nests[rng.usize(..nests.len())])
}

/// A random attribute list: the top level or the children of a nest.
fn random_list<'a>(attrs: &'a mut Vec<Attr>, rng: &mut Rng) -> &'a mut Vec<Attr> {
    let nests: Vec<Vec<usize>> = paths(attrs)
        .into_iter()
        .filter(|p| matches!(at_path(attrs, p).map(|a| &a.body), Some(Body::Nest(_))))
        .collect();
    if nests.is_empty() || rng.u8(0..3) == 0 {
        return attrs;
    }
    let path = nests[rng.usize(..nests.len())].clone();
    // Walk down again so that the borrow of `attrs` is the one returned.
    let mut list = attrs;
    for &i in &path {
        match list.get_mut(i).map(|a| &mut a.body) {
            Some(Body::Nest(children)) => list = children,
            _ => unreachable!("path leads through nests"),
        }
    }
    list
}

/// Inserts `attr` at a random position of `list`.
fn insert_random(list: &mut Vec<Attr>, attr: Attr, rng: &mut Rng) {
    let at = rng.usize(..=list.len());
    list.insert(at, attr);
}

/// The children of the first top-level nest of type `kind`, added if there is none.
fn nest_of(req: &mut Request, kind: u16) -> &mut Vec<Attr> {
    let index = req
        .attrs
        .iter()
        .position(|a| a.type_id() == kind && matches!(a.body, Body::Nest(_)));
    let index = index.unwrap_or_else(|| {
        req.attrs.push(Attr::nest(kind, Vec::new()));
        req.attrs.len() - 1
    });
    match &mut req.attrs[index].body {
        Body::Nest(children) => children,
        Body::Raw(_) => unreachable!("index points at a nest"),
    }
}

/// Runs `f` on the children of every top-level nest of type `kind`.
fn each_nest(req: &mut Request, kind: u16, mut f: impl FnMut(&mut Vec<Attr>)) {
    for attr in req.attrs.iter_mut().filter(|a| a.type_id() == kind) {
        if let Body::Nest(children) = &mut attr.body {
            f(children);
        }
    }
}

/// Replaces every attribute of `attr`'s type in `list` by `attr` (at the first one's place), or
/// appends it.
fn set_attr(list: &mut Vec<Attr>, attr: Attr) {
    let kind = attr.type_id();
    match list.iter().position(|a| a.type_id() == kind) {
        Some(first) => {
            list[first] = attr;
            let mut i = 0;
            list.retain(|a| {
                i += 1;
                i - 1 == first || a.type_id() != kind
            });
        }
        None => list.push(attr),
    }
}

/// Removes every attribute of type `kind` from `list`.
fn remove_attr(list: &mut Vec<Attr>, kind: u16) {
    list.retain(|a| a.type_id() != kind);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::walk;
    use crate::model::{EAFNOSUPPORT, EINVAL, ERANGE, ESRCH};

    fn known() -> Known {
        let svc = SvcKey::Tuple {
            af: AF_INET,
            proto: IPPROTO_TCP,
            addr: random_addr(AF_INET, &mut Rng::with_seed(1)),
            port: 80,
        };
        let dest = DestKey {
            af: AF_INET,
            addr: [10, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            port: 8080,
        };
        Known {
            services: vec![svc.clone()],
            dests: vec![(svc, dest)],
        }
    }

    #[test]
    fn same_seed_same_requests() {
        let a = Generator::new(1, known(), true);
        let b = Generator::new(1, known(), true);
        for i in 0..300 {
            let pa = a.plan(i).expect("plan");
            let pb = b.plan(i).expect("plan");
            assert_eq!(
                pa.request.encode(5, 9),
                pb.request.encode(5, 9),
                "request {i}"
            );
        }
    }

    #[test]
    fn other_seed_other_requests() {
        let a = Generator::new(1, known(), true);
        let b = Generator::new(2, known(), true);
        let same = (0..100)
            .filter(|&i| {
                a.plan(i).map(|p| p.request.encode(5, 9))
                    == b.plan(i).map(|p| p.request.encode(5, 9))
            })
            .count();
        assert!(same < 10, "{same} of 100 identical");
    }

    #[test]
    fn writes_are_always_rejected_when_privileged() {
        let gen = Generator::new(7, known(), true);
        for i in 0..5000 {
            let plan = gen.plan(i).expect("every request can be made safe");
            assert!(plan.verdict.is_safe(), "request {i}: {:?}", plan.verdict);
            let writes = [
                CMD_NEW_SERVICE,
                CMD_SET_SERVICE,
                CMD_DEL_SERVICE,
                CMD_NEW_DEST,
                CMD_SET_DEST,
                CMD_DEL_DEST,
                CMD_NEW_DAEMON,
                CMD_DEL_DAEMON,
                CMD_SET_CONFIG,
                CMD_FLUSH,
            ];
            if writes.contains(&plan.request.cmd) {
                assert!(
                    matches!(plan.verdict, Verdict::Error(_)),
                    "request {i}: {:?}",
                    plan.verdict
                );
            }
        }
    }

    #[test]
    fn every_command_with_and_without_dump_and_ack() {
        // The seeds the guest selftest runs, at its default count.
        for seed in [1, 2] {
            let gen = Generator::new(seed, known(), true);
            let mut seen = std::collections::BTreeSet::new();
            for i in 0..5000 {
                let req = gen.plan(i).expect("plan").request;
                seen.insert((
                    req.cmd,
                    req.flags & NLM_F_DUMP == NLM_F_DUMP,
                    req.flags & NLM_F_ACK != 0,
                ));
            }
            for cmd in 0..=CMD_FUZZ_MAX {
                for dump in [false, true] {
                    for ack in [false, true] {
                        assert!(
                            seen.contains(&(cmd, dump, ack)),
                            "seed {seed} cmd {cmd} dump {dump} ack {ack}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unprivileged_run_sends_valid_writes_unchanged() {
        let gen = Generator::new(3, known(), false);
        let flushes = (0..2000)
            .filter_map(|i| gen.plan(i))
            .filter(|p| p.request.cmd == CMD_FLUSH && p.request.flags & NLM_F_DUMP != NLM_F_DUMP)
            .count();
        assert!(flushes > 0);
        assert!((0..500).all(|i| gen.plan(i).is_some_and(|p| p.defects.is_empty())));
    }

    fn base_request(cmd: u8) -> Request {
        let gen = Generator::new(1, known(), true);
        let mut rng = Rng::with_seed(4);
        Request::new(cmd, NLM_F_ACK, gen.base(cmd, &mut rng))
    }

    #[test]
    fn short_len_mutation_writes_a_length_below_the_header() {
        let mut rng = Rng::with_seed(1);
        let mut req = Request::new(CMD_SET_CONFIG, 0, vec![Attr::u32(CMD_ATTR_TIMEOUT_TCP, 5)]);
        Mutation::ShortLen.apply(&mut req, &mut rng);
        let msg = req.encode(1, 1);
        let nla_len = u16::from_le_bytes([msg[20], msg[21]]);
        assert!(nla_len < 4, "nla_len {nla_len}");
        assert!(walk(&msg[20..]).0.is_empty());
    }

    #[test]
    fn long_len_mutation_overruns_the_payload() {
        let mut rng = Rng::with_seed(2);
        let mut req = base_request(CMD_DEL_SERVICE);
        Mutation::LongLen.apply(&mut req, &mut rng);
        let overrun = paths(&req.attrs).iter().any(|p| {
            let mut attrs = req.attrs.clone();
            let attr = at_path(&mut attrs, p).expect("path");
            attr.len_override
                .is_some_and(|l| usize::from(l) > attr.true_len())
        });
        assert!(overrun);
    }

    #[test]
    fn big_addr_is_oversized() {
        for seed in 0..20 {
            let mut rng = Rng::with_seed(seed);
            let mut req = base_request(CMD_NEW_DEST);
            Mutation::BigAddr.apply(&mut req, &mut rng);
            let biggest = paths(&req.attrs)
                .iter()
                .filter_map(|p| {
                    let mut attrs = req.attrs.clone();
                    let attr = at_path(&mut attrs, p)?.clone();
                    matches!(attr.body, Body::Raw(_)).then(|| attr.payload_len())
                })
                .max()
                .unwrap_or(0);
            assert!(biggest > 16, "seed {seed}");
        }
    }

    #[test]
    fn no_nul_mutation_drops_the_terminator() {
        let mut rng = Rng::with_seed(5);
        let mut req = base_request(CMD_NEW_SERVICE);
        Mutation::NoNul.apply(&mut req, &mut rng);
        let unterminated = req.attrs.iter().any(|top| match &top.body {
            Body::Nest(children) => children.iter().any(|a| {
                matches!(
                    a.type_id(),
                    SVC_ATTR_SCHED_NAME | SVC_ATTR_PE_NAME | DAEMON_ATTR_MCAST_IFN
                ) && matches!(&a.body, Body::Raw(d) if !d.contains(&0))
            }),
            Body::Raw(_) => false,
        });
        assert!(unterminated);
    }

    #[test]
    fn each_defect_makes_its_commands_fail() {
        let writes = [
            CMD_NEW_SERVICE,
            CMD_SET_SERVICE,
            CMD_DEL_SERVICE,
            CMD_NEW_DEST,
            CMD_SET_DEST,
            CMD_DEL_DEST,
            CMD_NEW_DAEMON,
            CMD_DEL_DAEMON,
            CMD_SET_CONFIG,
            CMD_FLUSH,
        ];
        for cmd in writes {
            for &defect in Defect::for_cmd(cmd) {
                for seed in 0..8 {
                    let mut req = base_request(cmd);
                    let mut rng = Rng::with_seed(seed);
                    defect.apply(&mut req, &mut rng);
                    let verdict = predict(&req.encode(1, 1), true);
                    assert!(
                        matches!(verdict, Verdict::Error(_)),
                        "cmd {cmd} {defect:?} seed {seed}: {verdict:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn defects_give_the_documented_errno() {
        let mut rng = Rng::with_seed(1);
        let mut req = base_request(CMD_NEW_SERVICE);
        Defect::SvcBadAf.apply(&mut req, &mut rng);
        assert_eq!(
            predict(&req.encode(1, 1), true),
            Verdict::Error(vec![EAFNOSUPPORT])
        );
        let mut req = base_request(CMD_NEW_DEST);
        Defect::DestWeight.apply(&mut req, &mut rng);
        assert_eq!(
            predict(&req.encode(1, 1), true),
            Verdict::Error(vec![ESRCH, ERANGE])
        );
        let mut req = base_request(CMD_DEL_SERVICE);
        Defect::SvcNoAf.apply(&mut req, &mut rng);
        assert_eq!(
            predict(&req.encode(1, 1), true),
            Verdict::Error(vec![EINVAL])
        );
    }

    #[test]
    fn set_attr_keeps_one() {
        let mut list = vec![Attr::u16(1, 1), Attr::u16(2, 2), Attr::u16(1, 3)];
        set_attr(&mut list, Attr::u16(1, 9));
        assert_eq!(list, vec![Attr::u16(1, 9), Attr::u16(2, 2)]);
    }
}
