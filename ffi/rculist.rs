// SPDX-License-Identifier: GPL-2.0

//! RCU hash chains of counted references (C: `hlist_add_head_rcu`, `hlist_del_rcu`,
//! `hlist_for_each_entry_rcu` and `call_rcu`), the shape of C's connection table, and what
//! resizing such a table takes: moving entries to another table's chains while readers walk
//! ([`Chain::move_all`], announced to them by a [`MoveCount`]).
//!
//! Readers walk a chain inside an RCU read-side section without taking a lock. Writers
//! serialise on the chain's spinlock. A chain owns one reference to each entry on it; when an
//! entry is removed, that reference is dropped only after a grace period. So a reader that
//! found an entry can always take its own reference, as C's lookups do with
//! `__ip_vs_conn_get`.

use super::atomic::Atomic;
use super::rcu::ReadSection;
use super::shim::{
    rust_ipvs_hlist_add_head_rcu,
    rust_ipvs_hlist_del_rcu, //
    rust_ipvs_seqcount_init,
    rust_ipvs_write_seqcount_begin,
    rust_ipvs_write_seqcount_end,
};
use super::slab::Counted;
use core::{
    marker::PhantomData,
    mem::offset_of, //
    ptr,
};
use kernel::{
    alloc::KVBox,
    bindings,
    interrupt::local_interrupt_disable,
    new_spinlock_irq,
    prelude::*,
    sync::{
        atomic::Relaxed,
        rcu, //
        SpinLockIrq,
    },
    types::Opaque,
};

/// [`ChainLink::state`] of an entry never put on a chain.
const NEVER_LINKED: usize = 0;
/// [`ChainLink::state`] of an entry removed from its chain; it cannot be linked again, since
/// its RCU head may still be queued.
const REMOVED: usize = 1;
/// [`ChainLink::state`] of an entry between two chains, being moved by [`Chain::move_all`].
const MOVING: usize = 2;

/// What an entry embeds to be put on a [`Chain`]: its node, the RCU head of its deferred
/// release, and which chain it is on.
pub(crate) struct ChainLink {
    /// The `hlist_node` of the chain.
    node: Opaque<bindings::hlist_node>,
    /// Queues the release of the chain's reference after removal.
    rcu: Opaque<bindings::callback_head>,
    /// [`NEVER_LINKED`], [`REMOVED`], [`MOVING`], or the address of the chain the entry is
    /// on. Changed under that chain's lock.
    state: Atomic<usize>,
}

// SAFETY: the node and RCU head are only touched by the chain functions, under the chain's lock
// (writers), with `rcu_dereference` (readers) or by the RCU callback after the grace period.
unsafe impl Send for ChainLink {}
// SAFETY: as above.
unsafe impl Sync for ChainLink {}

impl ChainLink {
    /// A link on no chain.
    pub(crate) fn new() -> Self {
        ChainLink {
            node: Opaque::zeroed(),
            rcu: Opaque::zeroed(),
            state: Atomic::new(NEVER_LINKED),
        }
    }
}

/// An entry type of [`Chain`]s. Implement it with [`impl_chained`].
///
/// # Safety
///
/// `LINK_OFFSET` is the offset of a [`ChainLink`] field in `Self`.
pub(crate) unsafe trait Chained: Send + Sync + Sized {
    /// Byte offset of the [`ChainLink`] in `Self`.
    const LINK_OFFSET: usize;
    /// The counted reference a chain owns to an entry.
    type Ref: Counted<Target = Self>;
}

/// Implements [`Chained`] for `$type`, whose [`ChainLink`] is field `$field`, and which chains
/// hold by `$ref` (`Arc<$type>` when not given).
macro_rules! impl_chained {
    ($type:ty, $field:ident) => {
        $crate::ffi::rculist::impl_chained!($type, $field, kernel::sync::Arc<$type>);
    };
    ($type:ty, $field:ident, $ref:ty) => {
        // SAFETY: the offset is computed from the field, which has type `ChainLink` (the
        // initialiser below fails to compile otherwise).
        unsafe impl $crate::ffi::rculist::Chained for $type {
            type Ref = $ref;
            const LINK_OFFSET: usize =
                $crate::ffi::checked_offset_of!($type, $field, $crate::ffi::rculist::ChainLink);
        }
    };
}
pub(crate) use impl_chained;

