//! Public pages: the published events (by kind), an event's page with its agenda (a tour's itinerary by day and city)
//! in the event's zone or the visitor's, its calendar file, and registering through the form built from its
//! questions.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, Form, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::agenda::{self, Shown};
use crate::domain::calendar::encode;
use crate::domain::forms::{Field, FieldErrors, Posted, country_choices, question_fields};
use crate::domain::model::{
    AgendaItem, Event, EventKind, EventStatus, Form as RegistrationForm, Page, Registration,
};
use crate::domain::time;
use crate::domain::view::EventView;
use crate::i18n::Locale;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub kind: Option<String>,
}

/// When the event is, each end in its own zone (or both in `shown_in`), with their offsets.
pub fn event_when(event: &Event, shown_in: Option<Tz>, locale: Locale) -> String {
    let (start_zone, end_zone) = shown_in.map_or_else(|| event.zones(), |z| (z, z));
    time::span(
        event.starts_at.with_timezone(&Utc),
        event.ends_at.with_timezone(&Utc),
        start_zone,
        end_zone,
        locale,
    )
}

/// The zone of an event beside its times (which carry the offsets): `Europe/Berlin`, or both of one that ends in
/// another zone, `Europe/Berlin → Asia/Shanghai`.
pub fn event_zones(event: &Event) -> String {
    let (start, end) = event.zones();
    if end == start {
        start.name().to_owned()
    } else {
        format!("{} → {}", start.name(), end.name())
    }
}

/// Why the form takes no registrations now: it opens later (and when), it closed (and when), or the event is not
/// published.
pub fn closed_reason(
    state: &AppState,
    event: &Event,
    form: &RegistrationForm,
    locale: Locale,
) -> String {
    let now = Utc::now();
    let zone = event.zone();
    let at = |t: chrono::DateTime<Utc>| {
        let local = t.with_timezone(&zone);
        format!(
            "{} {} {}",
            time::date(local.date_naive(), locale),
            time::clock(&local),
            time::offset(zone, t)
        )
    };
    if event.is_cancelled() {
        return state.catalog.text(locale, "event.cancelled").to_owned();
    }
    match (form.opens_at, form.closes_at) {
        (Some(opens), _) if opens > now => {
            state
                .catalog
                .format(locale, "register.opens_at", &[("when", at(opens))])
        }
        (_, Some(closes)) if closes <= now => {
            state
                .catalog
                .format(locale, "register.closed_at", &[("when", at(closes))])
        }
        _ => state.catalog.text(locale, "register.closed").to_owned(),
    }
}

/// An event as a list shows it.
pub fn card(event: &Event, locale: Locale) -> Value {
    let event = &event.localized(locale);
    context! {
        id => event.id.to_string(),
        slug => event.slug,
        title => event.title,
        kind => event.kind,
        summary => event.summary,
        status => event.status,
        when => event_when(event, None, locale),
        zone => event_zones(event),
        city => event.venue.as_ref().and_then(|v| v.city.clone()),
        online => event.online_url.is_some(),
    }
}

/// `GET /`: the published events still to come, soonest first, optionally of one kind.
pub async fn events(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<ListQuery>,
) -> Result<Response, Error> {
    let kind = query
        .kind
        .filter(|k| EventKind::ALL.iter().any(|known| known.as_str() == k));
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut path = format!("/v1/events?limit=100&from={}", encode(&now));
    if let Some(kind) = &kind {
        path.push_str(&format!("&kind={kind}"));
    }
    let page: Page<Event> = state
        .backends
        .json(Call::get(ServiceName::Scheduling, path))
        .await?;
    let cards: Vec<Value> = page
        .items
        .iter()
        .filter(|e| e.status != EventStatus::Draft.as_str())
        .map(|e| card(e, visitor.locale))
        .collect();
    state.render(
        &visitor,
        "events.html",
        context! { events => cards, kind => kind, kinds => EventKind::ALL.map(EventKind::as_str) },
    )
}

#[derive(Debug, Deserialize)]
pub struct EventQuery {
    /// Show every time in this zone (the visitor's, from the page's script).
    pub tz: Option<String>,
}

/// A published event, by id or slug, as the public sees it.
pub async fn public_event(state: &AppState, key: &str) -> Result<Event, Error> {
    if key.is_empty() || key.len() > 200 || key.contains(['/', '?', '#', '%']) {
        return Err(Error::NotFound);
    }
    state
        .backends
        .json(Call::get(
            ServiceName::Scheduling,
            format!("/v1/events/{}", encode(key)),
        ))
        .await
        .map_err(not_found_as_page)
}

/// A 404 from a service is this page's 404.
pub fn not_found_as_page(error: Error) -> Error {
    if error.is_status(404) {
        Error::NotFound
    } else {
        error
    }
}

