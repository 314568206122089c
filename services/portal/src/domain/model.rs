//! What the services answer, as far as the pages read it. Unknown fields are ignored and most are optional, so a
//! service may add fields freely.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Venue {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Organiser {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub slug: String,
    /// webinar, workshop or tour.
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub timezone: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub online_url: Option<String>,
    #[serde(default)]
    pub venue: Option<Venue>,
    #[serde(default)]
    pub organiser: Option<Organiser>,
    /// draft, published, cancelled or completed.
    pub status: String,
    #[serde(default)]
    pub sequence: i64,
    #[serde(default)]
    pub cancel_reason: Option<String>,
}

impl Event {
    /// Where the event happens, for calendars: the venue's name and city, or the online link.
    pub fn location(&self) -> Option<String> {
        match &self.venue {
            Some(v) => {
                let parts: Vec<&str> = [Some(v.name.as_str()), v.city.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|p| !p.is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            }
            None => self.online_url.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Person {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub name: String,
    #[serde(default)]
    pub affiliation: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Room {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Visit {
    #[serde(default)]
    pub institution: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Transfer {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Hotel {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Item {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    #[serde(default)]
    pub own_timezone: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub room: Option<Room>,
    #[serde(default)]
    pub host: Option<Person>,
    #[serde(default)]
    pub speakers: Vec<Person>,
    #[serde(default)]
    pub visit: Option<Visit>,
    #[serde(default)]
    pub transfer: Option<Transfer>,
    #[serde(default)]
    pub hotel: Option<Hotel>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Question {
    pub id: String,
    pub label: String,
    /// text, long_text, single_choice, multiple_choice, yes_no, country, email or date.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Form {
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub waitlist: bool,
    /// automatic or manual.
    #[serde(default)]
    pub approval: String,
    #[serde(default)]
    pub opens_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closes_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub questions: Vec<Question>,
    #[serde(default)]
    pub seats_left: Option<i64>,
    #[serde(default)]
    pub confirmed: i64,
    #[serde(default)]
    pub open: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Registration {
    pub id: Uuid,
    pub event_id: Uuid,
    /// confirmed, waitlisted, pending_approval, cancelled or rejected.
    pub status: String,
    #[serde(default)]
    pub waitlist_position: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub affiliation: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub answers: Map<String, Value>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub checked_in_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub manage_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RegistrationList {
    pub items: Vec<Registration>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub counts: HashMap<String, i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ConflictItem {
    pub id: Uuid,
    #[serde(default)]
    pub event_id: Option<Uuid>,
    pub title: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Conflict {
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub items: Vec<ConflictItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Message {
    pub id: Uuid,
    pub to: String,
    #[serde(default)]
    pub to_name: String,
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub attempts: i64,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub queued_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
}
