//! What the C ip_vs, behind the generic netlink core, answers to a request, as far as that can
//! be told from the request alone.
//!
//! This mirrors `genl_family_rcv_msg` (header length, strict header check from `resv_start_op`,
//! op lookup, `GENL_ADMIN_PERM`), `__nla_validate_parse` in its liberal mode (attributes are
//! walked like `nla_for_each_attr`, unknown types skipped, the last duplicate wins, trailing
//! garbage ignored, policy failures give `ERANGE` or `EINVAL` as `validate_nla` does) and the
//! checks of `ip_vs_genl_set_cmd`, `ip_vs_genl_parse_service`, `ip_vs_genl_parse_dest`,
//! `ip_vs_genl_set_daemon`, `ip_vs_genl_set_config`, `ip_vs_add_dest` / `ip_vs_edit_dest` and
//! the IPv6 netmask check of `ip_vs_add_service` / `ip_vs_edit_service` (Linux 7.3,
//! `net/netfilter/ipvs/ip_vs_ctl.c`). Whatever depends on the kernel's state (does the service
//! exist, is the scheduler loaded) is left open: the verdict lists every errno it could give.

use std::fmt;

use crate::attr::{walk, NLA_HDRLEN};
use crate::request::NlHeader;
use crate::uapi::*;

/// `EPERM`.
pub const EPERM: i32 = libc::EPERM;
/// `ENOENT`.
pub const ENOENT: i32 = libc::ENOENT;
/// `ESRCH`.
pub const ESRCH: i32 = libc::ESRCH;
/// `EEXIST`.
pub const EEXIST: i32 = libc::EEXIST;
/// `EINVAL`.
pub const EINVAL: i32 = libc::EINVAL;
/// `ERANGE`.
pub const ERANGE: i32 = libc::ERANGE;
/// `EOPNOTSUPP`.
pub const EOPNOTSUPP: i32 = libc::EOPNOTSUPP;
/// `EAFNOSUPPORT`.
pub const EAFNOSUPPORT: i32 = libc::EAFNOSUPPORT;

/// The answer the C implementation gives to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Certainly an error, with one of these errnos (more than one when it depends on state).
    Error(Vec<i32>),
    /// A reply message (GET_INFO, GET_CONFIG).
    Reply,
    /// A reply message or one of these errnos (GET_SERVICE of a service that may not exist).
    ReplyOrError(Vec<i32>),
    /// A dump, ended by NLMSG_DONE.
    Dump,
    /// Success or one of these errnos, and at most the counters change (ZERO).
    Harmless(Vec<i32>),
    /// The kernel may accept the request and change its configuration.
    MayChange,
}

impl Verdict {
    /// Whether the request can be sent without risking a configuration change.
    pub fn is_safe(&self) -> bool {
        !matches!(self, Verdict::MayChange)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |set: &[i32]| {
            set.iter()
                .map(|&e| crate::summary::errno_name(e))
                .collect::<Vec<_>>()
                .join("|")
        };
        match self {
            Verdict::Error(set) => write!(f, "error {}", names(set)),
            Verdict::Reply => write!(f, "reply"),
            Verdict::ReplyOrError(set) => write!(f, "reply or {}", names(set)),
            Verdict::Dump => write!(f, "dump"),
            Verdict::Harmless(set) if set.is_empty() => write!(f, "ack"),
            Verdict::Harmless(set) => write!(f, "ack or {}", names(set)),
            Verdict::MayChange => write!(f, "may change the configuration"),
        }
    }
}

/// One entry of an `nla_policy` table, reduced to what validation looks at.
#[derive(Clone, Copy, Debug)]
enum Pol {
    /// No entry (`NLA_UNSPEC`, length 0): anything goes.
    Any,
    /// `NLA_U8`.
    U8,
    /// `NLA_U16`.
    U16,
    /// `NLA_U32`.
    U32,
    /// `NLA_NUL_STRING` with this `.len`.
    NulString(usize),
    /// `NLA_BINARY` with this `.len`.
    Binary(usize),
    /// `NLA_NESTED` without a nested policy.
    Nested,
    /// `NLA_UNSPEC` with this minimum `.len`.
    MinLen(usize),
}

