//! The rules of the registration service, free of I/O: registration forms and their questions ([`forms`]), what a
//! participant may send and how a registration's status moves ([`registration`]), short manage tokens
//! ([`manage_token`]), the organiser's language for exports ([`language`]). Handlers in `crate::http` parse
//! requests into these; `crate::store` persists them under the form's lock.

pub mod accounts;
pub mod forms;
pub mod language;
pub mod manage_token;
pub mod registration;
