// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and the module's per-namespace state: the pernet registration, the
//! `net_generic` slot that holds a [`PernetState`], and the init and exit callbacks.

use super::shim;
use kernel::{
    bindings,
    error::{from_result, to_result},
    ffi::{
        c_int, //
        c_uint,
        c_void,
    },
    prelude::*,
    sync::Arc,
    types::Opaque,
};

/// `RTN_UNICAST` (uapi `linux/rtnetlink.h`; the bindings leave the anonymous enum out).
const RTN_UNICAST: c_uint = 1;
/// `RTN_LOCAL`.
const RTN_LOCAL: c_uint = 2;

/// What [`Net::addr_type`] tells apart of the `RTN_*` route types.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrType {
    /// `RTN_UNICAST`: reached through a gateway or a link.
    Unicast,
    /// `RTN_LOCAL`: an address of this host.
    Local,
    /// Broadcast, multicast, blackhole, unreachable and the rest.
    Other,
}

/// A network namespace (`struct net`).
///
/// # Invariants
///
/// The wrapped namespace is alive for as long as the reference to this object is.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// Borrows the namespace behind `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live `struct net` that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Self {
        // CAST: `Net` is a transparent wrapper of `bindings::net`.
        // SAFETY: the caller guarantees `ptr` is valid for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw `struct net` pointer, for calls into C.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// Deletes the conntrack entry whose original direction is this tuple of family `af`
    /// (addresses as `union nf_inet_addr`), if there is one (`ip_vs_conn_drop_conntrack`).
    /// Ports are in host order.
    pub(crate) fn drop_conntrack(
        &self,
        af: u16,
        protocol: u8,
        (caddr, cport): (&[u8; 16], u16),
        (vaddr, vport): (&[u8; 16], u16),
    ) {
        // SAFETY: the namespace is alive (type invariant); the lookup only reads the tuple,
        // whose addresses are readable for 16 bytes.
        let ct = unsafe {
            shim::rust_ipvs_ct_find(
                self.as_ptr(),
                af,
                protocol,
                caddr,
                cport.to_be(),
                vaddr,
                vport.to_be(),
            )
        };
        if ct.is_null() {
            return;
        }
        // SAFETY: the lookup returned `ct` with a reference, which is dropped exactly once,
        // after the entry is killed.
        unsafe {
            shim::rust_ipvs_ct_kill(ct);
            shim::rust_ipvs_ct_put(ct);
        }
    }

    /// Whether binding `port` takes privilege in this namespace, below its
    /// `net.ipv4.ip_unprivileged_port_start` (`inet_port_requires_bind_service`).
    pub(crate) fn port_requires_bind_service(&self, port: u16) -> bool {
        // SAFETY: the namespace is alive (type invariant); the call reads one sysctl.
        unsafe { shim::rust_ipvs_port_requires_bind_service(self.as_ptr(), port) }
    }

    /// Reassembles IPv6 fragments in this namespace before the netfilter hooks
    /// (`nf_defrag_ipv6_enable`); as in C, it stays on for the namespace's life.
    pub(crate) fn enable_ipv6_defrag(&self) -> Result {
        // SAFETY: the namespace is alive (type invariant); the call counts a user and
        // registers the defragmentation hooks once.
        to_result(unsafe { shim::rust_ipvs_nf_defrag_ipv6_enable(self.as_ptr()) })
    }

    /// The route type of an IPv4 address in this namespace (`inet_addr_type`).
    pub(crate) fn addr_type(&self, addr: [u8; 4]) -> AddrType {
        let addr = u32::from_ne_bytes(addr);
        // SAFETY: the namespace is alive (type invariant); the call looks the address up in
        // its routing tables under RCU.
        let rtn = unsafe { shim::rust_ipvs_inet_addr_type(self.as_ptr(), addr) };
        match rtn {
            RTN_UNICAST => AddrType::Unicast,
            RTN_LOCAL => AddrType::Local,
            _ => AddrType::Other,
        }
    }

    /// Whether the namespace belongs to a user namespace other than the initial one (C:
    /// `net->user_ns != &init_user_ns`), whose root is not privileged in the initial one.
    pub(crate) fn is_unprivileged(&self) -> bool {
        // SAFETY: `self` is a live namespace (type invariant); its `user_ns` is set when it is
        // created and never changes; the address of `init_user_ns` is only compared.
        unsafe {
            let user_ns = (*self.as_ptr()).user_ns;
            !core::ptr::eq(user_ns, core::ptr::addr_of_mut!(bindings::init_user_ns))
        }
    }

    /// Whether this is the initial namespace (`net_eq(net, &init_net)`).
    pub(crate) fn is_init(&self) -> bool {
        // SAFETY: the call compares pointers only.
        unsafe { shim::rust_ipvs_net_is_init(self.as_ptr()) }
    }

    /// This module's state for the namespace, if the namespace has finished initialising.
    ///
    /// Callers are netfilter hooks and control-plane handlers of this namespace; the state they
    /// borrow is freed only by the namespace exit, after both have been unregistered.
    ///
    /// # Safety
    ///
    /// `T` is the module's per-namespace state type: the one whose [`init`] filled the slot
    /// ([`super::callbacks`] instantiates every callback with the same type).
    pub(super) unsafe fn state<T: PernetState>(&self) -> Option<&T> {
        // SAFETY: `rust_ipvs_net_slot` returns this module's `net_generic` slot of this
        // namespace; `T` is as the caller says.
        unsafe { self.state_in::<T>(shim::rust_ipvs_net_slot(self.as_ptr())) }
    }

    /// [`Net::state`] read from `slot`.
    ///
    /// # Safety
    ///
    /// As [`Net::state`], and `slot` is this module's `net_generic` slot of this namespace.
    pub(super) unsafe fn state_in<T: PernetState>(&self, slot: *mut *mut c_void) -> Option<&T> {
        // SAFETY: the slot exists while the namespace lives (type invariant; the caller
        // names this namespace's slot).
        let value = unsafe { *slot };
        // SAFETY: `value` is what the slot holds (above); the rest is the caller's.
        unsafe { self.state_at(value) }
    }

    /// [`Net::state`] from the value of its slot (read by a C hook entry).
    ///
    /// # Safety
    ///
    /// As [`Net::state`], and `value` is what this module's `net_generic` slot of this
    /// namespace holds.
    #[inline(always)]
    pub(super) unsafe fn state_at<T: PernetState>(&self, value: *const c_void) -> Option<&T> {
        // The init callback fills the slot with a pointer from `Arc::into_raw` before it
        // registers anything that could call this.
        if value.is_null() {
            return None;
        }
        let state = value.cast::<T>();
        // A non-null slot holds `Arc::<T>::into_raw` (the caller names the type init stored),
        // released only by the exit callback after this namespace's hooks and handlers stopped.
        // SAFETY: so `state` points to a live `T` for as long as this namespace runs callbacks.
        let state = unsafe { &*state };
        Some(state)
    }
}

