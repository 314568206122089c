//! Storage of the notifications service: sea-orm entities, queries and transactions, with the migrations beside them.
//! This database is the service's alone; no other service reads its tables.
//!
//! - [`inbox`]: the domain events received, and how far each is handled.
//! - [`messages`]: outgoing email and its delivery state.
//! - [`invites`]: the invite ledger (per attendee and event: the SEQUENCE and METHOD last sent).
//! - [`reminders`]: the reminder schedule per event.

pub mod inbox;
pub mod invites;
pub mod messages;
pub mod migrations;
pub mod reminders;
