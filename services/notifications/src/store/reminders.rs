//! The reminder schedule: per event, one row per offset before its start (`[reminders]` settings per kind). A row is
//! `scheduled` until [`crate::jobs::reminders`] sends it (`sent`, once: the mark and the queued emails commit
//! together) or it is `dropped` (the event was cancelled, or its time had passed). Moving the event moves the
//! scheduled ones; a sent reminder is never sent again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, DeriveActiveEnum,
    EntityTrait, EnumIter, FromQueryResult, QueryFilter, QueryOrder, Set, Statement,
};
use uuid::Uuid;

use crate::Error;

pub mod reminder {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "reminders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Uuid,
        pub minutes_before: i32,
        pub due_at: DateTimeUtc,
        pub status: super::Status,
        #[sea_orm(column_type = "Text", nullable)]
        pub note: Option<String>,
        pub attempts: i32,
        /// While a job is sending it (real time, not the rules' clock).
        pub lease_until: Option<DateTimeUtc>,
        pub sent_at: Option<DateTimeUtc>,
        /// How many attendees it was sent to.
        pub recipients: Option<i32>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a reminder is: `scheduled` until sent (once) or dropped. Stored as those strings (an active enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Status {
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "dropped")]
    Dropped,
}

/// Sets an event's reminders for its (new) start: scheduled ones move, or are dropped when their time has passed;
/// dropped ones come back when their time is ahead again; sent ones stay sent.
pub async fn schedule<C: ConnectionTrait>(
    txn: &C,
    event_id: Uuid,
    starts_at: DateTime<Utc>,
    offsets: &[i64],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let existing = reminder::Entity::find()
        .filter(reminder::Column::EventId.eq(event_id))
        .all(txn)
        .await?;
    for &minutes in offsets {
        let Ok(minutes_before) = i32::try_from(minutes) else {
            continue;
        };
        let due_at = starts_at - Duration::minutes(minutes);
        let ahead = due_at > now;
        let (status, note) = if ahead {
            (Status::Scheduled, None)
        } else {
            (
                Status::Dropped,
                Some("its time had passed when the event was scheduled or moved".to_owned()),
            )
        };
        match existing.iter().find(|r| r.minutes_before == minutes_before) {
            Some(row) if row.status == Status::Sent => {}
            Some(row) => {
                if row.due_at == due_at && row.status == status {
                    continue;
                }
                let mut active: reminder::ActiveModel = row.clone().into();
                active.due_at = Set(due_at);
                active.status = Set(status);
                active.note = Set(note);
                active.updated_at = Set(Utc::now());
                active.update(txn).await?;
            }
            None => {
                reminder::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    event_id: Set(event_id),
                    minutes_before: Set(minutes_before),
                    due_at: Set(due_at),
                    status: Set(status),
                    note: Set(note),
                    attempts: Set(0),
                    lease_until: Set(None),
                    sent_at: Set(None),
                    recipients: Set(None),
                    updated_at: Set(Utc::now()),
                }
                .insert(txn)
                .await?;
            }
        }
    }
    // Offsets the event no longer has (its organisers changed its reminders) are dropped, not deleted: the
    // schedule still says what was planned and why it went.
    for row in existing.iter().filter(|r| {
        r.status == Status::Scheduled && !offsets.contains(&i64::from(r.minutes_before))
    }) {
        let mut active: reminder::ActiveModel = row.clone().into();
        active.status = Set(Status::Dropped);
        active.note = Set(Some("no longer among the event's reminders".to_owned()));
        active.updated_at = Set(Utc::now());
        active.update(txn).await?;
    }
    Ok(())
}

/// Drops every reminder of an event not sent yet (it was cancelled).
pub async fn drop_pending<C: ConnectionTrait>(
    txn: &C,
    event_id: Uuid,
    note: &str,
) -> Result<(), Error> {
    reminder::Entity::update_many()
        .col_expr(reminder::Column::Status, Status::Dropped.into())
        .col_expr(reminder::Column::Note, Some(note.to_owned()).into())
        .col_expr(reminder::Column::UpdatedAt, Utc::now().into())
        .filter(reminder::Column::EventId.eq(event_id))
        .filter(reminder::Column::Status.eq(Status::Scheduled))
        .exec(txn)
        .await?;
    Ok(())
}

/// A reminder's schedule for an event, soonest first.
pub async fn of_event<C: ConnectionTrait>(
    db: &C,
    event_id: Uuid,
) -> Result<Vec<reminder::Model>, Error> {
    Ok(reminder::Entity::find()
        .filter(reminder::Column::EventId.eq(event_id))
        .order_by_asc(reminder::Column::DueAt)
        .all(db)
        .await?)
}

