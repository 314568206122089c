//! What registration tells other services about a registration: the registration as it lists it
//! (`GET /v1/registrations?event_id=…`, notifications' attendee list, the portal's pages) and a fresh manage link.
//!
//! The producer's shape; readers are lenient (serde defaults) for every field an older registration or a test fake
//! may leave out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The statuses of a registration (the values of [`Registration::status`]); for the OpenAPI schema and for comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Confirmed,
    Waitlisted,
    PendingApproval,
    Cancelled,
    Rejected,
    /// Ended because scheduling cancelled the event.
    EventCancelled,
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
}
