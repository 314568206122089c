//! `.ics` feeds that calendars subscribe to: one event's agenda (`/v1/events/{id}/calendar.ics`, one VEVENT per
//! item, or the event itself when it has none) and every published event (`/v1/events.ics?kind=`).
//!
//! Calendar clients poll feeds, so answering one must be cheap. Each request first computes the feed's **stamp**
//! with one small aggregate query (`store::stamps`: for an agenda, the event row's `updated_at`, `sequence` and
//! status with the count and latest `updated_at` of its items and the latest `updated_at` of the people they name;
//! for the list, the count and latest `updated_at` of the published events), which changes whenever anything the
//! feed renders changes. The strong **ETag** is a hash of the stamp and **Last-Modified** its newest time, so a
//! matching `If-None-Match` or an unchanged `If-Modified-Since` gets 304 without loading or rendering anything;
//! replicas give the same ETag for the same data. A 200 serves the body kept in the process's
//! [`FeedCache`](super::feed_cache::FeedCache) when it was rendered for the same stamp, and otherwise loads,
//! renders (deterministically: DTSTAMP is the stored time of the last change, never "now") and keeps it. Who may see
//! the feed (drafts only for organisers) is checked on every request, before any of this.
//!
//! The stamp is taken before the data is loaded, so a body is never older than the stamp it is kept and tagged
//! under (at worst newer, when a change lands in between: the next request then sees a new stamp and renders again).
//! Bump [`FEED_FORMAT`] when the rendering changes, so that clients and caches holding old bodies fetch new ones.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch, LastModified};
use chrono::{DateTime, SecondsFormat, Utc};
use cloverleaf_auth::Viewer;
use cloverleaf_calendar::{CalendarEvent, EventStatus as IcsStatus, Method, Person};
use cloverleaf_service_kit::extract::{Path, Query};
use cloverleaf_service_kit::{FieldError, Problem};
use sea_orm::ActiveEnum;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::AppState;
use super::events::kind_filter;
use super::feed_cache::{FeedKey, FeedLang, Version};
use super::ics::{self, Entry};
use super::lookup::visible_event;
use crate::Error;
use crate::domain::calendar_uid;
use crate::domain::event::{EventDetails, EventKind, EventStatus, wants_chinese};
use crate::domain::time::TimeZone;
use crate::store::entities::{event, person};
use crate::store::items::StoredItem;
use crate::store::stamps::{self, AgendaStamp};
use crate::store::{event_details, events, items, people};

fn ics_status(model: &event::Model) -> IcsStatus {
    match model.status {
        EventStatus::Cancelled => IcsStatus::Cancelled,
        EventStatus::Draft => IcsStatus::Tentative,
        _ => IcsStatus::Confirmed,
    }
}

fn organizer(details: &EventDetails) -> Person {
    Person::new(
        details.organiser.name.clone(),
        details.organiser.email.clone(),
    )
}

/// A text in the feed's language: the Chinese one when asked for and there is one, else the English one.
fn text<'a>(lang: FeedLang, english: Option<&'a str>, chinese: Option<&'a str>) -> Option<&'a str> {
    match chinese {
        Some(zh) if lang.is_chinese() => Some(zh),
        _ => english,
    }
}

