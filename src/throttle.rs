//! Failed-attempt throttling per client address, in memory: a fixed window per address counts
//! failures; once an address reached the limit it is refused until its window ends. Bounded: at
//! most [`MAX_TRACKED`] addresses; when the map is full, expired windows are pruned (at most once
//! a second) and, if it is still full, a new address is not tracked (the limit then fails open
//! rather than growing memory without bound or scanning the map on every request).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Addresses tracked at most.
pub const MAX_TRACKED: usize = 10_000;
/// The shortest time between two prunes of a full map.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Failures per client address.
#[derive(Debug)]
pub struct Throttle {
    inner: Mutex<Inner>,
    /// How many addresses the map holds: with none (the normal case) a check takes no lock.
    tracked: AtomicUsize,
}

#[derive(Debug)]
struct Inner {
    /// Address → (failures in its window, the window's start).
    windows: HashMap<IpAddr, (u32, Instant)>,
    pruned_at: Instant,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            inner: Mutex::new(Inner { windows: HashMap::new(), pruned_at: Instant::now() }),
            tracked: AtomicUsize::new(0),
        }
    }
}

impl Throttle {
    /// `Some(seconds until the window ends)` (at least 1) while `addr` has made `max` failures
    /// within its current `window`; `None` otherwise, and always when `max` is 0.
    pub fn retry_after(&self, addr: Option<IpAddr>, max: u32, window: Duration) -> Option<u64> {
        let addr = addr?;
        if max == 0 || self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let inner = self.inner.lock().ok()?;
        let (n, since) = inner.windows.get(&addr)?;
        let left = window.checked_sub(since.elapsed())?;
        (*n >= max && !left.is_zero()).then(|| left.as_secs_f64().ceil().max(1.0) as u64)
    }

    /// Counts one failure of `addr`.
    pub fn record_failure(&self, addr: Option<IpAddr>, window: Duration) {
        let Some(addr) = addr else { return };
        let Ok(mut inner) = self.inner.lock() else { return };
        let inner = &mut *inner;
        if !inner.windows.contains_key(&addr) && inner.windows.len() >= MAX_TRACKED {
            if inner.pruned_at.elapsed() >= PRUNE_EVERY {
                inner.windows.retain(|_, (_, since)| since.elapsed() < window);
                inner.pruned_at = Instant::now();
            }
            if inner.windows.len() >= MAX_TRACKED {
                self.tracked.store(inner.windows.len(), Ordering::Relaxed);
                return;
            }
        }
        let entry = inner.windows.entry(addr).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= window {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
        self.tracked.store(inner.windows.len(), Ordering::Relaxed);
    }

    /// How many addresses are tracked.
    pub fn tracked(&self) -> usize {
        self.tracked.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn an_address_is_refused_after_max_failures_until_its_window_ends() {
        let t = Throttle::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert_eq!(t.retry_after(a, 3, MINUTE), None);
            t.record_failure(a, MINUTE);
        }
        let retry = t.retry_after(a, 3, MINUTE).unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(t.retry_after(b, 3, MINUTE), None);
        assert_eq!(t.retry_after(a, 0, MINUTE), None, "0 is no limit");
        assert_eq!(t.retry_after(a, 3, Duration::ZERO), None, "the window is over");
        assert_eq!(t.retry_after(None, 3, MINUTE), None);
    }

    #[test]
    fn the_map_never_holds_more_than_max_tracked_addresses() {
        let t = Throttle::default();
        for i in 0..(MAX_TRACKED as u32 + 500) {
            t.record_failure(Some(IpAddr::from(i.to_be_bytes())), MINUTE);
        }
        assert_eq!(t.tracked(), MAX_TRACKED);
        // Expired windows make room.
        std::thread::sleep(PRUNE_EVERY);
        t.record_failure(Some(IpAddr::from([192, 168, 0, 1])), Duration::from_millis(1));
        assert_eq!(t.tracked(), 1);
    }
}