/// `ip_vs_cmd_policy`.
const CMD_POLICY: [Pol; CMD_ATTR_MAX as usize + 1] = [
    Pol::Any,
    Pol::Nested,
    Pol::Nested,
    Pol::Nested,
    Pol::U32,
    Pol::U32,
    Pol::U32,
];

/// `ip_vs_svc_policy` (STATS64, 12, has no entry).
const SVC_POLICY: [Pol; SVC_ATTR_MAX as usize + 1] = [
    Pol::Any,
    Pol::U16,
    Pol::U16,
    Pol::Binary(16),
    Pol::U16,
    Pol::U32,
    Pol::NulString(15),
    Pol::Binary(8),
    Pol::U32,
    Pol::U32,
    Pol::Nested,
    Pol::NulString(16),
    Pol::Any,
];

/// `ip_vs_dest_policy` (STATS64, 12, has no entry).
const DEST_POLICY: [Pol; DEST_ATTR_MAX as usize + 1] = [
    Pol::Any,
    Pol::Binary(16),
    Pol::U16,
    Pol::U32,
    Pol::U32,
    Pol::U32,
    Pol::U32,
    Pol::U32,
    Pol::U32,
    Pol::U32,
    Pol::Nested,
    Pol::U16,
    Pol::Any,
    Pol::U8,
    Pol::U16,
    Pol::U16,
];

/// `ip_vs_daemon_policy`.
const DAEMON_POLICY: [Pol; DAEMON_ATTR_MAX as usize + 1] = [
    Pol::Any,
    Pol::U32,
    Pol::NulString(15),
    Pol::U32,
    Pol::U16,
    Pol::U32,
    Pol::MinLen(16),
    Pol::U16,
    Pol::U8,
];

/// `validate_nla` for one attribute payload: `ERANGE` for most failures (its default),
/// `EINVAL` for a string without NUL.
fn validate(pol: Pol, data: &[u8]) -> Result<(), i32> {
    let len = data.len();
    let ok = match pol {
        Pol::Any => true,
        Pol::U8 => len >= 1,
        Pol::U16 => len >= 2,
        Pol::U32 => len >= 4,
        Pol::NulString(max) => {
            let minlen = len.min(max + 1);
            if minlen == 0 || !data[..minlen].contains(&0) {
                return Err(EINVAL);
            }
            let strlen = if data[len - 1] == 0 { len - 1 } else { len };
            strlen <= max
        }
        Pol::Binary(max) => len <= max,
        Pol::Nested => len == 0 || len >= NLA_HDRLEN,
        Pol::MinLen(min) => len >= min,
    };
    if ok {
        Ok(())
    } else {
        Err(ERANGE)
    }
}

/// The attributes `nla_parse` put in its table: index = type.
type Table<'a> = Vec<Option<&'a [u8]>>;

/// `__nla_parse` in liberal mode with `policy` (maxtype = its last index).
fn parse<'a>(stream: &'a [u8], policy: &[Pol]) -> Result<Table<'a>, i32> {
    let mut table = vec![None; policy.len()];
    let (attrs, _leftover) = walk(stream);
    for attr in attrs {
        let kind = usize::from(attr.kind);
        if kind == 0 || kind >= policy.len() {
            continue;
        }
        validate(policy[kind], attr.data)?;
        table[kind] = Some(attr.data);
    }
    Ok(table)
}

/// `nla_get_u8`.
fn get_u8(data: &[u8]) -> u8 {
    data.first().copied().unwrap_or(0)
}

