//! Storage of the scheduling service: sea-orm entities, queries and transactions, with the migrations beside them.
//! This database is the service's alone; no other service reads its tables.

pub mod migrations;