fn event_description(details: &EventDetails, lang: FeedLang) -> Option<String> {
    let text = [
        text(
            lang,
            details.summary.as_deref(),
            details.summary_zh.as_deref(),
        ),
        text(
            lang,
            details.description.as_deref(),
            details.description_zh.as_deref(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n\n");
    let join = if lang.is_chinese() {
        "参会链接："
    } else {
        "Join: "
    };
    let text = match &details.online_url {
        Some(url) => format!("{text}\n\n{join}{url}").trim().to_owned(),
        None => text,
    };
    (!text.is_empty()).then_some(text)
}

/// The event itself as one calendar entry (its UID is the one invites carry), ending in `end_zone`.
fn event_entry(model: &event::Model, end_zone: TimeZone, lang: FeedLang) -> Result<Entry, Error> {
    let details = event_details(model)?;
    let event = CalendarEvent {
        end_timezone: None,
        uid: calendar_uid(model.id),
        sequence: u32::try_from(model.sequence).unwrap_or_default(),
        dtstamp: model.updated_at,
        starts_at: details.span.starts_at,
        ends_at: details.span.ends_at,
        timezone: details.timezone.tz(),
        summary: details.title_in(lang.is_chinese()).to_owned(),
        description: event_description(&details, lang),
        location: details.location(),
        url: details.online_url.clone(),
        organizer: Some(organizer(&details)),
        attendees: Vec::new(),
        status: Some(ics_status(model)),
        created: Some(model.created_at),
        last_modified: Some(model.updated_at),
        categories: vec![details.kind.to_value()],
    };
    Ok(Entry {
        event,
        end_zone: end_zone.tz(),
    })
}

/// One agenda item as a calendar entry, in its own zone.
fn item_entry(
    model: &event::Model,
    details: &EventDetails,
    item: &StoredItem,
    people: &str,
    lang: FeedLang,
) -> Result<Entry, Error> {
    let item_details = item.details()?;
    let zone = item_details.zone(details.timezone);
    let description = [
        (!people.is_empty()).then(|| people.to_owned()),
        text(
            lang,
            item_details.description.as_deref(),
            item_details.description_zh.as_deref(),
        )
        .map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n\n");
    let event = CalendarEvent {
        end_timezone: None,
        uid: calendar_uid(item.model.id),
        sequence: u32::try_from(item.model.sequence).unwrap_or_default(),
        dtstamp: item.model.updated_at,
        starts_at: item_details.span.starts_at,
        ends_at: item_details.span.ends_at,
        timezone: zone.tz(),
        summary: text(
            lang,
            Some(&item_details.title),
            item_details.title_zh.as_deref(),
        )
        .unwrap_or(&item_details.title)
        .to_owned(),
        description: (!description.is_empty()).then_some(description),
        location: item_details
            .calendar_location()
            .or_else(|| details.location()),
        url: details.online_url.clone(),
        organizer: Some(organizer(details)),
        attendees: Vec::new(),
        status: Some(ics_status(model)),
        created: Some(item.model.created_at),
        last_modified: Some(item.model.updated_at),
        categories: vec![item_details.kind.to_value()],
    };
    Ok(Entry {
        event,
        end_zone: item_details.end_zone(details.timezone).tz(),
    })
}

/// Part of every stamp's hash: raise it when the same data renders differently, so old ETags stop matching.
pub const FEED_FORMAT: u32 = 2;

/// At most this many feeds' bodies are kept, in at most [`FEED_CACHE_BYTES`].
pub const FEED_CACHE_FEEDS: usize = 256;
/// The byte budget of the kept bodies (a 500-item agenda renders to about 280 KiB).
pub const FEED_CACHE_BYTES: usize = 64 << 20;

/// A feed's version as sent to clients: the digest of its stamp (the ETag) and its newest change (Last-Modified).
struct FeedVersion {
    digest: Version,
    last_modified: DateTime<Utc>,
}

impl FeedVersion {
    /// `stamp` is the feed's stamp written out in full; the key keeps two feeds with equal stamps apart.
    fn new(key: FeedKey, stamp: &str, last_modified: DateTime<Utc>) -> Self {
        let digest = Sha256::digest(format!("cloverleaf-feed/{FEED_FORMAT}\n{key}\n{stamp}"));
        let mut version = Version::default();
        version.copy_from_slice(&digest[..16]);
        Self {
            digest: version,
            last_modified,
        }
    }

    fn etag(&self) -> Result<ETag, Error> {
        format!("\"{}\"", hex(&self.digest))
            .parse()
            .map_err(|_| Error::Corrupt("feed etag".into()))
    }
}

fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.to_rfc3339_opts(SecondsFormat::Nanos, true),
    )
}

/// The version of an event's agenda feed: its row as loaded (the one rendered) and the stamp of its agenda.
fn agenda_version(model: &event::Model, stamp: &AgendaStamp, lang: FeedLang) -> FeedVersion {
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n{}",
        instant(Some(model.updated_at)),
        model.sequence,
        model.status.to_value(),
        instant(model.published_at),
        stamp.items,
        instant(stamp.items_changed),
        instant(stamp.people_changed),
    );
    let last_modified = [stamp.items_changed, stamp.people_changed]
        .into_iter()
        .flatten()
        .fold(model.updated_at, DateTime::max);
    FeedVersion::new(FeedKey::Agenda(model.id, lang), &text, last_modified)
}

/// Whether the caller's copy is current, by the rules of RFC 9110 §13.2.2.
fn not_modified(request: &HeaderMap, etag: &ETag, last_modified: DateTime<Utc>) -> bool {
    // Read only when sent: the headers crate decodes a missing If-None-Match as an empty list, which would count.
    let if_none_match = request
        .contains_key(header::IF_NONE_MATCH)
        .then(|| request.typed_get::<IfNoneMatch>())
        .flatten();
    let if_modified_since = request
        .contains_key(header::IF_MODIFIED_SINCE)
        .then(|| request.typed_get::<IfModifiedSince>())
        .flatten();
    match (&if_none_match, &if_modified_since) {
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
        (Some(inm), _) => !inm.precondition_passes(etag),
        // HTTP dates have whole seconds: compare the change time cut to the second.
        (None, Some(ims)) => {
            let since = SystemTime::from(*ims);
            let changed = DateTime::<Utc>::from_timestamp(last_modified.timestamp(), 0)
                .map_or(SystemTime::from(last_modified), SystemTime::from);
            changed <= since
        }
        (None, None) => false,
    }
}

/// The answer to a feed request: 304 when the caller's copy is current (without rendering), else 200 with the body
/// kept for this version or, failing that, the one `render` makes (which is then kept).
async fn feed_response<F, Fut>(
    state: &AppState,
    key: FeedKey,
    version: FeedVersion,
    filename: &str,
    request: &HeaderMap,
    render: F,
) -> Result<Response, Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<String, Error>>,
{
    let etag = version.etag()?;
    let mut headers = HeaderMap::new();
    let not_modified = not_modified(request, &etag, version.last_modified);
    headers.typed_insert(etag);
    headers.typed_insert(LastModified::from(SystemTime::from(version.last_modified)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let body = match state.feeds.get(&key, &version.digest) {
        Some(body) => body,
        None => {
            let body = Bytes::from(render().await?);
            state.feeds.put(key, version.digest, body.clone());
            body
        }
    };
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
    params(("id" = String, Path, description = "event id or slug"), LangQuery),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 304), (status = 404, body = Problem)))]
