// SPDX-License-Identifier: GPL-2.0

//! `/proc/net/ip_vs`, `ip_vs_conn`, `ip_vs_conn_sync`, `ip_vs_stats` and
//! `ip_vs_stats_percpu`: registration per namespace and the seq_file callbacks, which hand a
//! [`SeqFile`] writer to the module's [`ProcFiles`]. The connection listings are iterated
//! record by record ([`ProcList`]), the others written by one `show`.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use core::fmt;
use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_int, //
        c_void,
    },
    prelude::*,
};

/// The proc files of one namespace, removed on drop.
///
/// # Invariants
///
/// `net` is a live namespace holding the files; the owner drops this before the namespace
/// is dismantled (the pernet exit does).
pub(crate) struct ProcRegistration {
    /// The namespace holding the files.
    net: *mut bindings::net,
}

// SAFETY: the registration is only a handle; removal may happen from any task.
unsafe impl Send for ProcRegistration {}
// SAFETY: `&ProcRegistration` exposes nothing.
unsafe impl Sync for ProcRegistration {}

impl ProcRegistration {
    /// Creates the files in `net`.
    pub(crate) fn new(net: &Net) -> Result<Self> {
        // SAFETY: `net` is alive (`Net` invariant); the show callbacks are defined below.
        to_result(unsafe { shim::rust_ipvs_proc_register(net.as_ptr()) })?;
        // INVARIANT: created above; the owner's contract keeps `net` alive.
        Ok(ProcRegistration { net: net.as_ptr() })
    }
}

impl Drop for ProcRegistration {
    fn drop(&mut self) {
        // SAFETY: created in `new` in a namespace that is still alive (type invariant);
        // `remove_proc_entry` waits for running readers.
        unsafe { shim::rust_ipvs_proc_unregister(self.net) };
    }
}

/// A seq_file being filled by a `show` callback; implements [`fmt::Write`].
pub(crate) struct SeqFile {
    /// The seq_file of the running `show` call.
    seq: *mut bindings::seq_file,
}

impl fmt::Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // An overflow is recorded in the seq_file, which retries with a larger buffer, so the
        // return value needs no handling here.
        // SAFETY: `seq` is valid during the `show` call that owns this writer; `s` is valid
        // for its length.
        unsafe { bindings::seq_write(self.seq, s.as_ptr().cast::<c_void>(), s.len()) };
        Ok(())
    }
}

/// What the module writes into its /proc/net files, per namespace.
pub(crate) trait ProcFiles: PernetState {
    /// `/proc/net/ip_vs`.
    fn services(&self, out: &mut SeqFile);
    /// How many records `list` has now (its header and its chains).
    fn list_len(&self, list: ProcList) -> u64;
    /// Writes record `index` of `list`.
    fn list_record(&self, list: ProcList, index: u64, out: &mut SeqFile);
    /// `/proc/net/ip_vs_stats`.
    fn stats(&self, out: &mut SeqFile);
    /// `/proc/net/ip_vs_stats_percpu`.
    fn stats_per_cpu(&self, out: &mut SeqFile);
    /// `/proc/net/ip_vs_sync_stats` (rust_ipvs only).
    fn sync_stats(&self, out: &mut SeqFile);
    /// `/proc/net/ip_vs_status`.
    fn status(&self, out: &mut SeqFile);
    /// `/proc/net/ip_vs_app`.
    fn apps(&self, out: &mut SeqFile);
}

/// Which of the [`ProcFiles`] a `show` callback writes.
#[derive(Clone, Copy)]
pub(crate) enum ProcFile {
    /// [`ProcFiles::services`].
    Services,
    /// [`ProcFiles::stats`].
    Stats,
    /// [`ProcFiles::stats_per_cpu`].
    StatsPerCpu,
    /// [`ProcFiles::sync_stats`].
    SyncStats,
    /// [`ProcFiles::status`].
    Status,
    /// [`ProcFiles::apps`].
    Apps,
}

/// Which listing a record of [`ProcFiles::list_record`] belongs to.
#[derive(Clone, Copy)]
pub(crate) enum ProcList {
    /// `/proc/net/ip_vs_conn`.
    Conns,
    /// `/proc/net/ip_vs_conn_sync`.
    ConnsSync,
}

