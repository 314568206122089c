//! Checking tokens. The algorithm is never taken from the token: it is the one of the key its `kid` names (EdDSA for
//! our own keys; RS256 also for an external OpenID Connect issuer's RSA keys, never for ours), and the token's header
//! must name that same one. `exp`, `nbf`, `iss` and `aud` are always checked.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::MAX_LEEWAY_SECS;
use crate::claims::{Claims, Role};
use crate::error::AuthError;
use crate::jwks::RemoteJwks;
use crate::keys::{SigningKey, VerifyingKey};
use crate::teams::TeamGrant;

/// Where an issuer's public keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// Keys given in configuration, by `kid`.
    Static(HashMap<String, DecodingKey>),
    /// Keys published at a JWKS URL.
    Remote(Arc<RemoteJwks>),
}

impl KeySource {
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Self {
        Self::Static(
            keys.into_iter()
                .map(|k| (k.kid().to_owned(), k.decoding_key()))
                .collect(),
        )
    }

    async fn key(&self, kid: &str) -> Result<Option<VerifyingKey>, AuthError> {
        match self {
            Self::Static(keys) => Ok(keys.get(kid).map(|key| VerifyingKey {
                algorithm: Algorithm::EdDSA,
                key: key.clone(),
            })),
            Self::Remote(jwks) => jwks.key(kid).await,
        }
    }
}

/// How an issuer's tokens say what role their holder has.
#[derive(Debug, Clone)]
pub enum RoleMapping {
    /// Our own tokens: a `role` claim, limited to the roles this issuer may grant.
    RoleClaim { allowed: Vec<Role> },
    /// An external OpenID Connect issuer (an institution's Keycloak): the values of `claim` (a string or an array of
    /// strings, e.g. `groups`) are mapped to roles; the highest mapped role wins; no mapped value → not accepted.
    External {
        claim: String,
        map: Vec<(String, Role)>,
        /// Values of `claim` that make the holder a member of a team; a holder with only these is an organiser
        /// account whose rights are its teams'.
        teams: Vec<(String, TeamGrant)>,
    },
}

/// One issuer whose tokens this service accepts.
#[derive(Clone)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub keys: KeySource,
    pub roles: RoleMapping,
}

impl TrustedIssuer {
    pub fn new(issuer: impl Into<String>, keys: KeySource, allowed: Vec<Role>) -> Self {
        Self {
            issuer: issuer.into(),
            keys,
            roles: RoleMapping::RoleClaim { allowed },
        }
    }
}

/// Verifies the tokens presented to one service (its audience).
#[derive(Clone)]
pub struct Verifier {
    audience: String,
    issuers: Vec<TrustedIssuer>,
    leeway: u64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self.issuers.iter().map(|i| i.issuer.as_str()).collect();
        f.debug_struct("Verifier")
            .field("audience", &self.audience)
            .field("issuers", &issuers)
            .finish()
    }
}

impl Verifier {
    pub fn new(audience: impl Into<String>, issuers: Vec<TrustedIssuer>) -> Self {
        Self {
            audience: audience.into(),
            issuers,
            leeway: 30,
        }
    }

