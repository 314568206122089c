//! The transactional outbox: a domain event is written in the same database transaction as the change it reports,
//! so either both happen or neither does. A relay (in the service that owns the table) later delivers each row to
//! every subscriber's `/v1/inbox` until acknowledged; the event's UUID lets receivers drop repeats.
//!
//! Two tables, created by [`migration::CreateOutbox`] which every service lists in its migrator:
//! - `outbox_events`: one row per domain event, in the order they were written (`position`).
//! - `outbox_deliveries`: one row per event and subscriber, with attempts, next try and last error, so one slow
//!   subscriber neither blocks nor repeats the others.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QuerySelect};
use serde::Serialize;

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
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Writes a domain event and one pending delivery per subscriber, inside the caller's transaction `txn`.
pub async fn enqueue<C: ConnectionTrait, P: Serialize>(
    txn: &C,
    event_type: &str,
    aggregate_id: Uuid,
    payload: &P,
    subscribers: &[String],
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    let now: DateTime<Utc> = Utc::now();
    let payload = serde_json::to_string(payload)
        .map_err(|e| DbErr::Custom(format!("outbox payload: {e}")))?;
    // The next position inside the same transaction: writers to one outbox serialise on it (unique index), so
    // positions follow commit order for each aggregate.
    let last: Option<i64> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Position.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(txn)
        .await?
        .flatten();
    event::ActiveModel {
        id: Set(id),
        position: Set(last.unwrap_or(0) + 1),
        event_type: Set(event_type.to_owned()),
        aggregate_id: Set(aggregate_id),
        payload: Set(payload),
        request_id: Set(crate::observe::current_request_id()),
        occurred_at: Set(now),
    }
    .insert(txn)
    .await?;
    for subscriber in subscribers {
        delivery::ActiveModel {
            event_id: Set(id),
            subscriber: Set(subscriber.clone()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            delivered_at: Set(None),
            last_error: Set(None),
        }
        .insert(txn)
        .await?;
    }
    Ok(id)
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use sea_orm_migration::prelude::*;

    pub struct CreateOutbox;

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
                        .col(
                            ColumnDef::new(OutboxEvents::OccurredAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
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
                        .col(
                            ColumnDef::new(OutboxDeliveries::NextAttemptAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(OutboxDeliveries::DeliveredAt)
                                .timestamp_with_time_zone()
                                .null(),
                        )
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
