// SPDX-License-Identifier: GPL-2.0

//! Kernel UDP sockets of the sync daemon (C: `make_send_sock`, `make_receive_sock` and the
//! `set_mcast_*` helpers of `ip_vs_sync.c`), set up through `setsockopt` with the options C
//! sets on the socket directly.

use super::{net::Net, shim};
use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_int, //
        c_uint,
        c_void,
    },
    prelude::*,
};

/// A multicast group and port: the destination of a master's messages, the address a
/// backup's socket is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupAddr {
    /// An IPv4 group and UDP port.
    V4([u8; 4], u16),
    /// An IPv6 group and UDP port.
    V6([u8; 16], u16),
}

/// A socket address as the kernel reads it (`struct sockaddr_in` or `sockaddr_in6`).
#[repr(C, align(4))]
struct SockAddr([u8; 28]);

impl SockAddr {
    /// The `sockaddr_in` of `addr`:`port`.
    fn v4(addr: [u8; 4], port: u16) -> (Self, usize) {
        let mut b = [0u8; 28];
        b[..2].copy_from_slice(&(bindings::AF_INET as u16).to_ne_bytes());
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b[4..8].copy_from_slice(&addr);
        (SockAddr(b), 16)
    }

    /// The `sockaddr_in6` of `addr`:`port` (no flow label, no scope).
    fn v6(addr: [u8; 16], port: u16) -> (Self, usize) {
        let mut b = [0u8; 28];
        b[..2].copy_from_slice(&(bindings::AF_INET6 as u16).to_ne_bytes());
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b[8..24].copy_from_slice(&addr);
        (SockAddr(b), 28)
    }

    /// The address of a group.
    fn of(group: GroupAddr) -> (Self, usize) {
        match group {
            GroupAddr::V4(addr, port) => Self::v4(addr, port),
            GroupAddr::V6(addr, port) => Self::v6(addr, port),
        }
    }
}

/// `struct ip_mreqn` (`IP_ADD_MEMBERSHIP`, `IP_MULTICAST_IF`).
#[repr(C)]
struct MreqN {
    /// Group, network order.
    multiaddr: [u8; 4],
    /// Local address: none.
    address: [u8; 4],
    /// Interface.
    ifindex: c_int,
}

/// `struct ipv6_mreq` (`IPV6_ADD_MEMBERSHIP`).
#[repr(C)]
struct Ipv6Mreq {
    /// Group.
    multiaddr: [u8; 16],
    /// Interface.
    ifindex: c_int,
}

/// An interface as the daemon uses it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Interface {
    /// Its index.
    pub(crate) ifindex: i32,
    /// Its MTU.
    pub(crate) mtu: u32,
    /// Its first IPv4 address of universe scope, `[0; 4]` if none.
    pub(crate) addr: [u8; 4],
}

impl Interface {
    /// The interface named `name` (at most 15 bytes, no NUL) in `net`; ENODEV if none.
    pub(crate) fn lookup(net: &Net, name: &[u8]) -> Result<Self> {
        let mut cname = [0u8; 16];
        if name.len() >= cname.len() || name.contains(&0) {
            return Err(ENODEV);
        }
        cname[..name.len()].copy_from_slice(name);
        let (mut ifindex, mut mtu, mut addr) = (0, 0, 0u32);
        // SAFETY: `net` is alive, `cname` is NUL-terminated, the outputs are writable.
        to_result(unsafe {
            shim::rust_ipvs_dev_lookup(
                net.as_ptr(),
                cname.as_ptr().cast(),
                &mut ifindex,
                &mut mtu,
                &mut addr,
            )
        })?;
        Ok(Interface {
            ifindex,
            mtu,
            addr: addr.to_ne_bytes(),
        })
    }
}

/// A kernel UDP socket, released when dropped.
///
/// # Invariants
///
/// `sock` came from `sock_create_kern` and is released only by `drop`.
pub(crate) struct UdpSocket {
    /// The socket.
    sock: *mut bindings::socket,
    /// An IPv6 socket.
    ipv6: bool,
}

// SAFETY: the kernel locks a socket's state itself; the handle may move between tasks.
unsafe impl Send for UdpSocket {}
// SAFETY: as above, concurrent calls are serialised by the socket's own locks.
unsafe impl Sync for UdpSocket {}

