// SPDX-License-Identifier: GPL-2.0

//! The expiry wheel's arithmetic (`conn/wheel.rs`): slots, the second a connection is filed
//! under, when a slot is visited, which seconds a tick takes; and a simulation of the wheel
//! as `ConnTable` drives it, checking that every connection expires within a second of its
//! time and is visited about once every [`SECONDS`] while it lives.

use crate::conn::wheel::{
    filing_second, //
    next_visit,
    seconds_due,
    slot,
    stripe,
    SECONDS,
    SLOTS,
    STRIPES,
};
use std::vec::Vec;

/// Debian's HZ (the test kernel's is 1000; nothing may assume it).
const HZ: u64 = 250;

#[test]
fn slots_cover_the_wheel_once() {
    let mut seen = std::vec![false; SLOTS];
    for sec in 1000..1000 + SECONDS {
        for s in 0..STRIPES {
            let i = slot(sec, s);
            assert!(!seen[i], "slot {i} twice");
            seen[i] = true;
        }
    }
    assert!(seen.iter().all(|s| *s));
    assert!((0..=u16::MAX).all(|port| stripe(port) < STRIPES));
}

#[test]
fn next_visit_is_the_next_occurrence_of_the_slot_second() {
    for now_sec in [0, 1, 255, 256, 257, 1_000_000, u64::MAX / 2] {
        for index in 0..SECONDS {
            let visit = next_visit(slot(index, 3), now_sec);
            assert!(
                visit > now_sec && visit <= now_sec + SECONDS,
                "{index} at {now_sec}"
            );
            assert_eq!(visit % SECONDS, index);
        }
    }
}

#[test]
fn filing_second_is_never_one_the_tick_took() {
    assert_eq!(filing_second(10 * HZ + 5, 3 * HZ, HZ), 10);
    // Its own second has come, or passed: the next one.
    assert_eq!(filing_second(10 * HZ + 5, 10 * HZ + 9, HZ), 11);
    assert_eq!(filing_second(2 * HZ, 10 * HZ, HZ), 11);
}

#[test]
fn ticks_take_each_second_once() {
    assert_eq!(seconds_due(10, 11), 11..=11);
    assert!(seconds_due(11, 11).is_empty());
    assert_eq!(seconds_due(10, 14), 11..=14);
    // After a long pause, every slot once.
    assert_eq!(seconds_due(10, 10_000).count() as u64, SECONDS);
}

/// A connection of the simulation.
struct Sim {
    expires: u64,
    /// Restarts (jiffies, new timeout) still to come, earliest first.
    restarts: Vec<(u64, u64)>,
    expired_at: Option<u64>,
    visits: u32,
    slot: Option<usize>,
}

/// Drives the wheel as `ConnTable` does: files at creation, moves on a restart that brings
/// the expiry before the slot's next visit, and ticks every second taking the due seconds.
#[test]
fn simulated_wheel_expires_everything_on_time() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let start = 5_000 * HZ;
    let mut conns: Vec<Sim> = (0..2000)
        .map(|_| {
            let created = start + next() % (20 * HZ);
            // Created with 3 s, then a state with a longer timeout, and maybe a shorter one
            // (a close) later: TCP's life.
            let long = [60, 300, 900, 10_800][(next() % 4) as usize] * HZ;
            let mut restarts = std::vec![(created + HZ / 10, long)];
            if next() % 2 == 0 {
                let at = created + HZ + next() % (600 * HZ);
                restarts.push((at, [10, 120][(next() % 2) as usize] * HZ));
            }
            Sim {
                expires: created + 3 * HZ,
                restarts,
                expired_at: None,
                visits: 0,
                slot: Some(slot(filing_second(created + 3 * HZ, created, HZ), 0)),
            }
        })
        .collect();
    let mut wheel: Vec<Vec<usize>> = std::vec![Vec::new(); SLOTS];
    for (i, c) in conns.iter().enumerate() {
        wheel[c.slot.unwrap()].push(i);
    }
    let mut last = start / HZ;
    for now_sec in start / HZ + 1..start / HZ + 12_000 {
        // Restarts during the second before this tick.
        for (i, c) in conns.iter_mut().enumerate() {
            while let Some(&(at, timeout)) = c.restarts.first() {
                if at > now_sec * HZ || c.expired_at.is_some() {
                    break;
                }
                c.restarts.remove(0);
                c.expires = at + timeout;
                let s = c.slot.unwrap();
                if c.expires / HZ < next_visit(s, at / HZ) {
                    wheel[s].retain(|&j| j != i);
                    let moved = slot(filing_second(c.expires, at, HZ), 0);
                    wheel[moved].push(i);
                    c.slot = Some(moved);
                }
            }
        }
        // The tick, at the start of second `now_sec`.
        let now = now_sec * HZ;
        for sec in seconds_due(last, now_sec) {
            let taken = core::mem::take(&mut wheel[slot(sec, 0)]);
            for i in taken {
                let c = &mut conns[i];
                c.visits += 1;
                if now >= c.expires {
                    c.expired_at = Some(now);
                    c.slot = None;
                } else {
                    let s = slot(filing_second(c.expires, now, HZ), 0);
                    wheel[s].push(i);
                    c.slot = Some(s);
                }
            }
        }
        last = now_sec;
    }
    for c in &conns {
        let expired_at = c.expired_at.expect("expired");
        assert!(
            expired_at >= c.expires && expired_at < c.expires + HZ,
            "expiry at {expired_at} for {} (visits {})",
            c.expires,
            c.visits
        );
        let life = (expired_at - (start - 20 * HZ)) / HZ;
        // Creation, one visit per wheel turn, the expiry (and its second), a close.
        assert!(
            u64::from(c.visits) <= life / SECONDS + 6,
            "{} visits in {life} s",
            c.visits
        );
    }
}