/// The event's registration form: `None` when it has none, or when registration cannot be asked just now (the
/// page then says so instead of failing).
async fn registration_form(
    state: &AppState,
    event: &Event,
) -> Result<(Option<RegistrationForm>, bool), Error> {
    match state
        .backends
        .json::<RegistrationForm>(Call::get(
            ServiceName::Registration,
            format!("/v1/forms/{}", event.id),
        ))
        .await
    {
        Ok(form) => Ok((Some(form), true)),
        Err(error) if error.is_status(404) => Ok((None, true)),
        Err(Error::Unavailable { .. }) => Ok((None, false)),
        Err(error) => Err(error),
    }
}

/// `GET /events/{key}`: the event, its agenda by day (a tour's by day and city), in the event's zone — each item in
/// its own — or, with `?tz=`, every time in the visitor's zone.
pub async fn event(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(key): Path<String>,
    Query(query): Query<EventQuery>,
) -> Result<Response, Error> {
    let event = public_event(&state, &key).await?;
    let items: Page<AgendaItem> = state
        .backends
        .json(Call::get(
            ServiceName::Scheduling,
            format!("/v1/events/{}/items?limit=500", event.id),
        ))
        .await?;
    let (form, registration_reachable) = registration_form(&state, &event).await?;
    let event = event.localized(visitor.locale);
    let event_zone = event.zone();
    let visitor_zone = query
        .tz
        .as_deref()
        .and_then(time::zone)
        .filter(|z| *z != event_zone);
    let page_zone = visitor_zone.unwrap_or(event_zone);
    let shown = visitor_zone.map_or(Shown::OwnZones, Shown::All);
    let days = agenda::days(
        &items.items,
        page_zone,
        shown,
        event.kind == EventKind::Tour.as_str(),
        &HashMap::new(),
        visitor.locale,
    );
    let registering = form.as_ref().is_some_and(|f| f.open) && event.is_published();
    // Why there is no Register button, when there is none on a published event.
    let no_registration = if registering || !event.is_published() {
        None
    } else if !registration_reachable {
        Some(
            state
                .catalog
                .text(visitor.locale, "event.registration_unavailable")
                .to_owned(),
        )
    } else {
        Some(match &form {
            Some(form) => closed_reason(&state, &event, form, visitor.locale),
            None => state
                .catalog
                .text(visitor.locale, "register.no_form")
                .to_owned(),
        })
    };
    state.render(
        &visitor,
        "event.html",
        context! {
            when => event_when(&event, visitor_zone, visitor.locale),
            zone_label => visitor_zone.map_or_else(|| event_zones(&event), |z| z.name().to_owned()),
            event_zone => event_zone.name(),
            in_visitor_zone => visitor_zone.is_some(),
            event_zone_when => visitor_zone.map(|_| event_when(&event, None, visitor.locale)),
            event => event,
            days => days,
            form => form,
            registering => registering,
            no_registration => no_registration,
        },
    )
}

/// `GET /events/{key}/calendar.ics`: the event's calendar file (its agenda, each item in its own zone), for Apple
/// Calendar and every other calendar program.
pub async fn calendar(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, Error> {
    let event = public_event(&state, &key).await?;
    let answer = state
        .backends
        .send(Call::get(
            ServiceName::Scheduling,
            format!("/v1/events/{}/calendar.ics", event.id),
        ))
        .await?;
    super::attachment(
        answer,
        "scheduling",
        "text/calendar; charset=utf-8",
        &format!("{}.ics", event.slug),
        false,
    )
    .await
}

/// The participant's own fields, before the form's questions.
fn personal_fields(
    state: &AppState,
    locale: Locale,
    values: &HashMap<String, Vec<String>>,
    errors: &FieldErrors,
) -> Vec<Field> {
    let t = |key: &str| state.catalog.text(locale, key).to_owned();
    let chosen = values
        .get("country")
        .and_then(|v| v.first())
        .map_or("", String::as_str);
    let countries = country_choices(&state.countries, locale, chosen);
    vec![
        Field::new("email", "email", t("register.email"), true)
            .autocomplete("email")
            .hint(t("register.email_hint"))
            .with(values, errors),
        Field::new("name", "text", t("register.name"), true)
            .autocomplete("name")
            .with(values, errors),
        Field::new("affiliation", "text", t("register.affiliation"), false)
            .autocomplete("organization")
            .with(values, errors),
        Field::new("country", "country", t("register.country"), false)
            .autocomplete("country")
            .options(countries)
            .with(values, errors),
    ]
}

/// The names the registration page has a place for (problem `errors` for others are listed above the form).
fn placed(fields: &[Field]) -> Vec<String> {
    fields
        .iter()
        .map(|f| f.name.clone())
        .chain(["consent".to_owned()])
        .collect()
}

struct RegisterPage<'a> {
    event: &'a Event,
    form: &'a RegistrationForm,
    posted: &'a Posted,
    problem: Option<&'a cloverleaf_problem::Problem>,
    /// A message for the whole form (already registered, full, closed, unavailable…).
    notice: Option<String>,
    status: StatusCode,
}

