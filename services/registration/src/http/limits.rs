//! Rate limits on registration's public endpoints, each a token bucket (`burst` at once, then the average; 429 with
//! `Retry-After` beyond it), all sized in `[rate_limit]` (README, "Rate limits", says what each defends against):
//!
//! - registrations per client address — a script flooding from one address, sized so that a campus behind one NAT
//!   address gets through a registration rush in minutes;
//! - registrations per email address — someone registering a victim's address again and again to flood its mailbox;
//! - registrations per event — many addresses filling one event's seats and waiting list at once;
//! - login attempts per client address — spraying passwords across many accounts from one address;
//! - login attempts per account *and* client address — guessing one account's password. Counted per address, so a
//!   guesser elsewhere cannot use it to lock a real organiser out; failures for an account from everywhere only slow
//!   its logins down ([`crate::domain::accounts`]).
//!
//! The client address is the kit's [`cloverleaf_service_kit::forwarded::ClientAddress`]: the peer's, or the last
//! `X-Forwarded-For` entry of a proxy listed in `http.trusted_proxies` (the edge, the portal) — never a header from
//! anyone else. The buckets are kept in memory, per replica.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::RateLimitSettings;
use axum::http::{HeaderValue, StatusCode, header};
use cloverleaf_service_kit::Problem;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// How many checks pass between two sweeps of buckets that are full again (so keys seen once do not pile up).
const SWEEP_EVERY: u64 = 4096;

pub struct Limits {
    registrations_per_address: DefaultKeyedRateLimiter<IpAddr>,
    registrations_per_email: DefaultKeyedRateLimiter<String>,
    registrations_per_event: DefaultKeyedRateLimiter<Uuid>,
    logins_per_address: DefaultKeyedRateLimiter<IpAddr>,
    logins_per_account: DefaultKeyedRateLimiter<(String, IpAddr)>,
    checks: AtomicU64,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

fn per_minute(average: u32, burst: u32) -> Quota {
    Quota::per_minute(nonzero(average)).allow_burst(nonzero(burst))
}

fn per_hour(average: u32, burst: u32) -> Quota {
    Quota::per_hour(nonzero(average)).allow_burst(nonzero(burst))
}

/// The 429 of a full bucket: `Retry-After` in whole seconds, at least 1.
fn refused(
    kind: &'static str,
    title: &'static str,
    detail: &str,
    wait: std::time::Duration,
) -> Problem {
    let secs = u32::try_from(wait.as_secs().saturating_add(1)).unwrap_or(u32::MAX);
    Problem::new(StatusCode::TOO_MANY_REQUESTS, kind, title)
        .with_detail(detail)
        .with_header(header::RETRY_AFTER, HeaderValue::from(secs))
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), std::time::Duration> {
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

impl Limits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let s = settings;
        Self {
            registrations_per_address: RateLimiter::keyed(per_minute(
                s.registrations_per_minute,
                s.registrations_burst,
            )),
            registrations_per_email: RateLimiter::keyed(per_hour(
                s.registrations_per_hour_per_email,
                s.registrations_burst_per_email,
            )),
            registrations_per_event: RateLimiter::keyed(per_minute(
                s.registrations_per_minute_per_event,
                s.registrations_burst_per_event,
            )),
            logins_per_address: RateLimiter::keyed(per_minute(s.logins_per_minute, s.logins_burst)),
            logins_per_account: RateLimiter::keyed(per_hour(
                s.logins_per_hour_per_account,
                s.logins_burst_per_account,
            )),
            checks: AtomicU64::new(0),
        }
    }

    fn sweep(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.registrations_per_address.retain_recent();
            self.registrations_per_email.retain_recent();
            self.registrations_per_event.retain_recent();
            self.logins_per_address.retain_recent();
            self.logins_per_account.retain_recent();
        }
    }

    /// One more registration from `client` for `email` (as typed; compared lower-cased) and `event`.
    pub fn registration(
        &self,
        client: IpAddr,
        email: Option<&str>,
        event: Uuid,
    ) -> Result<(), Problem> {
        self.sweep();
        check(&self.registrations_per_address, &client).map_err(|wait| {
            refused(
                "rate-limited",
                "Too many requests",
                "too many registrations from this address; try again later",
                wait,
            )
        })?;
        if let Some(email) = email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
        {
            check(&self.registrations_per_email, &email).map_err(|wait| {
                refused(
                    "rate-limited",
                    "Too many requests",
                    "too many registrations for this email address; try again later",
                    wait,
                )
            })?;
        }
        check(&self.registrations_per_event, &event).map_err(|wait| {
            refused(
                "rate-limited",
                "Too many requests",
                "too many registrations for this event at once; try again in a moment",
                wait,
            )
        })
    }

    /// One more login attempt from `client` (any account): checked before any work is done.
    pub fn login_from(&self, client: IpAddr) -> Result<(), Problem> {
        self.sweep();
        check(&self.logins_per_address, &client).map_err(|wait| {
            refused(
                "too-many-logins",
                "Too many logins",
                "too many login attempts from this address; try again later",
                wait,
            )
        })
    }

    /// One more login attempt from `client` for the account `email` (a [`crate::domain::accounts::login_key`], at
    /// most [`crate::domain::accounts::EMAIL_MAX_OCTETS`] long).
    pub fn login_for(&self, client: IpAddr, email: &str) -> Result<(), Problem> {
        check(&self.logins_per_account, &(email.to_owned(), client)).map_err(|wait| {
            refused(
                "too-many-logins",
                "Too many logins",
                "too many login attempts for this email address from this address; try again later",
                wait,
            )
        })
    }
}
