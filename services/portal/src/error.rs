//! What can go wrong while answering a page. A handler returns `Err(Error)`; [`Error::into_response`] only marks the
//! response with the error, and the page middleware (`http::pages`) then renders the error page in the visitor's
//! language (or sends an organiser whose login ran out back to the login page).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cloverleaf_problem::Problem;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A service could not be asked (down, overloaded, too slow): the visitor gets a friendly 503 page.
    #[error("{service} is unavailable: {reason}")]
    Unavailable {
        service: &'static str,
        reason: String,
    },
    /// A service answered with an error the page did not handle itself.
    #[error("{service} answered {status}")]
    Backend {
        service: &'static str,
        status: u16,
        problem: Option<Box<Problem>>,
    },
    /// A service answered something that is not what it documents.
    #[error("{service} answered something unreadable: {reason}")]
    Decode {
        service: &'static str,
        reason: String,
    },
    #[error("page not found")]
    NotFound,
    /// An organiser page without a valid login: back to the login page.
    #[error("a login is needed")]
    SignInNeeded,
    #[error("not allowed")]
    Forbidden,
    /// An organiser page the login's role in the event's team does not allow (a viewer's change, check-in staff's
    /// registrations list).
    #[error("not allowed for this role")]
    NotForThisRole,
    /// A POST without the form's CSRF token (or an old one).
    #[error("the form's security token is missing or out of date")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("templates: {0}")]
    Template(String),
    #[error("message catalog {file}: {reason}")]
    Catalog { file: String, reason: String },
    #[error("metrics: {0}")]
    Metrics(String),
    /// A setting the portal needs is missing or wrong (found at start-up).
    #[error("setting {0}")]
    Setting(String),
    /// The compiled-in CLDR country names or collation could not be loaded.
    #[error("country names: {0}")]
    Countries(String),
}

impl Error {
    /// The status the error page is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Backend { status, .. } => match *status {
                404 => StatusCode::NOT_FOUND,
                401 => StatusCode::UNAUTHORIZED,
                403 => StatusCode::FORBIDDEN,
                409 => StatusCode::CONFLICT,
                s if (400..500).contains(&s) => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            },
            Self::Decode { .. } => StatusCode::BAD_GATEWAY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::SignInNeeded => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Csrf | Self::NotForThisRole => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Template(_)
            | Self::Catalog { .. }
            | Self::Metrics(_)
            | Self::Countries(_)
            | Self::Setting(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The catalog key of the error page's heading and text (`error.<kind>.title`, `error.<kind>.text`).
    pub fn kind(&self) -> &'static str {
        match self.status().as_u16() {
            503 => "unavailable",
            404 => "not_found",
            401 | 403 if matches!(self, Self::Csrf) => "csrf",
            403 if matches!(self, Self::NotForThisRole) => "role",
            401 | 403 => "forbidden",
            409 => "conflict",
            400 => "bad_request",
            _ => "internal",
        }
    }

    /// The problem a service answered, if any.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Backend { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }

    /// The service answered `status`.
    pub fn is_status(&self, status: u16) -> bool {
        matches!(self, Self::Backend { status: s, .. } if *s == status)
    }
}

/// Carried in a response's extensions for the page middleware to render.
#[derive(Debug, Clone)]
pub struct ErrorPage(pub Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Self::Unavailable { .. } | Self::Decode { .. } => {
                tracing::warn!(error = %self, "a service could not answer the page");
            }
            Self::Template(_)
            | Self::Catalog { .. }
            | Self::Metrics(_)
            | Self::Countries(_)
            | Self::Setting(_) => {
                tracing::error!(error = %self, "page failed");
            }
            Self::Backend { status, .. } if *status >= 500 => {
                tracing::warn!(error = %self, "a service failed");
            }
            _ => {}
        }
        let mut response = self.status().into_response();
        response.extensions_mut().insert(ErrorPage(Arc::new(self)));
        response
    }
}

impl From<minijinja::Error> for Error {
    fn from(error: minijinja::Error) -> Self {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Template(text)
    }
}