    /// Clock skew tolerated on `exp` and `nbf`; capped at [`MAX_LEEWAY_SECS`].
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway = secs.min(MAX_LEEWAY_SECS);
        self
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        if !matches!(header.alg, Algorithm::EdDSA | Algorithm::RS256) {
            return Err(AuthError::InvalidToken(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::InvalidToken("the token names no key (kid)".into()))?;
        let (issuer, key) = self.find_key(&kid).await?;
        let external = matches!(issuer.roles, RoleMapping::External { .. });
        // The key decides the algorithm; RSA keys count only for external issuers (our own tokens stay EdDSA).
        if header.alg != key.algorithm || (key.algorithm != Algorithm::EdDSA && !external) {
            return Err(AuthError::InvalidToken(format!(
                "algorithm {:?} is not accepted for this key",
                header.alg
            )));
        }
        let algorithm = key.algorithm;
        let key = key.key;

        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&issuer.issuer]);
        validation.set_audience(&[&self.audience]);
        // Our own tokens always carry nbf; external OpenID Connect issuers often leave it out.
        match issuer.roles {
            RoleMapping::RoleClaim { .. } => {
                validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"])
            }
            RoleMapping::External { .. } => {
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"])
            }
        }

        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => {
                AuthError::InvalidToken("the token is not valid yet".into())
            }
            ErrorKind::InvalidIssuer => AuthError::InvalidToken("wrong issuer".into()),
            ErrorKind::InvalidAudience => {
                AuthError::InvalidToken("the token is not meant for this service".into())
            }
            ErrorKind::InvalidSignature => AuthError::InvalidToken("bad signature".into()),
            other => AuthError::InvalidToken(format!("{other:?}")),
        })?;
        claims_for(issuer, data.claims)
    }

    /// Finds the issuer that owns `kid`. Static keys are looked at first, so an unknown `kid` only reaches the network
    /// when some issuer publishes its keys at a URL (and then at most once per the JWKS's minimum interval).
    async fn find_key(&self, kid: &str) -> Result<(&TrustedIssuer, VerifyingKey), AuthError> {
        let mut fetch_error = None;
        let (local, remote): (Vec<&TrustedIssuer>, Vec<&TrustedIssuer>) = self
            .issuers
            .iter()
            .partition(|issuer| matches!(issuer.keys, KeySource::Static(_)));
        for issuer in local.into_iter().chain(remote) {
            match issuer.keys.key(kid).await {
                Ok(Some(key)) => return Ok((issuer, key)),
                Ok(None) => {}
                Err(error) => fetch_error = Some(error),
            }
        }
        Err(fetch_error.unwrap_or(AuthError::UnknownKey))
    }
}

fn claims_for(issuer: &TrustedIssuer, raw: Value) -> Result<Claims, AuthError> {
    match &issuer.roles {
        RoleMapping::RoleClaim { allowed } => {
            let claims: Claims = serde_json::from_value(raw)
                .map_err(|e| AuthError::InvalidToken(format!("claims: {e}")))?;
            if !allowed.contains(&claims.role) {
                return Err(AuthError::InvalidToken(format!(
                    "issuer {} may not grant the role {}",
                    issuer.issuer,
                    claims.role.as_str()
                )));
            }
            Ok(claims)
        }
        RoleMapping::External { claim, map, teams } => {
            let values: Vec<&str> = match raw.get(claim) {
                Some(Value::String(one)) => vec![one.as_str()],
                Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let role = map
                .iter()
                .filter(|(value, _)| values.contains(&value.as_str()))
                .map(|(_, role)| *role)
                .filter(|role| *role != Role::Service)
                .min_by_key(|role| match role {
                    Role::Admin => 0,
                    Role::Organiser => 1,
                    _ => 2,
                });
            let mut grants: Vec<TeamGrant> = teams
                .iter()
                .filter(|(value, _)| values.contains(&value.as_str()))
                .map(|(_, grant)| *grant)
                .collect();
            grants.sort_by_key(|g| (g.team, g.role.as_str()));
            grants.dedup();
            let role = role
                .or((!grants.is_empty()).then_some(Role::Organiser))
                .ok_or_else(|| {
                    AuthError::Forbidden(format!("no Cloverleaf role is mapped from {claim}"))
                })?;
            let text = |name: &str| {
                raw.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let number = |name: &str| raw.get(name).and_then(Value::as_i64).unwrap_or_default();
            let aud = match raw.get("aud") {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Array(many)) => many
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Claims {
                sub: text("sub"),
                role,
                scope: None,
                teams: grants,
                iss: text("iss"),
                aud,
                exp: number("exp"),
                iat: number("iat"),
                nbf: number("nbf"),
                jti: text("jti"),
            })
        }
    }
}
