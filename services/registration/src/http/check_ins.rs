//! The door: check-in staff (and the event's organisers) scan a participant's check-in code — the QR code of their
//! confirmation email and manage page, not the manage link — or pick them from the door list, searched by name.
//!
//! - `POST /v1/check-ins` `{event_id, code | registration_id, scanned_at?}`: checks one person in and answers what
//!   the phone shows — name, status, the answers the form shows at the door (access needs) — with the outcome
//!   `checked_in`, `already_checked_in` (and when) or `not_admitted` (waiting list, cancelled…; nothing recorded).
//!   A phone that lost its connection sends its queued scans later with the time of each scan; sending one twice
//!   checks in once (the first time is kept), so a retry after a lost answer is harmless.
//! - `GET /v1/check-ins?event_id=`: the door list (every registration that is not erased, with the same fields), which
//!   the phone keeps to search by name when the code will not scan, and offline.

use axum::extract::State;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Action, Staff};
use cloverleaf_service_kit::FieldError;
use cloverleaf_service_kit::extract::{Json, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::event_access;
use crate::Error;
use crate::domain::forms::Question;
use crate::domain::refusal::InvalidFields;
use crate::domain::registration::Status;
use crate::store::registrations::{self, form_settings, registration};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check_in, door_list))
}

/// One scan or one pick from the door list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInInput {
    /// The event being checked in at: a code of another event's registration is refused.
    pub event_id: Uuid,
    /// The check-in code the QR code carries (44 characters).
    #[serde(default)]
    pub code: Option<String>,
    /// Instead of a code: the registration picked from the door list.
    #[serde(default)]
    pub registration_id: Option<Uuid>,
    /// When the phone scanned it (a scan queued offline is sent later): kept as the arrival time, but never later
    /// than now nor earlier than the registration.
    #[serde(default)]
    pub scanned_at: Option<DateTime<Utc>>,
}

/// What the door sees of a participant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DoorEntry {
    pub registration_id: Uuid,
    pub name: Option<String>,
    pub affiliation: Option<String>,
    /// confirmed, waitlisted, pending_approval, cancelled, rejected or event_cancelled.
    pub status: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The registration's check-in code, so that a phone without a connection still knows whose code it scanned.
    pub code: String,
    /// The answers of the questions the form shows at the door (access needs), with their labels.
    pub needs: Vec<DoorNeed>,
}

/// One answer shown at the door.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DoorNeed {
    pub question: String,
    pub question_zh: Option<String>,
    #[schema(value_type = Object)]
    pub answer: Value,
}

/// `checked_in`, `already_checked_in` or `not_admitted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Checked in by this request.
    CheckedIn,
    /// Checked in before, at `entry.checked_in_at`; nothing changed.
    AlreadyCheckedIn,
    /// Not confirmed (waiting list, awaiting approval, cancelled, rejected, event cancelled): not checked in.
    NotAdmitted,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckInAnswer {
    pub outcome: Outcome,
    pub entry: DoorEntry,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DoorList {
    pub event_id: Uuid,
    pub entries: Vec<DoorEntry>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DoorListQuery {
    pub event_id: Uuid,
}

fn invalid(field: &str, code: &str, message: &str) -> Error {
    InvalidFields {
        errors: vec![FieldError::new(field, code, message)],
    }
    .into()
}

/// The questions the form shows at the door.
async fn door_questions(state: &AppState, event_id: Uuid) -> Result<Vec<Question>, Error> {
    Ok(match registrations::find_form(&state.db, event_id).await? {
        Some(form) => form_settings(&form)?
            .questions
            .into_iter()
            .filter(|q| q.show_at_check_in)
            .collect(),
        None => Vec::new(),
    })
}

fn entry(
    state: &AppState,
    r: &registration::Model,
    questions: &[Question],
) -> Result<DoorEntry, Error> {
    let code = super::registrations::check_in_code(state, r.id)?;
    let answers: Map<String, Value> = r
        .answers
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let needs = questions
        .iter()
        .filter_map(|q| {
            let answer = answers.get(&q.id)?;
            let blank = match answer {
                Value::Null => true,
                Value::String(s) => s.trim().is_empty(),
                Value::Array(a) => a.is_empty(),
                _ => false,
            };
            (!blank).then(|| DoorNeed {
                question: q.label.clone(),
                question_zh: q.label_zh.clone(),
                answer: answer.clone(),
            })
        })
        .collect();
    Ok(DoorEntry {
        registration_id: r.id,
        name: r.name.clone(),
        affiliation: r.affiliation.clone(),
        status: r.status.as_str().to_owned(),
        checked_in_at: r.checked_in_at,
        code,
        needs,
    })
}

/// Check one person in at the door, by their check-in code or picked from the door list.
#[utoipa::path(post, path = "/v1/check-ins", tag = "check-in", request_body = CheckInInput,
    security(("bearer" = [])),
    responses((status = 200, body = CheckInAnswer),
        (status = 401, body = cloverleaf_service_kit::Problem),
        (status = 403, description = "a role that may not check in (a viewer)", body = cloverleaf_service_kit::Problem),
        (status = 404, description = "no such event or registration, or another team's", body = cloverleaf_service_kit::Problem),
        (status = 422, description = "no code or registration, a code that is not one of ours, or another event's", body = cloverleaf_service_kit::Problem),
        (status = 503, description = "scheduling cannot say whose event it is", body = cloverleaf_service_kit::Problem)))]
