// SPDX-License-Identifier: GPL-2.0

//! Defense against memory exhaustion (C: `update_defense_level`, `ip_vs_todrop`,
//! `ip_vs_random_dropentry`), per namespace.
//!
//! Once a second (the namespace's tick) and whenever one of its sysctls is written, the
//! defense level follows the free memory against `amemthresh` ([`level::update`]): under
//! `drop_entry`, a random 1/32 of the connection table is scanned for entries to drop
//! ([`Defense::entry_to_drop`], run by `ConnTable::drop_random`); under `drop_packet`, one
//! new-connection packet out of every `drop_rate` is dropped ([`Defense::packet_to_drop`]);
//! under `secure_tcp`, TCP uses its defense state tables ([`Defense::secure_tcp_tables`]).

pub(crate) mod level;

use crate::ffi::atomic::Atomic;
use crate::{
    conn::Conn,
    ffi::timer::available_pages,
    proto::{
        sctp_state::SctpState, //
        tcp_state::TcpState,
    },
    sysctl::{
        Sysctl, //
        Sysctls,
    },
    uapi::{
        conn_flags, //
        ipproto,
    },
};
use kernel::{bindings, sync::atomic::Relaxed};

/// A connection untouched for less than this many seconds is never dropped at random.
const DROP_ENTRY_MIN_IDLE_SECS: u64 = 60;

/// The defense state of a namespace (C: the `dropentry`, `drop_rate`, `drop_counter`,
/// `old_secure_tcp` and `dropentry_counters` of `struct netns_ipvs`).
pub(crate) struct Defense {
    /// The random entry drop runs (`ipvs->dropentry`).
    drop_entry: Atomic<bool>,
    /// One new-connection packet out of this many is dropped; 0 for none.
    drop_rate: Atomic<i32>,
    /// Packets left before the next drop.
    drop_counter: Atomic<i32>,
    /// The `secure_tcp` level of the last update.
    old_secure_tcp: Atomic<i32>,
    /// TCP uses the defense state tables (C: `pd->tcp_state_table == tcp_states_dos`).
    secure_tcp_tables: Atomic<bool>,
    /// Countdowns of the random entry drop, by a connection's incoming packets (1 to 8): one
    /// entry out of `n` with `n` packets goes (`dropentry_counters`).
    entry_counters: [Atomic<i32>; 8],
}

impl Defense {
    /// No defense active, as C starts a namespace.
    pub(crate) fn new() -> Self {
        Defense {
            drop_entry: Atomic::new(false),
            drop_rate: Atomic::new(0),
            drop_counter: Atomic::new(0),
            old_secure_tcp: Atomic::new(0),
            secure_tcp_tables: Atomic::new(false),
            entry_counters: [const { Atomic::new(0) }; 8],
        }
    }

    /// `update_defense_level`: reads the free memory and the defense sysctls, moves levels 1
    /// and 2 into each other as memory runs short or recovers, and sets what the packet path
    /// and the random drop read. Callers serialise updates (the namespace's control mutex;
    /// C: three spinlocks).
    pub(crate) fn update(&self, sysctl: &Sysctls) {
        let modes = level::Modes {
            drop_entry: sysctl.get(Sysctl::DropEntry),
            drop_packet: sysctl.get(Sysctl::DropPacket),
            secure_tcp: sysctl.get(Sysctl::SecureTcp),
        };
        let inputs = level::Inputs {
            // C keeps the sum in an `int`.
            availmem: available_pages() as i32,
            amemthresh: sysctl.get(Sysctl::Amemthresh),
            am_droprate: sysctl.get(Sysctl::AmDroprate),
            old_secure_tcp: self.old_secure_tcp.load(Relaxed),
        };
        let level = level::update(modes, inputs);
        if level.modes.drop_entry != modes.drop_entry {
            sysctl.set(Sysctl::DropEntry, level.modes.drop_entry);
        }
        if level.modes.drop_packet != modes.drop_packet {
            sysctl.set(Sysctl::DropPacket, level.modes.drop_packet);
        }
        if level.modes.secure_tcp != modes.secure_tcp {
            sysctl.set(Sysctl::SecureTcp, level.modes.secure_tcp);
        }
        self.drop_entry.store(level.drop_entry, Relaxed);
        if let Some(counter) = level.drop_counter {
            self.drop_counter.store(counter, Relaxed);
        }
        self.drop_rate.store(level.drop_rate, Relaxed);
        self.old_secure_tcp.store(level.modes.secure_tcp, Relaxed);
        if let Some(on) = level.secure_tcp_tables {
            self.secure_tcp_tables.store(on, Relaxed);
        }
    }

