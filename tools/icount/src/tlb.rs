// SPDX-License-Identifier: GPL-2.0

//! A model of the two caches TCG consults on its slow paths, per vCPU, to count their misses
//! (`tlb=on`): the soft TLB and the jump cache.
//!
//! Under TCG a guest load or store first probes the soft TLB (one direct-mapped table per MMU
//! mode, plus an 8-entry victim table); a miss walks the guest's page tables in C
//! (`tlb_fill`), hundreds of host instructions. A branch to a block on another page, and every
//! return or indirect branch, looks its target up in the jump cache (4,096 entries by address);
//! a miss there searches the translation hash table and probes the code TLB. x86's CR3 writes
//! (every switch to another process's page tables) and `invpcid` flush both. So two runs of
//! the same instruction count can differ in time by how many distinct pages and branch targets
//! they touch between flushes, which the instruction counts do not show.
//!
//! The model follows QEMU 7.2's `accel/tcg/cputlb.c` and `include/exec/tb-hash.h`: the table's
//! index is the page number modulo its size; a fill evicts the old entry into the victim table
//! (round robin); a victim hit swaps; at each flush the size doubles when more than 70% of it
//! was used in the 100 ms window, and halves down to fit when under 30% for a whole window
//! (64 to 2^22 entries, 256 at first). Kernel-half and user-half addresses are modelled as two
//! MMU modes. Not modelled: read/write permission refills, `invlpg`, accesses across a page.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// log2 of a page.
const PAGE_BITS: u32 = 12;
/// Victim table entries (`CPU_VTLB_SIZE`).
const VICTIMS: usize = 8;
/// The table's smallest size, log2 (`CPU_TLB_DYN_MIN_BITS`).
const MIN_BITS: u32 = 6;
/// The table's first size, log2 (`CPU_TLB_DYN_DEFAULT_BITS`).
const DEFAULT_BITS: u32 = 8;
/// The table's largest size, log2, for x86-64 (`CPU_TLB_DYN_MAX_BITS`).
const MAX_BITS: u32 = 22;
/// The resize window (`tlb_mmu_resize_locked`).
const WINDOW: Duration = Duration::from_millis(100);
/// Jump cache entries, log2 (`TB_JMP_CACHE_BITS`).
const JUMP_CACHE_BITS: u32 = 12;
/// An empty entry (no page or block has this address).
const EMPTY: u64 = u64::MAX;

/// One MMU mode's soft TLB.
struct Table {
    /// Page numbers, direct-mapped.
    entries: Vec<u64>,
    /// The victim table.
    victims: [u64; VICTIMS],
    /// The next victim slot filled.
    next_victim: usize,
    /// Entries filled since the last flush (`n_used_entries`).
    used: usize,
    /// The most entries used between two flushes in the current window.
    window_max: usize,
    /// When the current window began.
    window_begin: Instant,
}

impl Table {
    /// An empty table of QEMU's first size.
    fn new() -> Self {
        Self {
            entries: vec![EMPTY; 1 << DEFAULT_BITS],
            victims: [EMPTY; VICTIMS],
            next_victim: 0,
            used: 0,
            window_max: 0,
            window_begin: Instant::now(),
        }
    }

    /// Looks the page of `vaddr` up; fills it on a miss. Returns whether it missed.
    fn access(&mut self, vaddr: u64) -> bool {
        let page = vaddr >> PAGE_BITS;
        let index = (page as usize) & (self.entries.len() - 1);
        if self.entries[index] == page {
            return false;
        }
        if let Some(v) = self.victims.iter().position(|&p| p == page) {
            self.victims[v] = self.entries[index];
            self.entries[index] = page;
            return false;
        }
        let old = self.entries[index];
        if old == EMPTY {
            self.used += 1;
        } else {
            self.victims[self.next_victim] = old;
            self.next_victim = (self.next_victim + 1) % VICTIMS;
        }
        self.entries[index] = page;
        true
    }

    /// Empties the table, resizing it first as QEMU does at a flush.
    fn flush(&mut self, now: Instant) {
        let size = self.entries.len();
        self.window_max = self.window_max.max(self.used);
        let expired = now.duration_since(self.window_begin) > WINDOW;
        let rate = self.window_max * 100 / size;
        let mut new_size = size;
        if rate > 70 {
            new_size = (size << 1).min(1 << MAX_BITS);
        } else if rate < 30 && expired {
            let fit = self.window_max.max(1).next_power_of_two();
            let fit = if self.window_max * 100 / fit > 70 {
                fit << 1
            } else {
                fit
            };
            new_size = fit.clamp(1 << MIN_BITS, size);
        }
        if expired {
            self.window_begin = now;
            self.window_max = self.used;
        }
        if new_size == size {
            self.entries.fill(EMPTY);
        } else {
            self.entries = vec![EMPTY; new_size];
        }
        self.victims = [EMPTY; VICTIMS];
        self.used = 0;
    }
}

