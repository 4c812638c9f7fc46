//! `IPVS_STATS_ATTR_*`: the counters nested in `STATS` (mixed widths) and `STATS64` (all u64).

#[cfg(test)]
use netlink_packet_core::Emitable;
use netlink_packet_core::{
    parse_u32, parse_u64, DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, NlasIterator,
    Parseable,
};
use serde::Serialize;

/// `IPVS_STATS_ATTR_CONNS`: connections scheduled.
const IPVS_STATS_ATTR_CONNS: u16 = 1;
/// `IPVS_STATS_ATTR_INPKTS`: incoming packets.
const IPVS_STATS_ATTR_INPKTS: u16 = 2;
/// `IPVS_STATS_ATTR_OUTPKTS`: outgoing packets.
const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
/// `IPVS_STATS_ATTR_INBYTES`: incoming bytes (always u64).
const IPVS_STATS_ATTR_INBYTES: u16 = 4;
/// `IPVS_STATS_ATTR_OUTBYTES`: outgoing bytes (always u64).
const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
/// `IPVS_STATS_ATTR_CPS`: current connection rate.
const IPVS_STATS_ATTR_CPS: u16 = 6;
/// `IPVS_STATS_ATTR_INPPS`: current incoming packet rate.
const IPVS_STATS_ATTR_INPPS: u16 = 7;
/// `IPVS_STATS_ATTR_OUTPPS`: current outgoing packet rate.
const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
/// `IPVS_STATS_ATTR_INBPS`: current incoming byte rate.
const IPVS_STATS_ATTR_INBPS: u16 = 9;
/// `IPVS_STATS_ATTR_OUTBPS`: current outgoing byte rate.
const IPVS_STATS_ATTR_OUTBPS: u16 = 10;

/// One counter of a stats nest.
///
/// `WIDE` selects the encoding: `false` is the legacy `STATS` nest (u32 counters except the two
/// byte counters), `true` is `STATS64` (all u64). Values are held as u64 either way; parsing
/// follows the attribute's length, so a short or long counter is read as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttr<const WIDE: bool> {
    /// Connections scheduled.
    Conns(u64),
    /// Incoming packets.
    InPkts(u64),
    /// Outgoing packets.
    OutPkts(u64),
    /// Incoming bytes.
    InBytes(u64),
    /// Outgoing bytes.
    OutBytes(u64),
    /// Connections per second.
    Cps(u64),
    /// Incoming packets per second.
    InPps(u64),
    /// Outgoing packets per second.
    OutPps(u64),
    /// Incoming bytes per second.
    InBps(u64),
    /// Outgoing bytes per second.
    OutBps(u64),
    /// Anything else, such as `IPVS_STATS_ATTR_PAD`.
    Other(DefaultNla),
}

/// A counter of the legacy `STATS` nest.
pub type Stats32Attr = StatsAttr<false>;
/// A counter of the `STATS64` nest.
pub type Stats64Attr = StatsAttr<true>;

impl<const WIDE: bool> StatsAttr<WIDE> {
    /// The counter's value, or `None` for [`StatsAttr::Other`].
    fn value(&self) -> Option<u64> {
        match self {
            Self::Conns(v)
            | Self::InPkts(v)
            | Self::OutPkts(v)
            | Self::InBytes(v)
            | Self::OutBytes(v)
            | Self::Cps(v)
            | Self::InPps(v)
            | Self::OutPps(v)
            | Self::InBps(v)
            | Self::OutBps(v) => Some(*v),
            Self::Other(_) => None,
        }
    }

    /// Whether this counter is encoded as a u64.
    fn is_u64(&self) -> bool {
        WIDE || matches!(self, Self::InBytes(_) | Self::OutBytes(_))
    }
}

