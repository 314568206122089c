//! `/v1/inbox`: where scheduling's outbox relay delivers its domain events (service tokens only). Each is handled at
//! once, in one transaction with the record of its id ([`cloverleaf_service_kit::inbox`]): a repeat is answered the
//! same and changes nothing.
//!
//! Handled: `event.cancelled` — every confirmed, waitlisted and pending registration of the event ends as
//! `event_cancelled`, and nobody registers any more. Every other type is recorded and ignored.

use axum::extract::State;
use axum::http::StatusCode;
use cloverleaf_auth::ServiceCaller;
use cloverleaf_contracts::events::types;
use cloverleaf_contracts::{DomainEvent, FromWireError};
use cloverleaf_service_kit::extract::Json;
use cloverleaf_service_kit::inbox::{self, Received};
use cloverleaf_service_kit::outbox::InboxEvent;
use cloverleaf_service_kit::{FieldError, Problem, db};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::Error;
use crate::store::registrations;

pub const EVENT_CANCELLED: &str = types::EVENT_CANCELLED;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// The programme event an `event.*` domain event is about when its payload does not say it readably: the payload's
/// `event_id` if it is a UUID in a string (else 422), or, when it has none, the aggregate.
fn event_id(event: &InboxEvent) -> Result<Uuid, Problem> {
    match event.payload.get("event_id") {
        None | Some(serde_json::Value::Null) => Ok(event.aggregate_id),
        Some(value) => value.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
            Problem::invalid(vec![FieldError::new(
                "payload.event_id",
                "invalid",
                "must be a UUID",
            )])
        }),
    }
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
    inbox::check(&event)?;
    let cancelled = match DomainEvent::from_wire(&event.event_type, None, event.payload.clone()) {
        Ok(DomainEvent::EventCancelled(cancelled)) => Some(cancelled.event_id),
        // An `event.cancelled` without a readable `event_id` is about its aggregate, or refused (422).
        Err(FromWireError::Payload(_)) if event.event_type == EVENT_CANCELLED => {
            Some(event_id(&event)?)
        }
        _ => None,
    };
    let txn = db::begin_write(&state.db).await?;
    let fresh = inbox::record(&txn, &event).await?;
    if fresh && let Some(event_id) = cancelled {
        let ended = registrations::end_for_cancelled_event(&txn, event_id).await?;
        tracing::info!(%event_id, ended, "event cancelled: its registrations ended");
    }
    txn.commit().await?;
    if let Some(event_id) = cancelled {
        // This instance stops answering "published" from its cache at once (the form's mark refuses the rest).
        state.events.forget(event_id).await;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Received {
            id: event.id,
            duplicate: !fresh,
        }),
    ))
}
