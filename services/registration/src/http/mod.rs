//! The HTTP layer of the registration service: one module per resource, each with its handlers, request and response types
//! and OpenAPI description.

use std::sync::Arc;

use axum::extract::FromRef;
use cloverleaf_auth::Verifier;
use cloverleaf_service_kit::auth::SigningKeys;
use sea_orm::DatabaseConnection;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Arc<Verifier>,
    pub signing_keys: Arc<SigningKeys>,
}

pub mod jwks;

#[derive(OpenApi)]
#[openapi(info(
    title = "Cloverleaf registration",
    description = "Owns accounts, signing keys, registration forms, registrations, waiting lists and check-ins. Errors are RFC 9457 problem+json."
))]
struct ApiDoc;

pub fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(utoipa_axum::routes!(jwks::jwks))
        .with_state(state)
}