/// Whether an address is in the kernel's half (the kernel's MMU mode, in this model).
pub(crate) fn kernel_half(vaddr: u64) -> bool {
    vaddr >> 63 != 0
}

/// A vCPU's caches.
pub(crate) struct Vcpu {
    /// Soft TLBs: the kernel's and user space's.
    tables: [Table; 2],
    /// Block addresses by jump-cache slot.
    jump_cache: Vec<u64>,
    /// The block last entered, and whether it ended in a return or indirect branch.
    last_block: (u64, bool),
    /// Whether the block last entered ended in a call.
    last_called: bool,
    /// Calls: times each (calling block, called block) pair was followed.
    pub(crate) calls: HashMap<(u64, u64), u64>,
}

/// The jump cache's slot of a block address (`tb_jmp_cache_hash_func`).
fn jump_slot(pc: u64) -> usize {
    let page_bits = JUMP_CACHE_BITS / 2;
    let shift = PAGE_BITS - page_bits;
    let addr_mask = (1u64 << page_bits) - 1;
    let page_mask = (1u64 << JUMP_CACHE_BITS) - (1 << page_bits);
    let tmp = pc ^ (pc >> shift);
    (((tmp >> shift) & page_mask) | (tmp & addr_mask)) as usize
}

impl Vcpu {
    /// A vCPU's caches at boot: empty.
    pub(crate) fn new() -> Self {
        Self {
            tables: [Table::new(), Table::new()],
            jump_cache: vec![EMPTY; 1 << JUMP_CACHE_BITS],
            last_block: (EMPTY, true),
            last_called: false,
            calls: HashMap::new(),
        }
    }

    /// A load or store at `vaddr` by code at `pc`: whether it missed the soft TLB.
    pub(crate) fn access(&mut self, pc: u64, vaddr: u64) -> bool {
        self.tables[usize::from(kernel_half(pc))].access(vaddr)
    }

    /// A CR3 write or `invpcid`: flushes both tables and the jump cache.
    pub(crate) fn flush(&mut self) {
        let now = Instant::now();
        for table in &mut self.tables {
            table.flush(now);
        }
        self.jump_cache.fill(EMPTY);
    }

    /// The block at `pc` is entered; `indirect_exit` says whether it ends in a return or
    /// indirect branch, `call_exit` whether in a call. Returns (looked up, missed): whether
    /// TCG reached it through the jump cache (not a chained direct branch from the same page),
    /// and whether the cache missed. A block entered after one that ended in a call is counted
    /// as called from it (an interrupt in between makes a rare false edge).
    pub(crate) fn enter(&mut self, pc: u64, indirect_exit: bool, call_exit: bool) -> (bool, bool) {
        let (last, last_indirect) = self.last_block;
        self.last_block = (pc, indirect_exit);
        if std::mem::replace(&mut self.last_called, call_exit) {
            *self.calls.entry((last, pc)).or_default() += 1;
        }
        if !last_indirect && last >> PAGE_BITS == pc >> PAGE_BITS {
            return (false, false);
        }
        let slot = jump_slot(pc);
        if self.jump_cache[slot] == pc {
            return (true, false);
        }
        self.jump_cache[slot] = pc;
        (true, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_misses_once_until_a_flush() {
        let mut vcpu = Vcpu::new();
        let pc = 0xffff_ffff_8100_0000;
        assert!(vcpu.access(pc, 0xffff_8880_0000_1008));
        assert!(!vcpu.access(pc, 0xffff_8880_0000_1ff0));
        // Same index, another page: evicted into the victim table, then swapped back.
        assert!(vcpu.access(pc, 0xffff_8880_0000_1008 + (256 << 12)));
        assert!(!vcpu.access(pc, 0xffff_8880_0000_1008));
        // User space has its own table.
        assert!(vcpu.access(0x40_1000, 0xffff_8880_0000_1008));
        vcpu.flush();
        assert!(vcpu.access(pc, 0xffff_8880_0000_1008));
    }

    #[test]
    fn the_table_grows_when_a_flush_finds_it_mostly_used() {
        let mut table = Table::new();
        for page in 0..200u64 {
            table.access(page << PAGE_BITS);
        }
        table.flush(Instant::now());
        assert_eq!(table.entries.len(), 512);
    }

    #[test]
    fn chained_branches_skip_the_jump_cache() {
        let mut vcpu = Vcpu::new();
        assert_eq!(vcpu.enter(0x1000, false, false), (true, true));
        assert_eq!(vcpu.enter(0x1040, true, false), (false, false));
        assert_eq!(vcpu.enter(0x1000, false, true), (true, false));
        assert_eq!(vcpu.enter(0x2000, false, false), (true, true));
        vcpu.flush();
        assert_eq!(vcpu.enter(0x3000, false, false), (true, true));
        assert_eq!(vcpu.calls.get(&(0x1000, 0x2000)), Some(&1));
        assert_eq!(vcpu.calls.len(), 1);
    }
}
