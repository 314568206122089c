//! `.ics` feeds that calendars subscribe to: one event's agenda (`/v1/events/{id}/calendar.ics`, one VEVENT per
//! item, or the event itself when it has none) and every published event (`/v1/events.ics?kind=`).
//!
//! Calendar clients poll feeds, so each answer carries a strong ETag (a hash of the body, which is deterministic:
//! DTSTAMP is the stored time of the last change, never "now") and Last-Modified; a matching `If-None-Match` or
//! an unchanged `If-Modified-Since` gets 304 without a body.

use std::time::SystemTime;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch, LastModified};
use chrono::{DateTime, Utc};
use cloverleaf_auth::Viewer;
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus as IcsStatus, Method, Person};
use cloverleaf_service_kit::Problem;
use cloverleaf_service_kit::extract::{Path, Query};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::events::{kind_filter, visible_event};
use super::items::references;
use crate::Error;
use crate::domain::calendar_uid;
use crate::domain::event::{EventDetails, EventStatus};
use crate::store::entities::event;
use crate::store::items::StoredItem;
use crate::store::{event_details, events, items, stored_status};

fn ics_status(model: &event::Model) -> Result<IcsStatus, Error> {
    Ok(match stored_status(model)? {
        EventStatus::Cancelled => IcsStatus::Cancelled,
        EventStatus::Draft => IcsStatus::Tentative,
        _ => IcsStatus::Confirmed,
    })
}

fn organizer(details: &EventDetails) -> Person {
    Person::new(
        details.organiser.name.clone(),
        details.organiser.email.clone(),
    )
}

