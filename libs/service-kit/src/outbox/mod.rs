//! The transactional outbox: a domain event is written in the same database transaction as the change it reports,
//! so either both happen or neither does. A relay ([`relay`]) in the same service then delivers each row to every
//! subscriber's `/v1/inbox` until acknowledged.
//!
//! Two tables, created by [`migration::CreateOutbox`] which every service lists in its migrator:
//! - `outbox_events`: one row per domain event, in the order they were written (`position`).
//! - `outbox_deliveries`: one row per event and subscriber, with attempts, next try and last error, so one slow
//!   subscriber neither blocks nor repeats the others.
//!
//! ## What a subscriber can rely on
//!
//! - **At least once.** Every committed event reaches every subscriber listed when it was written: the relay retries
//!   (with exponential backoff and jitter) until the subscriber answers 2xx, and never gives up. A replica that
//!   crashes after claiming a delivery leaves a lease that expires, and the delivery is tried again. The relay
//!   records answers in batches (one write transaction per round, not one per answer), so a replica that crashes
//!   between posting and recording has its round's acknowledged events posted again too. So an event can arrive
//!   more than once (an answer lost on the way back, a lease that ran out, a crash before recording): **receivers
//!   store the event's `id` and ignore repeats** — the id is also sent as the `Idempotency-Key` header.
//! - **In order per aggregate.** A subscriber receives the events of one aggregate (one event, one registration) in
//!   the order they were written: the next one is not sent before the previous one was acknowledged. Events of
//!   different aggregates are independent — the relay posts several aggregates at once (`outbox.concurrency`), and
//!   one that keeps failing or answers slowly holds back only its own aggregate.
//! - **Nothing from a rolled-back transaction**, since the rows are written by the caller's transaction.
//!
//! ## How a service uses it
//!
//! ```text
//! let base = ServiceBase::open::<Migrator>(settings, ServiceName::Registration).await?;
//! let relay = base.start_outbox_relay()?;          // stops with the service
//! // in a handler:
//! let txn = cloverleaf_service_kit::db::begin_write(&db).await?;
//! /* … the change … */
//! outbox::enqueue(&txn, "registration.confirmed", registration.id, &payload, relay.subscribers()).await?;
//! txn.commit().await?;
//! relay.wake();                                     // deliver now rather than at the next poll
//! ```
//!
//! Call [`enqueue`] after the change it reports (so writers of the same aggregate are already serialised on its row)
//! and, on SQLite, in a [`crate::db::begin_write`] transaction.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};

pub mod relay;

pub use relay::OutboxRelay;

/// The header that carries the event id on every delivery, for receivers that dedupe by header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// What the relay POSTs to a subscriber's `/v1/inbox`, and what the subscriber reads: one domain event.
///
/// ```json
/// {"id": "0193…", "type": "registration.confirmed", "aggregate_id": "0193…", "source": "registration",
///  "occurred_at": "2026-11-20T09:00:00.123Z", "payload": {…}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxEvent {
    /// The event's UUID: the same on every retry, so receivers drop repeats by it.
    pub id: Uuid,
    /// `event.published`, `registration.confirmed`, …
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event or registration the event is about; events of one aggregate arrive in order.
    pub aggregate_id: Uuid,
    /// The service that wrote it (`registration`, `scheduling`).
    pub source: String,
    /// When the change was written.
    pub occurred_at: DateTime<Utc>,
    /// The event's own data, as the writer serialised it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