/// The link of `entry`.
fn link_of<T: Chained>(entry: &T) -> &ChainLink {
    // SAFETY: `T::LINK_OFFSET` is the offset of a `ChainLink` field in `T` (`Chained`
    // contract).
    unsafe { super::field_at(entry, T::LINK_OFFSET) }
}

/// The entry whose link's node is `node`.
///
/// # Safety
///
/// `node` is the `node` field of the [`ChainLink`] of a `T`.
unsafe fn entry_of<T: Chained>(node: *mut bindings::hlist_node) -> *const T {
    // SAFETY: per the function's contract, stepping back by the field offsets stays within
    // the entry.
    unsafe {
        node.cast::<u8>()
            .sub(T::LINK_OFFSET + offset_of!(ChainLink, node))
            .cast::<T>()
    }
}

/// Drops the reference a chain held on the entry around `head`, after a grace period.
///
/// # Safety
///
/// `head` is the `rcu` field of the [`ChainLink`] of a `T` that [`Chain::remove`] queued; that
/// chain reference came from [`Counted::into_raw`].
unsafe extern "C" fn release<T: Chained>(head: *mut bindings::callback_head) {
    // SAFETY: per the function's contract, stepping back by the field offsets gives the entry.
    let entry = unsafe {
        head.cast::<u8>()
            .sub(T::LINK_OFFSET + offset_of!(ChainLink, rcu))
            .cast::<T>()
    };
    // SAFETY: the chain's reference came from `Counted::into_raw` (contract) and, the grace
    // period being over, no reader still uses it without its own reference.
    drop(unsafe { T::Ref::from_raw(entry) });
}

/// Drops the references a chain held on a batch of at most [`CLEAR_BATCH`] entries that
/// [`Chain::clear`] took off it together, after a grace period.
///
/// # Safety
///
/// `head` is the `rcu` field of the [`ChainLink`] of the first `T` of such a batch, linked to
/// the others by their nodes' `next` (a batch shorter than [`CLEAR_BATCH`] ends with a null
/// `next`); their chain references came from [`Counted::into_raw`].
unsafe extern "C" fn release_batch<T: Chained>(head: *mut bindings::callback_head) {
    // SAFETY: the function's contract is `release_linked`'s, with the batch linked by `next`
    // (`call_rcu` calls this after a grace period).
    unsafe { release_linked::<T>(head, BatchLink::Next) }
}

/// The link of its node that leads from one entry of a batch being released to the next.
#[derive(Clone, Copy)]
enum BatchLink {
    /// `next`: a batch [`Chain::clear`] took off a chain together, in chain order.
    Next,
    /// `pprev`, which `hlist_del_rcu` poisons and no reader reads: a [`Retired`] batch.
    Pprev,
}

/// Drops the chain references of a batch of at most [`CLEAR_BATCH`] entries: the one whose
/// link's RCU head is `head`, then those its node's `link` leads to, up to a null.
///
/// # Safety
///
/// `head` is the `rcu` field of the [`ChainLink`] of a `T` taken off its chain; following
/// `link` from its node reaches only the nodes of other `T`s taken off theirs, their links
/// unchanged since, and then a null, at most [`CLEAR_BATCH`] nodes in all; their chain
/// references came from [`Counted::into_raw`]; a grace period has passed since they left.
unsafe fn release_linked<T: Chained>(head: *mut bindings::callback_head, link: BatchLink) {
    // SAFETY: per the function's contract, `head` is the RCU head of an entry's link, whose
    // node sits at these offsets in the same `ChainLink`.
    let mut node = unsafe {
        head.cast::<u8>()
            .sub(offset_of!(ChainLink, rcu))
            .add(offset_of!(ChainLink, node))
            .cast::<bindings::hlist_node>()
    };
    for _ in 0..CLEAR_BATCH {
        if node.is_null() {
            break;
        }
        // SAFETY: `node` is in the batch (contract): its entry is alive until the reference
        // dropped below, and its links are unchanged since it left its chain.
        let following = unsafe {
            match link {
                BatchLink::Next => (*node).next,
                BatchLink::Pprev => (*node).pprev.cast(),
            }
        };
        // SAFETY: the batch's references came from `Counted::into_raw` (contract) and, the
        // grace period being over, no reader still uses its entries without its own reference.
        drop(unsafe { T::Ref::from_raw(entry_of::<T>(node)) });
        node = following;
    }
}

