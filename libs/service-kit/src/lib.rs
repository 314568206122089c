//! The plumbing every Cloverleaf service shares, written once:
//!
//! - [`config`]: layered settings (defaults → profile file → `CLOVERLEAF__SECTION__KEY`), secrets redacted.
//! - [`telemetry`]: tracing, pretty or JSON.
//! - [`observe`]: the request middleware: `x-request-id` (taken or made), a span per request, one log line, metrics.
//! - [`db`]: connecting (SQLite: WAL, foreign keys, busy timeout; PostgreSQL) and migrating.
//! - [`health`]: `/healthz`, `/readyz`; [`metrics`]: Prometheus `/metrics`; [`docs`]: `/openapi.json` and `/docs`.
//! - [`auth`]: the verifier, issuers and service tokens a service needs, built from settings.
//! - [`forwarded`]: the caller's address, believing `X-Forwarded-For` from configured proxies only.
//! - [`client`]: HTTP calls to another service with a service token, the request id, timeouts and retries.
//! - [`validate`]: request checks every service shares (one 422 naming every invalid field, one-line texts, email
//!   addresses).
//! - [`retry`]: backoff with jitter and saturating deadlines for background workers; [`worker`]: the loop every
//!   background job runs (rounds, wake-ups, polling, shutdown); [`clock`]: the time as rules see it (settable in tests).
//! - [`pagination`]: `?limit=&cursor=` lists with opaque keyset cursors.
//! - [`outbox`]: the transactional outbox, and its relay that delivers domain events to subscribers' `/v1/inbox`;
//!   [`inbox`]: receiving them exactly once, in the transaction of what they change.
//! - [`server`]: putting it together, serving, and stopping gracefully; [`shutdown`]: SIGTERM and Ctrl-C.
//! - `testing` (feature `test-support`): a fresh SQLite file or PostgreSQL database per test.

pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod docs;
pub mod extract;
pub mod forwarded;
pub mod health;
pub mod inbox;
pub mod metrics;
pub mod observe;
pub mod outbox;
pub mod pagination;
pub mod retry;
pub mod server;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod validate;
pub mod worker;

pub use cloverleaf_problem::{FieldError, Problem};
pub use config::Settings;
pub use server::{RunningService, Service, ServiceBase, ServiceParts, StartupError};
