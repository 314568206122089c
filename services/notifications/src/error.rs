use axum::response::{IntoResponse, Response};
use cloverleaf_service_kit::{Problem, StartupError};

/// Everything that can go wrong in the notifications service; each maps to a problem+json answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Config(#[from] cloverleaf_service_kit::config::ConfigError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Problem(#[from] Problem),
    /// Stored or given data that breaks an invariant (a bug, not bad input).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The mail transport cannot be set up from the settings.
    #[error("mail transport: {0}")]
    Mail(String),
    /// An email template is missing, does not compile, or fails to render.
    #[error("email templates: {0}")]
    Templates(String),
}

impl From<cloverleaf_service_kit::auth::AuthSetupError> for Error {
    fn from(error: cloverleaf_service_kit::auth::AuthSetupError) -> Self {
        Self::Startup(error.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::Problem(problem) => problem.into_response(),
            other => cloverleaf_service_kit::server::internal_error(&other),
        }
    }
}
