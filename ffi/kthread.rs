// SPDX-License-Identifier: GPL-2.0

//! Kernel threads of a namespace (the sync daemon's, C: `kthread_run` of
//! `sync_thread_master` and `sync_thread_backup`, and the rate estimator's, C:
//! `ip_vs_est_kthread_start`): each runs its namespace state's [`Threads::run_thread`] until
//! it is stopped, which dropping its [`KThread`] does.

use super::{
    net::{
        Net, //
        PernetState,
    },
    shim,
};
use kernel::{
    bindings,
    cpumask::{
        Cpumask, //
        CpumaskVar,
    },
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
    /// The rate estimator (`ipvs-e:…`).
    Estimator,
}

impl ThreadKind {
    /// The letter of the kind in the thread's name.
    fn tag(self) -> u8 {
        match self {
            ThreadKind::Master => b'm',
            ThreadKind::Backup => b'b',
            ThreadKind::Estimator => b'e',
        }
    }
}

/// A set of CPUs a thread may be placed on, owned (`cpumask_var_t`).
pub(crate) struct CpuSet(CpumaskVar);

// SAFETY: the mask is memory its owner allocated and frees, bound to no task or CPU
// (`CpumaskVar` is not `Send` only because it holds a pointer where masks are allocated).
unsafe impl Send for CpuSet {}
// SAFETY: a shared reference only reads the mask.
unsafe impl Sync for CpuSet {}

// No pointer into the mask outlives a call (`kthread_affine_preferred` copies it), so it may
// move.
impl Unpin for CpuSet {}

impl CpuSet {
    /// A copy of `cpus`.
    pub(crate) fn try_clone(cpus: &Cpumask) -> Result<Self> {
        Ok(CpuSet(CpumaskVar::try_clone(cpus)?))
    }

    /// Replaces the set by `cpus`.
    pub(crate) fn set(&mut self, cpus: &Cpumask) {
        cpus.copy(&mut self.0);
    }

    /// The set.
    pub(crate) fn cpus(&self) -> &Cpumask {
        &self.0
    }
}

/// How a thread is named and placed: C names it `ipvs-<kind>:<generation>:<id>`.
pub(crate) struct ThreadSpec<'a> {
    /// Its kind.
    pub(crate) kind: ThreadKind,
    /// The generation of its namespace (C: `ipvs->gen`, the namespace's order of creation).
    pub(crate) generation: u32,
    /// Its number among the threads of its kind.
    pub(crate) id: u32,
    /// Its nice level (`set_user_nice`).
    pub(crate) nice: i32,
    /// The CPUs it prefers (`kthread_affine_preferred`), or any.
    pub(crate) cpus: Option<&'a Cpumask>,
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
    /// Starts the thread of `spec` for `net`, whose state is a `T`. The caller drops the
    /// handle before `net`'s exit ends.
    pub(crate) fn start<T: Threads>(net: &Net, spec: &ThreadSpec<'_>) -> Result<Self> {
        let args = KBox::new(
            Args {
                net: net.as_ptr(),
                kind: spec.kind,
                id: spec.id,
            },
            GFP_KERNEL,
        )?;
        let data = core::ptr::from_ref::<Args>(&args)
            .cast_mut()
            .cast::<c_void>();
        let preferred = spec
            .cpus
            .map_or(core::ptr::null(), |cpus| cpus.as_raw().cast_const());
        // `main::<T>` reads `data`, which `args` keeps alive and unmoved (it is boxed) for as
        // long as this handle, which stops the thread before freeing it; `preferred` is null
        // or a mask valid for the call (`kthread_affine_preferred` copies it).
        // SAFETY: `data` outlives the thread and `preferred` the call, as said above.
        let task = unsafe {
            shim::rust_ipvs_kthread_run(
                main::<T>,
                data,
                spec.kind.tag() as core::ffi::c_char,
                c_int::try_from(spec.generation).unwrap_or(c_int::MAX),
                c_int::try_from(spec.id).unwrap_or(c_int::MAX),
                spec.nice,
                preferred,
            )
        };
        let task = from_err_ptr(task)?;
        // INVARIANT: started above with our reference, running `main` on `args`.
        Ok(KThread { task, _args: args })
    }

    /// The thread's process ID (`task_pid_nr`).
    pub(crate) fn pid(&self) -> i32 {
        // SAFETY: we hold a reference on the task (type invariant), whose `pid` is set at
        // creation and never changes.
        unsafe { (*self.task).pid }
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

/// Marks the current task as about to sleep without counting as load (`TASK_IDLE`, as C's
/// estimator): a wake-up after this, before [`sleep`], makes the sleep return at once.
pub(crate) fn prepare_to_idle() {
    // SAFETY: no preconditions.
    unsafe { shim::rust_ipvs_set_current_idle() };
}

/// Marks the current task running again after [`prepare_to_sleep`] or [`prepare_to_idle`],
/// without sleeping.
pub(crate) fn cancel_sleep() {
    // SAFETY: no preconditions.
    unsafe { shim::rust_ipvs_set_current_running() };
}

/// Sleeps up to `jiffies` after [`prepare_to_sleep`] or [`prepare_to_idle`]
/// (`schedule_timeout`), less if woken.
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