/// One hash chain: an RCU list of counted references to `T`, newest first.
///
/// # Invariants
///
/// Every node on `head` is the node of an entry whose link `state` is this chain's address,
/// and the chain owns one reference to it, from [`Counted::into_raw`].
#[pin_data(PinnedDrop)]
pub(crate) struct Chain<T: Chained> {
    /// Serialises insertion and removal.
    #[pin]
    lock: SpinLockIrq<()>,
    /// The `hlist_head`.
    head: Opaque<bindings::hlist_head>,
    /// The chain owns references to `T`.
    _entries: PhantomData<T::Ref>,
}

// SAFETY: the chain only hands out shared borrows of `T`s and owns counted references to them,
// which may move between and be shared by threads since `T: Send + Sync` (`Chained` bound);
// the head is only changed under the lock.
unsafe impl<T: Chained> Send for Chain<T> {}
// SAFETY: as above.
unsafe impl<T: Chained> Sync for Chain<T> {}

impl<T: Chained> Chain<T> {
    /// An empty chain.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Chain {
            lock <- new_spinlock_irq!((), "rust_ipvs_chain"),
            head: Opaque::zeroed(),
            _entries: PhantomData,
        })
    }

    /// This chain's identity in [`ChainLink::state`].
    fn id(&self) -> usize {
        ptr::from_ref(self) as usize
    }

    /// Puts `entry` at the head of the chain (`hlist_add_head_rcu`). An entry is put on one
    /// chain once: `EEXIST` if it is or was on one.
    pub(crate) fn push_front(&self, entry: T::Ref) -> Result {
        let _guard = self.lock.lock();
        let link = link_of(&*entry);
        if link.state.load(Relaxed) != NEVER_LINKED {
            return Err(EEXIST);
        }
        link.state.store(self.id(), Relaxed);
        let node = link.node.get();
        // The chain keeps this reference until `remove` releases it after a grace period.
        let _ = T::Ref::into_raw(entry);
        // SAFETY: `node` is unlinked and its entry now owned by the chain (invariant upheld);
        // `head` is initialised, and `lock`, held here, serialises writers.
        unsafe { rust_ipvs_hlist_add_head_rcu(node, self.head.get()) };
        Ok(())
    }

    /// Takes `entry` off this chain (`hlist_del_rcu`) and drops the chain's reference after a
    /// grace period. Whether it was on this chain: only one caller removes an entry.
    pub(crate) fn remove(&self, entry: &T) -> bool {
        if !self.unlink(entry) {
            return false;
        }
        let link = link_of(entry);
        // SAFETY: the entry came off this chain, whose reference came from `Counted::into_raw`
        // (type invariant); its state is now `REMOVED`, so its RCU head is queued once.
        unsafe { bindings::call_rcu(link.rcu.get(), Some(release::<T>)) };
        true
    }

    /// Takes `entry` off this chain as [`Chain::remove`] does, its reference to be released
    /// with those of the other entries in `retired`. Whether it was on this chain.
    pub(crate) fn retire(&self, entry: &T, retired: &mut Retired<T>) -> bool {
        if !self.unlink(entry) {
            return false;
        }
        // The entry just came off this chain (`REMOVED`: nothing else releases or relinks it).
        // SAFETY: so the chain's reference, from `Counted::into_raw`, passes to `retired`.
        unsafe { retired.push(link_of(entry).node.get()) };
        true
    }

    /// Takes `entry` off this chain (`hlist_del_rcu`), its state set to [`REMOVED`]; the
    /// caller then owns the chain's reference. Whether it was on this chain.
    fn unlink(&self, entry: &T) -> bool {
        let link = link_of(entry);
        let _guard = self.lock.lock();
        if link.state.load(Relaxed) != self.id() {
            return false;
        }
        link.state.store(REMOVED, Relaxed);
        // SAFETY: the entry is on this chain (its state is this chain's address, checked
        // under the lock that serialises writers), so its node is linked here.
        unsafe { rust_ipvs_hlist_del_rcu(link.node.get()) };
        true
    }

    /// Removes every entry, newest first, [`CLEAR_BATCH`] at a time: a batch leaves the chain
    /// in one step under one lock hold (the entry after it becomes the chain's first, as
    /// `__hlist_del` of the whole batch), and the chain's references to it are dropped
    /// together after a grace period, one `call_rcu` per batch on its first entry's RCU head
    /// ([`release_batch`]) where [`Chain::remove`] queues one per entry. A reader inside a
    /// batch walks on through it into the rest of the chain, as past a node `hlist_del_rcu`
    /// took off.
    pub(crate) fn clear(&self) {
        loop {
            let first = {
                let _guard = self.lock.lock();
                // SAFETY: `head` is initialised; under the lock no writer changes it.
                let first = unsafe { (*self.head.get()).first };
                if first.is_null() {
                    return;
                }
                let mut after = first;
                for _ in 0..CLEAR_BATCH {
                    if after.is_null() {
                        break;
                    }
                    // SAFETY: a node on this chain is the node of a `T` whose reference the
                    // chain owns (type invariant), alive until that reference goes.
                    link_of(unsafe { &*entry_of::<T>(after) })
                        .state
                        .store(REMOVED, Relaxed);
                    // SAFETY: `after` is on this chain, whose lock is held.
                    after = unsafe { (*after).next };
                }
                let head = self.head.get();
                // The batch before `after` leaves the chain (a `WRITE_ONCE` as `__hlist_del`'s;
                // readers read `first` once).
                // SAFETY: `head` is initialised and this chain's lock is held.
                unsafe { ptr::write_volatile(&raw mut (*head).first, after) };
                if !after.is_null() {
                    // SAFETY: `after` is on this chain, whose lock is held; it is now the first.
                    unsafe { ptr::write_volatile(&raw mut (*after).pprev, &raw mut (*head).first) };
                }
                first
            };
            // SAFETY: `first` is the node of a `T` of the batch, alive until the chain's
            // reference, now the batch's, is released below.
            let link = link_of(unsafe { &*entry_of::<T>(first) });
            // The batch's references (from `Counted::into_raw`, type invariant) pass to the
            // callback; its entries are all `REMOVED`, so no other path queues or relinks them.
            // SAFETY: `first` heads a batch of at most `CLEAR_BATCH` entries just taken off
            // this chain, and its RCU head is queued once, here.
            unsafe { bindings::call_rcu(link.rcu.get(), Some(release_batch::<T>)) };
        }
    }

    /// Moves every entry of this chain to the chain `destination` picks for it, of another
    /// table (C's `conn_resize_work_handler`), inside `moves`'s write section so that readers
    /// of this chain retry. The chain's references go with the entries. An entry for which
    /// `destination` gives this chain, or none, stays. Returns how many moved.
    ///
    /// Locks this chain and each destination chain in turn, never both: no lock order to keep
    /// with the writers of either table. A removal that finds the entry on neither chain while
    /// it is in flight tries again ([`is_linked`]). A chain found empty is left at once, no
    /// write section begun (C: `hlist_bl_empty`), so the caller must make sure that nothing
    /// is added to it meanwhile: most chains of a table being resized are empty.
    pub(crate) fn move_all<'a>(
        &self,
        _rcu: &ReadSection,
        moves: &MoveCount,
        destination: impl Fn(&T) -> Option<&'a Chain<T>>,
    ) -> usize
    where
        T: 'a,
    {
        // SAFETY: `head` is this chain's initialised `hlist_head`, read under RCU.
        if unsafe { first_rcu(self.head.get()) }.is_null() {
            return 0;
        }
        // Interrupts stay off for the whole write section: no reader on this CPU can spin on
        // it, and it is not preempted.
        let irq = local_interrupt_disable();
        // SAFETY: `seq` was initialised by `MoveCount::new`; interrupts, so preemption, are off
        // until the matching end below.
        unsafe { rust_ipvs_write_seqcount_begin(moves.seq.get()) };
        let mut moved = 0;
        loop {
            let (node, to) = {
                let _lock = self.lock.lock_with(&irq);
                // SAFETY: `head` is this chain's initialised `hlist_head`; the lock is held and
                // the caller's RCU read-side section covers the dereference.
                let node = unsafe { first_rcu(self.head.get()) };
                if node.is_null() {
                    break;
                }
                // SAFETY: nodes on a chain are the link nodes of `T`s (type invariant), alive
                // while on it.
                let entry = unsafe { &*entry_of::<T>(node) };
                let Some(to) = destination(entry).filter(|to| to.id() != self.id()) else {
                    break;
                };
                link_of(entry).state.store(MOVING, Relaxed);
                // SAFETY: the node is on this chain, whose lock is held.
                unsafe { rust_ipvs_hlist_del_rcu(node) };
                (node, to)
            };
            {
                let _lock = to.lock.lock_with(&irq);
                // SAFETY: `node` is the link node of a `T` that is on no chain (`MOVING`); the
                // reference this chain owned passes to `to`, whose lock is held.
                let entry = unsafe { &*entry_of::<T>(node) };
                link_of(entry).state.store(to.id(), Relaxed);
                // SAFETY: as above; `to.head` is initialised.
                unsafe { rust_ipvs_hlist_add_head_rcu(node, to.head.get()) };
            }
            moved += 1;
        }
        // SAFETY: ends the write section begun above, interrupts still off.
        unsafe { rust_ipvs_write_seqcount_end(moves.seq.get()) };
        drop(irq);
        moved
    }

    /// The first entry, newest first, that `pred` accepts. With `moves`, the count of this
    /// chain's stripe, a walk that a resize moved entries under is repeated (C:
    /// `ip_vs_rht_walk_bucket_rcu`); without, the caller knows no entry can move meanwhile.
    #[inline(always)]
    pub(crate) fn find<'g>(
        &'g self,
        guard: &'g ReadSection,
        moves: Option<&MoveCount>,
        mut pred: impl FnMut(&T) -> bool,
    ) -> Option<ChainRef<'g, T>> {
        loop {
            let start = moves.map(MoveCount::read_begin);
            let found = self.iter(guard).find(|entry| pred(entry));
            if found.is_some() || !moves.zip(start).is_some_and(|(m, s)| m.moved_since(s)) {
                return found;
            }
        }
    }

    /// The entries, newest first, valid while the read-side section `_rcu` lasts.
    pub(crate) fn iter<'g>(&'g self, _rcu: &'g ReadSection) -> ChainIter<'g, T> {
        ChainIter {
            // SAFETY: `head` is this chain's initialised `hlist_head`, read under RCU.
            next: unsafe { first_rcu(self.head.get()) },
            _entries: PhantomData,
        }
    }
}

