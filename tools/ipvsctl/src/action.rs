//! Configuration changes, as the command line and `restore` produce them, and their requests.

use crate::config::Timeouts;
use crate::dest::Dest;
use crate::error::Op;
use crate::message::{IpvsCmd, IpvsMessage};
use crate::service::{Service, ServiceKey};

/// One change to the IPVS table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add a service (`-A`).
    AddService(Service),
    /// Replace a service's settings (`-E`).
    EditService(Service),
    /// Delete a service and its destinations (`-D`).
    DelService(ServiceKey),
    /// Add a destination to a service (`-a`).
    AddDest(ServiceKey, Dest),
    /// Replace a destination's settings (`-e`).
    EditDest(ServiceKey, Dest),
    /// Delete a destination (`-d`).
    DelDest(ServiceKey, Dest),
    /// Delete every service (`-C`).
    Flush,
    /// Zero the counters of one service, or of all (`-Z`).
    Zero(Option<ServiceKey>),
    /// Set the connection timeouts (`--set`).
    SetTimeout(Timeouts),
}

impl Action {
    /// The request that carries out this change, and the operation its errors belong to.
    ///
    /// NEW/SET requests carry the full service or destination; the others carry only the
    /// identifying attributes, which is all the kernel reads for them.
    pub fn request(&self) -> (IpvsMessage, Op) {
        match self {
            Self::AddService(svc) => (
                IpvsMessage::with_service(IpvsCmd::NewService, svc.to_nlas()),
                Op::AddService,
            ),
            Self::EditService(svc) => (
                IpvsMessage::with_service(IpvsCmd::SetService, svc.to_nlas()),
                Op::EditService,
            ),
            Self::DelService(key) => (
                IpvsMessage::with_service(IpvsCmd::DelService, key.to_nlas()),
                Op::DelService,
            ),
            Self::AddDest(key, dest) => (
                IpvsMessage::with_dest(IpvsCmd::NewDest, key.to_nlas(), dest.to_nlas()),
                Op::AddDest,
            ),
            Self::EditDest(key, dest) => (
                IpvsMessage::with_dest(IpvsCmd::SetDest, key.to_nlas(), dest.to_nlas()),
                Op::EditDest,
            ),
            Self::DelDest(key, dest) => (
                IpvsMessage::with_dest(IpvsCmd::DelDest, key.to_nlas(), dest.key_nlas()),
                Op::DelDest,
            ),
            Self::Flush => (IpvsMessage::bare(IpvsCmd::Flush), Op::Flush),
            Self::Zero(None) => (IpvsMessage::bare(IpvsCmd::Zero), Op::Zero),
            Self::Zero(Some(key)) => (
                IpvsMessage::with_service(IpvsCmd::Zero, key.to_nlas()),
                Op::Zero,
            ),
            Self::SetTimeout(t) => (
                IpvsMessage::set_config(t.tcp, t.tcp_fin, t.udp),
                Op::SetTimeout,
            ),
        }
    }
}
