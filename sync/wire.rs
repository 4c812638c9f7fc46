// SPDX-License-Identifier: GPL-2.0

//! The messages of the connection-sync protocol, byte for byte as C's `ip_vs_sync.c` writes
//! and reads them: pure logic, host-tested.
//!
//! A message (a UDP datagram) is a header and connection entries. Version 1 (the default,
//! `sync_version=1`): an 8-byte header (a zero byte that version-0 receivers read as "no
//! connections", the sync ID, the size, the entry count, the version, two spare bytes), then
//! entries of 36 (IPv4) or 72 (IPv6) bytes, each followed by its options (type, length,
//! data) and padded to 4 bytes. Version 0: a 4-byte header (count, sync ID, size) and 24-byte
//! IPv4 entries, 48 with the sequence options. Numbers are big-endian.
//!
//! [`MessageBuf`] builds the master's messages; [`parse`] checks a received one as
//! `ip_vs_process_message` does, handing each acceptable entry to the caller in order: an
//! entry C skips is counted and skipped, a malformed one ends the message, with the entries
//! before it already handed over (as C applies them).

use crate::uapi::conn_flags as flags;

/// The default IPv4 multicast group, 224.0.0.81 (`IP_VS_SYNC_GROUP`).
pub(crate) const DEFAULT_GROUP_V4: [u8; 4] = [224, 0, 0, 81];
/// The default UDP port (`IP_VS_SYNC_PORT`); master thread `id` sends to this plus `id`.
pub(crate) const DEFAULT_PORT: u16 = 8848;
/// The protocol version in a version-1 header (`SYNC_PROTO_VER`).
pub(crate) const PROTO_VERSION: u8 = 1;
/// Version-0 header length (`struct ip_vs_sync_mesg_v0`).
pub(crate) const HEADER_V0: usize = 4;
/// Version-1 header length (`struct ip_vs_sync_mesg`).
pub(crate) const HEADER_V1: usize = 8;
/// A version-0 entry (`SIMPLE_CONN_SIZE`).
pub(crate) const ENTRY_V0: usize = 24;
/// The sequence options (`struct ip_vs_sync_conn_options`: two `struct ip_vs_seq`).
pub(crate) const SEQ_OPTIONS: usize = 24;
/// A version-1 IPv4 entry without options (`struct ip_vs_sync_v4`).
pub(crate) const ENTRY_V4: usize = 36;
/// A version-1 IPv6 entry without options (`struct ip_vs_sync_v6`).
pub(crate) const ENTRY_V6: usize = 72;
/// The most entries one message carries: its count is one byte (C lets it wrap; we start a
/// new message instead).
pub(crate) const MAX_ENTRIES: u8 = u8::MAX;

/// Option types (`IPVS_OPT_*`), and the bit that makes an unknown one optional.
const OPT_SEQ_DATA: u8 = 1;
const OPT_PE_DATA: u8 = 2;
const OPT_PE_NAME: u8 = 3;
const OPT_F_PARAM: u8 = 1 << 6;
/// `IP_VS_PENAME_MAXLEN`.
const PENAME_MAXLEN: usize = 16;
/// Type bit of an IPv6 entry (`STYPE_F_INET6`).
const TYPE_INET6: u8 = 1;
/// Template states (`IP_VS_CTPL_S_LAST`).
const TEMPLATE_STATES: u16 = 2;

/// The protocol versions (`sync_version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// The original format: IPv4 only, no timeout, no firewall mark.
    V0,
    /// IPv6, timeouts, firewall marks and options.
    V1,
}

/// A connection as a message carries it. Ports in host order; addresses in network order,
/// IPv4 in the first four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SyncConn {
    /// An IPv6 connection.
    pub(crate) ipv6: bool,
    /// IP protocol.
    pub(crate) protocol: u8,
    /// `IP_VS_CONN_F_*` (16 bits in version 0).
    pub(crate) flags: u32,
    /// Protocol state, or a template's.
    pub(crate) state: u16,
    /// Client port.
    pub(crate) cport: u16,
    /// Virtual port.
    pub(crate) vport: u16,
    /// Real server port.
    pub(crate) dport: u16,
    /// Firewall mark (version 1).
    pub(crate) fwmark: u32,
    /// Timeout in seconds (version 1; 0 in version 0: the backup's own).
    pub(crate) timeout_secs: u32,
    /// Client address.
    pub(crate) caddr: [u8; 16],
    /// Virtual address.
    pub(crate) vaddr: [u8; 16],
    /// Real server address.
    pub(crate) daddr: [u8; 16],
}

