//! What the API answers: events, agenda items, people, venues, changes and conflicts as JSON. Times are RFC 3339
//! at the offset of the zone they belong to, so `starts_at` reads as the local time people will see.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Error;
use crate::domain::calendar_uid;
use crate::domain::conflicts::{Conflict, ConflictKind, Scheduled};
use crate::domain::event::{ChangeAction, FieldChange};
use crate::domain::time::TimeZone;
use crate::store::entities::{event, event_change, person, room, venue};
use crate::store::items::StoredItem;
use crate::store::{effective_status, event_details};
use sea_orm::ActiveEnum;

// What other services read (an event, its agenda, venue, organiser, the people and rooms in it) is defined in the
// contracts; scheduling builds it here, under the names its handlers use.
pub use cloverleaf_contracts::{
    AgendaItem as ItemView, Event as EventView, EventLinks, HotelStay as HotelView,
    Organiser as OrganiserView, Person as PersonView, Room as RoomView,
    StoredVenue as StoredVenueView, Venue as VenueView,
};

/// The event as the API shows it. `last_item_zone`: the end zone of the event's last-ending agenda item, if it has
/// items (`store::items::last_end_zones`).
pub fn new_event_view(
    model: &event::Model,
    last_item_zone: Option<TimeZone>,
) -> Result<EventView, Error> {
    let details = event_details(model)?;
    let end_zone = details.derived_end_zone(last_item_zone);
    Ok(EventView {
        id: model.id,
        slug: model.slug.clone(),
        kind: details.kind.to_value(),
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
        status: effective_status(model, Utc::now()).to_value(),
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
        team_id: model.team_id,
        shared_with: crate::store::shared_with(model)?,
        reminder_minutes: details.reminder_minutes,
    })
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

/// A stored venue with its rooms.
pub fn stored_venue_view(v: &venue::Model, rooms: &[room::Model]) -> StoredVenueView {
    StoredVenueView {
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

/// People and rooms by id, fetched once for a whole agenda.
#[derive(Debug, Default)]
pub struct References {
    pub people: HashMap<Uuid, PersonView>,
    pub rooms: HashMap<Uuid, RoomView>,
}

/// The agenda item as the API shows it.
pub fn new_item_view(
    event: &event::Model,
    item: &StoredItem,
    refs: &References,
) -> Result<ItemView, Error> {
    let event_zone = event_details(event)?.timezone;
    let details = item.details()?;
    let zone = details.zone(event_zone);
    let end_zone = details.end_zone(event_zone);
    let person = |id: &Uuid| refs.people.get(id).cloned();
    Ok(ItemView {
        id: item.model.id,
        event_id: item.model.event_id,
        kind: details.kind.to_value(),
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub item_id: Option<Uuid>,
    /// published, updated, item_added, item_updated, item_removed or cancelled.
    #[schema(value_type = String)]
    pub action: ChangeAction,
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
