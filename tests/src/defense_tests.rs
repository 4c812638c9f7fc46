// SPDX-License-Identifier: GPL-2.0

//! The defense level's rule (`defense/level.rs`) against a line-by-line transcription of C
//! 7.3's `update_defense_level`, for every mode of the three sysctls, every previous
//! `secure_tcp` level, and memory short or not.

use crate::defense::level::{
    update, //
    Inputs,
    Level,
    Modes,
};

/// The fields of `struct netns_ipvs` that `update_defense_level` reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CState {
    sysctl_drop_entry: i32,
    sysctl_drop_packet: i32,
    sysctl_secure_tcp: i32,
    old_secure_tcp: i32,
    dropentry: i32,
    drop_rate: i32,
    drop_counter: i32,
    /// `Some(on)` when `ip_vs_protocol_timeout_change(ipvs, on)` was called.
    timeout_change: Option<bool>,
}

/// `update_defense_level`, as C writes it.
fn c_update(ipvs: &mut CState, availmem: i32, sysctl_amemthresh: i32, sysctl_am_droprate: i32) {
    let mut to_change = -1;
    let amemthresh = sysctl_amemthresh.max(0);
    let nomem = availmem < amemthresh;

    match ipvs.sysctl_drop_entry {
        0 => ipvs.dropentry = 0,
        1 => {
            if nomem {
                ipvs.dropentry = 1;
                ipvs.sysctl_drop_entry = 2;
            } else {
                ipvs.dropentry = 0;
            }
        }
        2 => {
            if nomem {
                ipvs.dropentry = 1;
            } else {
                ipvs.dropentry = 0;
                ipvs.sysctl_drop_entry = 1;
            }
        }
        3 => ipvs.dropentry = 1,
        _ => {}
    }

    match ipvs.sysctl_drop_packet {
        0 => ipvs.drop_rate = 0,
        1 => {
            if nomem {
                ipvs.drop_counter = amemthresh / (amemthresh - availmem);
                ipvs.drop_rate = ipvs.drop_counter;
                ipvs.sysctl_drop_packet = 2;
            } else {
                ipvs.drop_rate = 0;
            }
        }
        2 => {
            if nomem {
                ipvs.drop_counter = amemthresh / (amemthresh - availmem);
                ipvs.drop_rate = ipvs.drop_counter;
            } else {
                ipvs.drop_rate = 0;
                ipvs.sysctl_drop_packet = 1;
            }
        }
        3 => ipvs.drop_rate = sysctl_am_droprate,
        _ => {}
    }

    match ipvs.sysctl_secure_tcp {
        0 => {
            if ipvs.old_secure_tcp >= 2 {
                to_change = 0;
            }
        }
        1 => {
            if nomem {
                if ipvs.old_secure_tcp < 2 {
                    to_change = 1;
                }
                ipvs.sysctl_secure_tcp = 2;
            } else if ipvs.old_secure_tcp >= 2 {
                to_change = 0;
            }
        }
        2 => {
            if nomem {
                if ipvs.old_secure_tcp < 2 {
                    to_change = 1;
                }
            } else {
                if ipvs.old_secure_tcp >= 2 {
                    to_change = 0;
                }
                ipvs.sysctl_secure_tcp = 1;
            }
        }
        3 => {
            if ipvs.old_secure_tcp < 2 {
                to_change = 1;
            }
        }
        _ => {}
    }
    ipvs.old_secure_tcp = ipvs.sysctl_secure_tcp;
    ipvs.timeout_change = (to_change >= 0).then_some(ipvs.sysctl_secure_tcp > 1);
}

/// The Rust rule applied to the same state.
fn rust_update(ipvs: &mut CState, availmem: i32, amemthresh: i32, am_droprate: i32) {
    let modes = Modes {
        drop_entry: ipvs.sysctl_drop_entry,
        drop_packet: ipvs.sysctl_drop_packet,
        secure_tcp: ipvs.sysctl_secure_tcp,
    };
    let level: Level = update(
        modes,
        Inputs {
            availmem,
            amemthresh,
            am_droprate,
            old_secure_tcp: ipvs.old_secure_tcp,
        },
    );
    ipvs.sysctl_drop_entry = level.modes.drop_entry;
    ipvs.sysctl_drop_packet = level.modes.drop_packet;
    ipvs.sysctl_secure_tcp = level.modes.secure_tcp;
    ipvs.old_secure_tcp = level.modes.secure_tcp;
    ipvs.dropentry = i32::from(level.drop_entry);
    ipvs.drop_rate = level.drop_rate;
    if let Some(counter) = level.drop_counter {
        ipvs.drop_counter = counter;
    }
    ipvs.timeout_change = level.secure_tcp_tables;
}

#[test]
fn every_mode_and_memory_state_as_c() {
    // (availmem, amemthresh): plenty, short by a little, short by half, none, threshold 0
    // and negative (both mean never short).
    let memory = [
        (5000, 1024),
        (1000, 1024),
        (512, 1024),
        (0, 1024),
        (10, 0),
        (10, -5),
    ];
    let mut cases = 0;
    for drop_entry in 0..4 {
        for drop_packet in 0..4 {
            for secure_tcp in 0..4 {
                for old_secure_tcp in 0..4 {
                    for &(availmem, amemthresh) in &memory {
                        let start = CState {
                            sysctl_drop_entry: drop_entry,
                            sysctl_drop_packet: drop_packet,
                            sysctl_secure_tcp: secure_tcp,
                            old_secure_tcp,
                            dropentry: 7,
                            drop_rate: 7,
                            drop_counter: 7,
                            timeout_change: None,
                        };
                        let (mut c, mut rust) = (start, start);
                        c_update(&mut c, availmem, amemthresh, 10);
                        rust_update(&mut rust, availmem, amemthresh, 10);
                        assert_eq!(c, rust, "from {start:?}, memory {availmem}/{amemthresh}");
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 4 * 4 * 4 * 4 * 6);
}

#[test]
fn levels_follow_memory_over_time_as_c() {
    // Memory short for three updates, then plentiful for three, from every mode 1.
    let start = CState {
        sysctl_drop_entry: 1,
        sysctl_drop_packet: 1,
        sysctl_secure_tcp: 1,
        old_secure_tcp: 1,
        dropentry: 0,
        drop_rate: 0,
        drop_counter: 0,
        timeout_change: None,
    };
    let (mut c, mut rust) = (start, start);
    let mut seen = std::vec::Vec::new();
    for availmem in [300, 600, 900, 2000, 3000, 4000] {
        c_update(&mut c, availmem, 1024, 10);
        rust_update(&mut rust, availmem, 1024, 10);
        assert_eq!(c, rust, "at {availmem} pages");
        seen.push((c.sysctl_drop_entry, c.drop_rate, c.timeout_change));
    }
    // 1024 / (1024 - 300) = 1: every packet; then 2 and 8; the tables switch once each way.
    assert_eq!(
        seen,
        [
            (2, 1, Some(true)),
            (2, 2, None),
            (2, 8, None),
            (1, 0, Some(false)),
            (1, 0, None),
            (1, 0, None)
        ]
    );
}