/// Reads a big-endian `u16` at `at`.
fn be16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// Reads a big-endian `u32` at `at`.
fn be32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

/// Copies `len` bytes at `at` into the front of an address.
fn addr(buf: &[u8], at: usize, len: usize) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let src = buf.get(at..at.checked_add(len)?)?;
    for (dst, byte) in out.iter_mut().zip(src) {
        *dst = *byte;
    }
    Some(out)
}

/// Writes `bytes` at `at`; false when they do not fit.
fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> bool {
    let Some(end) = at.checked_add(bytes.len()) else {
        return false;
    };
    match buf.get_mut(at..end) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// The bytes a message of `version` needs for its header and `conn` (C sizes a new
/// message's buffer to hold at least that).
pub(crate) fn first_entry_len(version: Version, conn: &SyncConn) -> usize {
    match (version, conn.ipv6) {
        (Version::V0, _) => HEADER_V0 + ENTRY_V0,
        (Version::V1, false) => HEADER_V1 + ENTRY_V4,
        (Version::V1, true) => HEADER_V1 + ENTRY_V6,
    }
}

/// A message being filled (C: `struct ip_vs_sync_buff`): the header kept current as entries
/// are appended, so that the bytes up to [`MessageBuf::len`] can be sent at any time.
pub(crate) struct MessageBuf<B> {
    /// The message bytes; its length is the most the message may take (`sync_maxlen`).
    buf: B,
    /// Bytes used: the header and the entries so far (C: `head`).
    len: usize,
    /// Its format.
    version: Version,
    /// Entries so far.
    count: u8,
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> MessageBuf<B> {
    /// An empty message of `version` from sync ID `syncid` in `buf` (`ip_vs_sync_buff_create`
    /// and `_v0`); `None` when `buf` cannot hold the header.
    pub(crate) fn new(mut buf: B, version: Version, syncid: u8) -> Option<Self> {
        let header: &[u8] = match version {
            Version::V0 => &[0, syncid, 0, HEADER_V0 as u8],
            Version::V1 => &[0, syncid, 0, HEADER_V1 as u8, 0, PROTO_VERSION, 0, 0],
        };
        if !put(buf.as_mut(), 0, header) {
            return None;
        }
        Some(MessageBuf {
            buf,
            len: header.len(),
            version,
            count: 0,
        })
    }

    /// Its format.
    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// Entries so far.
    pub(crate) fn count(&self) -> u8 {
        self.count
    }

    /// The message as it stands: the bytes to send.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.as_ref().get(..self.len).unwrap_or(&[])
    }

    /// Appends `conn` (`ip_vs_sync_conn`, `ip_vs_sync_conn_v0`: without options, which only
    /// application helpers and persistence engines add); false, the message unchanged, when
    /// it does not fit (the caller sends it and starts another), is full, or `conn` cannot be
    /// written in this version (IPv6 in version 0).
    pub(crate) fn push(&mut self, conn: &SyncConn) -> bool {
        if self.count == MAX_ENTRIES {
            return false;
        }
        let written = match self.version {
            Version::V0 => self.push_v0(conn),
            Version::V1 => self.push_v1(conn),
        };
        let Some(len) = written else {
            return false;
        };
        self.len = len;
        self.count = self.count.saturating_add(1);
        let size = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
        let buf = self.buf.as_mut();
        match self.version {
            Version::V0 => {
                put(buf, 0, &[self.count]);
            }
            Version::V1 => {
                put(buf, 4, &[self.count]);
            }
        }
        put(buf, 2, &size);
        true
    }

    /// Writes a version-0 entry after the message; its new length.
    fn push_v0(&mut self, c: &SyncConn) -> Option<usize> {
        if c.ipv6 {
            return None;
        }
        let at = self.len;
        let end = at.checked_add(ENTRY_V0)?;
        if end > self.buf.as_ref().len() {
            return None;
        }
        let mut entry = [0u8; ENTRY_V0];
        entry[1] = c.protocol;
        entry[2..4].copy_from_slice(&c.cport.to_be_bytes());
        entry[4..6].copy_from_slice(&c.vport.to_be_bytes());
        entry[6..8].copy_from_slice(&c.dport.to_be_bytes());
        entry[8..12].copy_from_slice(c.caddr.get(..4)?);
        entry[12..16].copy_from_slice(c.vaddr.get(..4)?);
        entry[16..20].copy_from_slice(c.daddr.get(..4)?);
        entry[20..22].copy_from_slice(&((c.flags & !flags::HASHED) as u16).to_be_bytes());
        entry[22..24].copy_from_slice(&c.state.to_be_bytes());
        put(self.buf.as_mut(), at, &entry).then_some(end)
    }

    /// Writes a version-1 entry after the message, padded to 4 bytes first; its new length.
    fn push_v1(&mut self, c: &SyncConn) -> Option<usize> {
        let (len, alen) = if c.ipv6 {
            (ENTRY_V6, 16)
        } else {
            (ENTRY_V4, 4)
        };
        let pad = self.len.wrapping_neg() & 3;
        let at = self.len.checked_add(pad)?;
        let end = at.checked_add(len)?;
        if end > self.buf.as_ref().len() {
            return None;
        }
        let mut entry = [0u8; ENTRY_V6];
        entry[0] = if c.ipv6 { TYPE_INET6 } else { 0 };
        entry[1] = c.protocol;
        // Version 0 of the entry format in the top four bits, its size below.
        entry[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        entry[4..8].copy_from_slice(&(c.flags & !flags::HASHED).to_be_bytes());
        entry[8..10].copy_from_slice(&c.state.to_be_bytes());
        entry[10..12].copy_from_slice(&c.cport.to_be_bytes());
        entry[12..14].copy_from_slice(&c.vport.to_be_bytes());
        entry[14..16].copy_from_slice(&c.dport.to_be_bytes());
        entry[16..20].copy_from_slice(&c.fwmark.to_be_bytes());
        entry[20..24].copy_from_slice(&c.timeout_secs.to_be_bytes());
        for (i, a) in [&c.caddr, &c.vaddr, &c.daddr].into_iter().enumerate() {
            let from = 24usize.checked_add(i.checked_mul(alen)?)?;
            entry
                .get_mut(from..from.checked_add(alen)?)?
                .copy_from_slice(a.get(..alen)?);
        }
        let buf = self.buf.as_mut();
        put(buf, self.len, [0u8; 3].get(..pad).unwrap_or(&[]));
        put(buf, at, entry.get(..len)?).then_some(end)
    }
}

/// Why a received message, or the rest of it, was dropped (C's `IP_VS_DBG`/`IP_VS_ERR_RL`
/// messages of `ip_vs_process_message`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// Shorter than a version-0 header.
    HeaderTooShort,
    /// The header's size is not the datagram's.
    BadSize,
    /// Another sync ID's message (ignored, not an error).
    OtherSyncId,
    /// A version-1 entry's fixed part runs past the end of the message ("too small").
    Truncated,
    /// A version-1 entry's size runs past the end of the message ("msg > buffer").
    PastBuffer,
    /// A version-0 entry runs past the end of the message ("bogus conn").
    V0Truncated,
    /// A version-0 entry's sequence options run past the end of the message.
    V0OptionsTruncated,
    /// An entry of an unknown entry-format version (the version).
    UnknownVersion(u16),
    /// An entry that cannot be decoded, with C's error code (`ip_vs_proc_sync_conn`): -10 an
    /// unknown type, -20 shorter than its fixed part, -30 an option's header past its end,
    /// -40 an option of length 0 or past its end, -50/-60/-70 a bad or repeated sequence,
    /// engine-data or engine-name option.
    BadEntry(i32),
}

/// What a message held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Entries handed over.
    pub(crate) conns: u32,
    /// Entries skipped, as C skips them: invalid flags, an unknown protocol or state, an
    /// unknown mandatory option, a persistence engine's data (none is available here).
    pub(crate) skipped: u32,
    /// Of the skipped, those with engine data but no engine name, which C reports ("Invalid
    /// PE parameters").
    pub(crate) invalid_pe: u32,
}

