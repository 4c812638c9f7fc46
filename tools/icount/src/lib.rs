// SPDX-License-Identifier: GPL-2.0

//! A QEMU TCG plugin that counts the guest instructions executed, by translation block.
//!
//! Under TCG the guest has no PMU: `perf` in the guest only samples, and sampling spreads a
//! small difference over many functions. This plugin counts exactly, and the same for the same
//! work: each translation block's start address gets two counters, instructions executed and
//! times entered (a block ends at a branch, so entries count the branches and returns the
//! emulation dispatches, which TCG pays for more than for straight-line code). The counters are
//! added inline by the generated code; no callback runs per block.
//!
//! Some instructions cost TCG far more than their count says: a locked read-modify-write (an
//! atomic, C's `refcount_inc` or Rust's `Arc::clone`) and a division each call a helper
//! function. The plugin decodes each block's instructions once, at translation, and counts
//! those two kinds as well.
//!
//! Load it with `-plugin libicount.so,out=FILE` (`scripts/vm.sh --icount FILE`); when QEMU
//! exits it writes one line per block ever entered, `ADDRESS INSTRUCTIONS ENTRIES TRANSLATIONS
//! ATOMICS DIVISIONS WIDE_ATOMICS` (the address in hex), for `scripts/icount.py` to add up by guest symbol. The counts of several vCPUs are
//! added without atomics: a rare lost update is noise far below what the counts compare.
//!
//! With `tlb=on` it also models the soft TLB and jump cache of each vCPU ([`tlb`]) and adds
//! four columns: `TLB_MISSES JUMP_LOOKUPS JUMP_MISSES FLUSHES` (a callback per memory access
//! and per block: the guest runs several times slower, so compare counts per unit of work,
//! not rates), and writes the calls it saw to `FILE.calls` (`scripts/icount.py --callers`).
//!
//! Written against QEMU's plugin API version 1 (QEMU 7.2, Debian 12's): the few functions used
//! are declared here.

mod tlb;

use std::{
    collections::HashMap,
    ffi::{c_char, c_int, c_uint, c_void, CStr},
    fs::File,
    io::{BufWriter, Write},
    sync::Mutex,
};

/// A plugin's identifier (`qemu_plugin_id_t`).
type PluginId = u64;

/// A translation block being translated (`struct qemu_plugin_tb`), opaque.
#[repr(C)]
struct Tb {
    _opaque: [u8; 0],
}

/// One instruction of a block being translated (`struct qemu_plugin_insn`), opaque.
#[repr(C)]
struct Insn {
    _opaque: [u8; 0],
}

/// `QEMU_PLUGIN_INLINE_ADD_U64`, the one inline operation of `enum qemu_plugin_op`.
const INLINE_ADD_U64: c_int = 0;
/// `QEMU_PLUGIN_CB_NO_REGS` of `enum qemu_plugin_cb_flags`.
const CB_NO_REGS: c_int = 0;
/// `QEMU_PLUGIN_MEM_RW` of `enum qemu_plugin_mem_rw`.
const MEM_RW: c_int = 3;

/// A callback at a block's or an instruction's execution (`qemu_plugin_vcpu_udata_cb_t`).
type UdataCb = extern "C" fn(vcpu: c_uint, userdata: *mut c_void);
/// A callback at a memory access (`qemu_plugin_vcpu_mem_cb_t`).
type MemCb = extern "C" fn(vcpu: c_uint, info: u32, vaddr: u64, userdata: *mut c_void);

extern "C" {
    fn qemu_plugin_register_vcpu_tb_trans_cb(
        id: PluginId,
        cb: extern "C" fn(id: PluginId, tb: *mut Tb),
    );
    fn qemu_plugin_register_vcpu_tb_exec_inline(tb: *mut Tb, op: c_int, ptr: *mut c_void, imm: u64);
    fn qemu_plugin_register_vcpu_tb_exec_cb(
        tb: *mut Tb,
        cb: UdataCb,
        flags: c_int,
        userdata: *mut c_void,
    );
    fn qemu_plugin_register_vcpu_insn_exec_cb(
        insn: *mut Insn,
        cb: UdataCb,
        flags: c_int,
        userdata: *mut c_void,
    );
    fn qemu_plugin_register_vcpu_mem_cb(
        insn: *mut Insn,
        cb: MemCb,
        flags: c_int,
        rw: c_int,
        userdata: *mut c_void,
    );
    fn qemu_plugin_tb_n_insns(tb: *const Tb) -> usize;
    fn qemu_plugin_tb_vaddr(tb: *const Tb) -> u64;
    fn qemu_plugin_tb_get_insn(tb: *const Tb, idx: usize) -> *mut Insn;
    fn qemu_plugin_insn_data(insn: *const Insn) -> *const c_void;
    fn qemu_plugin_insn_size(insn: *const Insn) -> usize;
    fn qemu_plugin_register_atexit_cb(
        id: PluginId,
        cb: extern "C" fn(id: PluginId, userdata: *mut c_void),
        userdata: *mut c_void,
    );
    fn qemu_plugin_outs(string: *const c_char);
}

