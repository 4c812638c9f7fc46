//! The generic netlink socket: family resolution, discovery of the configured services, and
//! one request at a time with its answer.
//!
//! After each request the fuzzer sends an `NLMSG_NOOP` with `NLM_F_ACK` (the netlink core
//! acknowledges it without involving any family). Its ACK marks the end of everything a doit
//! can answer, so requests that succeed silently (no `NLM_F_ACK`) cost no timeout. For a dump
//! the answer ends with NLMSG_DONE or an error, which may come after the probe's ACK.

use std::io;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::GenlMessage;
use netlink_sys::protocols::NETLINK_GENERIC;
use netlink_sys::{Socket, SocketAddr};

use crate::attr::{walk, Attr};
use crate::gen::{DestKey, Known, SvcKey};
use crate::request::{split_messages, NlHeader, Request};
use crate::summary::Outcome;
use crate::uapi::*;

/// The receive buffer asked for: dumps and errors of 64 KiB requests fit many times.
const RCVBUF: usize = 4 << 20;
/// The largest datagram read (the kernel's dump skbs are far smaller).
const DATAGRAM_MAX: usize = 256 << 10;

/// A generic netlink socket with the IPVS family resolved.
pub struct Conn {
    /// The socket.
    socket: Socket,
    /// The family id of "IPVS".
    family: u16,
    /// The next sequence number (requests take odd ones, their probes the next even one).
    seq: u32,
    /// The receive buffer.
    buf: Vec<u8>,
}

/// Why opening failed.
#[derive(Debug)]
pub enum OpenError {
    /// CTRL_CMD_GETFAMILY does not know "IPVS".
    FamilyMissing,
    /// The socket failed.
    Socket(anyhow::Error),
}

impl Conn {
    /// Opens the socket, sets the receive timeout, and resolves the "IPVS" family.
    pub fn open(timeout: Duration) -> Result<Self, OpenError> {
        let socket = Self::socket(timeout).map_err(OpenError::Socket)?;
        let mut conn = Self {
            socket,
            family: 0,
            seq: 1,
            buf: Vec::with_capacity(DATAGRAM_MAX),
        };
        conn.family = conn.resolve()?;
        Ok(conn)
    }

    /// A bound and connected NETLINK_GENERIC socket with short error messages (NETLINK_CAP_ACK)
    /// and a receive timeout.
    fn socket(timeout: Duration) -> anyhow::Result<Socket> {
        let mut socket = Socket::new(NETLINK_GENERIC).context("socket(NETLINK_GENERIC)")?;
        socket.bind_auto().context("bind")?;
        socket.connect(&SocketAddr::new(0, 0)).context("connect")?;
        socket.set_cap_ack(true).context("NETLINK_CAP_ACK")?;
        // Best effort: the kernel caps it at rmem_max.
        let _ = socket.set_rx_buf_sz(RCVBUF);
        set_rcvtimeo(&socket, timeout).context("SO_RCVTIMEO")?;
        Ok(socket)
    }