/// `SOL_IP`, `SOL_IPV6`, `SOL_SOCKET`.
const SOL_IP: c_int = 0;
const SOL_IPV6: c_int = 41;
const SOL_SOCKET: c_int = 1;

impl UdpSocket {
    /// A UDP socket of `net` (IPv6 when `ipv6`), owned by the kernel.
    fn new(net: &Net, ipv6: bool) -> Result<Self> {
        let family = if ipv6 {
            bindings::AF_INET6
        } else {
            bindings::AF_INET
        };
        let mut sock = core::ptr::null_mut();
        // SAFETY: `net` is alive and `sock` is writable.
        to_result(unsafe {
            bindings::sock_create_kern(
                net.as_ptr(),
                family as c_int,
                bindings::sock_type_SOCK_DGRAM as c_int,
                bindings::IPPROTO_UDP as c_int,
                &mut sock,
            )
        })?;
        // INVARIANT: created above.
        Ok(UdpSocket { sock, ipv6 })
    }

    /// `setsockopt(level, name)` with the bytes of `value`.
    fn set<V>(&self, level: c_int, name: u32, value: &V) -> Result {
        let len = c_uint::try_from(core::mem::size_of::<V>()).map_err(|_| EINVAL)?;
        // SAFETY: the socket is live (type invariant); `value` is readable for `len` bytes and
        // the option handlers only read it.
        to_result(unsafe {
            shim::rust_ipvs_sock_setsockopt(
                self.sock,
                level,
                name as c_int,
                core::ptr::from_ref(value).cast_mut().cast::<c_void>(),
                len,
            )
        })
    }

    /// `setsockopt(level, name)` of an `int`.
    fn set_int(&self, level: c_int, name: u32, value: c_int) -> Result {
        self.set(level, name, &value)
    }

    /// The master's sending socket of thread `id` (`make_send_sock`): multicast out of
    /// `dev` with `ttl`, no loopback, no path MTU discovery (messages may be fragmented), a
    /// send buffer of `sock_size` if positive, bound to `dev`'s address (IPv4), connected to
    /// `group`.
    pub(crate) fn sender(
        net: &Net,
        dev: &Interface,
        group: GroupAddr,
        ttl: u8,
        sock_size: i32,
    ) -> Result<Self> {
        let ipv6 = matches!(group, GroupAddr::V6(..));
        let sock = Self::new(net, ipv6)?;
        if ipv6 {
            sock.set_int(SOL_IPV6, bindings::IPV6_MULTICAST_IF, dev.ifindex)?;
        } else {
            let mreq = MreqN {
                multiaddr: [0; 4],
                address: [0; 4],
                ifindex: dev.ifindex,
            };
            sock.set(SOL_IP, bindings::IP_MULTICAST_IF, &mreq)?;
        }
        // `set_mcast_loop`, `set_mcast_ttl`, `set_mcast_pmtudisc`: both families' options on
        // an IPv6 socket, as C sets both.
        sock.set_int(SOL_IP, bindings::IP_MULTICAST_LOOP, 0)?;
        sock.set_int(SOL_IP, bindings::IP_MULTICAST_TTL, c_int::from(ttl))?;
        sock.set_int(
            SOL_IP,
            bindings::IP_MTU_DISCOVER,
            bindings::IP_PMTUDISC_DONT as c_int,
        )?;
        if sock.ipv6 {
            sock.set_int(SOL_IPV6, bindings::IPV6_MULTICAST_LOOP, 0)?;
            sock.set_int(SOL_IPV6, bindings::IPV6_MULTICAST_HOPS, c_int::from(ttl))?;
            sock.set_int(
                SOL_IPV6,
                bindings::IPV6_MTU_DISCOVER,
                bindings::IP_PMTUDISC_DONT as c_int,
            )?;
        }
        if sock_size > 0 {
            sock.set_int(SOL_SOCKET, bindings::SO_SNDBUF, sock_size)?;
        }
        if !ipv6 {
            // `bind_mcastif_addr`: the interface's address (none: 0.0.0.0), any port.
            let (addr, len) = SockAddr::v4(dev.addr, 0);
            sock.bind(&addr, len)?;
        }
        let (addr, len) = SockAddr::of(group);
        let len = c_int::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: the socket is live; `addr` is a socket address of `len` bytes.
        to_result(unsafe {
            bindings::kernel_connect(
                sock.sock,
                core::ptr::from_ref(&addr).cast_mut().cast(),
                len,
                0,
            )
        })?;
        Ok(sock)
    }