/// Whether a rate-limited network message may be logged now (`net_ratelimit`).
pub(crate) fn ratelimit() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::net_ratelimit() != 0 }
}

/// A namespace reference stored in that namespace's own state.
///
/// # Invariants
///
/// The namespace outlives the [`PernetState`] holding this: the state is freed by the namespace's
/// exit callback.
pub(crate) struct NetRef {
    /// The namespace.
    net: *mut bindings::net,
}

// SAFETY: a `struct net` may be used from any task while it is alive (type invariant).
unsafe impl Send for NetRef {}
// SAFETY: as above; only shared access is given out.
unsafe impl Sync for NetRef {}

impl NetRef {
    /// The namespace.
    pub(crate) fn get(&self) -> &Net {
        // SAFETY: the namespace outlives the state holding `self` (type invariant).
        unsafe { Net::from_raw(self.net) }
    }
}

/// Registration of the module's pernet operations: every network namespace, present and
/// future, gets a [`PernetState`] until this is dropped.
pub(crate) struct PernetRegistration {
    /// Not constructible outside this module.
    _private: (),
}

impl PernetRegistration {
    /// Registers the pernet operations; runs the init callback for every existing namespace.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: the operations in shim.c are static and their callbacks are defined below.
        to_result(unsafe { shim::rust_ipvs_register_pernet() })?;
        Ok(PernetRegistration { _private: () })
    }
}