    /// CTRL_CMD_GETFAMILY "IPVS".
    fn resolve(&mut self) -> Result<u16, OpenError> {
        let mut genl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_string())],
        });
        genl.finalize();
        let mut msg = NetlinkMessage::from(genl);
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        msg.header.sequence_number = self.seq;
        msg.finalize();
        let mut bytes = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut bytes);
        let seq = self.seq;
        self.seq += 2;
        self.socket
            .send(&bytes, 0)
            .map_err(|e| OpenError::Socket(anyhow!(e).context("send CTRL_CMD_GETFAMILY")))?;
        loop {
            let datagram = self
                .recv()
                .map_err(|e| OpenError::Socket(anyhow!(e).context("CTRL_CMD_GETFAMILY reply")))?;
            let mut offset = 0;
            while let Some(header) = datagram.get(offset..).and_then(NlHeader::parse) {
                let len = header.len as usize;
                if len < NLMSG_HDRLEN || offset + len > datagram.len() {
                    break;
                }
                let part = &datagram[offset..offset + len];
                offset += crate::attr::align4(len);
                if header.seq != seq {
                    continue;
                }
                let parsed = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(part)
                    .map_err(|e| OpenError::Socket(anyhow!("bad CTRL reply: {e}")))?;
                match parsed.payload {
                    NetlinkPayload::InnerMessage(reply) => {
                        let id = reply.payload.nlas.iter().find_map(|nla| match nla {
                            GenlCtrlAttrs::FamilyId(id) => Some(*id),
                            _ => None,
                        });
                        if let Some(id) = id {
                            return Ok(id);
                        }
                    }
                    NetlinkPayload::Error(err) => {
                        return Err(match err.code {
                            Some(code) if code.get() == -libc::ENOENT => OpenError::FamilyMissing,
                            Some(code) => OpenError::Socket(anyhow!(
                                "CTRL_CMD_GETFAMILY: {}",
                                io::Error::from_raw_os_error(-code.get())
                            )),
                            None => OpenError::FamilyMissing,
                        })
                    }
                    _ => {}
                }
            }
        }
    }

    /// The family id of "IPVS".
    pub fn family(&self) -> u16 {
        self.family
    }

    /// Reads one datagram.
    fn recv(&mut self) -> io::Result<Vec<u8>> {
        self.buf.clear();
        let len = self.socket.recv(&mut self.buf, 0)?;
        self.buf.truncate(len.min(self.buf.len()));
        Ok(self.buf.clone())
    }

    /// Sends the `NLMSG_NOOP` probe with sequence number `seq`.
    fn send_probe(&self, seq: u32) -> io::Result<()> {
        let mut probe = vec![0u8; NLMSG_HDRLEN];
        probe[0..4].copy_from_slice(&(NLMSG_HDRLEN as u32).to_le_bytes());
        probe[4..6].copy_from_slice(&NLMSG_NOOP.to_le_bytes());
        probe[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_le_bytes());
        probe[8..12].copy_from_slice(&seq.to_le_bytes());
        self.socket.send(&probe, 0).map(|_| ())
    }

    /// Sends `req` and collects its answer. Returns the bytes sent with it. Errors only when
    /// the socket itself fails.
    pub fn exchange(&mut self, req: &Request) -> anyhow::Result<(Outcome, Vec<u8>)> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(2);
        let bytes = req.encode(self.family, seq);
        let dump = req.flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut out = Outcome::default();
        if let Err(err) = self.socket.send(&bytes, 0) {
            match err.raw_os_error() {
                Some(errno) if errno != libc::EBADF && errno != libc::ENOTSOCK => {
                    out.send_errno = Some(errno);
                    return Ok((out, bytes));
                }
                _ => return Err(anyhow!(err).context("send")),
            }
        }
        self.send_probe(seq.wrapping_add(1)).context("send probe")?;
        let mut probe_acked = false;
        let mut finished = false;
        while !(probe_acked && (finished || !dump)) {
            let datagram = match self.recv() {
                Ok(datagram) => datagram,
                Err(err) if is_timeout(&err) => {
                    out.timed_out = true;
                    break;
                }
                // Replies were dropped for lack of buffer: keep reading, the probe tells.
                Err(err) if err.raw_os_error() == Some(libc::ENOBUFS) => continue,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(anyhow!(err).context("recv")),
            };
            for (header, payload) in split_messages(&datagram) {
                if header.seq == seq.wrapping_add(1) {
                    probe_acked |= header.kind == NLMSG_ERROR;
                    continue;
                }
                if header.seq != seq {
                    continue;
                }
                let code = payload
                    .get(..4)
                    .map_or(0, |c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                match header.kind {
                    NLMSG_ERROR => {
                        if code == 0 {
                            out.acked = true;
                        } else {
                            out.errno = Some(code.saturating_neg());
                        }
                        finished = true;
                    }
                    NLMSG_DONE => {
                        if code < 0 {
                            out.errno = Some(code.saturating_neg());
                        }
                        out.done = true;
                        finished = true;
                    }
                    NLMSG_NOOP | NLMSG_OVERRUN => {}
                    _ => out.replies += 1,
                }
            }
        }
        Ok((out, bytes))
    }

    /// Runs a dump and returns the attribute bytes (after the generic netlink header) of each
    /// entry.
    fn dump(&mut self, req: &Request) -> anyhow::Result<Vec<Vec<u8>>> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(2);
        self.socket
            .send(&req.encode(self.family, seq), 0)
            .context("send dump")?;
        let mut entries = Vec::new();
        loop {
            let datagram = self.recv().context("dump reply")?;
            for (header, payload) in split_messages(&datagram) {
                if header.seq != seq {
                    continue;
                }
                match header.kind {
                    NLMSG_DONE => return Ok(entries),
                    NLMSG_ERROR => {
                        let code = payload
                            .get(..4)
                            .map_or(0, |c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                        bail!(
                            "dump: {}",
                            io::Error::from_raw_os_error(code.saturating_neg())
                        );
                    }
                    _ => entries.push(payload.get(GENL_HDRLEN..).unwrap_or(&[]).to_vec()),
                }
            }
        }
    }

    /// Reads the configured services and their destinations (GET_SERVICE and GET_DEST dumps).
    pub fn discover(&mut self) -> anyhow::Result<Known> {
        let mut known = Known::default();
        let services = self.dump(&Request::new(CMD_GET_SERVICE, NLM_F_DUMP, Vec::new()))?;
        for entry in services {
            if let Some(key) = nested(&entry, CMD_ATTR_SERVICE).and_then(|a| service_key(&a)) {
                known.services.push(key);
            }
        }
        known.services.sort();
        known.services.dedup();
        for key in known.services.clone() {
            let req = Request::new(
                CMD_GET_DEST,
                NLM_F_DUMP,
                vec![Attr::nest(CMD_ATTR_SERVICE, identity_attrs(&key))],
            );
            for entry in self.dump(&req)? {
                if let Some(dest) = nested(&entry, CMD_ATTR_DEST).and_then(|a| dest_key(&a, &key)) {
                    known.dests.push((key.clone(), dest));
                }
            }
        }
        known.dests.sort();
        known.dests.dedup();
        Ok(known)
    }
}

