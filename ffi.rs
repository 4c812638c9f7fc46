// SPDX-License-Identifier: GPL-2.0

//! The binding layer: the only code in rust_ipvs with `unsafe`.
//!
//! `shim.c` holds the C objects the kernel's `bindings` crate cannot reach (the netfilter hook
//! table, the pernet operations, the generic netlink family, the proc files, the sysctl table)
//! and one-line wrappers of static inline functions; the modules here wrap them in safe types.
//!
//! Nothing here knows the module's logic. Each kind of C callback is a trait
//! ([`net::PernetState`], [`netfilter::Hooks`], [`genl::Family`], [`proc::ProcFiles`],
//! [`timer::Tick`]) that the module's per-namespace state implements, and [`callbacks!`]
//! defines the C entry points shim.c names, all for that one type (as `module_phy_driver!`
//! does for a `phy::Driver`).

pub(crate) mod atomic;
pub(crate) mod bhlock;
pub(crate) mod genl;
pub(crate) mod kthread;
pub(crate) mod log;
pub(crate) mod net;
pub(crate) mod netfilter;
pub(crate) mod percpu;
pub(crate) mod proc;
pub(crate) mod random;
pub(crate) mod rcu;
pub(crate) mod rculist;
pub(crate) mod refcount;
pub(crate) mod route_cache;
mod shim;
pub(crate) mod skb;
pub(crate) mod slab;
pub(crate) mod slotlist;
pub(crate) mod sock;
pub(crate) mod sysctl;
pub(crate) mod timer;

