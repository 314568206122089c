//! Storage of the registration service: sea-orm entities, queries and transactions, with the migrations beside them.
//! This database is the service's alone; no other service reads its tables.
//!
//! - [`accounts`]: organiser and admin accounts, failed-login tracking.
//! - [`desk`]: new registrations queue here and are written several per transaction.
//! - [`registrations`]: forms, registrations, the waiting list, idempotency keys — where seats are counted.

pub mod accounts;
pub mod desk;
pub mod migrations;
pub mod registrations;
