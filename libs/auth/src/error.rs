use axum::response::{IntoResponse, Response};
use cloverleaf_problem::Problem;

/// Why a request's credentials were not accepted. Maps to 401 (with `WWW-Authenticate`), 403 or 503.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token was sent")]
    MissingToken,
    #[error("the token is not valid: {0}")]
    InvalidToken(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("{0}")]
    Forbidden(String),
    /// The keys needed to check the token could not be fetched; nothing about the token is known yet.
    #[error("the signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
    #[error("a token could not be issued: {0}")]
    Issue(String),
}

impl AuthError {
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::MissingToken | Self::InvalidToken(_) | Self::Expired | Self::UnknownKey => {
                Problem::unauthorized(self.to_string())
            }
            Self::Forbidden(reason) => Problem::forbidden(reason.clone()),
            Self::KeysUnavailable(_) => {
                Problem::unavailable("the token could not be checked right now", 5)
            }
            Self::Issue(_) => Problem::internal(),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match &self {
            Self::KeysUnavailable(_) | Self::Issue(_) => {
                tracing::error!(error = %self, "auth failure")
            }
            _ => tracing::debug!(error = %self, "request not authorised"),
        }
        self.to_problem().into_response()
    }
}

/// A key could not be loaded, parsed or written. Happens at start-up, never while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("not an Ed25519 private key in PKCS#8 PEM: {0}")]
    Parse(String),
    #[error("bad JWKS document: {0}")]
    Jwks(String),
}
