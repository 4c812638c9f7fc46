// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters (C: `alloc_percpu`, `this_cpu_add`, `per_cpu_ptr`): each CPU adds to its
//! own copy, with no atomic instruction and no cache line shared with another CPU; readers
//! sum the copies.
//!
//! On 64-bit machines a copy is read whole; a 32-bit reader may see a copy mid-update (C
//! guards that with `u64_stats_sync`), which only skews one reading.

use super::shim;
use core::ptr::NonNull;
use kernel::{bindings, ffi::c_ulong, prelude::*};

/// `N` counters per CPU.
///
/// # Invariants
///
/// `base` is the per-CPU address of a `[u64; N]` from `__alloc_percpu`, freed on drop.
pub(crate) struct PerCpuCounters<const N: usize> {
    /// The per-CPU address of the counters.
    base: NonNull<u64>,
}

// SAFETY: the counters are only changed by `this_cpu_add` (local to the CPU that runs it) and
// read with `READ_ONCE`; the handle may move between and be shared by threads.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: as above.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Counters at zero on every possible CPU.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no preconditions; per-CPU memory comes zeroed.
        let base = unsafe {
            shim::rust_ipvs_alloc_percpu(
                core::mem::size_of::<[u64; N]>(),
                core::mem::align_of::<u64>(),
            )
        };
        // INVARIANT: allocated above, for `[u64; N]`.
        Ok(PerCpuCounters {
            base: NonNull::new(base.cast::<u64>()).ok_or(ENOMEM)?,
        })
    }

    /// Adds `value` to counter `index` of the running CPU (nothing for an index past `N`).
    #[inline]
    pub(crate) fn add(&self, index: usize, value: u64) {
        if index < N {
            // SAFETY: a per-CPU address of a counter below `N` of this live set (type
            // invariant; index checked above).
            unsafe { this_cpu_add(self.base.as_ptr().wrapping_add(index), value) };
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
        let base = self.base.as_ptr();
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
        let mut total = [0u64; N];
        for cpu in possible_cpus() {
            self.add_cpu(cpu, &mut total);
        }
        total
    }

    /// Adds the counters of CPU `cpu` to `total` (wrapping; nothing for a CPU that is not
    /// possible), read in place, in one tight loop: no copy of a CPU's counters is made.
    #[inline(always)]
    fn add_cpu(&self, cpu: u32, total: &mut [u64; N]) {
        let Some(copy) = per_cpu_ptr(self.base.as_ptr(), cpu) else {
            return;
        };
        for (index, sum) in total.iter_mut().enumerate() {
            // Other CPUs may add to it meanwhile: one volatile read (`READ_ONCE`).
            // SAFETY: `copy` is CPU `cpu`'s `[u64; N]` (type invariant), `index < N`.
            let value = unsafe { core::ptr::read_volatile(copy.add(index)) };
            *sum = sum.wrapping_add(value);
        }
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: allocated by `__alloc_percpu` (type invariant), freed once here.
        unsafe { bindings::free_percpu(self.base.as_ptr().cast()) };
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
