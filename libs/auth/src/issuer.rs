use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use uuid::Uuid;

use crate::claims::{Claims, REGISTRATION_SCOPE_PREFIX, Role};
use crate::error::AuthError;
use crate::keys::SigningKey;

/// Issues tokens signed with one Ed25519 key under one issuer name (`iss`).
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    issuer: String,
    key: SigningKey,
}

/// What a token should say.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub subject: String,
    pub role: Role,
    pub scope: Option<String>,
    /// The holder's teams (organisers' access tokens).
    pub teams: Vec<crate::teams::TeamGrant>,
    pub audience: Vec<String>,
    pub ttl: Duration,
}

impl TokenRequest {
    /// A participant's manage token for one registration, good at the registration service only.
    pub fn manage(registration_id: Uuid, ttl: Duration) -> Self {
        Self {
            subject: registration_id.to_string(),
            role: Role::Participant,
            scope: Some(format!("{REGISTRATION_SCOPE_PREFIX}{registration_id}")),
            teams: Vec::new(),
            audience: vec![crate::audience::REGISTRATION.to_owned()],
            ttl,
        }
    }

    /// A service token from `caller` to the service whose audience is `audience`.
    pub fn service(caller: &str, audience: &str, ttl: Duration) -> Self {
        Self {
            subject: caller.to_owned(),
            role: Role::Service,
            scope: None,
            teams: Vec::new(),
            audience: vec![audience.to_owned()],
            ttl,
        }
    }
}

/// A signed token and what a client needs to know about it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub claims: Claims,
    pub expires_in: Duration,
}

impl TokenIssuer {
    pub fn new(issuer: impl Into<String>, key: SigningKey) -> Self {
        Self {
            issuer: issuer.into(),
            key,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn issue(&self, request: TokenRequest) -> Result<IssuedToken, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(request.ttl.as_secs())
            .map_err(|_| AuthError::Issue("ttl too large".into()))?;
        let claims = Claims {
            sub: request.subject,
            role: request.role,
            scope: request.scope,
            teams: request.teams,
            iss: self.issuer.clone(),
            aud: request.audience,
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: Uuid::now_v7().to_string(),
        };
        self.sign(&claims).map(|token| IssuedToken {
            token,
            claims,
            expires_in: request.ttl,
        })
    }

    /// Signs claims as given. Tests use it to forge expired or not-yet-valid tokens with a real key.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.kid().to_owned());
        jsonwebtoken::encode(&header, claims, self.key.encoding_key())
            .map_err(|e| AuthError::Issue(e.to_string()))
    }
}