/// The plugin API version this plugin was written for (QEMU refuses a newer one).
#[no_mangle]
pub static qemu_plugin_version: c_int = 1;

/// The counters of the blocks starting at one address (every translation of it adds here).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Counters {
    /// Instructions executed.
    insns: u64,
    /// Times a block starting here was entered.
    entries: u64,
    /// Times a block starting here was translated (more than once when TCG threw the
    /// translation away: its code buffer filled, or a write hit the page).
    translations: u64,
    /// Locked read-modify-writes executed ([`Kind::Atomic`]).
    atomics: u64,
    /// Divisions executed ([`Kind::Division`]).
    divisions: u64,
    /// Locked 16-byte compare-exchanges executed ([`Kind::WideAtomic`]), also counted in
    /// `atomics`.
    wide_atomics: u64,
    /// Loads and stores of the block that missed the modelled soft TLB (`tlb=on`).
    tlb_misses: u64,
    /// Entries of the block through the modelled jump cache (`tlb=on`).
    jump_lookups: u64,
    /// Of those, the ones that missed it.
    jump_misses: u64,
    /// TLB flushes (CR3 writes, `invpcid`) the block made (`tlb=on`).
    flushes: u64,
    /// The block's address.
    block: u64,
    /// Whether the block ends in a return or an indirect branch (never chained by TCG).
    indirect_exit: bool,
    /// Whether the block ends in a call.
    call_exit: bool,
}

/// The kinds of x86-64 instruction TCG runs through a helper function, counted apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A `lock`-prefixed instruction, or an `xchg` with memory (locked without the prefix).
    Atomic,
    /// `lock cmpxchg16b` (SLUB's freelist updates): a QEMU built without 128-bit host atomics
    /// runs it with every other vCPU stopped (`cpu_exec_step_atomic`); this host's does not
    /// (measured in the guest: 40 ns each, a `lock xadd` 10-17 ns).
    WideAtomic,
    /// `div` or `idiv` (opcodes F6 and F7 with a ModRM reg field of 6 or 7).
    Division,
    /// A write to CR3 (`0F 22 /3`) or `invpcid` (`66 0F 38 82`): a full TLB flush under TCG.
    Flush,
    /// A return or an indirect jump: TCG looks the target up every time.
    Indirect,
    /// A direct call (`E8`).
    Call,
    /// An indirect call (`FF /2`): both [`Kind::Indirect`] and [`Kind::Call`].
    IndirectCall,
    /// Anything else.
    Other,
}

/// The kind of the x86-64 instruction whose bytes are `code`.
fn kind(code: &[u8]) -> Kind {
    let mut locked = false;
    let mut i = 0;
    // Legacy prefixes, then at most one REX prefix.
    while let Some(&byte) = code.get(i) {
        match byte {
            0xF0 => locked = true,
            0xF2 | 0xF3 | 0x2E | 0x36 | 0x3E | 0x26 | 0x64 | 0x65 | 0x66 | 0x67 => {}
            _ => break,
        }
        i += 1;
    }
    let rex_w = matches!(code.get(i), Some(rex @ 0x40..=0x4F) if rex & 8 != 0);
    if matches!(code.get(i), Some(0x40..=0x4F)) {
        i += 1;
    }
    match code.get(i) {
        Some(0xC2 | 0xC3 | 0xCA | 0xCB | 0xCF) if !locked => return Kind::Indirect,
        Some(0xE8) if !locked => return Kind::Call,
        _ => {}
    }
    let (Some(&opcode), Some(&modrm)) = (code.get(i), code.get(i + 1)) else {
        return if locked { Kind::Atomic } else { Kind::Other };
    };
    let (mode, reg) = (modrm >> 6, (modrm >> 3) & 7);
    let two_byte = code.get(i + 2).copied();
    // `0F C7 /1` with REX.W: cmpxchg16b.
    let cmpxchg16b = opcode == 0x0F
        && code.get(i + 1) == Some(&0xC7)
        && rex_w
        && code.get(i + 2).is_some_and(|m| (m >> 3) & 7 == 1);
    match opcode {
        _ if locked && cmpxchg16b => Kind::WideAtomic,
        _ if locked => Kind::Atomic,
        0x86 | 0x87 if mode != 3 => Kind::Atomic,
        0xF6 | 0xF7 if reg >= 6 => Kind::Division,
        0x0F if modrm == 0x22 && two_byte.is_some_and(|m| (m >> 3) & 7 == 3) => Kind::Flush,
        0x0F if modrm == 0x38 && two_byte == Some(0x82) => Kind::Flush,
        0xFF if reg == 2 => Kind::IndirectCall,
        0xFF if (3..=5).contains(&reg) => Kind::Indirect,
        _ => Kind::Other,
    }
}

