// SPDX-License-Identifier: GPL-2.0

//! Kernel threads of a namespace (the sync daemon's, C: `kthread_run` of
//! `sync_thread_master` and `sync_thread_backup`): each runs its namespace state's
//! [`Threads::run_thread`] until it is stopped, which dropping its [`KThread`] does.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{
        c_int, //
        c_void,
    },
    prelude::*,
};

/// The kinds of thread a namespace runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadKind {
    /// A master's sender (`ipvs-m:…`).
    Master,
    /// A backup's receiver (`ipvs-b:…`).
    Backup,
}

/// What a namespace's threads run.
pub(crate) trait Threads: PernetState {
    /// The body of thread `id` of `kind`, in process context; it returns once
    /// [`should_stop`] says so (or earlier: the thread then waits for its stop).
    fn run_thread(&self, kind: ThreadKind, id: u32);
}

/// What a thread is started with.
struct Args {
    /// Its namespace.
    net: *mut bindings::net,
    /// Its kind.
    kind: ThreadKind,
    /// Its number.
    id: u32,
}

/// A running thread; dropping it stops it and waits for it to end.
///
/// # Invariants
///
/// `task` came from `rust_ipvs_kthread_run` with a reference of ours on it, runs [`main`]
/// with `args`, and has not been stopped; its namespace outlives this handle (the owner, the
/// namespace's state, drops it before the namespace's exit ends).
pub(crate) struct KThread {
    /// The thread's task.
    task: *mut bindings::task_struct,
    /// Its arguments, which it reads until stopped.
    _args: KBox<Args>,
}

// SAFETY: the handle only wakes and stops the thread, which any task may do.
unsafe impl Send for KThread {}
// SAFETY: `wake` may be called from any context, concurrently.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts thread `id` of `kind` for `net`, whose state is a `T`. The caller drops the
    /// handle before `net`'s exit ends.
    pub(crate) fn start<T: Threads>(net: &Net, kind: ThreadKind, id: u32) -> Result<Self> {
        let args = KBox::new(
            Args {
                net: net.as_ptr(),
                kind,
                id,
            },
            GFP_KERNEL,
        )?;
        let data = core::ptr::from_ref::<Args>(&args)
            .cast_mut()
            .cast::<c_void>();
        let tag = match kind {
            ThreadKind::Master => b'm',
            ThreadKind::Backup => b'b',
        };
        // SAFETY: `main::<T>` reads `data`, which `args` keeps alive and unmoved (it is boxed)
        // for as long as this handle, which stops the thread before freeing it.
        let task = unsafe {
            shim::rust_ipvs_kthread_run(
                main::<T>,
                data,
                tag as core::ffi::c_char,
                c_int::try_from(id).unwrap_or(c_int::MAX),
            )
        };
        let task = from_err_ptr(task)?;
        // INVARIANT: started above with our reference, running `main` on `args`.
        Ok(KThread { task, _args: args })
    }

    /// Wakes the thread if it sleeps (`wake_up_process`); any context.
    pub(crate) fn wake(&self) {
        // SAFETY: we hold a reference on the task (type invariant).
        unsafe { bindings::wake_up_process(self.task) };
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        // SAFETY: the task is ours to stop, once (type invariant); `kthread_stop_put` drops
        // our reference after the thread ended.
        unsafe { bindings::kthread_stop_put(self.task) };
    }
}

/// Whether the current kthread was asked to stop (`kthread_should_stop`).
pub(crate) fn should_stop() -> bool {
    // SAFETY: called from the threads started here.
    unsafe { bindings::kthread_should_stop() }
}

/// Marks the current task as about to sleep interruptibly (`set_current_state`): a wake-up
/// after this, before [`sleep`], makes the sleep return at once.
pub(crate) fn prepare_to_sleep() {
    // SAFETY: no preconditions.
    unsafe { shim::rust_ipvs_set_current_interruptible() };
}

/// Marks the current task running again after [`prepare_to_sleep`], without sleeping.
pub(crate) fn cancel_sleep() {
    // SAFETY: no preconditions.
    unsafe { shim::rust_ipvs_set_current_running() };
}

/// Sleeps up to `jiffies` after [`prepare_to_sleep`] (`schedule_timeout`), less if woken.
pub(crate) fn sleep(jiffies: u64) {
    let timeout = kernel::ffi::c_long::try_from(jiffies).unwrap_or(kernel::ffi::c_long::MAX);
    // SAFETY: process context (the threads started here), no lock held.
    unsafe { bindings::schedule_timeout(timeout) };
}

/// A thread's entry point: runs the namespace state's thread body, then waits to be stopped.
///
/// # Safety
///
/// `data` is the [`Args`] of a live [`KThread`] whose namespace's state is a `T`.
unsafe extern "C" fn main<T: Threads>(data: *mut c_void) -> c_int {
    // SAFETY: `data` points to the handle's `Args`, alive until the thread is stopped
    // (function contract).
    let args = unsafe { &*data.cast_const().cast::<Args>() };
    // SAFETY: the namespace outlives the handle, which stops this thread first (invariant of
    // `KThread`).
    let net = unsafe { Net::from_raw(args.net) };
    // SAFETY: `T` is the namespace's state type (function contract).
    if let Some(state) = unsafe { net.state::<T>() } {
        state.run_thread(args.kind, args.id);
    }
    while !should_stop() {
        prepare_to_sleep();
        if should_stop() {
            cancel_sleep();
            break;
        }
        // SAFETY: process context, no lock held.
        unsafe { bindings::schedule() };
    }
    0
}
