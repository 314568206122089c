//! What registration tells other services about a registration: the registration as it lists it
//! (`GET /v1/registrations?event_id=…`, notifications' attendee list, the portal's pages) and a fresh manage link.
//!
//! The producer's shape; readers are lenient (serde defaults) for every field an older registration or a test fake
//! may leave out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::events::RegistrationChange;

/// The statuses of a registration (the values of [`Registration::status`]); for the OpenAPI schema, for comparing,
/// and — with feature `sea-orm` — registration's `registrations.status` column (a string of at most 24 characters,
/// the same word as on the wire), so one definition serves the column, registration's rules and the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter),
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::N(24))"
    )
)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "confirmed"))]
    Confirmed,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "waitlisted"))]
    Waitlisted,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_approval"))]
    PendingApproval,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "cancelled"))]
    Cancelled,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "rejected"))]
    Rejected,
    /// Ended because scheduling cancelled the event.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "event_cancelled"))]
    EventCancelled,
}

/// A status reads as its wire name: `status == "confirmed"`.
impl PartialEq<&str> for RegistrationStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl RegistrationStatus {
    /// Every status, in the order lists count them.
    pub const ALL: [Self; 6] = [
        Self::Confirmed,
        Self::Waitlisted,
        Self::PendingApproval,
        Self::Cancelled,
        Self::Rejected,
        Self::EventCancelled,
    ];

    /// The status as [`Registration::status`] carries it (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Waitlisted => "waitlisted",
            Self::PendingApproval => "pending_approval",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::EventCancelled => "event_cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Still holds (or waits for) a place: one such registration per email and event.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            Self::Confirmed | Self::Waitlisted | Self::PendingApproval
        )
    }

    /// The domain event announcing that a registration reached this status. `None` for `event_cancelled`: those
    /// are not announced one by one, since notifications writes to everyone on scheduling's `event.cancelled`.
    pub const fn event_type(self) -> Option<RegistrationChange> {
        match self {
            Self::Confirmed => Some(RegistrationChange::Confirmed),
            Self::Waitlisted => Some(RegistrationChange::Waitlisted),
            Self::PendingApproval => Some(RegistrationChange::PendingApproval),
            Self::Cancelled => Some(RegistrationChange::Cancelled),
            Self::Rejected => Some(RegistrationChange::Rejected),
            Self::EventCancelled => None,
        }
    }
}

/// A registration as registration shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RegistrationView))]
pub struct Registration {
    pub id: Uuid,
    #[serde(default)]
    pub event_id: Uuid,
    /// confirmed, waitlisted, pending_approval, cancelled, rejected or event_cancelled (its event was cancelled).
    #[cfg_attr(feature = "openapi", schema(value_type = RegistrationStatus))]
    pub status: String,
    /// 1 for the first in line; only while waitlisted.
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
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Map<String, Value>,
    /// `en` or `zh-CN`: the language of their emails.
    #[serde(default = "default_locale", deserialize_with = "locale_or_default")]
    pub locale: String,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Only in the answer to registering (and to services in lists): the short token that opens this registration
    /// (view, change, cancel) without an account, for links `{public_url}/manage/{token}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_token: Option<String>,
    /// Only to the participant (through their manage token) and to services: the check-in code their QR code
    /// carries, which opens the door and nothing else (not the manage token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in_code: Option<String>,
}

/// The language a registration's emails are in when nothing says otherwise.
pub(crate) fn default_locale() -> String {
    "en".to_owned()
}

/// A locale, or [`default_locale`] for `null`.
pub(crate) fn locale_or_default<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_else(default_locale))
}

/// A registration's manage token, for another service to put in a link (notifications: every email carries one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManageLink {
    #[serde(default)]
    pub registration_id: Uuid,
    pub manage_token: String,
    /// The check-in code for the QR code in confirmations (absent from services that do not send one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in_code: Option<String>,
}
