//! Time: the injectable clock signatures are dated by, and the learned offset to AWS's clock.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A source of the current time. Signatures are dated with it and credentials expire by it.
///
/// The default is the system clock; tests inject a fixed one.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
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

/// How far the verifier's clock is from ours, learned from its `Date` header when it says a
/// signature expired. Stored as signed milliseconds so reading it is one atomic load.
#[derive(Debug, Default)]
pub(crate) struct ClockOffset(AtomicI64);

impl ClockOffset {
    pub(crate) fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::Relaxed);
    }

    /// `now` moved by the learned offset.
    pub(crate) fn apply(&self, now: SystemTime) -> SystemTime {
        shift(now, self.get())
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
        let o = ClockOffset::default();
        assert_eq!(o.apply(t), t);
        o.set(-1_500);
        assert_eq!(o.apply(t), t - Duration::from_millis(1_500));
        o.set(2_000);
        assert_eq!(o.apply(t), t + Duration::from_secs(2));
        assert_eq!(millis_between(t, t + Duration::from_secs(3)), 3_000);
        assert_eq!(millis_between(t + Duration::from_secs(3), t), -3_000);
    }
}
