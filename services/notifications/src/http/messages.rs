//! `/v1/messages`: the delivery log. Organisers see every message — by event, status and recipient — with counts per
//! status, and one message with its rendered text.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use cloverleaf_auth::{Action, Staff};
use cloverleaf_service_kit::extract::{Json, Path, Query};
use cloverleaf_service_kit::pagination::{Page, PageQuery};
use cloverleaf_service_kit::{FieldError, Problem};
use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::domain::mime;
use crate::store::messages::{self, Filter, Status, message};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only this event's messages.
    pub event_id: Option<Uuid>,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: Option<String>,
    /// Only messages to this address (case-insensitive).
    pub to: Option<String>,
    /// How many items at most (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One message of the delivery log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    /// The recipient's address.
    pub to: String,
    pub to_name: String,
    /// The letter: `confirmed`, `waitlisted`, `pending_approval`, `promoted`, `rejected`, `cancelled`, `manage_link`,
    /// `event_updated`, `event_cancelled`, `event_cancelled_waitlist`, `reminder`.
    pub kind: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    /// Tries made so far.
    pub attempts: i32,
    pub subject: String,
    pub event_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the next try is due (queued messages).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last try failed.
    pub last_error: Option<String>,
}

impl From<&message::Model> for MessageView {
    fn from(m: &message::Model) -> Self {
        Self {
            id: m.id,
            to: m.to_email.clone(),
            to_name: m.to_name.clone(),
            kind: m.kind.clone(),
            status: m.status.to_value(),
            attempts: m.attempts,
            subject: m.subject.clone(),
            event_id: m.event_id,
            registration_id: m.registration_id,
            queued_at: m.queued_at,
            sent_at: m.sent_at,
            next_attempt_at: (m.status == Status::Queued).then_some(m.next_attempt_at),
            last_error: m.last_error.clone(),
        }
    }
}

/// A page of the delivery log, with the number of messages per status under the same event and recipient filters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageList {
    pub items: Vec<MessageView>,
    pub next_cursor: Option<String>,
    /// Messages per status (`queued`, `sending`, `sent`, `failed`), whatever `status` filter is given.
    pub counts: BTreeMap<String, i64>,
}

/// One message with its text as the recipient reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub message: MessageView,
    /// The decoded text/plain part.
    pub text: Option<String>,
}

#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(MessageQuery), security(("bearer" = [])),
    responses((status = 200, body = MessageList), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "no such event, or another team's", body = Problem),
        (status = 422, description = "a bad filter, or no `event_id` from someone who is not an admin", body = Problem),
        (status = 503, description = "scheduling cannot say whose event it is", body = Problem)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Query(query): Query<MessageQuery>,
) -> Result<Json<MessageList>, Error> {
    // The whole log spans every team's events: admins only; everyone else reads one event's.
    match query.event_id {
        Some(event_id) => {
            state
                .event_teams
                .check(&claims, event_id, Action::Read)
                .await?
        }
        None if claims.sees_all_teams() => {}
        None => {
            return Err(Problem::invalid(vec![FieldError::new(
                "event_id",
                "required",
                "name the event whose messages to list (only admins read the whole log)",
            )])
            .into());
        }
    }
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            Status::try_from_value(&s.to_owned()).map_err(|_| {
                Problem::invalid(vec![FieldError::new(
                    "status",
                    "invalid_choice",
                    "must be queued, sending, sent or failed",
                )])
            })
        })
        .transpose()?;
    let filter = Filter {
        event_id: query.event_id,
        status,
        to: query.to.filter(|t| !t.trim().is_empty()),
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let rows = messages::list(&state.db, &filter, page.cursor()?, limit).await?;
    let page = Page::from_rows(rows, limit, |m| m.id, |m| MessageView::from(&m));
    let counts = messages::counts(&state.db, &filter).await?;
    Ok(Json(MessageList {
        items: page.items,
        next_cursor: page.next_cursor,
        counts,
    }))
}

#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = MessageDetail), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, description = "no such message, or another team's", body = Problem),
        (status = 503, description = "scheduling cannot say whose event it is", body = Problem)))]
pub async fn get_message(
    State(state): State<AppState>,
    Staff(claims): Staff,
    Path(id): Path<Uuid>,
) -> Result<Json<MessageDetail>, Error> {
    let found = messages::find(&state.db, id).await?;
    match found.event_id {
        Some(event_id) => {
            state
                .event_teams
                .check(&claims, event_id, Action::Read)
                .await?
        }
        // A message of no event (none is written today) is the whole programme's: admins'.
        None if claims.sees_all_teams() => {}
        None => return Err(Problem::not_found("This message").into()),
    }
    Ok(Json(MessageDetail {
        message: MessageView::from(&found),
        text: mime::plain_text(&found.raw),
    }))
}