/// A reminder claimed by the job.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Claimed {
    pub id: Uuid,
    pub event_id: Uuid,
    pub minutes_before: i32,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
}

/// `$1` lease end, `$2` the rules' now (due), `$3` real now (expired leases), `$4` batch. `'scheduled'` is
/// [`Status::Scheduled`]'s stored value (checked by a test below), here and in [`finish`].
const CLAIM_SQL: &str = "\
UPDATE reminders SET attempts = attempts + 1, lease_until = $1 \
WHERE id IN (SELECT id FROM reminders WHERE status = 'scheduled' AND due_at <= $2 \
  AND (lease_until IS NULL OR lease_until <= $3) ORDER BY due_at, id LIMIT $4{lock}) \
RETURNING id, event_id, minutes_before, due_at, attempts";

/// Leases due reminders.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    batch: u32,
) -> Result<Vec<Claimed>, DbErr> {
    let backend = db.get_database_backend();
    let lock = cloverleaf_service_kit::db::skip_locked(backend);
    let txn = cloverleaf_service_kit::db::begin_write(db).await?;
    let rows = Claimed::find_by_statement(Statement::from_sql_and_values(
        backend,
        CLAIM_SQL.replace("{lock}", lock),
        [
            lease_until.into(),
            now.into(),
            Utc::now().into(),
            i64::from(batch).into(),
        ],
    ))
    .all(&txn)
    .await?;
    txn.commit().await?;
    Ok(rows)
}

/// Ends a claimed reminder (`sent` with its recipient count, or `dropped` with a note), first thing in the
/// transaction that queues its emails: `false` when the claim is no longer ours, and the caller rolls back.
pub async fn finish<C: ConnectionTrait>(
    txn: &C,
    claimed: &Claimed,
    status: Status,
    recipients: Option<i32>,
    note: Option<&str>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let sent_at = (status == Status::Sent).then_some(now);
    let result = txn
        .execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "UPDATE reminders SET status = $1, sent_at = $2, recipients = $3, note = $4, lease_until = NULL, \
             updated_at = $5 WHERE id = $6 AND status = 'scheduled' AND attempts = $7",
            [
                status.into(),
                sent_at.into(),
                recipients.into(),
                note.map(str::to_owned).into(),
                now.into(),
                claimed.id.into(),
                claimed.attempts.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use super::*;

    /// The raw statements name the scheduled state by its stored string.
    #[test]
    fn the_claims_literal_is_the_scheduled_value() {
        let scheduled = format!("status = '{}'", Status::Scheduled.to_value());
        assert!(CLAIM_SQL.contains(&scheduled));
    }
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use cloverleaf_service_kit::db::migration::{instant, maybe_instant};
    use sea_orm_migration::prelude::*;

    pub struct CreateReminders;

    impl MigrationName for CreateReminders {
        fn name(&self) -> &str {
            "m20261121_000060_create_reminders"
        }
    }

    #[derive(DeriveIden)]
    enum Reminders {
        Table,
        Id,
        EventId,
        MinutesBefore,
        DueAt,
        Status,
        Note,
        Attempts,
        LeaseUntil,
        SentAt,
        Recipients,
        UpdatedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateReminders {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Reminders::Table)
                        .col(
                            ColumnDef::new(Reminders::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Reminders::EventId).uuid().not_null())
                        .col(
                            ColumnDef::new(Reminders::MinutesBefore)
                                .integer()
                                .not_null(),
                        )
                        .col(instant(Reminders::DueAt))
                        .col(ColumnDef::new(Reminders::Status).string_len(16).not_null())
                        .col(ColumnDef::new(Reminders::Note).text().null())
                        .col(
                            ColumnDef::new(Reminders::Attempts)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(maybe_instant(Reminders::LeaseUntil))
                        .col(maybe_instant(Reminders::SentAt))
                        .col(ColumnDef::new(Reminders::Recipients).integer().null())
                        .col(instant(Reminders::UpdatedAt))
                        .to_owned(),
                )
                .await?;
            // One reminder per offset per event: a repeated `event.published` cannot make a second.
            manager
                .create_index(
                    Index::create()
                        .name("reminders_per_offset")
                        .table(Reminders::Table)
                        .col(Reminders::EventId)
                        .col(Reminders::MinutesBefore)
                        .unique()
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("reminders_due")
                        .table(Reminders::Table)
                        .col(Reminders::Status)
                        .col(Reminders::DueAt)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Reminders::Table).if_exists().to_owned())
                .await
        }
    }
}
