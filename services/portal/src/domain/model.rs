//! What the services answer, as far as the pages read it. Unknown fields are ignored and most are optional, so a
//! service may add fields freely.
//!
//! What crosses the boundary as a contract — an event, its agenda items (with their people, rooms, visits,
//! transfers and hotel stays), a venue, an organiser, a registration, one page of a list — is read as the
//! contracts' type itself; how pages show an event and an item (in the reader's language, in their zones) is
//! [`super::view`]. Defined here are only the answers the contracts do not carry: a registration form and its
//! questions, the registrations list's counts, conflicts, the delivery log and the login's token.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::view::{in_language, optional_in_language};
use crate::i18n::Locale;

pub use cloverleaf_contracts::{
    AgendaItem, Event, EventKind, EventStatus, Hotel, HotelStay, ItemKind, Organiser, Page, Person,
    Registration, RegistrationStatus, Room, StoredVenue, Transfer, Venue, Visit,
};

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

/// One page of an event's registrations, with how many are in each status (registration's own list answer: the
/// counts are no contract type, only the portal reads them).
#[derive(Debug, Clone, Deserialize)]
pub struct RegistrationList {
    #[serde(flatten)]
    pub page: Page<Registration>,
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
