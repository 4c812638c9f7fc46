// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters (C: `alloc_percpu`, `this_cpu_add`, `per_cpu_ptr`): each CPU adds to its
//! own copy, with no atomic instruction and no cache line shared with another CPU; readers
//! sum the copies.
//!
//! On 64-bit machines a copy is read whole; a 32-bit reader may see a copy mid-update (C
//! guards that with `u64_stats_sync`), which only skews one reading.
//!
//! Sets of counters come from a [`PerCpuPool`], which takes them [`BLOCK_SETS`] at a time
//! from the per-CPU allocator: C allocates each `ip_vs_stats`'s `cpustats` with
//! `alloc_percpu`, whose search of its chunks' bitmaps was a sixth of the kernel's
//! instructions per service of an `ipvsadm -R` (four sets per service of three real servers).
//!
//! Beside its counters each set has a [`SetState`] in ordinary memory, kept by its block, and
//! a bit saying whether walks of the pool visit it ([`PerCpuCounters::set_listed`],
//! [`PerCpuPool::for_each_listed`]): a walk goes block by block through memory in order,
//! touching neither the owners of the sets nor their locks (the rate estimator of 10,000
//! services walked in hash order took a TLB miss or more per set).

use super::{shim, timer::cond_resched};
use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::c_ulong,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Full, //
            Relaxed,
        },
        Arc, //
        Mutex,
    },
};
use pin_init::init_array_from_fn;

/// The sets of counters of one per-CPU allocation of a [`PerCpuPool`]: one bit each in
/// [`Block::free`].
pub(crate) const BLOCK_SETS: usize = u64::BITS as usize;

/// What a set keeps beside its per-CPU counters, in ordinary memory shared by every CPU.
pub(crate) trait SetState: Sync + Sized {
    /// The state of a new set.
    fn new() -> Self;

    /// Back to the state of a new set, for a set taken again.
    fn reset(&self);
}

/// [`BLOCK_SETS`] sets of `N` counters from one `__alloc_percpu`, and their states, handed
/// out one at a time.
///
/// # Invariants
///
/// `base` is the per-CPU address of a `[[u64; N]; BLOCK_SETS]` from `__alloc_percpu`, freed on
/// drop. A set whose bit in `free` is clear belongs to one [`PerCpuCounters`], which holds a
/// reference to the block; a free set's bit in `listed` is clear.
struct Block<const N: usize, S> {
    /// The per-CPU address of the sets.
    base: NonNull<u64>,
    /// Bit `i` set: set `i` is free.
    free: Atomic<u64>,
    /// Bit `i` set: walks of the pool visit set `i`.
    listed: Atomic<u64>,
    /// The state of each set.
    states: KBox<[S; BLOCK_SETS]>,
    /// The free sets of the pool's blocks, which a set given back adds to.
    pool_free: Arc<Atomic<isize>>,
}

// SAFETY: the per-CPU memory is only reached through the `PerCpuCounters` that own its sets
// and by reads of walks (both safe from any thread), the masks are atomic and the states
// `Sync`.
unsafe impl<const N: usize, S: SetState> Send for Block<N, S> {}
// SAFETY: as above.
unsafe impl<const N: usize, S: SetState> Sync for Block<N, S> {}

impl<const N: usize, S: SetState> Block<N, S> {
    /// A block of free sets, at zero, of the pool whose free sets `pool_free` counts (the
    /// caller adds the new block's).
    fn new(pool_free: &Arc<Atomic<isize>>) -> Result<Self> {
        let states = KBox::init(init_array_from_fn(|_| S::new()), GFP_KERNEL)?;
        // SAFETY: no preconditions; per-CPU memory comes zeroed.
        let base = unsafe {
            shim::rust_ipvs_alloc_percpu(
                core::mem::size_of::<[[u64; N]; BLOCK_SETS]>(),
                core::mem::align_of::<u64>(),
            )
        };
        // INVARIANT: allocated above, every set free.
        Ok(Block {
            base: NonNull::new(base.cast::<u64>()).ok_or(ENOMEM)?,
            free: Atomic::new(u64::MAX),
            listed: Atomic::new(0),
            states,
            pool_free: pool_free.clone(),
        })
    }

    /// The state of set `index` (of set `index % BLOCK_SETS`, which is `index` for every
    /// index there is).
    fn state(&self, index: usize) -> &S {
        &self.states[index % BLOCK_SETS]
    }

