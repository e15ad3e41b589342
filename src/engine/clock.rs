//! Time: the injectable clock signatures are dated by, and the learned offset to AWS's clock.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

/// A source of the current time. Signatures are dated with it and credentials expire by it.
///
/// The default is the system clock; tests inject a fixed one.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock: what the middleware uses unless given another
/// ([`SigV4MiddlewareBuilder::clock`](crate::SigV4MiddlewareBuilder::clock)). A unit
/// struct, so that `SystemClock` is a value callers can pass back (to undo a test clock).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that always answers the same instant.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

pub(crate) type SharedClock = Arc<dyn Clock>;

/// How far each verifier's clock is from ours, learned from its `Date` header when it says
/// a signature expired, keyed by the host signed for. One host's clock says nothing about
/// another's: a skewed staging API must not make every other host's signatures expire.
/// Offsets are signed milliseconds; a later lesson from the same host replaces the earlier.
#[derive(Debug, Default)]
pub(crate) struct ClockOffsets {
    by_host: RwLock<HashMap<Arc<str>, i64>>,
    /// The latest offset learned from any host, for the single-number accessor.
    latest: AtomicI64,
    /// Whether any host has an offset: the common case skips the lock.
    any: AtomicBool,
}

/// Hosts remembered at most; past it the table starts over (a route table names a few
/// hosts, but a wildcard route could otherwise grow it without end).
const MAX_HOSTS: usize = 1024;

impl ClockOffsets {
    /// The offset learned for `host`, if any.
    pub(crate) fn get(&self, host: &str) -> Option<i64> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let map = self.by_host.read().unwrap_or_else(PoisonError::into_inner);
        map.get(host).copied()
    }

    /// The latest offset learned from any host (0 before the first).
    pub(crate) fn latest(&self) -> i64 {
        self.latest.load(Ordering::Relaxed)
    }

    /// Learns (or replaces) `host`'s offset.
    pub(crate) fn set(&self, host: &str, millis: i64) {
        let mut map = self.by_host.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_HOSTS && !map.contains_key(host) {
            map.clear();
        }
        map.insert(Arc::from(host), millis);
        self.latest.store(millis, Ordering::Relaxed);
        self.any.store(true, Ordering::Release);
    }

    /// `now` moved by the offset learned for `host`.
    pub(crate) fn apply(&self, host: &str, now: SystemTime) -> SystemTime {
        shift(now, self.get(host).unwrap_or(0))
    }
}

/// `t` moved by `millis` (negative moves back).
pub(crate) fn shift(t: SystemTime, millis: i64) -> SystemTime {
    let d = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        t.checked_add(d).unwrap_or(t)
    } else {
        t.checked_sub(d).unwrap_or(t)
    }
}

/// Milliseconds from `from` to `to` (negative when `to` is earlier).
pub(crate) fn millis_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_moves_time_both_ways() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let o = ClockOffsets::default();
        assert_eq!(o.apply("a", t), t);
        o.set("a", -1_500);
        assert_eq!(o.apply("a", t), t - Duration::from_millis(1_500));
        o.set("a", 2_000);
        assert_eq!(o.apply("a", t), t + Duration::from_secs(2));
        assert_eq!(millis_between(t, t + Duration::from_secs(3)), 3_000);
        assert_eq!(millis_between(t + Duration::from_secs(3), t), -3_000);
    }

    #[test]
    fn offsets_are_per_host_and_replaced() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let o = ClockOffsets::default();
        o.set("a.example", 600_000);
        assert_eq!(o.get("b.example"), None);
        assert_eq!(o.apply("b.example", t), t);
        o.set("b.example", -5_000);
        assert_eq!(o.get("a.example"), Some(600_000));
        assert_eq!(o.latest(), -5_000);
        o.set("a.example", 1_000);
        assert_eq!(o.get("a.example"), Some(1_000));
    }

    #[test]
    fn the_table_is_bounded() {
        let o = ClockOffsets::default();
        for i in 0..=MAX_HOSTS {
            o.set(&format!("h{i}"), 1);
        }
        assert!(o.by_host.read().unwrap().len() <= MAX_HOSTS);
        assert_eq!(o.get(&format!("h{MAX_HOSTS}")), Some(1));
    }
}
