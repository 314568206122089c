//! What the services answer, as far as the pages read it. Unknown fields are ignored and most are optional, so a
//! service may add fields freely.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use chrono_tz::Tz;

use crate::i18n::Locale;

// What scheduling and registration answer that the portal reads as it is — one page of a list, a venue, an
// organiser, the details of a visit, transfer and hotel stay — is defined in the contracts. The portal's own
// `Event`, `Item`, `Person`, `Room` and `Registration` below are the pages' lenient views (they render into the
// templates and carry the portal's locale helpers); see the contracts' `Event` and `AgendaItem` for the full answer.
pub use cloverleaf_contracts::{Hotel, Organiser, Page, Transfer, Venue, Visit};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub slug: String,
    /// webinar, workshop or tour.
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub title_zh: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub summary_zh: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub description_zh: Option<String>,
    pub timezone: String,
    /// The zone of the end (a tour Berlin → Nanjing ends in Nanjing); scheduling fills it in, older answers lack it.
    #[serde(default)]
    pub end_timezone: Option<String>,
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

/// The Chinese text when the reader reads Chinese and there is one, else the English.
fn in_language(english: &mut String, chinese: Option<&String>, locale: Locale) {
    if locale == Locale::ZhCn
        && let Some(text) = chinese.filter(|t| !t.trim().is_empty())
    {
        english.clone_from(text);
    }
}

fn optional_in_language(english: &mut Option<String>, chinese: Option<&String>, locale: Locale) {
    if locale == Locale::ZhCn
        && let Some(text) = chinese.filter(|t| !t.trim().is_empty())
    {
        *english = Some(text.clone());
    }
}

/// The zone named `name`, else `fallback`.
fn zone_or(name: Option<&str>, fallback: Tz) -> Tz {
    name.and_then(crate::domain::time::zone).unwrap_or(fallback)
}

impl Event {
    /// The event as a reader of `locale` sees it: its Chinese texts on Chinese pages when it has them.
    pub fn localized(&self, locale: Locale) -> Self {
        let mut event = self.clone();
        in_language(&mut event.title, self.title_zh.as_ref(), locale);
        optional_in_language(&mut event.summary, self.summary_zh.as_ref(), locale);
        optional_in_language(&mut event.description, self.description_zh.as_ref(), locale);
        event
    }

    /// The zone the event starts in (UTC for a name that is no zone).
    pub fn zone(&self) -> Tz {
        zone_or(Some(&self.timezone), Tz::UTC)
    }

    /// The zone the event ends in: `end_timezone`, else its own.
    pub fn end_zone(&self) -> Tz {
        zone_or(self.end_timezone.as_deref(), self.zone())
    }

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

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Item {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub title_zh: Option<String>,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    /// The zone of the end (a flight arrives in another zone); the item's `timezone` when absent.
    #[serde(default)]
    pub end_timezone: Option<String>,
    #[serde(default)]
    pub own_timezone: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub description_zh: Option<String>,
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

impl Item {
    /// The item's Chinese texts on Chinese pages when it has them.
    pub fn localize(&mut self, locale: Locale) {
        let (title_zh, description_zh) = (self.title_zh.clone(), self.description_zh.clone());
        in_language(&mut self.title, title_zh.as_ref(), locale);
        optional_in_language(&mut self.description, description_zh.as_ref(), locale);
    }

    /// The zones of its start and its end (`fallback` for a name that is no zone).
    pub fn zones(&self, fallback: Tz) -> (Tz, Tz) {
        let start = zone_or(Some(&self.timezone), fallback);
        (start, zone_or(self.end_timezone.as_deref(), start))
    }
}

/// A question of a registration form. Sent back whole when organisers save the form's settings, so fields the
/// portal does not know are kept too.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Question {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<String>,
    /// text, long_text, single_choice, multiple_choice, yes_no, country, email or date.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_zh: Option<String>,
    /// The answer values (always these English texts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// What Chinese pages show for each of `options`, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options_zh: Vec<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Question {
    /// The label in `locale` (Chinese when given, else English).
    pub fn label_in(&self, locale: Locale) -> String {
        let mut label = self.label.clone();
        in_language(&mut label, self.label_zh.as_ref(), locale);
        label
    }

    pub fn help_in(&self, locale: Locale) -> Option<String> {
        let mut help = self.help.clone().filter(|h| !h.trim().is_empty());
        optional_in_language(&mut help, self.help_zh.as_ref(), locale);
        help
    }

    /// What option `index` shows in `locale`.
    pub fn option_in(&self, index: usize, locale: Locale) -> Option<String> {
        let mut text = self.options.get(index)?.clone();
        in_language(&mut text, self.options_zh.get(index), locale);
        Some(text)
    }
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
    /// confirmed, waitlisted, pending_approval, cancelled, rejected or event_cancelled (its event was cancelled).
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
