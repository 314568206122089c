//! The scheduling database's tables as sea-orm entities. Instants are UTC; zones are IANA names beside them. Kinds,
//! statuses and change actions are active enums over the string columns, holding the strings they always held.

pub mod event {
    use sea_orm::entity::prelude::*;

    pub use crate::domain::event::{EventKind, EventStatus};

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub slug: String,
        pub kind: EventKind,
        pub title: String,
        pub title_zh: Option<String>,
        pub summary: Option<String>,
        pub summary_zh: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub description_zh: Option<String>,
        pub timezone: String,
        /// Set by the organiser; `None`: derived (the last-ending item's end zone, else `timezone`).
        pub end_timezone: Option<String>,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        #[sea_orm(column_type = "Text", nullable)]
        pub online_url: Option<String>,
        pub venue_id: Option<Uuid>,
        pub venue_name: Option<String>,
        pub venue_address: Option<String>,
        pub venue_city: Option<String>,
        pub venue_country: Option<String>,
        pub organiser_name: String,
        pub organiser_email: String,
        /// draft, published or cancelled (completed is derived from `ends_at`, never stored).
        pub status: EventStatus,
        /// Raised by one for each change attendees' calendars show, after publishing; never lowered.
        pub sequence: i32,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub published_at: Option<DateTimeUtc>,
        pub cancelled_at: Option<DateTimeUtc>,
        pub cancel_reason: Option<String>,
        /// The team the event belongs to; `None`: programme-wide (made before teams).
        pub team_id: Option<Uuid>,
        /// Co-organising teams: a JSON array of team ids (`store::shared_with` reads it).
        #[sea_orm(column_type = "Text")]
        pub shared_with: String,
        /// The event's own reminder offsets in minutes, a JSON array (`store::reminder_minutes` reads it); `None`
        /// follows the kind's defaults.
        #[sea_orm(column_type = "Text", nullable)]
        pub reminder_minutes: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::agenda_item::Entity")]
        AgendaItem,
    }

    impl Related<super::agenda_item::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::AgendaItem.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agenda_item {
    use sea_orm::entity::prelude::*;

    pub use crate::domain::agenda::ItemKind;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "agenda_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Uuid,
        pub kind: ItemKind,
        pub title: String,
        pub title_zh: Option<String>,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        /// `None`: the event's zone.
        pub timezone: Option<String>,
        /// `None`: the item's start zone.
        pub end_timezone: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub description_zh: Option<String>,
        pub location: Option<String>,
        pub room_id: Option<Uuid>,
        pub host_id: Option<Uuid>,
        /// A visit's, transfer's or hotel's own fields, as JSON.
        #[sea_orm(column_type = "Text", nullable)]
        pub details: Option<String>,
        /// Raised with each calendar-visible change of this item after publishing (its feed entry's SEQUENCE).
        pub sequence: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::event::Entity",
            from = "Column::EventId",
            to = "super::event::Column::Id"
        )]
        Event,
    }

    impl Related<super::event::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Event.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod item_speaker {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "item_speakers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub item_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        /// Order in which the speakers are listed.
        pub position: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub affiliation: Option<String>,
        pub email: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod venue {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "venues")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub address: Option<String>,
        pub city: Option<String>,
        pub country: Option<String>,
        pub timezone: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod room {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "rooms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub venue_id: Uuid,
        pub name: String,
        pub capacity: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event_change {
    use sea_orm::entity::prelude::*;

    pub use crate::domain::event::ChangeAction;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "event_changes")]
    pub struct Model {
        /// UUIDv7: ordered by time, so it is also the list's order.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_id: Uuid,
        pub item_id: Option<Uuid>,
        pub action: ChangeAction,
        /// The changed fields with their values before and after, as JSON.
        #[sea_orm(column_type = "Text")]
        pub changes: String,
        pub calendar_visible: bool,
        /// The event's sequence after this change.
        pub sequence: i32,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
