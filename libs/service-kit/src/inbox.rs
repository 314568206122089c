//! The receiving end of the outbox, for a service that handles a domain event at once, in the transaction of what
//! it changes: [`check`] the envelope, then in one write transaction [`record`] its id (`false`: a repeat, change
//! nothing) and make the change, and commit. A crash before the commit leaves neither, so the sender's retry is
//! handled whole; a repeat after it finds the id and changes nothing — at-least-once delivery handled exactly once.
//!
//! Only the envelope is kept (`inbox_received`: id, type, aggregate, source, times), never the payload, so the table
//! holds no personal data. A service that queues events for a worker instead (notifications) keeps its own table.
//!
//! ```text
//! inbox::check(&event)?;
//! let txn = db::begin_write(&db).await?;
//! if inbox::record(&txn, &event).await? { /* handle event.payload */ }
//! txn.commit().await?;
//! ```

use chrono::Utc;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde::Serialize;

use crate::outbox::InboxEvent;
use crate::{FieldError, Problem};

/// The longest event type and source accepted (the outbox's columns).
pub const TYPE_MAX: usize = 64;
pub const SOURCE_MAX: usize = 32;

pub mod received {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox_received")]
    pub struct Model {
        /// The id the sender gave the event: a repeat has the same one.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_type: String,
        pub aggregate_id: Uuid,
        pub source: String,
        pub occurred_at: DateTimeUtc,
        pub received_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The answer to a delivery: 202 with this body, a repeat included.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Received {
    pub id: Uuid,
    /// True when this event had been received before (nothing was changed).
    pub duplicate: bool,
}

/// A 422 naming each malformed part of the envelope.
pub fn check(event: &InboxEvent) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if event.event_type.trim().is_empty() || event.event_type.len() > TYPE_MAX {
        errors.push(FieldError::new(
            "type",
            "invalid",
            format!("must be 1 to {TYPE_MAX} characters"),
        ));
    }
    if event.source.trim().is_empty() || event.source.len() > SOURCE_MAX {
        errors.push(FieldError::new(
            "source",
            "invalid",
            format!("must be 1 to {SOURCE_MAX} characters"),
        ));
    }
    if !event.payload.is_object() {
        errors.push(FieldError::new("payload", "invalid", "must be an object"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(errors))
    }
}

/// Records the event's id in the caller's transaction; `false` when it was recorded before (a repeat). On
/// PostgreSQL a concurrent delivery of the same event waits on the row until this transaction ends, then finds it.
pub async fn record<C: ConnectionTrait>(txn: &C, event: &InboxEvent) -> Result<bool, DbErr> {
    let row = received::ActiveModel {
        id: Set(event.id),
        event_type: Set(event.event_type.clone()),
        aggregate_id: Set(event.aggregate_id),
        source: Set(event.source.clone()),
        occurred_at: Set(event.occurred_at),
        received_at: Set(Utc::now()),
    };
    let inserted = received::Entity::insert(row)
        .on_conflict(
            OnConflict::column(received::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(inserted == 1)
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use crate::db::migration::instant;
    use sea_orm_migration::prelude::*;

    /// The `inbox_received` table of [`super::record`]; a service that uses it lists this in its migrator.
    pub struct CreateInboxReceived;

    impl MigrationName for CreateInboxReceived {
        fn name(&self) -> &str {
            "m20261201_000001_create_inbox_received"
        }
    }

    #[derive(DeriveIden)]
    enum InboxReceived {
        Table,
        Id,
        EventType,
        AggregateId,
        Source,
        OccurredAt,
        ReceivedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateInboxReceived {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(InboxReceived::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(InboxReceived::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(InboxReceived::EventType)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(ColumnDef::new(InboxReceived::AggregateId).uuid().not_null())
                        .col(
                            ColumnDef::new(InboxReceived::Source)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(instant(InboxReceived::OccurredAt))
                        .col(instant(InboxReceived::ReceivedAt))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(
                    Table::drop()
                        .table(InboxReceived::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await
        }
    }
}
