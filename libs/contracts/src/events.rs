//! Every domain event, one variant per type name, each with its payload.
//!
//! On the wire an event is `{type, payload}` beside the envelope's ids (`cloverleaf_service_kit::outbox::InboxEvent`);
//! the payload is the variant's struct as JSON. The version of every type is 1: a payload only gains fields (readers
//! default them), and a change that cannot be read by an older reader gets a new version here.
//!
//! Payloads that were written with `json!` before this crate declare their fields in alphabetical order, the order
//! `serde_json`'s map wrote them in, so the stored and delivered bytes are what they were.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The type names, for places that store or filter by them (SQL, logs); code that handles an event matches on
/// [`DomainEvent`] instead.
pub mod types {
    pub const EVENT_PUBLISHED: &str = "event.published";
    pub const EVENT_UPDATED: &str = "event.updated";
    pub const EVENT_CANCELLED: &str = "event.cancelled";
    pub const REGISTRATION_CONFIRMED: &str = "registration.confirmed";
    pub const REGISTRATION_WAITLISTED: &str = "registration.waitlisted";
    pub const REGISTRATION_PENDING_APPROVAL: &str = "registration.pending_approval";
    pub const REGISTRATION_CANCELLED: &str = "registration.cancelled";
    pub const REGISTRATION_REJECTED: &str = "registration.rejected";
    pub const REGISTRATION_PROMOTED: &str = "registration.promoted";
    pub const REGISTRATION_ERASED: &str = "registration.erased";
    pub const REGISTRATION_MANAGE_LINK_REQUESTED: &str = "registration.manage_link_requested";

    /// What every type registration announces begins with (and no other).
    pub const REGISTRATION_PREFIX: &str = "registration.";

    /// Every type name, in the order of [`super::DomainEvent`]'s variants.
    pub const ALL: [&str; 11] = [
        EVENT_PUBLISHED,
        EVENT_UPDATED,
        EVENT_CANCELLED,
        REGISTRATION_CONFIRMED,
        REGISTRATION_WAITLISTED,
        REGISTRATION_PENDING_APPROVAL,
        REGISTRATION_CANCELLED,
        REGISTRATION_REJECTED,
        REGISTRATION_PROMOTED,
        REGISTRATION_ERASED,
        REGISTRATION_MANAGE_LINK_REQUESTED,
    ];
}

/// `event.published`: a draft became public. Scheduling's facts at that moment; receivers read the event itself for
/// anything more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPublished {
    /// Filled in since the end zone was introduced; older payloads lack it (read as empty: the end is in
    /// `timezone`).
    #[serde(default)]
    pub end_timezone: String,
    #[serde(default)]
    pub ends_at: DateTime<Utc>,
    pub event_id: Uuid,
    #[serde(default)]
    pub kind: String,
    /// The event's sequence when published (the first invite carries it).
    #[serde(default)]
    pub sequence: i32,
    #[serde(default)]
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub title: String,
    /// Added with the Chinese texts; older payloads lack it.
    #[serde(default)]
    pub title_zh: Option<String>,
}

/// One field's change: its name and the values before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// `event.updated`: what changed after publishing, so receivers know whether calendars must follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventUpdated {
    pub event_id: Uuid,
    /// The event's sequence after the change (0 when a sender left it out: no sequence is older).
    #[serde(default)]
    pub sequence: i32,
    /// `updated`, `item_added`, `item_updated` or `item_removed`.
    #[serde(default = "updated")]
    pub action: String,
    #[serde(default)]
    pub changed_fields: Vec<String>,
    #[serde(default)]
    pub item_ids: Vec<Uuid>,
    /// True when an attendee's calendar shows the change (and `sequence` rose).
    #[serde(default)]
    pub calendar_visible: bool,
    #[serde(default)]
    pub changes: Vec<FieldChange>,
    /// The change record in the event's history (nil when a sender left it out).
    #[serde(default)]
    pub change_id: Uuid,
}

fn updated() -> String {
    "updated".to_owned()
}

/// `event.cancelled`: the event will not take place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventCancelled {
    pub event_id: Uuid,
    #[serde(default)]
    pub reason: Option<String>,
    /// The event's sequence after cancelling (calendars show the cancellation; 0 when a sender left it out).
    #[serde(default)]
    pub sequence: i32,
}

