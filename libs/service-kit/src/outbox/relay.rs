//! The outbox relay: a background task in each service that writes domain events, delivering every pending
//! `outbox_deliveries` row to its subscriber's `/v1/inbox` until the subscriber answers 2xx.
//!
//! Each round it
//! 1. **claims** a batch of due deliveries in one transaction, leasing them for `outbox.lease_secs` (their
//!    `next_attempt_at` moves to the end of the lease). On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`, so
//!    several replicas on one database never claim the same delivery; on SQLite the transaction is `BEGIN IMMEDIATE`,
//!    which serialises the claims. A replica that crashes after claiming leaves its leases to expire, and the
//!    deliveries are claimed again.
//! 2. **posts** them in `position` order: an [`InboxEvent`] with a service token for the subscriber, the event's
//!    `x-request-id` and an `Idempotency-Key` (the event id).
//! 3. **records** each answer at once: 2xx sets `delivered_at`; anything else adds an attempt, records a short
//!    `last_error` and schedules the next try after an exponential backoff (`initial_backoff_ms · 2^(attempts-1)`, at
//!    most `max_backoff_secs`, ±20% jitter). It never gives up; each failure is logged as a warning.
//!
//! **Order.** A delivery is due only when no earlier (lower `position`) delivery of the same aggregate to the same
//! subscriber is still undelivered — unless that earlier one is in the same claimed batch, where it is posted first.
//! Once one of an aggregate's events fails in a round, its later events wait (they are released, not failed). When a
//! subscriber is unreachable or answers 429/5xx-unavailable/401/403/404 — answers about the subscriber rather than
//! the event — the rest of the round's deliveries to it are put off until the failed one's next try.
//!
//! A handler that committed an event calls [`OutboxRelay::wake`] so the relay runs at once instead of at the next
//! poll (`outbox.poll_interval_ms`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cloverleaf_auth::ServiceTokens;
use prometheus::{IntCounterVec, IntGauge, Opts};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Statement};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::{IDEMPOTENCY_KEY, InboxEvent};
use crate::auth::AuthSetupError;
use crate::config::{OutboxSettings, ServiceName, Settings};
use crate::metrics::Metrics;
use crate::observe::REQUEST_ID;
use crate::retry::after;
use crate::server::{ServiceBase, StartupError};
use crate::worker::{self, Rounds, WorkerHandle};

/// The handle of a running relay (cheap to clone, e.g. into handler state).
#[derive(Clone)]
pub struct OutboxRelay {
    worker: WorkerHandle,
    subscribers: Arc<Vec<String>>,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("subscribers", &self.subscribers)
            .field("running", &self.worker.is_running())
            .finish()
    }
}

impl OutboxRelay {
    /// A relay that does nothing: for a service without subscribers.
    pub fn disabled() -> Self {
        Self {
            worker: WorkerHandle::disabled(),
            subscribers: Arc::new(Vec::new()),
        }
    }

    /// Asks the relay to look for due deliveries now (call it after committing a transaction that wrote events).
    /// Wakes coalesce: many calls during one round cause one more round.
    pub fn wake(&self) {
        self.worker.wake();
    }

    /// The service's subscribers, as [`super::enqueue`] takes them.
    pub fn subscribers(&self) -> &[String] {
        &self.subscribers
    }

    /// Whether a relay task was started (false when the service has no subscribers).
    pub fn is_running(&self) -> bool {
        self.worker.is_running()
    }
}

/// Starts the relay of `base`'s service; see [`ServiceBase::start_outbox_relay`].
pub(crate) fn start(base: &ServiceBase) -> Result<OutboxRelay, StartupError> {
    if base.settings.service(base.name).subscribers.is_empty() {
        tracing::debug!(
            service = base.name.as_str(),
            "no subscribers: no outbox relay"
        );
        return Ok(OutboxRelay::disabled());
    }
    let worker = RelayWorker::new(
        base.db.clone(),
        &base.settings,
        base.name,
        base.shutdown.clone(),
    )?
    .with_metrics(&base.metrics)?;
    Ok(worker.spawn(&base.tasks))
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Deliveries claimed (leased) by this round.
    pub claimed: usize,
    /// Acknowledged with 2xx.
    pub delivered: usize,
    /// Posted and not acknowledged: rescheduled with backoff.
    pub failed: usize,
    /// Not posted (an earlier event of the aggregate failed, the subscriber is unreachable, shutdown, or the lease
    /// was running out): released for a later round without counting an attempt.
    pub deferred: usize,
}

