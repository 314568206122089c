//! The inbox: every domain event received from scheduling and registration, stored once by its id (a repeat is
//! ignored), then worked through by [`crate::jobs::inbox`]: claimed with a lease, handled, and marked processed in
//! the same transaction as the messages and ledger rows it caused — so a crash mid-way leaves nothing behind and
//! the event is handled again, whole.
//!
//! **Order.** Events are grouped by the programme event they concern (`event_key`: the payload's `event_id`). A claim
//! takes, per group, the due events from the head of its unprocessed queue — never one behind an event that is
//! leased elsewhere or waiting out a backoff — and the worker handles each group's events one after another in the
//! order they arrived (the relays send each aggregate's events in order), groups side by side. So an event's changes
//! and its registrations are handled in order, and two replicas never work on one event's invites at once: claims
//! are serialised (SQLite's writer lock; a transaction-scoped advisory lock on PostgreSQL), so a second claim sees
//! the first one's leases.

use chrono::{DateTime, Utc};
use cloverleaf_service_kit::outbox::InboxEvent;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Set, Statement,
};
use uuid::Uuid;

use crate::Error;

pub mod inbox_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox_events")]
    pub struct Model {
        /// The id the sender gave the event: a repeat has the same one.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_type: String,
        pub aggregate_id: Uuid,
        /// The programme event it concerns: events of one key are handled one at a time, in order.
        pub event_key: Uuid,
        pub source: String,
        pub occurred_at: DateTimeUtc,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub received_at: DateTimeUtc,
        pub processed_at: Option<DateTimeUtc>,
        /// What handling it did, for people reading the table ("3 messages", "ignored: …").
        #[sea_orm(column_type = "Text", nullable)]
        pub outcome: Option<String>,
        pub attempts: i32,
        /// When it may be claimed: now, after a failed try's backoff, or at the end of the current lease.
        pub next_attempt_at: DateTimeUtc,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Stores a received event; `false` when it was already there (a repeat: nothing changes).
pub async fn receive(db: &DatabaseConnection, event: &InboxEvent) -> Result<bool, Error> {
    let event_key = event
        .payload
        .get("event_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Uuid>().ok())
        .unwrap_or(event.aggregate_id);
    let now = Utc::now();
    let row = inbox_event::ActiveModel {
        id: Set(event.id),
        event_type: Set(event.event_type.clone()),
        aggregate_id: Set(event.aggregate_id),
        event_key: Set(event_key),
        source: Set(event.source.clone()),
        occurred_at: Set(event.occurred_at),
        payload: Set(event.payload.to_string()),
        received_at: Set(now),
        processed_at: Set(None),
        outcome: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
    };
    let inserted = inbox_event::Entity::insert(row)
        .on_conflict(
            OnConflict::column(inbox_event::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        // On SQLite through the writer connection, as every write: see `db::writer`.
        .exec_without_returning(&cloverleaf_service_kit::db::writer(db))
        .await?;
    Ok(inserted == 1)
}

/// One claimed event.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Claimed {
    pub id: Uuid,
    pub event_type: String,
    pub aggregate_id: Uuid,
    pub event_key: Uuid,
    pub payload: String,
    pub received_at: DateTime<Utc>,
    /// Tries begun, this one included: the claim is ours while the row still has this count.
    pub attempts: i32,
}

/// `$1` = the end of the lease, `$2` = now, `$3` = batch size. An event is due when no earlier unprocessed event
/// of its key is leased or backing off (`next_attempt_at > now`); earlier due ones come first in the order, so
/// within the limit each key's claimed events are a prefix of its queue.
///
/// `blocked` is, per key, the first such held event; an event is due only before it (an exact tie on `received_at` is
/// settled by id). A correlated "no earlier held event" check per candidate was measured on PostgreSQL with a
/// 17,000-event backlog over ten keys (a registration burst): a hash anti-join comparing every candidate with every
/// held event of its key, most of the database's CPU; this compares each candidate with one row.
const CLAIM_SQL: &str = "\
WITH blocked AS (SELECT event_key, MIN(received_at) AS since FROM inbox_events \
  WHERE processed_at IS NULL AND next_attempt_at > $2 GROUP BY event_key) \
UPDATE inbox_events SET attempts = attempts + 1, next_attempt_at = $1 \
WHERE id IN (SELECT e.id FROM inbox_events e LEFT JOIN blocked b ON b.event_key = e.event_key \
  WHERE e.processed_at IS NULL AND e.next_attempt_at <= $2 \
    AND (b.since IS NULL OR e.received_at < b.since \
      OR (e.received_at = b.since AND NOT EXISTS (SELECT 1 FROM inbox_events p \
        WHERE p.event_key = e.event_key AND p.processed_at IS NULL AND p.next_attempt_at > $2 \
          AND p.received_at = e.received_at AND p.id < e.id))) \
  ORDER BY e.received_at, e.id LIMIT $3) \
RETURNING id, event_type, aggregate_id, event_key, payload, received_at, attempts";

/// The PostgreSQL advisory lock that serialises claims across replicas (SQLite's `BEGIN IMMEDIATE` does it there):
/// without it, two claims could each see the other's events as still due and split one key's queue.
const CLAIM_LOCK: i64 = 7_236_178_301;

/// Leases up to `batch` due events, oldest first; each key's events are a prefix of its unprocessed queue.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    batch: u32,
) -> Result<Vec<Claimed>, DbErr> {
    let backend = db.get_database_backend();
    let txn = cloverleaf_service_kit::db::begin_write(db).await?;
    if backend == sea_orm::DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [CLAIM_LOCK.into()],
        ))
        .await?;
    }
    let mut rows = Claimed::find_by_statement(Statement::from_sql_and_values(
        backend,
        CLAIM_SQL,
        [lease_until.into(), now.into(), i64::from(batch).into()],
    ))
    .all(&txn)
    .await?;
    txn.commit().await?;
    rows.sort_by_key(|r| (r.received_at, r.id));
    Ok(rows)
}