/// The payload of every `registration.*` event but `erased`: enough for notifications to write to the person
/// without asking back, and the registration id to ask more. Erasing blanks `email`, `name` and `timezone` in the
/// stored copies (registration's outbox, notifications' inbox), so those may be `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationChanged {
    #[serde(default)]
    pub email: Option<String>,
    pub event_id: Uuid,
    /// `en` or `zh-CN`; added after the first payloads, which are read as `en` (so is a `null`).
    #[serde(
        default = "crate::registration::default_locale",
        deserialize_with = "crate::registration::locale_or_default"
    )]
    pub locale: String,
    #[serde(default)]
    pub name: Option<String>,
    pub registration_id: Uuid,
    /// The status the registration reached.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub timezone: Option<String>,
    /// 1 for the first in line; only while waitlisted.
    #[serde(default)]
    pub waitlist_position: Option<i64>,
}

/// The personal fields of a [`RegistrationChanged`] payload, blanked in stored copies on erasure.
pub const PERSONAL_FIELDS: [&str; 3] = ["email", "name", "timezone"];

/// `registration.erased`: a registration's personal data was erased. Only ids, so every service drops its copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationErased {
    pub event_id: Uuid,
    pub registration_id: Uuid,
}

/// Every domain event. Serialises as its payload alone (the type name travels beside it, [`DomainEvent::type_name`]),
/// so producers enqueue the event itself: `outbox::enqueue(txn, event.type_name(), id, &event, …)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DomainEvent {
    EventPublished(EventPublished),
    EventUpdated(EventUpdated),
    EventCancelled(EventCancelled),
    RegistrationConfirmed(RegistrationChanged),
    RegistrationWaitlisted(RegistrationChanged),
    RegistrationPendingApproval(RegistrationChanged),
    RegistrationCancelled(RegistrationChanged),
    RegistrationRejected(RegistrationChanged),
    /// From the waiting list (or approved) to confirmed.
    RegistrationPromoted(RegistrationChanged),
    RegistrationErased(RegistrationErased),
    /// Someone registered again with an address that already has a registration: its owner gets a fresh manage
    /// link. The payload is that (existing) registration's.
    RegistrationManageLinkRequested(RegistrationChanged),
}

/// Why what arrived is not a domain event this crate knows.
#[derive(Debug, thiserror::Error)]
pub enum FromWireError {
    #[error("no handling for {0}")]
    UnknownType(String),
    #[error("{event_type} version {version} is not known (only 1)")]
    UnknownVersion { event_type: String, version: u32 },
    #[error(transparent)]
    Payload(#[from] serde_json::Error),
}

/// Which of a registration's changes a `registration.*` event announces (the variants that carry
/// [`RegistrationChanged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationChange {
    Confirmed,
    Waitlisted,
    PendingApproval,
    Cancelled,
    Rejected,
    Promoted,
    ManageLinkRequested,
}

impl RegistrationChange {
    /// The event announcing this change with `payload`.
    pub fn event(self, payload: RegistrationChanged) -> DomainEvent {
        match self {
            Self::Confirmed => DomainEvent::RegistrationConfirmed(payload),
            Self::Waitlisted => DomainEvent::RegistrationWaitlisted(payload),
            Self::PendingApproval => DomainEvent::RegistrationPendingApproval(payload),
            Self::Cancelled => DomainEvent::RegistrationCancelled(payload),
            Self::Rejected => DomainEvent::RegistrationRejected(payload),
            Self::Promoted => DomainEvent::RegistrationPromoted(payload),
            Self::ManageLinkRequested => DomainEvent::RegistrationManageLinkRequested(payload),
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            Self::Confirmed => types::REGISTRATION_CONFIRMED,
            Self::Waitlisted => types::REGISTRATION_WAITLISTED,
            Self::PendingApproval => types::REGISTRATION_PENDING_APPROVAL,
            Self::Cancelled => types::REGISTRATION_CANCELLED,
            Self::Rejected => types::REGISTRATION_REJECTED,
            Self::Promoted => types::REGISTRATION_PROMOTED,
            Self::ManageLinkRequested => types::REGISTRATION_MANAGE_LINK_REQUESTED,
        }
    }
}

