//! The netlink side: family resolution, request framing, reply collection and IPVS queries.

use std::fmt::Debug;

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkBuffer, NetlinkMessage, NetlinkPayload, ParseableParametrized,
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::protocols::NETLINK_GENERIC;
use netlink_sys::{Socket, SocketAddr};

use crate::action::Action;
use crate::config::{Info, Timeouts};
use crate::daemon::{self, Daemon, SyncState};
use crate::dest::Dest;
use crate::error::{Error, Op};
use crate::message::{IpvsCmd, IpvsMessage, IPVS_GENL_NAME};
use crate::service::{Service, ServiceKey};

/// `ENOENT`: what CTRL_CMD_GETFAMILY answers for an unknown family.
const ENOENT: i32 = 2;

/// Flags of a doit request: the kernel answers with its reply (if any) and then an ACK.
pub const DOIT_FLAGS: u16 = NLM_F_REQUEST | NLM_F_ACK;
/// Flags of a dump request: the kernel answers with NLM_F_MULTI parts and NLMSG_DONE.
pub const DUMP_FLAGS: u16 = NLM_F_REQUEST | NLM_F_DUMP;

/// Frames a generic netlink request: netlink header, genl header, attributes.
pub fn encode_request<F>(payload: F, family_id: u16, flags: u16, seq: u32) -> Vec<u8>
where
    F: GenlFamily + Emitable + Debug,
{
    let mut genl = GenlMessage::from_payload(payload);
    genl.set_resolved_family_id(family_id);
    let mut msg = NetlinkMessage::from(genl);
    msg.header.flags = flags;
    msg.header.sequence_number = seq;
    msg.finalize();
    let mut buf = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// Why reading replies stopped early.
#[derive(Debug)]
pub enum ReplyError {
    /// The kernel answered with this (positive) errno.
    Errno(i32),
    /// A reply did not parse.
    Decode(DecodeError),
    /// The socket failed.
    Io(std::io::Error),
}

impl From<DecodeError> for ReplyError {
    fn from(err: DecodeError) -> Self {
        Self::Decode(err)
    }
}

/// Reads the netlink messages of one datagram that answer request `seq`, appending their
/// payloads to `out`. Returns `Ok(true)` once the answer is complete: an ACK (NLMSG_ERROR with
/// code 0) for a doit, NLMSG_DONE for a dump.
pub fn decode_replies<F>(datagram: &[u8], seq: u32, out: &mut Vec<F>) -> Result<bool, ReplyError>
where
    F: ParseableParametrized<[u8], GenlHeader> + Debug,
{
    let mut offset = 0;
    while offset < datagram.len() {
        let rest = &datagram[offset..];
        let len = NetlinkBuffer::new_checked(rest)?.length() as usize;
        let msg = NetlinkMessage::<GenlMessage<F>>::deserialize(&rest[..len])?;
        // Messages are padded to 4 bytes.
        offset += (len + 3) & !3;
        if msg.header.sequence_number != seq {
            continue;
        }
        match msg.payload {
            NetlinkPayload::InnerMessage(genl) => out.push(genl.payload),
            NetlinkPayload::Error(err) => {
                return match err.code {
                    None => Ok(true),
                    Some(code) => Err(ReplyError::Errno(code.get().saturating_abs())),
                }
            }
            NetlinkPayload::Done(done) => {
                return match done.code {
                    0 => Ok(true),
                    code => Err(ReplyError::Errno(code.saturating_abs())),
                }
            }
            NetlinkPayload::Overrun(_) => {
                return Err(ReplyError::Decode(DecodeError::from(
                    "netlink overrun: reply lost",
                )))
            }
            _ => {}
        }
    }
    Ok(false)
}

/// CTRL_CMD_GETFAMILY for "IPVS".
pub fn family_request() -> GenlCtrl {
    GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_string())],
    }
}

/// The family id in CTRL_CMD_NEWFAMILY replies.
pub fn family_id_of(replies: &[GenlCtrl]) -> Option<u16> {
    replies
        .iter()
        .flat_map(|reply| reply.nlas.iter())
        .find_map(|nla| match nla {
            GenlCtrlAttrs::FamilyId(id) => Some(*id),
            _ => None,
        })
}

/// A connected generic netlink socket with the IPVS family resolved.
pub struct IpvsHandle {
    /// The socket.
    socket: Socket,
    /// The id of the "IPVS" family.
    family_id: u16,
    /// The last sequence number used.
    seq: u32,
}