/// Gives back claimed events that were not tried (an earlier one of their key failed): due again at once, the try
/// not counted. They stay behind the failed one, which is backing off.
pub async fn release(db: &DatabaseConnection, claimed: &[Claimed]) -> Result<(), DbErr> {
    let db = &cloverleaf_service_kit::db::writer(db);
    for c in claimed {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE inbox_events SET next_attempt_at = $1, attempts = attempts - 1 \
             WHERE id = $2 AND processed_at IS NULL AND attempts = $3",
            [Utc::now().into(), c.id.into(), c.attempts.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Marks a claimed event processed, first thing in the transaction that writes what it caused: `false` when the
/// claim is no longer ours (another worker took it over after the lease ran out, or finished it) — then the caller
/// rolls back, so its work is never written twice. On PostgreSQL the update also locks the row until commit.
pub async fn finish<C: ConnectionTrait>(
    txn: &C,
    claimed: &Claimed,
    outcome: &str,
) -> Result<bool, DbErr> {
    let result = txn
        .execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "UPDATE inbox_events SET processed_at = $1, outcome = $2, last_error = NULL \
             WHERE id = $3 AND processed_at IS NULL AND attempts = $4",
            [
                Utc::now().into(),
                outcome.to_owned().into(),
                claimed.id.into(),
                claimed.attempts.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts a claimed event off until `next` after a failure (another service unreachable).
pub async fn retry_later(
    db: &DatabaseConnection,
    claimed: &Claimed,
    next: DateTime<Utc>,
    error: &str,
) -> Result<(), DbErr> {
    let db = cloverleaf_service_kit::db::writer(db);
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE inbox_events SET next_attempt_at = $1, last_error = $2 \
         WHERE id = $3 AND processed_at IS NULL AND attempts = $4",
        [
            next.into(),
            error.to_owned().into(),
            claimed.id.into(),
            claimed.attempts.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The fields of a `registration.*` payload kept once its person is erased: none of them personal.
const KEPT_WHEN_ERASED: &[&str] = &[
    "registration_id",
    "event_id",
    "status",
    "previous_status",
    "waitlist_position",
    "locale",
];

/// Erases a registration's person from the stored payloads of its events (contract 3): each keeps only
/// [`KEPT_WHEN_ERASED`] and says `"erased": true`; rows, types and processing marks stay. Registration's events
/// have the registration as their aggregate. Returns how many were rewritten.
pub async fn erase_registration<C: ConnectionTrait>(
    txn: &C,
    registration_id: Uuid,
) -> Result<u64, Error> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let rows = inbox_event::Entity::find()
        .filter(inbox_event::Column::AggregateId.eq(registration_id))
        .filter(inbox_event::Column::EventType.like(format!(
            "{}%",
            cloverleaf_contracts::events::types::REGISTRATION_PREFIX
        )))
        .all(txn)
        .await?;
    let mut erased = 0;
    for row in rows {
        let payload: serde_json::Value =
            serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null);
        let mut kept = serde_json::Map::new();
        if let Some(object) = payload.as_object() {
            for key in KEPT_WHEN_ERASED {
                if let Some(value) = object.get(*key) {
                    kept.insert((*key).to_owned(), value.clone());
                }
            }
        }
        kept.insert("erased".to_owned(), serde_json::Value::Bool(true));
        let scrubbed = serde_json::Value::Object(kept).to_string();
        if scrubbed == row.payload {
            continue;
        }
        inbox_event::Entity::update_many()
            .col_expr(
                inbox_event::Column::Payload,
                sea_orm::sea_query::Expr::value(scrubbed),
            )
            .col_expr(
                inbox_event::Column::LastError,
                sea_orm::sea_query::Expr::value(None::<String>),
            )
            .filter(inbox_event::Column::Id.eq(row.id))
            .exec(txn)
            .await?;
        erased += 1;
    }
    Ok(erased)
}

/// How many received events are not processed yet.
pub async fn unprocessed(db: &DatabaseConnection) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let count = Count::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM inbox_events WHERE processed_at IS NULL",
    ))
    .one(db)
    .await?;
    Ok(count.map_or(0, |c| c.n))
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use cloverleaf_service_kit::db::migration::{instant, maybe_instant};
    use sea_orm_migration::prelude::*;

    /// The claim asks, for each candidate, "is an earlier event of this key unprocessed?". With only
    /// `(event_key, received_at)` that walked every processed event of the key first, so a claim cost grew with the
    /// square of the backlog (35 emails/s after a burst of 6,000 registrations). This partial index holds only the
    /// unprocessed rows, so the question is one seek.
    pub struct IndexUnprocessedByKey;

    impl MigrationName for IndexUnprocessedByKey {
        fn name(&self) -> &str {
            "m20261121_000001_inbox_unprocessed_by_key"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for IndexUnprocessedByKey {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            // Partial indexes are the same SQL on SQLite and PostgreSQL; sea-query cannot build one.
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS inbox_unprocessed_by_key \
                     ON inbox_events (event_key, received_at, id) WHERE processed_at IS NULL",
                )
                .await?;
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX IF EXISTS inbox_unprocessed_by_key")
                .await?;
            Ok(())
        }
    }

    pub struct CreateInbox;

    impl MigrationName for CreateInbox {
        fn name(&self) -> &str {
            "m20261121_000040_create_inbox_events"
        }
    }

    #[derive(DeriveIden)]
    enum InboxEvents {
        Table,
        Id,
        EventType,
        AggregateId,
        EventKey,
        Source,
        OccurredAt,
        Payload,
        ReceivedAt,
        ProcessedAt,
        Outcome,
        Attempts,
        NextAttemptAt,
        LastError,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateInbox {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(InboxEvents::Table)
                        .col(
                            ColumnDef::new(InboxEvents::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(InboxEvents::EventType)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(ColumnDef::new(InboxEvents::AggregateId).uuid().not_null())
                        .col(ColumnDef::new(InboxEvents::EventKey).uuid().not_null())
                        .col(
                            ColumnDef::new(InboxEvents::Source)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(instant(InboxEvents::OccurredAt))
                        .col(ColumnDef::new(InboxEvents::Payload).text().not_null())
                        .col(instant(InboxEvents::ReceivedAt))
                        .col(maybe_instant(InboxEvents::ProcessedAt))
                        .col(ColumnDef::new(InboxEvents::Outcome).text().null())
                        .col(
                            ColumnDef::new(InboxEvents::Attempts)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(instant(InboxEvents::NextAttemptAt))
                        .col(ColumnDef::new(InboxEvents::LastError).text().null())
                        .to_owned(),
                )
                .await?;
            // The claim: unprocessed events by due time, and each key's unprocessed events in arrival order.
            manager
                .create_index(
                    Index::create()
                        .name("inbox_due")
                        .table(InboxEvents::Table)
                        .col(InboxEvents::ProcessedAt)
                        .col(InboxEvents::NextAttemptAt)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("inbox_by_key")
                        .table(InboxEvents::Table)
                        .col(InboxEvents::EventKey)
                        .col(InboxEvents::ReceivedAt)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(
                    Table::drop()
                        .table(InboxEvents::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await
        }
    }
}
