//! What scheduling serves and the other services read: an event, its agenda items, venue and organiser.
//!
//! Each type is scheduling's answer as it is (the producer's shape). Readers are lenient the way they were before
//! this crate: every field an older scheduling may not send has a serde default (`end_timezone` arrived later, and
//! test fakes send only what is read), and unknown fields are ignored. Kinds and statuses travel as strings, so a
//! reader keeps working when scheduling adds a kind; their values are listed in the OpenAPI schema, and named by
//! [`EventKind`], [`EventStatus`] and [`ItemKind`] for readers that compare them (`as_str()`).
//!
//! With the `sea-orm` feature the kind and status enums are also sea-orm active enums: scheduling's columns hold
//! the same strings as the wire, so this one definition serves the column, the domain and the schema.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kinds of event (the values of [`Event::kind`]); scheduling's `events.kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter),
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "webinar"))]
    Webinar,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "workshop"))]
    Workshop,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "tour"))]
    Tour,
}

impl EventKind {
    /// Every kind, in the order pages list them.
    pub const ALL: [Self; 3] = [Self::Webinar, Self::Workshop, Self::Tour];

    /// The kind as [`Event::kind`] carries it (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Webinar => "webinar",
            Self::Workshop => "workshop",
            Self::Tour => "tour",
        }
    }
}

/// The statuses of an event (the values of [`Event::status`]); scheduling's `events.status` column. Only draft,
/// published and cancelled are stored: `completed` is a published event whose end has passed, worked out when it is
/// shown (a separate three-valued enum for the column would be a second definition of the same values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter),
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "draft"))]
    Draft,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "published"))]
    Published,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "cancelled"))]
    Cancelled,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "completed"))]
    Completed,
}

impl EventStatus {
    pub const ALL: [Self; 4] = [
        Self::Draft,
        Self::Published,
        Self::Cancelled,
        Self::Completed,
    ];

    /// The status as [`Event::status`] carries it (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
        }
    }
}

/// The kinds of agenda item (the values of [`AgendaItem::kind`]); scheduling's `agenda_items.kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter),
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "session"))]
    Session,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "talk"))]
    Talk,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "panel"))]
    Panel,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "break"))]
    Break,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "meal"))]
    Meal,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "visit"))]
    Visit,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "transfer"))]
    Transfer,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "hotel"))]
    Hotel,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "other"))]
    Other,
}

impl ItemKind {
    /// Every kind, in the order forms offer them.
    pub const ALL: [Self; 9] = [
        Self::Session,
        Self::Talk,
        Self::Panel,
        Self::Break,
        Self::Meal,
        Self::Visit,
        Self::Transfer,
        Self::Hotel,
        Self::Other,
    ];

    /// The kind as [`AgendaItem::kind`] carries it (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Talk => "talk",
            Self::Panel => "panel",
            Self::Break => "break",
            Self::Meal => "meal",
            Self::Visit => "visit",
            Self::Transfer => "transfer",
            Self::Hotel => "hotel",
            Self::Other => "other",
        }
    }
}

/// Where an event takes place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = VenueView))]
pub struct Venue {
    /// The stored venue it was taken from, if any.
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = OrganiserView))]
pub struct Organiser {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventLinks {
    /// The event's agenda as an iCalendar feed, e.g. `/v1/events/{id}/calendar.ics`.
    #[serde(default)]
    pub calendar: String,
    #[serde(default)]
    pub items: String,
}

/// An event as scheduling shows it (`GET /v1/events/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = EventView))]
pub struct Event {
    pub id: Uuid,
    #[serde(default)]
    pub slug: String,
    /// webinar, workshop or tour.
    #[cfg_attr(feature = "openapi", schema(value_type = EventKind))]
    pub kind: String,
    pub title: String,
    /// The title in Simplified Chinese; `null` when there is none (show `title`).
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
    /// IANA zone the event is shown in (its start's).
    pub timezone: String,
    /// IANA zone of the event's end, always filled in: the one set, else the end zone of the agenda item that ends
    /// last, else `timezone`. Empty when read from a scheduling that did not send it yet: see [`Event::end_zone`].
    #[serde(default)]
    pub end_timezone: String,
    /// True when `end_timezone` was set for the event (not derived).
    #[serde(default)]
    pub own_end_timezone: bool,
    pub starts_at: DateTime<FixedOffset>,
    /// At the offset of `end_timezone`.
    pub ends_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub online_url: Option<String>,
    #[serde(default)]
    pub venue: Option<Venue>,
    #[serde(default)]
    pub organiser: Organiser,
    /// draft, published, cancelled or completed.
    #[cfg_attr(feature = "openapi", schema(value_type = EventStatus))]
    pub status: String,
    /// Rises by one with each change attendees' calendars show; invites carry it as SEQUENCE.
    #[serde(default)]
    pub sequence: i32,
    /// The UID of the event's calendar entry; it never changes.
    #[serde(default)]
    pub calendar_uid: String,
    #[serde(default)]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub links: EventLinks,
    /// The team (partner) the event belongs to; `None` for an event of no team (programme-wide, made before teams).
    #[serde(default)]
    pub team_id: Option<Uuid>,
    /// Other teams that co-organise it.
    #[serde(default)]
    pub shared_with: Vec<Uuid>,
    /// The event's own reminders, minutes before the start, longest first; `null` follows the kind's defaults
    /// (notifications' `[reminders]` settings), `[]` sends none.
    #[serde(default)]
    pub reminder_minutes: Option<Vec<i32>>,
}

impl Event {
    pub fn is_published(&self) -> bool {
        self.status == EventStatus::Published.as_str()
    }

