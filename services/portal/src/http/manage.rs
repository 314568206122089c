//! The participant's pages, opened by the manage token in the link (the confirmation page after registering, and
//! `/manage/{id}?token=…` from every email): view the registration, change the name and answers, cancel, and
//! download everything stored. The token goes to registration as the bearer; the portal keeps nothing.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cloverleaf_service_kit::config::ServiceName;
use minijinja::context;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, Form, Ids, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::calendar::{self, Entry, encode};
use crate::domain::forms::{Field, FieldErrors, Posted, answer_values, question_fields};
use crate::domain::model::{Event, Form as RegistrationForm, Registration, RegistrationStatus};
use crate::domain::view::EventView;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
    /// What was just done (`updated`, `cancelled`), for the notice at the top.
    pub done: Option<String>,
}

/// A refused manage token is a link that does not work (any more): the same page for each reason.
fn link_refused(error: Error) -> Error {
    if error.is_status(401) || error.is_status(403) || error.is_status(404) {
        Error::Forbidden
    } else {
        error
    }
}

fn token_of(token: Option<&str>) -> Result<&str, Error> {
    token
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() < 4096)
        .ok_or(Error::Forbidden)
}

/// The registration of a short manage link (`/manage/{token}`): registration finds it by the token.
async fn registration_of_token(state: &AppState, token: &str) -> Result<Registration, Error> {
    state
        .backends
        .json(Call::get(ServiceName::Registration, "/v1/registrations/mine").bearer(Some(token)))
        .await
        .map_err(link_refused)
}

/// The manage page's own address for this token: the short `/manage/{token}`, or for a link sent before short
/// tokens (a signed token, with dots) `/manage/{id}?token=…`.
pub fn manage_link(id: Uuid, token: &str) -> String {
    if token.contains('.') {
        format!("/manage/{id}?token={}", encode(token))
    } else {
        format!("/manage/{}", encode(token))
    }
}

/// Whether the registration ended with its event: its status says so, or the event is cancelled (registration may
/// not have heard yet).
fn event_cancelled(registration: &Registration, event: &Event) -> bool {
    registration.status == RegistrationStatus::EventCancelled.as_str() || event.is_cancelled()
}

async fn registration(state: &AppState, id: Uuid, token: &str) -> Result<Registration, Error> {
    state
        .backends
        .json(
            Call::get(ServiceName::Registration, format!("/v1/registrations/{id}"))
                .bearer(Some(token)),
        )
        .await
        .map_err(link_refused)
}

async fn event_of(state: &AppState, registration: &Registration) -> Result<Event, Error> {
    state
        .backends
        .json(Call::get(
            ServiceName::Scheduling,
            format!("/v1/events/{}", registration.event_id),
        ))
        .await
        .map_err(super::public::not_found_as_page)
}

fn when(event: &Event, visitor: &Visitor) -> String {
    super::public::event_when(event, None, visitor.locale)
}

