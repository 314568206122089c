//! The delivery worker: sends the queued messages of [`crate::store::messages`].
//!
//! Each round it
//! 1. **claims** up to `mail.batch_size` due messages in one write transaction — `queued` ones whose
//!    `next_attempt_at` has come, and `sending` ones whose lease has run out (their worker crashed) — setting them
//!    `sending`, counting the try, and leasing them for `mail.lease_secs` (`next_attempt_at` moves to the end of the
//!    lease, so one index serves both). On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so several
//!    replicas never claim the same message; on SQLite the transaction is `BEGIN IMMEDIATE`, which serialises claims.
//! 2. **sends** them, at most `mail.pool_max_connections` at once, through lettre's pooled async SMTP transport (or
//!    as `.eml` files under `<data_dir>/mail`): the stored bytes exactly, with an envelope from `mail.from_email` to
//!    the stored recipient.
//! 3. **records** each result at once: accepted → `sent`; a permanent refusal (SMTP 5xx) → `failed` with the reason;
//!    anything else (connection refused, timeout, 4xx) → `queued` again after an exponential backoff
//!    (`initial_backoff_ms · 2^(tries-1)`, at most `max_backoff_secs`, ±20% jitter), or `failed` once
//!    `max_attempts` tries were made. Results are recorded only while the claim is still this worker's (`status =
//!    'sending'` and the same try count), so a worker whose lease ran out cannot undo another's result.
//!
//! Delivery is at least once: a worker that crashes after the relay accepted a message but before recording it
//! leaves the message `sending`, and it is sent again when the lease expires. Stopping the service gracefully lets
//! the round in progress finish and record its results, so a restart sends nothing twice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, MailSettings, MailTransport, NotificationsSettings, SmtpSecurity};
use chrono::{DateTime, Utc};
use cloverleaf_service_kit::metrics::Metrics;
use cloverleaf_service_kit::retry::after;
use cloverleaf_service_kit::worker::{self, Rounds, WorkerHandle};
use cloverleaf_service_kit::{ServiceBase, Settings};
use futures::StreamExt;
use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Opts};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, Statement};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::Error;
use crate::store::messages;

/// The handle of the running worker: `wake()` after committing messages sends them at once.
pub type DeliveryHandle = WorkerHandle;

/// Starts the delivery worker of the notifications service on `base.tasks`; it stops when `base.shutdown` is
/// cancelled. Registers the `cloverleaf_mail_*` metrics in the service's registry (call it once per service).
pub fn start(base: &ServiceBase) -> Result<DeliveryHandle, Error> {
    let worker = DeliveryWorker::new(base.db.clone(), &base.settings, base.shutdown.clone())?
        .with_metrics(&base.metrics)
        .map_err(|e| Error::Mail(format!("metrics: {e}")))?;
    Ok(worker.spawn(&base.tasks))
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    /// Failed for good (permanent refusal, or the last allowed try).
    pub failed: usize,
    /// Failed for now: queued again with backoff.
    pub retried: usize,
}

/// A message claimed by [`DeliveryWorker::claim`].
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct Claimed {
    pub id: Uuid,
    pub kind: String,
    pub to_email: String,
    pub raw: String,
    /// Tries made, this one included.
    pub attempts: i32,
    pub queued_at: DateTime<Utc>,
}

/// `$1` = the end of the lease, `$2` = now, `$3` = batch size; `{lock}` is ` FOR UPDATE SKIP LOCKED` on PostgreSQL.
const CLAIM_SQL: &str = "\
UPDATE messages SET status = 'sending', attempts = attempts + 1, lease_until = $1, next_attempt_at = $1 \
WHERE id IN (SELECT id FROM messages WHERE status IN ('queued', 'sending') AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3{lock}) \
RETURNING id, kind, to_email, raw, attempts, queued_at";

const SENT_SQL: &str = "UPDATE messages SET status = 'sent', sent_at = $1, lease_until = NULL \
WHERE id = $2 AND status = 'sending' AND attempts = $3";

