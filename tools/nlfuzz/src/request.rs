//! A whole request: netlink header, generic netlink header, attributes, trailing bytes.

use crate::attr::{encode_attrs, Attr};
use crate::uapi::{GENL_HDRLEN, IPVS_GENL_VERSION, NLMSG_HDRLEN, NLM_F_REQUEST};

/// A request under construction. The netlink header's length is always the true length; the
/// generic netlink header can be cut short and anything after it can be malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `genlmsghdr.cmd`.
    pub cmd: u8,
    /// `genlmsghdr.version` (the kernel ignores it).
    pub version: u8,
    /// `genlmsghdr.reserved`.
    pub reserved: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// How many bytes of the 4-byte generic netlink header are sent; below 4 nothing follows.
    pub genl_len: usize,
    /// The attributes after the header.
    pub attrs: Vec<Attr>,
    /// Raw bytes after the attributes.
    pub tail: Vec<u8>,
}

impl Request {
    /// A well-formed request for `cmd` with these flags and attributes.
    pub fn new(cmd: u8, flags: u16, attrs: Vec<Attr>) -> Self {
        Self {
            cmd,
            version: IPVS_GENL_VERSION,
            reserved: 0,
            flags: flags | NLM_F_REQUEST,
            genl_len: GENL_HDRLEN,
            attrs,
            tail: Vec::new(),
        }
    }

    /// Encodes the request as one netlink message to `family` with sequence number `seq`.
    pub fn encode(&self, family: u16, seq: u32) -> Vec<u8> {
        let mut out = vec![0u8; NLMSG_HDRLEN];
        let genl = [
            self.cmd,
            self.version,
            self.reserved.to_le_bytes()[0],
            self.reserved.to_le_bytes()[1],
        ];
        out.extend_from_slice(&genl[..self.genl_len.min(GENL_HDRLEN)]);
        if self.genl_len >= GENL_HDRLEN {
            encode_attrs(&self.attrs, &mut out);
            out.extend_from_slice(&self.tail);
        }
        let len = u32::try_from(out.len()).unwrap_or(u32::MAX);
        out[0..4].copy_from_slice(&len.to_le_bytes());
        out[4..6].copy_from_slice(&family.to_le_bytes());
        out[6..8].copy_from_slice(&self.flags.to_le_bytes());
        out[8..12].copy_from_slice(&seq.to_le_bytes());
        // nlmsg_pid stays 0: the kernel.
        out
    }
}

/// The fields of a netlink header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlHeader {
    /// `nlmsg_len`.
    pub len: u32,
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
}

impl NlHeader {
    /// Reads a header from the start of `buf`, if it is long enough.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let word = |at: usize| -> Option<[u8; 4]> { buf.get(at..at + 4)?.try_into().ok() };
        let half = |at: usize| -> Option<[u8; 2]> { buf.get(at..at + 2)?.try_into().ok() };
        Some(Self {
            len: u32::from_le_bytes(word(0)?),
            kind: u16::from_le_bytes(half(4)?),
            flags: u16::from_le_bytes(half(6)?),
            seq: u32::from_le_bytes(word(8)?),
        })
    }
}

/// Splits a datagram into its netlink messages (header plus payload), as `nlmsg_next` does.
pub fn split_messages(datagram: &[u8]) -> Vec<(NlHeader, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(header) = datagram.get(pos..).and_then(NlHeader::parse) {
        let len = header.len as usize;
        if len < NLMSG_HDRLEN || pos + len > datagram.len() {
            break;
        }
        out.push((header, &datagram[pos + NLMSG_HDRLEN..pos + len]));
        pos += crate::attr::align4(len);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uapi::{CMD_GET_INFO, NLM_F_ACK};

    #[test]
    fn bare_request_is_20_bytes() {
        let msg = Request::new(CMD_GET_INFO, NLM_F_ACK, Vec::new()).encode(0x1a, 7);
        assert_eq!(msg.len(), NLMSG_HDRLEN + GENL_HDRLEN);
        let header = NlHeader::parse(&msg).expect("header");
        assert_eq!(header.len, 20);
        assert_eq!(header.kind, 0x1a);
        assert_eq!(header.flags, NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(header.seq, 7);
        assert_eq!(&msg[16..], &[CMD_GET_INFO, 1, 0, 0]);
    }

    #[test]
    fn length_and_alignment_with_attributes() {
        let req = Request::new(
            CMD_GET_INFO,
            0,
            vec![Attr::nest(1, vec![Attr::u16(1, 2), Attr::string(6, "wrr")])],
        );
        let msg = req.encode(1, 1);
        assert_eq!(msg.len() % 4, 0);
        assert_eq!(
            NlHeader::parse(&msg).expect("header").len as usize,
            msg.len()
        );
        assert_eq!(msg.len(), 16 + 4 + 4 + 8 + 8);
    }

    #[test]
    fn short_genl_header_drops_the_attributes() {
        let mut req = Request::new(CMD_GET_INFO, 0, vec![Attr::u32(4, 1)]);
        req.genl_len = 0;
        assert_eq!(req.encode(1, 1).len(), NLMSG_HDRLEN);
        req.genl_len = 3;
        assert_eq!(req.encode(1, 1).len(), NLMSG_HDRLEN + 3);
    }

    #[test]
    fn split_finds_each_message() {
        let a = Request::new(1, 0, Vec::new()).encode(5, 1);
        let b = Request::new(2, 0, vec![Attr::u8(1, 1)]).encode(5, 2);
        let mut datagram = a.clone();
        datagram.extend_from_slice(&b);
        let msgs = split_messages(&datagram);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].0.seq, 2);
        assert_eq!(msgs[1].1.len(), b.len() - NLMSG_HDRLEN);
    }
}
