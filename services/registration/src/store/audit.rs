//! The audit trail: who approved, rejected, checked in, exported or erased a registration, and who changed a
//! team's members. [`record`] writes one entry on whatever connection it is given — preferably the transaction of
//! the change it records, so that the change and its entry are written together or not at all; [`list`] reads
//! them newest first. Entries are never changed or deleted (an erasure leaves them: they hold ids, not people).

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::Error;
use crate::domain::audit::AuditAction;

pub mod audit_entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entries")]
    pub struct Model {
        /// UUIDv7: ordered as the entries were written.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        /// The subject of the acting token (an account's address, or a service's name).
        pub actor: String,
        pub action: crate::domain::audit::AuditAction,
        pub event_id: Option<Uuid>,
        pub registration_id: Option<Uuid>,
        /// A JSON object of ids and values; never a participant's name or address.
        pub detail: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One entry to record. `detail` holds ids and values only — never a participant's name or email address.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// `claims.sub` of the token that acted.
    pub actor: String,
    pub action: AuditAction,
    pub event_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    pub detail: serde_json::Value,
}

/// Records one entry, now, on `conn`: a transaction (the entry commits with the change) or the database connection.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    entry: NewAuditEntry,
) -> Result<audit_entry::Model, Error> {
    let model = audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor: Set(entry.actor),
        action: Set(entry.action),
        event_id: Set(entry.event_id),
        registration_id: Set(entry.registration_id),
        detail: Set(entry.detail.to_string()),
    };
    Ok(model.insert(conn).await?)
}

/// Which entries to list; absent filters match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub event_id: Option<Uuid>,
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
}

/// Entries newest first, paged by id (UUIDv7, so by the time they were written): those before `before`.
pub async fn list(
    db: &DatabaseConnection,
    filter: AuditFilter,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<audit_entry::Model>, Error> {
    let mut query = audit_entry::Entity::find();
    if let Some(event_id) = filter.event_id {
        query = query.filter(audit_entry::Column::EventId.eq(event_id));
    }
    if let Some(actor) = filter.actor {
        query = query.filter(audit_entry::Column::Actor.eq(actor));
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_entry::Column::Action.eq(action));
    }
    if let Some(id) = before {
        query = query.filter(audit_entry::Column::Id.lt(id));
    }
    Ok(query
        .order_by_desc(audit_entry::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// The stored detail as JSON (written by [`record`], so always an object; anything else is a bug or a hand edit).
pub fn detail_of(model: &audit_entry::Model) -> Result<serde_json::Value, Error> {
    serde_json::from_str(&model.detail)
        .map_err(|error| Error::Corrupt(format!("audit entry {} detail: {error}", model.id)))
}
