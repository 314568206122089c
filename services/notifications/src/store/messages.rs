//! The outgoing email: one row per message, written (`queued`) in the transaction of whatever caused it, then
//! delivered by [`crate::jobs::delivery`]: `queued → sending → sent`, or back to `queued` after a transient failure,
//! or `failed`. `raw` holds the formatted RFC 5322 message exactly as it is sent (ASCII: lettre encodes every header
//! and body), so what was rendered is what arrives and what the delivery log shows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func, StringLen};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DeriveActiveEnum, EntityTrait, EnumIter, Iterable,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::Error;
use cloverleaf_service_kit::Problem;

/// The longest `kind`.
pub const KIND_MAX: usize = 32;

pub mod message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        /// UUIDv7: ordered by creation.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Option<Uuid>,
        pub registration_id: Option<Uuid>,
        /// `confirmation`, `invite`, `update`, `cancel`, `waitlist`, `reminder`…
        pub kind: String,
        pub to_email: String,
        pub to_name: String,
        #[sea_orm(column_type = "Text")]
        pub subject: String,
        /// The formatted message, byte for byte as sent.
        #[sea_orm(column_type = "Text")]
        pub raw: String,
        pub status: super::Status,
        /// Tries begun (a try is counted when it is claimed).
        pub attempts: i32,
        /// When it is due: the next try, or the end of the current lease while `sending`.
        pub next_attempt_at: DateTimeUtc,
        pub lease_until: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        pub queued_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a message is in its delivery: `queued`, `sending`, `sent` or `failed`, stored as those strings (an active
/// enum). The delivery worker's raw statements (`jobs::delivery`) write the same strings as literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Status {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// A message to queue: already rendered and formatted.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub event_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    pub kind: String,
    pub to_email: String,
    pub to_name: String,
    pub subject: String,
    /// `lettre::Message::formatted()`, as text.
    pub raw: String,
}

impl NewMessage {
    /// A message built with lettre (e.g. by `cloverleaf_calendar::email`): its formatted bytes and its one
    /// recipient. `to_name` and `subject` are what the delivery log shows.
    pub fn from_lettre(
        kind: &str,
        message: &lettre::Message,
        to_name: &str,
        subject: &str,
    ) -> Result<Self, Error> {
        let raw = String::from_utf8(message.formatted())
            .map_err(|_| Error::Corrupt("a formatted message is not ASCII".to_owned()))?;
        let to_email = match message.envelope().to() {
            [one] => one.to_string(),
            other => {
                return Err(Error::Corrupt(format!(
                    "a message must have one recipient, not {}",
                    other.len()
                )));
            }
        };
        Ok(Self {
            event_id: None,
            registration_id: None,
            kind: kind.to_owned(),
            to_email,
            to_name: to_name.to_owned(),
            subject: subject.to_owned(),
            raw,
        })
    }

    pub fn for_event(mut self, event_id: Uuid) -> Self {
        self.event_id = Some(event_id);
        self
    }

    pub fn for_registration(mut self, registration_id: Uuid) -> Self {
        self.registration_id = Some(registration_id);
        self
    }
}

/// Queues `new` in the caller's transaction (so the change that caused it and its messages commit together); the
/// delivery worker sends it once committed (call `DeliveryHandle::wake` after the commit to send it at once).
pub async fn enqueue<C: ConnectionTrait>(txn: &C, new: NewMessage) -> Result<Queued, Error> {
    let mut queued = enqueue_all(txn, vec![new]).await?;
    queued
        .pop()
        .ok_or_else(|| Error::Corrupt("no message was queued".to_owned()))
}

/// A message just queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub id: Uuid,
    pub event_id: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
}

/// Rows per INSERT: 15 columns × 200 stays far below SQLite's and PostgreSQL's limits on bound values.
const INSERT_CHUNK: usize = 200;

