//! axum extractors that make each handler's access rule visible in its signature:
//!
//! | extractor | admits |
//! |---|---|
//! | [`Authenticated`] | any valid token |
//! | [`Organiser`] | admins and those who may organise: organisers of a team, or in no team (not viewers or check-in staff) |
//! | [`Staff`] | admins and every organiser account, whatever its team role (each handler then applies [`crate::access`]) |
//! | [`Admin`] | admins |
//! | [`ServiceCaller`] | other Cloverleaf services |
//! | [`ManageToken`] | a participant's manage token for the registration named in the path |
//! | [`RegistrationAccess`] | an organiser, or the manage token of the registration named in the path |
//! | [`Viewer`] | anyone; tells public callers from staff (organisers, admins, services) on public reads |
//!
//! No token or a bad one → 401 with `WWW-Authenticate`; a good token that is not allowed → 403. Both problem+json.
//! The router's state must give an `Arc<Verifier>` through `FromRef`.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::claims::{Claims, Role};
use crate::error::AuthError;
use crate::verifier::Verifier;

/// The bearer token of a request, verified.
async fn verified_claims<S>(parts: &mut Parts, state: &S) -> Result<Claims, AuthError>
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    // Extractors can run more than once per request (e.g. two of them in one handler); verify once.
    if let Some(claims) = parts.extensions.get::<Claims>() {
        return Ok(claims.clone());
    }
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(AuthError::MissingToken)?;
    let value = header
        .to_str()
        .map_err(|_| AuthError::InvalidToken("malformed Authorization header".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::MissingToken)?;
    let verifier = Arc::<Verifier>::from_ref(state);
    let claims = verifier.verify(token).await?;
    parts.extensions.insert(claims.clone());
    Ok(claims)
}

/// The registration id in the path: the parameter named `registration_id`, else `id`.
async fn path_registration_id<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Uuid, AuthError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AuthError::Forbidden("this route names no registration".into()))?;
    let raw = params
        .iter()
        .find(|(name, _)| *name == "registration_id")
        .or_else(|| params.iter().find(|(name, _)| *name == "id"))
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| AuthError::Forbidden("this route names no registration".into()))?;
    // A malformed id cannot be the one the token opens.
    raw.parse()
        .map_err(|_| AuthError::Forbidden("the token does not open this registration".into()))
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, |$claims:ident| $allowed:expr, $why:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Claims);

        impl<S> FromRequestParts<S> for $name
        where
            Arc<Verifier>: FromRef<S>,
            S: Send + Sync,
        {
            type Rejection = AuthError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                let $claims = verified_claims(parts, state).await?;
                if $allowed {
                    Ok(Self($claims))
                } else {
                    Err(AuthError::Forbidden($why.into()))
                }
            }
        }
    };
}

role_extractor!(
    /// Any caller with a valid token.
    Authenticated, |claims| { let _ = &claims; true }, ""
);
role_extractor!(
    /// An admin, or an organiser who may create events: of some team, or in no team. Viewers and check-in staff
    /// are refused (403).
    Organiser, |claims| claims.may_organise(), "organisers only"
);
role_extractor!(
    /// An admin or any organiser account (team organisers, viewers, check-in staff); the handler decides per event
    /// with [`crate::access`].
    Staff, |claims| claims.is_organiser_or_admin(), "organisers only"
);
role_extractor!(
    /// An admin.
    Admin, |claims| claims.role == Role::Admin, "admins only"
);
role_extractor!(
    /// Another Cloverleaf service, with a service token for this service.
    ServiceCaller, |claims| claims.role == Role::Service, "services only"
);

/// Who reads a public resource: nobody in particular, or a caller with a valid token. Public reads hide drafts;
/// staff (organisers, admins and other services) see them. A token that is sent must be valid (else 401), so a
/// typo in a token never silently turns into the public view.
#[derive(Debug, Clone)]
pub enum Viewer {
    Public,
    Signed(Claims),
}

impl Viewer {
    /// Organisers, admins and services: they may see unpublished things.
    pub fn is_staff(&self) -> bool {
        match self {
            Self::Public => false,
            Self::Signed(claims) => claims.is_organiser_or_admin() || claims.role == Role::Service,
        }
    }

    pub fn claims(&self) -> Option<&Claims> {
        match self {
            Self::Public => None,
            Self::Signed(claims) => Some(claims),
        }
    }
}

impl<S> FromRequestParts<S> for Viewer
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(Self::Public);
        }
        Ok(Self::Signed(verified_claims(parts, state).await?))
    }
}

/// A participant's manage token, accepted only for the registration named in the path.
#[derive(Debug, Clone)]
pub struct ManageToken {
    pub registration_id: Uuid,
    pub claims: Claims,
}

impl<S> FromRequestParts<S> for ManageToken
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let claims = verified_claims(parts, state).await?;
        let opened = claims
            .managed_registration()
            .ok_or_else(|| AuthError::Forbidden("a manage token is needed".into()))?;
        let wanted = path_registration_id(parts, state).await?;
        if opened != wanted {
            return Err(AuthError::Forbidden(
                "the token does not open this registration".into(),
            ));
        }
        Ok(Self {
            registration_id: wanted,
            claims,
        })
    }
}

/// Who is acting on a registration: an organiser (any registration), or its participant (their own only).
#[derive(Debug, Clone)]
pub enum RegistrationAccess {
    Organiser {
        registration_id: Uuid,
        claims: Claims,
    },
    Participant {
        registration_id: Uuid,
        claims: Claims,
    },
}

impl RegistrationAccess {
    pub fn registration_id(&self) -> Uuid {
        match self {
            Self::Organiser {
                registration_id, ..
            }
            | Self::Participant {
                registration_id, ..
            } => *registration_id,
        }
    }

    pub fn claims(&self) -> &Claims {
        match self {
            Self::Organiser { claims, .. } | Self::Participant { claims, .. } => claims,
        }
    }
}

impl<S> FromRequestParts<S> for RegistrationAccess
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let claims = verified_claims(parts, state).await?;
        if claims.is_organiser_or_admin() {
            let registration_id = path_registration_id(parts, state).await?;
            return Ok(Self::Organiser {
                registration_id,
                claims,
            });
        }
        let ManageToken {
            registration_id,
            claims,
        } = ManageToken::from_request_parts(parts, state).await?;
        Ok(Self::Participant {
            registration_id,
            claims,
        })
    }
}
