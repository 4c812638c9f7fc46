//! Synchronous SIGINT/SIGTERM handling: the signals are blocked in every thread and the main
//! thread collects them with `sigtimedwait`, so no handler runs in signal context.

use std::io;
use std::mem::MaybeUninit;
use std::time::Duration;

/// The set {SIGINT, SIGTERM}, blocked in the calling thread (and threads it spawns later).
pub struct Termination {
    set: libc::sigset_t,
}

impl Termination {
    /// Blocks SIGINT and SIGTERM; call before spawning threads so they inherit the mask.
    pub fn block() -> io::Result<Self> {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initializes the set it is given; sigaddset and pthread_sigmask
        // get that initialized set and valid signal numbers; a null old-mask pointer is allowed.
        let set = unsafe {
            if libc::sigemptyset(set.as_mut_ptr()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut set = set.assume_init();
            for sig in [libc::SIGINT, libc::SIGTERM] {
                if libc::sigaddset(&mut set, sig) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            set
        };
        Ok(Termination { set })
    }

    /// Waits up to `timeout` for SIGINT or SIGTERM: true if one arrived.
    pub fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().try_into().unwrap_or(libc::time_t::MAX),
            tv_nsec: timeout.subsec_nanos().into(),
        };
        // SAFETY: the set was initialized in block(); a null siginfo pointer is allowed; ts is
        // a valid timespec that outlives the call.
        let rc = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &ts) };
        if rc >= 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(false),
            _ => Err(err),
        }
    }
}