/// Queues several messages in the caller's transaction, a few hundred per INSERT (an invite fan-out writes
/// thousands, and one statement per message was most of its time); returns them in the order given.
pub async fn enqueue_all<C: ConnectionTrait>(
    txn: &C,
    new: Vec<NewMessage>,
) -> Result<Vec<Queued>, Error> {
    let now = Utc::now();
    let mut queued = Vec::with_capacity(new.len());
    let mut rows = Vec::with_capacity(new.len());
    for new in new {
        if new.kind.is_empty() || new.kind.len() > KIND_MAX {
            return Err(Error::Corrupt(format!(
                "message kind {:?} must be 1 to {KIND_MAX} characters",
                new.kind
            )));
        }
        if !new.raw.is_ascii() {
            return Err(Error::Corrupt(
                "a formatted message must be ASCII (lettre encodes headers and bodies)".to_owned(),
            ));
        }
        if new.to_email.parse::<lettre::Address>().is_err() {
            return Err(Error::Corrupt(format!(
                "invalid recipient {:?}",
                new.to_email
            )));
        }
        let id = Uuid::now_v7();
        queued.push(Queued {
            id,
            event_id: new.event_id,
            queued_at: now,
        });
        rows.push(message::ActiveModel {
            id: Set(id),
            event_id: Set(new.event_id),
            registration_id: Set(new.registration_id),
            kind: Set(new.kind),
            to_email: Set(new.to_email),
            to_name: Set(new.to_name),
            subject: Set(new.subject),
            raw: Set(new.raw),
            status: Set(Status::Queued),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_until: Set(None),
            last_error: Set(None),
            queued_at: Set(now),
            sent_at: Set(None),
            created_at: Set(now),
        });
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        message::Entity::insert_many(rows.by_ref().take(INSERT_CHUNK))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(queued)
}

/// What the delivery log filters by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub event_id: Option<Uuid>,
    pub status: Option<Status>,
    /// The recipient's address, case-insensitive.
    pub to: Option<String>,
}

fn filtered(
    mut query: sea_orm::Select<message::Entity>,
    filter: &Filter,
    with_status: bool,
) -> sea_orm::Select<message::Entity> {
    if let Some(event_id) = filter.event_id {
        query = query.filter(message::Column::EventId.eq(event_id));
    }
    if with_status && let Some(status) = filter.status {
        query = query.filter(message::Column::Status.eq(status));
    }
    if let Some(to) = &filter.to {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(message::Column::ToEmail)))
                .eq(to.trim().to_lowercase()),
        );
    }
    query
}

