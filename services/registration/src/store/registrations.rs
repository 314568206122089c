//! Forms and registrations: where seats are counted.
//!
//! **Seats are never oversold.** Every change that can take or free a seat runs in one write transaction that first
//! locks the event's form row (PostgreSQL `SELECT … FOR UPDATE`; SQLite `BEGIN IMMEDIATE`, one writer at a time), then
//! reads the confirmed count, decides, writes the registration, the form's counters and the outbox rows, and
//! commits. Cancelling frees the seat and promotes the first of the waiting list in that same transaction.
//! Waiting-list order is the arrival order (`waitlist_seq`, handed out from the form under the lock); positions are
//! computed from it, so they stay distinct and gap-free whoever leaves.
//!
//! The seat rules themselves — seats, waiting-list places, promotion, the registration window — are the domain's
//! ([`crate::domain::seats::Seats`]); this module reads and writes what they decide, and returns the domain's
//! [`Refusal`](crate::domain::refusal::Refusal) when they say no. Split by concern:
//!
//! - [`entities`]: the `forms`, `registrations` and `idempotency_keys` tables;
//! - [`migration`]: their migrations;
//! - [`batch`]: the batch writer — new registrations arrive through [`super::desk`], which writes several per
//!   transaction with [`register_batch`]; [`register`] writes one alone (the desk's fallback when a batch fails);
//! - [`lifecycle`]: forms changed, registrations cancelled, rejected, approved, checked in, changed, erased, and
//!   those of a cancelled event ended;
//! - [`queries`]: reads for views, lists, counts and the CSV export;
//! - [`announce`]: the domain events written to the outbox, and scrubbing erased people from them.

mod announce;
pub mod batch;
pub mod entities;
pub mod lifecycle;
// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration;
pub mod queries;

pub use batch::{IdempotencyKey, NewRegistration, Registered, register, register_batch, replay};
pub use entities::{form, form_settings, idempotency, registration};
pub use lifecycle::{
    Outcome, approve, cancel, check_in, end_for_cancelled_event, erase, put_form, reject,
    update_details,
};
pub use queries::{
    counts, door_list, find, find_form, list, waitlist_position, waitlist_positions,
};
