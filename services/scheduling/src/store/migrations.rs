use sea_orm_migration::prelude::*;

/// Every migration of the scheduling database, oldest first. Names never change once released.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(cloverleaf_service_kit::outbox::migration::CreateOutbox),
            Box::new(cloverleaf_service_kit::outbox::migration::OutboxPositionSequence),
            Box::new(cloverleaf_service_kit::outbox::migration::OutboxDeliveryOrder),
            Box::new(m20261121_000001_create_scheduling::Migration),
            Box::new(m20261201_000001_chinese_texts_end_zones::Migration),
            Box::new(m20261203_000001_event_teams::Migration),
            Box::new(m20261204_000001_event_reminders::Migration),
        ]
    }
}

// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
mod m20261121_000001_create_scheduling {
    use cloverleaf_service_kit::db::migration::{instant, maybe_instant};
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261121_000001_create_scheduling"
        }
    }

    #[derive(DeriveIden)]
    enum Events {
        Table,
        Id,
        Slug,
        Kind,
        Title,
        Summary,
        Description,
        Timezone,
        StartsAt,
        EndsAt,
        OnlineUrl,
        VenueId,
        VenueName,
        VenueAddress,
        VenueCity,
        VenueCountry,
        OrganiserName,
        OrganiserEmail,
        Status,
        Sequence,
        CreatedBy,
        CreatedAt,
        UpdatedAt,
        PublishedAt,
        CancelledAt,
        CancelReason,
    }

    #[derive(DeriveIden)]
    enum AgendaItems {
        Table,
        Id,
        EventId,
        Kind,
        Title,
        StartsAt,
        EndsAt,
        Timezone,
        Description,
        Location,
        RoomId,
        HostId,
        Details,
        Sequence,
        CreatedAt,
        UpdatedAt,
    }

    #[derive(DeriveIden)]
    enum ItemSpeakers {
        Table,
        ItemId,
        PersonId,
        Position,
    }

    #[derive(DeriveIden)]
    enum People {
        Table,
        Id,
        Name,
        Affiliation,
        Email,
        CreatedAt,
        UpdatedAt,
    }

    #[derive(DeriveIden)]
    enum Venues {
        Table,
        Id,
        Name,
        Address,
        City,
        Country,
        Timezone,
        CreatedAt,
    }

    #[derive(DeriveIden)]
    enum Rooms {
        Table,
        Id,
        VenueId,
        Name,
        Capacity,
    }

    #[derive(DeriveIden)]
    enum EventChanges {
        Table,
        Id,
        EventId,
        ItemId,
        Action,
        Changes,
        CalendarVisible,
        Sequence,
        ChangedBy,
        ChangedAt,
    }

    fn uuid_pk(name: impl IntoIden) -> ColumnDef {
        ColumnDef::new(name)
            .uuid()
            .not_null()
            .primary_key()
            .to_owned()
    }

    fn text(name: impl IntoIden) -> ColumnDef {
        ColumnDef::new(name).string_len(500).null().to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(People::Table)
                        .col(uuid_pk(People::Id))
                        .col(ColumnDef::new(People::Name).string_len(200).not_null())
                        .col(text(People::Affiliation))
                        .col(ColumnDef::new(People::Email).string_len(254).null())
                        .col(instant(People::CreatedAt))
                        .col(instant(People::UpdatedAt))
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Venues::Table)
                        .col(uuid_pk(Venues::Id))
                        .col(ColumnDef::new(Venues::Name).string_len(200).not_null())
                        .col(text(Venues::Address))
                        .col(text(Venues::City))
                        .col(text(Venues::Country))
                        .col(ColumnDef::new(Venues::Timezone).string_len(64).null())
                        .col(instant(Venues::CreatedAt))
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Rooms::Table)
                        .col(uuid_pk(Rooms::Id))
                        .col(ColumnDef::new(Rooms::VenueId).uuid().not_null())
                        .col(ColumnDef::new(Rooms::Name).string_len(200).not_null())
                        .col(ColumnDef::new(Rooms::Capacity).integer().null())
                        .foreign_key(
                            ForeignKey::create()
                                .from(Rooms::Table, Rooms::VenueId)
                                .to(Venues::Table, Venues::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Events::Table)
                        .col(uuid_pk(Events::Id))
                        .col(
                            ColumnDef::new(Events::Slug)
                                .string_len(80)
                                .not_null()
                                .unique_key(),
                        )
                        .col(ColumnDef::new(Events::Kind).string_len(16).not_null())
                        .col(ColumnDef::new(Events::Title).string_len(200).not_null())
                        .col(text(Events::Summary))
                        .col(ColumnDef::new(Events::Description).text().null())
                        .col(ColumnDef::new(Events::Timezone).string_len(64).not_null())
                        .col(instant(Events::StartsAt))
                        .col(instant(Events::EndsAt))
                        .col(ColumnDef::new(Events::OnlineUrl).text().null())
                        .col(ColumnDef::new(Events::VenueId).uuid().null())
                        .col(ColumnDef::new(Events::VenueName).string_len(200).null())
                        .col(text(Events::VenueAddress))
                        .col(text(Events::VenueCity))
                        .col(text(Events::VenueCountry))
                        .col(
                            ColumnDef::new(Events::OrganiserName)
                                .string_len(200)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Events::OrganiserEmail)
                                .string_len(254)
                                .not_null(),
                        )
                        .col(ColumnDef::new(Events::Status).string_len(16).not_null())
                        .col(
                            ColumnDef::new(Events::Sequence)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(ColumnDef::new(Events::CreatedBy).string_len(254).not_null())
                        .col(instant(Events::CreatedAt))
                        .col(instant(Events::UpdatedAt))
                        .col(maybe_instant(Events::PublishedAt))
                        .col(maybe_instant(Events::CancelledAt))
                        .col(text(Events::CancelReason))
                        .foreign_key(
                            ForeignKey::create()
                                .from(Events::Table, Events::VenueId)
                                .to(Venues::Table, Venues::Id)
                                .on_delete(ForeignKeyAction::SetNull),
                        )
                        .to_owned(),
                )
                .await?;
            // Lists page through events by (starts_at, id), filtered by status and kind.
            manager
                .create_index(
                    Index::create()
                        .name("events_by_start")
                        .table(Events::Table)
                        .col(Events::StartsAt)
                        .col(Events::Id)
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(AgendaItems::Table)
                        .col(uuid_pk(AgendaItems::Id))
                        .col(ColumnDef::new(AgendaItems::EventId).uuid().not_null())
                        .col(ColumnDef::new(AgendaItems::Kind).string_len(16).not_null())
                        .col(
                            ColumnDef::new(AgendaItems::Title)
                                .string_len(200)
                                .not_null(),
                        )
                        .col(instant(AgendaItems::StartsAt))
                        .col(instant(AgendaItems::EndsAt))
                        .col(ColumnDef::new(AgendaItems::Timezone).string_len(64).null())
                        .col(ColumnDef::new(AgendaItems::Description).text().null())
                        .col(text(AgendaItems::Location))
                        .col(ColumnDef::new(AgendaItems::RoomId).uuid().null())
                        .col(ColumnDef::new(AgendaItems::HostId).uuid().null())
                        .col(ColumnDef::new(AgendaItems::Details).text().null())
                        .col(
                            ColumnDef::new(AgendaItems::Sequence)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(instant(AgendaItems::CreatedAt))
                        .col(instant(AgendaItems::UpdatedAt))
                        .foreign_key(
                            ForeignKey::create()
                                .from(AgendaItems::Table, AgendaItems::EventId)
                                .to(Events::Table, Events::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(AgendaItems::Table, AgendaItems::RoomId)
                                .to(Rooms::Table, Rooms::Id)
                                .on_delete(ForeignKeyAction::SetNull),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(AgendaItems::Table, AgendaItems::HostId)
                                .to(People::Table, People::Id)
                                .on_delete(ForeignKeyAction::SetNull),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("agenda_items_by_event")
                        .table(AgendaItems::Table)
                        .col(AgendaItems::EventId)
                        .col(AgendaItems::StartsAt)
                        .to_owned(),
                )
                .await?;
            // Conflict checks look for other items at the same time.
            manager
                .create_index(
                    Index::create()
                        .name("agenda_items_by_time")
                        .table(AgendaItems::Table)
                        .col(AgendaItems::StartsAt)
                        .col(AgendaItems::EndsAt)
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(ItemSpeakers::Table)
                        .col(ColumnDef::new(ItemSpeakers::ItemId).uuid().not_null())
                        .col(ColumnDef::new(ItemSpeakers::PersonId).uuid().not_null())
                        .col(ColumnDef::new(ItemSpeakers::Position).integer().not_null())
                        .primary_key(
                            Index::create()
                                .col(ItemSpeakers::ItemId)
                                .col(ItemSpeakers::PersonId),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(ItemSpeakers::Table, ItemSpeakers::ItemId)
                                .to(AgendaItems::Table, AgendaItems::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(ItemSpeakers::Table, ItemSpeakers::PersonId)
                                .to(People::Table, People::Id)
                                .on_delete(ForeignKeyAction::Restrict),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(EventChanges::Table)
                        .col(uuid_pk(EventChanges::Id))
                        .col(ColumnDef::new(EventChanges::EventId).uuid().not_null())
                        .col(ColumnDef::new(EventChanges::ItemId).uuid().null())
                        .col(
                            ColumnDef::new(EventChanges::Action)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(ColumnDef::new(EventChanges::Changes).text().not_null())
                        .col(
                            ColumnDef::new(EventChanges::CalendarVisible)
                                .boolean()
                                .not_null(),
                        )
                        .col(ColumnDef::new(EventChanges::Sequence).integer().not_null())
                        .col(
                            ColumnDef::new(EventChanges::ChangedBy)
                                .string_len(254)
                                .not_null(),
                        )
                        .col(instant(EventChanges::ChangedAt))
                        .foreign_key(
                            ForeignKey::create()
                                .from(EventChanges::Table, EventChanges::EventId)
                                .to(Events::Table, Events::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("event_changes_by_event")
                        .table(EventChanges::Table)
                        .col(EventChanges::EventId)
                        .col(EventChanges::Id)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                EventChanges::Table.into_iden(),
                ItemSpeakers::Table.into_iden(),
                AgendaItems::Table.into_iden(),
                Events::Table.into_iden(),
                Rooms::Table.into_iden(),
                Venues::Table.into_iden(),
                People::Table.into_iden(),
            ] {
                manager
                    .drop_table(Table::drop().table(table).if_exists().to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}

/// Chinese texts beside the English ones (`title_zh`, `summary_zh`, `description_zh`) and the zone of an end
/// (`end_timezone`) on events and agenda items; all optional, so existing rows keep their meaning.
#[allow(elided_lifetimes_in_paths)]
mod m20261201_000001_chinese_texts_end_zones {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261201_000001_chinese_texts_end_zones"
        }
    }

    #[derive(DeriveIden)]
    enum Events {
        Table,
        TitleZh,
        SummaryZh,
        DescriptionZh,
        EndTimezone,
    }

    #[derive(DeriveIden)]
    enum AgendaItems {
        Table,
        TitleZh,
        DescriptionZh,
        EndTimezone,
    }

    fn columns() -> Vec<(DynIden, ColumnDef)> {
        vec![
            (
                Events::Table.into_iden(),
                ColumnDef::new(Events::TitleZh)
                    .string_len(200)
                    .null()
                    .to_owned(),
            ),
            (
                Events::Table.into_iden(),
                ColumnDef::new(Events::SummaryZh)
                    .string_len(500)
                    .null()
                    .to_owned(),
            ),
            (
                Events::Table.into_iden(),
                ColumnDef::new(Events::DescriptionZh)
                    .text()
                    .null()
                    .to_owned(),
            ),
            (
                Events::Table.into_iden(),
                ColumnDef::new(Events::EndTimezone)
                    .string_len(64)
                    .null()
                    .to_owned(),
            ),
            (
                AgendaItems::Table.into_iden(),
                ColumnDef::new(AgendaItems::TitleZh)
                    .string_len(200)
                    .null()
                    .to_owned(),
            ),
            (
                AgendaItems::Table.into_iden(),
                ColumnDef::new(AgendaItems::DescriptionZh)
                    .text()
                    .null()
                    .to_owned(),
            ),
            (
                AgendaItems::Table.into_iden(),
                ColumnDef::new(AgendaItems::EndTimezone)
                    .string_len(64)
                    .null()
                    .to_owned(),
            ),
        ]
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            // One column per statement: SQLite alters one thing at a time.
            for (table, mut column) in columns() {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table)
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for (table, column) in columns() {
                let name = column.get_column_name();
                manager
                    .alter_table(
                        Table::alter()
                            .table(table)
                            .drop_column(Alias::new(name))
                            .to_owned(),
                    )
                    .await?;
            }
            Ok(())
        }
    }
}

/// Each event's team (`team_id`; none for events made before teams, which stay programme-wide) and the teams that
/// co-organise it (`shared_with`, a JSON array of team ids).
#[allow(elided_lifetimes_in_paths)]
mod m20261203_000001_event_teams {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261203_000001_event_teams"
        }
    }

    #[derive(DeriveIden)]
    enum Events {
        Table,
        TeamId,
        SharedWith,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            // One column per statement: SQLite alters one thing at a time.
            for mut column in [
                ColumnDef::new(Events::TeamId).uuid().null().to_owned(),
                ColumnDef::new(Events::SharedWith)
                    .text()
                    .not_null()
                    .default("[]")
                    .to_owned(),
            ] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Events::Table)
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
            manager
                .create_index(
                    Index::create()
                        .name("events_team_id")
                        .table(Events::Table)
                        .col(Events::TeamId)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_index(
                    Index::drop()
                        .name("events_team_id")
                        .table(Events::Table)
                        .to_owned(),
                )
                .await?;
            for column in [Events::SharedWith, Events::TeamId] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Events::Table)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            Ok(())
        }
    }
}

/// An event's own reminder offsets (`reminder_minutes`, a JSON array of minutes; none: the kind's defaults).
#[allow(elided_lifetimes_in_paths)]
mod m20261204_000001_event_reminders {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261204_000001_event_reminders"
        }
    }

    #[derive(DeriveIden)]
    enum Events {
        Table,
        ReminderMinutes,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .add_column(ColumnDef::new(Events::ReminderMinutes).text().null())
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .alter_table(
                    Table::alter()
                        .table(Events::Table)
                        .drop_column(Events::ReminderMinutes)
                        .to_owned(),
                )
                .await
        }
    }
}
