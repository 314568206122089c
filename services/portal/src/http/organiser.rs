//! Organisers' pages, behind a login: the access token from `POST /v1/auth/token` is kept in an HttpOnly,
//! SameSite=Lax cookie and sent as the bearer of every call; when it runs out (15 minutes) the next page goes back to
//! the login. The dashboard with counts per registration status; creating and editing an event and its agenda, with
//! conflicts shown beside the items they concern; publishing and cancelling; the registrations with approve, reject
//! and check-in, and their CSV; the delivery log of the event's emails.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_problem::Problem;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::{Value, context};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::public::card;
use super::{AppState, Form, Ids, NextQuery, SESSION_COOKIE, Visitor, safe_next};
use crate::Error;
use crate::backend::Call;
use crate::domain::agenda::{self, Shown};
use crate::domain::forms::{Choice, Field, FieldErrors, Posted};
use crate::domain::model::{
    AccessToken, AgendaItem, Conflict, Event, EventKind, Form as RegistrationForm, ItemKind,
    Message, Page, Person, RegistrationList, RegistrationStatus, StoredVenue,
};
use crate::domain::time;
use crate::domain::view::EventView;
use crate::i18n::{Catalog, Locale};

/// The registration statuses, in the order the pages count them, named as registration sends them.
fn statuses() -> [&'static str; 6] {
    RegistrationStatus::ALL.map(RegistrationStatus::as_str)
}

/// An answer refusing the login (expired or missing token) sends the organiser to log in again.
pub(super) fn staff(error: Error) -> Error {
    if error.is_status(401) {
        Error::SignInNeeded
    } else if error.is_status(403) {
        Error::NotForThisRole
    } else {
        error
    }
}

/// The `sub` of the organiser's token (their email address), for filling in forms; not trusted for anything.
fn login_email(token: &str) -> Option<String> {
    let claims: serde_json::Value = token_payload(token)?;
    claims["sub"].as_str().map(str::to_owned)
}

/// The token's claims, unverified: the page only leaves out what the services would refuse (they decide).
pub(super) fn token_payload<T: serde::de::DeserializeOwned>(token: &str) -> Option<T> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// May this login create events (not a team's viewer or check-in staff only)? For showing the button.
fn may_organise(token: &str) -> bool {
    token_payload::<cloverleaf_auth::Claims>(token).is_none_or(|claims| claims.may_organise())
}

/// May this login do `action` to `event`? The services' own rule on the token's claims, so a viewer's page does not
/// offer buttons the services would refuse (they still decide).
fn may(token: &str, event: &Event, action: cloverleaf_auth::Action) -> bool {
    token_payload::<cloverleaf_auth::Claims>(token).is_none_or(|claims| {
        let teams = cloverleaf_auth::teams::EventTeams::new(event.team_id, &event.shared_with);
        cloverleaf_auth::teams::access(&claims, teams, action).is_ok()
    })
}

/// The teams a new event can belong to, as `(id, name in the reader's language)`: every team for admins (and "no
/// team", programme-wide), the teams an organiser organises for; none (no field) for an organiser in no team.
async fn team_choices(state: &AppState, token: &str, locale: Locale) -> Vec<(String, String)> {
    #[derive(Deserialize)]
    struct Team {
        id: Uuid,
        name: String,
        name_zh: Option<String>,
    }
    let Some(claims) = token_payload::<cloverleaf_auth::Claims>(token) else {
        return Vec::new();
    };
    let admin = claims.role == cloverleaf_auth::Role::Admin;
    let organised: Vec<Uuid> = claims.organised_teams().collect();
    if !admin && organised.is_empty() {
        return Vec::new();
    }
    let teams = match state
        .backends
        .json::<Page<Team>>(
            Call::get(ServiceName::Registration, "/v1/teams?limit=500").bearer(Some(token)),
        )
        .await
    {
        Ok(page) => page.items,
        Err(error) => {
            tracing::warn!(%error, "no team choice on the new event page");
            return Vec::new();
        }
    };
    let mut choices: Vec<(String, String)> = teams
        .into_iter()
        .filter(|team| admin || organised.contains(&team.id))
        .map(|team| {
            let mut name = team.name;
            crate::domain::view::in_language(&mut name, team.name_zh.as_ref(), locale);
            (team.id.to_string(), name)
        })
        .collect();
    if admin {
        choices.insert(
            0,
            (
                String::new(),
                state.catalog.text(locale, "new_event.no_team").to_owned(),
            ),
        );
    }
    choices
}

// ---- login ----

/// `GET /organiser/login?next=…`
pub async fn login_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<NextQuery>,
) -> Result<Response, Error> {
    state.render(
        &visitor,
        "organiser/login.html",
        context! { next => safe_next(query.next.as_deref(), "/organiser"), email => "", error => Value::UNDEFINED, institutions => state.logins.buttons() },
    )
}

/// `POST /organiser/login`: asks registration for a token; on success keeps it in the session cookie.
pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let next = safe_next(Some(posted.get("next")), "/organiser");
    let body = json!({ "email": posted.get("email"), "password": posted.get("password") });
    let answer = state
        .backends
        .json::<AccessToken>(
            Call::post(ServiceName::Registration, "/v1/auth/token", &body)
                .forwarded_for(visitor.forwarded_for.as_deref()),
        )
        .await;
    let (status, message) = match answer {
        Ok(token) => {
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                visitor.cookie(
                    SESSION_COOKIE,
                    token.access_token,
                    token.expires_in.unwrap_or(900).max(1),
                ),
            );
            return Ok(response);
        }
        Err(error) if error.is_status(429) => (StatusCode::TOO_MANY_REQUESTS, "login.locked"),
        Err(error) if error.is_status(401) || error.is_status(422) => {
            (StatusCode::UNAUTHORIZED, "login.wrong")
        }
        Err(error) => return Err(error),
    };
    state.render_status(
        &visitor,
        status,
        "organiser/login.html",
        context! {
            next => next,
            email => posted.get("email"),
            error => state.catalog.text(visitor.locale, message),
            institutions => state.logins.buttons(),
        },
    )
}