/// Whether a receive error is the SO_RCVTIMEO timeout.
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Sets SO_RCVTIMEO, which netlink-sys has no call for.
fn set_rcvtimeo(socket: &Socket, timeout: Duration) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // suseconds_t is i64 here but i32 on some targets.
    #[allow(clippy::unnecessary_fallible_conversions)]
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: libc::suseconds_t::try_from(timeout.subsec_micros()).unwrap_or(0),
    };
    // SAFETY: the fd is the socket's own, open for the call; `tv` is a valid timeval whose size
    // is passed along.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::addr_of!(tv).cast(),
            libc::socklen_t::try_from(std::mem::size_of::<libc::timeval>()).unwrap_or(0),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The attribute table of the nest `kind` in an entry's top-level attributes.
fn nested(entry: &[u8], kind: u16) -> Option<Vec<(u16, Vec<u8>)>> {
    let (top, _) = walk(entry);
    let nest = top.iter().find(|a| a.kind == kind)?;
    let (inner, _) = walk(nest.data);
    Some(inner.iter().map(|a| (a.kind, a.data.to_vec())).collect())
}

/// The value of attribute `kind` in a table.
fn field(attrs: &[(u16, Vec<u8>)], kind: u16) -> Option<&[u8]> {
    attrs
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, v)| v.as_slice())
}

/// A u16 in host order.
fn u16_of(data: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(..2)?.try_into().ok()?))
}

/// A 16-byte address, zero-padded.
fn addr_of(data: &[u8]) -> [u8; 16] {
    let mut addr = [0u8; 16];
    for (dst, src) in addr.iter_mut().zip(data) {
        *dst = *src;
    }
    addr
}

/// The key of a service entry.
fn service_key(attrs: &[(u16, Vec<u8>)]) -> Option<SvcKey> {
    let af = u16_of(field(attrs, SVC_ATTR_AF)?)?;
    if let Some(mark) = field(attrs, SVC_ATTR_FWMARK) {
        let mark = u32::from_le_bytes(mark.get(..4)?.try_into().ok()?);
        if mark != 0 {
            return Some(SvcKey::Fwmark { af, mark });
        }
    }
    Some(SvcKey::Tuple {
        af,
        proto: u16_of(field(attrs, SVC_ATTR_PROTOCOL)?)?,
        addr: addr_of(field(attrs, SVC_ATTR_ADDR)?),
        port: u16_of(field(attrs, SVC_ATTR_PORT)?)?.swap_bytes(),
    })
}

/// The key of a destination entry of service `svc`.
fn dest_key(attrs: &[(u16, Vec<u8>)], svc: &SvcKey) -> Option<DestKey> {
    let svc_af = match svc {
        SvcKey::Fwmark { af, .. } | SvcKey::Tuple { af, .. } => *af,
    };
    let af = field(attrs, DEST_ATTR_ADDR_FAMILY)
        .and_then(u16_of)
        .filter(|&af| af != 0)
        .unwrap_or(svc_af);
    Some(DestKey {
        af,
        addr: addr_of(field(attrs, DEST_ATTR_ADDR)?),
        port: u16_of(field(attrs, DEST_ATTR_PORT)?)?.swap_bytes(),
    })
}

/// The identifying attributes of a service, as ipvsadm sends them.
fn identity_attrs(key: &SvcKey) -> Vec<Attr> {
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
            Attr::bytes(SVC_ATTR_ADDR, addr.to_vec()),
            Attr::be16(SVC_ATTR_PORT, *port),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::encode_attrs;

    #[test]
    fn service_and_dest_keys_from_entries() {
        let mut entry = Vec::new();
        encode_attrs(
            &[Attr::nest(
                CMD_ATTR_SERVICE,
                identity_attrs(&SvcKey::Tuple {
                    af: AF_INET,
                    proto: IPPROTO_UDP,
                    addr: addr_of(&[10, 0, 0, 1]),
                    port: 53,
                }),
            )],
            &mut entry,
        );
        let key = nested(&entry, CMD_ATTR_SERVICE)
            .and_then(|a| service_key(&a))
            .expect("key");
        assert_eq!(
            key,
            SvcKey::Tuple {
                af: AF_INET,
                proto: IPPROTO_UDP,
                addr: addr_of(&[10, 0, 0, 1]),
                port: 53
            }
        );
        let mut entry = Vec::new();
        encode_attrs(
            &[Attr::nest(
                CMD_ATTR_DEST,
                vec![
                    Attr::bytes(DEST_ATTR_ADDR, addr_of(&[10, 0, 1, 2]).to_vec()),
                    Attr::be16(DEST_ATTR_PORT, 8080),
                    Attr::u16(DEST_ATTR_ADDR_FAMILY, 0),
                ],
            )],
            &mut entry,
        );
        let dest = nested(&entry, CMD_ATTR_DEST)
            .and_then(|a| dest_key(&a, &key))
            .expect("dest");
        assert_eq!(dest.af, AF_INET);
        assert_eq!(dest.port, 8080);
        assert_eq!(&dest.addr[..4], &[10, 0, 1, 2]);
    }
}
