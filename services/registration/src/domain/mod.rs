//! The rules of the registration service, free of I/O: registration forms and their questions ([`forms`]), what a
//! participant may send and how a registration's status moves ([`registration`]), the seat rules — seats,
//! waiting-list places, promotion, the registration window — ([`seats`]), why a request is refused ([`refusal`]),
//! short manage tokens ([`manage_token`]), team names and member roles ([`teams`]), the audit trail's actions ([`audit`]), the organiser's language for exports ([`language`]). Handlers in
//! `crate::http` parse requests into these; `crate::store` persists them under the form's lock.

pub mod accounts;
pub mod audit;
pub mod forms;
pub mod language;
pub mod manage_token;
pub mod refusal;
pub mod registration;
pub mod seats;
pub mod teams;