/// `nla_get_u16` (host order).
fn get_u16(data: &[u8]) -> u16 {
    u16::from_le_bytes([get_u8(data), data.get(1).copied().unwrap_or(0)])
}

/// `nla_get_be16`, as a host value.
fn get_be16(data: &[u8]) -> u16 {
    get_u16(data).swap_bytes()
}

/// `nla_get_u32` (host order).
fn get_u32(data: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    for (dst, src) in word.iter_mut().zip(data) {
        *dst = *src;
    }
    u32::from_le_bytes(word)
}

/// The bytes of a NUL-terminated string attribute, without the NUL.
fn c_str(data: &[u8]) -> &[u8] {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    &data[..end]
}

/// `ip_vs_is_af_valid` on a kernel with IPv6.
fn af_valid(af: u16) -> bool {
    af == AF_INET || af == AF_INET6
}

/// Whether the family has an op for `cmd` (doit, or dumpit when `dump`).
fn has_op(cmd: u8, dump: bool) -> bool {
    if dump {
        matches!(cmd, CMD_GET_SERVICE | CMD_GET_DEST | CMD_GET_DAEMON)
    } else {
        matches!(
            cmd,
            CMD_NEW_SERVICE
                | CMD_SET_SERVICE
                | CMD_DEL_SERVICE
                | CMD_GET_SERVICE
                | CMD_NEW_DEST
                | CMD_SET_DEST
                | CMD_DEL_DEST
                | CMD_NEW_DAEMON
                | CMD_DEL_DAEMON
                | CMD_SET_CONFIG
                | CMD_GET_CONFIG
                | CMD_GET_INFO
                | CMD_ZERO
                | CMD_FLUSH
        )
    }
}

/// Predicts the answer to one encoded request (a whole netlink message). `privileged`: the
/// sender has CAP_NET_ADMIN.
pub fn predict(msg: &[u8], privileged: bool) -> Verdict {
    let Some(header) = NlHeader::parse(msg) else {
        return Verdict::Error(vec![EINVAL]);
    };
    let end = (header.len as usize).min(msg.len());
    let payload = msg.get(NLMSG_HDRLEN..end).unwrap_or(&[]);
    // genl_family_rcv_msg: nlmsg_len < nlmsg_msg_size(GENL_HDRLEN).
    if payload.len() < GENL_HDRLEN {
        return Verdict::Error(vec![EINVAL]);
    }
    let cmd = payload[0];
    let reserved = u16::from_le_bytes([payload[2], payload[3]]);
    let dump = header.flags & NLM_F_DUMP == NLM_F_DUMP;
    // genl_header_check: only for commands from resv_start_op on.
    if cmd >= RESV_START_OP {
        let mut flags = header.flags;
        if dump {
            flags &= !NLM_F_DUMP;
        }
        if reserved != 0 || flags & !(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO) != 0 {
            return Verdict::Error(vec![EINVAL]);
        }
    }
    if !has_op(cmd, dump) {
        return Verdict::Error(vec![EOPNOTSUPP]);
    }
    if !privileged {
        return Verdict::Error(vec![EPERM]);
    }
    if dump {
        // GENL_DONT_VALIDATE_DUMP: no parsing up front; ip_vs_genl_dump_dests turns any
        // problem into an empty dump.
        return Verdict::Dump;
    }
    let table = match parse(&payload[GENL_HDRLEN..], &CMD_POLICY) {
        Ok(table) => table,
        Err(errno) => return Verdict::Error(vec![errno]),
    };
    doit(cmd, &table)
}

