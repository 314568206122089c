//! What notifications asks the other services, over HTTP with a service token: an event and its agenda from
//! scheduling, attendees and manage tokens from registration. Only the fields the emails and invites use are read.

use std::sync::Arc;
use std::time::Duration;

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
        })
    }

    /// The event, `None` when scheduling does not know it (anymore).
    pub async fn event(&self, id: Uuid) -> Result<Option<Event>, Unavailable> {
        match self.scheduling.get_json(&format!("/v1/events/{id}")).await {
            Ok(event) => Ok(Some(event)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(Unavailable(error)),
        }
    }

    /// The event's agenda in time order (scheduling sends it whole).
    pub async fn agenda(&self, id: Uuid) -> Result<Vec<AgendaItem>, Unavailable> {
        match self
            .scheduling
            .get_json::<Page<AgendaItem>>(&format!("/v1/events/{id}/items"))
            .await
        {
            Ok(page) => Ok(page.items),
            Err(error) if error.is_not_found() => Ok(Vec::new()),
            Err(error) => Err(Unavailable(error)),
        }
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
