//! Pauses between tries, the same for every background worker (the outbox relay, mail delivery): exponential
//! backoff with jitter for a failed item, a growing pause while the database itself fails, and deadlines that
//! saturate instead of overflowing on absurd settings.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

/// The pause before try `failures + 1`: `initial · 2^(failures-1)`, at most `max`, then ±20% jitter so that many
/// items failing together (a subscriber or relay down) do not all come back at once.
pub fn backoff(initial: Duration, max: Duration, failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(31);
    let base = initial.saturating_mul(1u32 << exponent).min(max);
    base.mul_f64(rand::thread_rng().gen_range(0.8..=1.2))
}

/// How long a worker waits after `errors` consecutive database errors: its poll interval, doubling, at most 30 s —
/// rather than logging the same error every poll.
pub fn error_pause(poll: Duration, errors: u32) -> Duration {
    poll.saturating_mul(1u32 << errors.min(16))
        .min(Duration::from_secs(30))
}

/// `at + pause`, saturating at the end of time rather than overflowing.
pub fn after(at: DateTime<Utc>, pause: Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(pause)
        .ok()
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_pause_longer_each_time_up_to_thirty_seconds() {
        let poll = Duration::from_millis(100);
        assert_eq!(error_pause(poll, 1), Duration::from_millis(200));
        assert_eq!(error_pause(poll, 3), Duration::from_millis(800));
        assert_eq!(error_pause(poll, 40), Duration::from_secs(30));
        assert_eq!(
            after(DateTime::<Utc>::MAX_UTC, Duration::from_secs(1)),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
