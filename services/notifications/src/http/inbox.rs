//! `/v1/inbox`: where scheduling's and registration's outbox relays deliver domain events (service tokens only).
//! Each event is stored once by its id and answered 202 at once; a repeat is answered the same and changes
//! nothing. The inbox worker then handles it ([`crate::notify`]).

use axum::extract::State;
use axum::http::StatusCode;
use cloverleaf_auth::ServiceCaller;
use cloverleaf_service_kit::extract::Json;
use cloverleaf_service_kit::outbox::InboxEvent;
use cloverleaf_service_kit::{FieldError, Problem};
use serde::Serialize;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::store::inbox;

/// The longest event type accepted.
const TYPE_MAX: usize = 64;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Received {
    pub id: Uuid,
    /// True when this event had been received before (nothing was changed).
    pub duplicate: bool,
}

/// Receive a domain event (idempotent by its id).
#[utoipa::path(post, path = "/v1/inbox", tag = "inbox", request_body = InboxEvent, security(("bearer" = [])),
    responses((status = 202, body = Received), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn receive(
    State(state): State<AppState>,
    _service: ServiceCaller,
    Json(event): Json<InboxEvent>,
) -> Result<(StatusCode, Json<Received>), Error> {
    let mut errors = Vec::new();
    if event.event_type.trim().is_empty() || event.event_type.len() > TYPE_MAX {
        errors.push(FieldError::new(
            "type",
            "invalid",
            format!("must be 1 to {TYPE_MAX} characters"),
        ));
    }
    if event.source.trim().is_empty() || event.source.len() > 32 {
        errors.push(FieldError::new(
            "source",
            "invalid",
            "must be 1 to 32 characters",
        ));
    }
    if !event.payload.is_object() {
        errors.push(FieldError::new("payload", "invalid", "must be an object"));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors).into());
    }
    let fresh = inbox::receive(&state.db, &event).await?;
    if fresh {
        state.inbox.wake();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Received {
            id: event.id,
            duplicate: !fresh,
        }),
    ))
}