/// The chains of one generation of a resizable RCU hash table and the move counts of their
/// stripes, one per 64 chains and at most 256 (C: `struct ip_vs_rht`'s `buckets` and `seqc`).
pub(crate) struct Buckets<T: Chained> {
    /// The chains, a power of two of them.
    chains: Pin<KVBox<[Chain<T>]>>,
    /// The move counts, a power of two of them.
    moves: Pin<KVBox<[MoveCount]>>,
}

impl<T: Chained> Buckets<T> {
    /// `size` empty chains (a power of two).
    pub(crate) fn new(size: usize) -> Result<Self> {
        let stripes = (size >> 6).clamp(1, 256);
        Ok(Buckets {
            chains: KVBox::pin_slice(|_| Chain::new(), size, GFP_KERNEL)?,
            moves: KVBox::pin_slice(|_| MoveCount::new(), stripes, GFP_KERNEL)?,
        })
    }

    /// The chains, in order.
    pub(crate) fn chains(&self) -> &[Chain<T>] {
        &self.chains
    }

    /// The chain of `hash` and the move count of its stripe.
    #[inline]
    pub(crate) fn slot(&self, hash: usize) -> Option<(&Chain<T>, &MoveCount)> {
        let chain = self.chains.get(hash & self.chains.len().wrapping_sub(1))?;
        let moves = self.moves.get(hash & self.moves.len().wrapping_sub(1))?;
        Some((chain, moves))
    }