    pub fn is_cancelled(&self) -> bool {
        self.status == EventStatus::Cancelled.as_str()
    }

    pub fn starts_at_utc(&self) -> DateTime<Utc> {
        self.starts_at.with_timezone(&Utc)
    }

    /// The zone of its end: `end_timezone`, else (an older scheduling sent none) `timezone`.
    pub fn end_zone(&self) -> &str {
        Some(self.end_timezone.as_str())
            .filter(|z| !z.trim().is_empty())
            .unwrap_or(&self.timezone)
    }
}

/// A speaker, host or other person of the programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PersonView))]
pub struct Person {
    #[serde(default)]
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub affiliation: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A room of a stored venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RoomView))]
pub struct Room {
    #[serde(default)]
    pub id: Uuid,
    #[serde(default)]
    pub venue_id: Uuid,
    pub name: String,
    #[serde(default)]
    pub capacity: Option<i32>,
}

/// A stored venue with its rooms (`/v1/venues`), as the portal's room picker reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = StoredVenueView))]
pub struct StoredVenue {
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub rooms: Vec<Room>,
}

/// Whom to call at a host institution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A visit to a host institution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    #[serde(default)]
    pub institution: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// The city the visit is in; tours check it against the transfers.
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// Travel between two cities.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transfer {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Airline, railway, coach company.
    #[serde(default)]
    pub carrier: Option<String>,
    /// Flight or train number.
    #[serde(default)]
    pub number: Option<String>,
}

/// A night's stay. Its check-in and check-out are the item's `starts_at` and `ends_at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hotel {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
}

/// A hotel stay as an agenda item shows it: check-in and check-out are the item's start and end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = HotelView))]
pub struct HotelStay {
    #[serde(flatten)]
    pub hotel: Hotel,
    pub check_in: DateTime<FixedOffset>,
    pub check_out: DateTime<FixedOffset>,
}

/// One agenda item as scheduling shows it (`GET /v1/events/{id}/items`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ItemView))]
pub struct AgendaItem {
    pub id: Uuid,
    #[serde(default)]
    pub event_id: Uuid,
    /// session, talk, panel, break, meal, visit, transfer, hotel or other.
    #[cfg_attr(feature = "openapi", schema(value_type = ItemKind))]
    pub kind: String,
    pub title: String,
    /// The title in Simplified Chinese; `null` when there is none (show `title`).
    #[serde(default)]
    pub title_zh: Option<String>,
    /// At the offset of the item's zone.
    pub starts_at: DateTime<FixedOffset>,
    /// At the offset of `end_timezone`.
    pub ends_at: DateTime<FixedOffset>,
    /// The zone the item is shown in: its own, else the event's.
    pub timezone: String,
    /// True when the item has a zone of its own.
    #[serde(default)]
    pub own_timezone: bool,
    /// The zone of the item's end, always filled in: its own end zone, else `timezone` (a flight arrives in
    /// another zone than it leaves from). Empty when read from a scheduling that did not send it yet: see
    /// [`AgendaItem::end_zone`].
    #[serde(default)]
    pub end_timezone: String,
    /// True when the item has an end zone of its own.
    #[serde(default)]
    pub own_end_timezone: bool,
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
    pub hotel: Option<HotelStay>,
    #[serde(default)]
    pub sequence: i32,
    #[serde(default)]
    pub calendar_uid: String,
    #[serde(default)]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: DateTime<Utc>,
}

impl AgendaItem {
    /// The zone of its end: `end_timezone`, else (an older scheduling sent none) `timezone`.
    pub fn end_zone(&self) -> &str {
        Some(self.end_timezone.as_str())
            .filter(|z| !z.trim().is_empty())
            .unwrap_or(&self.timezone)
    }
}

#[cfg(all(test, feature = "sea-orm"))]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::{EventKind, EventStatus, ItemKind};

    /// What a column stores is what the wire says, for every value, and each reads back.
    fn same_as_wire<E>()
    where
        E: ActiveEnum<Value = String> + Iterable + serde::Serialize + PartialEq + std::fmt::Debug,
    {
        for value in E::iter() {
            assert_eq!(
                serde_json::to_value(&value).expect("serialise"),
                serde_json::Value::String(value.to_value())
            );
            assert_eq!(E::try_from_value(&value.to_value()).ok(), Some(value));
        }
    }

    #[test]
    fn stored_values_are_the_wire_values() {
        same_as_wire::<EventKind>();
        same_as_wire::<EventStatus>();
        same_as_wire::<ItemKind>();
    }
}
