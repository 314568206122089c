//! The invite ledger: per attendee (email address, lower case) and event, what their calendar was last sent — the
//! UID, SEQUENCE, METHOD and content hash — written in the same transaction as the message that sends it, so the
//! ledger and the mail queue never disagree. [`crate::domain::invites::plan`] reads it to decide what to send next.

use chrono::{DateTime, Utc};
use cloverleaf_calendar::Method;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::Error;
use crate::domain::invites::LedgerEntry;

pub mod invite {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "invites")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        /// Lower case.
        #[sea_orm(primary_key, auto_increment = false)]
        pub attendee_email: String,
        pub uid: String,
        /// The registration the last invite was for (a person who registers again gets a new one).
        pub registration_id: Option<Uuid>,
        pub sequence: i32,
        pub sequence_offset: i32,
        /// `REQUEST` or `CANCEL` (the calendar crate's active enum: stored as written after `METHOD:`).
        pub method: cloverleaf_calendar::Method,
        pub content_hash: String,
        pub fingerprint: String,
        /// The message that carried it.
        pub message_id: Uuid,
        pub sent_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<&invite::Model> for LedgerEntry {
    fn from(row: &invite::Model) -> Self {
        LedgerEntry {
            sequence: row.sequence,
            offset: row.sequence_offset,
            method: row.method,
            content_hash: row.content_hash.clone(),
            fingerprint: row.fingerprint.clone(),
        }
    }
}

/// What the ledger holds for one attendee.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    event_id: Uuid,
    email: &str,
) -> Result<Option<invite::Model>, Error> {
    Ok(invite::Entity::find_by_id((event_id, email.to_lowercase()))
        .one(db)
        .await?)
}

/// Every attendee's entry for an event, by address.
pub async fn of_event<C: ConnectionTrait>(
    db: &C,
    event_id: Uuid,
) -> Result<std::collections::HashMap<String, invite::Model>, Error> {
    Ok(invite::Entity::find()
        .filter(invite::Column::EventId.eq(event_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.attendee_email.clone(), row))
        .collect())
}

/// Erases a registration's person from the invite ledger (contract 3): their rows keep the UID, SEQUENCE and
/// METHOD, but the address is replaced by `erased:{registration id}` (the address is part of the key).
pub async fn erase_registration<C: ConnectionTrait>(
    txn: &C,
    event_id: Uuid,
    registration_id: Uuid,
) -> Result<u64, Error> {
    let result = invite::Entity::update_many()
        .col_expr(
            invite::Column::AttendeeEmail,
            sea_orm::sea_query::Expr::value(format!("erased:{registration_id}")),
        )
        .filter(invite::Column::EventId.eq(event_id))
        .filter(invite::Column::RegistrationId.eq(registration_id))
        .exec(txn)
        .await?;
    Ok(result.rows_affected)
}

/// One invite sent: what the ledger records.
#[derive(Debug, Clone)]
pub struct Sent<'a> {
    pub event_id: Uuid,
    pub email: &'a str,
    pub uid: &'a str,
    pub registration_id: Option<Uuid>,
    pub sequence: i32,
    pub offset: i32,
    pub method: Method,
    pub content_hash: &'a str,
    pub fingerprint: &'a str,
    pub message_id: Uuid,
    pub at: DateTime<Utc>,
}

/// Records an invite, in the transaction that queued its message.
pub async fn record<C: ConnectionTrait>(txn: &C, sent: Sent<'_>) -> Result<(), Error> {
    record_all(txn, vec![sent]).await
}

/// Rows per statement (11 columns each).
const UPSERT_CHUNK: usize = 200;

/// Records several invites (one per attendee: a later one for the same address replaces an earlier one, as it would
/// one statement at a time), a few hundred per statement.
pub async fn record_all<C: ConnectionTrait>(txn: &C, sent: Vec<Sent<'_>>) -> Result<(), Error> {
    // One row per (event, address): PostgreSQL refuses an upsert that touches a row twice.
    let mut latest: std::collections::HashMap<(Uuid, String), invite::ActiveModel> =
        std::collections::HashMap::with_capacity(sent.len());
    let mut order = Vec::with_capacity(sent.len());
    for sent in sent {
        let key = (sent.event_id, sent.email.to_lowercase());
        let row = invite::ActiveModel {
            event_id: Set(sent.event_id),
            attendee_email: Set(key.1.clone()),
            uid: Set(sent.uid.to_owned()),
            registration_id: Set(sent.registration_id),
            sequence: Set(sent.sequence),
            sequence_offset: Set(sent.offset),
            method: Set(sent.method),
            content_hash: Set(sent.content_hash.to_owned()),
            fingerprint: Set(sent.fingerprint.to_owned()),
            message_id: Set(sent.message_id),
            sent_at: Set(sent.at),
        };
        if latest.insert(key.clone(), row).is_none() {
            order.push(key);
        }
    }
    let mut rows = order
        .into_iter()
        .filter_map(|key| latest.remove(&key))
        .peekable();
    while rows.peek().is_some() {
        invite::Entity::insert_many(rows.by_ref().take(UPSERT_CHUNK))
            .on_conflict(
                OnConflict::columns([invite::Column::EventId, invite::Column::AttendeeEmail])
                    .update_columns([
                        invite::Column::Uid,
                        invite::Column::RegistrationId,
                        invite::Column::Sequence,
                        invite::Column::SequenceOffset,
                        invite::Column::Method,
                        invite::Column::ContentHash,
                        invite::Column::Fingerprint,
                        invite::Column::MessageId,
                        invite::Column::SentAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use cloverleaf_service_kit::db::migration::instant;
    use sea_orm_migration::prelude::*;

    pub struct CreateInvites;

    impl MigrationName for CreateInvites {
        fn name(&self) -> &str {
            "m20261121_000050_create_invites"
        }
    }

    #[derive(DeriveIden)]
    enum Invites {
        Table,
        EventId,
        AttendeeEmail,
        Uid,
        RegistrationId,
        Sequence,
        SequenceOffset,
        Method,
        ContentHash,
        Fingerprint,
        MessageId,
        SentAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateInvites {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Invites::Table)
                        .col(ColumnDef::new(Invites::EventId).uuid().not_null())
                        .col(
                            ColumnDef::new(Invites::AttendeeEmail)
                                .string_len(254)
                                .not_null(),
                        )
                        .col(ColumnDef::new(Invites::Uid).string_len(255).not_null())
                        .col(ColumnDef::new(Invites::RegistrationId).uuid().null())
                        .col(ColumnDef::new(Invites::Sequence).integer().not_null())
                        .col(ColumnDef::new(Invites::SequenceOffset).integer().not_null())
                        .col(ColumnDef::new(Invites::Method).string_len(16).not_null())
                        .col(
                            ColumnDef::new(Invites::ContentHash)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Invites::Fingerprint)
                                .string_len(64)
                                .not_null(),
                        )
                        .col(ColumnDef::new(Invites::MessageId).uuid().not_null())
                        .col(instant(Invites::SentAt))
                        .primary_key(
                            Index::create()
                                .col(Invites::EventId)
                                .col(Invites::AttendeeEmail),
                        )
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Invites::Table).if_exists().to_owned())
                .await
        }
    }
}
