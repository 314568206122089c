//! `/v1/forms/{event_id}`: an event's registration form. Organisers set it; anyone reads it, with the seats left and
//! whether it is open now.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Action, Organiser};
use cloverleaf_service_kit::Problem;
use cloverleaf_service_kit::extract::{Json, Path};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::domain::forms::{Approval, FormInput, Question};
use crate::domain::refusal::Refusal;
use crate::store::registrations::{self, form, form_settings};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_form, get_form))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormView {
    pub event_id: Uuid,
    pub capacity: Option<i32>,
    pub waitlist: bool,
    pub approval: Approval,
    pub opens_at: Option<DateTime<Utc>>,
    /// When registration closes: as set, else the event's start.
    pub closes_at: Option<DateTime<Utc>>,
    pub questions: Vec<Question>,
    /// Seats not yet taken; `null` without a limit; 0 once the event is cancelled.
    pub seats_left: Option<i32>,
    pub confirmed: i32,
    /// Whether registering is possible right now.
    pub open: bool,
    /// The event was cancelled: its registrations ended (`event_cancelled`) and nobody registers any more.
    pub event_cancelled: bool,
}

pub(crate) fn view(
    model: &form::Model,
    event_starts_at: Option<DateTime<Utc>>,
) -> Result<FormView, Error> {
    let settings = form_settings(model)?;
    let now = Utc::now();
    let closes_at = settings.closes_at.or(event_starts_at);
    let cancelled = model.event_cancelled_at.is_some();
    let open = !cancelled
        && settings.opens_at.is_none_or(|o| now >= o)
        && closes_at.is_none_or(|c| now < c);
    Ok(FormView {
        event_id: model.event_id,
        capacity: settings.capacity,
        waitlist: settings.waitlist,
        approval: settings.approval,
        opens_at: settings.opens_at,
        closes_at,
        questions: settings.questions,
        seats_left: if cancelled {
            Some(0)
        } else {
            settings
                .capacity
                .map(|c| c.saturating_sub(model.confirmed_count).max(0))
        },
        confirmed: model.confirmed_count,
        open,
        event_cancelled: cancelled,
    })
}

/// Create or replace the form of an event (which must exist in scheduling). Raising the capacity promotes as many
/// of the waiting list as now fit; lowering it removes nobody.
#[utoipa::path(put, path = "/v1/forms/{event_id}", tag = "forms", request_body = FormInput,
    params(("event_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = FormView), (status = 403, description = "a role that may not (viewers change nothing, check-in staff only check in)", body = Problem), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 503, body = Problem)))]
pub async fn put_form(
    State(state): State<AppState>,
    Organiser(claims): Organiser,
    Path(event_id): Path<Uuid>,
    Json(input): Json<FormInput>,
) -> Result<Json<FormView>, Error> {
    let settings = input.validate()?;
    let event = state
        .events
        .fetch(event_id)
        .await?
        .ok_or_else(|| Problem::not_found("This event"))?;
    // Fresh from scheduling (above), so a form is never written for an event that just changed hands.
    super::event_access::permit(&claims, &event, Action::Change)?;
    if event.status == "cancelled" {
        return Err(Refusal::EventCancelled.into());
    }
    let (saved, _) =
        registrations::put_form(&state.db, event_id, settings, state.outbox.subscribers()).await?;
    state.outbox.wake();
    Ok(Json(view(&saved, Some(event.starts_at_utc()))?))
}

/// The form of an event, with its seats left and whether it is open.
#[utoipa::path(get, path = "/v1/forms/{event_id}", tag = "forms", params(("event_id" = Uuid, Path)),
    responses((status = 200, body = FormView), (status = 404, body = Problem)))]
pub async fn get_form(
    State(state): State<AppState>,
    Path(event_id): Path<Uuid>,
) -> Result<(StatusCode, Json<FormView>), Error> {
    let model = registrations::find_form(&state.db, event_id)
        .await?
        .ok_or_else(|| Problem::not_found("The registration form of this event"))?;
    // The event's start is the default closing time; if scheduling cannot be asked, the form still shows.
    let starts_at = match state.events.event(event_id).await {
        Ok(Some(event)) => Some(event.starts_at_utc()),
        _ => None,
    };
    Ok((StatusCode::OK, Json(view(&model, starts_at)?)))
}
