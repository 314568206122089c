//! The outbox relay: a background task in each service that writes domain events, delivering every pending
//! `outbox_deliveries` row to its subscriber's `/v1/inbox` until the subscriber answers 2xx.
//!
//! Each round it
//! 1. **claims** a batch of due deliveries in one transaction, leasing them for `outbox.lease_secs` (their
//!    `next_attempt_at` moves to the end of the lease; one `UPDATE … IN (…)` per subscriber). On PostgreSQL the rows
//!    are read `FOR UPDATE SKIP LOCKED`, so several replicas on one database never claim the same delivery; on SQLite
//!    the transaction is `BEGIN IMMEDIATE`, which serialises the claims. A replica that crashes after claiming leaves
//!    its leases to expire, and the deliveries are claimed again.
//! 2. **posts** them: an [`InboxEvent`] with a service token for the subscriber, the event's `x-request-id` and an
//!    `Idempotency-Key` (the event id). The batch is split into groups, one per subscriber and aggregate; up to
//!    `outbox.concurrency` groups are posted at once, each group's deliveries one after another in `position` order.
//! 3. **records** the answers in batches — in one write transaction per chunk of answers (normally one per round),
//!    not one statement per answer: 2xx sets `delivered_at`; anything else adds an attempt, records a short
//!    `last_error` and schedules the next try after an exponential backoff (`initial_backoff_ms · 2^(attempts-1)`,
//!    at most `max_backoff_secs`, ±20% jitter). It never gives up; each failure is logged as a warning. Deliveries
//!    that were not posted are released in the same transaction. A replica that crashes after posting but before
//!    recording only leaves leases to expire: those events are posted again later, which subscribers absorb as they
//!    absorb any repeat, by the `Idempotency-Key` (the event id). Stopping the service gracefully lets the round
//!    finish and record what it did.
//!
//! **Every write goes through the writer.** The claim and the recording are [`crate::db::begin_write`]
//! transactions: on SQLite they run on the process's one writer connection, as the service's own write
//! transactions do, so the relay never takes the file's write lock from a pooled connection (which made the
//! service's next `BEGIN IMMEDIATE` wait in SQLite's busy handler and threw away the writer's page cache).
//!
//! **Order.** A delivery is due only when no earlier (lower `position`) delivery of the same aggregate to the same
//! subscriber is still undelivered — unless that earlier one is in the same claimed batch, where it is in the same
//! group and posted first. Once one of an aggregate's events fails in a round, its later events wait (they are
//! released, not failed). When a subscriber is unreachable or answers 429/5xx-unavailable/401/403/404 — answers about
//! the subscriber rather than the event — no group posts anything more to it in that round: the rest of the round's
//! deliveries to it are put off until the failed one's next try (posts already on their way, at most
//! `outbox.concurrency`, still count).
//!
//! A handler that committed an event calls [`OutboxRelay::wake`] so the relay runs at once instead of at the next
//! poll (`outbox.poll_interval_ms`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cloverleaf_auth::ServiceTokens;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
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

/// Due deliveries in position order that are not held back by an earlier delivery of their aggregate that is waiting
/// (backing off, or leased by another replica). `earlier` lets the caller keep only unbroken runs from each
/// aggregate's oldest undelivered event (on PostgreSQL another replica may hold some rows: SKIP LOCKED leaves gaps).
/// All of it is read from `outbox_deliveries`' partial indexes of pending rows (see
/// [`super::migration::OutboxDeliveryOrder`]); the events are joined for the claimed rows only.
/// `$1` = now, `$2` = batch size; sqlx binds `$n` on SQLite too.
const CLAIM_SQL: &str = "\
SELECT d.event_id, d.subscriber, d.attempts, e.position, e.event_type, e.aggregate_id, e.payload, e.request_id, \
       e.occurred_at, \
       (SELECT COUNT(*) FROM outbox_deliveries p \
         WHERE p.subscriber = d.subscriber AND p.aggregate_id = d.aggregate_id \
           AND p.position < d.position AND p.delivered_at IS NULL) AS earlier \
FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id \
WHERE d.delivered_at IS NULL AND d.next_attempt_at <= $1 \
  AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p \
         WHERE p.subscriber = d.subscriber AND p.aggregate_id = d.aggregate_id \
           AND p.position < d.position AND p.delivered_at IS NULL AND p.next_attempt_at > $1) \
ORDER BY d.position, d.subscriber \
LIMIT $2";

