//! The reminder job: sends due reminders ([`crate::store::reminders`]) to every confirmed attendee, through
//! [`crate::notify::Notifier::send_reminder`]. Due means `due_at` has come by the notifier's clock (tests set it).
//! A reminder whose event cannot be asked now keeps its lease until it runs out, then is tried again.

use std::time::Duration;

use crate::config::{NotificationsSettings, ReminderSettings};
use chrono::Utc;
use cloverleaf_service_kit::ServiceBase;
use cloverleaf_service_kit::retry::after;
use cloverleaf_service_kit::worker::{self, Rounds, WorkerHandle};
use sea_orm::DbErr;

use crate::Error;
use crate::notify::Notifier;
use crate::store::reminders;

/// Reminders claimed per round.
const BATCH: u32 = 20;

pub struct ReminderJob {
    notifier: Notifier,
    options: ReminderSettings,
}

impl ReminderJob {
    pub fn new(notifier: Notifier, options: ReminderSettings) -> Self {
        Self { notifier, options }
    }

    /// One round; the number of reminders sent or dropped.
    pub async fn run_once(&self) -> Result<usize, DbErr> {
        let lease_until = after(Utc::now(), Duration::from_secs(self.options.lease_secs));
        let due = reminders::claim(
            &self.notifier.db,
            self.notifier.clock.now(),
            lease_until,
            BATCH,
        )
        .await?;
        let mut done = 0;
        for claimed in &due {
            match self.notifier.send_reminder(claimed).await {
                Ok(true) => done += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(reminder_id = %claimed.id, event_id = %claimed.event_id, %error,
                    "reminder put off until its lease runs out")
                }
            }
        }
        Ok(done)
    }
}

impl Rounds for ReminderJob {
    type Error = DbErr;

    async fn round(&self) -> Result<bool, DbErr> {
        Ok(self.run_once().await? >= BATCH as usize)
    }
}

pub fn start(base: &ServiceBase, notifier: Notifier) -> Result<WorkerHandle, Error> {
    let options = NotificationsSettings::from_settings(&base.settings)?.reminders;
    let poll = Duration::from_millis(options.poll_interval_ms);
    Ok(worker::spawn(
        ReminderJob::new(notifier, options),
        "reminders",
        poll,
        &base.tasks,
        base.shutdown.clone(),
    ))
}
