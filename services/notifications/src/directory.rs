//! What notifications asks the other services, over HTTP with a service token: an event and its agenda from
//! scheduling, attendees and manage tokens from registration, as the contracts define them. Fields other services
//! added later (the Chinese texts, `end_timezone`) are read with defaults, so an older answer still works.

use std::sync::Arc;
use std::time::Duration;

use cloverleaf_contracts::{ManageLink, Page};
use cloverleaf_service_kit::client::{ClientError, ServiceClient};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Settings, auth};
use moka::sync::Cache;
use uuid::Uuid;

use crate::Error;

/// What scheduling shows (an event as `GET /v1/events/{id}` answers it, one agenda item, its venue, organiser and
/// links) and a registration as registration lists it to a service (with a fresh manage token): defined in the
/// contracts, under the names notifications uses.
pub use cloverleaf_contracts::{
    AgendaItem, Event, EventLinks, Organiser, Registration as Attendee, Venue,
};

/// Statuses registration gained in this session (contract 2): one that does not know them yet answers 422.
const NEWER_STATUSES: &[&str] = &["event_cancelled"];

/// Attendees are read in pages of this size.
const PAGE: u32 = 500;

/// How many events (and agendas) one run through a claim keeps at most: a claim is one programme event's queue, so
/// this is far more than it needs and only bounds a runaway.
const RECENT_EVENTS: u64 = 1_000;

/// Why the other service gave no answer; the inbox worker tries the event again later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub ClientError);

#[derive(Clone)]
pub struct Directory {
    scheduling: ServiceClient,
    registration: ServiceClient,
    recent: Arc<Recent>,
}

/// What was read of events and agendas, kept for one run of work through one programme event's claimed inbox
/// events ([`Directory::scoped`]). A burst of registrations for one webinar asks for the same event thousands of
/// times; the claim hands one process a prefix of that event's queue at a time, so within it nothing else handles
/// the event's changes, and handling a change forgets it ([`Directory::forget`]). A cache that outlived the claim
/// (it once kept reads 5 s, shared by the whole process) would hand a replica the version from before a change that
/// another replica handled meanwhile: an invite with the old time and the old agenda, never corrected.
struct Recent {
    events: Cache<Uuid, Option<Event>>,
    agendas: Cache<Uuid, Vec<AgendaItem>>,
}

impl Recent {
    /// Kept until forgotten or until the directory is dropped with its claim: no time to live (the claim bounds it).
    fn new() -> Arc<Self> {
        Arc::new(Self {
            events: Cache::new(RECENT_EVENTS),
            agendas: Cache::new(RECENT_EVENTS),
        })
    }
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("scheduling", &self.scheduling.base_url())
            .field("registration", &self.registration.base_url())
            .finish()
    }
}

impl Directory {
    pub fn new(settings: &Settings) -> Result<Self, Error> {
        let tokens = Arc::new(auth::service_tokens(settings, ServiceName::Notifications)?);
        let client = |service| {
            ServiceClient::new(service, settings.service_url(service), tokens.clone())
                .with_timeout(Duration::from_secs(10))
                .with_retries(3, Duration::from_millis(100))
        };
        Ok(Self {
            scheduling: client(ServiceName::Scheduling),
            registration: client(ServiceName::Registration),
            recent: Recent::new(),
        })
    }

    /// The same directory with nothing kept: for one run through a claim (or one reminder), so what it keeps never
    /// outlives the claim.
    pub fn scoped(&self) -> Self {
        Self {
            scheduling: self.scheduling.clone(),
            registration: self.registration.clone(),
            recent: Recent::new(),
        }
    }

    /// Drops what was read of the event: the next [`Directory::event`] and [`Directory::agenda`] ask scheduling.
    pub fn forget(&self, event_id: Uuid) {
        self.recent.events.invalidate(&event_id);
        self.recent.agendas.invalidate(&event_id);
    }

    /// The event, `None` when scheduling does not know it (anymore).
    pub async fn event(&self, id: Uuid) -> Result<Option<Event>, Unavailable> {
        if let Some(event) = self.recent.events.get(&id) {
            return Ok(event);
        }
        let event = match self.scheduling.get_json(&format!("/v1/events/{id}")).await {
            Ok(event) => Some(event),
            Err(error) if error.is_not_found() => None,
            Err(error) => return Err(Unavailable(error)),
        };
        self.recent.events.insert(id, event.clone());
        Ok(event)
    }

    /// The event's agenda in time order (scheduling sends it whole).
    pub async fn agenda(&self, id: Uuid) -> Result<Vec<AgendaItem>, Unavailable> {
        if let Some(agenda) = self.recent.agendas.get(&id) {
            return Ok(agenda);
        }
        let agenda = match self
            .scheduling
            .get_json::<Page<AgendaItem>>(&format!("/v1/events/{id}/items"))
            .await
        {
            Ok(page) => page.items,
            Err(error) if error.is_not_found() => Vec::new(),
            Err(error) => return Err(Unavailable(error)),
        };
        self.recent.agendas.insert(id, agenda.clone());
        Ok(agenda)
    }

    /// Every registration of the event with any of the given statuses (each asked in turn, a registration listed
    /// once), each with a fresh manage token.
    pub async fn attendees_in(
        &self,
        event_id: Uuid,
        statuses: &[&str],
    ) -> Result<Vec<Attendee>, Unavailable> {
        let mut seen = std::collections::HashSet::new();
        let mut all = Vec::new();
        for status in statuses {
            let listed = match self.attendees(event_id, status).await {
                // A registration service from before contract 2 does not know the status (422): it has none.
                Err(Unavailable(ClientError::Status { status: code, .. }))
                    if NEWER_STATUSES.contains(status) && matches!(code.as_u16(), 400 | 422) =>
                {
                    Vec::new()
                }
                other => other?,
            };
            for attendee in listed {
                if seen.insert(attendee.id) {
                    all.push(attendee);
                }
            }
        }
        Ok(all)
    }

    /// Every registration of the event with the given status, each with a fresh manage token.
    pub async fn attendees(
        &self,
        event_id: Uuid,
        status: &str,
    ) -> Result<Vec<Attendee>, Unavailable> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path =
                format!("/v1/registrations?event_id={event_id}&status={status}&limit={PAGE}");
            if let Some(cursor) = &cursor {
                path.push_str("&cursor=");
                path.push_str(
                    &url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>(),
                );
            }
            let page: Page<Attendee> = self
                .registration
                .get_json(&path)
                .await
                .map_err(Unavailable)?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// A fresh manage token (and check-in code) for one registration; `None` once it is erased.
    pub async fn manage_link(
        &self,
        registration_id: Uuid,
    ) -> Result<Option<ManageLink>, Unavailable> {
        match self
            .registration
            .get_json::<ManageLink>(&format!("/v1/registrations/{registration_id}/manage-token"))
            .await
        {
            Ok(link) => Ok(Some(link)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(Unavailable(error)),
        }
    }
}
