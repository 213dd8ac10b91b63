//! Time comes into the engine from outside (DESIGN 2): a [`Clock`] the host gives, the system
//! clock by default, a [`ManualClock`] that tests set; and the settings of the run history
//! (how long a held run waits, how long runs are kept), with the one parser of their
//! durations.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the engine reads the time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told (tests, simulations).
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: SystemTime) -> Self {
        ManualClock(Mutex::new(now))
    }

    /// Sets the time.
    pub fn set(&self, now: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The engine's settings beyond its store.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How long a held run waits for a decision before it expires (default 72 hours).
    pub hold_for: Duration,
    /// How long runs and their change records are kept (default 90 days).
    pub keep_runs_for: Duration,
    /// Where the time is read.
    pub clock: Arc<dyn Clock>,
}

/// The default of `hold_for`: 72 hours.
pub const DEFAULT_HOLD_FOR: Duration = Duration::from_secs(72 * 3600);
/// The default of `keep_runs_for`: 90 days.
pub const DEFAULT_KEEP_RUNS_FOR: Duration = Duration::from_secs(90 * 86_400);

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            hold_for: DEFAULT_HOLD_FOR,
            keep_runs_for: DEFAULT_KEEP_RUNS_FOR,
            clock: Arc::new(SystemClock),
        }
    }
}

impl EngineOptions {
    /// Now, in milliseconds since the Unix epoch.
    pub(crate) fn now_ms(&self) -> i64 {
        millis(self.clock.now())
    }

    /// Whether a held run received at `received_at` is past its time at `now`.
    pub(crate) fn hold_expired(&self, received_at: i64, now: i64) -> bool {
        now.saturating_sub(received_at) >= duration_millis(self.hold_for)
    }

    /// Held runs received before this time are expired at `now`.
    pub(crate) fn holds_received_before(&self, now: i64) -> i64 {
        now.saturating_sub(duration_millis(self.hold_for))
            .saturating_add(1)
    }

    /// Runs received before this time are pruned at `now`.
    pub(crate) fn runs_received_before(&self, now: i64) -> i64 {
        now.saturating_sub(duration_millis(self.keep_runs_for))
    }
}

/// A duration that could not be read ([`parse_duration`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a duration: write a whole number and a unit, s (seconds), m (minutes), \
     h (hours) or d (days), such as 30s, 72h or 90d"
)]
pub struct DurationError(pub String);

/// Reads a duration written as a whole number and a unit: `s` (seconds), `m` (minutes), `h`
/// (hours) or `d` (days), such as `30s`, `72h`, `3d`. Zero and overflowing values are refused.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(sync_engine::parse_duration("72h"), Ok(Duration::from_secs(72 * 3600)));
/// assert!(sync_engine::parse_duration("3 weeks").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError(text.to_owned());
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(error)?;
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| error())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(error()),
    };
    match number.checked_mul(seconds) {
        // Past a century: certainly a mistake, and too large for the millisecond clock.
        Some(secs) if number > 0 && secs <= 100 * 365 * 86_400 => Ok(Duration::from_secs(secs)),
        _ => Err(error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_with_their_unit() {
        for (text, secs) in [
            ("30s", 30),
            ("2s", 2),
            ("15m", 900),
            ("72h", 259_200),
            ("3d", 259_200),
            ("90d", 7_776_000),
            (" 1d ", 86_400),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        for text in [
            "",
            "s",
            "30",
            "30 s",
            "30S",
            "1w",
            "-1d",
            "1.5h",
            "0s",
            "h3",
            "99999999999999999999d",
            "36501d",
            "3d2h",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(err.to_string().contains("such as 30s"), "{text}: {err}");
        }
    }

    #[test]
    fn a_hold_expires_at_its_time() {
        let options = EngineOptions {
            hold_for: Duration::from_secs(2),
            ..EngineOptions::default()
        };
        assert!(!options.hold_expired(10_000, 11_999));
        assert!(options.hold_expired(10_000, 12_000));
        // `received_at < before` is the same rule.
        assert_eq!(options.holds_received_before(12_000), 10_001);
    }
}