/// `POST /organiser/logout`
pub async fn logout(visitor: Visitor, Form(posted): Form) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        visitor.cookie(SESSION_COOKIE, String::new(), 0),
    );
    Ok(response)
}

// ---- dashboard ----

/// `GET /organiser`: every event (drafts too) with its registrations counted by status.
pub async fn dashboard(State(state): State<AppState>, visitor: Visitor) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let events: Page<Event> = state
        .backends
        // The events this login works on: its teams' (or, for an organiser in no team, the events of no team).
        .json(
            Call::get(ServiceName::Scheduling, "/v1/events?mine=true&limit=200")
                .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    let counts = futures::future::join_all(events.items.iter().map(|event| {
        state.backends.json::<RegistrationList>(
            Call::get(
                ServiceName::Registration,
                format!("/v1/registrations?event_id={}&limit=1", event.id),
            )
            .bearer(Some(token)),
        )
    }))
    .await;
    let mut rows = Vec::new();
    for (event, counted) in events.items.iter().zip(counts) {
        let counts = match counted {
            Ok(list) => Some(list.counts),
            // Down, or not this login's to count (check-in staff, who only check people in): the row without counts.
            Err(Error::Unavailable { .. }) => None,
            Err(error) if error.is_status(403) || error.is_status(404) => None,
            Err(error) => return Err(staff(error)),
        };
        rows.push(context! {
            event => card(event, visitor.locale),
            counts => counts.map(|c| statuses().map(|s| c.get(s).copied().unwrap_or(0)).to_vec()),
        });
    }
    state.render(
        &visitor,
        "organiser/dashboard.html",
        context! {
            rows => rows,
            statuses => statuses(),
            organiser => login_email(token),
            may_organise => may_organise(token),
        },
    )
}

// ---- event form ----

fn select(name: &str, label: String, values: &[(&str, String)], chosen: &str) -> Field {
    Field::new(name, "select", label, true).options(
        values
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).to_owned(),
                label: label.clone(),
                checked: *value == chosen,
            })
            .collect(),
    )
}

fn event_fields(
    catalog: &Catalog,
    locale: Locale,
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
    new: bool,
) -> Vec<Field> {
    let t = |key: &str| catalog.text(locale, key).to_owned();
    let first = |name: &str| {
        values
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let kinds: Vec<(&str, String)> = EventKind::ALL
        .iter()
        .map(|k| (k.as_str(), t(&format!("kind.{}", k.as_str()))))
        .collect();
    let mut fields = Vec::new();
    if new {
        fields.push(select("kind", t("edit.kind"), &kinds, &first("kind")).with(values, errors));
    }
    fields.extend([
        Field::new("title", "text", t("edit.title"), true).with(values, errors),
        Field::new("title_zh", "text", t("edit.title_zh"), false)
            .hint(t("edit.zh_hint"))
            .with(values, errors),
        Field::new("timezone", "text", t("edit.timezone"), true)
            .hint(t("edit.timezone_hint"))
            .with(values, errors),
        Field::new("starts_at", "datetime", t("edit.starts_at"), true)
            .hint(t("edit.local_time_hint"))
            .with(values, errors),
        Field::new("ends_at", "datetime", t("edit.ends_at"), true)
            .hint(t("edit.local_time_hint"))
            .with(values, errors),
        Field::new("summary", "text", t("edit.summary"), false).with(values, errors),
        Field::new("summary_zh", "text", t("edit.summary_zh"), false).with(values, errors),
        Field::new("description", "long_text", t("edit.description"), false).with(values, errors),
        Field::new(
            "description_zh",
            "long_text",
            t("edit.description_zh"),
            false,
        )
        .with(values, errors),
        Field::new("online_url", "url", t("edit.online_url"), false)
            .hint(t("edit.online_url_hint"))
            .with(values, errors),
        Field::new("venue.name", "text", t("edit.venue_name"), false)
            .hint(t("edit.venue_hint"))
            .with(values, errors),
        Field::new("venue.address", "text", t("edit.venue_address"), false).with(values, errors),
        Field::new("venue.city", "text", t("edit.venue_city"), false).with(values, errors),
        Field::new("venue.country", "text", t("edit.venue_country"), false).with(values, errors),
        Field::new("organiser.name", "text", t("edit.organiser_name"), true).with(values, errors),
        Field::new("organiser.email", "email", t("edit.organiser_email"), true)
            .with(values, errors),
    ]);
    fields
}

pub(super) fn names(fields: &[Field]) -> Vec<String> {
    fields.iter().map(|f| f.name.clone()).collect()
}

/// The stored event as form values (times as wall-clock times in its zone).
fn event_values(event: &Event) -> HashMap<String, Vec<String>> {
    let zone = time::zone(&event.timezone).unwrap_or(Tz::UTC);
    let mut values = HashMap::new();
    let mut set = |k: &str, v: Option<String>| {
        values.insert(k.to_owned(), v.into_iter().collect::<Vec<_>>());
    };
    set("kind", Some(event.kind.clone()));
    set("title", Some(event.title.clone()));
    set("title_zh", event.title_zh.clone());
    set("summary_zh", event.summary_zh.clone());
    set("description_zh", event.description_zh.clone());
    set("timezone", Some(event.timezone.clone()));
    set(
        "starts_at",
        Some(time::wall_clock(event.starts_at.with_timezone(&Utc), zone)),
    );
    set(
        "ends_at",
        Some(time::wall_clock(event.ends_at.with_timezone(&Utc), zone)),
    );
    set("summary", event.summary.clone());
    set("description", event.description.clone());
    set("online_url", event.online_url.clone());
    if let Some(venue) = &event.venue {
        set("venue.name", Some(venue.name.clone()));
        set("venue.address", venue.address.clone());
        set("venue.city", venue.city.clone());
        set("venue.country", venue.country.clone());
    }
    // The contract reads a missing organiser as a blank one: blank fields, as before.
    set("organiser.name", Some(event.organiser.name.clone()));
    set("organiser.email", Some(event.organiser.email.clone()));
    values
}

/// The Chinese texts of an event or item: each one typed is sent; a blank one is sent as `null` (clearing it) only
/// when there was one before, so a service that has none yet is never sent the field.
fn chinese_texts(
    body: &mut serde_json::Value,
    posted: &Posted,
    prefix: &str,
    fields: &[(&str, Option<&String>)],
) {
    for (field, stored) in fields {
        match posted.opt(&format!("{prefix}{field}")) {
            Some(text) => body[*field] = json!(text),
            None if stored.is_some_and(|s| !s.is_empty()) => body[*field] = serde_json::Value::Null,
            None => {}
        }
    }
}

/// The event's fields as scheduling takes them; blank optional fields clear (`null`). `stored`: the event as it is
/// (editing), for the Chinese texts to clear and whether its start moves.
fn event_body(posted: &Posted, stored: Option<&Event>) -> serde_json::Value {
    let new = stored.is_none();
    let venue = posted.opt("venue.name").map(|name| {
        json!({
            "name": name,
            "address": posted.opt("venue.address"),
            "city": posted.opt("venue.city"),
            "country": posted.opt("venue.country"),
        })
    });
    let mut body = json!({
        "title": posted.get("title"),
        "timezone": posted.get("timezone"),
        "starts_at": posted.get("starts_at"),
        "ends_at": posted.get("ends_at"),
        "summary": posted.opt("summary"),
        "description": posted.opt("description"),
        "online_url": posted.opt("online_url"),
        "venue": venue,
        "organiser": { "name": posted.get("organiser.name"), "email": posted.get("organiser.email") },
    });
    if new {
        body["kind"] = json!(posted.get("kind"));
        if let Some(team) = posted.opt("team_id") {
            body["team_id"] = json!(team);
        }
    }
    chinese_texts(
        &mut body,
        posted,
        "",
        &[
            ("title_zh", stored.and_then(|e| e.title_zh.as_ref())),
            ("summary_zh", stored.and_then(|e| e.summary_zh.as_ref())),
            (
                "description_zh",
                stored.and_then(|e| e.description_zh.as_ref()),
            ),
        ],
    );
    // When the start moves, the agenda moves with it if the organiser left the box ticked.
    if let Some(event) = stored {
        let moved = time::from_wall_clock(posted.get("starts_at"), event.zone())
            .is_some_and(|new_start| new_start != event.starts_at.with_timezone(&Utc));
        if moved && posted.checked("move_items") {
            body["move_items"] = json!(true);
        }
    }
    body
}

/// `GET /organiser/events/new`
pub async fn new_event(State(state): State<AppState>, visitor: Visitor) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let mut values = HashMap::new();
    values.insert("timezone".to_owned(), vec!["Europe/Brussels".to_owned()]);
    values.insert("kind".to_owned(), vec!["webinar".to_owned()]);
    values.insert(
        "organiser.email".to_owned(),
        login_email(token).into_iter().collect(),
    );
    new_event_page(&state, &visitor, &values, None, StatusCode::OK).await
}