/// The doit handlers, after the top-level attributes passed the policy.
fn doit(cmd: u8, table: &Table<'_>) -> Verdict {
    let service = table[usize::from(CMD_ATTR_SERVICE)];
    match cmd {
        CMD_GET_SERVICE => match parse_service(service, false) {
            Err(errno) => Verdict::Error(vec![errno]),
            Ok(_) => Verdict::ReplyOrError(vec![ESRCH]),
        },
        CMD_GET_CONFIG | CMD_GET_INFO => Verdict::Reply,
        CMD_NEW_DAEMON | CMD_DEL_DAEMON => daemon(cmd, table),
        CMD_SET_CONFIG => set_config(table),
        CMD_FLUSH => Verdict::MayChange,
        CMD_ZERO if service.is_none() => Verdict::Harmless(Vec::new()),
        _ => set_cmd(cmd, table),
    }
}

/// `ip_vs_genl_set_config` and the range checks of `ip_vs_set_timeout` that do not depend on
/// HZ (a negative `int`).
fn set_config(table: &Table<'_>) -> Verdict {
    let negative = [
        CMD_ATTR_TIMEOUT_TCP,
        CMD_ATTR_TIMEOUT_TCP_FIN,
        CMD_ATTR_TIMEOUT_UDP,
    ]
    .iter()
    .filter_map(|&kind| table[usize::from(kind)])
    .any(|data| get_u32(data) > i32::MAX as u32);
    if negative {
        Verdict::Error(vec![EINVAL])
    } else {
        Verdict::MayChange
    }
}

/// What `ip_vs_genl_parse_service` extracted.
struct Svc<'a> {
    /// The address family.
    af: u16,
    /// SCHED_NAME, when a full entry was parsed.
    sched: &'a [u8],
    /// PE_NAME, empty if absent.
    pe: &'a [u8],
    /// NETMASK as the kernel reads it (`nla_get_be32` used as a plain u32).
    netmask: u32,
}

/// `ip_vs_genl_parse_service`.
fn parse_service(nla: Option<&[u8]>, full: bool) -> Result<Svc<'_>, i32> {
    let data = nla.ok_or(EINVAL)?;
    let t = parse(data, &SVC_POLICY).map_err(|_| EINVAL)?;
    let has = |kind: u16| t[usize::from(kind)].is_some();
    let af = t[usize::from(SVC_ATTR_AF)].ok_or(EINVAL)?;
    if !(has(SVC_ATTR_FWMARK)
        || (has(SVC_ATTR_PORT) && has(SVC_ATTR_PROTOCOL) && has(SVC_ATTR_ADDR)))
    {
        return Err(EINVAL);
    }
    let af = get_u16(af);
    if !af_valid(af) {
        return Err(EAFNOSUPPORT);
    }
    let mut svc = Svc {
        af,
        sched: &[],
        pe: &[],
        netmask: 0,
    };
    if full {
        let (Some(sched), Some(_flags), Some(_timeout), Some(netmask)) = (
            t[usize::from(SVC_ATTR_SCHED_NAME)],
            t[usize::from(SVC_ATTR_FLAGS)],
            t[usize::from(SVC_ATTR_TIMEOUT)],
            t[usize::from(SVC_ATTR_NETMASK)],
        ) else {
            return Err(EINVAL);
        };
        svc.sched = c_str(sched);
        svc.pe = t[usize::from(SVC_ATTR_PE_NAME)].map_or(&[][..], c_str);
        svc.netmask = get_u32(netmask);
    }
    Ok(svc)
}

/// What `ip_vs_genl_parse_dest` extracted.
struct Dest {
    /// ADDR_FAMILY, 0 if absent.
    af: u16,
    /// FWD_METHOD & IP_VS_CONN_F_FWD_MASK.
    conn_flags: u32,
    /// WEIGHT as the kernel's `int`.
    weight: i32,
    /// U_THRESH.
    u_thresh: u32,
    /// L_THRESH.
    l_thresh: u32,
    /// TUN_TYPE, 0 if absent.
    tun_type: u8,
    /// TUN_PORT, 0 if absent.
    tun_port: u16,
}