pub mod event {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Orders events for relaying: per aggregate in the order they were written.
        #[sea_orm(unique)]
        pub position: i64,
        /// `event.published`, `registration.confirmed`, …
        pub event_type: String,
        /// The event or registration the event is about.
        pub aggregate_id: Uuid,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub request_id: Option<String>,
        pub occurred_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub subscriber: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        /// The event's aggregate and position, copied here so that the relay's claim finds the pending deliveries in
        /// order, and an aggregate's earlier ones, from this table's indexes alone
        /// ([`super::migration::OutboxDeliveryOrder`]).
        pub aggregate_id: Option<Uuid>,
        pub position: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The PostgreSQL sequence that hands out positions ([`migration::OutboxPositionSequence`]).
const POSITION_SEQUENCE: &str = "outbox_events_position_seq";

/// Writes a domain event and one pending delivery per subscriber, inside the caller's transaction `txn`; returns the
/// event's id. `subscribers` are service names, normally [`OutboxRelay::subscribers`] or
/// `settings.service(name).subscribers`.
///
/// The event takes the next `position`: on PostgreSQL from a sequence, so concurrent transactions writing events
/// (registrations for different events, say) never wait for each other here; on SQLite the highest one + 1, under the
/// writer lock of [`crate::db::begin_write`]. Positions need not follow commit order — the relay picks every
/// undelivered row, not "everything after the last one" — they only have to rise within an aggregate, which they do
/// because writers of one aggregate are serialised on its row before they get here.
pub async fn enqueue<C: ConnectionTrait, P: Serialize>(
    txn: &C,
    event_type: &str,
    aggregate_id: Uuid,
    payload: &P,
    subscribers: &[String],
) -> Result<Uuid, DbErr> {
    let event = NewEvent {
        event_type,
        aggregate_id,
        payload,
        request_id: crate::observe::current_request_id(),
    };
    enqueue_many(txn, &[event], subscribers)
        .await?
        .pop()
        .ok_or_else(|| DbErr::Custom("outbox: the event was not written".into()))
}

/// One domain event for [`enqueue_many`].
#[derive(Debug, Clone)]
pub struct NewEvent<'a, P> {
    pub event_type: &'a str,
    pub aggregate_id: Uuid,
    pub payload: P,
    /// The `x-request-id` of the request that caused it (events written for several requests at once carry each
    /// their own); [`enqueue`] takes the current request's.
    pub request_id: Option<String>,
}