    /// Whether the random entry drop runs (`ipvs->dropentry`).
    pub(crate) fn drops_entries(&self) -> bool {
        self.drop_entry.load(Relaxed)
    }

    /// `ip_vs_todrop`: whether a packet that would create a connection is dropped instead,
    /// one out of every `drop_rate`.
    pub(crate) fn packet_to_drop(&self) -> bool {
        let rate = self.drop_rate.load(Relaxed);
        if rate == 0 {
            return false;
        }
        if self.drop_counter.fetch_sub(1, Relaxed) > 1 {
            return false;
        }
        self.drop_counter.store(rate, Relaxed);
        true
    }

    /// Whether TCP uses its defense state tables (`tcp_states_dos`).
    pub(crate) fn secure_tcp_tables(&self) -> bool {
        self.secure_tcp_tables.load(Relaxed)
    }

    /// `todrop_entry`: one connection out of `n` with `n` incoming packets (1 to 8) goes,
    /// among those idle for a minute at least.
    fn countdown_to_drop(&self, conn: &Conn, now: u64) -> bool {
        let hz = u64::from(bindings::CONFIG_HZ);
        let timeout = conn.timeout();
        let expires = conn.expires.load(Relaxed);
        // `time_before(cp->timeout + jiffies, cp->timer.expires + 60 * HZ)`: restarted less
        // than a minute ago.
        let touched_at = timeout.wrapping_add(now);
        let idle_from = expires.wrapping_add(DROP_ENTRY_MIN_IDLE_SECS * hz);
        if (touched_at.wrapping_sub(idle_from) as i64) < 0 {
            return false;
        }
        let packets = conn.in_pkts.load(Relaxed);
        let Some(counter) = packets
            .checked_sub(1)
            .and_then(|i| self.entry_counters.get(i as usize))
        else {
            return false;
        };
        if counter.fetch_sub(1, Relaxed) > 1 {
            return false;
        }
        // Fewer packets, more often dropped.
        counter.store(packets as i32, Relaxed);
        true
    }

    /// The policy of `ip_vs_random_dropentry` for one connection at `now`: templates that
    /// control connections stay; other templates go unless assured; TCP connections go in
    /// SYN_RECV and SYNACK, SCTP associations in INIT1 and INIT, both by the packet countdown
    /// when established; other protocols' by the countdown.
    pub(crate) fn entry_to_drop(&self, conn: &Conn, now: u64) -> bool {
        if conn.n_control.load(Relaxed) != 0 {
            return false;
        }
        if conn.flags.load(Relaxed) & conn_flags::TEMPLATE != 0 {
            return !conn.assured.load(Relaxed);
        }
        let state = conn.state();
        let (opening, established) = match conn.protocol {
            ipproto::TCP => (
                state == TcpState::SynRecv as u32 || state == TcpState::SynAck as u32,
                state == TcpState::Established as u32,
            ),
            ipproto::SCTP => (
                state == SctpState::Init1 as u32 || state == SctpState::Init as u32,
                state == SctpState::Established as u32,
            ),
            _ => return self.countdown_to_drop(conn, now),
        };
        if opening {
            true
        } else if established {
            self.countdown_to_drop(conn, now)
        } else {
            false
        }
    }
}
