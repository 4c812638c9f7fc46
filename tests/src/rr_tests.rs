// SPDX-License-Identifier: GPL-2.0

//! Round-robin (`sched/rr.rs`) against `ip_vs_rr.c`.

use crate::{
    sched::dest_view::Algorithm as _,
    sched::rr::RoundRobin,
    support::{
        client_v4, //
        dests,
        differential,
        pick_letters,
        CRr,
        Scheduler,
    },
};

#[test]
fn cycles_in_list_order() {
    let list = dests(&[1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 7), "ABCABCA");
}

#[test]
fn ignores_weights_above_zero() {
    let list = dests(&[5, 1, 100]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 6), "ABCABC");
}

#[test]
fn skips_weight_zero_and_negative() {
    let list = dests(&[1, 0, 1, -1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 5), "ACACA");
}

#[test]
fn skips_overloaded() {
    let mut list = dests(&[1, 1, 1]);
    list[1].overloaded = true;
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 4), "ACAC");
}

#[test]
fn keeps_picking_the_only_available_dest() {
    // The saved destination is tried last, after the wrap-around.
    let list = dests(&[0, 1, 0]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 3), "BBB");
}

#[test]
fn nothing_available_keeps_the_position() {
    let mut list = dests(&[1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 2), "AB");
    for dest in list.iter_mut() {
        dest.overloaded = true;
    }
    assert_eq!(pick_letters(&mut rr, &list, 2), "--");
    for dest in list.iter_mut() {
        dest.overloaded = false;
    }
    // C leaves `sched_data` on B after a failure.
    assert_eq!(pick_letters(&mut rr, &list, 2), "CA");
}

#[test]
fn empty_service_has_no_destination() {
    let list = dests(&[]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 2), "--");
}

#[test]
fn weight_change_takes_effect_without_callback() {
    let mut list = dests(&[1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 1), "A");
    list[1].weight = 0;
    rr.dest_updated(&list);
    assert_eq!(pick_letters(&mut rr, &list, 3), "CAC");
    list[1].weight = 2;
    assert_eq!(pick_letters(&mut rr, &list, 3), "ABC");
}

#[test]
fn head_insert_keeps_the_position_on_the_same_dest() {
    let mut list = dests(&[1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 2), "AB");
    // D (id 3) joins at the head: list D A B C, position still on B.
    list.insert(0, crate::support::dest(3, 1));
    rr.dest_added(&list, 0);
    assert_eq!(pick_letters(&mut rr, &list, 5), "CDABC");
}

#[test]
fn head_insert_while_at_the_head_starts_with_the_new_dest() {
    let mut list = dests(&[1, 1]);
    let mut rr = RoundRobin::new(&list);
    list.insert(0, crate::support::dest(2, 1));
    rr.dest_added(&list, 0);
    assert_eq!(pick_letters(&mut rr, &list, 4), "CABC");
}

#[test]
fn deleting_the_current_dest_moves_to_the_previous() {
    let mut list = dests(&[1, 1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 3), "ABC");
    // Remove C (index 2): the position moves to B, so D comes next.
    list.remove(2);
    rr.dest_removed(&list, 2);
    assert_eq!(pick_letters(&mut rr, &list, 4), "DABD");
}

#[test]
fn deleting_the_current_first_dest_moves_to_the_head() {
    let mut list = dests(&[1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 1), "A");
    list.remove(0);
    rr.dest_removed(&list, 0);
    assert_eq!(pick_letters(&mut rr, &list, 3), "BCB");
}

#[test]
fn deleting_an_earlier_dest_shifts_the_position() {
    let mut list = dests(&[1, 1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 3), "ABC");
    list.remove(0);
    rr.dest_removed(&list, 0);
    assert_eq!(pick_letters(&mut rr, &list, 4), "DBCD");
}

#[test]
fn deleting_a_later_dest_keeps_the_position() {
    let mut list = dests(&[1, 1, 1, 1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 2), "AB");
    list.remove(3);
    rr.dest_removed(&list, 3);
    assert_eq!(pick_letters(&mut rr, &list, 3), "CAB");
}

#[test]
fn deleting_the_last_remaining_dest_then_adding_one() {
    let mut list = dests(&[1]);
    let mut rr = RoundRobin::new(&list);
    assert_eq!(pick_letters(&mut rr, &list, 2), "AA");
    list.remove(0);
    rr.dest_removed(&list, 0);
    assert_eq!(pick_letters(&mut rr, &list, 1), "-");
    list.insert(0, crate::support::dest(1, 1));
    rr.dest_added(&list, 0);
    assert_eq!(pick_letters(&mut rr, &list, 2), "BB");
}

#[test]
fn matches_c_on_random_operation_sequences() {
    let mut found = 0;
    for seed in 1..=300 {
        found += differential::<RoundRobin, CRr>(seed, 400);
    }
    assert!(found > 10_000, "only {found} successful schedules");
}

#[test]
fn scheduler_trait_object_is_usable() {
    // The common test interface forwards to the inherent methods.
    let list = dests(&[1, 1]);
    let mut rr = <RoundRobin as Scheduler>::init(&list);
    assert_eq!(rr.pick(&list, &client_v4(1)), Some(0));
    assert_eq!(rr.pick(&list, &client_v4(1)), Some(1));
}
