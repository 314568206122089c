//! Who acts on a registration: an organiser, or its participant with a manage token — the short one
//! ([`crate::domain::manage_token`]) or a manage JWT sent before short links existed. Either kind comes as
//! `Authorization: Bearer <token>` or as `?token=<token>`.
//!
//! No token, or a token that is not valid → 401; a valid token for another registration → 403 (as the JWT
//! extractors of `cloverleaf_auth` answer). An erased registration's token opens nothing: its handler finds no
//! registration (404).

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Uri};
use cloverleaf_auth::{Action, AuthError, Claims, RegistrationAccess, Viewer};
use uuid::Uuid;

use super::AppState;
use crate::domain::manage_token;

/// The token of a request: the bearer token, else `?token=`.
fn token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
    }
    query_token(&parts.uri)
}

fn query_token(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The registration id in the path (`{id}`).
async fn path_id(parts: &mut Parts, state: &AppState) -> Result<Uuid, AuthError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AuthError::Forbidden("this route names no registration".into()))?;
    params
        .iter()
        .find(|(name, _)| *name == "id")
        .and_then(|(_, value)| value.parse().ok())
        .ok_or_else(|| AuthError::Forbidden("the token does not open this registration".into()))
}

/// A JWT sent as `?token=` is checked as if it came in the header.
fn as_bearer(parts: &mut Parts, token: &str) -> Result<(), AuthError> {
    if !parts.headers.contains_key(AUTHORIZATION) {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| AuthError::InvalidToken("malformed token".into()))?;
        parts.headers.insert(AUTHORIZATION, value);
    }
    Ok(())
}

fn invalid_short() -> AuthError {
    AuthError::InvalidToken("this manage link is not valid".into())
}

/// Staff (an organiser, viewer or check-in account, an admin: their claims, checked per event with
/// [`Access::check_event`]) or the participant of the registration in the path.
#[derive(Debug, Clone)]
pub struct Access {
    registration_id: Uuid,
    /// Staff's claims; `None` for the participant.
    staff: Option<Claims>,
}

impl Access {
    pub fn registration_id(&self) -> Uuid {
        self.registration_id
    }

    pub fn is_organiser(&self) -> bool {
        self.staff.is_some()
    }

    pub fn staff(&self) -> Option<&Claims> {
        self.staff.as_ref()
    }

    /// For staff, the access rule on the registration's event (its participant may do everything this route
    /// offers to their own registration).
    pub async fn check_event(
        &self,
        state: &AppState,
        event_id: Uuid,
        action: Action,
    ) -> Result<(), crate::Error> {
        match &self.staff {
            None => Ok(()),
            Some(claims) => super::event_access::check(state, claims, event_id, action).await,
        }
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token(parts).ok_or(AuthError::MissingToken)?;
        if manage_token::is_short(&token) {
            let opened = state.manage_keys.open(&token).ok_or_else(invalid_short)?;
            if opened != path_id(parts, state).await? {
                return Err(AuthError::Forbidden(
                    "the token does not open this registration".into(),
                ));
            }
            return Ok(Self {
                registration_id: opened,
                staff: None,
            });
        }
        as_bearer(parts, &token)?;
        Ok(
            match RegistrationAccess::from_request_parts(parts, state).await? {
                RegistrationAccess::Organiser {
                    registration_id,
                    claims,
                } => Self {
                    registration_id,
                    staff: Some(claims),
                },
                RegistrationAccess::Participant {
                    registration_id, ..
                } => Self {
                    registration_id,
                    staff: None,
                },
            },
        )
    }
}

/// A participant's manage token, whichever registration it opens (`GET /v1/registrations/mine`).
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    pub registration_id: Uuid,
}

impl FromRequestParts<AppState> for Holder {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token(parts).ok_or(AuthError::MissingToken)?;
        let registration_id = if manage_token::is_short(&token) {
            state.manage_keys.open(&token).ok_or_else(invalid_short)?
        } else {
            state
                .verifier
                .verify(&token)
                .await?
                .managed_registration()
                .ok_or_else(|| AuthError::Forbidden("a manage token is needed".into()))?
        };
        Ok(Self { registration_id })
    }
}

/// A reader of staff lists: `cloverleaf_auth::Viewer`, except that a participant's short manage token is refused as
/// its JWT is (403, not 401: it is a good token, only not allowed here).
#[derive(Debug, Clone)]
pub struct ListViewer(pub Viewer);

impl FromRequestParts<AppState> for ListViewer {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(AUTHORIZATION)
            && let Some(token) = token(parts)
            && manage_token::is_short(&token)
        {
            return Err(match state.manage_keys.open(&token) {
                Some(_) => AuthError::Forbidden("organisers only".into()),
                None => invalid_short(),
            });
        }
        Ok(Self(Viewer::from_request_parts(parts, state).await?))
    }
}
