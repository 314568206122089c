//! Storage of the registration service: sea-orm entities, queries and transactions, with the migrations beside them.
//! This database is the service's alone; no other service reads its tables.
//!
//! - [`accounts`]: organiser and admin accounts, failed-login tracking.
//! - [`audit`]: the audit trail ([`audit::record`] writes an entry, in the caller's transaction or not).
//! - [`desk`]: new registrations queue here and are written several per transaction.
//! - [`registrations`]: forms, registrations, the waiting list, idempotency keys — where seats are counted.
//! - [`teams`]: teams and their members' roles; the migration of the teams and audit tables.

pub mod accounts;
pub mod audit;
pub mod desk;
pub mod migrations;
pub mod registrations;
pub mod teams;
