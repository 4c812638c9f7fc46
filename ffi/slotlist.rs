// SPDX-License-Identifier: GPL-2.0

//! Slots of intrusive lists of counted references, each slot under its own spinlock (C:
//! `hlist_add_head`, `hlist_del_init`, `hlist_move_list`): what the connection expiry wheel is
//! made of. An entry is on at most one slot of one [`Slots`] at a time, and the slots own a
//! reference to each entry on them. Unlike [`super::rculist`], no reader walks a slot without
//! its lock, so a removed entry's reference is dropped at once.

use super::atomic::Atomic;
use super::bhlock::{
    new_spinlock_bh, //
    SpinLockBh,
};
use super::shim::{
    rust_ipvs_hlist_add_head, //
    rust_ipvs_hlist_del_init,
    rust_ipvs_hlist_move_list,
};
use super::slab::Counted;
use core::{
    marker::PhantomData,
    mem::offset_of, //
    ptr,
};
use kernel::{
    bindings, //
    prelude::*,
    sync::atomic::Relaxed,
    types::Opaque,
};

/// [`SlotLink::slot`] of an entry on no slot.
const NO_SLOT: u32 = 0;

/// What an entry embeds to be put on a slot of [`Slots`]: its node, and which slot it is on.
pub(crate) struct SlotLink {
    /// The `hlist_node`.
    node: Opaque<bindings::hlist_node>,
    /// [`NO_SLOT`], or the index of the slot the entry is on plus one; changed under that
    /// slot's lock.
    slot: Atomic<u32>,
}

// SAFETY: the node is only touched under the lock of the slot the entry is on.
unsafe impl Send for SlotLink {}
// SAFETY: as above.
unsafe impl Sync for SlotLink {}

impl SlotLink {
    /// A link on no slot.
    pub(crate) fn new() -> Self {
        SlotLink {
            node: Opaque::zeroed(),
            slot: Atomic::new(NO_SLOT),
        }
    }
}

/// An entry type of [`Slots`]. Implement it with [`impl_slotted`].
///
/// # Safety
///
/// `SLOT_LINK_OFFSET` is the offset of a [`SlotLink`] field in `Self`.
pub(crate) unsafe trait Slotted: Send + Sync + Sized {
    /// Byte offset of the [`SlotLink`] in `Self`.
    const SLOT_LINK_OFFSET: usize;
    /// The counted reference the slots own to an entry.
    type Ref: Counted<Target = Self>;
}

/// Implements [`Slotted`] for `$type`, whose [`SlotLink`] is field `$field`, and which the
/// slots hold by `$ref`.
macro_rules! impl_slotted {
    ($type:ty, $field:ident, $ref:ty) => {
        // SAFETY: the offset is computed from the field, which has type `SlotLink` (the
        // initialiser below fails to compile otherwise).
        unsafe impl $crate::ffi::slotlist::Slotted for $type {
            type Ref = $ref;
            const SLOT_LINK_OFFSET: usize =
                $crate::ffi::checked_offset_of!($type, $field, $crate::ffi::slotlist::SlotLink);
        }
    };
}
pub(crate) use impl_slotted;

/// The link of `entry`.
fn link_of<T: Slotted>(entry: &T) -> &SlotLink {
    // SAFETY: `T::SLOT_LINK_OFFSET` is the offset of a `SlotLink` field in `T` (`Slotted`
    // contract).
    unsafe { super::field_at(entry, T::SLOT_LINK_OFFSET) }
}

/// The entry whose link's node is `node`.
///
/// # Safety
///
/// `node` is the `node` field of the [`SlotLink`] of a `T`.
unsafe fn entry_of<T: Slotted>(node: *mut bindings::hlist_node) -> *const T {
    // SAFETY: per the function's contract, stepping back by the field offsets stays within
    // the entry.
    unsafe {
        node.cast::<u8>()
            .sub(T::SLOT_LINK_OFFSET + offset_of!(SlotLink, node))
            .cast::<T>()
    }
}

/// One slot: a list under a lock.
#[pin_data]
struct Slot {
    /// Serialises every change of the list and of its entries' links.
    #[pin]
    lock: SpinLockBh<()>,
    /// The `hlist_head`.
    head: Opaque<bindings::hlist_head>,
}

/// A fixed number of slots, each a list of counted references to `T`.
///
/// # Invariants
///
/// Every node on slot `i`'s list, or on a list [`Slots::drain`] moved it to, is the node of an
/// entry whose link `slot` is `i + 1`, and the slots own one reference to it, from
/// [`Counted::into_raw`].
pub(crate) struct Slots<T: Slotted> {
    /// The slots.
    slots: Pin<KVBox<[Slot]>>,
    /// The slots own references to `T`.
    _entries: PhantomData<T::Ref>,
}

// SAFETY: the slots own counted references to `T`s, which may move between and be shared by threads since
// `T: Send + Sync` (`Slotted` bound); lists only change under their slot's lock.
unsafe impl<T: Slotted> Send for Slots<T> {}
// SAFETY: as above.
unsafe impl<T: Slotted> Sync for Slots<T> {}

