//! The HTTP layer of the notifications service: one module per resource, each with its handlers, request and response types
//! and OpenAPI description.

pub mod event_access;
pub mod inbox;
pub mod messages;
pub mod reminders;

use std::sync::Arc;

use axum::extract::FromRef;
use cloverleaf_auth::Verifier;
use cloverleaf_service_kit::docs::BearerAuth;
use sea_orm::DatabaseConnection;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use cloverleaf_service_kit::worker::WorkerHandle;

use crate::jobs::delivery::DeliveryHandle;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Arc<Verifier>,
    /// The delivery worker; woken after each commit that queued messages so they go out at once.
    #[from_ref(skip)]
    pub delivery: DeliveryHandle,
    /// The inbox worker; woken when an event arrives.
    #[from_ref(skip)]
    pub inbox: WorkerHandle,
    /// Who each event belongs to, as scheduling says (for the access rule on messages and reminders).
    #[from_ref(skip)]
    pub event_teams: event_access::EventTeamsLookup,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cloverleaf notifications",
        description = "Owns the inbox of domain events, the email outbox and its delivery worker, calendar invites and reminders. Errors are RFC 9457 problem+json."
    ),
    modifiers(&BearerAuth),
    components(schemas(cloverleaf_service_kit::Problem, cloverleaf_service_kit::FieldError))
)]
struct ApiDoc;

pub fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(inbox::receive))
        .routes(routes!(messages::list_messages))
        .routes(routes!(reminders::list_reminders))
        .routes(routes!(messages::get_message))
        .with_state(state)
}
