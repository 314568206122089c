//! `/v1/reminders`: an event's reminder schedule, for organisers — what is due when, what was sent to how many,
//! and what was dropped and why.

use axum::extract::State;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Action, Staff};
use cloverleaf_service_kit::Problem;
use cloverleaf_service_kit::extract::{Json, Query};
use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::store::reminders::{self, reminder};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderQuery {
    pub event_id: Uuid,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReminderView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub minutes_before: i32,
    pub due_at: DateTime<Utc>,
    /// `scheduled`, `sent` or `dropped`.
    pub status: String,
    /// Why it was dropped.
    pub note: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// How many attendees it went to.
    pub recipients: Option<i32>,
}

impl From<reminder::Model> for ReminderView {
    fn from(r: reminder::Model) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            minutes_before: r.minutes_before,
            due_at: r.due_at,
            status: r.status.to_value(),
            note: r.note,
            sent_at: r.sent_at,
            recipients: r.recipients,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReminderList {
    pub items: Vec<ReminderView>,
}

/// An event's reminders, soonest first.
#[utoipa::path(get, path = "/v1/reminders", tag = "reminders", params(ReminderQuery), security(("bearer" = [])),
    responses((status = 200, body = ReminderList), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "no such event, or another team's", body = Problem),
        (status = 422, body = Problem),
        (status = 503, description = "scheduling cannot say whose event it is", body = Problem)))]
pub async fn list_reminders(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Query(query): Query<ReminderQuery>,
) -> Result<Json<ReminderList>, Error> {
    state
        .event_teams
        .check(&claims, query.event_id, Action::Read)
        .await?;
    let items = reminders::of_event(&state.db, query.event_id)
        .await?
        .into_iter()
        .map(ReminderView::from)
        .collect();
    Ok(Json(ReminderList { items }))
}