/// Statements that end in `event_id IN (…)`: [`in_list`] appends the list. `$1` = the new `next_attempt_at`,
/// `$2` = the subscriber.
const LEASE_SQL: &str =
    "UPDATE outbox_deliveries SET next_attempt_at = $1 WHERE subscriber = $2 AND event_id IN";

/// `$1` = when, `$2` = the subscriber. The condition on `delivered_at` keeps a late answer from undoing a delivery
/// another replica recorded.
const DELIVERED_SQL: &str = "UPDATE outbox_deliveries SET delivered_at = $1, attempts = attempts + 1 \
WHERE subscriber = $2 AND delivered_at IS NULL AND event_id IN";

const FAILED_SQL: &str = "UPDATE outbox_deliveries \
SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
WHERE event_id = $3 AND subscriber = $4 AND delivered_at IS NULL";

/// `$1` = when it is due again, `$2` = the subscriber.
const RELEASE_SQL: &str = "UPDATE outbox_deliveries SET next_attempt_at = $1 \
WHERE subscriber = $2 AND delivered_at IS NULL AND event_id IN";

/// Most ids in one `IN (…)` list (SQLite allows 32766 bound values per statement, PostgreSQL 65535).
const IN_LIST_CHUNK: usize = 500;

/// Answers recorded per write transaction: normally one transaction per round (batch_size is 100 by default); a
/// larger batch is recorded as it goes, so fewer answers wait for the rest of the round.
const RECORD_CHUNK: usize = 100;

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

/// What became of one claimed delivery in a round, to be recorded.
enum Settled {
    Delivered,
    Failed {
        next: DateTime<Utc>,
        reason: String,
    },
    /// Not posted: due again at this time (`None`: when recorded).
    Released {
        at: Option<DateTime<Utc>>,
    },
}

