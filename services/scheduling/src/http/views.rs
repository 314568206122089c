//! What the API answers: events, agenda items, people, venues, changes and conflicts as JSON. Times are RFC 3339
//! at the offset of the zone they belong to, so `starts_at` reads as the local time people will see.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Error;
use crate::domain::agenda::{Hotel, ItemKind, Transfer, Visit};
use crate::domain::calendar_uid;
use crate::domain::conflicts::{Conflict, ConflictKind, Scheduled};
use crate::domain::event::{EventKind, EventStatus, FieldChange};
use crate::domain::time::TimeZone;
use crate::store::entities::{event, event_change, person, room, venue};
use crate::store::items::StoredItem;
use crate::store::{effective_status, event_details};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VenueView {
    pub id: Option<Uuid>,
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganiserView {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventLinks {
    /// The event's agenda as an iCalendar feed.
    pub calendar: String,
    pub items: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub slug: String,
    pub kind: EventKind,
    pub title: String,
    /// The title in Simplified Chinese; `null` when there is none (show `title`).
    pub title_zh: Option<String>,
    pub summary: Option<String>,
    pub summary_zh: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    /// IANA zone the event is shown in (its start's).
    pub timezone: String,
    /// IANA zone of the event's end, always filled in: the one set, else the end zone of the agenda item that ends
    /// last, else `timezone`.
    pub end_timezone: String,
    /// True when `end_timezone` was set for the event (not derived).
    pub own_end_timezone: bool,
    pub starts_at: DateTime<FixedOffset>,
    /// At the offset of `end_timezone`.
    pub ends_at: DateTime<FixedOffset>,
    pub online_url: Option<String>,
    pub venue: Option<VenueView>,
    pub organiser: OrganiserView,
    pub status: EventStatus,
    /// Rises by one with each change attendees' calendars show; invites carry it as SEQUENCE.
    pub sequence: i32,
    /// The UID of the event's calendar entry; it never changes.
    pub calendar_uid: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub links: EventLinks,
}

impl EventView {
    /// `last_item_zone`: the end zone of the event's last-ending agenda item, if it has items
    /// (`store::items::last_end_zones`).
    pub fn new(model: &event::Model, last_item_zone: Option<TimeZone>) -> Result<Self, Error> {
        let details = event_details(model)?;
        let end_zone = details.derived_end_zone(last_item_zone);
        Ok(Self {
            id: model.id,
            slug: model.slug.clone(),
            kind: details.kind,
            title: details.title,
            title_zh: details.title_zh,
            summary: details.summary,
            summary_zh: details.summary_zh,
            description: details.description,
            description_zh: details.description_zh,
            timezone: details.timezone.name().to_owned(),
            end_timezone: end_zone.name().to_owned(),
            own_end_timezone: details.end_timezone.is_some(),
            starts_at: details.timezone.local(details.span.starts_at),
            ends_at: end_zone.local(details.span.ends_at),
            online_url: details.online_url,
            venue: details.venue.map(|v| VenueView {
                id: v.id,
                name: v.name,
                address: v.address,
                city: v.city,
                country: v.country,
            }),
            organiser: OrganiserView {
                name: details.organiser.name,
                email: details.organiser.email,
            },
            status: effective_status(model, Utc::now())?,
            sequence: model.sequence,
            calendar_uid: calendar_uid(model.id),
            created_at: model.created_at,
            updated_at: model.updated_at,
            published_at: model.published_at,
            cancelled_at: model.cancelled_at,
            cancel_reason: model.cancel_reason.clone(),
            links: EventLinks {
                calendar: format!("/v1/events/{}/calendar.ics", model.id),
                items: format!("/v1/events/{}/items", model.id),
            },
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub name: String,
    pub affiliation: Option<String>,
    pub email: Option<String>,
}

impl From<&person::Model> for PersonView {
    fn from(p: &person::Model) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            affiliation: p.affiliation.clone(),
            email: p.email.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoomView {
    pub id: Uuid,
    pub venue_id: Uuid,
    pub name: String,
    pub capacity: Option<i32>,
}

impl From<&room::Model> for RoomView {
    fn from(r: &room::Model) -> Self {
        Self {
            id: r.id,
            venue_id: r.venue_id,
            name: r.name.clone(),
            capacity: r.capacity,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredVenueView {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub rooms: Vec<RoomView>,
}

impl StoredVenueView {
    pub fn new(v: &venue::Model, rooms: &[room::Model]) -> Self {
        Self {
            id: v.id,
            name: v.name.clone(),
            address: v.address.clone(),
            city: v.city.clone(),
            country: v.country.clone(),
            timezone: v.timezone.clone(),
            rooms: rooms
                .iter()
                .filter(|r| r.venue_id == v.id)
                .map(RoomView::from)
                .collect(),
        }
    }
}

/// A hotel stay: check-in and check-out are the item's start and end.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotelView {
    #[serde(flatten)]
    pub hotel: Hotel,
    pub check_in: DateTime<FixedOffset>,
    pub check_out: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: ItemKind,
    pub title: String,
    /// The title in Simplified Chinese; `null` when there is none (show `title`).
    pub title_zh: Option<String>,
    /// At the offset of the item's zone.
    pub starts_at: DateTime<FixedOffset>,
    /// At the offset of `end_timezone`.
    pub ends_at: DateTime<FixedOffset>,
    /// The zone the item is shown in: its own, else the event's.
    pub timezone: String,
    /// True when the item has a zone of its own.
    pub own_timezone: bool,
    /// The zone of the item's end, always filled in: its own end zone, else `timezone` (a flight arrives in
    /// another zone than it leaves from).
    pub end_timezone: String,
    /// True when the item has an end zone of its own.
    pub own_end_timezone: bool,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub location: Option<String>,
    pub room: Option<RoomView>,
    pub host: Option<PersonView>,
    pub speakers: Vec<PersonView>,
    pub visit: Option<Visit>,
    pub transfer: Option<Transfer>,
    pub hotel: Option<HotelView>,
    pub sequence: i32,
    pub calendar_uid: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// People and rooms by id, fetched once for a whole agenda.
#[derive(Debug, Default)]
pub struct References {
    pub people: HashMap<Uuid, PersonView>,
    pub rooms: HashMap<Uuid, RoomView>,
}

impl ItemView {
    pub fn new(event: &event::Model, item: &StoredItem, refs: &References) -> Result<Self, Error> {
        let event_zone = event_details(event)?.timezone;
        let details = item.details()?;
        let zone = details.zone(event_zone);
        let end_zone = details.end_zone(event_zone);
        let person = |id: &Uuid| refs.people.get(id).cloned();
        Ok(Self {
            id: item.model.id,
            event_id: item.model.event_id,
            kind: details.kind,
            title: details.title.clone(),
            title_zh: details.title_zh.clone(),
            starts_at: zone.local(details.span.starts_at),
            ends_at: end_zone.local(details.span.ends_at),
            timezone: zone.name().to_owned(),
            own_timezone: details.timezone.is_some(),
            end_timezone: end_zone.name().to_owned(),
            own_end_timezone: details.end_timezone.is_some(),
            description: details.description.clone(),
            description_zh: details.description_zh.clone(),
            location: details.location.clone(),
            room: details.room_id.and_then(|id| refs.rooms.get(&id).cloned()),
            host: details.host.as_ref().and_then(person),
            speakers: details.speakers.iter().filter_map(person).collect(),
            visit: details.visit().cloned(),
            transfer: details.transfer().cloned(),
            hotel: details.hotel().map(|h| HotelView {
                hotel: h.clone(),
                check_in: zone.local(details.span.starts_at),
                check_out: end_zone.local(details.span.ends_at),
            }),
            sequence: item.model.sequence,
            calendar_uid: calendar_uid(item.model.id),
            created_at: item.model.created_at,
            updated_at: item.model.updated_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub item_id: Option<Uuid>,
    /// published, updated, item_added, item_updated, item_removed or cancelled.
    pub action: String,
    pub changes: Vec<FieldChange>,
    /// Whether attendees' calendars show this change (then `sequence` rose with it).
    pub calendar_visible: bool,
    /// The event's sequence after the change.
    pub sequence: i32,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

impl ChangeView {
    pub fn new(c: event_change::Model) -> Result<Self, Error> {
        let changes = serde_json::from_str(&c.changes)
            .map_err(|_| Error::Corrupt(format!("change record {}", c.id)))?;
        Ok(Self {
            id: c.id,
            event_id: c.event_id,
            item_id: c.item_id,
            action: c.action,
            changes,
            calendar_visible: c.calendar_visible,
            sequence: c.sequence,
            changed_by: c.changed_by,
            changed_at: c.changed_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConflictItemView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConflictView {
    pub kind: ConflictKind,
    pub message: String,
    /// The items involved: this event's first, then others'.
    pub items: Vec<ConflictItemView>,
    pub person: Option<PersonView>,
    pub room: Option<RoomView>,
    /// `incomplete` only: the item that lacks details…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<Uuid>,
    /// …and which (`institution`, `address`, `from`, `to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
}

impl ConflictView {
    pub fn new(conflict: Conflict, items: &HashMap<Uuid, &Scheduled>, refs: &References) -> Self {
        let incomplete = conflict.kind == ConflictKind::Incomplete;
        Self {
            item_id: incomplete
                .then(|| conflict.item_ids.first().copied())
                .flatten(),
            missing: incomplete.then(|| conflict.missing.iter().map(|m| (*m).to_owned()).collect()),
            kind: conflict.kind,
            message: conflict.message,
            items: conflict
                .item_ids
                .iter()
                .filter_map(|id| items.get(id))
                .map(|s| ConflictItemView {
                    id: s.id,
                    event_id: s.event_id,
                    title: s.title.clone(),
                    starts_at: s.span.starts_at,
                    ends_at: s.span.ends_at,
                })
                .collect(),
            person: conflict
                .person_id
                .and_then(|id| refs.people.get(&id).cloned()),
            room: conflict.room_id.and_then(|id| refs.rooms.get(&id).cloned()),
        }
    }
}

/// The answer to publishing: the event, and the conflicts it was published with.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublishedView {
    #[serde(flatten)]
    pub event: EventView,
    pub conflicts: Vec<ConflictView>,
}