/// A delivery claimed by [`RelayWorker::claim`], with its event.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub event_id: Uuid,
    pub subscriber: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub position: i64,
    pub event_type: String,
    pub aggregate_id: Uuid,
    pub payload: String,
    pub request_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct ClaimRow {
    event_id: Uuid,
    subscriber: String,
    attempts: i32,
    position: i64,
    event_type: String,
    aggregate_id: Uuid,
    payload: String,
    request_id: Option<String>,
    occurred_at: DateTime<Utc>,
    /// Undelivered deliveries of the same aggregate to the same subscriber with a lower position.
    earlier: i64,
}

/// Due deliveries, oldest first, that are not held back by an earlier delivery of their aggregate that is waiting
/// (backing off, or leased by another replica). `earlier` lets the caller keep only unbroken runs from each
/// aggregate's oldest undelivered event (on PostgreSQL another replica may hold some rows: SKIP LOCKED leaves gaps).
/// `$1` = now, `$2` = batch size; sqlx binds `$n` on SQLite too.
const CLAIM_SQL: &str = "\
SELECT d.event_id, d.subscriber, d.attempts, e.position, e.event_type, e.aggregate_id, e.payload, e.request_id, \
       e.occurred_at, \
       (SELECT COUNT(*) FROM outbox_deliveries p JOIN outbox_events pe ON pe.id = p.event_id \
         WHERE p.subscriber = d.subscriber AND pe.aggregate_id = e.aggregate_id \
           AND pe.position < e.position AND p.delivered_at IS NULL) AS earlier \
FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id \
WHERE d.delivered_at IS NULL AND d.next_attempt_at <= $1 \
  AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p JOIN outbox_events pe ON pe.id = p.event_id \
         WHERE p.subscriber = d.subscriber AND pe.aggregate_id = e.aggregate_id \
           AND pe.position < e.position AND p.delivered_at IS NULL AND p.next_attempt_at > $1) \
ORDER BY e.position, d.subscriber \
LIMIT $2";

const LEASE_SQL: &str = "UPDATE outbox_deliveries SET next_attempt_at = $1 \
WHERE event_id = $2 AND subscriber = $3";

/// The conditions on `delivered_at` keep a late answer from undoing a delivery another replica recorded.
const DELIVERED_SQL: &str = "UPDATE outbox_deliveries SET delivered_at = $1, attempts = attempts + 1 \
WHERE event_id = $2 AND subscriber = $3 AND delivered_at IS NULL";

const FAILED_SQL: &str = "UPDATE outbox_deliveries \
SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
WHERE event_id = $3 AND subscriber = $4 AND delivered_at IS NULL";

const RELEASE_SQL: &str = "UPDATE outbox_deliveries SET next_attempt_at = $1 \
WHERE event_id = $2 AND subscriber = $3 AND delivered_at IS NULL";

const UNDELIVERED_SQL: &str =
    "SELECT COUNT(*) AS n FROM outbox_deliveries WHERE delivered_at IS NULL";

/// The relay's work, one round at a time. [`ServiceBase::start_outbox_relay`] builds one and spawns it; tests and
/// tools may drive one by hand with [`RelayWorker::run_once`].
pub struct RelayWorker {
    db: DatabaseConnection,
    source: ServiceName,
    options: OutboxSettings,
    subscribers: Vec<String>,
    /// Every service's inbox URL by name: deliveries written for a subscriber since removed from the configuration
    /// are still delivered.
    inboxes: HashMap<&'static str, (ServiceName, String)>,
    tokens: Arc<ServiceTokens>,
    http: reqwest::Client,
    metrics: Option<RelayMetrics>,
    shutdown: CancellationToken,
}

#[derive(Clone)]
struct RelayMetrics {
    undelivered: IntGauge,
    attempts: IntCounterVec,
}

enum Outcome {
    Delivered,
    Failed {
        reason: String,
        /// The failure says the subscriber cannot take anything now, not that this event is the problem.
        subscriber_down: bool,
    },
}

