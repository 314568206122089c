//! Why the registration service says no: the domain's errors. The rules ([`super::seats`]) and the stores (of
//! registrations and of accounts) return
//! them; `crate::http::error` turns each into its problem+json answer, in that one place, so neither the rules nor
//! the store know about HTTP statuses.

use chrono::{DateTime, Utc};
use cloverleaf_service_kit::FieldError;

use super::registration::Status;

/// The fields of a request that are not valid, each with a machine-readable code and a message (the HTTP layer
/// answers 422 with them).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} invalid field(s)", errors.len())]
pub struct InvalidFields {
    pub errors: Vec<FieldError>,
}

/// A request the rules or the stored state refuse. Cloned when a retry in the same batch gets the first answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The event has no registration form.
    #[error("the registration form of this event was not found")]
    FormNotFound,
    /// No such registration, or it was erased.
    #[error("this registration was not found")]
    RegistrationNotFound,
    /// The event was cancelled: its registrations neither change nor begin.
    #[error("this event has been cancelled; its registrations have ended")]
    EventCancelled,
    /// The registration window has not opened yet.
    #[error("registration opens at {}", opens_at.to_rfc3339())]
    NotOpenYet { opens_at: DateTime<Utc> },
    /// The registration window has closed (by default at the event's start).
    #[error("registration for this event is closed")]
    Closed,
    /// A new registration: no seat and no waiting list.
    #[error("this event is full and has no waiting list")]
    Full,
    /// An approval: no seat and no waiting list.
    #[error("no seat is free and the form has no waiting list")]
    FullOnApproval,
    /// Cancelling or rejecting a registration that has already ended otherwise.
    #[error("this registration is already {}", .0.as_str())]
    NotActive(Status),
    /// Approving what is not a pending application.
    #[error("only a pending application can be approved; this one is {}", .0.as_str())]
    NotPending(Status),
    /// Checking in a registration that is not confirmed.
    #[error("only a confirmed registration can check in")]
    NotConfirmed,
    /// The same `Idempotency-Key` with another request body.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// The registration desk stopped taking requests.
    #[error("the service is shutting down")]
    ShuttingDown,
    /// Creating an account for an address that has one already.
    #[error("an account with the email address {email} exists already")]
    EmailTaken { email: String },
    /// No such account.
    #[error("this account was not found")]
    AccountNotFound,
    /// No such team, or (for a caller who is not in it) one this caller may not know of.
    #[error("this team was not found")]
    TeamNotFound,
    /// Creating or renaming a team to the name of another.
    #[error("a team named {name} exists already")]
    TeamNameTaken { name: String },
    /// Removing an account that is not a member of the team.
    #[error("this account is not a member of this team")]
    MemberNotFound,
    /// An admin disabling or demoting their own account: `field` is the one refused, `message` says why.
    #[error("{message}")]
    OwnAccount {
        field: &'static str,
        message: &'static str,
    },
}