/// Writes several domain events, in the given order, with one pending delivery per subscriber each, inside the
/// caller's transaction: one INSERT for the events and one for the deliveries (on SQLite one more statement reads the
/// highest position), however many there are. Positions rise in the given order, as from repeated [`enqueue`] calls.
/// Returns the events' ids in the same order.
pub async fn enqueue_many<C: ConnectionTrait, P: Serialize>(
    txn: &C,
    events: &[NewEvent<'_, P>],
    subscribers: &[String],
) -> Result<Vec<Uuid>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    let now: DateTime<Utc> = Utc::now();
    // On SQLite the writer lock is held, so the highest position cannot move until commit; one multi-row INSERT with
    // a MAX() subquery per row would give every row the same position.
    let first_position = match backend {
        DbBackend::Postgres => None,
        _ => {
            let row = txn
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT MAX(position) AS p FROM outbox_events",
                ))
                .await?;
            let highest = match row {
                Some(row) => row.try_get::<Option<i64>>("", "p")?.unwrap_or(0),
                None => 0,
            };
            Some(highest + 1)
        }
    };
    let mut ids = Vec::with_capacity(events.len());
    let mut returned: std::collections::HashMap<Uuid, i64> = std::collections::HashMap::new();
    // Seven values per row; chunks keep far below either database's limit on bound parameters.
    for (chunk_index, chunk) in events.chunks(500).enumerate() {
        let mut sql = String::from(
            "INSERT INTO outbox_events (id, position, event_type, aggregate_id, payload, request_id, occurred_at) VALUES ",
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 6);
        for (i, event) in chunk.iter().enumerate() {
            let id = Uuid::now_v7();
            ids.push(id);
            let payload = serde_json::to_string(&event.payload)
                .map_err(|e| DbErr::Custom(format!("outbox payload: {e}")))?;
            let n = values.len();
            let position = match first_position {
                None => format!("nextval('{POSITION_SEQUENCE}')"),
                Some(first) => {
                    (first + i64::try_from(chunk_index * 500 + i).unwrap_or(i64::MAX)).to_string()
                }
            };
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, {position}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
            values.extend([
                id.into(),
                event.event_type.to_owned().into(),
                event.aggregate_id.into(),
                payload.into(),
                event.request_id.clone().into(),
                now.into(),
            ]);
        }
        match first_position {
            Some(_) => {
                txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await?;
            }
            None => {
                // The sequence's positions, for the deliveries.
                sql.push_str(" RETURNING id, position");
                for row in txn
                    .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await?
                {
                    let id: Uuid = row.try_get("", "id")?;
                    let position: i64 = row.try_get("", "position")?;
                    returned.insert(id, position);
                }
            }
        }
    }
    if !subscribers.is_empty() {
        let mut rows: Vec<delivery::ActiveModel> =
            Vec::with_capacity(ids.len() * subscribers.len());
        for (index, (id, event)) in ids.iter().zip(events).enumerate() {
            let position = match first_position {
                Some(first) => first + i64::try_from(index).unwrap_or(i64::MAX),
                None => *returned.get(id).ok_or_else(|| {
                    DbErr::Custom(format!("outbox: no position returned for event {id}"))
                })?,
            };
            for subscriber in subscribers {
                rows.push(delivery::ActiveModel {
                    event_id: Set(*id),
                    subscriber: Set(subscriber.clone()),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    delivered_at: Set(None),
                    last_error: Set(None),
                    aggregate_id: Set(Some(event.aggregate_id)),
                    position: Set(Some(position)),
                });
            }
        }
        for chunk in rows.chunks(1000) {
            delivery::Entity::insert_many(chunk.iter().cloned())
                .exec_without_returning(txn)
                .await?;
        }
    }
    Ok(ids)
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use crate::db::migration::{instant, maybe_instant};
    use sea_orm_migration::prelude::*;

    pub struct CreateOutbox;

    /// PostgreSQL only: positions come from a sequence (started after the highest one written so far) instead of
    /// `max(position) + 1` under a global advisory lock, which made every transaction that wrote an event wait for
    /// the previous one's commit. List it right after [`CreateOutbox`].
    pub struct OutboxPositionSequence;

    /// Copies each event's aggregate and position onto its deliveries, with two partial indexes of the pending
    /// ones: in position order (the relay's claim walks it and stops after a batch) and by subscriber, aggregate and
    /// position (an aggregate's earlier pending deliveries, which hold later ones back). Before, the claim joined
    /// every pending delivery to its event for both, and PostgreSQL, whose statistics lag behind a table that grows
    /// by thousands of rows a second, planned that as a walk of the whole backlog per claimed row: 1.4 s per claim,
    /// most of the database's CPU during a 20,000-registration burst. List it after [`OutboxPositionSequence`].
    pub struct OutboxDeliveryOrder;

    impl MigrationName for OutboxDeliveryOrder {
        fn name(&self) -> &str {
            "m20261121_000002_outbox_delivery_order"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for OutboxDeliveryOrder {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            // One column per ALTER: SQLite adds no more at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(OutboxDeliveries::Table)
                        .add_column(ColumnDef::new(OutboxDeliveries::AggregateId).uuid().null())
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(OutboxDeliveries::Table)
                        .add_column(
                            ColumnDef::new(OutboxDeliveries::Position)
                                .big_integer()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
            let db = manager.get_connection();
            db.execute_unprepared(
                "UPDATE outbox_deliveries SET \
                   aggregate_id = (SELECT e.aggregate_id FROM outbox_events e WHERE e.id = outbox_deliveries.event_id), \
                   position = (SELECT e.position FROM outbox_events e WHERE e.id = outbox_deliveries.event_id)",
            )
            .await?;
            // Partial indexes are the same SQL on SQLite and PostgreSQL; sea-query cannot build one.
            db.execute_unprepared(
                "CREATE INDEX IF NOT EXISTS outbox_deliveries_pending \
                 ON outbox_deliveries (position, subscriber) WHERE delivered_at IS NULL",
            )
            .await?;
            db.execute_unprepared(
                "CREATE INDEX IF NOT EXISTS outbox_deliveries_pending_by_aggregate \
                 ON outbox_deliveries (subscriber, aggregate_id, position) WHERE delivered_at IS NULL",
            )
            .await?;
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let db = manager.get_connection();
            db.execute_unprepared("DROP INDEX IF EXISTS outbox_deliveries_pending_by_aggregate")
                .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS outbox_deliveries_pending")
                .await?;
            for column in [OutboxDeliveries::Position, OutboxDeliveries::AggregateId] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(OutboxDeliveries::Table)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            Ok(())
        }
    }

    impl MigrationName for OutboxPositionSequence {
        fn name(&self) -> &str {
            "m20261121_000001_outbox_position_sequence"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for OutboxPositionSequence {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
                return Ok(());
            }
            let db = manager.get_connection();
            db.execute_unprepared(&format!(
                "CREATE SEQUENCE IF NOT EXISTS {seq}; \
                 SELECT setval('{seq}', COALESCE((SELECT max(position) FROM outbox_events), 0) + 1, false)",
                seq = super::POSITION_SEQUENCE
            ))
            .await?;
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
                return Ok(());
            }
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "DROP SEQUENCE IF EXISTS {}",
                    super::POSITION_SEQUENCE
                ))
                .await?;
            Ok(())
        }
    }

    // Named by hand: the derived name is the file's, which would change if the file moved.
    impl MigrationName for CreateOutbox {
        fn name(&self) -> &str {
            "m20261120_000001_create_outbox"
        }
    }

    #[derive(DeriveIden)]
    enum OutboxEvents {
        Table,
        Id,
        Position,
        EventType,
        AggregateId,
        Payload,
        RequestId,
        OccurredAt,
    }

    #[derive(DeriveIden)]
    enum OutboxDeliveries {
        Table,
        EventId,
        Subscriber,
        Attempts,
        NextAttemptAt,
        DeliveredAt,
        LastError,
        AggregateId,
        Position,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateOutbox {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(OutboxEvents::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(OutboxEvents::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(OutboxEvents::Position)
                                .big_integer()
                                .not_null()
                                .unique_key(),
                        )
                        .col(
                            ColumnDef::new(OutboxEvents::EventType)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(ColumnDef::new(OutboxEvents::AggregateId).uuid().not_null())
                        .col(ColumnDef::new(OutboxEvents::Payload).text().not_null())
                        .col(
                            ColumnDef::new(OutboxEvents::RequestId)
                                .string_len(128)
                                .null(),
                        )
                        .col(instant(OutboxEvents::OccurredAt))
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(OutboxDeliveries::Table)
                        .if_not_exists()
                        .col(ColumnDef::new(OutboxDeliveries::EventId).uuid().not_null())
                        .col(
                            ColumnDef::new(OutboxDeliveries::Subscriber)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(OutboxDeliveries::Attempts)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(instant(OutboxDeliveries::NextAttemptAt))
                        .col(maybe_instant(OutboxDeliveries::DeliveredAt))
                        .col(ColumnDef::new(OutboxDeliveries::LastError).text().null())
                        .primary_key(
                            Index::create()
                                .col(OutboxDeliveries::EventId)
                                .col(OutboxDeliveries::Subscriber),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(OutboxDeliveries::Table, OutboxDeliveries::EventId)
                                .to(OutboxEvents::Table, OutboxEvents::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            // The relay asks: which deliveries are due, oldest first?
            manager
                .create_index(
                    Index::create()
                        .name("outbox_deliveries_due")
                        .table(OutboxDeliveries::Table)
                        .col(OutboxDeliveries::DeliveredAt)
                        .col(OutboxDeliveries::NextAttemptAt)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            // …and, for each, is an earlier event of the same aggregate still undelivered?
            manager
                .create_index(
                    Index::create()
                        .name("outbox_events_aggregate")
                        .table(OutboxEvents::Table)
                        .col(OutboxEvents::AggregateId)
                        .col(OutboxEvents::Position)
                        .if_not_exists()
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(
                    Table::drop()
                        .table(OutboxDeliveries::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .drop_table(
                    Table::drop()
                        .table(OutboxEvents::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await
        }
    }
}
