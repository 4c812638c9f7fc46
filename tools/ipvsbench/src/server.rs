//! `server`: the real-server side. TCP: accept, read the request, write a short reply, close.
//! UDP: count datagrams; the count goes to `--count-file` every 100 ms and to stdout on
//! SIGINT/SIGTERM.

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

    let listener = TcpListener::bind(SocketAddr::new(args.bind, args.tcp_port))
        .with_context(|| format!("TCP bind {}:{}", args.bind, args.tcp_port))?;
    let udp = UdpSocket::bind(SocketAddr::new(args.bind, args.udp_port))
        .with_context(|| format!("UDP bind {}:{}", args.bind, args.udp_port))?;
    let count = Arc::new(AtomicU64::new(0));
    let reply: Arc<[u8]> = Arc::from(args.reply.into_bytes());

    for _ in 0..threads {
        let listener = listener.try_clone().context("cloning the TCP listener")?;
        let reply = Arc::clone(&reply);
        thread::spawn(move || tcp_loop(&listener, &reply));
        let udp = udp.try_clone().context("cloning the UDP socket")?;
        let count = Arc::clone(&count);
        thread::spawn(move || udp_loop(&udp, &count));
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

/// Accepts connections forever; errors on one connection do not stop the loop.
fn tcp_loop(listener: &TcpListener, reply: &[u8]) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client that went away mid-exchange is its problem, not the server's.
                let _ = serve(stream, reply);
            }
            Err(err) => {
                eprintln!("ipvsbench server: accept: {err}");
                // EMFILE and friends: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// One exchange: read the request (so closing sends FIN, not RST), reply, close.
fn serve(mut stream: TcpStream, reply: &[u8]) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 512];
    let _ = stream.read(&mut buf)?;
    stream.write_all(reply)
}

/// Counts datagrams forever.
fn udp_loop(socket: &UdpSocket, count: &AtomicU64) {
    let mut buf = [0u8; 2048];
    loop {
        match socket.recv_from(&mut buf) {
            Ok(_) => {
                count.fetch_add(1, Ordering::Relaxed);
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
