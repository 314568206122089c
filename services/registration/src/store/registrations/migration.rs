//! The migrations of the forms, registrations and idempotency-key tables (names never change once released;
//! [`crate::store::migrations::Migrator`] lists them in order with every other table's).

use sea_orm_migration::prelude::*;

use cloverleaf_service_kit::db::migration::{instant, maybe_instant};

pub struct CreateRegistrations;

/// `forms.event_cancelled_at`: set when scheduling's `event.cancelled` ends the event's registrations.
pub struct FormsEventCancelled;

impl MigrationName for FormsEventCancelled {
    fn name(&self) -> &str {
        "m20261201_000021_forms_event_cancelled"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FormsEventCancelled {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Forms::Table)
                    .add_column(maybe_instant(Forms::EventCancelledAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Forms::Table)
                    .drop_column(Forms::EventCancelledAt)
                    .to_owned(),
            )
            .await
    }
}

impl MigrationName for CreateRegistrations {
    fn name(&self) -> &str {
        "m20261121_000020_create_registrations"
    }
}

#[derive(DeriveIden)]
enum Forms {
    Table,
    EventId,
    Capacity,
    Waitlist,
    Approval,
    OpensAt,
    ClosesAt,
    Questions,
    ConfirmedCount,
    NextWaitlistSeq,
    EventCancelledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Registrations {
    Table,
    Id,
    EventId,
    Email,
    EmailKey,
    Name,
    Affiliation,
    Country,
    Answers,
    Locale,
    Timezone,
    Status,
    WaitlistSeq,
    ConsentAt,
    CreatedAt,
    UpdatedAt,
    ConfirmedAt,
    CancelledAt,
    CheckedInAt,
    ErasedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Key,
    RequestHash,
    RegistrationId,
    StatusCode,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRegistrations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Forms::Table)
                    .col(
                        ColumnDef::new(Forms::EventId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Forms::Capacity).integer().null())
                    .col(ColumnDef::new(Forms::Waitlist).boolean().not_null())
                    .col(ColumnDef::new(Forms::Approval).string_len(16).not_null())
                    .col(maybe_instant(Forms::OpensAt))
                    .col(maybe_instant(Forms::ClosesAt))
                    .col(ColumnDef::new(Forms::Questions).text().not_null())
                    .col(
                        ColumnDef::new(Forms::ConfirmedCount)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Forms::NextWaitlistSeq)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .col(instant(Forms::CreatedAt))
                    .col(instant(Forms::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Registrations::Table)
                    .col(
                        ColumnDef::new(Registrations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Registrations::EventId).uuid().not_null())
                    .col(ColumnDef::new(Registrations::Email).string_len(254).null())
                    .col(
                        ColumnDef::new(Registrations::EmailKey)
                            .string_len(254)
                            .null(),
                    )
                    .col(ColumnDef::new(Registrations::Name).string_len(200).null())
                    .col(
                        ColumnDef::new(Registrations::Affiliation)
                            .string_len(300)
                            .null(),
                    )
                    .col(ColumnDef::new(Registrations::Country).string_len(2).null())
                    .col(ColumnDef::new(Registrations::Answers).text().null())
                    .col(
                        ColumnDef::new(Registrations::Locale)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Registrations::Timezone)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Registrations::Status)
                            .string_len(24)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Registrations::WaitlistSeq)
                            .big_integer()
                            .null(),
                    )
                    .col(instant(Registrations::ConsentAt))
                    .col(instant(Registrations::CreatedAt))
                    .col(instant(Registrations::UpdatedAt))
                    .col(maybe_instant(Registrations::ConfirmedAt))
                    .col(maybe_instant(Registrations::CancelledAt))
                    .col(maybe_instant(Registrations::CheckedInAt))
                    .col(maybe_instant(Registrations::ErasedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Registrations::Table, Registrations::EventId)
                            .to(Forms::Table, Forms::EventId),
                    )
                    .to_owned(),
            )
            .await?;
        // "The same email for one event", and the waiting list in order.
        manager
            .create_index(
                Index::create()
                    .name("registrations_by_email")
                    .table(Registrations::Table)
                    .col(Registrations::EventId)
                    .col(Registrations::EmailKey)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("registrations_by_status")
                    .table(Registrations::Table)
                    .col(Registrations::EventId)
                    .col(Registrations::Status)
                    .col(Registrations::WaitlistSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::RegistrationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::StatusCode)
                            .integer()
                            .not_null(),
                    )
                    .col(instant(IdempotencyKeys::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            Registrations::Table.into_iden(),
            Forms::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