/// How many instructions of each counted kind the block `tb` has: (atomics, divisions, wide
/// atomics), a wide atomic counted as an atomic too.
///
/// # Safety
///
/// `tb` is the block QEMU is translating, valid for the translation callback.
unsafe fn kinds_in(tb: *const Tb, insns: usize) -> (u64, u64, u64) {
    let (mut atomics, mut divisions, mut wide) = (0, 0, 0);
    for idx in 0..insns {
        // SAFETY: `idx` is below the block's instruction count, and `tb` valid for the
        // translation callback (function contract).
        match unsafe { kind_of(tb, idx) }.1 {
            Kind::Atomic => atomics += 1,
            Kind::WideAtomic => {
                atomics += 1;
                wide += 1;
            }
            Kind::Division => divisions += 1,
            Kind::Flush | Kind::Indirect | Kind::Call | Kind::IndirectCall | Kind::Other => {}
        }
    }
    (atomics, divisions, wide)
}

/// The kind of the instruction `idx` of `tb`.
///
/// # Safety
///
/// `tb` is the block QEMU is translating, valid for the translation callback, and `idx` is
/// below its instruction count.
unsafe fn kind_of(tb: *const Tb, idx: usize) -> (*mut Insn, Kind) {
    // SAFETY: `idx` is below the block's instruction count, and `tb` valid for the
    // translation callback (function contract).
    let insn = unsafe { qemu_plugin_tb_get_insn(tb, idx) };
    // SAFETY: `insn` is an instruction of `tb`, valid during the callback.
    let (data, size) = unsafe { (qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn)) };
    // SAFETY: QEMU's copy of the instruction's `size` bytes, which lives as long as `insn`.
    let code = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size) };
    (insn, kind(code))
}

/// The modelled caches of each vCPU (`tlb=on`), by vCPU index; each is only ever locked by
/// the thread running that vCPU.
static VCPUS: [Mutex<Option<tlb::Vcpu>>; 64] = [const { Mutex::new(None) }; 64];

/// Runs `f` on the modelled caches of `vcpu`.
fn with_vcpu<R>(vcpu: c_uint, f: impl FnOnce(&mut tlb::Vcpu) -> R) -> Option<R> {
    let mut slot = VCPUS
        .get(vcpu as usize)?
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Some(f(slot.get_or_insert_with(tlb::Vcpu::new)))
}

/// At a block's entry (`tlb=on`): the jump cache.
extern "C" fn entered(vcpu: c_uint, userdata: *mut c_void) {
    let counters = userdata.cast::<Counters>();
    // SAFETY: `userdata` is the block's leaked counters (registered in `translated`).
    let (block, indirect_exit, call_exit) = unsafe {
        (
            (*counters).block,
            (*counters).indirect_exit,
            (*counters).call_exit,
        )
    };
    if let Some((looked_up, missed)) = with_vcpu(vcpu, |v| v.enter(block, indirect_exit, call_exit))
    {
        // SAFETY: as above; only this vCPU's thread runs this block's callbacks now, and a
        // rare lost update between vCPUs is noise.
        unsafe {
            (*counters).jump_lookups += u64::from(looked_up);
            (*counters).jump_misses += u64::from(missed);
        }
    }
}

/// At a load or store (`tlb=on`): the soft TLB.
extern "C" fn accessed(vcpu: c_uint, _info: u32, vaddr: u64, userdata: *mut c_void) {
    let counters = userdata.cast::<Counters>();
    // SAFETY: `userdata` is the block's leaked counters (registered in `translated`).
    let block = unsafe { (*counters).block };
    if with_vcpu(vcpu, |v| v.access(block, vaddr)) == Some(true) {
        // SAFETY: as in `entered`.
        unsafe { (*counters).tlb_misses += 1 };
    }
}

/// At a CR3 write or `invpcid` (`tlb=on`): a flush.
extern "C" fn flushed(vcpu: c_uint, userdata: *mut c_void) {
    with_vcpu(vcpu, tlb::Vcpu::flush);
    // SAFETY: as in `entered`.
    unsafe { (*userdata.cast::<Counters>()).flushes += 1 };
}