/// `ip_vs_genl_parse_dest`.
fn parse_dest(nla: Option<&[u8]>, full: bool) -> Result<Dest, i32> {
    let data = nla.ok_or(EINVAL)?;
    let t = parse(data, &DEST_POLICY).map_err(|_| EINVAL)?;
    let get = |kind: u16| t[usize::from(kind)];
    if get(DEST_ATTR_ADDR).is_none() || get(DEST_ATTR_PORT).is_none() {
        return Err(EINVAL);
    }
    let mut dest = Dest {
        af: get(DEST_ATTR_ADDR_FAMILY).map_or(0, get_u16),
        conn_flags: 0,
        weight: 0,
        u_thresh: 0,
        l_thresh: 0,
        tun_type: 0,
        tun_port: 0,
    };
    if full {
        let (Some(fwd), Some(weight), Some(u), Some(l)) = (
            get(DEST_ATTR_FWD_METHOD),
            get(DEST_ATTR_WEIGHT),
            get(DEST_ATTR_U_THRESH),
            get(DEST_ATTR_L_THRESH),
        ) else {
            return Err(EINVAL);
        };
        dest.conn_flags = get_u32(fwd) & CONN_F_FWD_MASK;
        dest.weight = i32::from_le_bytes(get_u32(weight).to_le_bytes());
        dest.u_thresh = get_u32(u);
        dest.l_thresh = get_u32(l);
        dest.tun_type = get(DEST_ATTR_TUN_TYPE).map_or(0, get_u8);
        dest.tun_port = get(DEST_ATTR_TUN_PORT).map_or(0, get_be16);
    }
    Ok(dest)
}

/// The first check of `ip_vs_add_dest` / `ip_vs_edit_dest` that fails, if any.
fn dest_range_error(dest: &Dest) -> Option<i32> {
    if dest.weight < 0 || dest.l_thresh > dest.u_thresh {
        Some(ERANGE)
    } else if dest.u_thresh > i32::MAX as u32
        || (dest.tun_type == TUNNEL_TYPE_GUE && dest.tun_port == 0)
    {
        Some(EINVAL)
    } else {
        None
    }
}

/// `ip_vs_genl_set_cmd` for the service, destination and ZERO commands.
fn set_cmd(cmd: u8, table: &Table<'_>) -> Verdict {
    let full_svc = cmd == CMD_NEW_SERVICE || cmd == CMD_SET_SERVICE;
    let svc = match parse_service(table[usize::from(CMD_ATTR_SERVICE)], full_svc) {
        Ok(svc) => svc,
        Err(errno) => return Verdict::Error(vec![errno]),
    };
    // Unless adding, the service may be missing: ESRCH.
    let mut errs = Vec::new();
    if cmd != CMD_NEW_SERVICE {
        errs.push(ESRCH);
    }
    match cmd {
        CMD_NEW_DEST | CMD_SET_DEST | CMD_DEL_DEST => {
            let dest = match parse_dest(table[usize::from(CMD_ATTR_DEST)], cmd != CMD_DEL_DEST) {
                Ok(dest) => dest,
                Err(errno) => {
                    errs.push(errno);
                    return Verdict::Error(errs);
                }
            };
            let daf = if dest.af == 0 { svc.af } else { dest.af };
            if !af_valid(daf) {
                errs.push(EAFNOSUPPORT);
                return Verdict::Error(errs);
            }
            if daf != svc.af && cmd != CMD_DEL_DEST {
                // Mixed families: only tunnelling, and never with a sync daemon running.
                errs.push(EINVAL);
                if dest.conn_flags != CONN_F_TUNNEL {
                    return Verdict::Error(errs);
                }
            }
            if cmd != CMD_DEL_DEST {
                if let Some(errno) = dest_range_error(&dest) {
                    errs.push(errno);
                    return Verdict::Error(errs);
                }
            }
            Verdict::MayChange
        }
        CMD_NEW_SERVICE | CMD_SET_SERVICE => {
            if svc.af == AF_INET6 && !(1..=128).contains(&svc.netmask) {
                // Checked after the existence test and the scheduler and PE lookups.
                errs.push(if cmd == CMD_NEW_SERVICE {
                    EEXIST
                } else {
                    ESRCH
                });
                if svc.sched != b"none" || !svc.pe.is_empty() {
                    errs.push(ENOENT);
                }
                errs.push(EINVAL);
                errs.sort_unstable();
                errs.dedup();
                return Verdict::Error(errs);
            }
            Verdict::MayChange
        }
        CMD_ZERO => Verdict::Harmless(errs),
        _ => Verdict::MayChange,
    }
}

