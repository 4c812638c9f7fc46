//! The client workloads: `tcp-crr`, `udp-flood`, `udp-conns`, `tcp-stream`, `udp-stream`,
//! `sequence` and `udp-request`.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::cli::{
    SequenceArgs, StreamArgs, TcpCrrArgs, UdpConnsArgs, UdpFloodArgs, UdpRequestArgs,
};
use crate::plan::{per_second, strided, SourcePlan};

/// What one worker thread did.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    /// Completed operations (connections, datagrams; bytes for `tcp-stream`).
    ok: u64,
    /// Failed operations.
    errors: u64,
    /// Source tuples skipped because they were in use.
    skipped: u64,
}

impl Tally {
    fn add(self, other: Tally) -> Tally {
        Tally {
            ok: self.ok + other.ok,
            errors: self.errors + other.errors,
            skipped: self.skipped + other.skipped,
        }
    }
}

/// Runs `threads` copies of `work` (given the thread index) and sums their tallies; also
/// returns the wall time from the start to the last thread's end.
fn in_threads<F>(threads: usize, work: F) -> anyhow::Result<(Tally, Duration)>
where
    F: Fn(usize) -> Tally + Sync,
{
    let start = Instant::now();
    let work = &work;
    let results: Vec<thread::Result<Tally>> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t))).collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let elapsed = start.elapsed();
    let mut total = Tally::default();
    for r in results {
        match r {
            Ok(t) => total = total.add(t),
            Err(_) => bail!("a worker thread panicked"),
        }
    }
    Ok((total, elapsed))
}

/// `tcp-crr`: connect, send a request, read the reply until the server closes, close.
pub fn tcp_crr(args: TcpCrrArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let deadline = Instant::now() + args.load.seconds.0;
    let (tally, elapsed) = in_threads(args.load.threads, |_| {
        let mut tally = Tally::default();
        while Instant::now() < deadline {
            match crr_once(args.load.target, timeout) {
                Ok(()) => tally.ok += 1,
                Err(_) => tally.errors += 1,
            }
        }
        tally
    })?;
    println!(
        "tcp_crr conns={} secs={:.3} cps={:.1} errors={}",
        tally.ok,
        elapsed.as_secs_f64(),
        per_second(tally.ok, elapsed),
        tally.errors
    );
    Ok(())
}

/// One connect/request/response/close exchange; an empty reply is an error.
fn crr_once(target: SocketAddr, timeout: Duration) -> io::Result<()> {
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"ping\n")?;
    let mut reply = Vec::with_capacity(16);
    stream.read_to_end(&mut reply)?;
    if reply.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "empty reply"));
    }
    Ok(())
}