impl RelayWorker {
    /// A worker delivering `source`'s outbox in `db`, with settings' `[outbox]` options, the subscribers' URLs and
    /// service tokens signed with the service key. It stops posting when `shutdown` is cancelled.
    pub fn new(
        db: DatabaseConnection,
        settings: &Settings,
        source: ServiceName,
        shutdown: CancellationToken,
    ) -> Result<Self, AuthSetupError> {
        let options = settings.outbox.clone();
        let timeout = Duration::from_secs(options.request_timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let inboxes = ServiceName::ALL
            .into_iter()
            .map(|name| {
                let url = format!("{}/v1/inbox", settings.service_url(name));
                (name.as_str(), (name, url))
            })
            .collect();
        Ok(Self {
            db,
            source,
            subscribers: settings.service(source).subscribers.clone(),
            options,
            inboxes,
            tokens: Arc::new(crate::auth::service_tokens(settings, source)?),
            http,
            metrics: None,
            shutdown,
        })
    }

    /// Reports `outbox_undelivered` and `outbox_delivery_attempts_total{subscriber,result}` in `metrics`.
    pub fn with_metrics(mut self, metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let undelivered = IntGauge::with_opts(Opts::new(
            "outbox_undelivered",
            "Outbox deliveries not yet acknowledged by their subscriber",
        ))?;
        let attempts = IntCounterVec::new(
            Opts::new(
                "outbox_delivery_attempts_total",
                "Outbox deliveries posted to subscribers, by subscriber and result (delivered, failed)",
            ),
            &["subscriber", "result"],
        )?;
        metrics.registry.register(Box::new(undelivered.clone()))?;
        metrics.registry.register(Box::new(attempts.clone()))?;
        self.metrics = Some(RelayMetrics {
            undelivered,
            attempts,
        });
        Ok(self)
    }

    /// Runs the relay on `tasks` until the shutdown token is cancelled (a round cut short leaves its leases to
    /// expire; nothing is lost).
    pub fn spawn(self, tasks: &TaskTracker) -> OutboxRelay {
        let subscribers = Arc::new(self.subscribers.clone());
        let poll = Duration::from_millis(self.options.poll_interval_ms);
        let shutdown = self.shutdown.clone();
        tracing::debug!(service = self.source.as_str(), subscribers = ?subscribers, "outbox relay starting");
        let worker = worker::spawn(self, "outbox_relay", poll, tasks, shutdown);
        OutboxRelay {
            worker,
            subscribers,
        }
    }

    /// One round: claim a batch, post it, record the answers.
    pub async fn run_once(&self) -> Result<Round, DbErr> {
        let claimed_at = Instant::now();
        let batch = self.claim().await?;
        let mut round = Round {
            claimed: batch.len(),
            ..Round::default()
        };
        // Posting starts only while the lease still covers a whole request; the rest waits for the next round.
        let budget = Duration::from_secs(
            self.options
                .lease_secs
                .saturating_sub(self.options.request_timeout_secs),
        );
        let mut held_back: Vec<(&str, Uuid)> = Vec::new();
        let mut subscriber_down: HashMap<&str, DateTime<Utc>> = HashMap::new();
        for delivery in &batch {
            let group = (delivery.subscriber.as_str(), delivery.aggregate_id);
            if let Some(until) = subscriber_down.get(group.0) {
                self.release(delivery, *until).await?;
                round.deferred += 1;
                continue;
            }
            if held_back.contains(&group)
                || self.shutdown.is_cancelled()
                || claimed_at.elapsed() >= budget
            {
                self.release(delivery, Utc::now()).await?;
                round.deferred += 1;
                continue;
            }
            let outcome = tokio::select! {
                outcome = self.post(delivery) => outcome,
                () = self.shutdown.cancelled() => {
                    self.release(delivery, Utc::now()).await?;
                    round.deferred += 1;
                    continue;
                }
            };
            match outcome {
                Outcome::Delivered => {
                    self.execute(
                        DELIVERED_SQL,
                        vec![
                            Utc::now().into(),
                            delivery.event_id.into(),
                            delivery.subscriber.clone().into(),
                        ],
                    )
                    .await?;
                    self.count(&delivery.subscriber, "delivered");
                    tracing::debug!(
                        subscriber = %delivery.subscriber,
                        event_id = %delivery.event_id,
                        event_type = %delivery.event_type,
                        "outbox event delivered"
                    );
                    round.delivered += 1;
                }
                Outcome::Failed {
                    reason,
                    subscriber_down: down,
                } => {
                    let attempts = delivery.attempts.saturating_add(1);
                    let pause = backoff(&self.options, u32::try_from(attempts).unwrap_or(1));
                    let next = after(Utc::now(), pause);
                    self.execute(
                        FAILED_SQL,
                        vec![
                            next.into(),
                            reason.clone().into(),
                            delivery.event_id.into(),
                            delivery.subscriber.clone().into(),
                        ],
                    )
                    .await?;
                    self.count(&delivery.subscriber, "failed");
                    tracing::warn!(
                        subscriber = %delivery.subscriber,
                        event_id = %delivery.event_id,
                        event_type = %delivery.event_type,
                        aggregate_id = %delivery.aggregate_id,
                        request_id = delivery.request_id.as_deref().unwrap_or(""),
                        attempts,
                        retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        error = %reason,
                        "outbox delivery failed; will retry"
                    );
                    held_back.push(group);
                    if down {
                        subscriber_down.insert(group.0, next);
                    }
                    round.failed += 1;
                }
            }
        }
        self.refresh_gauge().await;
        Ok(round)
    }

    /// Claims (leases) up to `batch_size` due deliveries in position order. Exposed so tests can play a replica that
    /// claims and then crashes; [`RelayWorker::run_once`] is the normal entry.
    pub async fn claim(&self) -> Result<Vec<Claimed>, DbErr> {
        let backend = self.db.get_database_backend();
        let now = Utc::now();
        let lease_until = after(now, Duration::from_secs(self.options.lease_secs));
        let mut sql = CLAIM_SQL.to_owned();
        if backend == DbBackend::Postgres {
            sql.push_str(" FOR UPDATE OF d SKIP LOCKED");
        }
        let txn = crate::db::begin_write(&self.db).await?;
        let mut rows = ClaimRow::find_by_statement(Statement::from_sql_and_values(
            backend,
            sql,
            [now.into(), i64::from(self.options.batch_size).into()],
        ))
        .all(&txn)
        .await?;
        rows.sort_by(|a, b| (a.position, &a.subscriber).cmp(&(b.position, &b.subscriber)));
        // Keep, for each aggregate and subscriber, the unbroken run starting at its oldest undelivered event: a row
        // whose earlier undelivered events are not all ahead of it in this batch (another replica holds one, or it
        // fell past the limit) must wait. Once a run breaks, every later row of it fails this test too.
        let mut run_lengths: HashMap<(String, Uuid), i64> = HashMap::new();
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let length = run_lengths
                .entry((row.subscriber.clone(), row.aggregate_id))
                .or_insert(0);
            if row.earlier != *length {
                continue;
            }
            *length += 1;
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                LEASE_SQL,
                [
                    lease_until.into(),
                    row.event_id.into(),
                    row.subscriber.clone().into(),
                ],
            ))
            .await?;
            claimed.push(Claimed {
                event_id: row.event_id,
                subscriber: row.subscriber,
                attempts: row.attempts,
                position: row.position,
                event_type: row.event_type,
                aggregate_id: row.aggregate_id,
                payload: row.payload,
                request_id: row.request_id,
                occurred_at: row.occurred_at,
            });
        }
        txn.commit().await?;
        Ok(claimed)
    }

    async fn post(&self, delivery: &Claimed) -> Outcome {
        let Some((subscriber, url)) = self.inboxes.get(delivery.subscriber.as_str()) else {
            return Outcome::Failed {
                reason: format!("unknown subscriber {:?}", delivery.subscriber),
                subscriber_down: true,
            };
        };
        let token = match self.tokens.token_for(subscriber.audience()) {
            Ok(token) => token,
            Err(error) => {
                return Outcome::Failed {
                    reason: short(&format!("no service token: {error}")),
                    subscriber_down: true,
                };
            }
        };
        // The payload was serialised by `enqueue`; should it somehow not parse, it is still sent, as a string.
        let payload = serde_json::from_str(&delivery.payload)
            .unwrap_or_else(|_| serde_json::Value::String(delivery.payload.clone()));
        let envelope = InboxEvent {
            id: delivery.event_id,
            event_type: delivery.event_type.clone(),
            aggregate_id: delivery.aggregate_id,
            source: self.source.as_str().to_owned(),
            occurred_at: delivery.occurred_at,
            payload,
        };
        let mut request = self
            .http
            .post(url)
            .bearer_auth(token)
            .header(IDEMPOTENCY_KEY, delivery.event_id.to_string())
            .json(&envelope);
        if let Some(id) = &delivery.request_id
            && let Ok(value) = reqwest::header::HeaderValue::from_str(id)
        {
            request = request.header(REQUEST_ID, value);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Outcome::Delivered,
            Ok(response) => {
                let status = response.status();
                Outcome::Failed {
                    reason: format!("HTTP {status}"),
                    subscriber_down: about_the_subscriber(status),
                }
            }
            Err(error) => Outcome::Failed {
                reason: transport_reason(&error),
                subscriber_down: true,
            },
        }
    }

    async fn release(&self, delivery: &Claimed, at: DateTime<Utc>) -> Result<(), DbErr> {
        self.execute(
            RELEASE_SQL,
            vec![
                at.into(),
                delivery.event_id.into(),
                delivery.subscriber.clone().into(),
            ],
        )
        .await
    }

    async fn execute(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        self.db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map(|_| ())
    }

    fn count(&self, subscriber: &str, result: &str) {
        if let Some(metrics) = &self.metrics {
            metrics
                .attempts
                .with_label_values(&[subscriber, result])
                .inc();
        }
    }

    async fn refresh_gauge(&self) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let backend = self.db.get_database_backend();
        let counted = self
            .db
            .query_one_raw(Statement::from_string(backend, UNDELIVERED_SQL))
            .await
            .and_then(|row| row.map(|r| r.try_get::<i64>("", "n")).transpose());
        match counted {
            Ok(Some(n)) => metrics.undelivered.set(n),
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "outbox relay: cannot count undelivered"),
        }
    }
}