const RETRY_SQL: &str = "UPDATE messages SET status = 'queued', next_attempt_at = $1, lease_until = NULL, \
last_error = $2 WHERE id = $3 AND status = 'sending' AND attempts = $4";

const FAILED_SQL: &str = "UPDATE messages SET status = 'failed', lease_until = NULL, last_error = $1 \
WHERE id = $2 AND status = 'sending' AND attempts = $3";

impl Rounds for DeliveryWorker {
    type Error = DbErr;

    async fn round(&self) -> Result<bool, DbErr> {
        // A full batch: there is probably more waiting.
        Ok(self.run_once().await?.claimed >= self.options.batch_size as usize)
    }
}

/// Where messages go.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this directory.
    File(PathBuf),
}

enum Outcome {
    Sent,
    Transient(String),
    Permanent(String),
}

#[derive(Clone)]
struct MailMetrics {
    queued: IntGauge,
    sent: IntCounter,
    failed: IntCounter,
    delivery: Histogram,
}

/// The worker's work, one round at a time. [`start`] builds one and spawns it; tests may drive one by hand.
pub struct DeliveryWorker {
    db: DatabaseConnection,
    options: MailSettings,
    transport: Transport,
    sender: Address,
    metrics: Option<MailMetrics>,
    shutdown: CancellationToken,
}

impl DeliveryWorker {
    /// A worker sending `db`'s messages with `settings`' `[mail]` options: the SMTP transport (with its pool) is
    /// built here, once. It stops claiming when `shutdown` is cancelled.
    pub fn new(
        db: DatabaseConnection,
        settings: &Settings,
        shutdown: CancellationToken,
    ) -> Result<Self, Error> {
        let options = NotificationsSettings::from_settings(settings)?.mail;
        let sender: Address = options
            .from_email
            .trim()
            .parse()
            .map_err(|e| Error::Mail(format!("mail.from_email: {e}")))?;
        let transport = match options.transport {
            MailTransport::File => Transport::File(config::mail_dir(settings)),
            MailTransport::Smtp => Transport::Smtp(smtp_transport(&options)?),
        };
        Ok(Self {
            db,
            options,
            transport,
            sender,
            metrics: None,
            shutdown,
        })
    }

    /// Reports `cloverleaf_mail_queued`, `cloverleaf_mail_sent_total`, `cloverleaf_mail_failed_total` and
    /// `cloverleaf_mail_delivery_seconds` (queued → sent) in `metrics`.
    pub fn with_metrics(mut self, metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let queued = IntGauge::with_opts(Opts::new(
            "mail_queued",
            "Messages waiting to be sent (queued, or being sent)",
        ))?;
        let sent = IntCounter::with_opts(Opts::new(
            "mail_sent_total",
            "Messages accepted by the relay",
        ))?;
        let failed = IntCounter::with_opts(Opts::new(
            "mail_failed_total",
            "Messages given up on (refused for good, or out of attempts)",
        ))?;
        let delivery = Histogram::with_opts(
            HistogramOpts::new(
                "mail_delivery_seconds",
                "Time from queueing a message to the relay accepting it",
            )
            .buckets(vec![
                0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0,
            ]),
        )?;
        metrics.registry.register(Box::new(queued.clone()))?;
        metrics.registry.register(Box::new(sent.clone()))?;
        metrics.registry.register(Box::new(failed.clone()))?;
        metrics.registry.register(Box::new(delivery.clone()))?;
        self.metrics = Some(MailMetrics {
            queued,
            sent,
            failed,
            delivery,
        });
        Ok(self)
    }

    /// Runs the worker on `tasks` until the shutdown token is cancelled (the round in progress is finished).
    pub fn spawn(self, tasks: &TaskTracker) -> DeliveryHandle {
        let poll = Duration::from_millis(self.options.poll_interval_ms);
        let shutdown = self.shutdown.clone();
        worker::spawn(self, "mail_delivery", poll, tasks, shutdown)
    }