/// The persistence-engine options of a version-1 entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PeOptions {
    /// No engine data.
    None,
    /// Engine data and the engine's name.
    Named,
    /// Engine data without a name.
    Unnamed,
}

/// Checks a received message `buf` for a backup of sync ID `syncid` (0: any) as
/// `ip_vs_process_message` does, and hands each acceptable entry, with the flags a backup
/// keeps (`IP_VS_CONN_F_BACKUP_MASK`, and `IP_VS_CONN_F_SYNC`), to `each`. `states(protocol)`
/// is the number of states of a protocol the backup serves, `None` for the others.
///
/// `Err` when the message, or its rest, is dropped; the entries before a bad one were
/// handed over already, as C applies them.
pub(crate) fn parse(
    buf: &[u8],
    syncid: u8,
    states: impl Fn(u8) -> Option<u16>,
    mut each: impl FnMut(&SyncConn),
) -> Result<Parsed, (Dropped, Parsed)> {
    let mut parsed = Parsed::default();
    if buf.len() < HEADER_V0 {
        return Err((Dropped::HeaderTooShort, parsed));
    }
    if be16(buf, 2).map(usize::from) != Some(buf.len()) {
        return Err((Dropped::BadSize, parsed));
    }
    let message_syncid = buf.get(1).copied().unwrap_or(0);
    if syncid != 0 && message_syncid != syncid {
        return Err((Dropped::OtherSyncId, parsed));
    }
    let is_v1 = buf.get(5) == Some(&PROTO_VERSION)
        && buf.first() == Some(&0)
        && buf.get(6..8) == Some(&[0, 0][..]);
    // The flags, protocol and state are checked before the engine options, as C does.
    let mut accept = |conn: Option<SyncConn>, pe: PeOptions, parsed: &mut Parsed| match conn
        .and_then(|c| backup_flags(c, &states))
    {
        Some(c) if pe == PeOptions::None => {
            each(&c);
            parsed.conns = parsed.conns.saturating_add(1);
        }
        Some(_) if pe == PeOptions::Unnamed => {
            parsed.skipped = parsed.skipped.saturating_add(1);
            parsed.invalid_pe = parsed.invalid_pe.saturating_add(1);
        }
        _ => parsed.skipped = parsed.skipped.saturating_add(1),
    };
    if !is_v1 {
        let count = buf.first().copied().unwrap_or(0);
        let mut at = HEADER_V0;
        for _ in 0..count {
            let end = at.saturating_add(ENTRY_V0);
            if end > buf.len() {
                return Err((Dropped::V0Truncated, parsed));
            }
            let entry = decode_v0(buf, at).ok_or((Dropped::V0Truncated, parsed))?;
            at = if entry.flags & flags::SEQ_MASK != 0 {
                let full = end.saturating_add(SEQ_OPTIONS);
                if full > buf.len() {
                    return Err((Dropped::V0OptionsTruncated, parsed));
                }
                full
            } else {
                end
            };
            accept(Some(entry), PeOptions::None, &mut parsed);
        }
        return Ok(parsed);
    }
    let count = buf.get(4).copied().unwrap_or(0);
    let mut at = HEADER_V1;
    for _ in 0..count {
        if at.saturating_add(ENTRY_V4) > buf.len() {
            return Err((Dropped::Truncated, parsed));
        }
        let ver_size = be16(buf, at.saturating_add(2)).unwrap_or(0);
        let size = usize::from(ver_size & 0x0fff);
        let end = at.saturating_add(size);
        if end > buf.len() {
            return Err((Dropped::PastBuffer, parsed));
        }
        if ver_size >> 12 != 0 {
            return Err((Dropped::UnknownVersion(ver_size >> 12), parsed));
        }
        let entry = buf.get(at..end).unwrap_or(&[]);
        match decode_v1(entry) {
            Ok(Some((conn, pe))) => accept(Some(conn), pe, &mut parsed),
            Ok(None) => accept(None, PeOptions::None, &mut parsed),
            Err(code) => return Err((Dropped::BadEntry(code), parsed)),
        }
        // The next entry starts 4-byte aligned.
        at = at.saturating_add((size.saturating_add(3)) & !3);
    }
    Ok(parsed)
}

