// SPDX-License-Identifier: GPL-2.0

//! `/proc/net/ip_vs`, `ip_vs_conn`, `ip_vs_stats` and `ip_vs_stats_percpu`: registration per namespace and the
//! seq_file callbacks, which hand a [`SeqFile`] writer to the module's [`ProcFiles`].

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
    /// `/proc/net/ip_vs_conn`.
    fn conns(&self, out: &mut SeqFile);
    /// `/proc/net/ip_vs_stats`.
    fn stats(&self, out: &mut SeqFile);
    /// `/proc/net/ip_vs_stats_percpu`.
    fn stats_per_cpu(&self, out: &mut SeqFile);
}

/// Which of the [`ProcFiles`] a `show` callback writes.
#[derive(Clone, Copy)]
pub(crate) enum ProcFile {
    /// [`ProcFiles::services`].
    Services,
    /// [`ProcFiles::conns`].
    Conns,
    /// [`ProcFiles::stats`].
    Stats,
    /// [`ProcFiles::stats_per_cpu`].
    StatsPerCpu,
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
            ProcFile::Conns => ipvs.conns(out),
            ProcFile::Stats => ipvs.stats(out),
            ProcFile::StatsPerCpu => ipvs.stats_per_cpu(out),
        }
    }
    0
}
