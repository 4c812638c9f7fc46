//! Pure arithmetic: rates, work split across threads, and source tuple enumeration.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::cli::PortRange;

/// Events per second; 0 for an empty interval.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

/// The distinct source tuples (address, port) a UDP sender binds, enumerated address-major:
/// every port of the first address, then every port of the next one.
#[derive(Clone, Debug)]
pub struct SourcePlan {
    addrs: Vec<IpAddr>,
    ports: PortRange,
}

impl SourcePlan {
    /// A plan over `addrs` (at least one) and `ports`.
    pub fn new(addrs: Vec<IpAddr>, ports: PortRange) -> Option<Self> {
        if addrs.is_empty() {
            None
        } else {
            Some(SourcePlan { addrs, ports })
        }
    }

    /// Number of distinct tuples.
    pub fn capacity(&self) -> u64 {
        self.addrs.len() as u64 * self.ports.len()
    }

    /// The `i`-th tuple, wrapping around after `capacity()`.
    pub fn nth(&self, i: u64) -> SocketAddr {
        let per_addr = self.ports.len();
        let i = i % self.capacity();
        let addr = self.addrs[(i / per_addr) as usize];
        // i % per_addr < per_addr <= 65535, so the sum stays a valid u16.
        let port = u64::from(self.ports.lo) + i % per_addr;
        SocketAddr::new(addr, port as u16)
    }
}

/// The indices thread `thread` of `threads` works on: `thread`, `thread + threads`, ...
pub fn strided(thread: usize, threads: usize) -> impl Iterator<Item = u64> {
    (thread as u64..).step_by(threads.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rates() {
        assert_eq!(per_second(1000, Duration::from_secs(10)), 100.0);
        assert_eq!(per_second(3, Duration::from_millis(1500)), 2.0);
        assert_eq!(per_second(5, Duration::ZERO), 0.0);
        assert_eq!(per_second(0, Duration::from_secs(1)), 0.0);
    }

    #[test]
    fn plan_enumerates_distinct_tuples_then_wraps() {
        let addrs = vec![
            "10.0.0.2".parse().expect("ip"),
            "10.0.0.3".parse().expect("ip"),
        ];
        let plan = SourcePlan::new(
            addrs,
            PortRange {
                lo: 65534,
                hi: 65535,
            },
        )
        .expect("plan");
        assert_eq!(plan.capacity(), 4);
        let got: Vec<String> = (0..5).map(|i| plan.nth(i).to_string()).collect();
        assert_eq!(
            got,
            [
                "10.0.0.2:65534",
                "10.0.0.2:65535",
                "10.0.0.3:65534",
                "10.0.0.3:65535",
                "10.0.0.2:65534"
            ]
        );
        assert!(SourcePlan::new(Vec::new(), PortRange::DEFAULT).is_none());
    }

    #[test]
    fn full_range_is_distinct() {
        let addrs = vec![
            "10.0.0.2".parse().expect("ip"),
            "10.0.0.3".parse().expect("ip"),
        ];
        let plan = SourcePlan::new(addrs, PortRange::DEFAULT).expect("plan");
        let all: HashSet<SocketAddr> = (0..plan.capacity()).map(|i| plan.nth(i)).collect();
        assert_eq!(all.len() as u64, plan.capacity());
        assert_eq!(plan.nth(0).port(), 1024);
        assert_eq!(plan.nth(64511).port(), 65535);
    }

    #[test]
    fn threads_split_indices_without_overlap() {
        let a: Vec<u64> = strided(0, 3).take(3).collect();
        let b: Vec<u64> = strided(2, 3).take(3).collect();
        assert_eq!(a, [0, 3, 6]);
        assert_eq!(b, [2, 5, 8]);
        assert_eq!(strided(0, 1).take(2).collect::<Vec<_>>(), [0, 1]);
    }
}