impl<T: Slotted> Slots<T> {
    /// `count` empty slots (at least one).
    pub(crate) fn new(count: usize) -> Result<Self> {
        let slots = KVBox::pin_slice(
            |_| {
                try_pin_init!(Slot {
                    lock <- new_spinlock_bh!((), "rust_ipvs_slot"),
                    head: Opaque::zeroed(),
                }? Error)
            },
            count.max(1),
            GFP_KERNEL,
        )?;
        Ok(Slots {
            slots,
            _entries: PhantomData,
        })
    }

    /// Slot `index` modulo the number of slots, and that index.
    fn slot(&self, index: usize) -> Option<(usize, &Slot)> {
        let index = index.checked_rem(self.slots.len())?;
        Some((index, self.slots.get(index)?))
    }

    /// The slot `entry` is on, if it is on one.
    pub(crate) fn slot_of(&self, entry: &T) -> Option<usize> {
        let slot = link_of(entry).slot.load(Relaxed);
        (slot as usize).checked_sub(1)
    }

    /// Puts `entry` on slot `index` (modulo the number of slots). An entry is on one slot at
    /// a time: `EEXIST` (and the reference back) if it is on one.
    pub(crate) fn insert(&self, index: usize, entry: T::Ref) -> Result<(), T::Ref> {
        let Some((index, slot)) = self.slot(index) else {
            return Err(entry);
        };
        let link = link_of(&*entry);
        let _guard = slot.lock.lock();
        if link.slot.load(Relaxed) != NO_SLOT {
            return Err(entry);
        }
        // The index is below the slot count, which a `u32` holds (`new`'s callers).
        link.slot.store(index as u32 + 1, Relaxed);
        let node = link.node.get();
        // The slot keeps this reference until the entry comes off.
        let _ = T::Ref::into_raw(entry);
        // `node` is on no list: its slot was `NO_SLOT` under this lock, and an entry is only
        // put on a list with its slot set. `head` is initialised (zeroed is the empty list).
        // SAFETY: an unlinked node, an initialised head, and the slot's lock held.
        unsafe { rust_ipvs_hlist_add_head(node, slot.head.get()) };
        Ok(())
    }

    /// Takes `entry` off its slot and returns the slot's reference; `None` when it is on
    /// none (or was just taken off by someone else, who has the reference).
    pub(crate) fn remove(&self, entry: &T) -> Option<T::Ref> {
        let link = link_of(entry);
        loop {
            let index = (link.slot.load(Relaxed) as usize).checked_sub(1)?;
            let slot = self.slots.get(index)?;
            let _guard = slot.lock.lock();
            if (link.slot.load(Relaxed) as usize) != index + 1 {
                // Moved meanwhile: look again.
                continue;
            }
            link.slot.store(NO_SLOT, Relaxed);
            // The entry's slot is `index`, checked under that slot's lock, so its node is on
            // that slot's list or on the list `drain` moved it to, which that lock guards too.
            // SAFETY: a linked node whose list's lock is held.
            unsafe { rust_ipvs_hlist_del_init(link.node.get()) };
            // SAFETY: the slots owned this reference, from `Counted::into_raw` (type
            // invariant), and gave it up above.
            return Some(unsafe { T::Ref::from_raw(ptr::from_ref(entry)) });
        }
    }

    /// Takes every entry off slot `index` and hands each to `f`, with the slot's reference,
    /// one at a time without the lock held: `f` may put entries back on any slot, this one
    /// included (they wait for the next drain), and others may remove entries still waiting.
    pub(crate) fn drain(&self, index: usize, mut f: impl FnMut(T::Ref)) {
        let Some((_, slot)) = self.slot(index) else {
            return;
        };
        // The entries waiting for `f`, guarded by the slot's lock like the slot's own list
        // (removals reach them through their nodes); emptied before this function returns.
        let waiting: Opaque<bindings::hlist_head> = Opaque::zeroed();
        {
            let _guard = slot.lock.lock();
            // SAFETY: both heads are initialised and the slot's lock is held.
            unsafe { rust_ipvs_hlist_move_list(slot.head.get(), waiting.get()) };
        }
        loop {
            let entry = {
                let _guard = slot.lock.lock();
                // SAFETY: `waiting` is initialised and guarded by the lock held.
                let node = unsafe { (*waiting.get()).first };
                if node.is_null() {
                    break;
                }
                // SAFETY: nodes on `waiting` are link nodes of `T`s on this slot (type
                // invariant), alive while the slot owns them.
                let entry = unsafe { &*entry_of::<T>(node) };
                link_of(entry).slot.store(NO_SLOT, Relaxed);
                // SAFETY: the node is on `waiting`, whose lock is held.
                unsafe { rust_ipvs_hlist_del_init(node) };
                // SAFETY: the slots' reference, from `Counted::into_raw` (type invariant), given
                // up above.
                unsafe { T::Ref::from_raw(ptr::from_ref(entry)) }
            };
            f(entry);
        }
    }
}

impl<T: Slotted> Drop for Slots<T> {
    fn drop(&mut self) {
        // Release what is still on a slot (nothing, once the table was flushed).
        for index in 0..self.slots.len() {
            self.drain(index, drop);
        }
    }
}