/// `ip_vs_genl_set_daemon` with `ip_vs_genl_new_daemon` / `ip_vs_genl_del_daemon`.
fn daemon(cmd: u8, table: &Table<'_>) -> Verdict {
    let Some(data) = table[usize::from(CMD_ATTR_DAEMON)] else {
        return Verdict::Error(vec![EINVAL]);
    };
    let Ok(t) = parse(data, &DAEMON_POLICY) else {
        return Verdict::Error(vec![EINVAL]);
    };
    let get = |kind: u16| t[usize::from(kind)];
    if get(DAEMON_ATTR_STATE).is_none() {
        return Verdict::Error(vec![EINVAL]);
    }
    if cmd == CMD_DEL_DAEMON {
        return Verdict::MayChange;
    }
    if get(DAEMON_ATTR_MCAST_IFN).is_none() || get(DAEMON_ATTR_SYNC_ID).is_none() {
        return Verdict::Error(vec![EINVAL]);
    }
    if let Some(group) = get(DAEMON_ATTR_MCAST_GROUP) {
        // ipv4_is_multicast on the big-endian address.
        if get_u8(group) & 0xf0 != 0xe0 {
            return Verdict::Error(vec![EINVAL]);
        }
    } else if let Some(group6) = get(DAEMON_ATTR_MCAST_GROUP6) {
        if get_u8(group6) != 0xff {
            return Verdict::Error(vec![EINVAL]);
        }
    }
    Verdict::MayChange
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::Attr;
    use crate::request::Request;

    fn svc_tcp() -> Vec<Attr> {
        vec![
            Attr::u16(SVC_ATTR_AF, AF_INET),
            Attr::u16(SVC_ATTR_PROTOCOL, IPPROTO_TCP),
            Attr::bytes(SVC_ATTR_ADDR, vec![10, 0, 0, 1]),
            Attr::be16(SVC_ATTR_PORT, 80),
        ]
    }

    fn full_svc() -> Vec<Attr> {
        let mut attrs = svc_tcp();
        attrs.push(Attr::string(SVC_ATTR_SCHED_NAME, "rr"));
        attrs.push(Attr::bytes(SVC_ATTR_FLAGS, vec![0; 8]));
        attrs.push(Attr::u32(SVC_ATTR_TIMEOUT, 0));
        attrs.push(Attr::u32(SVC_ATTR_NETMASK, u32::MAX));
        attrs
    }

    fn full_dest(weight: u32) -> Vec<Attr> {
        vec![
            Attr::bytes(DEST_ATTR_ADDR, vec![10, 0, 1, 1]),
            Attr::be16(DEST_ATTR_PORT, 8080),
            Attr::u32(DEST_ATTR_FWD_METHOD, 0),
            Attr::u32(DEST_ATTR_WEIGHT, weight),
            Attr::u32(DEST_ATTR_U_THRESH, 0),
            Attr::u32(DEST_ATTR_L_THRESH, 0),
        ]
    }

    fn verdict(req: &Request) -> Verdict {
        predict(&req.encode(0x20, 1), true)
    }

    #[test]
    fn valid_new_service_may_change() {
        let req = Request::new(
            CMD_NEW_SERVICE,
            NLM_F_ACK,
            vec![Attr::nest(CMD_ATTR_SERVICE, full_svc())],
        );
        assert_eq!(verdict(&req), Verdict::MayChange);
    }

    #[test]
    fn missing_af_is_einval() {
        let mut svc = full_svc();
        svc.remove(0);
        let req = Request::new(CMD_NEW_SERVICE, 0, vec![Attr::nest(CMD_ATTR_SERVICE, svc)]);
        assert_eq!(verdict(&req), Verdict::Error(vec![EINVAL]));
    }

    #[test]
    fn bad_af_is_eafnosupport() {
        let mut svc = full_svc();
        svc[0] = Attr::u16(SVC_ATTR_AF, 3);
        let req = Request::new(CMD_SET_SERVICE, 0, vec![Attr::nest(CMD_ATTR_SERVICE, svc)]);
        assert_eq!(verdict(&req), Verdict::Error(vec![EAFNOSUPPORT]));
    }

    #[test]
    fn truncated_attribute_hides_what_follows() {
        // A bad AF after a truncated attribute is never seen: the request stays valid.
        let mut svc = full_svc();
        let mut cut = Attr::u32(99, 0);
        cut.len_override = Some(2);
        svc.push(cut);
        svc.push(Attr::bytes(SVC_ATTR_ADDR, vec![0; 40]));
        let req = Request::new(CMD_NEW_SERVICE, 0, vec![Attr::nest(CMD_ATTR_SERVICE, svc)]);
        assert_eq!(verdict(&req), Verdict::MayChange);
    }

    #[test]
    fn long_addr_in_nest_is_einval_at_top_level_erange() {
        let mut svc = full_svc();
        svc.insert(0, Attr::bytes(SVC_ATTR_ADDR, vec![0; 20]));
        let req = Request::new(CMD_NEW_SERVICE, 0, vec![Attr::nest(CMD_ATTR_SERVICE, svc)]);
        assert_eq!(verdict(&req), Verdict::Error(vec![EINVAL]));
        let req = Request::new(
            CMD_SET_CONFIG,
            0,
            vec![Attr::bytes(CMD_ATTR_TIMEOUT_TCP, vec![1, 2])],
        );
        assert_eq!(verdict(&req), Verdict::Error(vec![ERANGE]));
    }

    #[test]
    fn longer_u32_is_accepted_liberally() {
        let req = Request::new(
            CMD_SET_CONFIG,
            0,
            vec![Attr::bytes(
                CMD_ATTR_TIMEOUT_TCP,
                vec![1, 0, 0, 0, 0, 0, 0, 0],
            )],
        );
        assert_eq!(verdict(&req), Verdict::MayChange);
    }

    #[test]
    fn negative_weight_is_erange_or_esrch() {
        let req = Request::new(
            CMD_NEW_DEST,
            0,
            vec![
                Attr::nest(CMD_ATTR_SERVICE, svc_tcp()),
                Attr::nest(CMD_ATTR_DEST, full_dest(0x8000_0000)),
            ],
        );
        assert_eq!(verdict(&req), Verdict::Error(vec![ESRCH, ERANGE]));
        let req = Request::new(
            CMD_NEW_DEST,
            0,
            vec![
                Attr::nest(CMD_ATTR_SERVICE, svc_tcp()),
                Attr::nest(CMD_ATTR_DEST, full_dest(5)),
            ],
        );
        assert_eq!(verdict(&req), Verdict::MayChange);
    }

    #[test]
    fn commands_without_ops() {
        for cmd in [0, CMD_GET_DEST, CMD_GET_DAEMON, CMD_SET_INFO, 18, 20] {
            let req = Request::new(cmd, NLM_F_ACK, Vec::new());
            assert_eq!(verdict(&req), Verdict::Error(vec![EOPNOTSUPP]), "cmd {cmd}");
        }
        let req = Request::new(CMD_FLUSH, NLM_F_DUMP, Vec::new());
        assert_eq!(verdict(&req), Verdict::Error(vec![EOPNOTSUPP]));
        let req = Request::new(CMD_GET_DEST, NLM_F_DUMP, Vec::new());
        assert_eq!(verdict(&req), Verdict::Dump);
    }

    #[test]
    fn strict_header_check_for_new_commands() {
        let mut req = Request::new(19, 0, Vec::new());
        req.reserved = 1;
        assert_eq!(verdict(&req), Verdict::Error(vec![EINVAL]));
        let req = Request::new(19, NLM_F_ROOT, Vec::new());
        assert_eq!(verdict(&req), Verdict::Error(vec![EINVAL]));
        // Below resv_start_op the reserved field is ignored.
        let mut req = Request::new(CMD_GET_INFO, 0, Vec::new());
        req.reserved = 7;
        assert_eq!(verdict(&req), Verdict::Reply);
    }

    #[test]
    fn short_payload_is_einval_even_unprivileged() {
        let mut req = Request::new(CMD_FLUSH, 0, Vec::new());
        req.genl_len = 0;
        assert_eq!(
            predict(&req.encode(1, 1), false),
            Verdict::Error(vec![EINVAL])
        );
        req.genl_len = 4;
        assert_eq!(
            predict(&req.encode(1, 1), false),
            Verdict::Error(vec![EPERM])
        );
        assert_eq!(predict(&req.encode(1, 1), true), Verdict::MayChange);
    }

    #[test]
    fn ipv6_netmask_zero() {
        let svc = vec![
            Attr::u16(SVC_ATTR_AF, AF_INET6),
            Attr::u32(SVC_ATTR_FWMARK, 3),
            Attr::string(SVC_ATTR_SCHED_NAME, "none"),
            Attr::bytes(SVC_ATTR_FLAGS, vec![0; 8]),
            Attr::u32(SVC_ATTR_TIMEOUT, 0),
            Attr::u32(SVC_ATTR_NETMASK, 0),
        ];
        let req = Request::new(CMD_NEW_SERVICE, 0, vec![Attr::nest(CMD_ATTR_SERVICE, svc)]);
        assert_eq!(verdict(&req), Verdict::Error(vec![EEXIST, EINVAL]));
    }

    #[test]
    fn string_rules() {
        assert_eq!(validate(Pol::NulString(15), b"rr\0"), Ok(()));
        assert_eq!(validate(Pol::NulString(15), b"rr"), Err(EINVAL));
        assert_eq!(validate(Pol::NulString(15), &[b'a'; 16]), Err(EINVAL));
        let mut long = vec![b'a'; 99];
        long.push(0);
        assert_eq!(validate(Pol::NulString(15), &long), Err(EINVAL));
        let mut sixteen = vec![b'a'; 16];
        sixteen.push(0);
        assert_eq!(validate(Pol::NulString(15), &sixteen), Err(EINVAL));
        assert_eq!(validate(Pol::NulString(16), &sixteen), Ok(()));
        assert_eq!(validate(Pol::NulString(15), &sixteen[1..]), Ok(()));
        let mut embedded = b"abc\0".to_vec();
        embedded.extend_from_slice(&[b'x'; 20]);
        embedded.push(0);
        assert_eq!(validate(Pol::NulString(15), &embedded), Err(ERANGE));
        assert_eq!(
            validate(Pol::NulString(15), b"a\0bcdefghijklmnopqrstuvwxyz"),
            Err(ERANGE)
        );
    }

    #[test]
    fn zero_without_service_is_harmless() {
        let req = Request::new(CMD_ZERO, 0, Vec::new());
        assert_eq!(verdict(&req), Verdict::Harmless(Vec::new()));
        let req = Request::new(CMD_ZERO, 0, vec![Attr::nest(CMD_ATTR_SERVICE, Vec::new())]);
        assert_eq!(verdict(&req), Verdict::Error(vec![EINVAL]));
    }
}