pub async fn event_calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
    request: HeaderMap,
) -> Result<Response, Error> {
    let lang = query.lang()?;
    let id = id.strip_suffix(".ics").unwrap_or(&id).to_owned();
    let model = visible_event(&state, &id, &viewer).await?;
    // Before the agenda is loaded (see the module's notes), and after the row that is rendered.
    let stamp = stamps::agenda(&state.db, model.id).await?;
    let version = agenda_version(&model, &stamp, lang);
    feed_response(
        &state,
        FeedKey::Agenda(model.id, lang),
        version,
        &model.slug,
        &request,
        || render_agenda(&state, &model, lang),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// `en` (the default) or `zh-CN`: the texts' language (Chinese where there is a Chinese text, else English).
    pub lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Result<FeedLang, Problem> {
        match self.lang.as_deref().map(str::trim) {
            None | Some("") => Ok(FeedLang::En),
            Some(lang) if lang.eq_ignore_ascii_case("en") => Ok(FeedLang::En),
            Some(lang) if wants_chinese(Some(lang)) => Ok(FeedLang::ZhCn),
            Some(_) => Err(Problem::invalid(vec![FieldError::new(
                "lang",
                "invalid_choice",
                "must be en or zh-CN",
            )])),
        }
    }
}

async fn render_agenda(
    state: &AppState,
    model: &event::Model,
    lang: FeedLang,
) -> Result<String, Error> {
    let details = event_details(model)?;
    let agenda = items::of_event(&state.db, model.id).await?;
    let mut people_ids: Vec<Uuid> = agenda
        .iter()
        .flat_map(|item| item.model.host_id.iter().chain(&item.speakers).copied())
        .collect();
    people_ids.sort_unstable();
    people_ids.dedup();
    let people: HashMap<Uuid, person::Model> = people::people_by_id(&state.db, &people_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut entries = Vec::with_capacity(agenda.len().max(1));
    for item in &agenda {
        let named = |id: &Uuid| {
            people.get(id).map(|p| match &p.affiliation {
                Some(affiliation) => format!("{} ({affiliation})", p.name),
                None => p.name.clone(),
            })
        };
        let named_zh = |id: &Uuid| {
            people.get(id).map(|p| match &p.affiliation {
                Some(affiliation) => format!("{}（{affiliation}）", p.name),
                None => p.name.clone(),
            })
        };
        let speakers: Vec<String> = item.speakers.iter().filter_map(named).collect();
        let speakers_zh: Vec<String> = item.speakers.iter().filter_map(named_zh).collect();
        let people = if lang.is_chinese() {
            [
                item.model
                    .host_id
                    .as_ref()
                    .and_then(named_zh)
                    .map(|h| format!("主持人：{h}")),
                (!speakers_zh.is_empty()).then(|| format!("演讲嘉宾：{}", speakers_zh.join("，"))),
            ]
        } else {
            [
                item.model
                    .host_id
                    .as_ref()
                    .and_then(named)
                    .map(|h| format!("Host: {h}")),
                (!speakers.is_empty()).then(|| format!("Speakers: {}", speakers.join(", "))),
            ]
        }
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
        entries.push(item_entry(model, &details, item, &people, lang)?);
    }
    if entries.is_empty() {
        entries.push(event_entry(model, details.derived_end_zone(None), lang)?);
    }
    Ok(ics::render(
        Method::Publish,
        Some(details.title_in(lang.is_chinese()).to_owned()),
        entries,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// webinar, workshop or tour.
    pub kind: Option<String>,
    /// `en` (the default) or `zh-CN`.
    pub lang: Option<String>,
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
    let lang = LangQuery {
        lang: query.lang.clone(),
    }
    .lang()?;
    let key = FeedKey::Events(kind, lang);
    // Before the events are loaded (see the module's notes).
    let stamp = stamps::events(&state.db, kind).await?;
    let version = FeedVersion::new(
        key,
        &format!("{}\n{}", stamp.events, instant(stamp.changed)),
        stamp.changed.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
    );
    feed_response(&state, key, version, "events", &request, || {
        render_events(&state, kind, lang)
    })
    .await
}

async fn render_events(
    state: &AppState,
    kind: Option<EventKind>,
    lang: FeedLang,
) -> Result<String, Error> {
    let models = events::for_feed(&state.db, kind).await?;
    let zones = items::last_end_zones(&state.db, &models).await?;
    let entries = models
        .iter()
        .map(|model| {
            let end_zone = event_details(model)?.derived_end_zone(zones.get(&model.id).copied());
            event_entry(model, end_zone, lang)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let name = match (kind, lang.is_chinese()) {
        (Some(EventKind::Webinar), true) => "Cloverleaf 网络研讨会".to_owned(),
        (Some(EventKind::Workshop), true) => "Cloverleaf 研讨会".to_owned(),
        (Some(EventKind::Tour), true) => "Cloverleaf 考察活动".to_owned(),
        (None, true) => "Cloverleaf 活动".to_owned(),
        (Some(kind), false) => format!("Cloverleaf {}s", kind.to_value()),
        (None, false) => "Cloverleaf events".to_owned(),
    };
    Ok(ics::render(Method::Publish, Some(name), entries))
}
