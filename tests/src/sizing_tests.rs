// SPDX-License-Identifier: GPL-2.0

//! Table sizing (`hash/sizing.rs`) against a transcription of C 7.3's
//! `ip_vs_rht_desired_size` and `ip_vs_rht_set_thresholds`, over every load factor C accepts
//! and a range of entry counts and table sizes, and the service table's growth path.

use crate::hash::sizing::{
    desired_size, //
    grow_threshold,
    resize_target,
    Shape,
    SizeLimits,
};

/// The service table's bounds (`IP_VS_SVC_TAB_MIN_BITS`, `IP_VS_SVC_TAB_MAX_BITS`).
const SVC: SizeLimits = SizeLimits {
    min_bits: 4,
    max_bits: 20,
};

/// `roundup_pow_of_two` for the counts tested.
fn roundup(n: i64) -> i64 {
    let mut p = 1;
    while p < n {
        p <<= 1;
    }
    p
}

/// `ip_vs_rht_desired_size`, line by line, in C's `int` arithmetic (widened: no overflow at
/// these counts).
fn c_desired_size(
    t: Option<(i64, i32)>,
    n: i64,
    lfactor: i32,
    min_bits: i64,
    max_bits: i64,
) -> i64 {
    let Some((size, t_lfactor)) = t else {
        return 1 << min_bits;
    };
    let mut n = if n > 0 { roundup(n) } else { 1 };
    if lfactor < 0 {
        let factor = i64::from(-lfactor).min(max_bits);
        n = n.min(1 << (max_bits - factor));
        n <<= factor;
    } else {
        n = (n >> lfactor).min(1 << max_bits);
    }
    if lfactor != t_lfactor {
        return n.clamp(1 << min_bits, 1 << max_bits);
    }
    if n > size {
        return n;
    }
    if n > size >> 4 {
        return size;
    }
    (n << 1).clamp(1 << min_bits, 1 << max_bits)
}

#[test]
fn desired_size_is_cs_for_every_load_factor() {
    let counts = [
        0i64, 1, 2, 3, 7, 8, 9, 100, 1000, 10_000, 65_536, 1_000_000, 3_000_000,
    ];
    for lfactor in -8..=8 {
        for t_lfactor in [lfactor, lfactor - 1] {
            for bits in 4..=20 {
                let size = 1i64 << bits;
                for &n in &counts {
                    let want = c_desired_size(Some((size, t_lfactor)), n, lfactor, 4, 20);
                    let shape = Shape {
                        size: size as u32,
                        lfactor: t_lfactor,
                    };
                    let got = desired_size(Some(shape), n as u32, lfactor, SVC);
                    assert_eq!(
                        i64::from(got),
                        want,
                        "size {size} n {n} lfactor {lfactor}/{t_lfactor}"
                    );
                }
            }
        }
        assert_eq!(desired_size(None, 5, lfactor, SVC), 16);
    }
}

/// `u_thresh` of `ip_vs_rht_set_thresholds`, line by line, in C's `int` arithmetic.
fn c_u_thresh(size: i64, lfactor: i64, max_bits: i64) -> i64 {
    if size >= 1 << max_bits {
        i64::from(i32::MAX)
    } else if lfactor <= 0 {
        size >> (-lfactor).min(max_bits)
    } else {
        size.min(1 << (30 - lfactor)) << lfactor
    }
}

/// The growth threshold is C's `u_thresh` for every load factor and size up to the largest,
/// with the connection table's bounds (2^8 to 2^20 buckets) and the service table's.
#[test]
fn grow_threshold_is_cs_u_thresh() {
    for limits in [
        SVC,
        SizeLimits {
            min_bits: 8,
            max_bits: 20,
        },
    ] {
        for lfactor in -8..=8 {
            for bits in limits.min_bits..=limits.max_bits {
                let shape = Shape {
                    size: 1 << bits,
                    lfactor,
                };
                let want = c_u_thresh(1 << bits, i64::from(lfactor), i64::from(limits.max_bits));
                assert_eq!(
                    i64::from(grow_threshold(shape, limits)),
                    want,
                    "{shape:?} {limits:?}"
                );
            }
        }
    }
}

/// A table grown at its threshold is one `desired_size` leaves alone until the next one: the
/// count one past `u_thresh` asks for a bigger table, the threshold itself does not.
#[test]
fn crossing_the_grow_threshold_asks_for_a_resize() {
    let limits = SizeLimits {
        min_bits: 8,
        max_bits: 20,
    };
    for lfactor in -4..=2 {
        for bits in 8..20 {
            let shape = Shape {
                size: 1 << bits,
                lfactor,
            };
            let at = grow_threshold(shape, limits);
            assert_eq!(resize_target(shape, at, lfactor, limits), None, "{shape:?}");
            let grown = resize_target(shape, at + 1, lfactor, limits);
            assert!(grown.is_some_and(|size| size > shape.size), "{shape:?}");
        }
    }
}

/// The sizes the service table goes through as services are added one at a time with the
/// initial namespace's factor (-3: grow past 12.5% load), as `ip_vs_add_service` checks
/// `num + 1 > u_thresh` before each add.
#[test]
fn service_table_grows_to_eight_buckets_per_service() {
    let lfactor = -3;
    let mut shape = Shape {
        size: desired_size(None, 0, lfactor, SVC),
        lfactor,
    };
    let mut resizes = 0;
    for len in 1..=10_000u32 {
        if let Some(size) = resize_target(shape, len, lfactor, SVC) {
            shape.size = size;
            resizes += 1;
        }
    }
    assert_eq!(shape.size, 131_072);
    assert_eq!(resizes, 13);
    // Deleting down to 100 services shrinks it once, to twice the need.
    assert_eq!(resize_target(shape, 2000, lfactor, SVC), None);
    assert_eq!(resize_target(shape, 100, lfactor, SVC), Some(2048));
}

/// `resize_target` is C's desired size whenever that differs, for every load factor, size and
/// count (a threshold shortcut missed the shrink of a full table with a positive factor).
#[test]
fn resize_target_is_the_desired_size_when_it_differs() {
    for lfactor in -8..=8 {
        for t_lfactor in [lfactor, lfactor - 1] {
            for bits in 4..=20 {
                let shape = Shape {
                    size: 1 << bits,
                    lfactor: t_lfactor,
                };
                for n in [
                    0u32, 1, 2, 3, 7, 8, 9, 63, 64, 65, 100, 1000, 10_000, 65_536, 1_000_000,
                ] {
                    let desired = desired_size(Some(shape), n, lfactor, SVC);
                    let want = (desired != shape.size || lfactor != t_lfactor).then_some(desired);
                    assert_eq!(
                        resize_target(shape, n, lfactor, SVC),
                        want,
                        "{shape:?} n {n} lfactor {lfactor}"
                    );
                }
            }
        }
    }
}