fn event_description(details: &EventDetails) -> Option<String> {
    let text = [details.summary.as_deref(), details.description.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n");
    let text = match &details.online_url {
        Some(url) => format!("{text}\n\nJoin: {url}").trim().to_owned(),
        None => text,
    };
    (!text.is_empty()).then_some(text)
}

/// The event itself as one calendar entry (its UID is the one invites carry).
fn event_entry(model: &event::Model) -> Result<CalendarEvent, Error> {
    let details = event_details(model)?;
    Ok(CalendarEvent {
        uid: calendar_uid(model.id),
        sequence: u32::try_from(model.sequence).unwrap_or_default(),
        dtstamp: model.updated_at,
        starts_at: details.span.starts_at,
        ends_at: details.span.ends_at,
        timezone: details.timezone.tz(),
        summary: details.title.clone(),
        description: event_description(&details),
        location: details.location(),
        url: details.online_url.clone(),
        organizer: Some(organizer(&details)),
        attendees: Vec::new(),
        status: Some(ics_status(model)?),
        created: Some(model.created_at),
        last_modified: Some(model.updated_at),
        categories: vec![details.kind.as_str().to_owned()],
    })
}

/// One agenda item as a calendar entry, in its own zone.
fn item_entry(
    model: &event::Model,
    details: &EventDetails,
    item: &StoredItem,
    people: &str,
) -> Result<CalendarEvent, Error> {
    let item_details = item.details()?;
    let zone = item_details.zone(details.timezone);
    let description = [
        (!people.is_empty()).then(|| people.to_owned()),
        item_details.description.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n\n");
    Ok(CalendarEvent {
        uid: calendar_uid(item.model.id),
        sequence: u32::try_from(item.model.sequence).unwrap_or_default(),
        dtstamp: item.model.updated_at,
        starts_at: item_details.span.starts_at,
        ends_at: item_details.span.ends_at,
        timezone: zone.tz(),
        summary: item_details.title.clone(),
        description: (!description.is_empty()).then_some(description),
        location: item_details
            .calendar_location()
            .or_else(|| details.location()),
        url: details.online_url.clone(),
        organizer: Some(organizer(details)),
        attendees: Vec::new(),
        status: Some(ics_status(model)?),
        created: Some(item.model.created_at),
        last_modified: Some(item.model.updated_at),
        categories: vec![item_details.kind.as_str().to_owned()],
    })
}

/// The answer to a feed request: 200 with the body, or 304 when the caller's copy is current.
fn feed_response(
    body: String,
    filename: &str,
    last_modified: DateTime<Utc>,
    request: &HeaderMap,
) -> Result<Response, Error> {
    // Read only when sent: the headers crate decodes a missing If-None-Match as an empty list, which would count.
    let if_none_match = request
        .contains_key(header::IF_NONE_MATCH)
        .then(|| request.typed_get::<IfNoneMatch>())
        .flatten();
    let if_modified_since = request
        .contains_key(header::IF_MODIFIED_SINCE)
        .then(|| request.typed_get::<IfModifiedSince>())
        .flatten();
    let digest = Sha256::digest(body.as_bytes());
    let tag = format!("\"{}\"", hex(&digest[..16]));
    let etag: ETag = tag
        .parse()
        .map_err(|_| Error::Corrupt("feed etag".into()))?;
    let modified = LastModified::from(SystemTime::from(last_modified));
    let not_modified = match (&if_none_match, &if_modified_since) {
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
        (Some(inm), _) => !inm.precondition_passes(&etag),
        // HTTP dates have whole seconds: compare the change time cut to the second.
        (None, Some(ims)) => {
            let since = SystemTime::from(*ims);
            let changed = DateTime::<Utc>::from_timestamp(last_modified.timestamp(), 0)
                .map_or(SystemTime::from(last_modified), SystemTime::from);
            changed <= since
        }
        (None, None) => false,
    };
    let mut headers = HeaderMap::new();
    headers.typed_insert(etag);
    headers.typed_insert(modified);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("inline; filename=\"{filename}.ics\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok((StatusCode::OK, headers, body).into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An event's agenda as iCalendar (METHOD:PUBLISH): one entry per agenda item, each at its local time in its own
/// zone, with a VTIMEZONE for every zone used; the event itself when it has no agenda.
#[utoipa::path(get, path = "/v1/events/{id}/calendar.ics", tag = "feeds",
    params(("id" = String, Path, description = "event id or slug")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 304), (status = 404, body = Problem)))]
pub async fn event_calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    request: HeaderMap,
) -> Result<Response, Error> {
    let id = id.strip_suffix(".ics").unwrap_or(&id).to_owned();
    let model = visible_event(&state, &id, &viewer).await?;
    let details = event_details(&model)?;
    let agenda = items::of_event(&state.db, model.id).await?;
    let refs = references(&state, &agenda).await?;
    let mut entries = Vec::with_capacity(agenda.len().max(1));
    let mut last_modified = model.updated_at;
    for item in &agenda {
        let named = |id: &uuid::Uuid| {
            refs.people.get(id).map(|p| match &p.affiliation {
                Some(affiliation) => format!("{} ({affiliation})", p.name),
                None => p.name.clone(),
            })
        };
        let speakers: Vec<String> = item.speakers.iter().filter_map(named).collect();
        let people = [
            item.model
                .host_id
                .as_ref()
                .and_then(named)
                .map(|h| format!("Host: {h}")),
            (!speakers.is_empty()).then(|| format!("Speakers: {}", speakers.join(", "))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
        entries.push(item_entry(&model, &details, item, &people)?);
        last_modified = last_modified.max(item.model.updated_at);
    }
    if entries.is_empty() {
        entries.push(event_entry(&model)?);
    }
    let calendar = Calendar {
        method: Method::Publish,
        name: Some(details.title.clone()),
        events: entries,
    };
    feed_response(calendar.to_ics(), &model.slug, last_modified, &request)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// webinar, workshop or tour.
    pub kind: Option<String>,
}

/// Every published event as iCalendar (METHOD:PUBLISH), one entry per event; cancelled ones stay with
/// STATUS:CANCELLED so subscribed calendars drop them.
#[utoipa::path(get, path = "/v1/events.ics", tag = "feeds", params(FeedQuery),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 304), (status = 422, body = Problem)))]
pub async fn all_events_calendar(
    State(state): State<AppState>,
    Query(query): Query<FeedQuery>,
    request: HeaderMap,
) -> Result<Response, Error> {
    let kind = kind_filter(query.kind.as_deref())?;
    let models = events::for_feed(&state.db, kind).await?;
    let mut entries = Vec::with_capacity(models.len());
    let mut last_modified = DateTime::<Utc>::UNIX_EPOCH;
    for model in &models {
        entries.push(event_entry(model)?);
        last_modified = last_modified.max(model.updated_at);
    }
    let name = match kind {
        Some(kind) => format!("Cloverleaf {}s", kind.as_str()),
        None => "Cloverleaf events".to_owned(),
    };
    let calendar = Calendar {
        method: Method::Publish,
        name: Some(name),
        events: entries,
    };
    feed_response(calendar.to_ics(), "events", last_modified, &request)
}