impl Drop for PernetRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; runs the exit callback for every namespace.
        unsafe { shim::rust_ipvs_unregister_pernet() };
    }
}

/// A module's per-namespace state (C: what `net_generic` points at): created by the pernet
/// init callback, started once reachable, stopped and freed by the exit callback.
pub(crate) trait PernetState: Send + Sync + Sized {
    /// Allocates the state of a new namespace; nothing is registered yet.
    fn new(net: NetRef) -> Result<Arc<Self>>;
    /// Starts serving the namespace, once callbacks can find the state.
    fn start(&self, net: &Net) -> Result;
    /// The namespace is about to be dismantled, its devices still there: stops what holds
    /// them (sockets with cached routes), which C stops in its pernet device operations.
    fn pre_stop(&self);
    /// Stops serving the namespace: afterwards no callback uses the state.
    fn stop(&self);
}

/// Pernet init: creates the namespace's state, publishes it in the slot, then starts it.
///
/// # Safety
///
/// Called by the pernet core with a live namespace that outlives its init and exit; `T` is
/// the module's per-namespace state type.
pub(crate) unsafe fn init<T: PernetState>(net: *mut bindings::net) -> c_int {
    from_result(|| {
        // SAFETY: the pernet core passes a live namespace that outlives init and exit.
        let net = unsafe { Net::from_raw(net) };
        // INVARIANT: the state is freed by this namespace's exit callback.
        let state = T::new(NetRef { net: net.as_ptr() })?;
        let raw = Arc::into_raw(Arc::clone(&state));
        // SAFETY: the slot is this module's `net_generic` storage of pointer size; nothing
        // reads it before the hooks are registered by `start` below.
        unsafe { *shim::rust_ipvs_net_slot(net.as_ptr()) = raw.cast_mut().cast() };
        if let Err(e) = state.start(net) {
            // SAFETY: `raw` came from `Arc::into_raw` above and no hook can hold it.
            drop(unsafe { Arc::from_raw(raw) });
            // SAFETY: as above, the slot is ours; the failed init leaves it empty.
            unsafe { *shim::rust_ipvs_net_slot(net.as_ptr()) = core::ptr::null_mut() };
            return Err(e);
        }
        Ok(0)
    })
}

/// Pernet pre-exit: the namespace's devices are still there.
///
/// # Safety
///
/// Called by the pernet core with the namespace being dismantled, before its exit; `T` is
/// the module's per-namespace state type.
pub(crate) unsafe fn pre_exit<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: the pernet core passes the namespace being dismantled; it is still alive.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(state) = unsafe { net.state::<T>() } {
        state.pre_stop();
    }
}

/// Pernet exit: stops the namespace's hooks and handlers, then frees its state.
///
/// # Safety
///
/// Called by the pernet core with the namespace being dismantled, once, after its init
/// succeeded; `T` is the module's per-namespace state type.
pub(crate) unsafe fn exit<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: the pernet core passes the namespace being dismantled; it is still alive.
    let net = unsafe { Net::from_raw(net) };
    // SAFETY: `T` is the module's state type (caller).
    if let Some(state) = unsafe { net.state::<T>() } {
        state.stop();
    }
    // SAFETY: this module's slot, alive until the exit callback returns.
    let slot = unsafe { shim::rust_ipvs_net_slot(net.as_ptr()) };
    // SAFETY: `slot` is valid (above); no hook or handler runs any more (`stop`).
    let raw = unsafe { core::ptr::replace(slot, core::ptr::null_mut()) };
    if !raw.is_null() {
        // SAFETY: a non-null slot holds the pointer from `Arc::<T>::into_raw` in init, and
        // nothing can borrow it any more.
        drop(unsafe { Arc::from_raw(raw.cast_const().cast::<T>()) });
    }
}