    /// Sets or clears bits `mask` of `listed`.
    fn list(&self, mask: u64, listed: bool) {
        let mut now = self.listed.load(Relaxed);
        loop {
            let new = if listed { now | mask } else { now & !mask };
            match self.listed.cmpxchg(now, new, Relaxed) {
                Ok(_) => return,
                Err(seen) => now = seen,
            }
        }
    }

    /// Calls `f` with the sums over every possible CPU and the state of each listed set.
    fn for_each_listed(&self, f: &mut impl FnMut([u64; N], &S)) {
        let mut listed = self.listed.load(Relaxed);
        while listed != 0 {
            let index = listed.trailing_zeros() as usize;
            listed &= listed - 1;
            f(self.sum(index), self.state(index));
        }
    }

    /// The counters of set `index % BLOCK_SETS` summed over every possible CPU.
    #[inline]
    fn sum(&self, index: usize) -> [u64; N] {
        let mut total = [0u64; N];
        for cpu in possible_cpus() {
            self.add_cpu(index, cpu, &mut total);
        }
        total
    }

    /// Adds the counters of CPU `cpu` of set `index % BLOCK_SETS` to `total` (wrapping;
    /// nothing for a CPU that is not possible), read in place, in one tight loop: no copy of
    /// a CPU's counters is made.
    #[inline(always)]
    fn add_cpu(&self, index: usize, cpu: u32, total: &mut [u64; N]) {
        let Some(copy) = per_cpu_ptr(self.set(index % BLOCK_SETS), cpu) else {
            return;
        };
        for (counter, sum) in total.iter_mut().enumerate() {
            // Other CPUs may add to it meanwhile: one volatile read (`READ_ONCE`).
            // SAFETY: `copy` is CPU `cpu`'s `[u64; N]` of a set of this block (type
            // invariant: the block's per-CPU memory lives as long as it), `counter < N`.
            let value = unsafe { core::ptr::read_volatile(copy.add(counter)) };
            *sum = sum.wrapping_add(value);
        }
    }

    /// The per-CPU address of set `index`.
    fn set(&self, index: usize) -> *mut u64 {
        // Per-CPU addresses are offsets, not pointers into one object: `wrapping_add`.
        self.base.as_ptr().wrapping_add(index.wrapping_mul(N))
    }

    /// Takes a free set, if there is one: its index.
    fn take(&self) -> Option<usize> {
        let mut free = self.free.load(Relaxed);
        while free != 0 {
            let index = free.trailing_zeros();
            match self.free.cmpxchg(free, free & !(1 << index), Full) {
                Ok(_) => return Some(index as usize),
                Err(now) => free = now,
            }
        }
        None
    }

    /// Gives set `index` back, unlisted, then counts it among the pool's free sets.
    fn give_back(&self, index: usize) {
        let bit = 1u64.checked_shl(index as u32).unwrap_or(0);
        self.list(bit, false);
        let mut free = self.free.load(Relaxed);
        while let Err(now) = self.free.cmpxchg(free, free | bit, Full) {
            free = now;
        }
        self.pool_free.fetch_add(1, Full);
    }

    /// Whether no set is taken.
    fn unused(&self) -> bool {
        self.free.load(Relaxed) == u64::MAX
    }
}

impl<const N: usize, S> Drop for Block<N, S> {
    fn drop(&mut self) {
        // SAFETY: allocated by `__alloc_percpu` (type invariant), freed once here; no set is
        // in use, since each `PerCpuCounters` holds a reference to its block.
        unsafe { bindings::free_percpu(self.base.as_ptr().cast()) };
    }
}

/// The sets of a [`Block`], as the pool's count of free sets adds them.
const BLOCK_SETS_COUNTED: isize = BLOCK_SETS as isize;

/// The blocks of a [`PerCpuPool`].
struct Blocks<const N: usize, S> {
    /// Every block the pool hands sets out of, each in the slot it was put in until freed:
    /// a walk goes through the slots one at a time, without the lock in between (from
    /// `kvmalloc`: a million counter sets are 15,625 blocks).
    blocks: KVVec<Option<Arc<Block<N, S>>>>,
    /// The empty slots among them, which a new block takes before the list grows.
    vacant: usize,
    /// The block the last set came from, where the next one is looked for first.
    hint: usize,
}

