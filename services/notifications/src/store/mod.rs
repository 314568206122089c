//! Storage of the notifications service: sea-orm entities, queries and transactions, with the migrations beside them.
//! This database is the service's alone; no other service reads its tables.
//!
//! - [`messages`]: outgoing email and its delivery state.

pub mod messages;
pub mod migrations;