    /// One round: claim a batch, send it (several at once), record each result.
    pub async fn run_once(&self) -> Result<Round, DbErr> {
        let batch = self.claim().await?;
        let mut round = Round {
            claimed: batch.len(),
            ..Round::default()
        };
        let concurrency = usize::try_from(self.options.pool_max_connections)
            .unwrap_or(1)
            .max(1);
        let mut results = futures::stream::iter(batch)
            .map(|message| async move { self.deliver(&message).await })
            .buffer_unordered(concurrency);
        let mut first_error = None;
        while let Some(result) = results.next().await {
            match result {
                Ok(Recorded::Sent) => round.sent += 1,
                Ok(Recorded::Failed) => round.failed += 1,
                Ok(Recorded::Retried) => round.retried += 1,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        drop(results);
        self.refresh_gauge().await;
        match first_error {
            Some(error) => Err(error),
            None => Ok(round),
        }
    }

    /// Claims (leases) up to `batch_size` due messages, counting a try for each. Exposed so tests can play a worker
    /// that claims and then crashes; [`DeliveryWorker::run_once`] is the normal entry.
    pub async fn claim(&self) -> Result<Vec<Claimed>, DbErr> {
        let backend = self.db.get_database_backend();
        let now = Utc::now();
        let lease_until = after(now, Duration::from_secs(self.options.lease_secs));
        let lock = cloverleaf_service_kit::db::skip_locked(backend);
        let sql = CLAIM_SQL.replace("{lock}", lock);
        let txn = cloverleaf_service_kit::db::begin_write(&self.db).await?;
        let claimed = Claimed::find_by_statement(Statement::from_sql_and_values(
            backend,
            sql,
            [
                lease_until.into(),
                now.into(),
                i64::from(self.options.batch_size).into(),
            ],
        ))
        .all(&txn)
        .await?;
        txn.commit().await?;
        Ok(claimed)
    }

    async fn deliver(&self, message: &Claimed) -> Result<Recorded, DbErr> {
        let outcome = self.send(message).await;
        let now = Utc::now();
        match outcome {
            Outcome::Sent => {
                self.execute(
                    SENT_SQL,
                    vec![now.into(), message.id.into(), message.attempts.into()],
                )
                .await?;
                if let Some(metrics) = &self.metrics {
                    metrics.sent.inc();
                    metrics
                        .delivery
                        .observe(messages::queued_for(message.queued_at, now));
                }
                tracing::debug!(message_id = %message.id, kind = %message.kind, attempts = message.attempts,
                    "message sent");
                Ok(Recorded::Sent)
            }
            Outcome::Transient(reason)
                if u32::try_from(message.attempts).unwrap_or(u32::MAX)
                    < self.options.max_attempts =>
            {
                let pause = self
                    .options
                    .retry_policy()
                    .pause(u32::try_from(message.attempts).unwrap_or(1));
                self.execute(
                    RETRY_SQL,
                    vec![
                        after(now, pause).into(),
                        reason.clone().into(),
                        message.id.into(),
                        message.attempts.into(),
                    ],
                )
                .await?;
                tracing::warn!(message_id = %message.id, kind = %message.kind, attempts = message.attempts,
                    retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), error = %reason,
                    "message not sent; will retry");
                Ok(Recorded::Retried)
            }
            Outcome::Transient(reason) | Outcome::Permanent(reason) => {
                self.execute(
                    FAILED_SQL,
                    vec![
                        reason.clone().into(),
                        message.id.into(),
                        message.attempts.into(),
                    ],
                )
                .await?;
                if let Some(metrics) = &self.metrics {
                    metrics.failed.inc();
                }
                tracing::warn!(message_id = %message.id, kind = %message.kind, attempts = message.attempts,
                    error = %reason, "message failed for good");
                Ok(Recorded::Failed)
            }
        }
    }

    async fn send(&self, message: &Claimed) -> Outcome {
        let recipient: Address = match message.to_email.parse() {
            Ok(address) => address,
            Err(error) => return Outcome::Permanent(short(&format!("invalid recipient: {error}"))),
        };
        let envelope = match Envelope::new(Some(self.sender.clone()), vec![recipient]) {
            Ok(envelope) => envelope,
            Err(error) => return Outcome::Permanent(short(&format!("invalid envelope: {error}"))),
        };
        match &self.transport {
            Transport::Smtp(transport) => {
                let limit = Duration::from_secs(self.options.send_timeout_secs);
                // lettre ends DATA with CRLF "." CRLF, whose first CRLF ends the message's last line: without the
                // message's own final CRLF the relay receives exactly the stored bytes, not an extra empty line.
                let raw = message.raw.as_bytes();
                let raw = raw.strip_suffix(b"\r\n").unwrap_or(raw);
                match tokio::time::timeout(limit, transport.send_raw(&envelope, raw)).await {
                    Ok(Ok(_)) => Outcome::Sent,
                    Ok(Err(error)) if error.is_permanent() => {
                        Outcome::Permanent(smtp_reason(&error))
                    }
                    Ok(Err(error)) => Outcome::Transient(smtp_reason(&error)),
                    Err(_) => {
                        Outcome::Transient("no answer from the SMTP relay in time".to_owned())
                    }
                }
            }
            Transport::File(dir) => match write_file(dir, message).await {
                Ok(()) => Outcome::Sent,
                Err(error) => Outcome::Transient(short(&format!("cannot write the file: {error}"))),
            },
        }
    }

    /// Records a message's result at once (a crash after sending should repeat as few emails as possible), on SQLite
    /// through the writer connection like every write (`db::writer`): from the read pool it would take the write lock
    /// under the writer's feet and throw away its page cache.
    async fn execute(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        cloverleaf_service_kit::db::writer(&self.db)
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map(|_| ())
    }

    async fn refresh_gauge(&self) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        match messages::pending(&self.db).await {
            Ok(n) => metrics.queued.set(n),
            Err(error) => tracing::debug!(%error, "mail delivery: cannot count queued messages"),
        }
    }
}