/// Sets of `N` per-CPU counters, taken from per-CPU allocations of [`BLOCK_SETS`] sets (a
/// slab of per-CPU memory). A block stays in use while one of its sets does; the pool keeps
/// unused blocks until [`PerCpuPool::shrink`].
///
/// An allocation takes from the block of the last one; only when that block is full and the
/// pool's count of free sets says another block has one does it look through the others, so
/// a pool that only grows (a restore of 10,000 services) never walks its blocks.
#[pin_data]
pub(crate) struct PerCpuPool<const N: usize, S> {
    /// The blocks, changed by allocations and shrinks (process context).
    #[pin]
    blocks: Mutex<Blocks<N, S>>,
    /// The free sets of the blocks: added to when a block is allocated and when a set is given
    /// back (in any context, after its bit is set, so it never counts a set not free yet),
    /// taken from under the mutex when a set is taken or a block freed. Shared with the
    /// blocks, which may outlive the pool.
    free: Arc<Atomic<isize>>,
}

impl<const N: usize, S: SetState> PerCpuPool<N, S> {
    /// A pool with no blocks.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(PerCpuPool {
            blocks <- new_mutex!(Blocks {
                blocks: KVVec::new(),
                vacant: 0,
                hint: 0,
            }),
            free: Arc::new(Atomic::new(0), GFP_KERNEL)?,
        })
    }

    /// A set of counters at zero on every possible CPU (process context): a free set of the
    /// last one's block, else of another block if the pool has free sets, else the first of
    /// a new block.
    pub(crate) fn alloc(&self) -> Result<PerCpuCounters<N, S>> {
        let mut guard = self.blocks.lock();
        let state = &mut *guard;
        let count = state.blocks.len();
        // The last set's block only, unless the count says another block has a free set.
        let tries = if self.free.load(Relaxed) > 0 {
            count
        } else {
            count.min(1)
        };
        for step in 0..tries {
            let index = (state.hint + step) % count;
            let Some(Some(block)) = state.blocks.get(index) else {
                continue;
            };
            if let Some(counters) = PerCpuCounters::take_from(block) {
                self.free.fetch_sub(1, Relaxed);
                state.hint = index;
                // A set given back keeps the counts and the state of its last user.
                counters.zero();
                counters.state().reset();
                return Ok(counters);
            }
        }
        // A slot a shrink emptied, else a new one at the end (a pool that only grows has no
        // empty slot to look for).
        let slot = if state.vacant > 0 {
            state.blocks.iter().position(Option::is_none)
        } else {
            None
        };
        if slot.is_none() {
            state.blocks.reserve(1, GFP_KERNEL)?;
        }
        let block = Arc::new(Block::new(&self.free)?, GFP_KERNEL)?;
        // A new block's sets are free, at zero and new.
        let counters = PerCpuCounters::take_from(&block).ok_or(ENOMEM)?;
        self.free.fetch_add(BLOCK_SETS_COUNTED - 1, Relaxed);
        match slot.and_then(|index| Some((index, state.blocks.get_mut(index)?))) {
            Some((index, empty)) => {
                *empty = Some(block);
                state.vacant = state.vacant.saturating_sub(1);
                state.hint = index;
            }
            None => {
                state.hint = state.blocks.len();
                // Cannot fail: room was reserved above.
                state
                    .blocks
                    .push_within_capacity(Some(block))
                    .map_err(|_| ENOMEM)?;
            }
        }
        Ok(counters)
    }

    /// Calls `f` with the counters summed over every possible CPU and the state of each
    /// listed set (process context, holding no lock), block by block in memory order,
    /// rescheduling between blocks, without the pool's lock meanwhile: a set listed or
    /// unlisted during the walk may or may not be visited.
    pub(crate) fn for_each_listed(&self, mut f: impl FnMut([u64; N], &S)) {
        let mut slot = 0;
        loop {
            let block = match self.blocks.lock().blocks.get(slot) {
                Some(block) => block.clone(),
                None => return,
            };
            if let Some(block) = block {
                block.for_each_listed(&mut f);
            }
            slot += 1;
            cond_resched();
        }
    }

    /// The number of listed sets.
    pub(crate) fn listed_count(&self) -> usize {
        self.blocks
            .lock()
            .blocks
            .iter()
            .flatten()
            .map(|block| block.listed.load(Relaxed).count_ones() as usize)
            .sum()
    }

    /// Frees the blocks none of whose sets is in use, but one (kept for the next
    /// allocations): the periodic work calls it.
    pub(crate) fn shrink(&self) {
        let mut guard = self.blocks.lock();
        let mut kept_unused = false;
        let mut freed = 0;
        for slot in guard.blocks.iter_mut() {
            if slot
                .as_ref()
                .is_some_and(|block| block.unused() && core::mem::replace(&mut kept_unused, true))
            {
                *slot = None;
                freed += 1;
            }
        }
        // An unused block's sets were all counted free, but for a give-back whose count has
        // yet to land: the count is low until it does, and an allocation meanwhile may take
        // a new block where another had a free set.
        self.free.fetch_sub(freed * BLOCK_SETS_COUNTED, Relaxed);
        guard.vacant = guard.vacant.saturating_add(freed as usize);
        guard.hint = 0;
    }
}