impl Rounds for RelayWorker {
    type Error = DbErr;

    async fn round(&self) -> Result<bool, DbErr> {
        let round = self.run_once().await?;
        // A full batch that made progress: there is probably more waiting.
        Ok(round.claimed >= self.options.batch_size as usize && round.delivered > 0)
    }
}

/// The pause before attempt `failures + 1`: `initial · 2^(failures-1)`, at most `max`, then ±20% jitter so that many
/// deliveries failing together do not all come back at once.
pub fn backoff(options: &OutboxSettings, failures: u32) -> Duration {
    crate::retry::backoff(
        Duration::from_millis(options.initial_backoff_ms),
        Duration::from_secs(options.max_backoff_secs),
        failures,
    )
}

/// Answers that are about the subscriber as a whole (overloaded, down behind a proxy, refusing our token, no inbox
/// yet), after which its other deliveries in the round are not worth trying.
fn about_the_subscriber(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
            | StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::NOT_FOUND
    )
}

fn transport_reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer in time".to_owned();
    }
    // The innermost cause ("Connection refused (os error 111)") says most in least space.
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let prefix = if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    short(&format!("{prefix}: {cause}"))
}

fn short(text: &str) -> String {
    const LIMIT: usize = 300;
    if text.chars().count() <= LIMIT {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(LIMIT).collect();
        cut.push('…');
        cut
    }
}

