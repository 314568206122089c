//! What registration asks of scheduling: does this event exist, and is it published? Asked over HTTP with a service
//! token and a short timeout, and remembered briefly (a burst of registrations for one webinar asks once), so
//! registering keeps working fast — and answers 503, writing nothing, when scheduling cannot be asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use cloverleaf_service_kit::auth::{self, AuthSetupError};
use cloverleaf_service_kit::client::ServiceClient;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Problem, Settings};
use serde::Deserialize;
use uuid::Uuid;

/// The part of scheduling's event that registration needs.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSummary {
    pub id: Uuid,
    pub title: String,
    pub kind: String,
    /// draft, published, cancelled or completed.
    pub status: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
}

impl EventSummary {
    pub fn is_published(&self) -> bool {
        self.status == "published"
    }

    pub fn starts_at_utc(&self) -> DateTime<Utc> {
        self.starts_at.with_timezone(&Utc)
    }
}

/// How long an answer is remembered: found events a little longer than missing ones.
const FOUND_FOR: Duration = Duration::from_secs(10);
const MISSING_FOR: Duration = Duration::from_secs(2);

type Cache = HashMap<Uuid, (Instant, Option<EventSummary>)>;

#[derive(Clone)]
pub struct EventDirectory {
    client: ServiceClient,
    cache: Arc<Mutex<Cache>>,
}

impl std::fmt::Debug for EventDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDirectory")
            .field("scheduling", &self.client.base_url())
            .finish()
    }
}

impl EventDirectory {
    pub fn new(settings: &Settings) -> Result<Self, AuthSetupError> {
        let tokens = Arc::new(auth::service_tokens(settings, ServiceName::Registration)?);
        let client = ServiceClient::new(
            ServiceName::Scheduling,
            settings.service_url(ServiceName::Scheduling),
            tokens,
        )
        .with_timeout(Duration::from_secs(2))
        .with_retries(2, Duration::from_millis(100));
        Ok(Self {
            client,
            cache: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The event, `None` when scheduling does not know it; a 503 problem when scheduling cannot be asked. Answers
    /// are remembered for a few seconds.
    pub async fn event(&self, id: Uuid) -> Result<Option<EventSummary>, Problem> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, known)) = cache.get(&id)
        {
            let fresh_for = if known.is_some() {
                FOUND_FOR
            } else {
                MISSING_FOR
            };
            if at.elapsed() < fresh_for {
                return Ok(known.clone());
            }
        }
        let answer = self.fetch(id).await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(id, (Instant::now(), answer.clone()));
        }
        Ok(answer)
    }

    /// The event as scheduling says it now, bypassing the cache (organisers' changes want the fresh answer).
    pub async fn fetch(&self, id: Uuid) -> Result<Option<EventSummary>, Problem> {
        let answer = match self
            .client
            .get_json::<EventSummary>(&format!("/v1/events/{id}"))
            .await
        {
            Ok(event) => Some(event),
            Err(error) if error.is_not_found() => None,
            Err(error) => {
                tracing::warn!(%error, event_id = %id, "cannot ask scheduling about an event");
                return Err(Problem::unavailable(
                    "the event directory (scheduling) cannot be reached; nothing was saved, please try again",
                    5,
                ));
            }
        };
        Ok(answer)
    }

    /// Drops what is remembered about an event (its `event.cancelled` arrived), so the next question asks again.
    pub fn forget(&self, id: Uuid) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&id);
        }
    }

    /// The event if it exists and is published; 409 `event-cancelled` once cancelled; 404 otherwise.
    pub async fn published(&self, id: Uuid) -> Result<EventSummary, Problem> {
        match self.event(id).await? {
            Some(event) if event.is_published() => Ok(event),
            Some(event) if event.status == "cancelled" => Err(Problem::conflict(
                "event-cancelled",
                "this event has been cancelled; its registrations have ended",
            )),
            _ => Err(Problem::not_found("This event").with_detail(
                "no published event has this id; registration opens once the event is published",
            )),
        }
    }
}
