//! What crosses a service boundary, defined once (see `docs/architecture.md`).
//!
//! - [`events`]: every domain event one service announces through its outbox and another receives in its inbox —
//!   [`DomainEvent`], one variant per type name, each with its payload struct. Producers build a variant and enqueue
//!   it (`event.type_name()`, the event itself as the payload); consumers turn what arrived back into one with
//!   [`DomainEvent::from_wire`] and match on the variant, never on the type string.
//! - [`scheduling`]: the read models scheduling serves and the others read (event, agenda item, venue, organiser).
//! - [`registration`]: what registration tells other services about a registration (the attendee list, the manage
//!   link).
//! - [`Page`]: one page of any list, as every service answers it.
//!
//! The JSON of each type is kept as a snapshot in `tests/snapshots`, so a change to the wire shows in review. The
//! rule for changes: a field may be added (readers give it a default, so an older producer's JSON still reads); a
//! field is never renamed or retyped under the same type name and version.

pub mod events;
pub mod page;
pub mod registration;
pub mod scheduling;

pub use events::{DomainEvent, FromWireError};
pub use page::{Page, encode_cursor};
pub use registration::{ManageLink, Registration, RegistrationStatus};
pub use scheduling::{
    AgendaItem, Contact, Event, EventKind, EventLinks, EventStatus, Hotel, HotelStay, ItemKind,
    Organiser, Person, Room, StoredVenue, Transfer, Venue, Visit,
};