    /// Calls `each` with the length of every chain, counted up to `cap`, in read-side sections
    /// of 64 chains with a chance to reschedule between them (C's `ip_vs_status_show` walk).
    /// Process context. Entries that a resize moves meanwhile may be counted twice or not at
    /// all, as C's walk may count them.
    pub(crate) fn chain_lengths(&self, cap: usize, mut each: impl FnMut(usize)) {
        for (index, chain) in self.chains.iter().enumerate() {
            {
                let guard = super::rcu::read_lock();
                each(chain.iter(&guard).take(cap).count());
            }
            if index % 64 == 63 {
                super::timer::cond_resched();
            }
        }
    }

    /// Moves every entry to the chain `destination` picks for it, of another table, chain by
    /// chain ([`Chain::move_all`]), with a chance to reschedule every 64 chains (C's resize
    /// works). Process context; the caller makes sure that nothing is added to these chains
    /// meanwhile.
    pub(crate) fn move_all<'a>(&self, destination: impl Fn(&T) -> Option<&'a Chain<T>>)
    where
        T: 'a,
    {
        for (index, chain) in self.chains.iter().enumerate() {
            let Some(moves) = self.moves.get(index & self.moves.len().wrapping_sub(1)) else {
                continue;
            };
            {
                let guard = super::rcu::read_lock();
                chain.move_all(&guard, moves, &destination);
            }
            if index % 64 == 63 {
                super::timer::cond_resched();
            }
        }
    }
}

