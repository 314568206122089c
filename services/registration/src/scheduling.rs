//! What registration asks of scheduling: does this event exist, and is it published? Asked over HTTP with a service
//! token and a short timeout, and remembered briefly (a burst of registrations for one webinar asks once), so
//! registering keeps working fast — and answers 503, writing nothing, when scheduling cannot be asked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloverleaf_service_kit::auth::{self, AuthSetupError};
use cloverleaf_service_kit::client::ServiceClient;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Problem, Settings};
use moka::future::Cache;
use uuid::Uuid;

/// Scheduling's event as `GET /v1/events/{id}` answers it (defined in the contracts); registration reads its id,
/// title, kind, status, times and zone.
pub use cloverleaf_contracts::Event as EventSummary;

/// How long an answer is remembered: found events a little longer than missing ones.
const FOUND_FOR: Duration = Duration::from_secs(10);
const MISSING_FOR: Duration = Duration::from_secs(2);

/// How many events' answers are remembered at most (the least used leave first).
const REMEMBERED: u64 = 10_000;

/// Each answer lives [`FOUND_FOR`] or [`MISSING_FOR`] from when it was fetched.
struct FreshFor;

impl moka::Expiry<Uuid, Option<EventSummary>> for FreshFor {
    fn expire_after_create(
        &self,
        _id: &Uuid,
        known: &Option<EventSummary>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(if known.is_some() {
            FOUND_FOR
        } else {
            MISSING_FOR
        })
    }

    /// A newer answer for the same event starts its own time.
    fn expire_after_update(
        &self,
        id: &Uuid,
        known: &Option<EventSummary>,
        updated_at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        self.expire_after_create(id, known, updated_at)
    }
}

type Remembered = Cache<Uuid, Option<EventSummary>>;

#[derive(Clone)]
pub struct EventDirectory {
    client: ServiceClient,
    cache: Remembered,
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
            cache: Cache::builder()
                .max_capacity(REMEMBERED)
                .expire_after(FreshFor)
                .build(),
        })
    }

    /// The event, `None` when scheduling does not know it; a 503 problem when scheduling cannot be asked. Answers
    /// are remembered for a few seconds.
    pub async fn event(&self, id: Uuid) -> Result<Option<EventSummary>, Problem> {
        // Concurrent questions about the same event wait for one answer (a burst of registrations asks once); a
        // failure is not remembered.
        self.cache
            .try_get_with(id, self.fetch(id))
            .await
            .map_err(|problem| (*problem).clone())
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
    pub async fn forget(&self, id: Uuid) {
        self.cache.invalidate(&id).await;
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
