//! The inbox worker: works through the received domain events ([`crate::store::inbox`]), each handled by
//! [`crate::notify::Notifier::handle`]. A round claims due events with a lease (per programme event, the head of its
//! queue) and handles each programme event's in order, `[inbox] concurrency` programme events at once. When another service cannot be reached, the event is put off
//! with exponential backoff and jitter (`[inbox]` settings) and tried again, never given up: its emails are only
//! late. Handling commits the processed mark with everything it caused, so a crash or a lost lease writes nothing
//! twice.

use std::collections::HashMap;
use std::time::Duration;

use crate::config::{InboxSettings, NotificationsSettings};
use chrono::Utc;
use cloverleaf_service_kit::ServiceBase;
use cloverleaf_service_kit::metrics::Metrics;
use cloverleaf_service_kit::retry::after;
use cloverleaf_service_kit::worker::{self, Rounds, WorkerHandle};
use futures::StreamExt;
use prometheus::{IntGauge, Opts};
use sea_orm::DbErr;

use crate::Error;

use crate::notify::{Failure, Notifier};
use crate::store::inbox;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub processed: usize,
    /// Put off for later (another service unreachable, or a database error).
    pub deferred: usize,
}

pub struct InboxWorker {
    notifier: Notifier,
    options: InboxSettings,
    /// `cloverleaf_inbox_unprocessed`: received events not handled yet (growing: another service is unreachable).
    unprocessed: Option<IntGauge>,
}

impl InboxWorker {
    pub fn new(notifier: Notifier, options: InboxSettings) -> Self {
        Self {
            notifier,
            options,
            unprocessed: None,
        }
    }

    pub fn with_metrics(mut self, metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let gauge = IntGauge::with_opts(Opts::new(
            "inbox_unprocessed",
            "Domain events received and not handled yet",
        ))?;
        metrics.registry.register(Box::new(gauge.clone()))?;
        self.unprocessed = Some(gauge);
        Ok(self)
    }

    /// One round: claim, then work through each programme event's claimed events in order — several programme
    /// events at once — recording failures. After a failure the rest of that programme event's claim is given
    /// back untried, so nothing overtakes the failed event.
    pub async fn run_once(&self) -> Result<Round, DbErr> {
        let now = Utc::now();
        let lease_until = after(now, Duration::from_secs(self.options.lease_secs));
        let batch =
            inbox::claim(&self.notifier.db, now, lease_until, self.options.batch_size).await?;
        let claimed_count = batch.len();
        let mut queues: Vec<Vec<inbox::Claimed>> = Vec::new();
        let mut queue_of: HashMap<uuid::Uuid, usize> = HashMap::new();
        for claimed in batch {
            let index = *queue_of.entry(claimed.event_key).or_insert_with(|| {
                queues.push(Vec::new());
                queues.len() - 1
            });
            queues[index].push(claimed);
        }
        let mut rounds = futures::stream::iter(queues)
            .map(|queue| self.work_through(queue))
            .buffer_unordered(self.options.concurrency.max(1));
        let mut round = Round {
            claimed: claimed_count,
            ..Round::default()
        };
        let mut first_error = None;
        while let Some(result) = rounds.next().await {
            match result {
                Ok(done) => {
                    round.processed += done.processed;
                    round.deferred += done.deferred;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        drop(rounds);
        if let Some(error) = first_error {
            return Err(error);
        }
        if let Some(gauge) = &self.unprocessed
            && (round.claimed > 0 || gauge.get() > 0)
        {
            gauge.set(inbox::unprocessed(&self.notifier.db).await?);
        }
        Ok(round)
    }

    /// One programme event's claimed events, in order; stops at the first failure and gives the rest back.
    async fn work_through(&self, queue: Vec<inbox::Claimed>) -> Result<Round, DbErr> {
        let mut round = Round::default();
        // What is read of the event is kept for this run through its claimed events only.
        let notifier = self.notifier.scoped();
        for (index, claimed) in queue.iter().enumerate() {
            match notifier.handle(claimed).await {
                Ok(true) => round.processed += 1,
                // Another worker took it over; its result stands.
                Ok(false) => {}
                Err(failure) => {
                    let failures = u32::try_from(claimed.attempts).unwrap_or(1);
                    let pause = self.options.retry_policy().pause(failures);
                    let reason = failure.to_string();
                    match &failure {
                        Failure::Unavailable(_) | Failure::Stale(_) => {
                            tracing::warn!(event_id = %claimed.id, event_type = %claimed.event_type,
                            attempts = claimed.attempts, retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                            error = %reason, "inbox event put off: another service cannot be reached or answered an older version")
                        }
                        Failure::Error(_) => {
                            tracing::error!(event_id = %claimed.id, event_type = %claimed.event_type,
                            attempts = claimed.attempts, error = %reason, "inbox event failed; will retry")
                        }
                    }
                    inbox::retry_later(
                        &self.notifier.db,
                        claimed,
                        after(Utc::now(), pause),
                        &reason,
                    )
                    .await?;
                    round.deferred += 1;
                    inbox::release(&self.notifier.db, &queue[index + 1..]).await?;
                    break;
                }
            }
        }
        Ok(round)
    }
}

impl Rounds for InboxWorker {
    type Error = DbErr;

    async fn round(&self) -> Result<bool, DbErr> {
        let round = self.run_once().await?;
        // More may be waiting behind what was just processed (the next event of each programme event).
        Ok(round.processed > 0)
    }
}

/// Starts the inbox worker on the service's tasks, reporting `cloverleaf_inbox_unprocessed`.
pub fn start(base: &ServiceBase, notifier: Notifier) -> Result<WorkerHandle, Error> {
    let options = NotificationsSettings::from_settings(&base.settings)?.inbox;
    let poll = Duration::from_millis(options.poll_interval_ms);
    let worker = InboxWorker::new(notifier, options)
        .with_metrics(&base.metrics)
        .map_err(|e| Error::Corrupt(format!("metrics: {e}")))?;
    Ok(worker::spawn(
        worker,
        "inbox",
        poll,
        &base.tasks,
        base.shutdown.clone(),
    ))
}
