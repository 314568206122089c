//! The HTTP layer of the registration service: one module per resource, each with its handlers, request and response
//! types and OpenAPI description, and a `routes()` that this module merges. Where is a registration created?
//! [`registrations::register`].

use std::sync::Arc;

use axum::extract::FromRef;
use cloverleaf_auth::{TokenIssuer, Verifier};
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::auth::SigningKeys;
use cloverleaf_service_kit::docs::BearerAuth;
use cloverleaf_service_kit::forwarded::TrustedProxies;
use cloverleaf_service_kit::outbox::OutboxRelay;
use sea_orm::DatabaseConnection;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub mod access;
pub mod accounts;
pub mod audit;
pub mod check_ins;
pub mod error;
pub mod event_access;
pub mod forms;
pub mod inbox;
pub mod jwks;
pub mod limits;
pub mod oidc;
pub mod registrations;
pub mod teams;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Arc<Verifier>,
    /// Checks the ID tokens of the institutions people log in with (`POST /v1/auth/oidc`), by issuer.
    pub id_tokens: Arc<Vec<(String, Verifier)>>,
    pub signing_keys: Arc<SigningKeys>,
    /// Signs people's tokens: organisers' access tokens (participants' manage JWTs are no longer issued).
    pub issuer: Arc<TokenIssuer>,
    /// Makes and checks participants' short manage tokens.
    pub manage_keys: Arc<crate::domain::manage_token::ManageKeys>,
    /// Makes and checks check-in codes (the QR code at the door), under a key of their own.
    pub check_in_keys: Arc<crate::domain::manage_token::CheckInKeys>,
    pub settings: Arc<Settings>,
    /// Delivers the domain events written with each change; woken after each commit.
    pub outbox: OutboxRelay,
    /// Asks scheduling whether an event exists and is published (with a timeout and a short cache).
    pub events: crate::scheduling::EventDirectory,
    /// Where new registrations are written, several per transaction.
    pub desk: crate::store::desk::RegistrationDesk,
    /// The rate limits on registering and logging in (429 beyond them).
    pub limits: Arc<limits::Limits>,
    /// Whose `X-Forwarded-For` names the client the limits count (`forwarded::ClientAddress`).
    pub trusted_proxies: TrustedProxies,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cloverleaf registration",
        description = "Owns accounts, teams and their members, the audit trail, signing keys, registration forms, registrations, waiting lists and check-ins. Errors are RFC 9457 problem+json."
    ),
    modifiers(&BearerAuth),
    components(schemas(cloverleaf_service_kit::Problem, cloverleaf_service_kit::FieldError))
)]
struct ApiDoc;

pub fn router(state: AppState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(utoipa_axum::routes!(jwks::jwks))
        .merge(accounts::routes())
        .merge(oidc::routes())
        .merge(teams::routes())
        .merge(audit::routes())
        .merge(forms::routes())
        .merge(registrations::routes())
        .merge(check_ins::routes())
        .merge(inbox::routes())
        .with_state(state)
}