/// The wildcard address of `target`'s family, port 0 (the kernel picks a port).
fn any_source(target: SocketAddr) -> SocketAddr {
    match target {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// Sends one datagram from a fresh socket bound to `source`.
fn send_from(source: SocketAddr, target: SocketAddr, payload: &[u8]) -> io::Result<()> {
    let socket = UdpSocket::bind(source)?;
    socket.send_to(payload, target)?;
    Ok(())
}

/// Adds the outcome of one send to a tally: a source tuple in use counts as skipped.
fn record(tally: &mut Tally, result: io::Result<()>) {
    match result {
        Ok(()) => tally.ok += 1,
        Err(err) if err.kind() == io::ErrorKind::AddrInUse => tally.skipped += 1,
        Err(_) => tally.errors += 1,
    }
}

/// `udp-flood`: datagrams each from a fresh socket until the time is up.
pub fn udp_flood(args: UdpFloodArgs) -> anyhow::Result<()> {
    let payload = vec![0x5a; args.payload];
    let plan = SourcePlan::new(args.sources.clone(), args.port_range);
    let deadline = Instant::now() + args.load.seconds.0;
    let threads = args.load.threads;
    let (tally, elapsed) = in_threads(threads, |t| {
        let mut tally = Tally::default();
        let mut indices = strided(t, threads);
        while Instant::now() < deadline {
            let source = match (&plan, indices.next()) {
                (Some(plan), Some(i)) => plan.nth(i),
                _ => any_source(args.load.target),
            };
            record(&mut tally, send_from(source, args.load.target, &payload));
        }
        tally
    })?;
    let wrapped = plan
        .as_ref()
        .is_some_and(|p| tally.ok + tally.skipped > p.capacity());
    println!(
        "udp sent={} pps={:.1} secs={:.3} errors={} skipped={} wrapped={}",
        tally.ok,
        per_second(tally.ok, elapsed),
        elapsed.as_secs_f64(),
        tally.errors,
        tally.skipped,
        u8::from(wrapped)
    );
    Ok(())
}

/// How long connecting, one write and the wait for the server's close may take in
/// `tcp-stream`.
const STREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// `tcp-stream`: one connection per thread writing `--payload` bytes at a time until the time
/// is up; the rate counts the bytes the server has read when it closes.
pub fn tcp_stream(args: StreamArgs) -> anyhow::Result<()> {
    let chunk = vec![0x5a; args.payload.unwrap_or(65536).max(1)];
    let deadline = Instant::now() + args.load.seconds.0;
    let (tally, elapsed) = in_threads(args.load.threads, |_| {
        let mut tally = Tally::default();
        match stream_until(args.load.target, &chunk, deadline) {
            Ok(bytes) => tally.ok = bytes,
            Err(_) => tally.errors += 1,
        }
        tally
    })?;
    if tally.errors > 0 {
        bail!(
            "{} of {} connections failed",
            tally.errors,
            args.load.threads
        );
    }
    println!(
        "tcp_stream bytes={} secs={:.3} mbps={:.1}",
        tally.ok,
        elapsed.as_secs_f64(),
        per_second(tally.ok * 8, elapsed) / 1e6
    );
    Ok(())
}

/// Writes `chunk` over one connection to `target` until `deadline`, then closes its side and
/// waits for the server to close: every byte counted has been read by then.
fn stream_until(target: SocketAddr, chunk: &[u8], deadline: Instant) -> io::Result<u64> {
    let mut stream = TcpStream::connect_timeout(&target, STREAM_TIMEOUT)?;
    stream.set_write_timeout(Some(STREAM_TIMEOUT))?;
    stream.set_read_timeout(Some(STREAM_TIMEOUT))?;
    let mut bytes = 0u64;
    while Instant::now() < deadline {
        stream.write_all(chunk)?;
        bytes += chunk.len() as u64;
    }
    stream.shutdown(Shutdown::Write)?;
    io::copy(&mut stream, &mut io::sink())?;
    Ok(bytes)
}

/// `udp-stream`: datagrams from one connected socket per thread until the time is up.
pub fn udp_stream(args: StreamArgs) -> anyhow::Result<()> {
    let payload = vec![0x5a; args.payload.unwrap_or(16)];
    let deadline = Instant::now() + args.load.seconds.0;
    let (tally, elapsed) = in_threads(args.load.threads, |_| {
        let mut tally = Tally::default();
        let socket = match UdpSocket::bind(any_source(args.load.target))
            .and_then(|s| s.connect(args.load.target).map(|()| s))
        {
            Ok(socket) => socket,
            Err(_) => {
                tally.errors += 1;
                return tally;
            }
        };
        while Instant::now() < deadline {
            match socket.send(&payload) {
                Ok(_) => tally.ok += 1,
                Err(_) => tally.errors += 1,
            }
        }
        tally
    })?;
    println!(
        "udp_stream sent={} pps={:.1} secs={:.3} errors={}",
        tally.ok,
        per_second(tally.ok, elapsed),
        elapsed.as_secs_f64(),
        tally.errors
    );
    Ok(())
}

/// `udp-conns`: one datagram from each of `count` distinct source tuples, as fast as possible.
pub fn udp_conns(args: UdpConnsArgs) -> anyhow::Result<()> {
    let sources = if args.sources.is_empty() {
        vec![any_source(args.target).ip()]
    } else {
        args.sources.clone()
    };
    let plan = SourcePlan::new(sources, args.port_range).context("no source address")?;
    let payload = vec![0x5a; args.payload];
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut i = 0;
    while tally.ok < args.count && i < plan.capacity() {
        record(&mut tally, send_from(plan.nth(i), args.target, &payload));
        i += 1;
    }
    let elapsed = start.elapsed();
    println!(
        "udp_conns sent={} pps={:.1} secs={:.3} errors={} skipped={}",
        tally.ok,
        per_second(tally.ok, elapsed),
        elapsed.as_secs_f64(),
        tally.errors,
        tally.skipped
    );
    if tally.ok < args.count {
        bail!(
            "only {} of {} source tuples could be used ({} addresses x {} ports): add --source",
            tally.ok,
            args.count,
            plan.capacity() / args.port_range.len(),
            args.port_range.len()
        );
    }
    Ok(())
}

/// `sequence`: connections one after another, each from its source tuple; prints the reply
/// of each (`-` for a connection that failed) on one line.
pub fn sequence(args: SequenceArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let mut replies = Vec::new();
    let mut held = Vec::new();
    for i in 0..args.count {
        let ip = match args.sources.len() {
            0 => any_source(args.target).ip(),
            n => args.sources[i as usize % n],
        };
        let port = match args.first_port {
            Some(first) => first
                .checked_add(u16::try_from(i).context("too many connections")?)
                .context("source ports run past 65535")?,
            None => 0,
        };
        let protocol = args
            .sctp
            .then(|| socket2::Protocol::from(libc::IPPROTO_SCTP));
        match exchange(
            SocketAddr::new(ip, port),
            args.target,
            timeout,
            args.hold,
            protocol,
        ) {
            Ok((reply, stream)) => {
                replies.push(reply);
                held.extend(stream);
            }
            // A refused or failed connection is part of the sequence a scheduler produces
            // (no destination available): "-", as the tests expect it.
            Err(_) => replies.push("-".to_owned()),
        }
    }
    println!("{}", replies.join(" "));
    drop(held);
    Ok(())
}

/// One connection from `source` (TCP, or `protocol`'s stream socket: SCTP one-to-one):
/// sends a request and reads the reply's first line; with `hold` returns the open stream,
/// else closes its half and reads until the server closes.
fn exchange(
    source: SocketAddr,
    target: SocketAddr,
    timeout: Duration,
    hold: bool,
    protocol: Option<socket2::Protocol>,
) -> io::Result<(String, Option<TcpStream>)> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(target),
        socket2::Type::STREAM,
        protocol,
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&source.into())?;
    socket.connect_timeout(&target.into(), timeout)?;
    let mut stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"ping\n")?;
    let mut reply = Vec::with_capacity(16);
    let mut byte = [0u8; 1];
    while stream.read(&mut byte)? == 1 && byte[0] != b'\n' {
        reply.push(byte[0]);
    }
    if !hold {
        // Close our half and wait for the server's: once its FIN is back, the director has
        // seen the connection leave the established state, whichever side closed first.
        // An SCTP association the server's SHUTDOWN already ended has no half left to close.
        match stream.shutdown(std::net::Shutdown::Write) {
            Err(err) if err.kind() == io::ErrorKind::NotConnected => {}
            result => result?,
        }
        // A closed SCTP association reads as ENOTCONN rather than end of stream.
        match io::copy(&mut stream, &mut io::sink()) {
            Err(err) if err.kind() == io::ErrorKind::NotConnected => {}
            result => drop(result?),
        }
    }
    let reply = String::from_utf8_lossy(&reply).trim().to_owned();
    if reply.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "empty reply"));
    }
    Ok((reply, hold.then_some(stream)))
}

/// `udp-request`: one datagram from a socket connected to the target (so that an ICMP error
/// about it comes back as the receive's error), then the first answer, written to stdout as
/// it came. No answer within the wait ends the request without output; an error (a port
/// unreachable: "Connection refused") is reported on stderr and fails.
pub fn udp_request(args: UdpRequestArgs) -> anyhow::Result<()> {
    let socket =
        UdpSocket::bind(args.bind.unwrap_or_else(|| any_source(args.target))).context("bind")?;
    socket.connect(args.target).context("connect")?;
    socket.set_read_timeout(Some(args.wait.0))?;
    socket.send(args.payload.as_bytes()).context("send")?;
    let mut answer = vec![0u8; 65536];
    match socket.recv(&mut answer) {
        Ok(len) => {
            let mut stdout = io::stdout().lock();
            stdout.write_all(&answer[..len])?;
            stdout.flush()?;
            Ok(())
        }
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(err) => Err(err).context("recv"),
    }
}