/// The online meeting's link, for someone who has a place at an event that goes ahead.
fn join_url(registration: &Registration, event: &Event) -> Option<String> {
    (registration.status == RegistrationStatus::Confirmed.as_str()
        && !event_cancelled(registration, event))
    .then(|| event.online_url.clone())
    .flatten()
    .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// `GET /manage/{id}/confirmation?token=…`: what became of the registration, the calendar file and add-to-calendar
/// links, and the link to manage it.
pub async fn confirmation(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, Error> {
    let token = token_of(query.token.as_deref())?;
    let registration = registration(&state, id, token).await?;
    let event = event_of(&state, &registration).await?;
    let ended = event_cancelled(&registration, &event);
    let event = event.localized(visitor.locale);
    let page_url = format!(
        "{}/events/{}",
        state.public_url.trim_end_matches('/'),
        event.slug
    );
    let location = event.location().unwrap_or_default();
    let entry = Entry {
        title: &event.title,
        starts_at: event.starts_at.with_timezone(&Utc),
        ends_at: event.ends_at.with_timezone(&Utc),
        details: &page_url,
        location: &location,
    };
    state.render(
        &visitor,
        "confirmation.html",
        context! {
            status => if ended { RegistrationStatus::EventCancelled.as_str() } else { registration.status.as_str() },
            join_url => join_url(&registration, &event),
            registration => registration,
            when => when(&event, &visitor),
            zone => super::public::event_zones(&event),
            event => event,
            ics_url => format!("/events/{}/calendar.ics", event.slug),
            google_url => calendar::google(&entry),
            outlook_url => calendar::outlook(&entry),
            manage_url => manage_link(id, token),
        },
    )
}

struct ManagePage<'a> {
    registration: &'a Registration,
    event: &'a Event,
    form: Option<&'a RegistrationForm>,
    token: &'a str,
    posted: Option<&'a Posted>,
    problem: Option<&'a cloverleaf_problem::Problem>,
    done: Option<String>,
    status: StatusCode,
}

fn manage_page(
    state: &AppState,
    visitor: &Visitor,
    page: ManagePage<'_>,
) -> Result<Response, Error> {
    let values = match page.posted {
        Some(posted) => posted.values(),
        None => {
            let mut values = answer_values(&page.registration.answers);
            values.insert(
                "name".to_owned(),
                page.registration.name.clone().into_iter().collect(),
            );
            values
        }
    };
    let questions = page
        .form
        .map(|f| f.questions.as_slice())
        .unwrap_or_default();
    let mut names: Vec<String> = vec!["name".to_owned()];
    names.extend(questions.iter().map(|q| format!("answers.{}", q.id)));
    let errors = FieldErrors::from_problem(page.problem, &names, &state.catalog, visitor.locale);
    let name = Field::new(
        "name",
        "text",
        state
            .catalog
            .text(visitor.locale, "register.name")
            .to_owned(),
        true,
    )
    .autocomplete("name")
    .with(&values, &errors);
    let ended = event_cancelled(page.registration, page.event);
    let active = !ended
        && [
            RegistrationStatus::Confirmed,
            RegistrationStatus::Waitlisted,
            RegistrationStatus::PendingApproval,
        ]
        .iter()
        .any(|holding| holding.as_str() == page.registration.status);
    let token = encode(page.token);
    let check_in_qr = check_in_qr(state, visitor, page.registration, page.event, ended)?;
    let event = page.event.localized(visitor.locale);
    state.render_status(
        visitor,
        page.status,
        "manage.html",
        context! {
            registration => page.registration,
            status => if ended { RegistrationStatus::EventCancelled.as_str() } else { page.registration.status.as_str() },
            event_cancelled => ended,
            join_url => join_url(page.registration, page.event),
            when => when(&event, visitor),
            zone => super::public::event_zones(&event),
            event => event,
            name_field => name,
            questions => question_fields(questions, &values, &errors, visitor.locale, &state.countries),
            error_count => errors.by_field.len() + errors.general.len(),
            general_errors => errors.general,
            active => active,
            token => page.token,
            done => page.done,
            data_url => format!("/manage/{}/data?token={token}", page.registration.id),
            manage_url => manage_link(page.registration.id, page.token),
            ics_url => format!("/events/{}/calendar.ics", page.event.slug),
            check_in_qr => check_in_qr,
        },
    )
}

/// The QR code of the check-in code, drawn inline (no image to fetch): for a confirmed registration of an event people
/// come to in person (a webinar has no door).
fn check_in_qr(
    state: &AppState,
    visitor: &Visitor,
    registration: &Registration,
    event: &Event,
    ended: bool,
) -> Result<Option<String>, Error> {
    let shown = !ended
        && event.kind != "webinar"
        && registration.status == RegistrationStatus::Confirmed.as_str();
    let Some(code) = registration.check_in_code.as_deref().filter(|_| shown) else {
        return Ok(None);
    };
    let name = registration.name.clone().unwrap_or_default();
    let label = state
        .catalog
        .text(visitor.locale, "manage.check_in_label")
        .replace("{name}", &name);
    cloverleaf_qr::svg(code, &label)
        .map(Some)
        .map_err(|e| Error::Template(format!("check-in QR code: {e}")))
}

async fn form_of(state: &AppState, event_id: Uuid) -> Result<Option<RegistrationForm>, Error> {
    match state
        .backends
        .json(Call::get(
            ServiceName::Registration,
            format!("/v1/forms/{event_id}"),
        ))
        .await
    {
        Ok(form) => Ok(Some(form)),
        Err(error) if error.is_status(404) => Ok(None),
        Err(error) => Err(error),
    }
}

/// `GET /manage/{token}` (the short link in every email) or `GET /manage/{id}?token=…` (a link sent before short
/// tokens): the registration, its answers to change, cancelling, and the data download. A key that is a registration
/// id needs its token in the query; any other key is a short manage token itself.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(key): Ids<String>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, Error> {
    let Ok(id) = key.parse::<Uuid>() else {
        return short_manage_page(&state, &visitor, &key, query.done).await;
    };
    let token = token_of(query.token.as_deref())?;
    let registration = registration(&state, id, token).await?;
    let event = event_of(&state, &registration).await?;
    let form = form_of(&state, registration.event_id).await?;
    let done = known_done(query.done);
    manage_page(
        &state,
        &visitor,
        ManagePage {
            registration: &registration,
            event: &event,
            form: form.as_ref(),
            token,
            posted: None,
            problem: None,
            done,
            status: StatusCode::OK,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// `GET /m/{token}`: the same manage page under a shorter path.
pub async fn short_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(token): Ids<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, Error> {
    short_manage_page(&state, &visitor, &token, query.done).await
}

async fn short_manage_page(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    done: Option<String>,
) -> Result<Response, Error> {
    let token = token_of(Some(token))?;
    let registration = registration_of_token(state, token).await?;
    let event = event_of(state, &registration).await?;
    let form = form_of(state, registration.event_id).await?;
    manage_page(
        state,
        visitor,
        ManagePage {
            registration: &registration,
            event: &event,
            form: form.as_ref(),
            token,
            posted: None,
            problem: None,
            done: known_done(done),
            status: StatusCode::OK,
        },
    )
}

fn known_done(done: Option<String>) -> Option<String> {
    done.filter(|d| matches!(d.as_str(), "updated" | "cancelled"))
}

fn back_to(id: Uuid, token: &str, done: &str) -> Response {
    let link = manage_link(id, token);
    let separator = if link.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{link}{separator}done={done}")).into_response()
}

/// `POST /manage/{id}/answers`: changes the name and answers; errors beside their fields.
pub async fn update(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = token_of(Some(posted.get("token")))?.to_owned();
    let current = registration(&state, id, &token).await?;
    let form = form_of(&state, current.event_id).await?;
    let questions = form
        .as_ref()
        .map(|f| f.questions.as_slice())
        .unwrap_or_default();
    let body = json!({
        "name": posted.get("name"),
        "answers": crate::domain::forms::answers(questions, &posted),
    });
    let sent = state
        .backends
        .json::<Value>(
            Call::new(
                Method::PATCH,
                ServiceName::Registration,
                format!("/v1/registrations/{id}"),
            )
            .bearer(Some(&token))
            .body(&body),
        )
        .await;
    match sent {
        Ok(_) => Ok(back_to(id, &token, "updated")),
        Err(error) if error.is_status(422) => {
            let event = event_of(&state, &current).await?;
            manage_page(
                &state,
                &visitor,
                ManagePage {
                    registration: &current,
                    event: &event,
                    form: form.as_ref(),
                    token: &token,
                    posted: Some(&posted),
                    problem: error.problem(),
                    done: None,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                },
            )
        }
        Err(error) => Err(link_refused(error)),
    }
}

/// `POST /manage/{id}/cancel`: cancels; the seat goes to the first on the waiting list.
pub async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = token_of(Some(posted.get("token")))?.to_owned();
    let body = json!({});
    let sent = state
        .backends
        .done(
            Call::post(
                ServiceName::Registration,
                format!("/v1/registrations/{id}/cancel"),
                &body,
            )
            .bearer(Some(&token)),
        )
        .await;
    match sent {
        // Cancelled now, or before (409): either way it is cancelled.
        Ok(()) => Ok(back_to(id, &token, "cancelled")),
        Err(error) if error.is_status(409) => Ok(back_to(id, &token, "cancelled")),
        Err(error) => Err(link_refused(error)),
    }
}

/// `POST /manage/{id}/erase`: first a page that asks to confirm; with `confirm=yes` everything stored about the
/// registration is erased (registration tells the other services) and the visitor sees that it was.
pub async fn erase(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let token = token_of(Some(posted.get("token")))?.to_owned();
    if posted.get("confirm") != "yes" {
        let registration = registration(&state, id, &token).await?;
        let event = event_of(&state, &registration)
            .await?
            .localized(visitor.locale);
        return state.render(
            &visitor,
            "erase.html",
            context! {
                registration => registration,
                event => event,
                token => token,
                manage_url => manage_link(id, &token),
            },
        );
    }
    state
        .backends
        .done(
            Call::new(
                Method::DELETE,
                ServiceName::Registration,
                format!("/v1/registrations/{id}"),
            )
            .bearer(Some(&token)),
        )
        .await
        .map_err(link_refused)?;
    Ok(Redirect::to(&format!("/manage/{id}/erased")).into_response())
}

/// `GET /manage/{id}/erased`: says the data is gone (the link no longer opens anything).
pub async fn erased(State(state): State<AppState>, visitor: Visitor) -> Result<Response, Error> {
    state.render(&visitor, "erased.html", context! {})
}

/// `GET /manage/{id}/data?token=…`: everything stored about the registration, as a JSON file.
pub async fn data(
    State(state): State<AppState>,
    Ids(id): Ids<Uuid>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, Error> {
    let token = token_of(query.token.as_deref())?;
    let answer = state
        .backends
        .send(
            Call::get(
                ServiceName::Registration,
                format!("/v1/registrations/{id}/data"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(link_refused)?;
    super::attachment(
        answer,
        "registration",
        "application/json",
        &format!("registration-{id}.json"),
        true,
    )
    .await
}
