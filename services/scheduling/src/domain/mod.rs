//! The rules of the scheduling service, free of I/O: validated values that can only hold what is allowed
//! ([`fields`], [`time`]), what an event and an agenda item are and how they may change ([`event`], [`agenda`]),
//! and which arrangements clash ([`conflicts`]). Handlers in `crate::http` parse requests into these;
//! `crate::store` persists them.

pub mod agenda;
pub mod conflicts;
pub mod event;
pub mod fields;
pub mod time;

/// The UID a calendar entry for an event or agenda item carries, in feeds and invites alike. It never changes, so
/// calendars update the entry they already hold instead of adding another.
pub fn calendar_uid(id: uuid::Uuid) -> String {
    format!("{id}@cloverleaf")
}