/// Entries [`Chain::clear`] removes per lock hold (interrupts are off meanwhile) and releases
/// per `call_rcu`.
const CLEAR_BATCH: usize = 64;

/// Chain references of entries taken off their chains by [`Chain::retire`], released together
/// after a grace period, one `call_rcu` per [`CLEAR_BATCH`] entries where [`Chain::remove`]
/// queues one per entry. C's deletes queue none (a deleted destination waits in the trash, a
/// deleted service in its destinations' references), and a callback each cost a delete of a
/// service with three real servers four callbacks, the grace periods they call for, and the
/// wake-ups of the threads that run those. What is pending goes when the owner calls
/// [`Retired::release`] (the namespace's tick does, every second) or drops it.
///
/// # Invariants
///
/// `last` is null when `count` is 0. Otherwise it is the `hlist_node` of the entry retired
/// last, of the `count` (at most [`CLEAR_BATCH`]) entries retired since the last release, each
/// `REMOVED`; each node's `pprev`, which `hlist_del_rcu` poisons and no reader reads, holds the
/// node retired before it, the first's null. This owns their chains' references, which came
/// from [`Counted::into_raw`].
pub(crate) struct Retired<T: Chained> {
    /// The node of the entry retired last, or null.
    last: *mut bindings::hlist_node,
    /// How many entries are pending.
    count: usize,
    /// This owns references to `T`.
    _entries: PhantomData<T::Ref>,
}

// SAFETY: this only owns counted references to `T`s, which may be released from any thread
// since `T: Send + Sync` (`Chained` bound).
unsafe impl<T: Chained> Send for Retired<T> {}

impl<T: Chained> Retired<T> {
    /// Nothing pending.
    pub(crate) const fn new() -> Self {
        Retired {
            last: ptr::null_mut(),
            count: 0,
            _entries: PhantomData,
        }
    }

    /// Adds the entry of `node`; a full batch goes at once.
    ///
    /// # Safety
    ///
    /// `node` is the node of a `T`'s link, just taken off its chain (`REMOVED`), whose chain
    /// reference, from [`Counted::into_raw`], passes to this.
    unsafe fn push(&mut self, node: *mut bindings::hlist_node) {
        // SAFETY: `node` is off its chain (contract): no reader reads its `pprev`, and no
        // writer touches it any more.
        unsafe { (*node).pprev = self.last.cast() };
        self.last = node;
        self.count = self.count.saturating_add(1);
        if self.count >= CLEAR_BATCH {
            self.release();
        }
    }

    /// Queues the release of every pending reference after a grace period.
    pub(crate) fn release(&mut self) {
        let last = self.last;
        self.last = ptr::null_mut();
        self.count = 0;
        if last.is_null() {
            return;
        }
        // SAFETY: `last` is the node of a retired `T`'s link (type invariant), alive while
        // its reference is pending.
        let link = link_of(unsafe { &*entry_of::<T>(last) });
        // The batch's nodes are linked by `pprev` from `last` to a null (type invariant), and
        // each is `REMOVED`, so its RCU head is queued once: here, for the last.
        // SAFETY: so the batch's references pass to the callback after a grace period.
        unsafe { bindings::call_rcu(link.rcu.get(), Some(release_retired::<T>)) };
    }
}