/// The flags a backup keeps of an entry, or `None` when it skips the entry
/// (`ip_vs_sync_validate_flags` and the protocol and state checks).
fn backup_flags(mut c: SyncConn, states: &impl Fn(u8) -> Option<u16>) -> Option<SyncConn> {
    if c.flags & flags::ONE_PACKET != 0
        || (c.flags & flags::NO_CPORT != 0 && c.flags & flags::TEMPLATE != 0)
    {
        return None;
    }
    c.flags = (c.flags & flags::BACKUP_MASK) | flags::SYNC;
    let limit = if c.flags & flags::TEMPLATE != 0 {
        TEMPLATE_STATES
    } else {
        states(c.protocol)?
    };
    (c.state < limit).then_some(c)
}

/// Decodes the version-0 entry at `at` (`struct ip_vs_sync_conn_v0`).
fn decode_v0(buf: &[u8], at: usize) -> Option<SyncConn> {
    let field = |off: usize| at.checked_add(off);
    Some(SyncConn {
        ipv6: false,
        protocol: *buf.get(field(1)?)?,
        cport: be16(buf, field(2)?)?,
        vport: be16(buf, field(4)?)?,
        dport: be16(buf, field(6)?)?,
        caddr: addr(buf, field(8)?, 4)?,
        vaddr: addr(buf, field(12)?, 4)?,
        daddr: addr(buf, field(16)?, 4)?,
        flags: u32::from(be16(buf, field(20)?)?),
        state: be16(buf, field(22)?)?,
        fwmark: 0,
        timeout_secs: 0,
    })
}

