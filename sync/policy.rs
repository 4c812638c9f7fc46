// SPDX-License-Identifier: GPL-2.0

//! When a master director sends a connection to its backups (C: `ip_vs_sync_conn_needed`):
//! pure logic, host-tested.
//!
//! A connection is sent in the states that matter to a backup (TCP: ESTABLISHED and the
//! closing states; SCTP alike; every UDP and template packet may), on a state change at once,
//! otherwise on its `sync_threshold`-th client packet and every `sync_period` packets after,
//! or, with `sync_refresh_period`, when its expiry moved by more than that period (or half its
//! timeout) since it was last sent, retried `sync_retries` times at an eighth of the period.
//! The time of the last send is kept in the connection (`sync_endtime`: its expiry then,
//! rounded down to 4 jiffies, the retry count in the two low bits). Times are the low 32
//! bits of jiffies, compared with wrapping arithmetic as C's `time_before` (the span between
//! two of them stays well below 2^31 jiffies: a connection's timeout).

/// The TCP states a backup is sent (`ESTABLISHED`, `FIN_WAIT`, `TIME_WAIT`, `CLOSE`,
/// `CLOSE_WAIT`), as bits of their numbers.
const TCP_SYNC_STATES: u32 = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
/// TCP's `ESTABLISHED`.
const TCP_ESTABLISHED: u32 = 1;
/// The SCTP states a backup is sent (`ESTABLISHED`, `SHUTDOWN_SENT`, `SHUTDOWN_RECEIVED`,
/// `SHUTDOWN_ACK_SENT`, `CLOSED`).
const SCTP_SYNC_STATES: u32 = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 13);
/// SCTP's `ESTABLISHED`.
const SCTP_ESTABLISHED: u32 = 8;

/// The sysctls that pace sending.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// `sync_threshold`: the client packet that sends a connection first.
    pub(crate) threshold: i32,
    /// `sync_period`: and every so many packets after (0: only the threshold's).
    pub(crate) period: i32,
    /// `sync_refresh_period`, in jiffies (0: off).
    pub(crate) refresh_period: u32,
    /// `sync_retries`: resends within a refresh period (0 to 3).
    pub(crate) retries: i32,
    /// `sync_persist_mode`: connections a template controls are not sent (their template is).
    pub(crate) persist_mode: bool,
    /// Clock ticks per second.
    pub(crate) hz: u32,
}

/// What the decision reads of a connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnView {
    /// A persistence template.
    pub(crate) template: bool,
    /// Controlled by a template (`in_persistence`).
    pub(crate) in_persistence: bool,
    /// The protocol's state machine, for the states that are sent.
    pub(crate) kind: Kind,
    /// Its state.
    pub(crate) state: u32,
    /// The state it was last sent in (`old_state`).
    pub(crate) old_state: u32,
    /// Its timeout in jiffies.
    pub(crate) timeout: u32,
}

/// The state machines the decision knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// TCP.
    Tcp,
    /// SCTP.
    Sctp,
    /// UDP and the others: one state.
    Other,
}

/// A decision to send: the connection's new `sync_endtime`, to be set by compare-and-exchange
/// from the value the decision read (its `old_state` set to its state), and whether a state
/// change forces the send even if another CPU set it first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Send {
    /// The new `sync_endtime`.
    pub(crate) endtime: u32,
    /// A state change: send whatever the exchange finds.
    pub(crate) force: bool,
}

/// Whether the connection is sent now, on its `pkts`-th client packet, at `now` (jiffies),
/// having last been sent at `orig` (its `sync_endtime`).
pub(crate) fn decide(s: &Settings, c: &ConnView, pkts: i32, orig: u32, now: u32) -> Option<Send> {
    let mut n = now.wrapping_add(c.timeout) & !3;
    let force;
    if c.template {
        force = false;
    } else if s.persist_mode && c.in_persistence {
        return None;
    } else if c.kind != Kind::Other {
        let (states, established) = match c.kind {
            Kind::Tcp => (TCP_SYNC_STATES, TCP_ESTABLISHED),
            _ => (SCTP_SYNC_STATES, SCTP_ESTABLISHED),
        };
        if c.state >= 32 || (1u32 << c.state) & states == 0 {
            return None;
        }
        force = c.state != c.old_state;
        if force && c.state != established {
            return Some(Send { endtime: n, force });
        }
    } else {
        force = false;
    }

    if s.refresh_period > 0 {
        let diff = n.wrapping_sub(orig) as i32;
        let min_diff = (c.timeout >> 1).max(s.hz.saturating_mul(10));
        let limit = s.refresh_period.min(min_diff) as i32;
        // Below the refresh period and half the timeout since the last send: only a retry,
        // an eighth of the period after it, while retries are left.
        if diff.unsigned_abs() < limit.unsigned_abs() {
            let retries = (orig & 3) as i32;
            if retries >= s.retries {
                return None;
            }
            let retry_at = orig
                .wrapping_sub(c.timeout)
                .wrapping_add(s.refresh_period >> 3);
            if (now.wrapping_sub(retry_at) as i32) < 0 {
                return None;
            }
            n |= (retries as u32).wrapping_add(1);
        }
    }
    if s.period > 0 {
        if !c.template && pkts.checked_rem(s.period) != Some(s.threshold) {
            return None;
        }
    } else if s.refresh_period == 0 && pkts != s.threshold {
        return None;
    }
    Some(Send { endtime: n, force })
}