pub async fn check_in(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Json(input): Json<CheckInInput>,
) -> Result<Json<CheckInAnswer>, Error> {
    event_access::check(&state, &claims, input.event_id, Action::CheckIn).await?;
    let id = match (input.code.as_deref().map(str::trim), input.registration_id) {
        (Some(code), None) => state.check_in_keys.open(code).ok_or_else(|| {
            invalid(
                "code",
                "unknown_code",
                "is not a Cloverleaf check-in code (scan the QR code of the confirmation email)",
            )
        })?,
        (None, Some(id)) => id,
        (Some(_), Some(_)) => {
            return Err(invalid(
                "registration_id",
                "both_given",
                "give either a code or a registration, not both",
            ));
        }
        (None, None) => {
            return Err(invalid(
                "code",
                "required",
                "give the scanned code or the registration picked from the door list",
            ));
        }
    };
    let by_code = input.code.is_some();
    let current = match registrations::find(&state.db, id).await {
        Ok(found) => found,
        // A code outlives nothing: its registration was erased.
        Err(_) if by_code => {
            return Err(invalid(
                "code",
                "no_registration",
                "belongs to no registration any more (it was erased)",
            ));
        }
        Err(error) => return Err(error),
    };
    if current.event_id != input.event_id {
        return Err(if by_code {
            invalid(
                "code",
                "other_event",
                "is the code of a registration for another event",
            )
        } else {
            crate::domain::refusal::Refusal::RegistrationNotFound.into()
        });
    }
    let questions = door_questions(&state, input.event_id).await?;
    if current.status != Status::Confirmed {
        return Ok(Json(CheckInAnswer {
            outcome: Outcome::NotAdmitted,
            entry: entry(&state, &current, &questions)?,
        }));
    }
    let now = Utc::now();
    let at = input
        .scanned_at
        .unwrap_or(now)
        .min(now)
        .max(current.created_at);
    let (checked, first) = registrations::check_in(&state.db, id, &claims.sub, at).await?;
    Ok(Json(CheckInAnswer {
        outcome: if first {
            Outcome::CheckedIn
        } else {
            Outcome::AlreadyCheckedIn
        },
        entry: entry(&state, &checked, &questions)?,
    }))
}

/// The door list: everyone registered for the event (not erased), for searching by name at the door.
#[utoipa::path(get, path = "/v1/check-ins", tag = "check-in", params(DoorListQuery),
    security(("bearer" = [])),
    responses((status = 200, body = DoorList),
        (status = 401, body = cloverleaf_service_kit::Problem),
        (status = 403, description = "a role that may not check in (a viewer)", body = cloverleaf_service_kit::Problem),
        (status = 404, description = "no such event, or another team's", body = cloverleaf_service_kit::Problem),
        (status = 503, description = "scheduling cannot say whose event it is", body = cloverleaf_service_kit::Problem)))]
pub async fn door_list(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Query(query): Query<DoorListQuery>,
) -> Result<Json<DoorList>, Error> {
    event_access::check(&state, &claims, query.event_id, Action::CheckIn).await?;
    let questions = door_questions(&state, query.event_id).await?;
    let rows = registrations::door_list(&state.db, query.event_id).await?;
    Ok(Json(DoorList {
        event_id: query.event_id,
        entries: rows
            .iter()
            .map(|r| entry(&state, r, &questions))
            .collect::<Result<_, _>>()?,
    }))
}