/// `N` counters per CPU and a state: a set of a [`PerCpuPool`]'s block.
///
/// # Invariants
///
/// `base` is the per-CPU address of a set of `block` whose bit in its `free` mask is clear,
/// given back on drop; no other `PerCpuCounters` has it.
pub(crate) struct PerCpuCounters<const N: usize, S: SetState> {
    /// The per-CPU address of the counters.
    base: *mut u64,
    /// The block the set is part of, kept while the set is in use.
    block: Arc<Block<N, S>>,
}

// SAFETY: the counters are only changed by `this_cpu_add` (local to the CPU that runs it) and
// read with `READ_ONCE`, the state is `Sync`; the handle may move between and be shared by
// threads.
unsafe impl<const N: usize, S: SetState> Send for PerCpuCounters<N, S> {}
// SAFETY: as above.
unsafe impl<const N: usize, S: SetState> Sync for PerCpuCounters<N, S> {}

impl<const N: usize, S: SetState> PerCpuCounters<N, S> {
    /// A free set of `block`, taken, if it has one.
    fn take_from(block: &Arc<Block<N, S>>) -> Option<Self> {
        let index = block.take()?;
        // INVARIANT: set `index`, a bit of the mask (below `BLOCK_SETS`), was just taken.
        Some(PerCpuCounters {
            base: block.set(index),
            block: block.clone(),
        })
    }

    /// The index of this set in its block.
    fn index(&self) -> usize {
        (self.base as usize).wrapping_sub(self.block.base.as_ptr() as usize)
            / core::mem::size_of::<[u64; N]>()
    }

    /// The set's state.
    pub(crate) fn state(&self) -> &S {
        self.block.state(self.index())
    }

    /// Whether walks of the pool ([`PerCpuPool::for_each_listed`]) visit this set; a new set
    /// is not listed.
    pub(crate) fn set_listed(&self, listed: bool) {
        let bit = 1u64.checked_shl(self.index() as u32).unwrap_or(0);
        self.block.list(bit, listed);
    }

    /// Sets the counters of every possible CPU to zero; the set was just taken, so no CPU adds
    /// to it meanwhile.
    fn zero(&self) {
        for cpu in possible_cpus() {
            if let Some(copy) = per_cpu_ptr(self.base, cpu) {
                // SAFETY: `copy` is CPU `cpu`'s `[u64; N]` of this set (type invariant), which
                // nothing else reaches yet.
                unsafe { core::ptr::write_bytes(copy.cast_mut(), 0, N) };
            }
        }
    }

    /// Adds `value` to counter `index` of the running CPU (nothing for an index past `N`).
    #[inline]
    pub(crate) fn add(&self, index: usize, value: u64) {
        if index < N {
            // SAFETY: a per-CPU address of a counter below `N` of this live set (type
            // invariant; index checked above).
            unsafe { this_cpu_add(self.base.wrapping_add(index), value) };
        }
    }

    /// Adds `value` to counter `index` and `value2` to counter `index2` of the running CPU
    /// (nothing for an index past `N`): a packet adds to its packet and byte counts together.
    #[inline]
    pub(crate) fn add2(&self, (index, value): (usize, u64), (index2, value2): (usize, u64)) {
        if index >= N || index2 >= N {
            return;
        }
        // Per-CPU addresses are offsets, not pointers into one object: `wrapping_add`.
        let base = self.base;
        // SAFETY: both are per-CPU addresses of counters below `N` of this live set (type
        // invariant; indices checked above).
        unsafe {
            this_cpu_add(base.wrapping_add(index), value);
            this_cpu_add(base.wrapping_add(index2), value2);
        }
    }