fn register_page(
    state: &AppState,
    visitor: &Visitor,
    page: RegisterPage<'_>,
) -> Result<Response, Error> {
    let values = page.posted.values();
    // Fields first without errors, to know which names have a place on the page.
    let empty = FieldErrors::default();
    let mut names = placed(&personal_fields(state, visitor.locale, &values, &empty));
    names.extend(
        question_fields(
            &page.form.questions,
            &values,
            &empty,
            visitor.locale,
            &state.countries,
        )
        .into_iter()
        .map(|f| f.name),
    );
    let errors = FieldErrors::from_problem(page.problem, &names, &state.catalog, visitor.locale);
    let personal = personal_fields(state, visitor.locale, &values, &errors);
    let questions = question_fields(
        &page.form.questions,
        &values,
        &errors,
        visitor.locale,
        &state.countries,
    );
    let consent = Field::new(
        "consent",
        "consent",
        state
            .catalog
            .text(visitor.locale, "register.consent")
            .to_owned(),
        true,
    )
    .with(&values, &errors);
    let event = page.event.localized(visitor.locale);
    state.render_status(
        visitor,
        page.status,
        "register.html",
        context! {
            when => event_when(&event, None, visitor.locale),
            event => event,
            form => page.form,
            personal => personal,
            questions => questions,
            consent => consent,
            consent_checked => page.posted.checked("consent"),
            general_errors => errors.general,
            error_count => errors.by_field.len() + errors.general.len(),
            notice => page.notice,
            timezone => page.posted.get("timezone"),
        },
    )
}

async fn form_of(state: &AppState, event: &Event) -> Result<Option<RegistrationForm>, Error> {
    let (form, reachable) = registration_form(state, event).await?;
    if !reachable {
        return Err(Error::Unavailable {
            service: "registration",
            reason: "the form could not be read".to_owned(),
        });
    }
    Ok(form)
}

/// `GET /events/{key}/register`: the form, built from the event's questions.
pub async fn register_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(key): Path<String>,
) -> Result<Response, Error> {
    let event = public_event(&state, &key).await?;
    let form = form_of(&state, &event).await?.ok_or(Error::NotFound)?;
    let notice = (!form.open || !event.is_published())
        .then(|| closed_reason(&state, &event, &form, visitor.locale));
    register_page(
        &state,
        &visitor,
        RegisterPage {
            event: &event,
            form: &form,
            posted: &Posted::default(),
            problem: None,
            notice,
            status: StatusCode::OK,
        },
    )
}

/// `POST /events/{key}/register`: sends the registration; on success to the confirmation page, else the form again
/// with each error beside its field.
pub async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(key): Path<String>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let event = public_event(&state, &key).await?;
    let form = form_of(&state, &event).await?.ok_or(Error::NotFound)?;
    let body = json!({
        "event_id": event.id,
        "email": posted.get("email"),
        "name": posted.get("name"),
        "affiliation": posted.opt("affiliation"),
        "country": posted.opt("country"),
        "answers": crate::domain::forms::answers(&form.questions, &posted),
        "consent": posted.checked("consent"),
        "locale": visitor.locale.code(),
        "timezone": posted.opt("timezone"),
    });
    let sent = state
        .backends
        .json::<Registration>(
            Call::post(ServiceName::Registration, "/v1/registrations", &body)
                .forwarded_for(visitor.forwarded_for.as_deref()),
        )
        .await;
    let t = |key: &str| state.catalog.text(visitor.locale, key).to_owned();
    let (status, notice, problem) = match &sent {
        Ok(registration) => {
            let token = registration.manage_token.as_deref().unwrap_or_default();
            let location = format!(
                "/manage/{}/confirmation?token={}",
                registration.id,
                encode(token)
            );
            return Ok(Redirect::to(&location).into_response());
        }
        Err(Error::Unavailable { .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(t("register.unavailable")),
            None,
        ),
        Err(error @ Error::Backend { status, .. }) => {
            let problem = error.problem();
            let slug = problem
                .map(|p| p.type_uri.rsplit('/').next().unwrap_or_default().to_owned())
                .unwrap_or_default();
            let notice = match (*status, slug.as_str()) {
                (422, _) => None,
                (409, "already-registered") => Some(t("register.already_registered")),
                (409, "full") => Some(t("register.full")),
                (409, "closed" | "not-open-yet") => {
                    Some(closed_reason(&state, &event, &form, visitor.locale))
                }
                (429, _) => Some(t("register.too_many")),
                (404, _) => Some(t("register.closed")),
                _ => problem.and_then(|p| p.detail.clone()),
            };
            (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
                notice,
                problem,
            )
        }
        Err(_) => return sent.map(|_| StatusCode::OK.into_response()),
    };
    register_page(
        &state,
        &visitor,
        RegisterPage {
            event: &event,
            form: &form,
            posted: &posted,
            problem,
            notice,
            status,
        },
    )
}
