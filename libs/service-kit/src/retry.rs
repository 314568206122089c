//! How work that failed is tried again — one policy for every caller: a service-to-service call, opening a
//! database, the demo loader, and the background workers (the outbox relay, mail delivery, the inbox): exponential
//! backoff with jitter, a number of tries, and deadlines that saturate instead of overflowing on absurd settings.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

/// Tries in all, and the pause after each failure: `initial · 2^(failures-1)`, at most `max`, then (by default)
/// ±20% jitter so that many callers failing together (a subscriber or relay down) do not all come back at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How many tries [`RetryPolicy::run`] makes in all (at least one).
    pub attempts: u32,
    pub initial: Duration,
    pub max: Duration,
    /// The fraction each pause may be shortened or lengthened by at random (0 for none).
    pub jitter: f64,
}

/// What [`RetryPolicy::run`] does with one try's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep it: success, or a failure that another try would not change.
    Done,
    /// Try again after the policy's pause.
    Retry,
    /// Try again after this pause (a `Retry-After` the other side gave), at most the policy's `max`.
    RetryAfter(Duration),
}

impl RetryPolicy {
    /// `attempts` tries, pauses doubling from `initial` up to `max`, ±20% jitter.
    pub const fn new(attempts: u32, initial: Duration, max: Duration) -> Self {
        Self {
            attempts,
            initial,
            max,
            jitter: 0.2,
        }
    }

    /// The policy of a background worker's settings (`initial_backoff_ms`, `max_backoff_secs`): it never gives up
    /// by itself — the worker counts tries in its own rows and decides.
    pub const fn from_settings(initial_backoff_ms: u64, max_backoff_secs: u64) -> Self {
        Self::new(
            u32::MAX,
            Duration::from_millis(initial_backoff_ms),
            Duration::from_secs(max_backoff_secs),
        )
    }

    /// The same without jitter, for pauses only one caller takes.
    #[must_use]
    pub const fn without_jitter(mut self) -> Self {
        self.jitter = 0.0;
        self
    }

    /// The pause before try `failures + 1`.
    pub fn pause(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(31);
        let base = self.initial.saturating_mul(1u32 << exponent).min(self.max);
        if self.jitter > 0.0 {
            base.mul_f64(rand::thread_rng().gen_range(1.0 - self.jitter..=1.0 + self.jitter))
        } else {
            base
        }
    }

    /// Runs `attempt` (given the try's number, from 1) until `judge` says [`Verdict::Done`] or the tries are used up,
    /// sleeping between tries; gives the last outcome, whatever it is.
    pub async fn run<R, Fut>(
        &self,
        mut attempt: impl FnMut(u32) -> Fut,
        mut judge: impl FnMut(&R) -> Verdict,
    ) -> R
    where
        Fut: Future<Output = R>,
    {
        let mut tries = 1;
        loop {
            let outcome = attempt(tries).await;
            let pause = match judge(&outcome) {
                Verdict::Done => return outcome,
                _ if tries >= self.attempts => return outcome,
                Verdict::Retry => self.pause(tries),
                Verdict::RetryAfter(pause) => pause.min(self.max),
            };
            tracing::debug!(
                tries,
                retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                "trying again"
            );
            tokio::time::sleep(pause).await;
            tries += 1;
        }
    }
}

/// How long a worker waits after `errors` consecutive database errors: its poll interval, doubling, at most 30 s —
/// rather than logging the same error every poll.
pub fn error_pause(poll: Duration, errors: u32) -> Duration {
    RetryPolicy::new(u32::MAX, poll.saturating_mul(2), Duration::from_secs(30))
        .without_jitter()
        .pause(errors)
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
    fn pauses_double_up_to_the_maximum_with_jitter() {
        let policy = RetryPolicy::new(3, Duration::from_millis(500), Duration::from_secs(300));
        for _ in 0..50 {
            let first = policy.pause(1).as_millis();
            assert!((400..=600).contains(&first), "{first}");
            let fourth = policy.pause(4).as_millis();
            assert!((3200..=4800).contains(&fourth), "{fourth}");
            let late = policy.pause(1000).as_secs_f64();
            assert!((240.0..=360.0).contains(&late), "{late}");
        }
        assert_eq!(
            policy.without_jitter().pause(2),
            Duration::from_millis(1000)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn run_stops_at_done_or_when_the_tries_are_used_up() {
        let policy = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_secs(1));
        // Fails twice, then succeeds: three tries.
        let mut tries = Vec::new();
        let outcome = policy
            .run(
                |n| {
                    tries.push(n);
                    async move { if n < 3 { Err("busy") } else { Ok(n) } }
                },
                |r: &Result<u32, &str>| {
                    if r.is_err() {
                        Verdict::Retry
                    } else {
                        Verdict::Done
                    }
                },
            )
            .await;
        assert_eq!(outcome, Ok(3));
        assert_eq!(tries, [1, 2, 3]);
        // Always failing: the third failure is given back, no fourth try.
        let mut count = 0;
        let outcome: Result<(), &str> = policy
            .run(
                |_| {
                    count += 1;
                    async { Err("down") }
                },
                |_| Verdict::Retry,
            )
            .await;
        assert_eq!((outcome, count), (Err("down"), 3));
        // A pause the other side asked for is taken, capped at the maximum.
        let started = tokio::time::Instant::now();
        let _: u32 = policy
            .run(
                |n| async move { n },
                |n| {
                    if *n == 1 {
                        Verdict::RetryAfter(Duration::from_secs(60))
                    } else {
                        Verdict::Done
                    }
                },
            )
            .await;
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        // A failure another try would not change is given back at once.
        let mut count = 0;
        let _: Result<(), &str> = policy
            .run(
                |_| {
                    count += 1;
                    async { Err("refused") }
                },
                |_| Verdict::Done,
            )
            .await;
        assert_eq!(count, 1);
    }

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