    /// The counters of CPU `cpu` (zeros for a CPU that is not possible), read in place: what
    /// `/proc/net/ip_vs_stats_percpu` lists per CPU.
    pub(crate) fn of_cpu(&self, cpu: u32) -> [u64; N] {
        let mut values = [0; N];
        self.add_cpu(cpu, &mut values);
        values
    }

    /// The counters summed over every possible CPU (wrapping, as C's `u64` sums), read in
    /// place: the estimator sums every counter of every service and destination.
    #[inline]
    pub(crate) fn sum(&self) -> [u64; N] {
        self.block.sum(self.index())
    }

    /// Adds the counters of CPU `cpu` to `total`.
    fn add_cpu(&self, cpu: u32, total: &mut [u64; N]) {
        self.block.add_cpu(self.index(), cpu, total);
    }
}

impl<const N: usize, S: SetState> Drop for PerCpuCounters<N, S> {
    fn drop(&mut self) {
        self.block.give_back(self.index());
    }
}

/// `this_cpu_add` of a `u64`: one `add` to the running CPU's copy through the per-CPU segment,
/// which an interrupt or a migration cannot split (as C's x86-64 `percpu_add_op`).
///
/// # Safety
///
/// `counter` is the per-CPU address of a live `u64` from `__alloc_percpu`.
#[cfg(all(target_arch = "x86_64", CONFIG_SMP))]
#[inline(always)]
unsafe fn this_cpu_add(counter: *mut u64, value: u64) {
    // SAFETY: `%gs` holds the running CPU's per-CPU base, and `counter` plus that base is this
    // CPU's copy of a live counter (caller); the instruction touches only those 8 bytes.
    unsafe {
        core::arch::asm!(
            "addq {value}, %gs:({counter})",
            counter = in(reg) counter,
            value = in(reg) value,
            options(att_syntax, nostack)
        )
    };
}

/// `this_cpu_add` of a `u64`, through the C macro where no segment instruction is written.
///
/// # Safety
///
/// `counter` is the per-CPU address of a live `u64` from `__alloc_percpu`.
#[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
unsafe fn this_cpu_add(counter: *mut u64, value: u64) {
    // SAFETY: a per-CPU address of a live counter (caller); `this_cpu_add` is safe in any
    // context.
    unsafe { shim::rust_ipvs_this_cpu_add_u64(counter, value) };
}

/// The length of the array `_array` points to.
const fn array_len<T, const L: usize>(_array: *const [T; L]) -> usize {
    L
}

/// Whether CPU `cpu` is possible (`cpu_possible`): a bit of the mask set at boot.
fn cpu_possible(cpu: u32) -> bool {
    // SAFETY: only the field's address is taken, nothing is read.
    let bits = unsafe { &raw const bindings::__cpu_possible_mask.bits };
    let word = (cpu / c_ulong::BITS) as usize;
    if word >= array_len(bits) {
        return false;
    }
    // SAFETY: `word` is inside the mask (checked above), which is written only during boot,
    // before any module is loaded.
    let word = unsafe { core::ptr::read(bits.cast::<c_ulong>().add(word)) };
    (word >> (cpu % c_ulong::BITS)) & 1 != 0
}

/// The address of possible CPU `cpu`'s copy of the per-CPU object at `base` (`per_cpu_ptr`),
/// [`None`] if `cpu` is not possible.
fn per_cpu_ptr<T>(base: *mut T, cpu: u32) -> Option<*const T> {
    if !cpu_possible(cpu) {
        return None;
    }
    let offsets = &raw const bindings::__per_cpu_offset;
    let index = cpu as usize;
    if index >= array_len(offsets) {
        return None;
    }
    // SAFETY: `index` is inside the table (checked above), whose entries of possible CPUs are
    // set during boot (`setup_per_cpu_areas`) and never change.
    let offset = unsafe { core::ptr::read(offsets.cast::<c_ulong>().add(index)) };
    // Per-CPU addresses are offsets, not pointers into one object: `wrapping_add`.
    Some(
        base.cast::<u8>()
            .wrapping_add(offset as usize)
            .cast::<T>()
            .cast_const(),
    )
}

/// The possible CPUs, in order (`for_each_possible_cpu`).
pub(crate) fn possible_cpus() -> impl Iterator<Item = u32> {
    // SAFETY: reads a variable set once at boot.
    let limit = unsafe { bindings::nr_cpu_ids };
    (0..limit).filter(|&cpu| cpu_possible(cpu))
}
