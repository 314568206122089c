//! Storage of the scheduling service: sea-orm entities, queries and transactions, with the migrations beside them.
//! This database is the service's alone; no other service reads its tables.
//!
//! Every change to an event or its agenda runs in one write transaction that locks the event row first
//! (PostgreSQL `FOR UPDATE`; SQLite `BEGIN IMMEDIATE`), so concurrent edits of one event queue up and its
//! `sequence` rises by exactly one per calendar-visible change. The change record and the outbox row are written in
//! the same transaction: either the change, its history and its domain event all happen, or none does.

pub mod changes;
pub mod entities;
pub mod events;
pub mod items;
pub mod migrations;
pub mod people;
pub mod stamps;

use chrono::{DateTime, Utc};
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

use crate::Error;
use crate::domain::agenda::{Details, ItemDetails};
use crate::domain::event::{EventDetails, EventStatus, Organiser, Venue, status_shown};
use crate::domain::time::{Span, TimeZone};
use entities::{agenda_item, event};

/// Who made a change, and where its domain events go.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The token's subject (an organiser's email or id).
    pub subject: String,
}

/// The subscribers of this service's domain events, by service name.
pub type Subscribers = [String];

pub(crate) fn corrupt(what: &str, id: Uuid) -> Error {
    Error::Corrupt(format!("{what} of {id}"))
}

pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The stored event as the domain's values.
pub fn event_details(model: &event::Model) -> Result<EventDetails, Error> {
    let timezone = TimeZone::parse(&model.timezone).map_err(|_| corrupt("timezone", model.id))?;
    let end_timezone = optional_zone(model.end_timezone.as_deref(), "end timezone", model.id)?;
    let span = Span::new(model.starts_at, model.ends_at).map_err(|_| corrupt("span", model.id))?;
    Ok(EventDetails {
        kind: model.kind,
        title: model.title.clone(),
        title_zh: model.title_zh.clone(),
        slug: Some(model.slug.clone()),
        timezone,
        end_timezone,
        span,
        summary: model.summary.clone(),
        summary_zh: model.summary_zh.clone(),
        description: model.description.clone(),
        description_zh: model.description_zh.clone(),
        online_url: model.online_url.clone(),
        venue: model.venue_name.clone().map(|name| Venue {
            id: model.venue_id,
            name,
            address: model.venue_address.clone(),
            city: model.venue_city.clone(),
            country: model.venue_country.clone(),
        }),
        organiser: Organiser {
            name: model.organiser_name.clone(),
            email: model.organiser_email.clone(),
        },
        reminder_minutes: model
            .reminder_minutes
            .as_deref()
            .map(|json| {
                serde_json::from_str(json).map_err(|_| corrupt("reminder_minutes", model.id))
            })
            .transpose()?,
    })
}

fn optional_zone(value: Option<&str>, what: &str, id: Uuid) -> Result<Option<TimeZone>, Error> {
    value
        .map(|zone| TimeZone::parse(zone).map_err(|_| corrupt(what, id)))
        .transpose()
}

/// The teams that co-organise the event (its `shared_with` column, a JSON array of ids).
pub fn shared_with(model: &event::Model) -> Result<Vec<Uuid>, Error> {
    serde_json::from_str(&model.shared_with).map_err(|_| corrupt("shared_with", model.id))
}

/// The status people see: the stored one, or `completed` (see [`status_shown`]).
pub fn effective_status(model: &event::Model, now: DateTime<Utc>) -> EventStatus {
    status_shown(model.status, model.ends_at, now)
}

/// The stored item as the domain's values, with its speakers in their order.
pub fn item_details(model: &agenda_item::Model, speakers: Vec<Uuid>) -> Result<ItemDetails, Error> {
    let timezone = optional_zone(model.timezone.as_deref(), "item timezone", model.id)?;
    let end_timezone = optional_zone(model.end_timezone.as_deref(), "item end timezone", model.id)?;
    let span =
        Span::new(model.starts_at, model.ends_at).map_err(|_| corrupt("item span", model.id))?;
    let details = match &model.details {
        None => None,
        Some(json) => Some(
            serde_json::from_str::<Details>(json).map_err(|_| corrupt("item details", model.id))?,
        ),
    };
    Ok(ItemDetails {
        kind: model.kind,
        title: model.title.clone(),
        title_zh: model.title_zh.clone(),
        span,
        timezone,
        end_timezone,
        description: model.description.clone(),
        description_zh: model.description_zh.clone(),
        location: model.location.clone(),
        room_id: model.room_id,
        host: model.host_id,
        speakers,
        details,
    })
}
