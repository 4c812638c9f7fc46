//! Errors, and the ipvsadm-style texts for the errno values the kernel answers with.

use std::io;

use netlink_packet_core::DecodeError;

/// `EPERM`.
const EPERM: i32 = 1;
/// `ENOENT`.
const ENOENT: i32 = 2;
/// `ESRCH`.
const ESRCH: i32 = 3;
/// `ENOMEM`.
const ENOMEM: i32 = 12;
/// `EEXIST`.
const EEXIST: i32 = 17;
/// `EINVAL`.
const EINVAL: i32 = 22;
/// `ERANGE`.
const ERANGE: i32 = 34;
/// `ENOPROTOOPT`.
const ENOPROTOOPT: i32 = 92;
/// `EOPNOTSUPP`.
const EOPNOTSUPP: i32 = 95;
/// `EAFNOSUPPORT`.
const EAFNOSUPPORT: i32 = 97;

/// The request an error answers, which decides how an errno reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// NEW_SERVICE.
    AddService,
    /// SET_SERVICE.
    EditService,
    /// DEL_SERVICE.
    DelService,
    /// GET_SERVICE (one service).
    GetService,
    /// NEW_DEST.
    AddDest,
    /// SET_DEST.
    EditDest,
    /// DEL_DEST.
    DelDest,
    /// GET_SERVICE / GET_DEST dumps.
    List,
    /// ZERO.
    Zero,
    /// FLUSH.
    Flush,
    /// SET_CONFIG.
    SetTimeout,
    /// GET_CONFIG.
    GetTimeout,
    /// GET_INFO.
    GetInfo,
    /// NEW_DAEMON.
    StartDaemon,
    /// DEL_DAEMON.
    StopDaemon,
    /// GET_DAEMON dump.
    ListDaemon,
}

/// Everything that can go wrong talking to IPVS.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// CTRL_CMD_GETFAMILY found no "IPVS" family.
    #[error("IPVS generic netlink family not found: load rust_ipvs (modprobe rust_ipvs)")]
    FamilyNotFound,
    /// The kernel refused a request.
    #[error("{}", errno_message(*.op, *.errno))]
    Kernel {
        /// The request.
        op: Op,
        /// The positive errno.
        errno: i32,
    },
    /// The netlink socket failed.
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// A reply could not be decoded.
    #[error("malformed netlink reply: {0}")]
    Decode(#[from] DecodeError),
}

/// The message for an errno answered to `op`, worded like ipvsadm's `ipvs_strerror`.
pub fn errno_message(op: Op, errno: i32) -> String {
    let text = match (op, errno) {
        (Op::AddService, EEXIST) => "Service already exists",
        (Op::AddDest, EEXIST) => "Destination already exists",
        (Op::AddService | Op::EditService, ENOENT) => "Scheduler not found",
        (Op::EditDest | Op::DelDest, ENOENT) => "No such destination",
        (Op::StartDaemon, EEXIST) => "Daemon has already run",
        (Op::StopDaemon, ESRCH) => "No daemon is running",
        (_, ESRCH) => "No such service",
        (_, EPERM) => "Permission denied (you must be root / CAP_NET_ADMIN)",
        (_, EINVAL) => "Invalid operation. Possibly wrong module version, address not unicast, ...",
        (_, ERANGE) => "Value out of range (weight or thresholds)",
        (_, ENOPROTOOPT) => "Protocol not available",
        (_, ENOMEM) => "Memory allocation problem",
        (_, EOPNOTSUPP) => "Operation not supported with IPv6",
        (_, EAFNOSUPPORT) => "Operation not supported with specified address family",
        _ => return strerror(errno),
    };
    text.to_string()
}

/// The C library's text for an errno, without Rust's " (os error N)" suffix.
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(errno_message(Op::AddService, 17), "Service already exists");
        assert_eq!(errno_message(Op::AddDest, 17), "Destination already exists");
        assert_eq!(errno_message(Op::EditService, 3), "No such service");
        assert_eq!(errno_message(Op::AddService, 2), "Scheduler not found");
        assert_eq!(errno_message(Op::DelDest, 2), "No such destination");
        assert_eq!(errno_message(Op::AddDest, 3), "No such service");
        assert_eq!(
            errno_message(Op::Flush, 1),
            "Permission denied (you must be root / CAP_NET_ADMIN)"
        );
        assert_eq!(errno_message(Op::Flush, 5), "Input/output error");
        assert_eq!(errno_message(Op::StartDaemon, 17), "Daemon has already run");
        assert_eq!(errno_message(Op::StopDaemon, 3), "No daemon is running");
        assert_eq!(errno_message(Op::StartDaemon, 19), "No such device");
        let err = Error::Kernel {
            op: Op::DelService,
            errno: 3,
        };
        assert_eq!(err.to_string(), "No such service");
        assert_eq!(
            Error::FamilyNotFound.to_string(),
            "IPVS generic netlink family not found: load rust_ipvs (modprobe rust_ipvs)"
        );
    }
}
