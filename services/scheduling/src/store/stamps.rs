//! Version stamps of the `.ics` feeds: one small aggregate query per feed that changes whenever anything the feed
//! renders changes, so a feed's ETag and Last-Modified cost no loading or rendering.
//!
//! The stamps assume that the times of changes only move forward: every write of a rendered row sets its
//! `updated_at` to "now", later than any time already stored (clocks of the writers roughly agree and are not set
//! back by more than the time between two changes). A row that is added or changed then raises a `MAX(updated_at)`,
//! and a row that is removed lowers a `COUNT(*)`. Events are never deleted, and people never either (a person's
//! only change is an edit, which raises their `updated_at`).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use uuid::Uuid;

use crate::Error;
use crate::domain::event::EventKind;

/// What an event's agenda feed renders beyond the event row itself: its items (with their speakers, whose
/// changes also raise the item's `updated_at`) and the people named as their hosts or speakers.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct AgendaStamp {
    /// How many items the event has: removing one lowers it.
    pub items: i64,
    /// The latest change of any of its items: adding or changing one raises it.
    pub items_changed: Option<DateTime<Utc>>,
    /// The latest change of any person its items name as host or speaker (a rename).
    pub people_changed: Option<DateTime<Utc>>,
}

/// `$1`: the event's id. Rooms and venues are not part of it: the feed does not show rooms, and an event's venue is
/// copied into the event row. Works on SQLite and PostgreSQL alike.
const AGENDA_STAMP_SQL: &str = "\
SELECT \
  (SELECT COUNT(*) FROM agenda_items WHERE event_id = $1) AS items, \
  (SELECT MAX(updated_at) FROM agenda_items WHERE event_id = $1) AS items_changed, \
  (SELECT MAX(p.updated_at) FROM people p \
     WHERE p.id IN (SELECT host_id FROM agenda_items WHERE event_id = $1 AND host_id IS NOT NULL) \
        OR p.id IN (SELECT s.person_id FROM item_speakers s JOIN agenda_items i ON i.id = s.item_id \
                    WHERE i.event_id = $1)) AS people_changed";

/// The stamp of an event's agenda, in one query.
pub async fn agenda<C: ConnectionTrait>(db: &C, event_id: Uuid) -> Result<AgendaStamp, Error> {
    let backend = db.get_database_backend();
    AgendaStamp::find_by_statement(Statement::from_sql_and_values(
        backend,
        AGENDA_STAMP_SQL,
        [event_id.into()],
    ))
    .one(db)
    .await?
    .ok_or_else(|| Error::Corrupt(format!("no agenda stamp for {event_id}")))
}

/// What the feed of every published event (of a kind) renders: those event rows.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct EventsStamp {
    /// How many events have been published.
    pub events: i64,
    /// The latest change of any of them (publishing and cancelling change it too).
    pub changed: Option<DateTime<Utc>>,
}

/// The stamp of the feed of every published event, of one kind or all, in one query: the same rows as
/// [`super::events::for_feed`] lists.
pub async fn events<C: ConnectionTrait>(
    db: &C,
    kind: Option<EventKind>,
) -> Result<EventsStamp, Error> {
    let backend = db.get_database_backend();
    let sql = "SELECT COUNT(*) AS events, MAX(updated_at) AS changed FROM events \
               WHERE published_at IS NOT NULL";
    let statement = match kind {
        Some(kind) => {
            Statement::from_sql_and_values(backend, format!("{sql} AND kind = $1"), [kind.into()])
        }
        None => Statement::from_string(backend, sql),
    };
    EventsStamp::find_by_statement(statement)
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("no events stamp".into()))
}