/// Decodes one version-1 entry with its options (`ip_vs_proc_sync_conn`): `Err` with C's
/// code when the message must be dropped from here on, `Ok(None)` when C skips the entry for
/// an unknown mandatory option; the entry's engine options with it otherwise.
fn decode_v1(entry: &[u8]) -> Result<Option<(SyncConn, PeOptions)>, i32> {
    let kind = *entry.first().ok_or(-10)?;
    let (ipv6, fixed, alen) = if kind & TYPE_INET6 != 0 {
        (true, ENTRY_V6, 16)
    } else if kind == 0 {
        (false, ENTRY_V4, 4)
    } else {
        return Err(-10);
    };
    if fixed > entry.len() {
        return Err(-20);
    }
    let a = |i: usize| {
        let at = i.checked_mul(alen).and_then(|off| off.checked_add(24));
        at.and_then(|at| addr(entry, at, alen)).ok_or(-20)
    };
    let conn = SyncConn {
        ipv6,
        protocol: *entry.get(1).ok_or(-20)?,
        flags: be32(entry, 4).ok_or(-20)?,
        state: be16(entry, 8).ok_or(-20)?,
        cport: be16(entry, 10).ok_or(-20)?,
        vport: be16(entry, 12).ok_or(-20)?,
        dport: be16(entry, 14).ok_or(-20)?,
        fwmark: be32(entry, 16).ok_or(-20)?,
        timeout_secs: be32(entry, 20).ok_or(-20)?,
        caddr: a(0)?,
        vaddr: a(1)?,
        daddr: a(2)?,
    };
    // The options: each type, length (not 0) and data, within the entry.
    let mut seen_seq = false;
    let mut seen_pe_data = false;
    let mut seen_pe_name = false;
    let mut at = fixed;
    while at < entry.len() {
        let (Some(&ptype), Some(&plen)) = (entry.get(at), entry.get(at.saturating_add(1))) else {
            return Err(-30);
        };
        let plen = usize::from(plen);
        at = at.saturating_add(2);
        if plen == 0 || at.saturating_add(plen) > entry.len() {
            return Err(-40);
        }
        match ptype & !OPT_F_PARAM {
            OPT_SEQ_DATA => {
                if plen != SEQ_OPTIONS || seen_seq {
                    return Err(-50);
                }
                seen_seq = true;
            }
            OPT_PE_DATA => {
                if seen_pe_data {
                    return Err(-60);
                }
                seen_pe_data = true;
            }
            OPT_PE_NAME => {
                if plen > PENAME_MAXLEN || seen_pe_name {
                    return Err(-70);
                }
                seen_pe_name = true;
            }
            // An unknown mandatory option: the entry is skipped.
            _ if ptype & OPT_F_PARAM == 0 => return Ok(None),
            _ => {}
        }
        at = at.saturating_add(plen);
    }
    // Persistence-engine data needs its engine (C: `__ip_vs_pe_getbyname`, or "Invalid PE
    // parameters" without a name); none is available here.
    let pe = match (seen_pe_data, seen_pe_name) {
        (false, _) => PeOptions::None,
        (true, true) => PeOptions::Named,
        (true, false) => PeOptions::Unnamed,
    };
    Ok(Some((conn, pe)))
}