/// Up to `limit + 1` messages after `after` (by id: queued order), for [`cloverleaf_service_kit::pagination`].
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<message::Model>, Error> {
    let mut query = filtered(message::Entity::find(), filter, true);
    if let Some(after) = after {
        query = query.filter(message::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(message::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Messages per status under the filter's event and recipient (every status present, zeros included).
pub async fn counts<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
) -> Result<BTreeMap<String, i64>, Error> {
    let rows: Vec<(String, i64)> = filtered(message::Entity::find(), filter, false)
        .select_only()
        .column(message::Column::Status)
        .column_as(message::Column::Id.count(), "n")
        .group_by(message::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: BTreeMap<String, i64> = Status::iter().map(|s| (s.to_value(), 0)).collect();
    for (status, n) in rows {
        counts.insert(status, n);
    }
    Ok(counts)
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<message::Model, Error> {
    message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found("This message").into())
}

/// What the delivery log shows instead of an erased person's address.
pub const ERASED_ADDRESS: &str = "erased";

/// Erases a registration's person from the delivery log (contract 3): each of their messages keeps its row — kind,
/// status, attempts and times, so the counts stay right — but loses the address (shown as [`ERASED_ADDRESS`]),
/// the name and the text sent (`raw`); the subject, which names only the event, stays. A message not sent yet is
/// not sent any more: it is marked failed, saying why. Returns how many messages were touched.
pub async fn erase_registration<C: ConnectionTrait>(
    txn: &C,
    registration_id: Uuid,
) -> Result<u64, Error> {
    message::Entity::update_many()
        .col_expr(message::Column::Status, Expr::value(Status::Failed))
        .col_expr(
            message::Column::LastError,
            Expr::value(Some("the recipient's data was erased before it was sent")),
        )
        .filter(message::Column::RegistrationId.eq(registration_id))
        .filter(message::Column::Status.eq(Status::Queued))
        .exec(txn)
        .await?;
    let erased = message::Entity::update_many()
        .col_expr(message::Column::ToEmail, Expr::value(ERASED_ADDRESS))
        .col_expr(message::Column::ToName, Expr::value(""))
        .col_expr(message::Column::Raw, Expr::value(""))
        .filter(message::Column::RegistrationId.eq(registration_id))
        .exec(txn)
        .await?;
    // A failure's reason may quote the address; the queued ones were given theirs above.
    message::Entity::update_many()
        .col_expr(message::Column::LastError, Expr::value(None::<String>))
        .filter(message::Column::RegistrationId.eq(registration_id))
        .filter(message::Column::Status.ne(Status::Failed))
        .exec(txn)
        .await?;
    Ok(erased.rows_affected)
}

/// Messages not yet sent or failed (the `cloverleaf_mail_queued` gauge).
pub async fn pending<C: ConnectionTrait>(db: &C) -> Result<i64, Error> {
    let n: Option<i64> = message::Entity::find()
        .select_only()
        .column_as(message::Column::Id.count(), "n")
        .filter(message::Column::Status.is_in([Status::Queued, Status::Sending]))
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}

/// When a message became due, for the time-to-delivery histogram.
pub fn queued_for(queued_at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    (now - queued_at)
        .to_std()
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use cloverleaf_service_kit::db::migration::{instant, maybe_instant};
    use sea_orm_migration::prelude::*;

    /// `messages`, with the index the delivery worker claims by.
    pub struct CreateMessages;

    impl MigrationName for CreateMessages {
        fn name(&self) -> &str {
            "m20261121_000030_create_messages"
        }
    }

    #[derive(DeriveIden)]
    enum Messages {
        Table,
        Id,
        EventId,
        RegistrationId,
        Kind,
        ToEmail,
        ToName,
        Subject,
        Raw,
        Status,
        Attempts,
        NextAttemptAt,
        LeaseUntil,
        LastError,
        QueuedAt,
        SentAt,
        CreatedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateMessages {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Messages::Table)
                        .col(ColumnDef::new(Messages::Id).uuid().not_null().primary_key())
                        .col(ColumnDef::new(Messages::EventId).uuid().null())
                        .col(ColumnDef::new(Messages::RegistrationId).uuid().null())
                        .col(ColumnDef::new(Messages::Kind).string_len(32).not_null())
                        .col(ColumnDef::new(Messages::ToEmail).string_len(254).not_null())
                        .col(ColumnDef::new(Messages::ToName).string_len(200).not_null())
                        .col(ColumnDef::new(Messages::Subject).text().not_null())
                        .col(ColumnDef::new(Messages::Raw).text().not_null())
                        .col(ColumnDef::new(Messages::Status).string_len(16).not_null())
                        .col(
                            ColumnDef::new(Messages::Attempts)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(instant(Messages::NextAttemptAt))
                        .col(maybe_instant(Messages::LeaseUntil))
                        .col(ColumnDef::new(Messages::LastError).text().null())
                        .col(instant(Messages::QueuedAt))
                        .col(maybe_instant(Messages::SentAt))
                        .col(instant(Messages::CreatedAt))
                        .to_owned(),
                )
                .await?;
            // The worker's claim: due messages by status and time.
            manager
                .create_index(
                    Index::create()
                        .name("messages_due")
                        .table(Messages::Table)
                        .col(Messages::Status)
                        .col(Messages::NextAttemptAt)
                        .to_owned(),
                )
                .await?;
            // The delivery log: an event's messages in queued order.
            manager
                .create_index(
                    Index::create()
                        .name("messages_by_event")
                        .table(Messages::Table)
                        .col(Messages::EventId)
                        .col(Messages::Id)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Messages::Table).if_exists().to_owned())
                .await
        }
    }
}
