//! `POST /v1/auth/oidc`: a person logged in at their institution (an external OpenID Connect issuer with a
//! `client_id`, `[[auth.external_issuers]]`) trades the ID token the portal received for a Cloverleaf access token.
//!
//! The ID token is checked against that issuer's JWKS only (RS256 or EdDSA as its key says, `iss`, `aud` = the
//! client id, `exp`); its claims are mapped to a role and teams exactly as the issuer's bearer tokens are
//! (`RoleMapping::External`). The `nonce` belongs to the browser's login and is checked by the portal, which made it.
//! The answer is the one of `/v1/auth/token`, so everything after the login is the same for both kinds of login.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine;
use cloverleaf_auth::{AuthError, TokenRequest};
use cloverleaf_service_kit::extract::Json;
use cloverleaf_service_kit::forwarded::ClientAddress;
use cloverleaf_service_kit::{FieldError, Problem};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::accounts::TokenView;
use crate::Error;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(exchange_id_token))
}

/// An ID token from an institution's OpenID provider, as the portal received it at the end of the login.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct IdTokenInput {
    /// The issuer's identifier, exactly as configured (`auth.external_issuers[].issuer`) and as the token's `iss`.
    #[schema(
        required = true,
        example = "https://login.charite.example/realms/staff"
    )]
    pub issuer: Option<String>,
    /// The ID token (a JWT) the issuer's token endpoint returned.
    #[schema(required = true)]
    pub id_token: Option<String>,
}

/// The person has a valid login at the institution, but none of their claim values is mapped to a Cloverleaf role
/// or team.
fn no_role(detail: impl Into<String>) -> Error {
    Problem::new(StatusCode::FORBIDDEN, "no_role", "No Cloverleaf role")
        .with_detail(detail)
        .into()
}

/// Who the token names, for logs and the audit trail: the institution's email address when it gives one (and does
/// not say it is unverified), else its subject identifier. Rights never come from this name, only from the claims.
fn subject_of(id_token: &str, sub: &str) -> String {
    let claims: Option<Value> = id_token.split('.').nth(1).and_then(|payload| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    });
    claims
        .filter(|c| c.get("email_verified").and_then(Value::as_bool) != Some(false))
        .and_then(|c| {
            c.get("email")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
        })
        .filter(|email| !email.is_empty() && email.len() <= 254)
        .unwrap_or_else(|| sub.to_owned())
}

/// Log in with an institution's account: its ID token in, a Cloverleaf access token out.
///
/// Counted against the same per-client-address login limit as `/v1/auth/token`.
#[utoipa::path(post, path = "/v1/auth/oidc", tag = "auth", request_body = IdTokenInput,
    responses(
        (status = 200, body = TokenView),
        (status = 401, description = "the ID token is not valid (signature, issuer, audience, expiry)", body = Problem),
        (status = 403, description = "a valid login whose claims map to no Cloverleaf role or team (type ending in `no_role`)", body = Problem),
        (status = 422, description = "`issuer` is not an issuer logins are offered for, or a field is missing", body = Problem),
        (status = 429, description = "too many login attempts from this client address; see Retry-After", body = Problem),
        (status = 503, description = "the issuer's keys could not be fetched", body = Problem),
    ))]
pub async fn exchange_id_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(input): Json<IdTokenInput>,
) -> Result<impl IntoResponse, Error> {
    state.limits.login_from(client)?;
    let mut errors = Vec::new();
    let issuer = input.issuer.as_deref().map(str::trim).unwrap_or_default();
    let id_token = input.id_token.as_deref().map(str::trim).unwrap_or_default();
    let verifier = state
        .id_tokens
        .iter()
        .find(|(name, _)| name == issuer)
        .map(|(_, verifier)| verifier);
    if issuer.is_empty() {
        errors.push(FieldError::new(
            "issuer",
            "required",
            "the issuer is missing",
        ));
    } else if verifier.is_none() {
        errors.push(FieldError::new(
            "issuer",
            "unknown_issuer",
            "no login is offered with this issuer",
        ));
    }
    if id_token.is_empty() {
        errors.push(FieldError::new(
            "id_token",
            "required",
            "the ID token is missing",
        ));
    } else if id_token.len() > 16 * 1024 {
        errors.push(FieldError::new(
            "id_token",
            "too_long",
            "the ID token is longer than 16 KiB",
        ));
    }
    let Some(verifier) = verifier.filter(|_| errors.is_empty()) else {
        return Err(Problem::invalid(errors).into());
    };
    let claims = verifier
        .verify(id_token)
        .await
        .map_err(|error| match error {
            AuthError::Forbidden(reason) => no_role(reason),
            AuthError::KeysUnavailable(ref reason) => {
                tracing::warn!(issuer, %reason, "the issuer's keys could not be fetched");
                Error::from(error.to_problem())
            }
            other => {
                tracing::info!(issuer, error = %other, "ID token refused");
                Error::from(other.to_problem())
            }
        })?;
    let subject = subject_of(id_token, &claims.sub);
    let issued = state
        .issuer
        .issue(TokenRequest {
            subject: subject.clone(),
            role: claims.role,
            scope: None,
            teams: claims.teams.clone(),
            audience: cloverleaf_auth::audience::ALL
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            ttl: Duration::from_secs(state.settings.auth.access_token_ttl_secs),
        })
        .map_err(|error| {
            tracing::error!(%error, "cannot sign an access token");
            Error::from(Problem::internal())
        })?;
    tracing::info!(
        issuer,
        subject,
        role = claims.role.as_str(),
        teams = claims.teams.len(),
        "logged in with an institution's account"
    );
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(TokenView {
            access_token: issued.token,
            token_type: "Bearer".to_owned(),
            expires_in: issued.expires_in.as_secs(),
        }),
    ))
}