enum Recorded {
    Sent,
    Failed,
    Retried,
}

/// The pooled SMTP transport the settings describe.
fn smtp_transport(options: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, Error> {
    let host = options.smtp_host.trim();
    let tls_error = |e: lettre::transport::smtp::Error| Error::Mail(format!("mail.smtp_host: {e}"));
    let builder = match options.smtp_security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpSecurity::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
        }
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?
        }
    };
    let mut builder = builder
        .port(options.smtp_port)
        .timeout(Some(Duration::from_secs(options.send_timeout_secs)))
        .pool_config(
            PoolConfig::new()
                .max_size(options.pool_max_connections)
                .idle_timeout(Duration::from_secs(60)),
        );
    if !options.smtp_username.is_empty() {
        builder = builder.credentials(Credentials::new(
            options.smtp_username.clone(),
            options.smtp_password.expose_secret().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// The file transport: `<queued time>-<id>.eml`, written under a temporary name and renamed, so a reader never sees
/// half a message.
async fn write_file(dir: &Path, message: &Claimed) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let name = format!(
        "{}-{}.eml",
        message.queued_at.format("%Y%m%dT%H%M%S%.6fZ"),
        message.id
    );
    let temporary = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&temporary, message.raw.as_bytes()).await?;
    tokio::fs::rename(&temporary, dir.join(name)).await
}

/// lettre's error with its innermost cause ("Connection refused (os error 111)").
fn smtp_reason(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let innermost = cause.to_string();
    if !text.contains(&innermost) {
        text = format!("{text}: {innermost}");
    }
    short(&text)
}

fn short(text: &str) -> String {
    const LIMIT: usize = 500;
    if text.chars().count() <= LIMIT {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(LIMIT).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_back_off_by_the_mail_settings() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let settings = Settings::load_from(&dir, "test", &[]).expect("settings");
        let mut options = NotificationsSettings::from_settings(&settings)
            .expect("settings")
            .mail;
        options.initial_backoff_ms = 500;
        options.max_backoff_secs = 300;
        // The doubling and the jitter themselves are tested with `RetryPolicy`.
        let policy = options.retry_policy().without_jitter();
        assert_eq!(policy.pause(1), Duration::from_millis(500));
        assert_eq!(policy.pause(4), Duration::from_secs(4));
        assert_eq!(policy.pause(1000), Duration::from_secs(300));
    }
}