impl<T: Chained> Drop for Retired<T> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Drops the references of a batch of [`Retired`] entries after a grace period.
///
/// # Safety
///
/// `head` is the `rcu` field of the [`ChainLink`] of the entry a [`Retired`] took last, whose
/// node's `pprev` links lead through the batch's other entries to a null; their chain
/// references came from [`Counted::into_raw`].
unsafe extern "C" fn release_retired<T: Chained>(head: *mut bindings::callback_head) {
    // SAFETY: the function's contract is `release_linked`'s, with the batch linked by `pprev`
    // (`call_rcu` calls this after a grace period).
    unsafe { release_linked::<T>(head, BatchLink::Pprev) }
}

#[pinned_drop]
impl<T: Chained> PinnedDrop for Chain<T> {
    /// Releases what is still on the chain at once: a chain is dropped only when no reader can
    /// reach it any more (its table was never published, or unpublished a grace period ago),
    /// so its entries' references need no grace period of their own.
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `head` is initialised; the chain is being dropped, so no writer is left.
        let mut node = unsafe { (*self.head.get()).first };
        while !node.is_null() {
            // SAFETY: `node` is on this chain: read its successor before its entry may go.
            let next = unsafe { (*node).next };
            // SAFETY: a node on this chain is the node of a `T`'s link (type invariant).
            let entry = unsafe { entry_of::<T>(node) };
            // SAFETY: a node on this chain is the node of a live `T` (type invariant).
            link_of(unsafe { &*entry }).state.store(REMOVED, Relaxed);
            // SAFETY: the chain's reference came from `Counted::into_raw` (type invariant) and
            // no reader can reach the chain (above), so none still uses the entry through it.
            drop(unsafe { T::Ref::from_raw(entry) });
            node = next;
        }
    }
}

/// Whether `entry` is on a chain, or being moved between two: a removal that found it on
/// neither chain it looked at tries again.
pub(crate) fn is_linked<T: Chained>(entry: &T) -> bool {
    !matches!(link_of(entry).state.load(Relaxed), NEVER_LINKED | REMOVED)
}

/// Tells the readers of some chains that entries moved off them (a `seqcount_t`): a reader
/// that missed an entry on a chain retries when the count changed meanwhile, since a moved
/// entry's successor is on its new chain.
#[pin_data]
pub(crate) struct MoveCount {
    /// The `seqcount_t`.
    #[pin]
    seq: Opaque<bindings::seqcount_t>,
}

// SAFETY: the count is changed only by `Chain::move_all`, with interrupts off, and read once
// at a time (`READ_ONCE`) by `read_begin`/`moved_since`, which are safe from any context.
unsafe impl Send for MoveCount {}
// SAFETY: as above.
unsafe impl Sync for MoveCount {}

impl MoveCount {
    /// A count no move has changed.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(MoveCount {
            // SAFETY: `seqcount_init` initialises the `seqcount_t` in place.
            seq <- Opaque::ffi_init(|slot| unsafe { rust_ipvs_seqcount_init(slot) }),
        })
    }

    /// The count, read once (`READ_ONCE(s->sequence)`).
    #[inline(always)]
    fn sequence(&self) -> u32 {
        let seq = self.seq.get();
        // SAFETY: `seq` was initialised by `new` and lives as long as `self`; a volatile read
        // is `READ_ONCE`, which pairs with the writer's `WRITE_ONCE` in `do_write_seqcount_*`.
        unsafe { ptr::read_volatile(&raw const (*seq).sequence) }
    }

    /// Starts a read (`raw_read_seqcount_begin`, inline: every service lookup of the packet
    /// path starts one): waits while a move runs.
    #[inline(always)]
    pub(crate) fn read_begin(&self) -> u32 {
        loop {
            let start = self.sequence();
            if start & 1 == 0 {
                read_barrier();
                return start;
            }
            core::hint::spin_loop();
        }
    }

    /// Whether entries moved since [`MoveCount::read_begin`] returned `start`
    /// (`read_seqcount_retry`).
    #[inline(always)]
    pub(crate) fn moved_since(&self, start: u32) -> bool {
        read_barrier();
        self.sequence() != start
    }
}