async fn new_event_page(
    state: &AppState,
    visitor: &Visitor,
    values: &HashMap<String, Vec<String>>,
    problem: Option<&Problem>,
    status: StatusCode,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let teams = team_choices(state, token, visitor.locale).await;
    let with_team = |errors: &FieldErrors| {
        let mut fields = event_fields(&state.catalog, visitor.locale, values, errors, true);
        if !teams.is_empty() {
            let chosen = values
                .get("team_id")
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_default();
            let label = state
                .catalog
                .text(visitor.locale, "new_event.team")
                .to_owned();
            let choices: Vec<(&str, String)> = teams
                .iter()
                .map(|(id, name)| (id.as_str(), name.clone()))
                .collect();
            let hint = state
                .catalog
                .text(visitor.locale, "new_event.team_hint")
                .to_owned();
            fields.insert(
                1,
                select("team_id", label, &choices, &chosen)
                    .hint(hint)
                    .with(values, errors),
            );
        }
        fields
    };
    let placed = names(&with_team(&FieldErrors::default()));
    let errors = FieldErrors::from_problem(problem, &placed, &state.catalog, visitor.locale);
    let fields = with_team(&errors);
    state.render_status(
        visitor,
        status,
        "organiser/new_event.html",
        context! {
            fields => fields,
            general_errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
        },
    )
}