/// A C function's return value as a [`Result`]: a negative errno is the error (the kernel
/// crate's `to_result`, which is compiled out of line in the kernel crate; the packet path
/// checks several such values per packet, and the error is built only when there is one).
#[inline(always)]
fn errno_result(ret: kernel::ffi::c_int) -> kernel::error::Result {
    if ret < 0 {
        Err(kernel::error::Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// The field of type `F` at byte `offset` of `entry`: what an intrusive list's link or an
/// object's embedded count is found by.
///
/// # Safety
///
/// `offset` is the offset of a field of type `F` in `T` (as [`checked_offset_of`] gives).
#[inline(always)]
unsafe fn field_at<T, F>(entry: &T, offset: usize) -> &F {
    // SAFETY: per the function's contract the pointer is to that field of `entry`, borrowed for
    // as long as `entry`.
    unsafe {
        &*core::ptr::from_ref(entry)
            .cast::<u8>()
            .add(offset)
            .cast::<F>()
    }
}

/// `offset_of!($type, $field)`, checked at compile time to be a field of type `$field_type`
/// (for the unsafe traits whose contract is such an offset).
macro_rules! checked_offset_of {
    ($type:ty, $field:ident, $field_type:ty) => {{
        let _: fn(&$type) -> &$field_type = |e| &e.$field;
        core::mem::offset_of!($type, $field)
    }};
}
pub(crate) use checked_offset_of;

/// Defines the Rust side `$name` of one of shim.c's netfilter hook entries, which runs the
/// `$kind` hook of the module's state type `$state`.
macro_rules! hook_entry {
    ($state:ty, $name:ident, $kind:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// # Safety
        ///
        /// Called by the C hook entry with the packet the hook owns, its live namespace, the
        /// hook point, the value of this module's slot of that namespace and the packet's hook
        /// flags.
        #[no_mangle]
        unsafe extern "C" fn $name(
            skb: *mut kernel::bindings::sk_buff,
            net: *mut kernel::bindings::net,
            hook: kernel::ffi::c_uint,
            ipvs: *const kernel::ffi::c_void,
            flags: kernel::ffi::c_uint,
        ) -> kernel::ffi::c_uint {
            // SAFETY: the C entry's arguments (function contract); the one state type.
            unsafe {
                $crate::ffi::netfilter::run_hook::<$state>(
                    skb,
                    net,
                    hook,
                    ipvs,
                    flags,
                    $crate::ffi::netfilter::HookKind::$kind,
                )
            }
        }
    };
}

/// Defines the Rust side of the `show` callback of each single-record /proc file: `$name`
/// for the file at `$path`, which writes [`proc::ProcFile`] `$file` of the module's state
/// type `$state`.
macro_rules! proc_show_entries {
    ($state:ty; $($name:ident => $file:ident, $path:literal;)+) => {$(
        #[doc = concat!("`show` of ", $path, ".")]
        ///
        /// # Safety
        ///
        /// Called by the seq_file core with a `seq_file` of this file.
        #[no_mangle]
        unsafe extern "C" fn $name(
            seq: *mut kernel::bindings::seq_file,
            _v: *mut kernel::ffi::c_void,
        ) -> kernel::ffi::c_int {
            // SAFETY: the seq_file core's argument (function contract); the one state type.
            unsafe { $crate::ffi::proc::show::<$state>(seq, $crate::ffi::proc::ProcFile::$file) }
        }
    )+};
}

/// Defines the C callbacks shim.c calls (pernet init and exit, the hooks, generic netlink,
/// the proc files, the timer) for the module's per-namespace state type `$state`, which
/// implements every callback trait of this layer.
///
/// Invoke it once: the callbacks are `#[no_mangle]` symbols, so a second invocation does not
/// link, and every callback finds the state of its namespace as the one type `$state`.
macro_rules! callbacks {
    ($state:ty) => {
        /// Pernet init callback.
        ///
        /// # Safety
        ///
        /// Called by the pernet core with a live namespace.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_net_init(
            net: *mut kernel::bindings::net,
        ) -> kernel::ffi::c_int {
            // SAFETY: the pernet core's argument (function contract); `$state` is the one state
            // type of the module.
            unsafe { $crate::ffi::net::init::<$state>(net) }
        }

        /// Pernet pre-exit callback.
        ///
        /// # Safety
        ///
        /// Called by the pernet core with the namespace being dismantled, before its exit.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_net_pre_exit(net: *mut kernel::bindings::net) {
            // SAFETY: the pernet core's argument (function contract); the one state type.
            unsafe { $crate::ffi::net::pre_exit::<$state>(net) }
        }

        /// `NETDEV_DOWN` of a device (C: `ip_vs_dst_event`).
        ///
        /// # Safety
        ///
        /// Called by shim.c's netdevice notifier, under RTNL, with a registered device.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_netdev_down(dev: *mut kernel::bindings::net_device) {
            // SAFETY: the notifier's argument (function contract); the one state type.
            unsafe { $crate::ffi::route_cache::device_down::<$state>(dev) }
        }

        /// Pernet exit callback.
        ///
        /// # Safety
        ///
        /// Called by the pernet core with the namespace being dismantled.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_net_exit(net: *mut kernel::bindings::net) {
            // SAFETY: as in `rust_ipvs_net_init`.
            unsafe { $crate::ffi::net::exit::<$state>(net) }
        }

        $crate::ffi::hook_entry!(
            $state,
            rust_ipvs_request_hook,
            Request,
            "The request hook (`ip_vs_in_hook`)."
        );
        $crate::ffi::hook_entry!(
            $state,
            rust_ipvs_reply_hook,
            Reply,
            "The reply hook (`ip_vs_out_hook`)."
        );
        $crate::ffi::hook_entry!(
            $state,
            rust_ipvs_forward_icmp_hook,
            ForwardIcmp,
            "The ICMP hook for routed traffic (`ip_vs_forward_icmp`)."
        );

        /// `doit` of every command of the "IPVS" family.
        ///
        /// # Safety
        ///
        /// Called by the generic netlink core with the `genl_info` of a request.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_genl_doit(
            _skb: *mut kernel::bindings::sk_buff,
            info: *mut kernel::bindings::genl_info,
        ) -> kernel::ffi::c_int {
            // SAFETY: the generic netlink core's argument (function contract); the one state
            // type.
            unsafe { $crate::ffi::genl::doit::<$state>(info) }
        }

        /// `dumpit` of GET_SERVICE, GET_DEST and GET_DAEMON.
        ///
        /// # Safety
        ///
        /// Called by the generic netlink core with the reply buffer and callback state of a
        /// dump.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_genl_dumpit(
            skb: *mut kernel::bindings::sk_buff,
            cb: *mut kernel::bindings::netlink_callback,
        ) -> kernel::ffi::c_int {
            // SAFETY: the generic netlink core's arguments (function contract); the one state
            // type.
            unsafe { $crate::ffi::genl::dumpit::<$state>(skb, cb) }
        }

        // The single-record /proc files.
        $crate::ffi::proc_show_entries! {
            $state;
            rust_ipvs_proc_services_show => Services, "/proc/net/ip_vs";
            rust_ipvs_proc_stats_show => Stats, "/proc/net/ip_vs_stats";
            rust_ipvs_proc_stats_percpu_show => StatsPerCpu, "/proc/net/ip_vs_stats_percpu";
            rust_ipvs_proc_sync_stats_show => SyncStats, "/proc/net/ip_vs_sync_stats";
            rust_ipvs_proc_status_show => Status, "/proc/net/ip_vs_status";
            rust_ipvs_proc_app_show => Apps, "/proc/net/ip_vs_app";
        }

        /// `start` of the connection listings.
        ///
        /// # Safety
        ///
        /// Called by the seq_file core with a `seq_file` of one of these files.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_proc_list_start(
            seq: *mut kernel::bindings::seq_file,
            pos: *mut kernel::bindings::loff_t,
        ) -> *mut kernel::ffi::c_void {
            // SAFETY: the seq_file core's arguments (function contract); the one state type.
            unsafe { $crate::ffi::proc::list_start::<$state>(seq, pos) }
        }

        /// `next` of the connection listings.
        ///
        /// # Safety
        ///
        /// Called by the seq_file core with a `seq_file` of one of these files.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_proc_list_next(
            seq: *mut kernel::bindings::seq_file,
            _v: *mut kernel::ffi::c_void,
            pos: *mut kernel::bindings::loff_t,
        ) -> *mut kernel::ffi::c_void {
            // SAFETY: the seq_file core's arguments (function contract); the one state type.
            unsafe { $crate::ffi::proc::list_next::<$state>(seq, pos) }
        }

        /// `show` of /proc/net/ip_vs_conn.
        ///
        /// # Safety
        ///
        /// Called by the seq_file core with a `seq_file` of this file and a record of `start`
        /// or `next`.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_proc_conns_show(
            seq: *mut kernel::bindings::seq_file,
            v: *mut kernel::ffi::c_void,
        ) -> kernel::ffi::c_int {
            // SAFETY: the seq_file core's arguments (function contract); the one state type.
            unsafe {
                $crate::ffi::proc::list_show::<$state>(seq, v, $crate::ffi::proc::ProcList::Conns)
            }
        }

        /// `show` of /proc/net/ip_vs_conn_sync.
        ///
        /// # Safety
        ///
        /// Called by the seq_file core with a `seq_file` of this file and a record of `start`
        /// or `next`.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_proc_conns_sync_show(
            seq: *mut kernel::bindings::seq_file,
            v: *mut kernel::ffi::c_void,
        ) -> kernel::ffi::c_int {
            // SAFETY: the seq_file core's arguments (function contract); the one state type.
            unsafe {
                $crate::ffi::proc::list_show::<$state>(
                    seq,
                    v,
                    $crate::ffi::proc::ProcList::ConnsSync,
                )
            }
        }

        /// The namespace timer's callback.
        ///
        /// # Safety
        ///
        /// Called by the timer of a live namespace, which is stopped before the namespace is
        /// dismantled.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_tick(net: *mut kernel::bindings::net) {
            // SAFETY: the timer's argument (function contract); the one state type.
            unsafe { $crate::ffi::timer::fire::<$state>(net) }
        }

        /// A write to a sysctl of the namespace that C checks with a handler of its own.
        ///
        /// # Safety
        ///
        /// Called by shim.c's handler of a table registered for `net`, which is unregistered
        /// (waiting for its handlers) before the namespace is dismantled.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_sysctl_write(
            net: *mut kernel::bindings::net,
            index: kernel::ffi::c_uint,
            value: kernel::ffi::c_int,
        ) -> kernel::ffi::c_int {
            // SAFETY: the handler's namespace (function contract); the one state type.
            unsafe { $crate::ffi::sysctl::write::<$state>(net, index, value) }
        }

        /// A write of `est_cpulist`: the CPUs parsed, limited to the writer's.
        ///
        /// # Safety
        ///
        /// As [`rust_ipvs_sysctl_write`]; `cpus` is a valid mask for the call.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_est_cpulist_write(
            net: *mut kernel::bindings::net,
            cpus: *const kernel::bindings::cpumask,
        ) -> kernel::ffi::c_int {
            // SAFETY: the handler's namespace and mask (function contract); the one state
            // type.
            unsafe { $crate::ffi::sysctl::write_cpulist::<$state>(net, cpus) }
        }

        /// A read of `est_cpulist`: copies the CPUs set into `cpus`, false if none was set.
        ///
        /// # Safety
        ///
        /// As [`rust_ipvs_sysctl_write`]; `cpus` is a valid, writable mask for the call.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_est_cpulist_read(
            net: *mut kernel::bindings::net,
            cpus: *mut kernel::bindings::cpumask,
        ) -> bool {
            // SAFETY: the handler's namespace and mask (function contract); the one state
            // type.
            unsafe { $crate::ffi::sysctl::read_cpulist::<$state>(net, cpus) }
        }

        /// The namespace's once-a-minute callback, in process context.
        ///
        /// # Safety
        ///
        /// Called by the work of a live namespace, which is cancelled before the namespace
        /// is dismantled.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_minute(net: *mut kernel::bindings::net) {
            // SAFETY: the work's argument (function contract); the one state type.
            unsafe { $crate::ffi::timer::fire_minute::<$state>(net) }
        }

        /// The namespace's resize work, in process context: whether to run it again at the
        /// next jiffy.
        ///
        /// # Safety
        ///
        /// Called by the work of a live namespace, which is stopped before the namespace is
        /// dismantled.
        #[no_mangle]
        unsafe extern "C" fn rust_ipvs_resize(net: *mut kernel::bindings::net) -> bool {
            // SAFETY: the work's argument (function contract); the one state type.
            unsafe { $crate::ffi::timer::fire_resize::<$state>(net) }
        }
    };
}
pub(crate) use callbacks;
pub(crate) use hook_entry;
pub(crate) use proc_show_entries;