/// `smp_rmb()`: loads before it are done before loads after it. A compiler barrier on
/// x86-64, whose loads are not reordered with other loads (as C's `smp_rmb` there).
#[inline(always)]
pub(crate) fn read_barrier() {
    #[cfg(target_arch = "x86_64")]
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    #[cfg(not(target_arch = "x86_64"))]
    kernel::sync::barrier::smp_mb(kernel::sync::barrier::Read);
}

/// An entry of a [`Chain`], borrowed for an RCU read-side section: a reference, and a counted
/// reference of its own when one is wanted ([`ChainRef::counted`]). Cheaper than an
/// [`kernel::sync::ArcBorrow`], whose construction computes the `Arc`'s layout, for each entry
/// a walk passes.
///
/// # Invariants
///
/// `entry` is the target of a `T::Ref` that a chain owns, alive for `'g`.
pub(crate) struct ChainRef<'g, T: Chained> {
    /// The entry.
    entry: &'g T,
}

impl<T: Chained> Clone for ChainRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Chained> Copy for ChainRef<'_, T> {}

impl<T: Chained> core::ops::Deref for ChainRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.entry
    }
}

impl<T: Chained> ChainRef<'_, T> {
    /// A counted reference of its own to the entry.
    #[inline]
    pub(crate) fn counted(self) -> T::Ref {
        // SAFETY: the entry is the target of a chain's `T::Ref`, alive for the section (type
        // invariant).
        unsafe { T::Ref::clone_raw(self.entry) }
    }
}

/// An iterator over a [`Chain`] inside an RCU read-side section.
pub(crate) struct ChainIter<'g, T: Chained> {
    /// The next node, or null.
    next: *mut bindings::hlist_node,
    /// Borrows entries of the chain for the section.
    _entries: PhantomData<ChainRef<'g, T>>,
}

impl<'g, T: Chained> Iterator for ChainIter<'g, T> {
    type Item = ChainRef<'g, T>;

    #[inline]
    fn next(&mut self) -> Option<ChainRef<'g, T>> {
        let node = self.next;
        if node.is_null() {
            return None;
        }
        // SAFETY: `node`, read under RCU from the chain, stays valid until the section ends: its
        // entry's chain reference is dropped only after a grace period.
        self.next = unsafe { next_rcu(node) };
        // SAFETY: nodes on a chain are the link nodes of `T`s (type invariant of `Chain`).
        let entry = unsafe { entry_of::<T>(node) };
        // SAFETY: `entry` is the target of a `T::Ref` (from `Counted::into_raw`, type invariant
        // of `Chain`) that the chain's reference keeps alive, shared, for the section `'g`.
        let entry = unsafe { &*entry };
        // INVARIANT: as just said.
        Some(ChainRef { entry })
    }
}

/// `rcu_dereference(hlist_first_rcu(head))`: the first node of a chain, read once (inline:
/// the packet path walks chains for every lookup).
///
/// # Safety
///
/// `head` is a valid, initialised `hlist_head`.
#[inline]
unsafe fn first_rcu(head: *mut bindings::hlist_head) -> *mut bindings::hlist_node {
    // SAFETY: `head` is valid (the caller's guarantee); a volatile read is `READ_ONCE`, which
    // pairs with the writers' `rcu_assign_pointer`.
    unsafe { ptr::read_volatile(&raw const (*head).first) }
}

/// `rcu_dereference(hlist_next_rcu(node))`: the node after `node`, read once.
///
/// # Safety
///
/// `node` is a valid `hlist_node`.
#[inline]
unsafe fn next_rcu(node: *mut bindings::hlist_node) -> *mut bindings::hlist_node {
    // SAFETY: `node` is valid (the caller's guarantee); as in `first_rcu`.
    unsafe { ptr::read_volatile(&raw const (*node).next) }
}

/// Waits, when dropped, for every queued release of a chain reference or of a replaced value
/// (`rcu_barrier()`): the module's last field, so no callback runs module code after unload.
pub(crate) struct ReleaseBarrier;

impl Drop for ReleaseBarrier {
    fn drop(&mut self) {
        wait_for_releases();
    }
}

/// Waits for every queued release of a chain reference or of a replaced value, and for the
/// releases those queue in turn: a released table releases what is still on its chains with
/// callbacks of their own, queued by the callbacks the first barrier waits for.
pub(crate) fn wait_for_releases() {
    rcu::rcu_barrier();
    rcu::rcu_barrier();
}
