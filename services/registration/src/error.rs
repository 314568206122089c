use cloverleaf_service_kit::{Problem, StartupError};

use crate::domain::refusal::{InvalidFields, Refusal};

/// Everything that can go wrong in the registration service. `crate::http::error` maps each to its problem+json
/// answer, in that one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// An answer the HTTP layer has already decided (a 401, a 422 with field errors…).
    #[error(transparent)]
    Problem(#[from] Problem),
    /// The rules or the stored state refuse the request (full, closed, not found…).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A request's fields are not valid (a 422 naming each).
    #[error(transparent)]
    Invalid(#[from] InvalidFields),
    /// Hashing or checking a password failed (argon2, or its blocking task): logged, answered 500.
    #[error("password hashing: {0}")]
    Hashing(String),
    /// A stored value the domain cannot read back (a bug or a hand-edited database): logged, answered 500.
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

impl From<cloverleaf_service_kit::auth::AuthSetupError> for Error {
    fn from(error: cloverleaf_service_kit::auth::AuthSetupError) -> Self {
        Self::Startup(error.into())
    }
}