    /// A backup's receiving socket (`make_receive_sock`): address reuse, a receive buffer of
    /// `sock_size` if positive, bound to `dev` and to `group`, which it joins on `dev`.
    pub(crate) fn receiver(
        net: &Net,
        dev: &Interface,
        group: GroupAddr,
        sock_size: i32,
    ) -> Result<Self> {
        let ipv6 = matches!(group, GroupAddr::V6(..));
        let sock = Self::new(net, ipv6)?;
        sock.set_int(SOL_SOCKET, bindings::SO_REUSEADDR, 1)?;
        if sock_size > 0 {
            sock.set_int(SOL_SOCKET, bindings::SO_RCVBUF, sock_size)?;
        }
        sock.set_int(SOL_SOCKET, bindings::SO_BINDTOIFINDEX, dev.ifindex)?;
        let (addr, len) = SockAddr::of(group);
        sock.bind(&addr, len)?;
        match group {
            GroupAddr::V4(multiaddr, _) => {
                let mreq = MreqN {
                    multiaddr,
                    address: [0; 4],
                    ifindex: dev.ifindex,
                };
                sock.set(SOL_IP, bindings::IP_ADD_MEMBERSHIP, &mreq)?;
            }
            GroupAddr::V6(multiaddr, _) => {
                let mreq = Ipv6Mreq {
                    multiaddr,
                    ifindex: dev.ifindex,
                };
                sock.set(SOL_IPV6, bindings::IPV6_ADD_MEMBERSHIP, &mreq)?;
            }
        }
        Ok(sock)
    }

    /// `kernel_bind` to the first `len` bytes of `addr`.
    fn bind(&self, addr: &SockAddr, len: usize) -> Result {
        let len = c_int::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: the socket is live (type invariant); `addr` holds a socket address of `len`
        // bytes, which the kernel copies.
        to_result(unsafe {
            bindings::kernel_bind(self.sock, core::ptr::from_ref(addr).cast_mut().cast(), len)
        })
    }

    /// Sends `message` without blocking; EAGAIN when the send buffer is full.
    pub(crate) fn send(&self, message: &[u8]) -> Result<usize> {
        // SAFETY: the socket is live; `message` is readable for its length.
        let sent =
            unsafe { shim::rust_ipvs_sock_send(self.sock, message.as_ptr().cast(), message.len()) };
        to_result(sent)?;
        Ok(sent as usize)
    }

    /// Receives a datagram into `buf` without blocking (truncated to it); its length, or
    /// EAGAIN when none is queued.
    pub(crate) fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: the socket is live; `buf` is writable for its length.
        let len =
            unsafe { shim::rust_ipvs_sock_recv(self.sock, buf.as_mut_ptr().cast(), buf.len()) };
        to_result(len)?;
        Ok(len as usize)
    }

    /// Whether a datagram is queued.
    pub(crate) fn readable(&self) -> bool {
        // SAFETY: the socket is live (type invariant).
        unsafe { shim::rust_ipvs_sock_readable(self.sock) }
    }

    /// Sleeps until a datagram is queued or the current kthread is asked to stop.
    pub(crate) fn wait_readable(&self) {
        // SAFETY: the socket is live; called by one of our kthreads, in process context.
        unsafe { shim::rust_ipvs_sock_wait_readable(self.sock) }
    }

    /// Sleeps until there is send space or the current kthread is asked to stop.
    pub(crate) fn wait_writable(&self) {
        // SAFETY: as in `wait_readable`.
        unsafe { shim::rust_ipvs_sock_wait_writable(self.sock) }
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        // SAFETY: created by `sock_create_kern` and released once, here (type invariant).
        unsafe { bindings::sock_release(self.sock) };
    }
}

/// `nr_free_buffer_pages()`: the default `sync_qlen_max` is a 32nd of it.
#[allow(
    clippy::useless_conversion,
    reason = "`unsigned long` is 32 bits on some targets"
)]
pub(crate) fn free_buffer_pages() -> u64 {
    // SAFETY: no preconditions.
    u64::from(unsafe { shim::rust_ipvs_nr_free_buffer_pages() })
}
