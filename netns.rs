// SPDX-License-Identifier: GPL-2.0

//! The state rust_ipvs keeps for each network namespace (C: `struct netns_ipvs`).
//!
//! Lock order: [`NetState::control`] is the outermost lock; the packet path takes none of the
//! locks here.

use crate::ffi::{
    net::Net, //
    netfilter::HookRegistration,
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc, //
        Mutex,
    },
};

/// Control-plane state of a namespace, changed only under [`NetState::control`].
pub(crate) struct Control {
    /// The namespace's netfilter hooks, while registered.
    hooks: Option<HookRegistration>,
}

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// Serialises configuration changes and namespace start/stop.
    #[pin]
    control: Mutex<Control>,
}

impl NetState {
    /// Allocates the state of a new namespace; nothing is registered yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(NetState {
                control <- new_mutex!(Control { hooks: None }),
            }),
            GFP_KERNEL,
        )
    }

    /// Starts serving the namespace: registers its hooks.
    pub(crate) fn start(&self, net: &Net) -> Result {
        let mut control = self.control.lock();
        if control.hooks.is_none() {
            control.hooks = Some(HookRegistration::new(net)?);
        }
        Ok(())
    }

    /// Stops serving the namespace: unregisters its hooks and waits for running ones.
    pub(crate) fn stop(&self) {
        let hooks = self.control.lock().hooks.take();
        drop(hooks);
    }
}