/// The seq_file token of record `index` of the listing of `seq`, or null past its end: the
/// index plus one, never a dereferenced pointer.
///
/// # Safety
///
/// `seq` is the seq_file of a running callback of a listing [`ProcRegistration`] creates;
/// `T` is the module's per-namespace state type.
unsafe fn list_token<T: ProcFiles>(seq: *mut bindings::seq_file, index: i64) -> *mut c_void {
    // SAFETY: a proc_create_net file keeps its namespace alive while open (caller).
    let net = unsafe { Net::from_raw(shim::rust_ipvs_seq_file_net(seq)) };
    // SAFETY: `T` is the module's state type (caller).
    let Some(ipvs) = (unsafe { net.state::<T>() }) else {
        return core::ptr::null_mut();
    };
    // Both listings have the same records (the same table).
    match u64::try_from(index) {
        Ok(i) if i < ipvs.list_len(ProcList::Conns) => {
            core::ptr::without_provenance_mut(usize::try_from(i).unwrap_or(usize::MAX) + 1)
        }
        _ => core::ptr::null_mut(),
    }
}

/// `start` of a listing: the record at `*pos`.
///
/// # Safety
///
/// `seq` and `pos` are the arguments of a running `start` of a listing [`ProcRegistration`]
/// creates; `T` is the module's per-namespace state type.
pub(crate) unsafe fn list_start<T: ProcFiles>(
    seq: *mut bindings::seq_file,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: `pos` is valid for the call (caller).
    let index = unsafe { *pos };
    // SAFETY: as the caller guarantees.
    unsafe { list_token::<T>(seq, index) }
}

/// `next` of a listing: the record after `*pos`, which it advances.
///
/// # Safety
///
/// As [`list_start`], for a running `next`.
pub(crate) unsafe fn list_next<T: ProcFiles>(
    seq: *mut bindings::seq_file,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: `pos` is valid for the call (caller).
    let index = unsafe {
        *pos = (*pos).saturating_add(1);
        *pos
    };
    // SAFETY: as the caller guarantees.
    unsafe { list_token::<T>(seq, index) }
}

/// `show` of a listing: writes the record whose token is `v`.
///
/// # Safety
///
/// `seq` is the seq_file of a running `show` of listing `list`, which [`ProcRegistration`]
/// creates, and `v` a token its `start` or `next` returned; `T` is the module's
/// per-namespace state type.
pub(crate) unsafe fn list_show<T: ProcFiles>(
    seq: *mut bindings::seq_file,
    v: *mut c_void,
    list: ProcList,
) -> c_int {
    // SAFETY: a proc_create_net file keeps its namespace alive while open (caller).
    let net = unsafe { Net::from_raw(shim::rust_ipvs_seq_file_net(seq)) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(ipvs) = unsafe { net.state::<T>() } {
        let index = v.addr().saturating_sub(1) as u64;
        ipvs.list_record(list, index, &mut SeqFile { seq });
    }
    0
}

/// `show` of a single-open proc file of this module: writes `file` for the namespace of
/// `seq`.
///
/// # Safety
///
/// `seq` is the seq_file passed to a running single-open `show` callback of one of the files
/// [`ProcRegistration`] creates; `T` is the module's per-namespace state type.
pub(crate) unsafe fn show<T: ProcFiles>(seq: *mut bindings::seq_file, file: ProcFile) -> c_int {
    // SAFETY: a single-open proc file of a namespace keeps the namespace alive while open.
    let net = unsafe { Net::from_raw(shim::rust_ipvs_seq_net(seq)) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(ipvs) = unsafe { net.state::<T>() } {
        let out = &mut SeqFile { seq };
        match file {
            ProcFile::Services => ipvs.services(out),
            ProcFile::Stats => ipvs.stats(out),
            ProcFile::StatsPerCpu => ipvs.stats_per_cpu(out),
            ProcFile::SyncStats => ipvs.sync_stats(out),
            ProcFile::Status => ipvs.status(out),
            ProcFile::Apps => ipvs.apps(out),
        }
    }
    0
}
