//! What notifications asks the other services, over HTTP with a service token: an event and its agenda from
//! scheduling, attendees and manage tokens from registration. Only the fields the emails and invites use are read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use cloverleaf_service_kit::client::{ClientError, ServiceClient};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Settings, auth};
use serde::Deserialize;
use uuid::Uuid;

use crate::Error;

/// Attendees are read in pages of this size.
const PAGE: u32 = 500;

#[derive(Debug, Clone, Deserialize)]
pub struct Venue {
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Organiser {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventLinks {
    /// Path of the event's `.ics` feed, e.g. `/v1/events/{id}/calendar.ics`.
    pub calendar: String,
}

/// An event as scheduling shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: Uuid,
    pub slug: String,
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    pub timezone: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub online_url: Option<String>,
    pub venue: Option<Venue>,
    pub organiser: Organiser,
    /// `draft`, `published`, `cancelled` or `completed`.
    pub status: String,
    pub sequence: i32,
    pub calendar_uid: String,
    pub cancel_reason: Option<String>,
    pub links: EventLinks,
}

impl Event {
    pub fn is_cancelled(&self) -> bool {
        self.status == "cancelled"
    }

    pub fn starts_at_utc(&self) -> DateTime<Utc> {
        self.starts_at.with_timezone(&Utc)
    }
}

/// One agenda item, as far as an invite's description lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct AgendaItem {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    pub location: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// A registration as registration lists it to a service (with a fresh manage token).
#[derive(Debug, Clone, Deserialize)]
pub struct Attendee {
    pub id: Uuid,
    pub status: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub locale: String,
    pub timezone: Option<String>,
    pub waitlist_position: Option<i64>,
    pub manage_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ManageLink {
    manage_token: String,
}

/// Why the other service gave no answer; the inbox worker tries the event again later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub ClientError);

#[derive(Clone)]
pub struct Directory {
    scheduling: ServiceClient,
    registration: ServiceClient,
    recent: Arc<Mutex<Recent>>,
}

/// How long an event or agenda read from scheduling is used again. A burst of registrations for one webinar asks
/// for the same event thousands of times; handling a change of the event forgets it ([`Directory::forget`]), so
/// letters written after a change never use the version before it.
const RECENT_FOR: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Recent {
    events: HashMap<Uuid, (Instant, Option<Event>)>,
    agendas: HashMap<Uuid, (Instant, Vec<AgendaItem>)>,
}

impl Recent {
    fn prune(&mut self, now: Instant) {
        self.events
            .retain(|_, (at, _)| now.duration_since(*at) < RECENT_FOR);
        self.agendas
            .retain(|_, (at, _)| now.duration_since(*at) < RECENT_FOR);
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
            recent: Arc::new(Mutex::new(Recent::default())),
        })
    }

    /// Drops what was read of the event: the next [`Directory::event`] and [`Directory::agenda`] ask scheduling.
    pub fn forget(&self, event_id: Uuid) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.events.remove(&event_id);
            recent.agendas.remove(&event_id);
        }
    }

    fn recent_event(&self, id: Uuid) -> Option<Option<Event>> {
        let recent = self.recent.lock().ok()?;
        let (at, event) = recent.events.get(&id)?;
        (at.elapsed() < RECENT_FOR).then(|| event.clone())
    }

    fn recent_agenda(&self, id: Uuid) -> Option<Vec<AgendaItem>> {
        let recent = self.recent.lock().ok()?;
        let (at, agenda) = recent.agendas.get(&id)?;
        (at.elapsed() < RECENT_FOR).then(|| agenda.clone())
    }

    fn remember(&self, id: Uuid, event: Option<&Option<Event>>, agenda: Option<&Vec<AgendaItem>>) {
        if let Ok(mut recent) = self.recent.lock() {
            let now = Instant::now();
            recent.prune(now);
            if let Some(event) = event {
                recent.events.insert(id, (now, event.clone()));
            }
            if let Some(agenda) = agenda {
                recent.agendas.insert(id, (now, agenda.clone()));
            }
        }
    }

    /// The event, `None` when scheduling does not know it (anymore).
    pub async fn event(&self, id: Uuid) -> Result<Option<Event>, Unavailable> {
        if let Some(event) = self.recent_event(id) {
            return Ok(event);
        }
        let event = match self.scheduling.get_json(&format!("/v1/events/{id}")).await {
            Ok(event) => Some(event),
            Err(error) if error.is_not_found() => None,
            Err(error) => return Err(Unavailable(error)),
        };
        self.remember(id, Some(&event), None);
        Ok(event)
    }

    /// The event's agenda in time order (scheduling sends it whole).
    pub async fn agenda(&self, id: Uuid) -> Result<Vec<AgendaItem>, Unavailable> {
        if let Some(agenda) = self.recent_agenda(id) {
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
        self.remember(id, None, Some(&agenda));
        Ok(agenda)
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

    /// A fresh manage token for one registration; `None` once it is erased.
    pub async fn manage_token(&self, registration_id: Uuid) -> Result<Option<String>, Unavailable> {
        match self
            .registration
            .get_json::<ManageLink>(&format!("/v1/registrations/{registration_id}/manage-token"))
            .await
        {
            Ok(link) => Ok(Some(link.manage_token)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(Unavailable(error)),
        }
    }
}