/// What the concurrent groups of one round share: when each subscriber that answered "down" is to be tried again.
type DownSubscribers = Mutex<HashMap<String, DateTime<Utc>>>;

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

    /// One round: claim a batch, post it (up to `outbox.concurrency` aggregates at once), record the answers.
    pub async fn run_once(&self) -> Result<Round, DbErr> {
        let claimed_at = Instant::now();
        let batch = self.claim().await?;
        let mut round = Round {
            claimed: batch.len(),
            ..Round::default()
        };
        // One group per subscriber and aggregate, in order of their first delivery; inside a group position order
        // (the batch is sorted by position).
        let mut groups: Vec<Vec<&Claimed>> = Vec::new();
        let mut index: HashMap<(&str, Uuid), usize> = HashMap::new();
        for delivery in &batch {
            let at = *index
                .entry((delivery.subscriber.as_str(), delivery.aggregate_id))
                .or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
            groups[at].push(delivery);
        }
        let down = DownSubscribers::default();
        // Up to `concurrency` groups at once, the next one starting as one finishes. (No stream combinator with a
        // closure: its borrowed argument would make the round's future fail the `Send` check.)
        let mut waiting = groups.into_iter();
        let mut posting = FuturesUnordered::new();
        for group in waiting.by_ref().take(self.options.concurrency.max(1)) {
            posting.push(self.post_group(group, claimed_at, &down));
        }
        let mut settled: Vec<(&Claimed, Settled)> = Vec::new();
        while let Some(results) = posting.next().await {
            if let Some(group) = waiting.next() {
                posting.push(self.post_group(group, claimed_at, &down));
            }
            for (_, result) in &results {
                match result {
                    Settled::Delivered => round.delivered += 1,
                    Settled::Failed { .. } => round.failed += 1,
                    Settled::Released { .. } => round.deferred += 1,
                }
            }
            // A group's answers are recorded together, in one transaction.
            settled.extend(results);
            if settled.len() >= RECORD_CHUNK {
                self.record(&settled).await?;
                settled.clear();
            }
        }
        drop(posting);
        if !settled.is_empty() {
            self.record(&settled).await?;
        }
        self.refresh_gauge().await;
        Ok(round)
    }

    /// Posts one group (one subscriber, one aggregate) in order, stopping at its first failure; returns what became
    /// of each delivery.
    async fn post_group<'a>(
        &self,
        group: Vec<&'a Claimed>,
        claimed_at: Instant,
        down: &DownSubscribers,
    ) -> Vec<(&'a Claimed, Settled)> {
        // Posting starts only while the lease still covers a whole request; the rest waits for the next round.
        let budget = Duration::from_secs(
            self.options
                .lease_secs
                .saturating_sub(self.options.request_timeout_secs),
        );
        let mut settled = Vec::with_capacity(group.len());
        let mut rest = group.into_iter();
        // When the deliveries not posted are due again; `None`: at once.
        let mut release_at: Option<DateTime<Utc>> = None;
        for delivery in rest.by_ref() {
            let subscriber_down = down
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&delivery.subscriber)
                .copied();
            if let Some(until) = subscriber_down {
                release_at = Some(until);
                settled.push((delivery, Settled::Released { at: release_at }));
                break;
            }
            if self.shutdown.is_cancelled() || claimed_at.elapsed() >= budget {
                settled.push((delivery, Settled::Released { at: None }));
                break;
            }
            let outcome = tokio::select! {
                outcome = self.post(delivery) => outcome,
                () = self.shutdown.cancelled() => {
                    settled.push((delivery, Settled::Released { at: None }));
                    break;
                }
            };
            match outcome {
                Outcome::Delivered => {
                    self.count(&delivery.subscriber, "delivered");
                    tracing::debug!(
                        subscriber = %delivery.subscriber,
                        event_id = %delivery.event_id,
                        event_type = %delivery.event_type,
                        "outbox event delivered"
                    );
                    settled.push((delivery, Settled::Delivered));
                }
                Outcome::Failed {
                    reason,
                    subscriber_down,
                } => {
                    let attempts = delivery.attempts.saturating_add(1);
                    let pause = self
                        .options
                        .retry_policy()
                        .pause(u32::try_from(attempts).unwrap_or(1));
                    let next = after(Utc::now(), pause);
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
                    if subscriber_down {
                        // Other groups posting to it see this before their next post. (A later "down" answer from
                        // a post already under way only moves the time.)
                        down.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(delivery.subscriber.clone(), next);
                        release_at = Some(next);
                    }
                    settled.push((delivery, Settled::Failed { next, reason }));
                    break;
                }
            }
        }
        // The aggregate's later events wait for the one that failed or was not posted.
        settled.extend(rest.map(|delivery| (delivery, Settled::Released { at: release_at })));
        settled
    }

    /// Writes what became of `settled` deliveries, in one write transaction: delivered ones with one statement per
    /// subscriber, failed ones one by one (rare), released ones grouped by subscriber and time.
    async fn record(&self, settled: &[(&Claimed, Settled)]) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        let now = Utc::now();
        let mut delivered: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
        let mut released: BTreeMap<(&str, DateTime<Utc>), Vec<Uuid>> = BTreeMap::new();
        let txn = crate::db::begin_write(&self.db).await?;
        for (delivery, outcome) in settled {
            match outcome {
                Settled::Delivered => delivered
                    .entry(delivery.subscriber.as_str())
                    .or_default()
                    .push(delivery.event_id),
                Settled::Released { at } => released
                    .entry((delivery.subscriber.as_str(), at.unwrap_or(now)))
                    .or_default()
                    .push(delivery.event_id),
                Settled::Failed { next, reason } => {
                    txn.execute_raw(Statement::from_sql_and_values(
                        backend,
                        FAILED_SQL,
                        [
                            (*next).into(),
                            reason.clone().into(),
                            delivery.event_id.into(),
                            delivery.subscriber.clone().into(),
                        ],
                    ))
                    .await?;
                }
            }
        }
        for (subscriber, ids) in delivered {
            for chunk in ids.chunks(IN_LIST_CHUNK) {
                txn.execute_raw(in_list(
                    backend,
                    DELIVERED_SQL,
                    vec![now.into(), subscriber.to_owned().into()],
                    chunk,
                ))
                .await?;
            }
        }
        for ((subscriber, at), ids) in released {
            for chunk in ids.chunks(IN_LIST_CHUNK) {
                txn.execute_raw(in_list(
                    backend,
                    RELEASE_SQL,
                    vec![at.into(), subscriber.to_owned().into()],
                    chunk,
                ))
                .await?;
            }
        }
        txn.commit().await
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
        // One lease statement per subscriber (and at most IN_LIST_CHUNK ids), not one per row: fewer round trips
        // while the claim holds the writer lock.
        let mut by_subscriber: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
        for delivery in &claimed {
            by_subscriber
                .entry(delivery.subscriber.as_str())
                .or_default()
                .push(delivery.event_id);
        }
        for (subscriber, ids) in by_subscriber {
            for chunk in ids.chunks(IN_LIST_CHUNK) {
                txn.execute_raw(in_list(
                    backend,
                    LEASE_SQL,
                    vec![lease_until.into(), subscriber.to_owned().into()],
                    chunk,
                ))
                .await?;
            }
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

/// `sql` (ending in `event_id IN`) with ` ($n, $n+1, …)` appended for `ids`, after the `values` it already binds.
fn in_list(
    backend: DbBackend,
    sql: &str,
    mut values: Vec<sea_orm::Value>,
    ids: &[Uuid],
) -> Statement {
    let mut sql = format!("{sql} (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        values.push((*id).into());
        sql.push_str(&format!("${}", values.len()));
    }
    sql.push(')');
    Statement::from_sql_and_values(backend, sql, values)
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
            concurrency: 8,
        }
    }

    #[test]
    fn deliveries_back_off_by_the_outbox_settings() {
        // The doubling and the jitter themselves are tested with `RetryPolicy`.
        let policy = options().retry_policy();
        assert_eq!(policy.without_jitter().pause(1), Duration::from_millis(500));
        assert_eq!(policy.without_jitter().pause(4), Duration::from_secs(4));
        assert_eq!(
            policy.without_jitter().pause(1000),
            Duration::from_secs(300)
        );
        let spread: std::collections::HashSet<u128> =
            (0..20).map(|_| policy.pause(3).as_millis()).collect();
        assert!(spread.len() > 1, "jitter varies the pause");
    }

    #[test]
    fn id_lists_are_numbered_after_the_other_values() {
        let ids = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let statement = in_list(
            DbBackend::Postgres,
            RELEASE_SQL,
            vec![Utc::now().into(), "notifications".to_owned().into()],
            &ids,
        );
        assert!(
            statement
                .sql
                .ends_with("delivered_at IS NULL AND event_id IN ($3, $4, $5)"),
            "{}",
            statement.sql
        );
        assert_eq!(statement.values.map(|v| v.0.len()), Some(5));
    }

    #[test]
    fn long_errors_are_cut() {
        assert_eq!(short("HTTP 503"), "HTTP 503");
        assert_eq!(short(&"x".repeat(1000)).chars().count(), 301);
    }
}
