//! Errors as problem+json (RFC 9457), in one place: each [`Refusal`] of the domain and the store becomes its
//! problem type, title, status and detail here, [`InvalidFields`] a 422 naming each field; anything else is logged
//! and answered 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cloverleaf_service_kit::{FieldError, Problem};

use crate::Error;
use crate::domain::refusal::{InvalidFields, Refusal};

impl From<Refusal> for Problem {
    fn from(refusal: Refusal) -> Self {
        let detail = refusal.to_string();
        match refusal {
            Refusal::FormNotFound => Problem::not_found("The registration form of this event"),
            Refusal::RegistrationNotFound => Problem::not_found("This registration"),
            Refusal::EventCancelled => Problem::conflict("event-cancelled", detail),
            Refusal::NotOpenYet { .. } => Problem::conflict("not-open-yet", detail),
            Refusal::Closed => Problem::conflict("closed", detail),
            Refusal::Full | Refusal::FullOnApproval => Problem::conflict("full", detail),
            Refusal::NotActive(_) => Problem::conflict("not-active", detail),
            Refusal::NotPending(_) => Problem::conflict("not-pending", detail),
            Refusal::NotConfirmed => Problem::conflict("not-confirmed", detail),
            Refusal::IdempotencyKeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
            )
            .with_detail(detail),
            // Retry after a second: another instance (or this one, restarted) takes it.
            Refusal::ShuttingDown => Problem::unavailable(detail, 1),
            Refusal::EmailTaken { .. } => {
                Problem::conflict("email-taken", detail).with_errors(vec![FieldError::new(
                    "email",
                    "taken",
                    "another account has this email address",
                )])
            }
            Refusal::AccountNotFound => Problem::not_found("This account"),
            Refusal::TeamNotFound => Problem::not_found("This team"),
            Refusal::TeamNameTaken { .. } => Problem::conflict("team-name-taken", detail)
                .with_errors(vec![FieldError::new(
                    "name",
                    "taken",
                    "another team has this name",
                )]),
            Refusal::MemberNotFound => Problem::not_found("This team member"),
            Refusal::OwnAccount { field, message } => Problem::conflict("own-account", message)
                .with_errors(vec![FieldError::new(field, "own_account", message)]),
        }
    }
}

impl From<InvalidFields> for Problem {
    fn from(invalid: InvalidFields) -> Self {
        Problem::invalid(invalid.errors)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::Problem(problem) => problem.into_response(),
            Self::Refused(refusal) => Problem::from(refusal).into_response(),
            Self::Invalid(invalid) => Problem::from(invalid).into_response(),
            other => cloverleaf_service_kit::server::internal_error(&other),
        }
    }
}
