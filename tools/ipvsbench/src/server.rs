//! `server`: the real-server side. TCP (and SCTP with `--sctp-port`): accept, read the
//! request, write a short reply, close; with `--sink-port`, connections read until the
//! client closes (the sink of `tcp-stream`).
//! UDP: count datagrams (and with `--udp-reply` answer each with the reply, with
//! `--udp-reply-peer` the reply and the sender's address); the count goes to
//! `--count-file` every 100 ms and to stdout on SIGINT/SIGTERM.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context;

use crate::cli::ServerArgs;
use crate::signals::Termination;

/// How often the count file is rewritten.
const COUNT_INTERVAL: Duration = Duration::from_millis(100);

/// Runs the server until SIGINT or SIGTERM.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    let term = Termination::block().context("blocking SIGINT/SIGTERM")?;
    let threads = args
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);

    let listener = listen(SocketAddr::new(args.bind, args.tcp_port))
        .with_context(|| format!("TCP bind {}:{}", args.bind, args.tcp_port))?;
    let udp = UdpSocket::bind(SocketAddr::new(args.bind, args.udp_port))
        .with_context(|| format!("UDP bind {}:{}", args.bind, args.udp_port))?;
    let count = Arc::new(AtomicU64::new(0));
    let reply: Arc<[u8]> = Arc::from(args.reply.into_bytes());

    if let Some(port) = args.sctp_port {
        let addr = SocketAddr::new(args.bind, port);
        let sctp = listen_on(addr, Some(socket2::Protocol::from(libc::IPPROTO_SCTP)))
            .with_context(|| format!("SCTP bind {addr}"))?;
        for _ in 0..threads {
            let sctp = sctp.try_clone().context("cloning the SCTP listener")?;
            let sctp_reply = Arc::clone(&reply);
            let wait_close = args.wait_close;
            thread::spawn(move || tcp_loop(&sctp, &sctp_reply, wait_close));
        }
    }
    if let Some(port) = args.sink_port {
        let addr = SocketAddr::new(args.bind, port);
        let sink = listen(addr).with_context(|| format!("TCP bind {addr}"))?;
        thread::spawn(move || sink_loop(&sink));
    }
    for _ in 0..threads {
        let listener = listener.try_clone().context("cloning the TCP listener")?;
        let tcp_reply = Arc::clone(&reply);
        let wait_close = args.wait_close;
        thread::spawn(move || tcp_loop(&listener, &tcp_reply, wait_close));
        let udp = udp.try_clone().context("cloning the UDP socket")?;
        let count = Arc::clone(&count);
        let udp_reply = match (args.udp_reply_peer, args.udp_reply) {
            (true, _) => UdpReply::WithPeer(Arc::clone(&reply)),
            (false, true) => UdpReply::Fixed(Arc::clone(&reply)),
            (false, false) => UdpReply::None,
        };
        thread::spawn(move || udp_loop(&udp, &count, &udp_reply));
    }
    if let Some(path) = &args.count_file {
        write_count(path, 0)?;
    }

    loop {
        let stop = term.wait(COUNT_INTERVAL).context("waiting for signals")?;
        let n = count.load(Ordering::Relaxed);
        if let Some(path) = &args.count_file {
            write_count(path, n)?;
        }
        if stop {
            println!("udp received={n}");
            return Ok(());
        }
    }
}

/// The accept queue: room for a client that opens a thousand connections at once.
const BACKLOG: i32 = 1024;

/// A TCP listener on `addr` with [`BACKLOG`] (std's is 128) and SO_REUSEADDR.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    listen_on(addr, None)
}

/// A stream listener of `protocol` (TCP by default; SCTP's one-to-one sockets accept and
/// read and write as TCP's do) on `addr`, with [`BACKLOG`] and SO_REUSEADDR.
fn listen_on(addr: SocketAddr, protocol: Option<socket2::Protocol>) -> io::Result<TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        protocol,
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// How long a `--wait-close` connection may stay open.
const HOLD_LIMIT: Duration = Duration::from_secs(600);

/// Accepts connections forever; errors on one connection do not stop the loop. With
/// `wait_close`, each connection gets a thread that replies and then waits for the client to
/// close first, so that connections stay established for as long as the client holds them.
fn tcp_loop(listener: &TcpListener, reply: &Arc<[u8]>, wait_close: bool) {
    accept_loop(listener, |stream| {
        if wait_close {
            let reply = Arc::clone(reply);
            thread::spawn(move || {
                let _ = serve(&stream, &reply).and_then(|()| wait_for_close(stream));
            });
        } else {
            // A client that went away mid-exchange is its problem, not the server's.
            let _ = serve(&stream, reply);
        }
    })
}

/// Accepts connections forever, each read in its own thread until the client closes.
fn sink_loop(listener: &TcpListener) {
    accept_loop(listener, |stream| {
        thread::spawn(move || wait_for_close(stream));
    })
}

/// Hands every connection `listener` accepts to `handle`, forever; a failed accept is
/// reported and retried after a pause.
fn accept_loop(listener: &TcpListener, mut handle: impl FnMut(TcpStream)) -> ! {
    loop {
        match listener.accept() {
            Ok((stream, _)) => handle(stream),
            Err(err) => {
                eprintln!("ipvsbench server: accept: {err}");
                // EMFILE and friends: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Reads until the client closes (or [`HOLD_LIMIT`] passes), then closes.
fn wait_for_close(mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(HOLD_LIMIT))?;
    io::copy(&mut stream, &mut io::sink()).map(drop)
}

/// One exchange: read the request (so closing sends FIN, not RST) and reply; the caller
/// closes.
fn serve(mut stream: &TcpStream, reply: &[u8]) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 512];
    let _ = stream.read(&mut buf)?;
    stream.write_all(reply)
}

/// What a UDP datagram gets back.
enum UdpReply {
    /// Nothing: it is only counted.
    None,
    /// The reply.
    Fixed(Arc<[u8]>),
    /// The reply, then the sender's address and a newline.
    WithPeer(Arc<[u8]>),
}

/// Counts datagrams forever, answering each as `reply` says.
fn udp_loop(socket: &UdpSocket, count: &AtomicU64, reply: &UdpReply) {
    let mut buf = [0u8; 2048];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((_, peer)) => {
                count.fetch_add(1, Ordering::Relaxed);
                let sent = match reply {
                    UdpReply::None => Ok(0),
                    UdpReply::Fixed(reply) => socket.send_to(reply, peer),
                    UdpReply::WithPeer(reply) => {
                        let mut answer = reply.to_vec();
                        answer.extend_from_slice(format!("{}\n", peer.ip()).as_bytes());
                        socket.send_to(&answer, peer)
                    }
                };
                if let Err(err) = sent {
                    eprintln!("ipvsbench server: send to {peer}: {err}");
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                eprintln!("ipvsbench server: recv: {err}");
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Replaces the count file atomically (write a temporary file, rename it over).
fn write_count(path: &Path, n: u64) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    fs::write(&tmp, format!("{n}\n")).with_context(|| format!("writing {tmp:?}"))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}