/// Registers the cache model's callbacks on the block `tb` being translated, whose counters
/// are `counters`.
///
/// # Safety
///
/// `tb` is the block QEMU is translating, valid for the translation callback, with `insns`
/// instructions; `counters` is leaked.
unsafe fn model_caches(tb: *mut Tb, insns: usize, counters: *mut Counters) {
    let userdata = counters.cast::<c_void>();
    for idx in 0..insns {
        // SAFETY: `idx` below the count, `tb` being translated (function contract).
        let (insn, kind) = unsafe { kind_of(tb, idx) };
        // SAFETY: `insn` is an instruction of the block being translated; `counters` leaked
        // (function contract), so it outlives every callback.
        unsafe {
            qemu_plugin_register_vcpu_mem_cb(insn, accessed, CB_NO_REGS, MEM_RW, userdata);
            if kind == Kind::Flush {
                qemu_plugin_register_vcpu_insn_exec_cb(insn, flushed, CB_NO_REGS, userdata);
            }
            if idx + 1 == insns {
                (*counters).indirect_exit = matches!(kind, Kind::Indirect | Kind::IndirectCall);
                (*counters).call_exit = matches!(kind, Kind::Call | Kind::IndirectCall);
            }
        }
    }
    // SAFETY: as above.
    unsafe { qemu_plugin_register_vcpu_tb_exec_cb(tb, entered, CB_NO_REGS, userdata) };
}

/// Counters the generated code adds to: leaked, so they stay put and outlive every block.
#[derive(Clone, Copy)]
struct CountersAt(*mut Counters);

// SAFETY: the pointer is to leaked memory, which any thread may reach; its contents are only
// added to by the generated code and read once at exit.
unsafe impl Send for CountersAt {}

/// What the plugin keeps between QEMU's calls.
struct State {
    /// Where the counts go at exit.
    out: String,
    /// The counters by block address.
    blocks: HashMap<u64, CountersAt>,
    /// Whether to model the soft TLB and jump cache (`tlb=on`).
    tlb: bool,
}

/// The plugin's state, set at installation.
static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Writes a message to QEMU's log.
fn say(message: &str) {
    let mut text = message.as_bytes().to_vec();
    text.push(0);
    // SAFETY: `text` is a NUL-terminated string alive for the call.
    unsafe { qemu_plugin_outs(text.as_ptr().cast()) };
}

/// At translation: points the new block's inline counters at its address's counters.
extern "C" fn translated(_id: PluginId, tb: *mut Tb) {
    // SAFETY: QEMU passes the block being translated, valid for this call.
    let (vaddr, insns) = unsafe { (qemu_plugin_tb_vaddr(tb), qemu_plugin_tb_n_insns(tb)) };
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(state) = state.as_mut() else {
        return;
    };
    let counters = *state.blocks.entry(vaddr).or_insert_with(|| {
        CountersAt(Box::into_raw(Box::new(Counters {
            block: vaddr,
            ..Counters::default()
        })))
    });
    // SAFETY: leaked counters; translations are counted under the state's lock, and the
    // generated code never touches this field.
    unsafe { (*counters.0).translations += 1 };
    // SAFETY: QEMU passes the block being translated, valid for this call.
    let (atomics, divisions, wide) = unsafe { kinds_in(tb, insns) };
    // SAFETY: the counters are leaked, so they outlive every block that adds to them; only
    // their addresses are taken here.
    let (insns_at, entries_at, atomics_at, divisions_at, wide_at) = unsafe {
        (
            &raw mut (*counters.0).insns,
            &raw mut (*counters.0).entries,
            &raw mut (*counters.0).atomics,
            &raw mut (*counters.0).divisions,
            &raw mut (*counters.0).wide_atomics,
        )
    };
    let adds = [
        (insns_at, insns as u64),
        (entries_at, 1),
        (atomics_at, atomics),
        (divisions_at, divisions),
        (wide_at, wide),
    ];
    for (at, imm) in adds.into_iter().filter(|&(_, imm)| imm != 0) {
        // SAFETY: as above; `tb` is the block being translated.
        unsafe { qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, at.cast(), imm) };
    }
    if state.tlb {
        // SAFETY: `tb` is being translated, with `insns` instructions; the counters leaked.
        unsafe { model_caches(tb, insns, counters.0) };
    }
}