/// `POST /organiser/events`: creates a draft and goes to its page.
pub async fn create_event(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let body = event_body(&posted, None);
    match state
        .backends
        .json::<Event>(Call::post(ServiceName::Scheduling, "/v1/events", &body).bearer(Some(token)))
        .await
    {
        Ok(event) => Ok(
            Redirect::to(&format!("/organiser/events/{}?done=created", event.id)).into_response(),
        ),
        Err(error) if error.is_status(422) || error.is_status(409) => {
            new_event_page(
                &state,
                &visitor,
                &posted.values(),
                error.problem(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

// ---- one event: details, agenda, conflicts, form settings ----

/// What an agenda item can be given from scheduling's lists: the rooms of stored venues and the programme's people.
#[derive(Debug, Default)]
pub(super) struct Pickers {
    /// `(room id, "Venue · Room (capacity)")`, by venue then room.
    pub rooms: Vec<(String, String)>,
    pub people: Vec<Person>,
}

impl Pickers {
    /// Reads both lists (500 of each at most: a programme's venues and people are tens, not thousands). A list
    /// scheduling does not give (a login that may not read it, scheduling busy) is left out: the page then has no
    /// picker for it, and saving keeps what the item has.
    pub(super) async fn fetch(state: &AppState, token: &str) -> Self {
        let venues = state
            .backends
            .json::<Page<StoredVenue>>(
                Call::get(ServiceName::Scheduling, "/v1/venues?limit=500").bearer(Some(token)),
            )
            .await
            .inspect_err(|error| tracing::warn!(%error, "no room picker"))
            .map(|page| page.items)
            .unwrap_or_default();
        let mut people = state
            .backends
            .json::<Page<Person>>(
                Call::get(ServiceName::Scheduling, "/v1/people?limit=500").bearer(Some(token)),
            )
            .await
            .inspect_err(|error| tracing::warn!(%error, "no people picker"))
            .map(|page| page.items)
            .unwrap_or_default();
        people.sort_by_key(|p| p.name.to_lowercase());
        let rooms = venues
            .iter()
            .flat_map(|venue| {
                venue.rooms.iter().map(move |room| {
                    let label = match room.capacity {
                        Some(seats) => format!("{} · {} ({seats})", venue.name, room.name),
                        None => format!("{} · {}", venue.name, room.name),
                    };
                    (room.id.to_string(), label)
                })
            })
            .collect();
        Self { rooms, people }
    }
}

/// A person as a picker shows them: the name, and the affiliation when there is one.
fn person_label(person: &Person) -> String {
    match &person.affiliation {
        Some(affiliation) => format!("{} ({affiliation})", person.name),
        None => person.name.clone(),
    }
}

pub(super) fn item_fields(
    catalog: &Catalog,
    locale: Locale,
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
    pickers: &Pickers,
) -> Vec<Field> {
    let t = |key: &str| catalog.text(locale, key).to_owned();
    let first = |name: &str| {
        values
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let chosen = Some(first("item.kind"))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "session".to_owned());
    let kinds: Vec<(&str, String)> = ItemKind::ALL
        .iter()
        .map(|k| (k.as_str(), t(&format!("item_kind.{}", k.as_str()))))
        .collect();
    // An optional choice: "none" first, then the list.
    let pick = |name: &str, label: String, list: Vec<(String, String)>| {
        let current = first(name);
        let mut options = vec![Choice {
            value: String::new(),
            label: t("item.none"),
            checked: current.is_empty(),
        }];
        options.extend(list.into_iter().map(|(value, label)| Choice {
            checked: value == current,
            value,
            label,
        }));
        Field::new(name, "select", label, false)
            .options(options)
            .with(values, errors)
    };
    let people: Vec<(String, String)> = pickers
        .people
        .iter()
        .map(|p| (p.id.to_string(), person_label(p)))
        .collect();
    let speaking = values.get("item.speakers").cloned().unwrap_or_default();
    let speakers = Field::new(
        "item.speakers",
        "multiple_choice",
        t("item.speakers"),
        false,
    )
    .hint(t("item.speakers_hint"))
    .options(
        people
            .iter()
            .map(|(id, label)| Choice {
                checked: speaking.contains(id),
                value: id.clone(),
                label: label.clone(),
            })
            .collect(),
    )
    .with(values, errors);
    let mut fields = vec![
        select("item.kind", t("item.kind"), &kinds, &chosen).with(values, errors),
        Field::new("item.title", "text", t("item.title"), true).with(values, errors),
        Field::new("item.title_zh", "text", t("item.title_zh"), false).with(values, errors),
        Field::new("item.starts_at", "datetime", t("item.starts_at"), true)
            .hint(t("item.time_hint"))
            .with(values, errors),
        Field::new("item.ends_at", "datetime", t("item.ends_at"), true).with(values, errors),
        Field::new("item.timezone", "text", t("item.timezone"), false)
            .hint(t("item.timezone_hint"))
            .with(values, errors),
        Field::new("item.location", "text", t("item.location"), false).with(values, errors),
    ];
    if !pickers.rooms.is_empty() {
        fields.push(
            pick("item.room_id", t("item.room"), pickers.rooms.clone()).hint(t("item.room_hint")),
        );
    }
    if !people.is_empty() {
        fields.push(speakers);
        fields.push(pick("item.host", t("item.host"), people));
    }
    fields.extend([
        Field::new(
            "item.description",
            "long_text",
            t("item.description"),
            false,
        )
        .with(values, errors),
        Field::new(
            "item.description_zh",
            "long_text",
            t("item.description_zh"),
            false,
        )
        .with(values, errors),
        Field::new("item.city", "text", t("item.city"), false)
            .hint(t("item.city_hint"))
            .with(values, errors),
        Field::new("item.institution", "text", t("item.institution"), false).with(values, errors),
        Field::new("item.transfer.from", "text", t("item.from"), false).with(values, errors),
        Field::new("item.transfer.to", "text", t("item.to"), false).with(values, errors),
    ]);
    fields
}

/// An agenda item as scheduling takes it, with the visit, transfer or hotel its kind has.
pub(super) fn item_body(posted: &Posted) -> serde_json::Value {
    let kind = posted.get("item.kind");
    let mut body = json!({
        "kind": kind,
        "title": posted.get("item.title"),
        "starts_at": posted.get("item.starts_at"),
        "ends_at": posted.get("item.ends_at"),
        "timezone": posted.opt("item.timezone"),
        "location": posted.opt("item.location"),
        "description": posted.opt("item.description"),
    });
    // The pickers: only sent when the page had them, so a page without rooms or people clears nothing.
    if posted.has("item.room_id") {
        body["room_id"] = json!(posted.opt("item.room_id"));
    }
    if posted.has("item.host") {
        body["host"] = json!(posted.opt("item.host"));
        body["speakers"] = json!(
            posted
                .all("item.speakers")
                .into_iter()
                .filter(|id| !id.is_empty())
                .collect::<Vec<_>>()
        );
    }
    match kind {
        "visit" => {
            body["visit"] = json!({
                "institution": posted.opt("item.institution"),
                "city": posted.opt("item.city"),
            });
        }
        "hotel" => {
            body["hotel"] =
                json!({ "name": posted.opt("item.institution"), "city": posted.opt("item.city") });
        }
        "transfer" => {
            body["transfer"] = json!({
                "from": posted.opt("item.transfer.from"),
                "to": posted.opt("item.transfer.to"),
            });
        }
        _ => {}
    }
    chinese_texts(
        &mut body,
        posted,
        "item.",
        &[("title_zh", None), ("description_zh", None)],
    );
    body
}

/// A problem about an item, its fields named as the item form names them (`item.title`, `item.visit.city` →
/// `item.city`…).
pub(super) fn item_problem(problem: Option<&Problem>) -> Option<Problem> {
    problem.map(|p| {
        let mut p = p.clone();
        for error in &mut p.errors {
            let field = match error.field.as_str() {
                "visit.city" | "hotel.city" => "city".to_owned(),
                "visit.institution" | "hotel.name" => "institution".to_owned(),
                speaker if speaker.starts_with("speakers") => "speakers".to_owned(),
                other => other.to_owned(),
            };
            error.field = format!("item.{field}");
        }
        p
    })
}

#[derive(Debug, Default)]
struct EventPage<'a> {
    event_posted: Option<&'a Posted>,
    event_problem: Option<&'a Problem>,
    item_posted: Option<&'a Posted>,
    item_problem: Option<&'a Problem>,
    /// A problem about the whole event (publishing refused, the form's settings).
    notice_problem: Option<&'a Problem>,
    /// The reminders as posted, with what was wrong with them.
    reminders_posted: Option<&'a Posted>,
    reminders_error: Option<String>,
    done: Option<String>,
    status: Option<StatusCode>,
}

pub(super) async fn fetch_event(state: &AppState, token: &str, id: Uuid) -> Result<Event, Error> {
    fetch_event_by(state, token, &id.to_string()).await
}

/// An event by id or slug (drafts too, with the organiser's login).
async fn fetch_event_by(state: &AppState, token: &str, key: &str) -> Result<Event, Error> {
    state
        .backends
        .json(
            Call::get(
                ServiceName::Scheduling,
                format!("/v1/events/{}", crate::domain::calendar::encode(key)),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(|e| super::public::not_found_as_page(staff(e)))
}

async fn fetch_form(
    state: &AppState,
    token: &str,
    id: Uuid,
) -> Result<Option<RegistrationForm>, Error> {
    match state
        .backends
        .json(Call::get(ServiceName::Registration, format!("/v1/forms/{id}")).bearer(Some(token)))
        .await
    {
        Ok(form) => Ok(Some(form)),
        Err(error) if error.is_status(404) => Ok(None),
        Err(error) => Err(staff(error)),
    }
}

async fn event_page(
    state: &AppState,
    visitor: &Visitor,
    id: Uuid,
    page: EventPage<'_>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = fetch_event(state, token, id).await?;
    let items: Page<AgendaItem> = state
        .backends
        .json(
            Call::get(
                ServiceName::Scheduling,
                format!("/v1/events/{id}/items?limit=500"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    let conflicts: Page<Conflict> = state
        .backends
        .json(
            Call::get(
                ServiceName::Scheduling,
                format!("/v1/events/{id}/conflicts"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    let form = fetch_form(state, token, id).await?;
    let mut by_item: HashMap<String, Vec<String>> = HashMap::new();
    for conflict in &conflicts.items {
        for item in &conflict.items {
            by_item
                .entry(item.id.to_string())
                .or_default()
                .push(conflict.message.clone());
        }
    }
    let zone = event.zone();
    let days = agenda::days(
        &items.items,
        zone,
        Shown::OwnZones,
        event.kind == EventKind::Tour.as_str(),
        &by_item,
        visitor.locale,
    );
    let (catalog, locale) = (&state.catalog, visitor.locale);
    let empty = FieldErrors::default();

    let event_values = page
        .event_posted
        .map_or_else(|| event_values(&event), Posted::values);
    let placed = names(&event_fields(catalog, locale, &event_values, &empty, false));
    let event_errors = FieldErrors::from_problem(page.event_problem, &placed, catalog, locale);
    let fields = event_fields(catalog, locale, &event_values, &event_errors, false);

    let item_values = page.item_posted.map(Posted::values).unwrap_or_default();
    let pickers = Pickers::fetch(state, token).await;
    let placed = names(&item_fields(
        catalog,
        locale,
        &item_values,
        &empty,
        &pickers,
    ));
    let item_problem = item_problem(page.item_problem);
    let item_errors = FieldErrors::from_problem(item_problem.as_ref(), &placed, catalog, locale);
    let item_fields = item_fields(catalog, locale, &item_values, &item_errors, &pickers);

    let notice = FieldErrors::from_problem(page.notice_problem, &[], catalog, locale);
    // The box is ticked unless the organiser just sent the form with it unticked.
    let move_items = page
        .event_posted
        .is_none_or(|posted| posted.checked("move_items"));
    let reminders = reminder_schedule(state, token, &event, locale).await;
    let own_reminders = page
        .reminders_posted
        .map_or(event.reminder_minutes.is_some(), |p| {
            p.get("reminders") == "own"
        });
    let reminder_text = page.reminders_posted.map_or_else(
        || crate::domain::reminders::format(event.reminder_minutes.as_deref().unwrap_or_default()),
        |p| p.get("reminder_minutes").to_owned(),
    );
    let window = |at: Option<chrono::DateTime<Utc>>| at.map(|t| time::wall_clock(t, zone));
    let shown = event.localized(locale);
    state.render_status(
        visitor,
        page.status.unwrap_or(StatusCode::OK),
        "organiser/event.html",
        context! {
            when => super::public::event_when(&event, None, locale),
            zone_label => super::public::event_zones(&event),
            title => shown.title,
            event => event,
            fields => fields,
            move_items => move_items,
            opens_at => window(form.as_ref().and_then(|f| f.opens_at)),
            closes_at => window(form.as_ref().and_then(|f| f.closes_at)),
            question_texts => question_text_fields(catalog, locale, form.as_ref()),
            event_errors => event_errors.general,
            event_error_count => event_errors.by_field.len() + event_errors.general.len(),
            item_fields => item_fields,
            item_errors => item_errors.general,
            item_error_count => item_errors.by_field.len() + item_errors.general.len(),
            notices => notice.general,
            days => days,
            conflicts => conflicts.items,
            form => form,
            may_change => may(token, &event, cloverleaf_auth::Action::Change),
            may_check_in => may(token, &event, cloverleaf_auth::Action::CheckIn),
            reminders => reminders,
            own_reminders => own_reminders,
            reminder_text => reminder_text,
            reminders_error => page.reminders_error,
            done => page.done,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// `GET /organiser/events/{id}`; an event's slug there goes to its page by id (a slug that is no event: the 404
/// page).
pub async fn event(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(key): Ids<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, Error> {
    let id = match Uuid::parse_str(&key) {
        Ok(id) => id,
        Err(_) => {
            let token = visitor.organiser()?;
            if key.is_empty() || key.len() > 200 || key.contains(['/', '?', '#', '%']) {
                return Err(Error::NotFound);
            }
            let event = fetch_event_by(&state, token, &key).await?;
            return Ok(Redirect::to(&format!("/organiser/events/{}", event.id)).into_response());
        }
    };
    let done = query.done.filter(|d| {
        matches!(
            d.as_str(),
            "created"
                | "updated"
                | "item_added"
                | "item_removed"
                | "item_updated"
                | "reminders"
                | "published"
                | "cancelled"
                | "form"
        )
    });
    event_page(
        &state,
        &visitor,
        id,
        EventPage {
            done,
            ..EventPage::default()
        },
    )
    .await
}

fn done(id: Uuid, what: &str) -> Response {
    Redirect::to(&format!("/organiser/events/{id}?done={what}")).into_response()
}

/// `POST /organiser/events/{id}`: changes the event's details.
pub async fn update_event(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let stored = fetch_event(&state, token, id).await?;
    let body = event_body(&posted, Some(&stored));
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PATCH,
                ServiceName::Scheduling,
                format!("/v1/events/{id}"),
            )
            .bearer(Some(token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(()) => Ok(done(id, "updated")),
        Err(error) if error.is_status(422) || error.is_status(409) => {
            event_page(
                &state,
                &visitor,
                id,
                EventPage {
                    event_posted: Some(&posted),
                    event_problem: error.problem(),
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    ..EventPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

/// `POST /organiser/events/{id}/form`: seats, waiting list, approval, when registration opens and closes (wall-clock
/// times in the event's zone), and the Chinese texts of the questions (the questions themselves stay as they are).
pub async fn update_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let current = fetch_form(&state, token, id).await?;
    let event = fetch_event(&state, token, id).await?;
    let zone = event.zone();
    let capacity = match posted.opt("capacity") {
        None => serde_json::Value::Null,
        Some(text) => match text.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(text),
        },
    };
    let mut questions = current
        .as_ref()
        .map(|f| f.questions.clone())
        .unwrap_or_default();
    for (i, q) in questions.iter_mut().enumerate() {
        chinese_question(q, &posted, i);
    }
    let mut body = json!({
        "capacity": capacity,
        "waitlist": posted.checked("waitlist"),
        "approval": if posted.get("approval") == "manual" { "manual" } else { "automatic" },
        "questions": questions,
    });
    let mut invalid = Vec::new();
    let t = |key: &str| state.catalog.text(visitor.locale, key).to_owned();
    match posted.opt("opens_at") {
        None => body["opens_at"] = serde_json::Value::Null,
        Some(text) => match time::from_wall_clock(&text, zone) {
            Some(at) => body["opens_at"] = json!(at),
            None => invalid.push(cloverleaf_problem::FieldError::new(
                t("edit.opens_at"),
                "invalid_datetime",
                "not a date and time",
            )),
        },
    }
    // A closing time the organisers set is sent; none, or the event's start, stays the default (the event's start,
    // following the event when it moves).
    if let Some(text) = posted.opt("closes_at") {
        match time::from_wall_clock(&text, zone) {
            Some(at) if at == event.starts_at.with_timezone(&Utc) => {}
            Some(at) => body["closes_at"] = json!(at),
            None => invalid.push(cloverleaf_problem::FieldError::new(
                t("edit.closes_at"),
                "invalid_datetime",
                "not a date and time",
            )),
        }
    }
    if !invalid.is_empty() {
        let problem = Problem::invalid(invalid);
        return event_page(
            &state,
            &visitor,
            id,
            EventPage {
                notice_problem: Some(&problem),
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                ..EventPage::default()
            },
        )
        .await;
    }
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PUT,
                ServiceName::Registration,
                format!("/v1/forms/{id}"),
            )
            .bearer(Some(token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(()) => Ok(done(id, "form")),
        Err(error @ Error::Backend { .. }) if !error.is_status(401) && !error.is_status(403) => {
            event_page(
                &state,
                &visitor,
                id,
                EventPage {
                    notice_problem: error.problem(),
                    status: Some(error.status()),
                    ..EventPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

/// The Chinese texts (and the English help) of question `index` as the form settings posted them; fields the page
/// did not have are left as they are.
fn chinese_question(q: &mut crate::domain::model::Question, posted: &Posted, index: usize) {
    let name = |field: &str| format!("question.{index}.{field}");
    if posted.has(&name("label_zh")) {
        q.label_zh = posted.opt(&name("label_zh"));
    }
    if posted.has(&name("help")) {
        q.help = posted.opt(&name("help"));
    }
    if posted.has(&name("help_zh")) {
        q.help_zh = posted.opt(&name("help_zh"));
    }
    if posted.has(&name("options_zh")) {
        q.options_zh = posted
            .get(&name("options_zh"))
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
    }
}

/// The fields for the Chinese texts of each question, filled with what is stored.
fn question_text_fields(
    catalog: &Catalog,
    locale: Locale,
    form: Option<&RegistrationForm>,
) -> Vec<Value> {
    let t = |key: &str| catalog.text(locale, key).to_owned();
    form.map(|f| f.questions.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let name = |field: &str| format!("question.{i}.{field}");
            let mut fields = vec![
                Field::new(&name("label_zh"), "text", t("edit.q_label_zh"), false)
                    .value(q.label_zh.as_deref()),
                Field::new(&name("help"), "text", t("edit.q_help"), false).value(q.help.as_deref()),
                Field::new(&name("help_zh"), "text", t("edit.q_help_zh"), false)
                    .value(q.help_zh.as_deref()),
            ];
            if !q.options.is_empty() {
                fields.push(
                    Field::new(
                        &name("options_zh"),
                        "long_text",
                        t("edit.q_options_zh"),
                        false,
                    )
                    .hint(t("edit.q_options_zh_hint"))
                    .value(Some(&q.options_zh.join("\n"))),
                );
            }
            context! {
                label => q.label,
                kind => q.kind,
                options => q.options,
                fields => fields,
            }
        })
        .collect()
}

/// `POST /organiser/events/{id}/items`: adds an agenda item; the page then shows any conflicts it made.
pub async fn add_item(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let body = item_body(&posted);
    let sent = state
        .backends
        .done(
            Call::post(
                ServiceName::Scheduling,
                format!("/v1/events/{id}/items"),
                &body,
            )
            .bearer(Some(token)),
        )
        .await;
    match sent {
        Ok(()) => Ok(
            Redirect::to(&format!("/organiser/events/{id}?done=item_added#agenda")).into_response(),
        ),
        Err(error) if error.is_status(422) || error.is_status(409) => {
            event_page(
                &state,
                &visitor,
                id,
                EventPage {
                    item_posted: Some(&posted),
                    item_problem: error.problem(),
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    ..EventPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

/// `POST /organiser/events/{id}/items/{item}/delete`
pub async fn delete_item(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids((id, item)): Ids<(Uuid, Uuid)>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    state
        .backends
        .done(
            Call::new(
                Method::DELETE,
                ServiceName::Scheduling,
                format!("/v1/events/{id}/items/{item}"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    Ok(done(id, "item_removed"))
}

async fn event_action(
    state: &AppState,
    visitor: &Visitor,
    id: Uuid,
    posted: &Posted,
    action: &str,
    body: serde_json::Value,
) -> Result<Response, Error> {
    visitor.check_csrf(posted)?;
    let token = visitor.organiser()?;
    let sent = state
        .backends
        .done(
            Call::post(
                ServiceName::Scheduling,
                format!("/v1/events/{id}/{action}"),
                &body,
            )
            .bearer(Some(token)),
        )
        .await;
    match sent {
        Ok(()) => Ok(done(
            id,
            if action == "publish" {
                "published"
            } else {
                "cancelled"
            },
        )),
        Err(error) if error.is_status(422) || error.is_status(409) => {
            event_page(
                state,
                visitor,
                id,
                EventPage {
                    notice_problem: error.problem(),
                    status: Some(error.status()),
                    ..EventPage::default()
                },
            )
            .await
        }
        Err(error) => Err(staff(error)),
    }
}

/// `POST /organiser/events/{id}/publish`
pub async fn publish(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    event_action(&state, &visitor, id, &posted, "publish", json!({})).await
}

/// `POST /organiser/events/{id}/cancel`
pub async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    let body = json!({ "reason": posted.opt("reason") });
    event_action(&state, &visitor, id, &posted, "cancel", body).await
}

// ---- registrations and messages ----

#[derive(Debug, Deserialize)]
pub struct RegistrationsQuery {
    pub status: Option<String>,
    pub done: Option<String>,
    pub failed: Option<String>,
}

/// `GET /organiser/events/{id}/registrations?status=`: the table, with approve, reject and check-in.
pub async fn registrations(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Query(query): Query<RegistrationsQuery>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = fetch_event(&state, token, id).await?;
    let status = query.status.filter(|s| statuses().contains(&s.as_str()));
    let mut path = format!("/v1/registrations?event_id={id}&limit=500");
    if let Some(status) = &status {
        path.push_str(&format!("&status={status}"));
    }
    let list: RegistrationList = state
        .backends
        .json(Call::get(ServiceName::Registration, path).bearer(Some(token)))
        .await
        .map_err(staff)?;
    let zone = time::zone(&event.timezone).unwrap_or(Tz::UTC);
    let rows: Vec<Value> = list
        .page
        .items
        .iter()
        .map(|r| {
            context! {
                registration => r,
                // The contract reads a missing `created_at` (an older registration, a test fake) as the epoch: shown
                // blank, as before.
                registered => (r.created_at != DateTime::<Utc>::default()).then(|| time::moment(r.created_at, zone)),
                checked_in => r.checked_in_at.map(|t| time::moment(t, zone)),
            }
        })
        .collect();
    let counts: Vec<Value> = statuses()
        .iter()
        .map(|s| context! { status => s, count => list.counts.get(*s).copied().unwrap_or(0) })
        .collect();
    let action_ok = |a: &Option<String>| {
        a.clone()
            .filter(|a| matches!(a.as_str(), "approve" | "reject" | "check-in"))
    };
    state.render(
        &visitor,
        "organiser/registrations.html",
        context! {
            zone => event.timezone.clone(),
            event => event.localized(visitor.locale),
            rows => rows,
            counts => counts,
            status => status,
            statuses => statuses(),
            done => action_ok(&query.done),
            failed => action_ok(&query.failed),
            may_change => may(token, &event, cloverleaf_auth::Action::Change),
            may_check_in => may(token, &event, cloverleaf_auth::Action::CheckIn),
            may_export => may(token, &event, cloverleaf_auth::Action::Export),
        },
    )
}

/// `GET /organiser/events/{id}/registrations.csv`: every registration as CSV (one column per question).
pub async fn registrations_csv(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let answer = state
        .backends
        .send(
            Call::get(
                ServiceName::Registration,
                format!("/v1/registrations?event_id={id}"),
            )
            .bearer(Some(token))
            .accept("text/csv"),
        )
        .await
        .map_err(staff)?;
    super::attachment(
        answer,
        "registration",
        "text/csv; charset=utf-8",
        &format!("registrations-{id}.csv"),
        true,
    )
    .await
}

/// `POST /organiser/events/{id}/registrations/{registration}/{action}`: approve, reject or check in.
pub async fn act(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids((id, registration, action)): Ids<(Uuid, Uuid, String)>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    if !matches!(action.as_str(), "approve" | "reject" | "check-in") {
        return Err(Error::NotFound);
    }
    let body = json!({});
    let sent = state
        .backends
        .done(
            Call::post(
                ServiceName::Registration,
                format!("/v1/registrations/{registration}/{action}"),
                &body,
            )
            .bearer(Some(token)),
        )
        .await;
    let filter = posted
        .opt("status")
        .filter(|s| statuses().contains(&s.as_str()))
        .map(|s| format!("&status={s}"))
        .unwrap_or_default();
    let outcome = match sent {
        Ok(()) => "done",
        Err(error) if error.is_status(409) || error.is_status(404) => "failed",
        Err(error) => return Err(staff(error)),
    };
    Ok(Redirect::to(&format!(
        "/organiser/events/{id}/registrations?{outcome}={action}{filter}"
    ))
    .into_response())
}

/// `GET /organiser/events/{id}/messages`: who was sent what, and whether it went.
pub async fn messages(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = fetch_event(&state, token, id).await?;
    let messages: Page<Message> = state
        .backends
        .json(
            Call::get(
                ServiceName::Notifications,
                format!("/v1/messages?event_id={id}&limit=500"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(staff)?;
    let zone = time::zone(&event.timezone).unwrap_or(Tz::UTC);
    let rows: Vec<Value> = messages
        .items
        .iter()
        .map(|m| {
            context! {
                message => m,
                queued => m.queued_at.map(|t| time::moment(t, zone)),
                sent => m.sent_at.map(|t| time::moment(t, zone)),
            }
        })
        .collect();
    state.render(
        &visitor,
        "organiser/messages.html",
        context! { zone => event.timezone.clone(), event => event.localized(visitor.locale), rows => rows },
    )
}

/// The event's reminder schedule as notifications keeps it (due in the event's zone, sent to how many, why dropped);
/// empty when notifications cannot say just now: the page still works, it only lacks the list.
async fn reminder_schedule(
    state: &AppState,
    token: &str,
    event: &Event,
    locale: Locale,
) -> Vec<Value> {
    #[derive(Deserialize)]
    struct Reminder {
        minutes_before: i32,
        due_at: DateTime<Utc>,
        status: String,
        note: Option<String>,
        recipients: Option<i32>,
    }
    #[derive(Deserialize)]
    struct Reminders {
        items: Vec<Reminder>,
    }
    let answer = state
        .backends
        .json::<Reminders>(
            Call::get(
                ServiceName::Notifications,
                format!("/v1/reminders?event_id={}", event.id),
            )
            .bearer(Some(token)),
        )
        .await;
    let list = match answer {
        Ok(list) => list.items,
        Err(error) => {
            tracing::warn!(event_id = %event.id, %error, "reminder schedule not shown");
            return Vec::new();
        }
    };
    let zone = event.zone();
    list.iter()
        .map(|r| {
            context! {
                before => crate::domain::reminders::label(r.minutes_before, locale),
                due => time::moment(r.due_at, zone),
                status => r.status,
                note => r.note.as_deref().map(|note| reminder_note(state, locale, note)),
                recipients => r.recipients,
            }
        })
        .collect()
}

/// Why notifications dropped a reminder, in the reader's language when it is one of the reasons it gives (it
/// writes them in English for its log); any other note as written.
fn reminder_note(state: &AppState, locale: Locale, note: &str) -> String {
    const REASONS: [(&str, &str); 7] = [
        (
            "its time had passed when the event was scheduled or moved",
            "passed",
        ),
        ("no longer among the event's reminders", "removed"),
        ("the event was cancelled", "cancelled"),
        ("scheduling no longer knows the event", "unknown"),
        ("the event is not published", "unpublished"),
        ("the event had started when the reminder was due", "started"),
        ("the event was moved; a new reminder time applies", "moved"),
    ];
    match REASONS.iter().find(|(text, _)| *text == note) {
        Some((_, key)) => state
            .catalog
            .text(locale, &format!("reminders.note.{key}"))
            .to_owned(),
        None => note.to_owned(),
    }
}

/// `POST /organiser/events/{id}/reminders`: the kind's usual reminders, or the event's own (`2d, 3h, 15m`; empty:
/// none). Scheduling keeps them; notifications moves the schedule when it hears of the change.
pub async fn update_reminders(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = visitor.organiser()?;
    let t = |key: &str| state.catalog.text(visitor.locale, key).to_owned();
    let minutes = if posted.get("reminders") == "own" {
        match crate::domain::reminders::parse(posted.get("reminder_minutes")) {
            Ok(minutes) => json!(minutes),
            Err(piece) => {
                let error = state.catalog.format(
                    visitor.locale,
                    "reminders.not_a_duration",
                    &[("piece", piece)],
                );
                return reminders_refused(&state, &visitor, id, &posted, error).await;
            }
        }
    } else {
        serde_json::Value::Null
    };
    let sent = state
        .backends
        .done(
            Call::new(
                Method::PATCH,
                ServiceName::Scheduling,
                format!("/v1/events/{id}"),
            )
            .bearer(Some(token))
            .body(&json!({ "reminder_minutes": minutes })),
        )
        .await;
    match sent {
        Ok(()) => Ok(
            Redirect::to(&format!("/organiser/events/{id}?done=reminders#reminders"))
                .into_response(),
        ),
        Err(error) if error.is_status(422) || error.is_status(409) => {
            let errors = FieldErrors::from_problem(
                error.problem(),
                &["reminder_minutes".to_owned()],
                &state.catalog,
                visitor.locale,
            );
            let message = errors
                .by_field
                .get("reminder_minutes")
                .cloned()
                .or_else(|| errors.general.first().cloned())
                .unwrap_or_else(|| t("reminders.refused"));
            reminders_refused(&state, &visitor, id, &posted, message).await
        }
        Err(error) => Err(staff(error)),
    }
}

async fn reminders_refused(
    state: &AppState,
    visitor: &Visitor,
    id: Uuid,
    posted: &Posted,
    error: String,
) -> Result<Response, Error> {
    event_page(
        state,
        visitor,
        id,
        EventPage {
            reminders_posted: Some(posted),
            reminders_error: Some(error),
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            ..EventPage::default()
        },
    )
    .await
}
