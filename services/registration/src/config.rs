//! The registration service's own settings: `[rate_limit]`, read from the same layers as the common settings
//! (`config/*.toml`, `CLOVERLEAF__RATE_LIMIT__…`), see [`Settings::section`].

use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ConfigError;
use serde::Deserialize;

/// Limits on public endpoints (429 with `Retry-After` beyond them). Each is a token bucket: `burst` at once, then
/// the average. What each defends against is in the README ("Rate limits").
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Registrations one client address may send per minute, on average (sized for a campus behind one address).
    pub registrations_per_minute: u32,
    /// How many it may send at once before the average applies.
    pub registrations_burst: u32,
    /// Registrations for one email address (any event) per hour, on average, and at once.
    pub registrations_per_hour_per_email: u32,
    pub registrations_burst_per_email: u32,
    /// Registrations for one event (from everyone) per minute, on average, and at once.
    pub registrations_per_minute_per_event: u32,
    pub registrations_burst_per_event: u32,
    /// Login attempts from one client address (any account) per minute, on average, and at once.
    pub logins_per_minute: u32,
    pub logins_burst: u32,
    /// Login attempts for one account from one client address per hour, on average, and at once.
    pub logins_per_hour_per_account: u32,
    pub logins_burst_per_account: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            registrations_per_minute: 600,
            registrations_burst: 600,
            registrations_per_hour_per_email: 10,
            registrations_burst_per_email: 5,
            registrations_per_minute_per_event: 1200,
            registrations_burst_per_event: 1200,
            logins_per_minute: 10,
            logins_burst: 20,
            logins_per_hour_per_account: 10,
            logins_burst_per_account: 10,
        }
    }
}

impl RateLimitSettings {
    /// The `[rate_limit]` section (every key has a default, and so has a missing section).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        settings.section_or_default("rate_limit")
    }
}