impl IpvsHandle {
    /// Opens a socket and resolves "IPVS" with CTRL_CMD_GETFAMILY.
    pub fn connect() -> Result<Self, Error> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        let mut handle = Self {
            socket,
            family_id: 0,
            seq: 0,
        };
        let replies = match handle.exchange(family_request(), 0, DOIT_FLAGS) {
            Err(ReplyError::Errno(ENOENT)) => return Err(Error::FamilyNotFound),
            Err(ReplyError::Errno(errno)) => {
                return Err(std::io::Error::from_raw_os_error(errno).into())
            }
            Err(ReplyError::Decode(err)) => return Err(Error::Decode(err)),
            Err(ReplyError::Io(err)) => return Err(Error::Io(err)),
            Ok(replies) => replies,
        };
        handle.family_id = family_id_of(&replies).ok_or(Error::FamilyNotFound)?;
        Ok(handle)
    }

    /// Sends one request and collects the payloads of its replies.
    fn exchange<F>(&mut self, payload: F, family_id: u16, flags: u16) -> Result<Vec<F>, ReplyError>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let request = encode_request(payload, family_id, flags, self.seq);
        self.socket.send(&request, 0).map_err(ReplyError::Io)?;
        let mut out = Vec::new();
        loop {
            let (datagram, _) = self.socket.recv_from_full().map_err(ReplyError::Io)?;
            if decode_replies(&datagram, self.seq, &mut out)? {
                return Ok(out);
            }
        }
    }

    /// Sends an IPVS request, mapping failures to [`Error`].
    fn request(&mut self, msg: IpvsMessage, flags: u16, op: Op) -> Result<Vec<IpvsMessage>, Error> {
        match self.exchange(msg, self.family_id, flags) {
            Ok(replies) => Ok(replies),
            Err(ReplyError::Errno(errno)) => Err(Error::Kernel { op, errno }),
            Err(ReplyError::Decode(err)) => Err(Error::Decode(err)),
            Err(ReplyError::Io(err)) => Err(Error::Io(err)),
        }
    }

    /// Carries out one change; success is the kernel's ACK.
    pub fn apply(&mut self, action: &Action) -> Result<(), Error> {
        let (msg, op) = action.request();
        self.request(msg, DOIT_FLAGS, op).map(|_| ())
    }

    /// GET_INFO: version and connection table size.
    pub fn info(&mut self) -> Result<Info, Error> {
        let replies = self.request(IpvsMessage::bare(IpvsCmd::GetInfo), DOIT_FLAGS, Op::GetInfo)?;
        let reply = replies
            .first()
            .ok_or(DecodeError::from("GET_INFO got no reply"))?;
        Ok(Info::from_message(reply)?)
    }

    /// GET_CONFIG: the connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let replies = self.request(
            IpvsMessage::bare(IpvsCmd::GetConfig),
            DOIT_FLAGS,
            Op::GetTimeout,
        )?;
        let reply = replies
            .first()
            .ok_or(DecodeError::from("GET_CONFIG got no reply"))?;
        Ok(Timeouts::from_message(reply))
    }

    /// GET_SERVICE dump: every service.
    pub fn services(&mut self) -> Result<Vec<Service>, Error> {
        let replies = self.request(IpvsMessage::bare(IpvsCmd::GetService), DUMP_FLAGS, Op::List)?;
        replies.iter().map(service_of).collect()
    }

    /// GET_SERVICE doit: one service.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        let msg = IpvsMessage::with_service(IpvsCmd::GetService, key.to_nlas());
        let replies = self.request(msg, DOIT_FLAGS, Op::GetService)?;
        let reply = replies
            .first()
            .ok_or(DecodeError::from("GET_SERVICE got no reply"))?;
        service_of(reply)
    }

    /// GET_DEST dump: the destinations of one service (none if it does not exist).
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>, Error> {
        let replies = self.request(get_dests_request(key), DUMP_FLAGS, Op::List)?;
        replies
            .iter()
            .map(|reply| {
                let nlas = reply.dest_nlas().ok_or(DecodeError::from(
                    "GET_DEST reply without IPVS_CMD_ATTR_DEST",
                ))?;
                Ok(Dest::from_nlas(nlas, key.family())?)
            })
            .collect()
    }

    /// NEW_DAEMON: starts a sync daemon.
    pub fn start_daemon(&mut self, daemon: &Daemon) -> Result<(), Error> {
        self.request(daemon.start_request(), DOIT_FLAGS, Op::StartDaemon)
            .map(|_| ())
    }

    /// DEL_DAEMON: stops the master or the backup daemon.
    pub fn stop_daemon(&mut self, state: SyncState) -> Result<(), Error> {
        self.request(daemon::stop_request(state), DOIT_FLAGS, Op::StopDaemon)
            .map(|_| ())
    }

    /// GET_DAEMON dump: the running daemons, in the kernel's order (master first).
    pub fn daemons(&mut self) -> Result<Vec<Daemon>, Error> {
        let replies = self.request(daemon::list_request(), DUMP_FLAGS, Op::ListDaemon)?;
        replies.iter().map(daemon_of).collect()
    }
}

/// The daemon of a GET_DAEMON reply (command NEW_DAEMON).
pub fn daemon_of(reply: &IpvsMessage) -> Result<Daemon, Error> {
    let nlas = reply.daemon_nlas().ok_or(DecodeError::from(
        "GET_DAEMON reply without IPVS_CMD_ATTR_DAEMON",
    ))?;
    Ok(Daemon::from_nlas(nlas)?)
}

/// The GET_DEST dump request for a service: a nested SERVICE with its identifying attributes.
pub fn get_dests_request(key: &ServiceKey) -> IpvsMessage {
    IpvsMessage::with_service(IpvsCmd::GetDest, key.to_nlas())
}

/// The service of a NEW_SERVICE reply.
fn service_of(reply: &IpvsMessage) -> Result<Service, Error> {
    let nlas = reply.service_nlas().ok_or(DecodeError::from(
        "GET_SERVICE reply without IPVS_CMD_ATTR_SERVICE",
    ))?;
    Ok(Service::from_nlas(nlas)?)
}