impl ServiceBase {
    /// Starts this service's outbox relay on `tasks` (it stops when `shutdown` is cancelled) and returns its handle:
    /// give it to the handlers that write events, which pass [`OutboxRelay::subscribers`] to
    /// [`super::enqueue`] and call [`OutboxRelay::wake`] after committing. A service without subscribers gets a
    /// handle that does nothing. Call it once per service (its metrics are registered once).
    pub fn start_outbox_relay(&self) -> Result<OutboxRelay, StartupError> {
        start(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> OutboxSettings {
        OutboxSettings {
            poll_interval_ms: 500,
            batch_size: 100,
            initial_backoff_ms: 500,
            max_backoff_secs: 300,
            lease_secs: 30,
            request_timeout_secs: 10,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let options = options();
        for _ in 0..50 {
            let first = backoff(&options, 1).as_millis();
            assert!((400..=600).contains(&first), "{first}");
            let fourth = backoff(&options, 4).as_millis();
            assert!((3200..=4800).contains(&fourth), "{fourth}");
            let late = backoff(&options, 1000).as_secs_f64();
            assert!((240.0..=360.0).contains(&late), "{late}");
        }
        let spread: std::collections::HashSet<u128> =
            (0..20).map(|_| backoff(&options, 3).as_millis()).collect();
        assert!(spread.len() > 1, "jitter varies the pause");
    }

    #[test]
    fn long_errors_are_cut() {
        assert_eq!(short("HTTP 503"), "HTTP 503");
        assert_eq!(short(&"x".repeat(1000)).chars().count(), 301);
    }
}