/// At exit: writes the counts.
extern "C" fn exited(_id: PluginId, _userdata: *mut c_void) {
    let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(state) = state.as_ref() else {
        return;
    };
    let written = File::create(&state.out).and_then(|file| {
        let mut w = BufWriter::new(file);
        for (vaddr, counters) in &state.blocks {
            // SAFETY: leaked counters; the guest has stopped, so nothing adds to them now.
            let c = unsafe { std::ptr::read_volatile(counters.0) };
            if c.entries != 0 {
                write!(
                    w,
                    "{vaddr:x} {} {} {} {} {} {}",
                    c.insns, c.entries, c.translations, c.atomics, c.divisions, c.wide_atomics
                )?;
                if state.tlb {
                    write!(
                        w,
                        " {} {} {} {}",
                        c.tlb_misses, c.jump_lookups, c.jump_misses, c.flushes
                    )?;
                }
                writeln!(w)?;
            }
        }
        w.flush()
    });
    match written {
        Ok(()) => say(&format!(
            "icount: {} blocks written to {}\n",
            state.blocks.len(),
            state.out
        )),
        Err(e) => say(&format!("icount: cannot write {}: {e}\n", state.out)),
    }
    if state.tlb {
        write_calls(&format!("{}.calls", state.out));
    }
}

/// Writes the calls the cache model followed (`tlb=on`), every vCPU's added up, one line per
/// pair: `CALLING_BLOCK CALLED_BLOCK TIMES` (addresses in hex).
fn write_calls(path: &str) {
    let mut calls: HashMap<(u64, u64), u64> = HashMap::new();
    for vcpu in &VCPUS {
        let vcpu = vcpu.lock().unwrap_or_else(|e| e.into_inner());
        for (&pair, &times) in vcpu.iter().flat_map(|v| v.calls.iter()) {
            *calls.entry(pair).or_default() += times;
        }
    }
    let written = File::create(path).and_then(|file| {
        let mut w = BufWriter::new(file);
        for ((from, to), times) in &calls {
            writeln!(w, "{from:x} {to:x} {times}")?;
        }
        w.flush()
    });
    match written {
        Ok(()) => say(&format!(
            "icount: {} calls written to {path}\n",
            calls.len()
        )),
        Err(e) => say(&format!("icount: cannot write {path}: {e}\n")),
    }
}

/// Installs the plugin: `out=FILE` names the output.
///
/// # Safety
///
/// Called by QEMU with `argc` valid NUL-terminated strings in `argv`.
#[no_mangle]
pub unsafe extern "C" fn qemu_plugin_install(
    id: PluginId,
    _info: *const c_void,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    let mut out = None;
    let mut tlb = false;
    for i in 0..usize::try_from(argc).unwrap_or(0) {
        // SAFETY: QEMU passes `argc` valid strings (function contract).
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) }.to_string_lossy();
        match arg.split_once('=') {
            Some(("out", file)) => out = Some(file.to_string()),
            Some(("tlb", "on")) => tlb = true,
            Some(("tlb", "off")) => tlb = false,
            _ => {
                say(&format!(
                    "icount: unknown argument {arg} (takes out=FILE, tlb=on|off)\n"
                ));
                return -1;
            }
        }
    }
    let Some(out) = out else {
        say("icount: out=FILE is required\n");
        return -1;
    };
    *STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some(State {
        out,
        blocks: HashMap::new(),
        tlb,
    });
    // SAFETY: registering this plugin's callbacks with the identifier QEMU gave it.
    unsafe {
        qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
        qemu_plugin_register_atexit_cb(id, exited, std::ptr::null_mut());
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_the_instructions_tcg_treats_apart() {
        assert!(kind(&[0xF0, 0x0F, 0xC1, 0x07]) == Kind::Atomic); // lock xadd
        assert!(kind(&[0x0F, 0x22, 0xD8]) == Kind::Flush); // mov %rax,%cr3
        assert!(kind(&[0x0F, 0x22, 0xE0]) == Kind::Other); // mov %rax,%cr4
        assert!(kind(&[0x66, 0x0F, 0x38, 0x82, 0x07]) == Kind::Flush); // invpcid
        assert!(kind(&[0xC3]) == Kind::Indirect); // ret
        assert!(kind(&[0xFF, 0xD0]) == Kind::IndirectCall); // call *%rax
        assert!(kind(&[0xE8, 0, 0, 0, 0]) == Kind::Call);
        assert!(kind(&[0x41, 0xFF, 0xE3]) == Kind::Indirect); // jmp *%r11
        assert!(kind(&[0xFF, 0xC0]) == Kind::Other); // inc %eax
        assert!(kind(&[0x48, 0xF7, 0xF1]) == Kind::Division); // div %rcx
    }
}
