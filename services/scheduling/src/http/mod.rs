//! The HTTP layer of the scheduling service: one module per resource, each with its handlers, request and response types
//! and OpenAPI description.

use std::sync::Arc;

use axum::extract::FromRef;
use cloverleaf_auth::Verifier;
use sea_orm::DatabaseConnection;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Arc<Verifier>,
}

#[derive(OpenApi)]
#[openapi(info(
    title = "Cloverleaf scheduling",
    description = "Owns events, agenda items, people, venues, tour itineraries, change history and .ics feeds. Errors are RFC 9457 problem+json."
))]
struct ApiDoc;

pub fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).with_state(state)
}