impl DomainEvent {
    /// The version every type is at.
    pub const VERSION: u32 = 1;

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::EventPublished(_) => types::EVENT_PUBLISHED,
            Self::EventUpdated(_) => types::EVENT_UPDATED,
            Self::EventCancelled(_) => types::EVENT_CANCELLED,
            Self::RegistrationErased(_) => types::REGISTRATION_ERASED,
            Self::RegistrationConfirmed(_) => types::REGISTRATION_CONFIRMED,
            Self::RegistrationWaitlisted(_) => types::REGISTRATION_WAITLISTED,
            Self::RegistrationPendingApproval(_) => types::REGISTRATION_PENDING_APPROVAL,
            Self::RegistrationCancelled(_) => types::REGISTRATION_CANCELLED,
            Self::RegistrationRejected(_) => types::REGISTRATION_REJECTED,
            Self::RegistrationPromoted(_) => types::REGISTRATION_PROMOTED,
            Self::RegistrationManageLinkRequested(_) => types::REGISTRATION_MANAGE_LINK_REQUESTED,
        }
    }

    /// The payload's version (1 for every type so far).
    pub fn version(&self) -> u32 {
        Self::VERSION
    }

    /// The event that arrived as `event_type` with `payload`; `version` when the sender gave one (none do yet:
    /// absent means 1).
    pub fn from_wire(
        event_type: &str,
        version: Option<u32>,
        payload: Value,
    ) -> Result<Self, FromWireError> {
        if !types::ALL.contains(&event_type) {
            return Err(FromWireError::UnknownType(event_type.to_owned()));
        }
        let version = version.unwrap_or(Self::VERSION);
        if version != Self::VERSION {
            return Err(FromWireError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
            });
        }
        let registration = |change: RegistrationChange, payload: Value| {
            serde_json::from_value(payload).map(|p| change.event(p))
        };
        Ok(match event_type {
            types::EVENT_PUBLISHED => Self::EventPublished(serde_json::from_value(payload)?),
            types::EVENT_UPDATED => Self::EventUpdated(serde_json::from_value(payload)?),
            types::EVENT_CANCELLED => Self::EventCancelled(serde_json::from_value(payload)?),
            types::REGISTRATION_ERASED => {
                Self::RegistrationErased(serde_json::from_value(payload)?)
            }
            types::REGISTRATION_CONFIRMED => registration(RegistrationChange::Confirmed, payload)?,
            types::REGISTRATION_WAITLISTED => {
                registration(RegistrationChange::Waitlisted, payload)?
            }
            types::REGISTRATION_PENDING_APPROVAL => {
                registration(RegistrationChange::PendingApproval, payload)?
            }
            types::REGISTRATION_CANCELLED => registration(RegistrationChange::Cancelled, payload)?,
            types::REGISTRATION_REJECTED => registration(RegistrationChange::Rejected, payload)?,
            types::REGISTRATION_PROMOTED => registration(RegistrationChange::Promoted, payload)?,
            types::REGISTRATION_MANAGE_LINK_REQUESTED => {
                registration(RegistrationChange::ManageLinkRequested, payload)?
            }
            other => return Err(FromWireError::UnknownType(other.to_owned())),
        })
    }

    /// The payload as JSON (what the outbox stores).
    pub fn payload_json(&self) -> Value {
        // Serialising plain structs of strings, numbers and ids into a `Value` cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The change and payload of a `registration.*` event but `erased`.
    pub fn registration_change(&self) -> Option<(RegistrationChange, &RegistrationChanged)> {
        Some(match self {
            Self::RegistrationConfirmed(p) => (RegistrationChange::Confirmed, p),
            Self::RegistrationWaitlisted(p) => (RegistrationChange::Waitlisted, p),
            Self::RegistrationPendingApproval(p) => (RegistrationChange::PendingApproval, p),
            Self::RegistrationCancelled(p) => (RegistrationChange::Cancelled, p),
            Self::RegistrationRejected(p) => (RegistrationChange::Rejected, p),
            Self::RegistrationPromoted(p) => (RegistrationChange::Promoted, p),
            Self::RegistrationManageLinkRequested(p) => {
                (RegistrationChange::ManageLinkRequested, p)
            }
            Self::EventPublished(_)
            | Self::EventUpdated(_)
            | Self::EventCancelled(_)
            | Self::RegistrationErased(_) => return None,
        })
    }

    /// The programme event it is about.
    pub fn event_id(&self) -> Uuid {
        match self {
            Self::EventPublished(p) => p.event_id,
            Self::EventUpdated(p) => p.event_id,
            Self::EventCancelled(p) => p.event_id,
            Self::RegistrationErased(p) => p.event_id,
            Self::RegistrationConfirmed(p)
            | Self::RegistrationWaitlisted(p)
            | Self::RegistrationPendingApproval(p)
            | Self::RegistrationCancelled(p)
            | Self::RegistrationRejected(p)
            | Self::RegistrationPromoted(p)
            | Self::RegistrationManageLinkRequested(p) => p.event_id,
        }
    }
}