impl<const WIDE: bool> Nla for StatsAttr<WIDE> {
    fn value_len(&self) -> usize {
        match self {
            Self::Other(attr) => attr.value_len(),
            _ if self.is_u64() => 8,
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Conns(_) => IPVS_STATS_ATTR_CONNS,
            Self::InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            Self::OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            Self::InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            Self::OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Self::Cps(_) => IPVS_STATS_ATTR_CPS,
            Self::InPps(_) => IPVS_STATS_ATTR_INPPS,
            Self::OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            Self::InBps(_) => IPVS_STATS_ATTR_INBPS,
            Self::OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Self::Other(attr) => attr.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        if let Self::Other(attr) = self {
            attr.emit_value(buffer);
            return;
        }
        // The buffer is exactly `value_len()` bytes long.
        let value = self.value().unwrap_or(0);
        if self.is_u64() {
            buffer.copy_from_slice(&value.to_ne_bytes());
        } else {
            let narrow = u32::try_from(value).unwrap_or(u32::MAX);
            buffer.copy_from_slice(&narrow.to_ne_bytes());
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized, const WIDE: bool> Parseable<NlaBuffer<&'a T>>
    for StatsAttr<WIDE>
{
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let kind = buf.kind();
        if !(IPVS_STATS_ATTR_CONNS..=IPVS_STATS_ATTR_OUTBPS).contains(&kind) {
            return Ok(Self::Other(
                DefaultNla::parse(buf).context("invalid stats NLA (unknown kind)")?,
            ));
        }
        let value = match payload.len() {
            4 => u64::from(parse_u32(payload)?),
            _ => parse_u64(payload).context(format!("invalid stats counter {kind}"))?,
        };
        Ok(match kind {
            IPVS_STATS_ATTR_CONNS => Self::Conns(value),
            IPVS_STATS_ATTR_INPKTS => Self::InPkts(value),
            IPVS_STATS_ATTR_OUTPKTS => Self::OutPkts(value),
            IPVS_STATS_ATTR_INBYTES => Self::InBytes(value),
            IPVS_STATS_ATTR_OUTBYTES => Self::OutBytes(value),
            IPVS_STATS_ATTR_CPS => Self::Cps(value),
            IPVS_STATS_ATTR_INPPS => Self::InPps(value),
            IPVS_STATS_ATTR_OUTPPS => Self::OutPps(value),
            IPVS_STATS_ATTR_INBPS => Self::InBps(value),
            _ => Self::OutBps(value),
        })
    }
}

/// Parses the counters of a stats nest.
pub fn parse_stats_nlas<const WIDE: bool>(
    payload: &[u8],
) -> Result<Vec<StatsAttr<WIDE>>, DecodeError> {
    NlasIterator::new(payload)
        .map(|nla| nla.and_then(|nla| StatsAttr::parse(&nla)))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to parse IPVS stats attributes")
}

/// The counters of a service or destination, widened to u64.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub inpkts: u64,
    /// Outgoing packets.
    pub outpkts: u64,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

impl Stats {
    /// Collects the counters of a nest; missing counters stay 0.
    pub fn from_nlas<const WIDE: bool>(nlas: &[StatsAttr<WIDE>]) -> Self {
        let mut stats = Self::default();
        for nla in nlas {
            match nla {
                StatsAttr::Conns(v) => stats.conns = *v,
                StatsAttr::InPkts(v) => stats.inpkts = *v,
                StatsAttr::OutPkts(v) => stats.outpkts = *v,
                StatsAttr::InBytes(v) => stats.inbytes = *v,
                StatsAttr::OutBytes(v) => stats.outbytes = *v,
                StatsAttr::Cps(v) => stats.cps = *v,
                StatsAttr::InPps(v) => stats.inpps = *v,
                StatsAttr::OutPps(v) => stats.outpps = *v,
                StatsAttr::InBps(v) => stats.inbps = *v,
                StatsAttr::OutBps(v) => stats.outbps = *v,
                StatsAttr::Other(_) => {}
            }
        }
        stats
    }

    /// The nest for these counters, in the kernel's attribute order.
    #[cfg(test)]
    pub fn to_nlas<const WIDE: bool>(self) -> Vec<StatsAttr<WIDE>> {
        vec![
            StatsAttr::Conns(self.conns),
            StatsAttr::InPkts(self.inpkts),
            StatsAttr::OutPkts(self.outpkts),
            StatsAttr::InBytes(self.inbytes),
            StatsAttr::OutBytes(self.outbytes),
            StatsAttr::Cps(self.cps),
            StatsAttr::InPps(self.inpps),
            StatsAttr::OutPps(self.outpps),
            StatsAttr::InBps(self.inbps),
            StatsAttr::OutBps(self.outbps),
        ]
    }
}

/// Emits a list of attributes into a fresh buffer.
#[cfg(test)]
pub fn emit_nlas<N: Nla>(nlas: &[N]) -> Vec<u8> {
    let mut buf = vec![0u8; nlas.buffer_len()];
    nlas.emit(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_widths() {
        let stats = Stats {
            conns: 1,
            inbytes: 2,
            ..Stats::default()
        };
        let bytes = emit_nlas(&stats.to_nlas::<false>());
        // Eight u32 counters (8 bytes each) and two u64 byte counters (12 bytes each).
        assert_eq!(bytes.len(), 8 * 8 + 2 * 12);
        assert_eq!(&bytes[..8], &[8, 0, 1, 0, 1, 0, 0, 0]);
        let parsed = parse_stats_nlas::<false>(&bytes).unwrap();
        assert_eq!(Stats::from_nlas(&parsed), stats);
        let wide = emit_nlas(&stats.to_nlas::<true>());
        assert_eq!(wide.len(), 10 * 12);
    }
}
