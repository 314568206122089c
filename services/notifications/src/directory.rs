//! What notifications asks the other services, over HTTP with a service token: an event and its agenda from
//! scheduling, attendees and manage tokens from registration. Only the fields the emails and invites use are read;
//! fields other services add later (the Chinese texts, `end_timezone`) are read with defaults, so an older answer
//! still works.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use cloverleaf_service_kit::client::{ClientError, ServiceClient};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::{Settings, auth};
use serde::Deserialize;
use uuid::Uuid;

use crate::Error;

/// Statuses registration gained in this session (contract 2): one that does not know them yet answers 422.
const NEWER_STATUSES: &[&str] = &["event_cancelled"];

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
    /// The Chinese title, when there is one (contract 1; English is the fallback).
    #[serde(default)]
    pub title_zh: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub summary_zh: Option<String>,
    pub timezone: String,
    /// The zone the event ends in (a tour Berlin → Nanjing ends in Nanjing's); scheduling fills it in, and before it
    /// did, the end is in `timezone`.
    #[serde(default)]
    pub end_timezone: Option<String>,
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

    /// The zone of its end: `end_timezone`, else `timezone`.
    pub fn end_zone(&self) -> &str {
        self.end_timezone
            .as_deref()
            .filter(|z| !z.trim().is_empty())
            .unwrap_or(&self.timezone)
    }
}

/// One agenda item, as far as an invite's description lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct AgendaItem {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub title_zh: Option<String>,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    /// Where it ends (a flight lands in another zone); before scheduling sent it, the end is in `timezone`.
    #[serde(default)]
    pub end_timezone: Option<String>,
    pub location: Option<String>,
}

impl AgendaItem {
    /// The zone of its end: `end_timezone`, else `timezone`.
    pub fn end_zone(&self) -> &str {
        self.end_timezone
            .as_deref()
            .filter(|z| !z.trim().is_empty())
            .unwrap_or(&self.timezone)
    }
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

/// What was read of events and agendas, kept for one run of work through one programme event's claimed inbox
/// events ([`Directory::scoped`]). A burst of registrations for one webinar asks for the same event thousands of
/// times; the claim hands one process a prefix of that event's queue at a time, so within it nothing else handles
/// the event's changes, and handling a change forgets it ([`Directory::forget`]). A cache that outlived the claim
/// (it once kept reads 5 s, shared by the whole process) would hand a replica the version from before a change that
/// another replica handled meanwhile: an invite with the old time and the old agenda, never corrected.
#[derive(Default)]
struct Recent {
    events: HashMap<Uuid, Option<Event>>,
    agendas: HashMap<Uuid, Vec<AgendaItem>>,
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

    /// The same directory with nothing kept: for one run through a claim (or one reminder), so what it keeps never
    /// outlives the claim.
    pub fn scoped(&self) -> Self {
        Self {
            scheduling: self.scheduling.clone(),
            registration: self.registration.clone(),
            recent: Arc::new(Mutex::new(Recent::default())),
        }
    }

    /// Drops what was read of the event: the next [`Directory::event`] and [`Directory::agenda`] ask scheduling.
    pub fn forget(&self, event_id: Uuid) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.events.remove(&event_id);
            recent.agendas.remove(&event_id);
        }
    }

    fn recent_event(&self, id: Uuid) -> Option<Option<Event>> {
        self.recent.lock().ok()?.events.get(&id).cloned()
    }

    fn recent_agenda(&self, id: Uuid) -> Option<Vec<AgendaItem>> {
        self.recent.lock().ok()?.agendas.get(&id).cloned()
    }

    fn remember(&self, id: Uuid, event: Option<&Option<Event>>, agenda: Option<&Vec<AgendaItem>>) {
        if let Ok(mut recent) = self.recent.lock() {
            if let Some(event) = event {
                recent.events.insert(id, event.clone());
            }
            if let Some(agenda) = agenda {
                recent.agendas.insert(id, agenda.clone());
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
