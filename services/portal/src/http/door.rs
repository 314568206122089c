//! The check-in page for phones at the door (`/organiser/events/{id}/check-in`): the camera scans the QR code of a
//! participant's confirmation email or manage page, or staff search the door list by name. The page is a shell; its
//! script (`/static/check-in.js`, with the vendored jsQR decoder where the browser has no `BarcodeDetector`) keeps
//! every scan in a queue on the phone (localStorage) until registration has answered it, so a flaky connection
//! loses nothing, and registration checks each person in once however often a scan is sent.
//!
//! Its two JSON calls relay registration's answers (status and problem+json) unchanged:
//! - `GET /organiser/events/{id}/check-in/list` → `GET /v1/check-ins?event_id=` (the door list);
//! - `POST /organiser/events/{id}/check-in` (form-encoded, with the page's CSRF token) → `POST /v1/check-ins`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloverleaf_service_kit::config::ServiceName;
use minijinja::context;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, Form, Ids, Visitor};
use crate::Error;
use crate::backend::Call;
use crate::domain::view::EventView;

/// The texts the script shows, in the visitor's language (keys of `[door]` in the catalogs).
const SCRIPT_TEXTS: &[&str] = &[
    "checked_in",
    "already",
    "already_queued",
    "not_admitted",
    "queued",
    "waiting",
    "online",
    "offline",
    "login_again",
    "no_camera",
    "unknown_code",
    "other_event",
    "no_match",
    "check_in",
    "needs",
    "failed",
];

/// `GET /organiser/events/{id}/check-in`: the page, after registration agreed that this login checks people in here.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
) -> Result<Response, Error> {
    let token = visitor.organiser()?;
    let event = super::organiser::fetch_event(&state, token, id).await?;
    // Asked now so that a login that may not check in here gets the page saying so, not a page that cannot work.
    state
        .backends
        .done(
            Call::get(
                ServiceName::Registration,
                format!("/v1/check-ins?event_id={id}"),
            )
            .bearer(Some(token)),
        )
        .await
        .map_err(|e| super::public::not_found_as_page(super::organiser::staff(e)))?;
    let texts: serde_json::Map<String, Value> = SCRIPT_TEXTS
        .iter()
        .map(|key| {
            let full = format!("door.{key}");
            (
                (*key).to_owned(),
                Value::String(state.catalog.text(visitor.locale, &full).to_owned()),
            )
        })
        .chain(
            crate::domain::model::RegistrationStatus::ALL
                .iter()
                .map(|status| {
                    let key = format!("reg_status.{}", status.as_str());
                    (
                        format!("status_{}", status.as_str()),
                        Value::String(state.catalog.text(visitor.locale, &key).to_owned()),
                    )
                }),
        )
        .collect();
    let event = event.localized(visitor.locale);
    state.render(
        &visitor,
        "organiser/check_in.html",
        context! {
            event => event,
            texts => Value::Object(texts).to_string(),
        },
    )
}

/// A registration answer as the script reads it: the status and the JSON body (problem+json for a refusal); an
/// expired login is 401, a service that cannot be reached 503 — the script keeps the scan queued for both.
async fn relay(result: Result<reqwest::Response, Error>) -> Response {
    let (status, body) = match result {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::OK);
            match answer.json::<Value>().await {
                Ok(body) => (status, body),
                Err(_) => (StatusCode::SERVICE_UNAVAILABLE, json!({ "status": 503 })),
            }
        }
        Err(Error::Backend {
            status, problem, ..
        }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            problem
                .and_then(|p| serde_json::to_value(*p).ok())
                .unwrap_or_else(|| json!({ "status": status })),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": 503, "title": "Service unavailable" }),
        ),
    };
    let mut response = (status, body.to_string()).into_response();
    let media = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn sign_in_needed() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        json!({ "status": 401, "title": "Log in again" }).to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// `GET /organiser/events/{id}/check-in/list`: the door list (JSON).
pub async fn list(State(state): State<AppState>, visitor: Visitor, Ids(id): Ids<Uuid>) -> Response {
    let Some(token) = visitor.session.as_deref() else {
        return sign_in_needed();
    };
    relay(
        state
            .backends
            .send(
                Call::get(
                    ServiceName::Registration,
                    format!("/v1/check-ins?event_id={id}"),
                )
                .bearer(Some(token)),
            )
            .await,
    )
    .await
}

/// `POST /organiser/events/{id}/check-in`: one scan (`code`) or pick (`registration_id`), with `scanned_at` (JSON
/// answer).
pub async fn check_in(
    State(state): State<AppState>,
    visitor: Visitor,
    Ids(id): Ids<Uuid>,
    Form(posted): Form,
) -> Result<Response, Error> {
    visitor.check_csrf(&posted)?;
    let Some(token) = visitor.session.as_deref() else {
        return Ok(sign_in_needed());
    };
    let mut body = json!({ "event_id": id });
    let text = |name: &str| Some(posted.get(name).trim()).filter(|v| !v.is_empty());
    if let Some(code) = text("code") {
        body["code"] = json!(code);
    }
    if let Some(registration) = text("registration_id") {
        body["registration_id"] = json!(registration);
    }
    if let Some(at) = text("scanned_at") {
        body["scanned_at"] = json!(at);
    }
    Ok(relay(
        state
            .backends
            .send(Call::post(ServiceName::Registration, "/v1/check-ins", &body).bearer(Some(token)))
            .await,
    )
    .await)
}
